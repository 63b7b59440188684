/**
 * Revocation of the signing certificate chain (issue 17): once a certificate of a signature's chain is revoked — the
 * department's seal certificate, the department CA that issued it, or an OFD seal's maker — POST /v1/verify fails
 * every document signed under it — TOTAL_FAILED / REVOKED with a check naming the certificate (subject, sha256),
 * when and why — although signature, chain and register still hold. A chain with nothing revoked still passes.
 */
import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/load-catalog.js';
import { loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { caName, issueCaCertificate, issueSealCertificate, selfSignedCa } from '../../../src/signing/seal-certificate.js';
import { RULES_DIR } from '../../support/datasource-server.js';
import { tempDir } from '../../support/pdf-tools.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

interface Report {
  indication: string;
  subIndication?: string;
  signature: { signer: { certificateSha256: string; subject: string }; chain: Array<{ role: string; subject: string; sha256: string }> };
  checks: Array<{ id: string; result: string; detail: string }>;
}

async function verify(stack: Stack, body: Buffer, contentType = 'application/pdf') {
  const res = await stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': contentType }, payload: body });
  expect(res.statusCode).toBe(200);
  return res.json<Report>();
}

/** An approved grain filing's certificate, as its holder downloads it (PDF, or OFD). */
async function issuedCertificate(stack: Stack, region: string) {
  const applicant = await stack.token(HAPPY_USCC);
  const filed = await submit(stack, applicant, grainFiling({ form: { purchaseRegionCode: region } }));
  expect(filed.statusCode, filed.body).toBe(202);
  const decided = await waitForDecision(stack, filed.json<{ id: string }>().id, applicant);
  expect(decided.status).toBe('approved');
  const get = async (kind: 'pdf' | 'ofd') => {
    const res = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${decided.certificate!.id}/${kind}`, headers: { authorization: `Bearer ${applicant}` } });
    expect(res.statusCode).toBe(200);
    return res.rawPayload;
  };
  return { pdf: await get('pdf'), ofd: () => get('ofd') };
}

describe('verification and the signing certificate’s revocation', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite' });
  }, 120_000);
  afterAll(async () => stack?.close());

  it('fails a document whose department signing certificate is revoked, saying so', async () => {
    const { pdf } = await issuedCertificate(stack, '210104');
    const before = await verify(stack, pdf);
    expect(before.indication).toBe('TOTAL_PASSED');
    expect(before.checks.map((c) => c.id)).not.toContain('signing-certificate-revocation');

    const signer = before.signature.signer;
    expect(await stack.deps.store.signingRevocations.revoke({ certificateSha256: signer.certificateSha256, subject: signer.subject, reason: '印章私钥泄露', revokedBy: 'PKI-OPS', revokedAt: '2026-12-01T00:00:00.000Z' })).toBe(true);
    expect(await stack.deps.store.signingRevocations.revoke({ certificateSha256: signer.certificateSha256, subject: signer.subject, reason: 'again', revokedBy: 'PKI-OPS', revokedAt: '2026-12-02T00:00:00.000Z' })).toBe(false);

    const after = await verify(stack, pdf);
    expect(after.indication).toBe('TOTAL_FAILED');
    expect(after.subIndication).toBe('REVOKED');
    const check = after.checks.find((c) => c.id === 'signing-certificate-revocation')!;
    expect(check.result).toBe('FAILED');
    expect(check.detail).toContain('签章证书已吊销');
    expect(check.detail).toContain(signer.certificateSha256);
    expect(check.detail).toContain('2026-12-01T00:00:00.000Z');
    expect(check.detail).toContain('印章私钥泄露');
    // Everything else still holds: only the revocation fails it.
    expect(after.checks.filter((c) => c.result === 'FAILED').map((c) => c.id)).toEqual(['signing-certificate-revocation']);
  }, 60_000);
});

/**
 * Department seal keys mounted as files (SEAL_BACKEND=file) under a three-level chain: a root, one department CA
 * (the intermediate), and each department's seal certificate issued by that CA.
 */
function departmentPkiWithIntermediate(dir: string): { intermediate: X509Certificate; root: X509Certificate } {
  const registry = loadSourceRegistry(RULES_DIR);
  const departments = [...new Map([...loadCatalog(RULES_DIR, new Set(registry.map((s) => s.id))).matters.values()].map((m) => [m.def.department.code, m.def.department])).values()];
  const now = Date.now();
  const [notBefore, notAfter] = [new Date(now - 3_600_000), new Date(now + 2 * 365 * 86_400_000)];
  const key = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  const rootKeys = key();
  const root = selfSignedCa(rootKeys.privateKey, spki(rootKeys.publicKey), caName('辽宁省政务服务测试根', '测试根证书 (仅供测试)'), notBefore, notAfter);
  const caKeys = key();
  const ca = issueCaCertificate(
    { key: rootKeys.privateKey, certificate: root },
    { subject: caName('沈阳市政务服务数据管理局', '沈阳市部门印章 CA (仅供测试)'), publicKey: spki(caKeys.publicKey), notBefore, notAfter },
  );
  mkdirSync(dir, { recursive: true });
  const pem = (der: Uint8Array) => new X509Certificate(der).toString();
  for (const d of departments) {
    const seal = key();
    const leaf = issueSealCertificate({ key: caKeys.privateKey, certificate: ca }, { holder: { name: d.name, code: d.code }, publicKey: spki(seal.publicKey), notBefore, notAfter });
    writeFileSync(path.join(dir, `${d.code}.key.pem`), seal.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(path.join(dir, `${d.code}.cert.pem`), pem(leaf.der) + pem(ca) + pem(root));
  }
  return { intermediate: new X509Certificate(ca), root: new X509Certificate(root) };
}

const sha256Of = (c: X509Certificate) => c.fingerprint256.replace(/:/g, '').toLowerCase();

describe.each(['sqlite', 'postgres'] as const)('revocation of a certificate of the signing chain (%s)', (backend) => {
  let stack: Stack;
  let pki: ReturnType<typeof departmentPkiWithIntermediate>;
  let pdf: Buffer;
  let ofd: Buffer;
  const tmp = tempDir('chain-revocation-');
  beforeAll(async () => {
    pki = departmentPkiWithIntermediate(path.join(tmp.dir, 'seal-keys'));
    stack = await startStack({ backend, env: { SEAL_BACKEND: 'file', SEAL_KEYS_DIR: path.join(tmp.dir, 'seal-keys') } });
    const issued = await issuedCertificate(stack, '210105');
    pdf = issued.pdf;
    ofd = await issued.ofd();
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    tmp.cleanup();
  });

  it('passes while nothing is revoked, reporting every certificate of the chain with its sha256', async () => {
    const r = await verify(stack, pdf);
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.signature.chain.map((c) => [c.role, c.sha256])).toEqual([
      ['signer', r.signature.signer.certificateSha256],
      ['intermediate', sha256Of(pki.intermediate)],
      ['anchor', sha256Of(pki.root)],
    ]);
    expect(r.signature.chain[1]!.subject).toContain('沈阳市部门印章 CA');
    const o = await verify(stack, ofd, 'application/ofd');
    expect(o.indication).toBe('TOTAL_PASSED');
    expect(o.signature.chain.map((c) => c.role)).toEqual(['signer', 'anchor', 'seal-maker']);
    expect(o.checks.map((c) => c.id)).not.toContain('signing-certificate-revocation');
  }, 60_000);

  it('fails a PDF whose seal certificate was issued by a revoked department CA, naming that CA, when and why', async () => {
    const ca = sha256Of(pki.intermediate);
    expect(await stack.deps.store.signingRevocations.revoke({ certificateSha256: ca, subject: pki.intermediate.subject, reason: 'CA 私钥泄露', revokedBy: 'PKI-OPS', revokedAt: '2026-12-03T00:00:00.000Z' })).toBe(true);
    const r = await verify(stack, pdf);
    expect([r.indication, r.subIndication]).toEqual(['TOTAL_FAILED', 'REVOKED']);
    const check = r.checks.find((c) => c.id === 'signing-certificate-revocation')!;
    expect(check.result).toBe('FAILED');
    expect(check.detail).toContain('中间 CA 证书已吊销');
    expect(check.detail).toContain('沈阳市部门印章 CA');
    expect(check.detail).toContain(ca);
    expect(check.detail).toContain('2026-12-03T00:00:00.000Z');
    expect(check.detail).toContain('CA 私钥泄露');
    // The leaf itself is not revoked, and everything else still holds.
    expect(check.detail).not.toContain(r.signature.signer.certificateSha256);
    expect(r.checks.filter((c) => c.result === 'FAILED').map((c) => c.id)).toEqual(['signing-certificate-revocation']);
    // The OFD is sealed under the SM2 chain, which that CA is no part of.
    expect((await verify(stack, ofd, 'application/ofd')).indication).toBe('TOTAL_PASSED');
  }, 60_000);

  it('fails an OFD whose seal maker certificate is revoked, naming it, though its signer certificate is not', async () => {
    const before = await verify(stack, ofd, 'application/ofd');
    const maker = before.signature.chain.find((c) => c.role === 'seal-maker')!;
    expect(await stack.deps.store.signingRevocations.revoke({ certificateSha256: maker.sha256, subject: maker.subject, reason: '制章系统密钥泄露', revokedBy: 'PKI-OPS', revokedAt: '2026-12-04T00:00:00.000Z' })).toBe(true);
    const r = await verify(stack, ofd, 'application/ofd');
    expect([r.indication, r.subIndication]).toEqual(['TOTAL_FAILED', 'REVOKED']);
    const check = r.checks.find((c) => c.id === 'signing-certificate-revocation')!;
    expect(check.detail).toContain('制章人证书已吊销');
    expect(check.detail).toContain(maker.sha256);
    expect(check.detail).toContain('2026-12-04T00:00:00.000Z');
    expect(check.detail).toContain('制章系统密钥泄露');
    expect(check.detail).not.toContain(r.signature.signer.certificateSha256);
    expect(r.checks.filter((c) => c.result === 'FAILED').map((c) => c.id)).toEqual(['signing-certificate-revocation']);
  }, 60_000);

  it('fails an OFD whose SM2 root is revoked', async () => {
    const before = await verify(stack, ofd, 'application/ofd');
    const anchor = before.signature.chain.find((c) => c.role === 'anchor')!;
    await stack.deps.store.signingRevocations.revoke({ certificateSha256: anchor.sha256, subject: anchor.subject, reason: '根证书停用', revokedBy: 'PKI-OPS', revokedAt: '2026-12-05T00:00:00.000Z' });
    const r = await verify(stack, ofd, 'application/ofd');
    expect([r.indication, r.subIndication]).toEqual(['TOTAL_FAILED', 'REVOKED']);
    const check = r.checks.find((c) => c.id === 'signing-certificate-revocation')!;
    expect(check.detail).toContain('信任锚（根证书）已吊销');
    expect(check.detail).toContain(anchor.sha256);
    expect(check.detail).toContain('根证书停用');
  }, 60_000);
});
