/**
 * POST /v1/verify on the real stack (SQLite and PostgreSQL), PAdES B-B (no TSA): a genuine certificate passes,
 * revocation flips it to REVOKED; hostile input (not a PDF, empty, huge, deeply nested, endless or bomb streams,
 * encrypted, random bytes) answers 4xx or TOTAL_FAILED within 2 s and leaves the process able to serve; the
 * verification page and the endpoint are rate-limited when configured.
 */
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { httpDepsFrom } from '../../../src/http/http-deps.js';
import { run, tempDir, writeTemp } from '../../support/pdf-tools.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const GRAIN_DEPT = '11210100MB0E12346R';
const MAX = 2 * 1024 * 1024;

describe.each(['sqlite', 'postgres'] as const)('the verification service on %s', (backend) => {
  let stack: Stack;
  let tmp: ReturnType<typeof tempDir>;
  let cert: { id: string; verifyCode: string; pdf: Buffer };

  const verify = (payload: Buffer | string, contentType = 'application/pdf') =>
    stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': contentType }, payload });

  beforeAll(async () => {
    tmp = tempDir('verify-svc-');
    stack = await startStack({ backend, env: { VERIFY_MAX_BYTES: String(MAX), VERIFY_RATE_LIMIT: '0' } });
    const token = await stack.token(HAPPY_USCC);
    const res = await submit(stack, token, grainFiling());
    const d = await waitForDecision(stack, res.json<{ id: string }>().id, token);
    expect(d.status).toBe('approved');
    const row = (await stack.deps.store.certificates.get(d.certificate!.id))!;
    const pdf = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${row.id}/pdf`, headers: { authorization: `Bearer ${token}` } });
    cert = { id: row.id, verifyCode: row.verifyCode, pdf: pdf.rawPayload };
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    tmp?.cleanup();
  });

  it('passes a genuine B-B certificate: every check PASSED, timestamp NOT_APPLICABLE, register found by hash', async () => {
    const res = await verify(cert.pdf);
    expect(res.statusCode).toBe(200);
    const r = res.json<{ indication: string; checks: Array<{ id: string; result: string }>; register: { id: string; sha256Matches: boolean; status: string } }>();
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.checks.find((c) => c.id === 'timestamp')!.result).toBe('NOT_APPLICABLE');
    expect(r.checks.filter((c) => c.id !== 'timestamp').every((c) => c.result === 'PASSED')).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual([
      'pdf-format', 'single-signature', 'byte-range', 'covers-whole-file', 'sub-filter', 'docmdp', 'cms-structure',
      'signer-certificate', 'message-digest', 'signature-value', 'signed-attributes', 'signing-certificate-v2',
      'certificate-chain', 'key-usage', 'certificate-validity', 'timestamp', 'register-entry', 'register-hash', 'register-status',
    ]);
    expect(r.register).toMatchObject({ id: cert.id, sha256Matches: true, status: 'valid' });
  });

  describe('hostile input answers 4xx or TOTAL_FAILED within 2 s', () => {
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in ~64 KB
    const cases: Array<[string, () => Promise<Buffer | string> | Buffer | string, number, string]> = [
      ['not a PDF', () => 'hello, this is not a PDF', 400, 'VERIFY_NOT_PDF'],
      ['empty', () => Buffer.alloc(0), 400, 'VERIFY_EMPTY'],
      ['huge', () => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(MAX + 1024, 0x20)]), 413, 'REQUEST_BODY_TOO_LARGE'],
      ['deeply nested dictionaries', () => `%PDF-1.7\n1 0 obj\n${'<< /A '.repeat(200_000)}/ByteRange [0 1 2 3]${' >>'.repeat(200_000)}\nendobj\n%%EOF\n`, 200, 'FORMAT_FAILURE'],
      ['deeply nested arrays in the signature dictionary', () => `%PDF-1.7\n1 0 obj\n<< /ByteRange [0 1 2 3] /X ${'['.repeat(300_000)}\nendobj\n%%EOF\n`, 200, 'FORMAT_FAILURE'],
      ['an endless stream (no endstream, huge /Length)', () => Buffer.concat([Buffer.from('%PDF-1.7\n1 0 obj\n<< /Length 999999999999 >>\nstream\n'), Buffer.alloc(MAX - 4096, 0x41), Buffer.from('\n%%EOF\n')]), 200, 'FORMAT_FAILURE'],
      ['a deflate bomb in an object stream', () => Buffer.concat([Buffer.from(`%PDF-1.7\n1 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length ${bomb.length} >>\nstream\n`), bomb, Buffer.from('\nendstream\nendobj\n2 0 obj << /Type /Sig /ByteRange [0 1 2 3] /Contents <00> >> endobj\n%%EOF\n')]), 200, 'FORMAT_FAILURE'],
      ['thousands of /ByteRange tokens', () => `%PDF-1.7\n${'1 0 obj << /ByteRange [0 1 2 3] /Contents <00> >> endobj\n'.repeat(20_000)}%%EOF\n`, 200, 'FORMAT_FAILURE'],
      ['a genuine file with its CMS replaced by random bytes', () => {
        const b = Buffer.from(cert.pdf);
        const m = /\/ByteRange \[ *0 +(\d+) +(\d+)/.exec(b.toString('latin1'))!;
        b.write(Buffer.from(Array.from({ length: 4000 }, () => Math.floor(Math.random() * 256))).toString('hex'), Number(m[1]) + 1, 'latin1');
        return b;
      }, 200, 'FORMAT_FAILURE'],
      ['random bytes after a PDF header', () => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(Array.from({ length: 300_000 }, () => Math.floor(Math.random() * 256))), Buffer.from('%%EOF')]), 200, 'FORMAT_FAILURE'],
      ['encrypted (qpdf AES-256)', async () => {
        const src = writeTemp(tmp.dir, `plain-${backend}.pdf`, cert.pdf);
        const out = `${tmp.dir}/enc-${backend}.pdf`;
        const r = await run('qpdf', ['--encrypt', 'user', 'owner', '256', '--', src, out]);
        expect(r.code).toBe(0);
        return (await import('node:fs')).readFileSync(out);
      }, 200, 'FORMAT_FAILURE'],
      ['JSON instead of a PDF', () => '{"pdf":"x"}', 415, 'REQUEST_MEDIA_TYPE'],
    ];

    it.each(cases)('%s', async (name, make, status, code) => {
      const payload = await make();
      const started = Date.now();
      const res = await verify(payload, name === 'JSON instead of a PDF' ? 'application/json' : 'application/pdf');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
      const body = res.json<{ code?: string; indication?: string; subIndication?: string }>();
      if (status === 200) {
        expect(body.indication).toBe('TOTAL_FAILED');
        expect(body.subIndication).toBe(code);
      } else {
        expect(body.code).toBe(code);
      }
      // The process is unharmed: the genuine file still verifies right after.
      expect((await verify(cert.pdf)).json<{ indication: string }>().indication).toBe('TOTAL_PASSED');
    });
  });

  it('serves the QR page with register data, a drop zone posting to /v1/verify, a nonce CSP, and 404 for a wrong code', async () => {
    const page = await stack.app.inject({ method: 'GET', url: `/verify/${cert.id}/${cert.verifyCode}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('沈阳丰禾粮食购销有限公司');
    expect(page.body).toContain('将证照 PDF 文件拖到此处');
    expect(page.body).toContain("fetch('/v1/verify'");
    expect(page.body).toContain('name="viewport"');
    const csp = String(page.headers['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(page.body).toContain(`<script nonce="${nonce}">`);
    expect(csp).toContain("connect-src 'self'");
    const wrong = await stack.app.inject({ method: 'GET', url: `/verify/${cert.id}/wrong-code` });
    expect(wrong.statusCode).toBe(404);
    expect(wrong.body).not.toContain('沈阳丰禾粮食购销有限公司');
    expect((await stack.app.inject({ method: 'GET', url: '/verify' })).statusCode).toBe(200);
  });

  it('rate-limits /v1/verify and the pages per client when configured (429 RATE_LIMITED), not the rest of the API', async () => {
    const deps = httpDepsFrom(stack.deps);
    const limited = await buildApp({ ...deps, config: { ...deps.config, verify: { ...deps.config.verify, rateLimitPerMinute: 3 } } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        codes.push((await limited.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/pdf' }, payload: cert.pdf })).statusCode);
      }
      expect(codes).toEqual([200, 200, 200, 429]);
      // Each route has its own budget.
      const pages = [];
      for (let i = 0; i < 4; i++) pages.push(await limited.inject({ method: 'GET', url: `/verify/${cert.id}/${cert.verifyCode}` }));
      expect(pages.map((p) => p.statusCode)).toEqual([200, 200, 200, 429]);
      expect(pages[3]!.json<{ code: string }>().code).toBe('RATE_LIMITED');
      expect(pages[3]!.headers['retry-after']).toBeDefined();
      expect((await limited.inject({ method: 'GET', url: '/v1/trust' })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('revokes (admin of the issuing department), then verification says REVOKED and the list names it', async () => {
    const token = await stack.token('admin-7', 'admin', { dept: GRAIN_DEPT });
    const res = await stack.app.inject({
      method: 'POST',
      url: `/v1/certificates/${cert.id}/revoke`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ reason: '备案信息虚假' }),
    });
    expect(res.statusCode, res.body).toBe(200);
    const revocation = await stack.deps.store.revocations.get(cert.id);
    expect(revocation).toMatchObject({ certificateId: cert.id, revokedBy: 'ADMIN-7', reason: '备案信息虚假', issuerCode: GRAIN_DEPT });
    const r = (await verify(cert.pdf)).json<{ indication: string; subIndication: string }>();
    expect([r.indication, r.subIndication]).toEqual(['TOTAL_FAILED', 'REVOKED']);
    expect((await stack.deps.store.revocations.list(GRAIN_DEPT)).map((x) => x.certificateId)).toEqual([cert.id]);
    // A revoked filing no longer blocks a new first filing for the same region.
    expect(await stack.deps.store.certificates.findValid('grain-purchase-filing', `${HAPPY_USCC}|210102`)).toBeNull();
  });
});
