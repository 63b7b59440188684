/**
 * A filing of a matter whose department hands over an official AcroForm template (public-parking-filing): the worker
 * fills the template with pdf-lib, flattens it and seals it with the enterprise's e-seal like any e-form — the sealed
 * file passes the shared verifier and its text layer shows the applicant's values in the template's fields; the
 * decision receipt and the stored version name the template's sha256. On SQLite and PostgreSQL, like the other
 * integration tests.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument, PDFTextField } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionOf } from '../../../src/catalog/versioned-catalog.js';
import { pdfText, tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';
import { REPO_ROOT, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

describe.each(['sqlite', 'postgres'] as const)('a matter with an official form template (%s)', (backend) => {
  const tmp = tempDir('template-forms-');
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ backend });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    tmp.cleanup();
  });

  it('seals the filled template: it verifies and shows the applicant’s values', { timeout: 120_000 }, async () => {
    const matter = stack.deps.catalog.get('public-parking-filing')!;
    expect(matter.def.output.form.template?.file).toBe('templates/public-parking-filing.pdf');
    const t = matter.def.tests.find((c) => c.name.startsWith('地面露天自有停车场'))!;
    const token = await stack.token(t.applicant);
    const res = await submit(stack, token, { matter: matter.def.code, answers: t.answers, form: t.form, consent: { dataSharing: true, sealAuthorization: true } });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    const status = await waitForDecision(stack, id, token, 60_000);
    expect(status.status).toBe('approved');
    const view = (await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}`, headers: { authorization: `Bearer ${token}` } })).json<{ number: string }>();

    const form = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}/form`, headers: { authorization: `Bearer ${token}` } });
    expect(form.statusCode).toBe(200);
    const trust = await stack.app.inject({ method: 'GET', url: '/v1/trust' });
    const file = writeTemp(tmp.dir, 'parking-form.pdf', form.rawPayload);
    const r = await verifyCertificate(file, writeTemp(tmp.dir, 'trust.pem', trust.body), ['沈阳盛京智慧停车管理有限公司', '经营性公共停车场备案表']);
    expect(r.stdout).toContain('ALL PASS');

    const text = (await pdfText(file)).replace(/\s+/g, '');
    for (const v of [t.applicant, '13900000001', String(t.form.realEstateCertNo), '地面露天', view.number, '沈阳市城乡建设局制', '申请人已同意本事项依法查询共享数据']) {
      expect(text).toContain(v);
    }
    // Flattened: the template's text fields are gone, only the applicant's signature field remains.
    const doc = await PDFDocument.load(form.rawPayload);
    const fields = doc.getForm().getFields();
    expect(fields.some((f) => f instanceof PDFTextField)).toBe(false);
    expect(fields.map((f) => f.getName())).toEqual(['申请人签章']);

    // Traceable to the template's bytes: the receipt names the version and the template it filled, and the stored
    // version (what the department admin exports) carries the same digest, which its hash covers.
    const templateSha = createHash('sha256').update(readFileSync(path.join(REPO_ROOT, 'rules', 'templates', 'public-parking-filing.pdf'))).digest('hex');
    const row = await stack.deps.store.applications.get(id);
    expect(row!.receipt).toMatchObject({ rulesetVersion: matter.version, formTemplate: { file: 'templates/public-parking-filing.pdf', sha256: templateSha } });
    const admin = await stack.token('PARKING-ADMIN', 'admin', { dept: matter.def.department.code });
    const version = await stack.app.inject({ method: 'GET', url: `/v1/admin/matters/${matter.def.code}/versions/${matter.version}`, headers: { authorization: `Bearer ${admin}` } });
    expect(version.statusCode, version.body).toBe(200);
    const definition = version.json<{ definition: { output: { form: { template: { sha256: string } } } } }>().definition;
    expect(definition.output.form.template.sha256).toBe(templateSha);
    expect(versionOf(definition)).toBe(matter.version);
  });
});
