/**
 * Certificates issued on the real stack with PAdES B-T (a local RFC 3161 TSA), then the attack corpus generated
 * from them: every file gets its expected indication from POST /v1/verify, and verify-certificate.sh (pdfsig +
 * openssl + qpdf, tools we did not write) agrees — it fails where we fail and passes where we pass, except for the
 * one thing it cannot know: whether the file is the registered one (and whether it was revoked since).
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { flattenedVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevPki } from '../../../src/signing/pki.js';
import { buildCorpus, signatureLayout, type CorpusEntry } from '../../fixtures/attack-corpus.js';
import { startTestTsa, type TestTsa } from '../../fixtures/test-tsa.js';
import { extractCms, pdfText, pdfToPng, run, tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';
import { certificateContent } from '../../unit/documents/sample.js';
import { applicantSealSigner } from '../../support/seals.js';

const GRAIN_DEPT = { name: '沈阳市粮食和物资储备局', code: '11210100MB0E12346R' };
const RARE_USCC = '91210102123456788E';

interface Report {
  indication: string;
  subIndication?: string;
  sha256: string;
  certificateId: string | null;
  signature: { coversWholeFile: boolean; subFilter: string | null; signingTime: string | null; timestamp: { trusted: boolean; verified: boolean; genTime: string } | null; signer: { code: string | null; organization: string | null } | null };
  register: { id: string; status: string; sha256Matches: boolean; holder: { name: string; code: string }; revocationReason?: string } | null;
  checks: Array<{ id: string; result: string; detail: string }>;
}

let stack: Stack;
let tsa: TestTsa;
let tmp: ReturnType<typeof tempDir>;
let rootsPath: string;
let untrustedDir: string;
const issued = new Map<string, { id: string; pdf: Buffer }>();
let corpus: CorpusEntry[] = [];

async function issue(sub: string, filing: ReturnType<typeof grainFiling>): Promise<{ id: string; pdf: Buffer }> {
  const token = await stack.token(sub);
  const res = await submit(stack, token, filing);
  expect(res.statusCode, res.body).toBe(202);
  const d = await waitForDecision(stack, res.json<{ id: string }>().id, token);
  expect(d.status, JSON.stringify(d.decision)).toBe('approved');
  const pdf = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${d.certificate!.id}/pdf`, headers: { authorization: `Bearer ${token}` } });
  return { id: d.certificate!.id, pdf: pdf.rawPayload };
}

async function verify(bytes: Uint8Array): Promise<Report> {
  const res = await stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/pdf' }, payload: Buffer.from(bytes) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Report>();
}

beforeAll(async () => {
  tmp = tempDir('corpus-');
  tsa = await startTestTsa();
  stack = await startStack({ backend: 'sqlite', env: { TSA_URL: tsa.url, TSA_ROOTS: tsa.certPem, VERIFY_RATE_LIMIT: '0' } });
  rootsPath = writeTemp(tmp.dir, 'roots.pem', (await stack.app.inject({ method: 'GET', url: '/v1/trust' })).body);
  issued.set('fenghe', await issue(HAPPY_USCC, grainFiling()));
  issued.set('rare', await issue(RARE_USCC, grainFiling({ form: { responsiblePerson: { name: '王芳', idNumber: '21011219850615002X' }, purchaseRegionCode: '210103', storageFacilities: [{ address: '沈阳市某区粮库', capacityTonnes: 3000, ownership: '自有', realEstateCertNo: '辽(2023)沈阳市不动产权第0100001号' }] } })));

  untrustedDir = mkdtempSync(path.join(tmpdir(), 'untrusted-pki-'));
  const untrusted = await ensureDevPki(untrustedDir, [GRAIN_DEPT]);
  const genuine = issued.get('fenghe')!;
  corpus = await buildCorpus({
    genuine: genuine.pdf,
    untrustedSigner: untrusted.departmentSigner(GRAIN_DEPT.code),
    departmentSigner: stack.deps.departmentSigner(GRAIN_DEPT.code),
    otherTrustedSigner: await applicantSealSigner(stack.deps.pki!, { name: '沈阳丰禾粮食购销有限公司', code: HAPPY_USCC }),
    unregistered: {
      content: certificateContent({ issuer: GRAIN_DEPT, registerId: genuine.id, number: '沈粮收备〔2026〕999999号' }),
      meta: { signerName: GRAIN_DEPT.name, reason: '伪造测试', location: '沈阳', signingTime: new Date() },
    },
  });
}, 180_000);

afterAll(async () => {
  await stack?.close();
  await tsa?.close();
  tmp?.cleanup();
  if (untrustedDir) rmSync(untrustedDir, { recursive: true, force: true });
});

describe('an issued certificate (PAdES B-T)', () => {
  it('passes our verifier with every check, a trusted timestamp and the register entry, holder masked only for persons', async () => {
    const { id, pdf } = issued.get('fenghe')!;
    const r = await verify(pdf);
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.subIndication).toBeUndefined();
    expect(r.checks.filter((c) => c.result !== 'PASSED').map((c) => c.id)).toEqual([]);
    expect(r.signature).toMatchObject({ coversWholeFile: true, subFilter: 'ETSI.CAdES.detached', signer: { code: GRAIN_DEPT.code, organization: GRAIN_DEPT.name } });
    expect(r.signature.timestamp).toMatchObject({ verified: true, trusted: true });
    expect(r.register).toMatchObject({ id, status: 'valid', sha256Matches: true, holder: { name: '沈阳丰禾粮食购销有限公司', code: HAPPY_USCC } });
    expect(r.certificateId).toBe(id);
    expect(tsa.requests).toBeGreaterThanOrEqual(2);
  });

  it.each(['fenghe', 'rare'])('%s: passes verify-certificate.sh, and pdfsig says "Total document signed"', async (key) => {
    const { pdf } = issued.get(key)!;
    const file = writeTemp(tmp.dir, `${key}.pdf`, pdf);
    const v = await verifyCertificate(file, rootsPath, key === 'rare' ? ['沈阳䶮盛粮贸有限公司'] : ['沈阳丰禾粮食购销有限公司']);
    expect(v.stdout).toContain('ALL PASS');
    const sig = await run('pdfsig', [file]);
    expect(sig.stdout).toContain('- Total document signed');
    expect(sig.stdout).toContain('Signature Type: ETSI.CAdES.detached');
  });

  it('carries an RFC 3161 token over the signature value that `openssl ts -verify` accepts', async () => {
    const { pdf } = issued.get('fenghe')!;
    const cmsPath = writeTemp(tmp.dir, 'sig.p7s', extractCms(pdf));
    const printed = await run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cmsPath]);
    expect(printed.stdout).toContain('id-smime-aa-timeStampToken');
    // Pull the token and the signature value out with our own DER reader, then let openssl judge.
    const { parseSignedData, OIDS } = await import('../../../src/verification/cms.js');
    const { rawOf } = await import('../../../src/verification/der.js');
    const sd = parseSignedData(extractCms(pdf));
    const si = sd.signerInfos[0]!;
    const attr = si.unsignedAttrs.find((a) => a.oid === OIDS.signatureTimeStampToken)!;
    const token = writeTemp(tmp.dir, 'token.der', rawOf(sd.buf, attr.values[0]!));
    const sigValue = writeTemp(tmp.dir, 'sigvalue.bin', si.signature);
    const v = await run('openssl', ['ts', '-verify', '-data', sigValue, '-in', token, '-token_in', '-CAfile', tsa.certPath]);
    expect(v.stdout + v.stderr).toContain('Verification: OK');
    expect(v.code).toBe(0);
  });

  it('renders 䶮 without font errors and extracts it from the text layer', async () => {
    const file = writeTemp(tmp.dir, 'rare-render.pdf', issued.get('rare')!.pdf);
    expect(await pdfText(file)).toContain('沈阳䶮盛粮贸有限公司');
    const { stderr, code } = await pdfToPng(file, 100);
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('the attack corpus', () => {
  it('covers every attack of the issue', () => {
    expect(corpus.map((c) => c.name)).toEqual([
      'genuine',
      'appended revision painting new text',
      'one byte changed',
      'truncated',
      'truncated, %%EOF re-added',
      'signature contents zeroed',
      'ByteRange moved to skip content',
      'ByteRange shortened to skip the tail',
      'a second signature added',
      'signed by an untrusted CA',
      'genuine signature, file not the registered one',
    ]);
  });

  it.each([...Array(11).keys()])('entry %i gets its expected indication from us, and scripts/verify-certificate.sh agrees', async (i) => {
    const entry = corpus[i]!;
    const started = Date.now();
    const r = await verify(entry.bytes);
    expect(Date.now() - started).toBeLessThan(2000);
    expect({ name: entry.name, indication: r.indication, subIndication: r.subIndication }).toEqual({
      name: entry.name,
      indication: entry.indication,
      subIndication: entry.subIndication,
    });
    if (entry.failingCheck) {
      const first = r.checks.find((c) => c.result === 'FAILED' || (c.result === 'INDETERMINATE' && !c.detail.startsWith('未执行') && c.id !== 'timestamp'));
      expect(first?.id, JSON.stringify(r.checks, null, 1)).toBe(entry.failingCheck);
    }
    const file = writeTemp(tmp.dir, `corpus-${i}.pdf`, entry.bytes);
    const shared = await verifyCertificate(file, rootsPath);
    expect({ name: entry.name, sharedPasses: shared.code === 0 }, shared.stdout).toEqual({ name: entry.name, sharedPasses: entry.sharedScriptPasses });
    // Where both pass, ours only passes the registered file; where scripts/verify-certificate.sh fails, so do we.
    if (!entry.sharedScriptPasses) expect(r.indication).not.toBe('TOTAL_PASSED');
  });

  it('the appended revision shows its painted text and still has a cryptographically valid first signature (the trap)', async () => {
    const entry = corpus.find((c) => c.name === 'appended revision painting new text')!;
    const file = writeTemp(tmp.dir, 'painted.pdf', entry.bytes);
    // -raw: content-stream order, so the painted string is not interleaved with the page's own layout.
    expect((await run('pdftotext', ['-raw', '-enc', 'UTF-8', file, '-'])).stdout).toContain('VALID UNTIL 2099 - APPROVED');
    const sig = await run('pdfsig', [file]);
    expect(sig.stdout).toContain('Signature is Valid');
    expect(sig.stdout).not.toContain('- Total document signed');
    const r = await verify(entry.bytes);
    expect(r.signature.coversWholeFile).toBe(false);
    expect(r.register).toBeNull();
  });

  it('the unregistered file passes every signature check but names the register entry whose hash it lacks', async () => {
    const entry = corpus.find((c) => c.name === 'genuine signature, file not the registered one')!;
    const r = await verify(entry.bytes);
    const sigChecks = r.checks.filter((c) => !c.id.startsWith('register-') && c.id !== 'timestamp');
    expect(sigChecks.every((c) => c.result === 'PASSED')).toBe(true);
    expect(r.register).toMatchObject({ id: issued.get('fenghe')!.id, sha256Matches: false });
  });

  it('keeps the ByteRange of each generated file where the attack put it', () => {
    const moved = corpus.find((c) => c.name === 'ByteRange moved to skip content')!;
    const genuine = corpus[0]!;
    expect(signatureLayout(moved.bytes).br[1]).toBe(signatureLayout(genuine.bytes).br[1]! - 300);
  });
});

describe('revocation', () => {
  const admin = (dept: string) => stack.token('admin-1', 'admin', { dept });

  it('is refused to applicants (403), to admins of another department (404) and for unknown ids (404)', async () => {
    const { id } = issued.get('rare')!;
    const post = async (token: string, certId = id, body: unknown = { reason: '测试' }) =>
      stack.app.inject({ method: 'POST', url: `/v1/certificates/${certId}/revoke`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect((await post(await stack.token(RARE_USCC))).statusCode).toBe(403);
    const other = await post(await admin('11210100MB0E23459Q'));
    expect(other.statusCode).toBe(404);
    expect(other.json<{ code: string }>().code).toBe('CERTIFICATE_NOT_FOUND');
    expect((await post(await admin(GRAIN_DEPT.code), 'no-such-id')).statusCode).toBe(404);
    const bad = await post(await admin(GRAIN_DEPT.code), id, { reason: '测试', extra: 1 });
    expect(bad.statusCode).toBe(400);
    expect((await post(await admin(GRAIN_DEPT.code), id, { reason: '' })).statusCode).toBe(400);
    expect((await stack.deps.store.certificates.get(id))!.status).toBe('valid');
  });

  it('records who, when and why; verification then says REVOKED while scripts/verify-certificate.sh (no register) still passes', async () => {
    const { id, pdf } = issued.get('rare')!;
    const token = await admin(GRAIN_DEPT.code);
    const res = await stack.app.inject({
      method: 'POST',
      url: `/v1/certificates/${id}/revoke`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ reason: '企业申请注销粮食收购备案' }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id, status: 'revoked', revokedBy: 'ADMIN-1', reason: '企业申请注销粮食收购备案' });
    const again = await stack.app.inject({ method: 'POST', url: `/v1/certificates/${id}/revoke`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify({ reason: '重复' }) });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ code: string }>().code).toBe('CERTIFICATE_ALREADY_REVOKED');

    const r = await verify(pdf);
    expect(r.indication).toBe('TOTAL_FAILED');
    expect(r.subIndication).toBe('REVOKED');
    expect(r.register).toMatchObject({ status: 'revoked', sha256Matches: true, revocationReason: '企业申请注销粮食收购备案' });
    const shared = await verifyCertificate(writeTemp(tmp.dir, 'revoked.pdf', pdf), rootsPath);
    expect(shared.code).toBe(0);

    const cert = await stack.deps.store.certificates.get(id);
    const page = await stack.app.inject({ method: 'GET', url: `/verify/${id}/${cert!.verifyCode}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('已撤销');
    expect(page.body).toContain('企业申请注销粮食收购备案');
  });

  it('publishes signed revocation lists that verify with a JOSE library against the department certificate chaining to /v1/trust', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/revocations' });
    expect(res.statusCode).toBe(200);
    const { lists } = res.json<{ lists: Array<{ protected: string; payload: string; signature: string }> }>();
    const roots = (await stack.app.inject({ method: 'GET', url: '/v1/trust' })).body;
    const root = new X509Certificate(roots);
    type List = { type: string; issuer: { code: string }; entries: Array<{ certificateId: string; reason: string; sha256: string }> };
    let grain: List | null = null;
    for (const jws of lists) {
      const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString()) as { alg: string; x5c: string[] };
      const cert = new X509Certificate(Buffer.from(header.x5c[0]!, 'base64'));
      // The list is signed with the department key's own algorithm: ES256 for P-256 keys, RS256 for RSA ones.
      expect(header.alg).toBe(cert.publicKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256');
      expect(cert.checkIssued(root) && cert.verify(root.publicKey)).toBe(true);
      const { payload } = await flattenedVerify(jws, cert.publicKey);
      const list = JSON.parse(Buffer.from(payload).toString()) as List;
      expect(list.type).toBe('revocation-list');
      expect(cert.subject).toContain(`serialNumber=${list.issuer.code}`);
      if (list.issuer.code === GRAIN_DEPT.code) grain = list;
    }
    expect(grain!.entries).toEqual([expect.objectContaining({ certificateId: issued.get('rare')!.id, reason: '企业申请注销粮食收购备案', sha256: (await stack.deps.store.certificates.get(issued.get('rare')!.id))!.sha256 })]);
    // A tampered list fails.
    const tampered = { ...lists[0]!, payload: Buffer.from('{"entries":[]}').toString('base64url') };
    const header = JSON.parse(Buffer.from(lists[0]!.protected, 'base64url').toString()) as { x5c: string[] };
    await expect(flattenedVerify(tampered, new X509Certificate(Buffer.from(header.x5c[0]!, 'base64')).publicKey)).rejects.toThrow();
  });
});
