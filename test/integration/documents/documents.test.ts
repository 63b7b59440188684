/**
 * The documents as a reader sees them (issue 18): filings of an enterprise matter and a citizen's matter go through
 * the real stack; their sealed e-forms and certificates are read back with poppler (pdfinfo, pdftotext) — one page,
 * Beijing dates "2026年12月4日", no ISO/UTC times, page numbers and the 申请编号, the right ID label, a person's
 * signature (no organisation seal wording), Chinese grades, validity in calendar years.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';
import { run, tempDir, writeTemp } from '../../support/pdf-tools.js';
import { validUntilOf } from '../../../src/pipeline/issue-certificate.js';
import { formatChineseDate } from '../../../src/documents/layout.js';

let stack: Stack;
const tmp = tempDir('documents-');
beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite' });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  tmp.cleanup();
});

interface Read {
  pages: number;
  text: string;
}

async function read(name: string, bytes: Buffer): Promise<Read> {
  const file = writeTemp(tmp.dir, name, bytes);
  const info = await run('pdfinfo', [file]);
  expect(info.code, info.stderr).toBe(0);
  const text = await run('pdftotext', ['-layout', file, '-']);
  expect(text.code, text.stderr).toBe(0);
  // pdftotext drops narrow spaces (第 1 页 → 第1页): compare without whitespace.
  return { pages: Number(/Pages:\s+(\d+)/.exec(info.stdout)?.[1]), text: text.stdout.replace(/[ \t]+/g, '') };
}

async function file(code: string, index: number) {
  const t = stack.deps.catalog.get(code)!.def.tests[index]!;
  const token = await stack.token(t.applicant);
  const res = await submit(stack, token, { matter: code, answers: t.answers, form: t.form, consent: { dataSharing: true, sealAuthorization: true } });
  expect(res.statusCode, res.body).toBe(202);
  const id = res.json<{ id: string }>().id;
  const status = await waitForDecision(stack, id, token, 60_000);
  expect(status.status).toBe('approved');
  const view = (await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}`, headers: { authorization: `Bearer ${token}` } })).json<{ number: string }>();
  const formRes = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}/form`, headers: { authorization: `Bearer ${token}` } });
  expect(formRes.statusCode).toBe(200);
  const certRes = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${status.certificate!.id}/pdf`, headers: { authorization: `Bearer ${token}` } });
  expect(certRes.statusCode).toBe(200);
  const cert = (await stack.app.inject({ method: 'GET', url: `/v1/certificates/${status.certificate!.id}`, headers: { authorization: `Bearer ${token}` } })).json<{ issuedAt: string; validUntil: string | null }>();
  return {
    applicant: t.applicant,
    number: view.number,
    cert,
    form: await read(`${code}-form.pdf`, formRes.rawPayload),
    certificate: await read(`${code}-cert.pdf`, certRes.rawPayload),
  };
}

const ISO_TIME = /\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?/;

describe('documents read back with poppler', () => {
  it('an enterprise e-form: one page, seal, Beijing time, page number and application number', { timeout: 120_000 }, async () => {
    const r = await file('grain-purchase-filing', 0);
    expect(r.number).toMatch(/^沈\d{8}\d{5}$/);
    expect(r.form.pages).toBe(1);
    expect(r.form.text).toContain('第1页共1页');
    expect(r.form.text).toContain(`申请编号：${r.number}`);
    expect(r.form.text).toContain('统一社会信用代码：');
    expect(r.form.text).toContain('申请人（盖章）');
    expect(r.form.text).toMatch(/提交时间：\d{4}年\d{1,2}月\d{1,2}日\d{2}:\d{2}/);
    expect(r.form.text).not.toMatch(ISO_TIME);
    expect(r.certificate.pages).toBe(1);
    expect(r.certificate.text).toContain(`申请编号：${r.number}`);
    expect(r.certificate.text).toContain('由系统依法自动核发');
    expect(r.certificate.text).not.toMatch(ISO_TIME);
    expect(r.certificate.text).not.toMatch(/年0\d月|月0\d日/);
  });

  it('a citizen: 公民身份号码, a personal e-signature, 三级-style grade, ten calendar years, name and ID once', { timeout: 120_000 }, async () => {
    const r = await file('disability-certificate', 0);
    expect(r.form.pages).toBe(1);
    expect(r.form.text).toContain(`公民身份号码：${r.applicant}`);
    expect(r.form.text).toContain('申请人（签名）');
    expect(r.form.text).toContain('电子签名');
    expect(r.form.text).not.toContain('本单位电子印章');
    expect(r.form.text).not.toContain('盖章');
    expect(r.form.text).not.toMatch(ISO_TIME);
    const c = r.certificate.text;
    expect(r.certificate.pages).toBe(1);
    expect(c).toContain('公民身份号码');
    expect(c).not.toContain('统一社会信用代码');
    expect(c.split(r.applicant).length - 1).toBe(1);
    expect(c).toMatch(/残疾等级：\s*[一二三四]级/);
    const issuedOn = new Date(Date.parse(r.cert.issuedAt) + 8 * 3600_000).toISOString().slice(0, 10);
    expect(r.cert.validUntil).toBe(validUntilOf(issuedOn, { years: 10 }));
    expect(c.replace(/\s+/g, '')).toContain(`有效期至：${formatChineseDate(r.cert.validUntil!)}`);
    expect(c).not.toMatch(ISO_TIME);
  });
});
