/**
 * The `pkcs11` backend of department seal keys (DESIGN.md §9): the keys stay in an HSM and sign through PKCS#11
 * (pkcs11js). SoftHSM2 is the stand-in in tests and CI. Per department: a private key object labelled with the
 * department code (or the label mapped in SEAL_PKCS11_LABELS), and a certificate object with the same label; other
 * certificate objects on the token complete the chain (a self-signed one at its top is the trust anchor).
 *
 * Mechanisms: RSA keys sign with CKM_SHA256_RSA_PKCS; EC keys with CKM_ECDSA over a SHA-256 computed here (SoftHSM2
 * offers only the raw mechanism), and the raw r‖s answer is re-encoded as the DER SEQUENCE that CMS expects.
 * Calls are synchronous and a session serves one operation at a time, which is what a single-threaded event loop
 * gives it.
 */
import { X509Certificate, createHash, verify as cryptoVerify } from 'node:crypto';
import { createRequire } from 'node:module';
import { uint, seq } from './der-writer.js';
import { SealKeyError, loadChain } from './file-signer.js';
import type { Signer } from './types.js';

type Pkcs11Module = typeof import('pkcs11js');
type Handle = Buffer;

export interface Pkcs11Options {
  module: string;
  token: string;
  pin: string;
  /** Department code → key label (default: the code itself). */
  labels: Record<string, string>;
  /** Refuse keys whose CKA_EXTRACTABLE is true or CKA_SENSITIVE false (production). */
  requireNonExtractable: boolean;
}

export interface Pkcs11Signers {
  signers: Map<string, Signer>;
  /** Self-signed certificates found on the token at the top of the departments' chains. */
  anchors: X509Certificate[];
  leaves: Map<string, X509Certificate>;
  close(): void;
}

const require = createRequire(import.meta.url);

/** r‖s (two equal halves) → DER ECDSA-Sig-Value. */
function rawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return new Uint8Array(seq(uint(raw.subarray(0, half)), uint(raw.subarray(half))));
}

export function openPkcs11Signers(o: Pkcs11Options, codes: readonly string[]): Pkcs11Signers {
  let pk: Pkcs11Module;
  try {
    pk = require('pkcs11js') as Pkcs11Module;
  } catch (err) {
    throw new SealKeyError(`SEAL_BACKEND=pkcs11 needs the pkcs11js addon: ${(err as Error).message}`);
  }
  const p = new pk.PKCS11();
  try {
    p.load(o.module);
  } catch (err) {
    throw new SealKeyError(`SEAL_PKCS11_MODULE ${o.module} does not load: ${(err as Error).message}`);
  }
  p.C_Initialize();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      p.C_Finalize();
    } catch {
      // already finalized
    }
  };
  try {
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === o.token);
    if (!slot) throw new SealKeyError(`SEAL_PKCS11_TOKEN: no token labelled "${o.token}" in ${o.module}`);
    const session = p.C_OpenSession(slot, pk.CKF_SERIAL_SESSION);
    try {
      p.C_Login(session, pk.CKU_USER, o.pin);
    } catch (err) {
      throw new SealKeyError(`SEAL_PKCS11_PIN: login to token "${o.token}" failed (${(err as Error).message})`);
    }

    const find = (template: Array<{ type: number; value?: number | boolean | string | Buffer }>): Handle[] => {
      p.C_FindObjectsInit(session, template);
      const out: Handle[] = [];
      for (let h = p.C_FindObjects(session); h; h = p.C_FindObjects(session)) out.push(h);
      p.C_FindObjectsFinal(session);
      return out;
    };
    const pem = (der: Buffer): string => new X509Certificate(der).toString();
    const allCerts = find([{ type: pk.CKA_CLASS, value: pk.CKO_CERTIFICATE }]).map(
      (h) => p.C_GetAttributeValue(session, h, [{ type: pk.CKA_VALUE }, { type: pk.CKA_LABEL }]) as Array<{ value: Buffer }>,
    );
    const others = allCerts.map((a) => new X509Certificate(a[0]!.value));

    const signers = new Map<string, Signer>();
    const leaves = new Map<string, X509Certificate>();
    const anchors = new Map<string, X509Certificate>();
    const problems: string[] = [];
    for (const code of codes) {
      const label = o.labels[code] ?? code;
      const keys = find([{ type: pk.CKA_CLASS, value: pk.CKO_PRIVATE_KEY }, { type: pk.CKA_LABEL, value: label }]);
      if (keys.length !== 1) {
        problems.push(`department ${code}: ${keys.length === 0 ? 'no' : `${keys.length}`} private key labelled "${label}" on token "${o.token}"`);
        continue;
      }
      const key = keys[0] as Handle;
      const attrs = p.C_GetAttributeValue(session, key, [{ type: pk.CKA_KEY_TYPE }, { type: pk.CKA_EXTRACTABLE }, { type: pk.CKA_SENSITIVE }]) as Array<{ value: Buffer }>;
      const keyType = Number(attrs[0]!.value.length >= 8 ? attrs[0]!.value.readBigUInt64LE(0) : BigInt(attrs[0]!.value.readUIntLE(0, attrs[0]!.value.length)));
      const extractable = attrs[1]!.value[0] === 1;
      const sensitive = attrs[2]!.value[0] === 1;
      if (o.requireNonExtractable && (extractable || !sensitive)) {
        problems.push(`department ${code}: key "${label}" is ${extractable ? 'extractable' : 'not sensitive'}; production needs CKA_EXTRACTABLE=false and CKA_SENSITIVE=true`);
        continue;
      }
      const certObjs = find([{ type: pk.CKA_CLASS, value: pk.CKO_CERTIFICATE }, { type: pk.CKA_LABEL, value: label }]);
      if (certObjs.length !== 1) {
        problems.push(`department ${code}: ${certObjs.length === 0 ? 'no' : `${certObjs.length}`} certificate labelled "${label}" on token "${o.token}"`);
        continue;
      }
      const leafDer = (p.C_GetAttributeValue(session, certObjs[0] as Handle, [{ type: pk.CKA_VALUE }]) as Array<{ value: Buffer }>)[0]!.value;
      // Chain: walk issuers among the token's certificates.
      const bundle: X509Certificate[] = [new X509Certificate(leafDer)];
      for (let i = 0; i < 8; i++) {
        const cur = bundle[bundle.length - 1] as X509Certificate;
        if (cur.checkIssued(cur)) break;
        const parent = others.find((c) => cur.checkIssued(c) && cur.verify(c.publicKey) && c.fingerprint256 !== cur.fingerprint256);
        if (!parent) break;
        bundle.push(parent);
      }
      let loaded;
      try {
        loaded = loadChain(bundle.map((c) => pem(c.raw)).join(''), `token "${o.token}" label "${label}"`);
      } catch (err) {
        problems.push((err as Error).message);
        continue;
      }
      let sign: (data: Uint8Array) => Uint8Array;
      let kt: Signer['keyType'];
      if (keyType === pk.CKK_RSA) {
        kt = 'rsa';
        sign = (data) => {
          p.C_SignInit(session, { mechanism: pk.CKM_SHA256_RSA_PKCS }, key);
          return new Uint8Array(p.C_Sign(session, Buffer.from(data), Buffer.alloc(1024)));
        };
      } else if (keyType === pk.CKK_EC) {
        kt = 'ec';
        sign = (data) => {
          p.C_SignInit(session, { mechanism: pk.CKM_ECDSA }, key);
          const raw = p.C_Sign(session, createHash('sha256').update(data).digest(), Buffer.alloc(256));
          return rawToDer(raw);
        };
      } else {
        problems.push(`department ${code}: key "${label}" is neither RSA nor EC (CKA_KEY_TYPE ${keyType})`);
        continue;
      }
      // One signature at start-up proves key, certificate and mechanism belong together.
      const probe = Buffer.from('seal key check');
      if (!loaded.leaf.publicKey || !verifyWith(loaded.leaf, probe, sign(probe))) {
        problems.push(`department ${code}: key "${label}" does not match its certificate`);
        continue;
      }
      signers.set(code, { chain: loaded.chain, keyType: kt, sign: (data) => Promise.resolve(sign(data)) });
      leaves.set(code, loaded.leaf);
      if (loaded.anchor) anchors.set(loaded.anchor.fingerprint256, loaded.anchor);
    }
    if (problems.length > 0) throw new SealKeyError(problems.join('\n'));
    return { signers, anchors: [...anchors.values()], leaves, close };
  } catch (err) {
    close();
    throw err;
  }
}

function verifyWith(cert: X509Certificate, data: Buffer, sig: Uint8Array): boolean {
  try {
    return cryptoVerify('sha256', data, cert.publicKey, sig);
  } catch {
    return false;
  }
}
