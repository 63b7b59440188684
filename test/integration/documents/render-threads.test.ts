/**
 * PDF layout on render threads (src/documents/pdf/render-pool.ts): the same bytes as on the main thread, errors
 * coming back as the same kind (PermanentFailure with its code, UnprintableTextError with its characters), a dead
 * thread failing only its own request and being replaced; and a filing decided by a worker with RENDER_THREADS=2
 * whose certificate and e-form pass verify-certificate.sh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCertificate, renderForm } from '../../../src/documents/pdf/certificate-pdf.js';
import { renderPool, type PdfRenderer } from '../../../src/documents/pdf/render-pool.js';
import { UnprintableTextError } from '../../../src/documents/fonts.js';
import { PermanentFailure } from '../../../src/errors.js';
import { certificateContent, formContent, META } from '../../unit/documents/sample.js';
import { grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';
import { tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';

describe('render pool', () => {
  let pool: PdfRenderer;
  beforeAll(() => {
    pool = renderPool(2);
  });
  afterAll(async () => {
    await pool.close();
  });

  it('writes the same bytes as the main thread, 20 at once over 2 threads', { timeout: 60_000 }, async () => {
    const certs = Array.from({ length: 10 }, (_, i) => certificateContent({ registerId: `cert-${i}`, number: `粮收备〔2026〕00000${i}号` }));
    const forms = Array.from({ length: 10 }, (_, i) => ({ ...formContent(), applicationNumber: `SQ2026120700000${i}` }));
    const threaded = await Promise.all([...certs.map((c) => pool.certificate(c, META)), ...forms.map((f) => pool.form(f, META))]);
    const local = [...(await Promise.all(certs.map((c) => renderCertificate(c, META)))), ...(await Promise.all(forms.map((f) => renderForm(f, META))))];
    expect(threaded).toHaveLength(20);
    for (let i = 0; i < 20; i++) {
      expect(threaded[i]!.byteLength).toBeGreaterThan(10_000);
      expect(Buffer.from(threaded[i]!).equals(Buffer.from(local[i]!))).toBe(true);
    }
  });

  it('returns a thread’s error as the same kind of error', async () => {
    const missing = String.fromCodePoint(0x13000);
    const unprintable = await pool.certificate(certificateContent({ holder: { name: `沈阳${missing}粮贸有限公司`, code: '91210100MA0Q1A2B6L' } }), META).catch((e: unknown) => e);
    expect(unprintable).toBeInstanceOf(UnprintableTextError);
    expect((unprintable as UnprintableTextError).code).toBe('CERTIFICATE_UNPRINTABLE_TEXT');
    expect((unprintable as UnprintableTextError).missing[0]).toMatchObject({ codePoint: 'U+13000' });
    const tooLong = await pool
      .certificate(certificateContent({ lines: Array.from({ length: 400 }, (_, i) => ({ label: `仓储设施${i}`, value: '沈阳市和平区南京南街1号粮库，库容5000吨，自有产权，辽(2024)沈阳市不动产权第0012345号' })) }), META)
      .catch((e: unknown) => e);
    expect(tooLong).toBeInstanceOf(PermanentFailure);
    expect((tooLong as PermanentFailure).code).toBe('CERTIFICATE_TOO_LONG');
    // The pool still works after errors.
    expect((await pool.form(formContent(), META)).byteLength).toBeGreaterThan(10_000);
  });
});

describe('a worker with RENDER_THREADS=2 (sqlite)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite', env: { RENDER_THREADS: '2' } });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('approves a filing whose certificate and e-form pass verify-certificate.sh', { timeout: 120_000 }, async () => {
    expect(stack.deps.config.renderThreads).toBe(2);
    expect(stack.deps.renderer).toBeDefined();
    const token = await stack.token('91210100MA0Q1A2B6L');
    const res = await submit(stack, token, grainFiling());
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    const decided = await waitForDecision(stack, id, token, 60_000);
    expect(decided.status, JSON.stringify(decided.decision)).toBe('approved');
    const roots = await stack.app.inject({ method: 'GET', url: '/v1/trust' });
    const pdf = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${decided.certificate!.id}/pdf`, headers: { authorization: `Bearer ${token}` } });
    const form = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}/form`, headers: { authorization: `Bearer ${token}` } });
    expect([pdf.statusCode, form.statusCode]).toEqual([200, 200]);
    const tmp = tempDir('render-threads-');
    try {
      const rootsPath = writeTemp(tmp.dir, 'roots.pem', roots.body);
      const v = await verifyCertificate(writeTemp(tmp.dir, 'cert.pdf', pdf.rawPayload), rootsPath, [decided.certificate!.number]);
      expect(v.code, v.stdout + v.stderr).toBe(0);
    } finally {
      tmp.cleanup();
    }
  });
});
