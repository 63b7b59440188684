/**
 * 国密 track on the real stack (issue 15): a filing approved by a `gm` department has its OFD made in the issuing
 * job; an `intl` department's certificate gets its OFD on first request (then the same bytes every time). Every
 * issued OFD passes tools we did not write — unzip + openssl (dgst -sm3 with distid, asn1parse, verify) and Bouncy
 * Castle — and POST /v1/verify (application/ofd) gives TOTAL_PASSED with the register; its text carries the holder's
 * name and number. Both SQLite and PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asn1parse, bouncyCastleCheck, ofdText, opensslVerifyOfd, unzip } from '../../support/ofd-tools.js';
import { tempDir, writeTemp } from '../../support/pdf-tools.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const GRAIN_DEPT = '11210100MB0E12346R';
const HOLDER = '沈阳丰禾粮食购销有限公司';

describe.each([
  ['sqlite', 'gm'],
  ['postgres', 'gm'],
  ['sqlite', 'intl'],
  ['postgres', 'intl'],
] as const)('OFD certificates on %s, department suite %s', (backend, suite) => {
  let stack: Stack;
  let token: string;
  let certId: string;
  let number: string;
  const tmp = tempDir("ofd-");

  beforeAll(async () => {
    stack = await startStack({ backend, env: suite === 'gm' ? { SIGNATURE_SUITE_BY_DEPARTMENT: `${GRAIN_DEPT}=gm` } : {} });
    token = await stack.token(HAPPY_USCC);
    const res = await submit(stack, token, grainFiling(), { 'idempotency-key': `ofd-${backend}-${suite}` });
    expect(res.statusCode).toBe(202);
    const done = await waitForDecision(stack, res.json<{ id: string }>().id, token);
    expect(done.status).toBe('approved');
    certId = done.certificate!.id;
    number = done.certificate!.number;
  });
  afterAll(async () => {
    await stack?.close();
    tmp.cleanup();
  });

  const fetchOfd = () => stack.app.inject({ method: 'GET', url: `/v1/certificates/${certId}/ofd`, headers: { authorization: `Bearer ${token}` } });

  it(suite === 'gm' ? 'is made in the issuing job' : 'is not made at issuance, only on first request', async () => {
    // The decision commits before the job makes a `gm` OFD, so a poll that sees `approved` may come first: wait for
    // the job (bounded) without asking for the OFD, which would make it on request.
    let stored = await stack.deps.store.ofd.get(certId);
    for (const until = Date.now() + 10_000; suite === 'gm' && !stored && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 25));
      stored = await stack.deps.store.ofd.get(certId);
    }
    if (suite === 'gm') expect(stored?.suite).toBe('gm');
    else expect(stored).toBeNull();
    const first = await fetchOfd();
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/ofd');
    const again = await fetchOfd();
    expect(again.rawPayload.equals(first.rawPayload)).toBe(true);
    expect((await stack.deps.store.ofd.get(certId))?.sha256).toBe(first.headers['x-content-sha256']);
  });

  it('passes unzip + openssl (check values, dataHash, SES and seal signatures with distid, chains) and asn1parse', async () => {
    const file = writeTemp(tmp.dir, `${suite}.ofd`, (await fetchOfd()).rawPayload);
    const anchors = (await stack.app.inject({ method: 'GET', url: '/v1/trust?suite=gm' })).body;
    expect(anchors).toContain('BEGIN CERTIFICATE');
    const r = opensslVerifyOfd(file, writeTemp(tmp.dir, 'gm-roots.pem', anchors));
    expect(r.out).toMatch(/Verified OK[\s\S]*Verified OK[\s\S]*\nPASS\n?$/);
    expect(r.status).toBe(0);
    const dir = path.join(tmp.dir, `${suite}-unpacked`);
    unzip(file, dir);
    const parsed = asn1parse(path.join(dir, 'Doc_0/Signs/Sign_0/SignedValue.dat'));
    expect(parsed).toContain('IA5STRING         :ES');
    expect(parsed).toContain(':/Doc_0/Signs/Sign_0/Signature.xml');
    expect(parsed.match(/OBJECT +:SM2-with-SM3/g)?.length).toBe(2);
    expect(parsed).toMatch(/UTF8STRING +:沈阳市粮食和物资储备局/);
  });

  it('passes the Bouncy Castle checker, and its text (content XML) carries the holder name and number', async () => {
    const file = writeTemp(tmp.dir, `${suite}-bc.ofd`, (await fetchOfd()).rawPayload);
    const bc = bouncyCastleCheck(file, [HOLDER, number]);
    expect(bc.out).toContain('PASS SES signature');
    expect(bc.out).toContain('PASS seal signature');
    expect(bc.out.trim().endsWith('PASS')).toBe(true);
    expect(bc.status).toBe(0);
    const dir = path.join(tmp.dir, `${suite}-text`);
    unzip(file, dir);
    const text = ofdText(dir);
    expect(text).toContain(HOLDER);
    expect(text).toContain(number);
    expect(text).toContain(HAPPY_USCC);
    expect(readFileSync(path.join(dir, 'OFD.xml'), 'utf8')).toContain(`<ofd:CustomData Name="CertificateId">${certId}</ofd:CustomData>`);
  });

  it('verifies at POST /v1/verify (application/ofd) with the register entry', async () => {
    const body = (await fetchOfd()).rawPayload;
    const res = await stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/ofd' }, payload: body });
    expect(res.statusCode).toBe(200);
    const report = res.json<{ indication: string; register: { id: string; number: string; sha256Matches: boolean }; signature: { signer: { code: string }; coversWholeFile: boolean } }>();
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.register).toMatchObject({ id: certId, number, sha256Matches: true });
    expect(report.signature.signer.code).toBe(GRAIN_DEPT);
    expect(report.signature.coversWholeFile).toBe(true);
  });

  it('answers 404 to another applicant, as /pdf does, and 400 to a body that is not an OFD', async () => {
    const other = await stack.token('91210102123456788E');
    const res = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${certId}/ofd`, headers: { authorization: `Bearer ${other}` } });
    expect(res.statusCode).toBe(404);
    expect(res.json<{ code: string }>().code).toBe('CERTIFICATE_NOT_FOUND');
    const bad = await stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/ofd' }, payload: Buffer.from('%PDF-1.7 not a zip') });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ code: string }>().code).toBe('VERIFY_NOT_OFD');
  });
});
