import { createHash, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import fc from 'fast-check';
import { flattenedVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCertificate, renderForm } from '../../../src/documents/pdf/certificate-pdf.js';
import { missingGlyphs, UnprintableTextError } from '../../../src/documents/fonts.js';
import { ensureDevPki, type DevPki } from '../../../src/signing/pki.js';
import { signRevocationList } from '../../../src/signing/revocation-list.js';
import { signPdf } from '../../../src/signing/sign-pdf.js';
import { httpTimestamper, timeStampRequest, tokenFromResponse } from '../../../src/signing/timestamp.js';
import type { Signer, Timestamper } from '../../../src/signing/types.js';
import { applyRegister, parsePdfDate, trustAnchors, verifyPdf, type RegisterEntry } from '../../../src/verification/verify-pdf.js';
import { PermanentFailure } from '../../../src/errors.js';
import { startTestTsa, type TestTsa } from '../../fixtures/test-tsa.js';
import { pdfText, pdfToPng, run, tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';
import { DEPT, HOLDER, META, certificateContent, formContent } from '../documents/sample.js';

let tmp: ReturnType<typeof tempDir>;
let pki: DevPki;
let tsa: TestTsa;
let bb: Uint8Array; // PAdES B-B
let bt: Uint8Array; // PAdES B-T
const now = () => new Date();

beforeAll(async () => {
  tmp = tempDir('verify-pdf-');
  tsa = await startTestTsa();
  pki = await ensureDevPki(`${tmp.dir}/pki`, [DEPT]);
  const meta = { ...META, signingTime: new Date() };
  bb = await signPdf(await renderCertificate(certificateContent({ registerId: 'cert-1' }), meta), pki.departmentSigner(DEPT.code));
  bt = await signPdf(await renderCertificate(certificateContent({ registerId: 'cert-1' }), meta), pki.departmentSigner(DEPT.code), {
    timestamper: httpTimestamper(tsa.url),
  });
}, 60_000);
afterAll(async () => {
  await tsa?.close();
  tmp?.cleanup();
});

const firstFailing = (r: ReturnType<typeof verifyPdf>) => r.checks.find((c) => c.result === 'FAILED' || (c.result === 'INDETERMINATE' && !c.detail.startsWith('未执行')))?.id;

describe('verifyPdf', () => {
  it('passes a B-B certificate and reports signer, /M, SubFilter, coverage, DocMDP and the embedded register id', () => {
    const r = verifyPdf(bb, { roots: pki.rootsPem });
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.signature).toMatchObject({ subFilter: 'ETSI.CAdES.detached', coversWholeFile: true, docMdp: 1, timestamp: null, signer: { code: DEPT.code, commonName: DEPT.name } });
    expect(r.signature.signingTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(r.certificateId).toBe('cert-1');
    expect(r.sha256).toBe(createHash('sha256').update(bb).digest('hex'));
  });

  it('passes a B-T certificate with a trusted timestamp when the TSA root is configured, and untrusted (not decisive) otherwise', () => {
    const trusted = verifyPdf(bt, { roots: pki.rootsPem, tsaRoots: tsa.certPem });
    expect(trusted.indication).toBe('TOTAL_PASSED');
    expect(trusted.signature.timestamp).toMatchObject({ verified: true, trusted: true, tsa: expect.stringContaining('Test Time Stamping Authority') });
    expect(trusted.validationTime).toBe(trusted.signature.timestamp!.genTime);
    const untrusted = verifyPdf(bt, { roots: pki.rootsPem });
    expect(untrusted.indication).toBe('TOTAL_PASSED');
    expect(untrusted.checks.find((c) => c.id === 'timestamp')!.result).toBe('INDETERMINATE');
  });

  it('B-T files pass the shared verifier too', async () => {
    const v = await verifyCertificate(writeTemp(tmp.dir, 'bt.pdf', bt), writeTemp(tmp.dir, 'roots.pem', pki.rootsPem), [HOLDER.name]);
    expect(v.stdout).toContain('ALL PASS');
  });

  it('checks certificates at validation time: EXPIRED / NOT_YET_VALID without a timestamp; a trusted timestamp keeps an old signature valid', () => {
    const later = new Date(Date.now() + 20 * 365 * 86400_000);
    expect(verifyPdf(bb, { roots: pki.rootsPem, now: later })).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'EXPIRED' });
    expect(verifyPdf(bb, { roots: pki.rootsPem, now: new Date('2001-01-01') })).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'NOT_YET_VALID' });
    expect(verifyPdf(bt, { roots: pki.rootsPem, tsaRoots: tsa.certPem, now: later }).indication).toBe('TOTAL_PASSED');
  });

  it('fails a timestamp whose imprint is not the hash of the signature value (TOTAL_FAILED/HASH_FAILURE)', async () => {
    const real = httpTimestamper(tsa.url);
    const lying: Timestamper = { timestamp: () => real.timestamp(createHash('sha256').update('something else').digest()) };
    const pdf = await signPdf(await renderCertificate(certificateContent(), { ...META, signingTime: now() }), pki.departmentSigner(DEPT.code), { timestamper: lying });
    const r = verifyPdf(pdf, { roots: pki.rootsPem, tsaRoots: tsa.certPem });
    expect([r.indication, r.subIndication, firstFailing(r)]).toEqual(['TOTAL_FAILED', 'HASH_FAILURE', 'timestamp']);
  });

  it('answers INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND against other roots, and never reports the embedded id then', async () => {
    const other = await ensureDevPki(`${tmp.dir}/other`, []);
    const r = verifyPdf(bb, { roots: trustAnchors(other.rootsPem) });
    expect([r.indication, r.subIndication]).toEqual(['INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND']);
    expect(r.certificateId).toBeNull();
  });

  it('never throws and never passes a file with any byte of its signed ranges changed (property)', () => {
    const m = /\/ByteRange \[ *0 +(\d+) +(\d+) +(\d+)/.exec(Buffer.from(bb).toString('latin1'))!;
    const [b, c] = [Number(m[1]), Number(m[2])];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bb.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        fc.pre(at < b || at >= c);
        const x = Buffer.from(bb);
        x[at] = (x[at] as number) ^ xor;
        const r = verifyPdf(x, { roots: pki.rootsPem });
        return r.indication !== 'TOTAL_PASSED';
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on truncations, garbage in /Contents or random bytes (property)', () => {
    const m = /\/ByteRange \[ *0 +(\d+) +(\d+)/.exec(Buffer.from(bb).toString('latin1'))!;
    const [b, c] = [Number(m[1]), Number(m[2])];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bb.length }), fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.integer({ min: 0, max: 2000 }), (cut, junk, where) => {
        const t = verifyPdf(bb.subarray(0, cut), { roots: pki.rootsPem });
        const g = Buffer.from(bb);
        g.write(Buffer.from(junk).toString('hex'), Math.min(c - 2 - junk.length * 2, b + 1 + where), 'latin1');
        const r = verifyPdf(g, { roots: pki.rootsPem });
        const s = verifyPdf(Buffer.concat([Buffer.from('%PDF-1.7\n/ByteRange '), Buffer.from(junk), Buffer.from('%%EOF')]), { roots: pki.rootsPem });
        return [t, r, s].every((x) => ['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE'].includes(x.indication)) && s.indication !== 'TOTAL_PASSED';
      }),
      { numRuns: 150 },
    );
  });

  it('verifies a certificate in about a millisecond (median of a quick loop)', () => {
    const roots = trustAnchors(pki.rootsPem);
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      verifyPdf(bt, { roots, tsaRoots: tsa.certPem });
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const median = times[100]!;
    console.log(`verifyPdf B-T median ${median.toFixed(3)} ms → ${Math.round(1000 / median)} verifications/s (one core)`);
    expect(median).toBeLessThan(20);
  });
});

describe('applyRegister', () => {
  const entry = (over: Partial<RegisterEntry> = {}): RegisterEntry => ({
    id: 'cert-1', status: 'valid', number: 'N1', licenseId: 'L1', holderName: '张伟', holderCode: '210102199001011237',
    issuerName: DEPT.name, issuerCode: DEPT.code, issuedAt: '2026-01-01T00:00:00Z', validUntil: null, sha256: '', ...over,
  });

  it('passes only the registered, valid file and masks a person holder', () => {
    const v = verifyPdf(bb, { roots: pki.rootsPem });
    const ok = applyRegister(v, entry({ sha256: v.sha256 }), '2026-06-01');
    expect(ok.indication).toBe('TOTAL_PASSED');
    expect(ok.register!.holder).toEqual({ name: '张*', code: '2101**********1237' });
    expect(applyRegister(v, entry({ sha256: 'f'.repeat(64) }), '2026-06-01')).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'NOT_REGISTERED' });
    expect(applyRegister(v, null, '2026-06-01')).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'NOT_REGISTERED', register: null });
    expect(applyRegister(v, entry({ sha256: v.sha256, status: 'revoked', revocationReason: '注销' }), '2026-06-01')).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
    expect(applyRegister(v, entry({ sha256: v.sha256, status: 'superseded' }), '2026-06-01')).toMatchObject({ subIndication: 'SUPERSEDED' });
    expect(applyRegister(v, entry({ sha256: v.sha256, validUntil: '2026-05-31' }), '2026-06-01')).toMatchObject({ subIndication: 'EXPIRED' });
  });

  it('keeps the signature verdict when the signature already failed', () => {
    const v = verifyPdf(bb.subarray(0, 1000), { roots: pki.rootsPem });
    expect(applyRegister(v, null, '2026-06-01')).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
  });
});

describe('timestamp client', () => {
  it('rejects a response whose token is for another digest', async () => {
    const digest = createHash('sha256').update('a').digest();
    const res = await fetch(tsa.url, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: timeStampRequest(digest, Buffer.from('0102030405060708', 'hex')) });
    const body = new Uint8Array(await res.arrayBuffer());
    expect(tokenFromResponse(body, digest, Buffer.from('0102030405060708', 'hex')).length).toBeGreaterThan(500);
    expect(() => tokenFromResponse(body, createHash('sha256').update('b').digest(), null)).toThrow(/imprint/);
    expect(() => tokenFromResponse(body, digest, Buffer.from('09', 'hex'))).toThrow(/nonce/);
  });

  it('writes every nonce as minimal DER, so the TSA grants nonces that start with zero bytes (one random nonce in 512 did not)', async () => {
    const digest = createHash('sha256').update('n').digest();
    const nonces = ['0001020304050607', '007f000000000001', '0000ff0000000001', '0000000000000000', '80ffffffffffffff', '7fffffffffffffff'];
    const granted: string[] = [];
    for (const hex of nonces) {
      const nonce = Buffer.from(hex, 'hex');
      const res = await fetch(tsa.url, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: timeStampRequest(digest, nonce) });
      // tokenFromResponse throws on a refusal, and on a token whose nonce is not this one.
      if (tokenFromResponse(new Uint8Array(await res.arrayBuffer()), digest, nonce).length > 500) granted.push(hex);
    }
    expect(granted).toEqual(nonces);
    // The encoding itself: INTEGER 1 for 00…01, a leading 00 only before a high bit.
    const intOf = (hex: string) => timeStampRequest(digest, Buffer.from(hex, 'hex')).subarray(2 + 3 + 49, -3).toString('hex');
    expect([intOf('0000000000000001'), intOf('0000000000000000'), intOf('80ffffffffffffff')]).toEqual(['020101', '020100', '02090080ffffffffffffff']);
  });

  it('names the status and failure of a refusal', () => {
    // TimeStampResp { PKIStatusInfo { status 2 (rejection), failInfo badDataFormat (bit 5) } }
    const refusal = Buffer.from('300930070201020302020420', 'hex');
    expect(() => tokenFromResponse(refusal, Buffer.alloc(32), null)).toThrow('TSA refused the request (PKIStatus 2, failInfo badDataFormat)');
  });

  it('fails loudly when the TSA is down (issuing then retries instead of silently dropping to B-B)', async () => {
    tsa.down = true;
    try {
      await expect(httpTimestamper(tsa.url).timestamp(createHash('sha256').update('x').digest())).rejects.toThrow(/HTTP 503/);
    } finally {
      tsa.down = false;
    }
  });
});

describe('fonts: rare characters print, missing ones are refused', () => {
  it('renders 䶮, 㵘 and 𬌗 (pdftoppm without font errors) and extracts them (pdftotext)', async () => {
    expect(missingGlyphs('䶮㵘𬌗')).toEqual([]);
    const file = writeTemp(tmp.dir, 'rare.pdf', bb);
    const text = await pdfText(file);
    for (const s of ['沈阳䶮盛粮贸有限公司', '王㵘', '𬌗']) expect(text).toContain(s);
    const { stderr, code } = await pdfToPng(file, 100);
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/font|error|glyph/i);
  });

  it('refuses a character no font has, naming it, as a PermanentFailure with code CERTIFICATE_UNPRINTABLE_TEXT', async () => {
    const missing = '\u{13000}'; // EGYPTIAN HIEROGLYPH A001: not in Noto Sans Hans
    expect(missingGlyphs(missing)).toEqual([missing]);
    const err = await renderCertificate(certificateContent({ holder: { name: `沈阳${missing}粮贸有限公司`, code: HOLDER.code } }), META).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnprintableTextError);
    expect(err).toBeInstanceOf(PermanentFailure);
    expect((err as PermanentFailure).code).toBe('CERTIFICATE_UNPRINTABLE_TEXT');
    expect((err as Error).message).toContain('U+13000');
    expect((err as Error).message).toContain('持证主体');
    const form = formContent();
    form.rows.push({ label: '备注', value: `含${missing}` });
    await expect(renderForm(form, META)).rejects.toThrow(/CERTIFICATE_UNPRINTABLE_TEXT/);
  });
});

describe('revocation list signature', () => {
  const list = { type: 'revocation-list' as const, version: 1 as const, issuer: { code: DEPT.code, name: DEPT.name }, generatedAt: '2026-01-01T00:00:00Z', entries: [] };

  it('RS256 with the department seal verifies with jose and x5c names the department', async () => {
    const jws = await signRevocationList(list, pki.departmentSigner(DEPT.code));
    const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString()) as { alg: string; x5c: string[] };
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(Buffer.from(header.x5c[0]!, 'base64'));
    const { payload } = await flattenedVerify(jws, cert.publicKey);
    expect(JSON.parse(Buffer.from(payload).toString())).toEqual(list);
    expect(cert.subject).toContain(DEPT.code);
  });

  it('ES256 signers produce JOSE (r‖s) signatures', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer: Signer = { chain: [], keyType: 'ec', sign: (d) => Promise.resolve(new Uint8Array(cryptoSign('sha256', d, privateKey))) };
    const jws = await signRevocationList(list, signer);
    await expect(flattenedVerify(jws, publicKey)).resolves.toBeTruthy();
  });
});

describe('parsePdfDate', () => {
  it('reads PDF dates with zones', () => {
    expect(parsePdfDate('D:20240501020000Z')).toBe('2024-05-01T02:00:00.000Z');
    expect(parsePdfDate("D:20240501100000+08'00'")).toBe('2024-05-01T02:00:00.000Z');
    expect(parsePdfDate('garbage')).toBeNull();
  });
});

it('the openssl CLI agrees the B-T CMS is well-formed', async () => {
  const { extractCms } = await import('../../support/pdf-tools.js');
  const r = await run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', writeTemp(tmp.dir, 'bt.p7s', extractCms(bt))]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('id-smime-aa-timeStampToken');
  // The document signature's own signed attributes carry no signingTime (the TSA's token may: that is its business).
  const attrs = r.stdout.slice(r.stdout.indexOf('signedAttrs:'), r.stdout.indexOf('signatureAlgorithm:', r.stdout.indexOf('signedAttrs:')));
  expect([...attrs.matchAll(/object: (\S+)/g)].map((m) => m[1]).sort()).toEqual(['contentType', 'id-smime-aa-signingCertificateV2', 'messageDigest']);
});
