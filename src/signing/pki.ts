/**
 * Development PKI: a self-made root CA, one seal certificate per department, and the issuing CA of the development
 * e-seal authority (EC P-256, under the root), kept as PEM files in a git-ignored folder and generated on first
 * run. Enterprise and personal seals are NOT files here: the development e-seal authority keeps them in the
 * database (src/signing/eseal/development-authority.ts). Keys are made and used by Node's crypto; forge only builds
 * the RSA certificate structures (and its Chinese names need `valueTagClass: UTF8` with plain JS strings, else it
 * writes corrupt DER).
 */
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import { ensurePrivateDir } from '../private-files.js';
import type { Party } from '../documents/types.js';
import { caName, issueCaCertificate, issueSealCertificate, type IssuingCa } from './seal-certificate.js';
import type { Signer } from './types.js';

/** Subject CN of the development root, marked so nobody mistakes it for a real CA. */
export const DEV_ROOT_CN = '秒批秒办 开发根证书 (仅供开发测试)';

const ROOT_YEARS = 10;
const LEAF_YEARS = 5;
const LOCK_STALE_MS = 60_000;

/** Subject CN of the development e-seal authority's issuing CA. */
export const DEV_ESEAL_CA_CN = '秒批秒办 开发电子印章签发机构 (仅供开发测试)';

export interface DevPki {
  /** Directory holding the PEM files. */
  readonly dir: string;
  /** PEM of the trust anchors (the development root). */
  readonly rootsPem: string;
  /** SHA-256 (hex) of the development root's DER: production refuses any chain that ends here. */
  readonly rootFingerprint: string;
  /** Signer of a department's seal certificate; throws for a department that was not passed to ensureDevPki. */
  departmentSigner(code: string): Signer;
  /** The development e-seal authority's issuing CA (EC P-256, issued by the root). */
  readonly esealCa: IssuingCa;
}

interface Issued {
  key: KeyObject;
  certPem: string;
  der: Uint8Array;
}

type NameAttr = { name?: string; type?: string; value: string; valueTagClass?: forge.asn1.Class };

// @types/node-forge types valueTagClass as asn1.Class, but forge compares it with asn1.Type values.
const UTF8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;

const SAFE_CODE = /^[0-9A-Za-z]{1,64}$/;
function checkCode(code: string): string {
  if (!SAFE_CODE.test(code)) throw new Error(`party code ${JSON.stringify(code)} must be 1-64 letters or digits`);
  return code;
}

function positiveSerialHex(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] as number) & 0x7f) | 0x01; // positive INTEGER, no leading zero byte
  return b.toString('hex');
}

function skiOf(publicKeyPem: string): string {
  const spki = forge.pki.publicKeyFromPem(publicKeyPem);
  return forge.pki.getPublicKeyFingerprint(spki, { md: forge.md.sha1.create(), encoding: 'binary' });
}

interface CertSpec {
  subject: NameAttr[];
  issuer: NameAttr[];
  publicKeyPem: string;
  issuerKey: KeyObject;
  issuerSki: string | null; // null → self-signed
  years: number;
  ca: boolean;
}

// Exported by forge at runtime but missing from @types/node-forge.
const { getTBSCertificate } = forge.pki as unknown as {
  getTBSCertificate: (this: void, c: forge.pki.Certificate) => forge.asn1.Asn1;
};

function makeCert(spec: CertSpec): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(spec.publicKeyPem);
  cert.serialNumber = positiveSerialHex();
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate small clock skew
  cert.validity.notAfter = new Date(now);
  cert.validity.notAfter.setFullYear(now.getFullYear() + spec.years);
  cert.setSubject(spec.subject);
  cert.setIssuer(spec.issuer);
  const ski = skiOf(spec.publicKeyPem);
  cert.setExtensions([
    { name: 'basicConstraints', cA: spec.ca, critical: true },
    spec.ca
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    { name: 'subjectKeyIdentifier', subjectKeyIdentifier: forge.util.bytesToHex(ski) },
    { name: 'authorityKeyIdentifier', keyIdentifier: spec.issuerSki ?? ski },
  ]);
  // Sign the TBS with Node's crypto instead of forge's pure-JS RSA (same result, much faster).
  const oid = forge.pki.oids.sha256WithRSAEncryption as string;
  cert.signatureOid = oid;
  cert.siginfo.algorithmOid = oid;
  const tbs = forge.asn1.toDer(getTBSCertificate(cert)).getBytes();
  cert.signature = cryptoSign('sha256', Buffer.from(tbs, 'binary'), spec.issuerKey).toString('binary');
  return forge.pki.certificateToPem(cert);
}

function newKey(): { key: KeyObject; keyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    key: privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

/** Writes via a temp file + rename so a concurrent reader sees either nothing or the whole file. */
async function writeAtomic(file: string, data: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, data, { mode });
  await fs.chmod(tmp, mode); // the umask may have narrowed it; never widen a key beyond 0600
  await fs.rename(tmp, file);
}

/** True unless the process is gone (a holder killed mid-lock must not block every other start for a minute). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cross-process mutex: `mkdir` is atomic; the holder writes its pid inside. A lock whose holder is dead, or older
 * than LOCK_STALE_MS, is assumed abandoned.
 */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, '.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.mkdir(lock);
      await fs.writeFile(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await fs.stat(lock).catch(() => null);
      const holder = Number(await fs.readFile(path.join(lock, 'pid'), 'utf8').catch(() => ''));
      if ((st && Date.now() - st.mtimeMs > LOCK_STALE_MS) || (holder > 0 && !processAlive(holder))) {
        await fs.rm(lock, { recursive: true, force: true });
        continue;
      }
      if (attempt > 2000) throw new Error(`timed out waiting for the PKI lock ${lock}`);
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}

function pemToDer(pem: string): Uint8Array {
  return new X509Certificate(pem).raw;
}

async function loadIssued(base: string): Promise<Issued | null> {
  const [keyPem, certPem] = await Promise.all([
    fs.readFile(`${base}.key.pem`, 'utf8').catch(() => null),
    fs.readFile(`${base}.cert.pem`, 'utf8').catch(() => null),
  ]);
  if (keyPem === null || certPem === null) return null;
  return { key: createPrivateKey(keyPem), certPem, der: pemToDer(certPem) };
}

async function saveIssued(base: string, keyPem: string, certPem: string): Promise<void> {
  // Key first: a cert file on disk implies its key is complete.
  await writeAtomic(`${base}.key.pem`, keyPem, 0o600);
  await writeAtomic(`${base}.cert.pem`, certPem, 0o644);
}

function signerOf(issued: Issued): Signer {
  // The root stays out of `chain`: verifiers must take it as a trust anchor, not from the file.
  return {
    chain: [issued.der],
    keyType: issued.key.asymmetricKeyType === 'ec' ? 'ec' : 'rsa',
    sign: (data) => Promise.resolve(new Uint8Array(cryptoSign('sha256', data, issued.key))),
  };
}

/** Root's subject as forge attributes with plain JS strings (forge hands back raw UTF-8 bytes when parsing). */
function subjectOf(certPem: string): NameAttr[] {
  const cert = forge.pki.certificateFromPem(certPem);
  return cert.subject.attributes.map((a) => {
    const value = String(a.value);
    return a.valueTagClass === UTF8
      ? { type: a.type as string, value: forge.util.decodeUtf8(value), valueTagClass: UTF8 }
      : { type: a.type as string, value, valueTagClass: a.valueTagClass as forge.asn1.Class };
  });
}

function issuedBy(certPem: string, rootPem: string): boolean {
  try {
    const c = new X509Certificate(certPem);
    return c.checkIssued(new X509Certificate(rootPem)) && c.verify(new X509Certificate(rootPem).publicKey);
  } catch {
    return false;
  }
}

/**
 * Ensures `dir` holds a development root CA and one seal certificate per department (CN = O = name,
 * serialNumber = code), creating whatever is missing; loads the rest. Safe when several processes call it on the
 * same empty directory at once. Private keys are written with mode 0600.
 */
export async function ensureDevPki(dir: string, departments: Party[]): Promise<DevPki> {
  ensurePrivateDir(dir);
  ensurePrivateDir(path.join(dir, 'departments'));
  const rootBase = path.join(dir, 'root');

  const { root, depts, esealCa } = await withLock(dir, async () => {
    let root = await loadIssued(rootBase);
    if (!root) {
      const k = newKey();
      const subject: NameAttr[] = [
        { name: 'countryName', value: 'CN' },
        { name: 'organizationName', value: '秒批秒办 开发环境', valueTagClass: UTF8 },
        { name: 'commonName', value: DEV_ROOT_CN, valueTagClass: UTF8 },
      ];
      const certPem = makeCert({
        subject,
        issuer: subject,
        publicKeyPem: k.publicKeyPem,
        issuerKey: k.key,
        issuerSki: null,
        years: ROOT_YEARS,
        ca: true,
      });
      await saveIssued(rootBase, k.keyPem, certPem);
      root = { key: k.key, certPem, der: pemToDer(certPem) };
    }
    const depts = new Map<string, Issued>();
    for (const d of departments) {
      depts.set(checkCode(d.code), await loadOrIssue(path.join(dir, 'departments', d.code), d, root));
    }
    return { root, depts, esealCa: await loadOrIssueEsealCa(path.join(dir, 'eseal-ca'), root) };
  });

  async function loadOrIssue(base: string, party: Party, r: Issued): Promise<Issued> {
    const have = await loadIssued(base);
    // A certificate from an earlier root (root files deleted and regenerated) would no longer chain: reissue.
    if (have && issuedBy(have.certPem, r.certPem)) return have;
    // EC P-256 department keys: a signature costs ~0.1 ms where RSA-2048 cost ~0.4 ms on every certificate issued.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Date.now();
    const notAfter = new Date(now);
    notAfter.setFullYear(notAfter.getFullYear() + LEAF_YEARS);
    const der = issueSealCertificate(
      { key: r.key, certificate: r.der },
      { holder: party, publicKey: publicKey.export({ type: 'spki', format: 'der' }), notBefore: new Date(now - 5 * 60_000), notAfter },
    ).der;
    const certPem = new X509Certificate(der).toString();
    await saveIssued(base, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certPem);
    return { key: privateKey, certPem, der: pemToDer(certPem) };
  }

  const deptSigners = new Map<string, Signer>();
  for (const [code, issued] of depts) deptSigners.set(code, signerOf(issued));

  return {
    dir,
    rootsPem: root.certPem,
    rootFingerprint: certFingerprint(root.der),
    esealCa,
    departmentSigner(code) {
      const s = deptSigners.get(code);
      if (!s) {
        throw new Error(
          `no development seal certificate for department ${JSON.stringify(code)}; known: ${[...deptSigners.keys()].join(', ') || '(none)'}`,
        );
      }
      return s;
    },
  };
}

/**
 * The development e-seal authority's issuing CA: an EC P-256 key (seal certificates are then signed in
 * microseconds) with a CA certificate from the development root. Reissued when the root changed.
 */
async function loadOrIssueEsealCa(base: string, root: Issued): Promise<IssuingCa> {
  const have = await loadIssued(base);
  if (have && issuedBy(have.certPem, root.certPem)) return { key: have.key, certificate: have.der };
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const notAfter = new Date(now);
  notAfter.setFullYear(notAfter.getFullYear() + LEAF_YEARS);
  const der = issueCaCertificate(
    { key: root.key, certificate: root.der },
    {
      subject: caName('秒批秒办 开发环境', DEV_ESEAL_CA_CN),
      publicKey: publicKey.export({ type: 'spki', format: 'der' }),
      notBefore: new Date(now - 5 * 60_000),
      notAfter,
    },
  );
  const certPem = new X509Certificate(der).toString();
  await saveIssued(base, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certPem);
  return { key: privateKey, certificate: new Uint8Array(der) };
}

/** SHA-256 fingerprint (hex) of a DER certificate, for logs and registers. */
export function certFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * 都市圈通办 (issue 16): the development node certificate of `cityCode` (RSA-2048, subject serialNumber = the city
 * code), issued by the development root in `dir` on first use and kept beside it. Peers pin this node's
 * `/v1/trust`, so a request signed with this key authenticates the node with no shared secret. Production mounts a
 * node key and certificate instead (FEDERATION_NODE_KEY / FEDERATION_NODE_CERT).
 */
export async function ensureDevNodeIdentity(dir: string, cityCode: string): Promise<{ keyPem: string; certPem: string }> {
  if (!/^\d{6}$/.test(cityCode)) throw new Error(`city code ${JSON.stringify(cityCode)} must be 6 digits`);
  ensurePrivateDir(path.join(dir, 'nodes'));
  const base = path.join(dir, 'nodes', cityCode);
  return withLock(dir, async () => {
    const root = await loadIssued(path.join(dir, 'root'));
    if (!root) throw new Error(`no development root in ${dir}: ensureDevPki(dir, …) makes it first`);
    const have = await loadIssued(base);
    if (have && issuedBy(have.certPem, root.certPem)) return { keyPem: await fs.readFile(`${base}.key.pem`, 'utf8'), certPem: have.certPem };
    const k = newKey();
    const certPem = makeCert({
      subject: [
        { name: 'countryName', value: 'CN' },
        { name: 'organizationName', value: `秒批秒办 都市圈通办节点 ${cityCode}`, valueTagClass: UTF8 },
        { name: 'commonName', value: `秒批秒办节点 ${cityCode}`, valueTagClass: UTF8 },
        { name: 'serialNumber', value: cityCode },
      ],
      issuer: subjectOf(root.certPem),
      publicKeyPem: k.publicKeyPem,
      issuerKey: root.key,
      issuerSki: skiOf(new X509Certificate(root.certPem).publicKey.export({ type: 'spki', format: 'pem' }) as string),
      years: LEAF_YEARS,
      ca: false,
    });
    await saveIssued(base, k.keyPem, certPem);
    return { keyPem: k.keyPem, certPem };
  });
}
