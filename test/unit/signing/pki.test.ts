import { X509Certificate } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ROOT_CN, ensureDevPki } from '../../../src/signing/pki.js';
import { repoRoot, run, tempDir, writeTemp } from '../../support/pdf-tools.js';
import { DEPT, HOLDER, OTHER_DEPT } from '../documents/sample.js';
import { applicantSealSigner } from '../../support/seals.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('pki-');
});
afterAll(() => tmp?.cleanup());

function keyFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...keyFiles(p));
    else if (e.name.endsWith('.key.pem')) out.push(p);
  }
  return out;
}

/** `openssl x509 -subject -nameopt utf8` output, normalised to `KEY=value` pairs (spacing varies by version). */
async function subjectUtf8(certPem: string): Promise<string> {
  const r = await run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'utf8', '-in', writeTemp(tmp.dir, 'c.pem', certPem)]);
  expect(r.code).toBe(0);
  return r.stdout.replace(/ = /g, '=');
}

describe('ensureDevPki', () => {
  it('gives two concurrent callers on an empty directory the same root and department certificate', async () => {
    const dir = path.join(tmp.dir, 'concurrent');
    const [a, b] = await Promise.all([ensureDevPki(dir, [DEPT]), ensureDevPki(dir, [DEPT])]);
    expect(a.rootsPem).toBe(b.rootsPem);
    expect(a.departmentSigner(DEPT.code).chain[0]).toEqual(b.departmentSigner(DEPT.code).chain[0]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f === '.lock')).toEqual([]);
  });

  it('gives two concurrent processes on an empty directory one consistent root', async () => {
    const dir = path.join(tmp.dir, 'two-processes');
    const script = writeTemp(
      tmp.dir,
      'ensure.mts',
      `import { ensureDevPki } from ${JSON.stringify(path.join(repoRoot, 'src/signing/pki.ts'))};
const pki = await ensureDevPki(${JSON.stringify(dir)}, [${JSON.stringify(DEPT)}]);
process.stdout.write(pki.rootsPem);`,
    );
    const runs = await Promise.all([0, 1].map(() => run(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot })));
    for (const r of runs) expect(r.stderr).toBe('');
    expect(runs[0]?.stdout).toContain('BEGIN CERTIFICATE');
    expect(runs[0]?.stdout).toBe(runs[1]?.stdout);
    const again = await ensureDevPki(dir, [DEPT]);
    expect(again.rootsPem).toBe(runs[0]?.stdout);
  });

  it('writes every private key with mode 0600', async () => {
    const dir = path.join(tmp.dir, 'modes');
    await ensureDevPki(dir, [DEPT]);
    const keys = keyFiles(dir);
    expect(keys).toHaveLength(3); // root, department, e-seal CA
    for (const k of keys) expect(statSync(k).mode & 0o777).toBe(0o600);
  });

  it('issues seal certificates whose Chinese CN, O and serialNumber decode in openssl, chained to the root', async () => {
    const pki = await ensureDevPki(path.join(tmp.dir, 'names'), [DEPT]);
    const der = pki.departmentSigner(DEPT.code).chain[0] as Uint8Array;
    const cert = new X509Certificate(der);
    const subject = await subjectUtf8(cert.toString());
    expect(subject).toContain(`CN=${DEPT.name}`);
    expect(subject).toContain(`O=${DEPT.name}`);
    expect(subject).toContain(`serialNumber=${DEPT.code}`);
    expect(await subjectUtf8(pki.rootsPem)).toContain(`CN=${DEV_ROOT_CN}`);
    const root = new X509Certificate(pki.rootsPem);
    expect(cert.checkIssued(root)).toBe(true);
    expect(cert.verify(root.publicKey)).toBe(true);
    const text = await run('openssl', ['x509', '-noout', '-text', '-in', writeTemp(tmp.dir, 'd.pem', cert.toString())]);
    expect(text.stdout).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text.stdout).toMatch(/Authority Key Identifier/);
  });

  it('loads what is on disk and adds only a missing department on a later run', async () => {
    const dir = path.join(tmp.dir, 'reload');
    const first = await ensureDevPki(dir, [DEPT]);
    const second = await ensureDevPki(dir, [DEPT, OTHER_DEPT]);
    expect(second.rootsPem).toBe(first.rootsPem);
    expect(second.departmentSigner(DEPT.code).chain[0]).toEqual(first.departmentSigner(DEPT.code).chain[0]);
    const added = new X509Certificate(second.departmentSigner(OTHER_DEPT.code).chain[0] as Uint8Array);
    expect(added.checkIssued(new X509Certificate(second.rootsPem))).toBe(true);
  });

  it('throws a clear error for a department it was not given', async () => {
    const pki = await ensureDevPki(path.join(tmp.dir, 'unknown'), [DEPT]);
    expect(() => pki.departmentSigner('000000000000000000')).toThrow(/no development seal certificate.*000000000000000000/);
  });

  it('keeps no file per enterprise: only the root, the departments and the e-seal CA are on disk', async () => {
    const dir = path.join(tmp.dir, 'enterprise');
    const pki = await ensureDevPki(dir, [DEPT]);
    await applicantSealSigner(pki, HOLDER);
    expect(readdirSync(dir).filter((f) => !f.startsWith('.')).sort()).toEqual(['departments', 'eseal-ca.cert.pem', 'eseal-ca.key.pem', 'root.cert.pem', 'root.key.pem']);
    expect(readdirSync(path.join(dir, 'departments')).sort()).toEqual([`${DEPT.code}.cert.pem`, `${DEPT.code}.key.pem`]);
  });

  it('issues an EC e-seal CA under the root that openssl accepts as a CA for seal certificates', async () => {
    const pki = await ensureDevPki(path.join(tmp.dir, 'eseal-ca'), [DEPT]);
    const ca = new X509Certificate(Buffer.from(pki.esealCa.certificate));
    const root = new X509Certificate(pki.rootsPem);
    expect(ca.checkIssued(root) && ca.verify(root.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const signer = await applicantSealSigner(pki, HOLDER);
    const leaf = writeTemp(tmp.dir, 'leaf.pem', new X509Certificate(Buffer.from(signer.chain[0] as Uint8Array)).toString());
    const chain = writeTemp(tmp.dir, 'ca.pem', ca.toString());
    const rootFile = writeTemp(tmp.dir, 'root.pem', pki.rootsPem);
    const v = await run('openssl', ['verify', '-CAfile', rootFile, '-untrusted', chain, leaf]);
    expect(v.stdout).toContain(': OK');
    const subject = await subjectUtf8(new X509Certificate(Buffer.from(signer.chain[0] as Uint8Array)).toString());
    expect(subject).toContain(`CN=${HOLDER.name}`);
    expect(subject).toContain(`serialNumber=${HOLDER.code}`);
  });

  it('signs with the certificate key: a signature verifies under the certificate public key', async () => {
    const pki = await ensureDevPki(path.join(tmp.dir, 'names'), [DEPT]);
    const signer = pki.departmentSigner(DEPT.code);
    const data = new TextEncoder().encode('待签数据');
    const sig = await signer.sign(data);
    const { verify } = await import('node:crypto');
    const pub = new X509Certificate(signer.chain[0] as Uint8Array).publicKey;
    expect(verify('sha256', data, pub, sig)).toBe(true);
  });
});
