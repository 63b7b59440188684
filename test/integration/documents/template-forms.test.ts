/**
 * A filing of a matter whose department hands over an official AcroForm template (public-parking-filing): the worker
 * fills the template with pdf-lib, flattens it and seals it with the enterprise's e-seal like any e-form — the sealed
 * file passes the shared verifier and its text layer shows the applicant's values in the template's fields. On SQLite
 * and PostgreSQL, like the other integration tests.
 */
import { PDFDocument, PDFTextField } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdfText, tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';
import { startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

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
  });
});
