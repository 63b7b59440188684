/**
 * Development 国密 PKI, generated on first run into `CERTS_DIR/gm` (git-ignored): an SM2 root CA, the seal maker
 * (制章人) whose key signs every SESeal, and per department (and per enterprise on first use) an SM2 seal
 * certificate with its GB/T 38540 seal (SESeal, `.esl`) carrying the red seal picture. SM2 keys cost microseconds,
 * so nothing here is slow; each party's files are one JSON document created with `link()` so that processes
 * starting at once on an empty folder agree on one winner without a lock.
 */
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Party } from '../../documents/types.js';
import { ensurePrivateDir } from '../../private-files.js';
import { makeSeal, SEAL_TYPE_ORGANISATION, type SealPicture } from './ses.js';
import { makeSm2Certificate } from './sm2-certificate.js';
import { sm2Signer, type Sm2Signer } from './sm2-signer.js';
import { generateSm2KeyPair, pem, pemBody, sm2KeyFromPem, sm2PrivateKeyPem, type Sm2KeyPair } from './sm2.js';

export const GM_DEV_ROOT_NAME = '秒批秒办 国密开发根证书 (仅供开发测试)';
export const GM_DEV_SEAL_MAKER_NAME = '秒批秒办 电子印章制作 (仅供开发测试)';
/** 厂商标识 written into every SES_Header made here. */
export const SEAL_VENDOR_ID = 'MIAOPI-DEV';

const ROOT_YEARS = 10;
const LEAF_YEARS = 5;
const SEAL_YEARS = 3;

/** An SM2 seal: the key that signs (签章人) and the GB/T 38540 seal it signs under. */
export interface GmSeal {
  readonly party: Party;
  readonly signer: Sm2Signer;
  /** DER SESeal (the `.esl` file). */
  readonly seal: Uint8Array;
}

export interface GmPki {
  readonly dir: string;
  /** PEM of the SM2 trust anchors (the development SM2 root). */
  readonly rootsPem: string;
  departmentSeal(code: string): GmSeal;
  /** An enterprise's SM2 seal, made on first use (off any hot path: SM2 keys are cheap). */
  enterpriseSeal(party: Party): Promise<GmSeal>;
}

export interface GmPkiOptions {
  /** Draws the seal picture (PNG) for a party's name; a 40 mm round seal. */
  sealPicture(name: string): Uint8Array;
  now?: () => Date;
}

interface Issued {
  keyPem: string;
  certPem: string;
}
interface AuthorityFile {
  root: Issued;
  maker: Issued;
}
interface SealFile extends Issued {
  /** base64 DER SESeal. */
  seal: string;
  /** sha256 of the root the certificate chains to: a regenerated root invalidates the file. */
  root: string;
  name: string;
}

const SAFE_CODE = /^[0-9A-Za-z]{1,64}$/;

function years(from: Date, n: number): Date {
  const d = new Date(from);
  d.setUTCFullYear(d.getUTCFullYear() + n);
  return d;
}

const certPem = (der: Uint8Array) => pem('CERTIFICATE', der);
const certDer = (text: string) => pemBody(text, 'CERTIFICATE');

/** Reads `file`, or creates it with `make()` so that exactly one concurrent creator wins (link fails on EEXIST). */
async function createOnce(file: string, make: () => string, stale: (text: string) => boolean = () => false): Promise<string> {
  const have = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (have !== null && !stale(have)) return have;
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, make(), { mode: 0o600 });
  try {
    if (have === null) {
      await fs.link(tmp, file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    } else {
      await fs.rename(tmp, file); // replace a stale file (made under an earlier root)
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
  return fs.readFile(file, 'utf8');
}

/**
 * Ensures `dir` holds the SM2 root, the seal maker and one seal per department, creating what is missing.
 * Private keys are written with mode 0600.
 */
export async function ensureGmPki(dir: string, departments: Party[], opts: GmPkiOptions): Promise<GmPki> {
  const now = opts.now ?? (() => new Date());
  ensurePrivateDir(dir);
  ensurePrivateDir(path.join(dir, 'departments'));
  ensurePrivateDir(path.join(dir, 'enterprises'));

  const authority = JSON.parse(
    await createOnce(path.join(dir, 'authority.json'), () => {
      const at = new Date(now().getTime() - 5 * 60_000); // tolerate small clock skew
      const rootKey = generateSm2KeyPair();
      const root = makeSm2Certificate({ subject: { name: GM_DEV_ROOT_NAME }, issuer: { name: GM_DEV_ROOT_NAME }, subjectPublicKeyHex: rootKey.publicKeyHex, issuerKey: rootKey, notBefore: at, notAfter: years(at, ROOT_YEARS), ca: true });
      const makerKey = generateSm2KeyPair();
      const maker = makeSm2Certificate({ subject: { name: GM_DEV_SEAL_MAKER_NAME }, issuer: { name: GM_DEV_ROOT_NAME }, subjectPublicKeyHex: makerKey.publicKeyHex, issuerKey: rootKey, notBefore: at, notAfter: years(at, LEAF_YEARS), ca: false });
      const file: AuthorityFile = {
        root: { keyPem: sm2PrivateKeyPem(rootKey), certPem: certPem(root) },
        maker: { keyPem: sm2PrivateKeyPem(makerKey), certPem: certPem(maker) },
      };
      return JSON.stringify(file, null, 2);
    }),
  ) as AuthorityFile;
  const rootKey = sm2KeyFromPem(authority.root.keyPem);
  const rootSha = createHash('sha256').update(certDer(authority.root.certPem)).digest('hex');
  const maker = { certificate: certDer(authority.maker.certPem), key: sm2KeyFromPem(authority.maker.keyPem) };

  function issueSeal(party: Party): string {
    const at = new Date(now().getTime() - 5 * 60_000);
    const key: Sm2KeyPair = generateSm2KeyPair();
    const cert = makeSm2Certificate({ subject: { name: party.name, code: party.code }, issuer: { name: GM_DEV_ROOT_NAME }, subjectPublicKeyHex: key.publicKeyHex, issuerKey: rootKey, notBefore: at, notAfter: years(at, LEAF_YEARS), ca: false });
    const picture: SealPicture = { type: 'PNG', data: opts.sealPicture(party.name), widthMm: 40, heightMm: 40 };
    const seal = makeSeal(
      {
        vid: SEAL_VENDOR_ID,
        esId: `${party.code}${at.toISOString().slice(0, 10).replace(/-/g, '')}${randomBytes(4).toString('hex')}`,
        type: SEAL_TYPE_ORGANISATION,
        name: party.name,
        signerCertificates: [cert],
        createDate: at,
        validStart: at,
        validEnd: years(at, SEAL_YEARS),
        picture,
      },
      maker,
    );
    const file: SealFile = { keyPem: sm2PrivateKeyPem(key), certPem: certPem(cert), seal: seal.toString('base64'), root: rootSha, name: party.name };
    return JSON.stringify(file, null, 2);
  }

  function loadSeal(text: string, party: Party): GmSeal {
    const f = JSON.parse(text) as SealFile;
    const cert = certDer(f.certPem);
    void new X509Certificate(cert); // a damaged file fails here, at start-up
    return { party, signer: sm2Signer(sm2KeyFromPem(f.keyPem), [cert]), seal: Buffer.from(f.seal, 'base64') };
  }

  const stale = (name: string) => (text: string) => {
    const f = JSON.parse(text) as Partial<SealFile>;
    return f.root !== rootSha || f.name !== name;
  };

  async function ensure(folder: string, party: Party): Promise<GmSeal> {
    if (!SAFE_CODE.test(party.code)) throw new Error(`party code ${JSON.stringify(party.code)} must be 1-64 letters or digits`);
    const text = await createOnce(path.join(dir, folder, `${party.code}.json`), () => issueSeal(party), stale(party.name));
    return loadSeal(text, party);
  }

  const depts = new Map<string, GmSeal>();
  for (const d of departments) depts.set(d.code, await ensure('departments', d));
  const enterprises = new Map<string, Promise<GmSeal>>();

  return {
    dir,
    rootsPem: authority.root.certPem,
    departmentSeal(code) {
      const s = depts.get(code);
      if (!s) throw new Error(`no development SM2 seal for department ${JSON.stringify(code)}; known: ${[...depts.keys()].join(', ') || '(none)'}`);
      return s;
    },
    enterpriseSeal(party) {
      let p = enterprises.get(party.code);
      if (!p) {
        p = ensure('enterprises', party);
        enterprises.set(party.code, p);
        p.catch(() => enterprises.delete(party.code));
      }
      return p;
    },
  };
}
