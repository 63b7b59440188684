/**
 * Provisions department seal keys in a PKCS#11 token (`npm run hsm -- provision`, and the tests' SoftHSM2 tokens):
 * per department an EC P-256 key pair generated INSIDE the token (CKA_SENSITIVE, not extractable), a seal
 * certificate for its public key issued by the given CA, and that certificate (plus the CA chain) stored on the
 * token under the department code as label — exactly what the `pkcs11` backend (./pkcs11-signer.ts) looks for.
 * An operator with a real CA would instead have the token make a CSR; this is for trials and tests.
 */
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { bits, oid, seq } from './der-writer.js';
import { SealKeyError } from './file-signer.js';
import { issueSealCertificate, subjectOf, type IssuingCa } from './seal-certificate.js';

type Pkcs11Module = typeof import('pkcs11js');
const require = createRequire(import.meta.url);
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

export interface ProvisionOptions {
  module: string;
  token: string;
  pin: string;
  departments: ReadonlyArray<{ code: string; name: string }>;
  ca: IssuingCa;
  /** Further CA certificates (PEM) to store so the token holds the whole chain up to the root. */
  chainPem?: string;
  years?: number;
  /** Make keys extractable and not sensitive (only to test that production refuses them). */
  extractable?: boolean;
}

/** Returns the issued seal certificates by department code. Existing keys with the same label are left alone. */
export function provisionToken(o: ProvisionOptions): Map<string, X509Certificate> {
  const pk = require('pkcs11js') as Pkcs11Module;
  const p = new pk.PKCS11();
  p.load(o.module);
  p.C_Initialize();
  try {
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === o.token);
    if (!slot) throw new SealKeyError(`no token labelled "${o.token}"`);
    const session = p.C_OpenSession(slot, pk.CKF_SERIAL_SESSION | pk.CKF_RW_SESSION);
    p.C_Login(session, pk.CKU_USER, o.pin);
    const count = (template: Array<{ type: number; value?: number | boolean | string | Buffer }>): number => {
      p.C_FindObjectsInit(session, template);
      let n = 0;
      while (p.C_FindObjects(session)) n++;
      p.C_FindObjectsFinal(session);
      return n;
    };
    const storeCert = (label: string, cert: X509Certificate): void => {
      if (count([{ type: pk.CKA_CLASS, value: pk.CKO_CERTIFICATE }, { type: pk.CKA_LABEL, value: label }]) > 0) return;
      p.C_CreateObject(session, [
        { type: pk.CKA_CLASS, value: pk.CKO_CERTIFICATE },
        { type: pk.CKA_CERTIFICATE_TYPE, value: pk.CKC_X_509 },
        { type: pk.CKA_TOKEN, value: true },
        { type: pk.CKA_LABEL, value: label },
        { type: pk.CKA_SUBJECT, value: subjectOf(cert.raw) },
        { type: pk.CKA_VALUE, value: cert.raw },
      ]);
    };
    const caCerts = [new X509Certificate(Buffer.from(o.ca.certificate)), ...pemList(o.chainPem ?? '')];
    caCerts.forEach((c, i) => storeCert(`ca-${i}-${c.fingerprint256.replace(/:/g, '').slice(0, 16)}`, c));

    const issued = new Map<string, X509Certificate>();
    for (const d of o.departments) {
      if (count([{ type: pk.CKA_CLASS, value: pk.CKO_PRIVATE_KEY }, { type: pk.CKA_LABEL, value: d.code }]) > 0) continue;
      const kp = p.C_GenerateKeyPair(
        session,
        { mechanism: pk.CKM_EC_KEY_PAIR_GEN },
        [
          { type: pk.CKA_TOKEN, value: true },
          { type: pk.CKA_LABEL, value: d.code },
          { type: pk.CKA_EC_PARAMS, value: P256_PARAMS },
          { type: pk.CKA_VERIFY, value: true },
        ],
        [
          { type: pk.CKA_TOKEN, value: true },
          { type: pk.CKA_LABEL, value: d.code },
          { type: pk.CKA_SIGN, value: true },
          { type: pk.CKA_PRIVATE, value: true },
          { type: pk.CKA_SENSITIVE, value: !o.extractable },
          { type: pk.CKA_EXTRACTABLE, value: o.extractable === true },
        ],
      );
      const point = (p.C_GetAttributeValue(session, kp.publicKey, [{ type: pk.CKA_EC_POINT }]) as Array<{ value: Buffer }>)[0]!.value;
      // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point.
      const raw = point[0] === 0x04 && point[1] === point.length - 2 ? point.subarray(2) : point;
      const spki = seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), bits(raw));
      const now = new Date();
      const notAfter = new Date(now);
      notAfter.setUTCFullYear(now.getUTCFullYear() + (o.years ?? 3));
      const der = issueSealCertificate(o.ca, { holder: d, publicKey: spki, notBefore: new Date(now.getTime() - 300_000), notAfter }).der;
      const cert = new X509Certificate(der);
      storeCert(d.code, cert);
      issued.set(d.code, cert);
    }
    p.C_Logout(session);
    p.C_CloseSession(session);
    return issued;
  } finally {
    p.C_Finalize();
  }
}

function pemList(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
}
