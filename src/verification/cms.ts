/**
 * Reading and checking CMS SignedData (RFC 5652) and X.509 certificates from untrusted bytes: the PDF signature and
 * the RFC 3161 timestamp token inside it. Parsing uses the strict DER reader in ./der.ts; hashing and signature
 * checks use Node's crypto. Nothing here trusts anything: chains are built in ./verify-pdf.ts.
 */
import { X509Certificate, createHash, verify as cryptoVerify } from 'node:crypto';
import {
  CONTEXT,
  DerError,
  TAG,
  UNIVERSAL,
  bytesEqual,
  children,
  expectTlv,
  isTlv,
  oidOf,
  rawOf,
  readTlv,
  stringOf,
  timeOf,
  valueOf,
  type Tlv,
} from './der.js';

export const OIDS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  timeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

const HASHES: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithm OID → hash it fixes (null: the hash comes from the SignerInfo's digestAlgorithm). */
const SIG_ALGS: Record<string, { key: 'rsa' | 'ec'; hash: 'sha256' | 'sha384' | 'sha512' | null }> = {
  '1.2.840.113549.1.1.1': { key: 'rsa', hash: null },
  '1.2.840.113549.1.1.11': { key: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', hash: 'sha512' },
  '1.2.840.10045.2.1': { key: 'ec', hash: null },
  '1.2.840.10045.4.3.2': { key: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { key: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { key: 'ec', hash: 'sha512' },
};

/** Hash name for a digest-algorithm OID we accept (SHA-2 only), or null. */
export function hashOf(oid: string): 'sha256' | 'sha384' | 'sha512' | null {
  return HASHES[oid] ?? null;
}

const NAME_KEYS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

export type DistinguishedName = Record<string, string>;

function nameOf(buf: Uint8Array, t: Tlv): DistinguishedName {
  const out: DistinguishedName = {};
  for (const rdn of children(buf, expectTlv(t, UNIVERSAL, TAG.SEQUENCE, 'Name'), 64)) {
    for (const atv of children(buf, expectTlv(rdn, UNIVERSAL, TAG.SET, 'RDN'), 16)) {
      const [type, value] = children(buf, expectTlv(atv, UNIVERSAL, TAG.SEQUENCE, 'AttributeTypeAndValue'), 2);
      if (!type || !value) throw new DerError('incomplete name attribute');
      const oid = oidOf(buf, type);
      const key = NAME_KEYS[oid] ?? oid;
      const v = stringOf(buf, value);
      out[key] = out[key] === undefined ? v : `${out[key]}, ${v}`;
    }
  }
  return out;
}

/** `C=CN, O=…, CN=…` for display. */
export function formatName(n: DistinguishedName): string {
  return Object.entries(n)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export interface ParsedCertificate {
  der: Buffer;
  x509: X509Certificate;
  sha256: string;
  serial: Buffer;
  issuerDer: Buffer;
  subjectDer: Buffer;
  issuer: DistinguishedName;
  subject: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  /** null when the extension is absent. */
  keyUsage: { digitalSignature: boolean; nonRepudiation: boolean; keyCertSign: boolean } | null;
  /** cA of basicConstraints; null when absent. */
  isCa: boolean | null;
  extKeyUsage: string[];
}

// The same few signer certificates come back in every document: parse each once (bounded cache).
const certCache = new Map<string, ParsedCertificate>();
const CERT_CACHE_MAX = 256;

/** Parses one X.509 certificate (DER). Throws DerError (or OpenSSL's error) on anything malformed. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const key = createHash('sha256').update(der).digest('hex');
  const hit = certCache.get(key);
  if (hit) return hit;
  const parsed = parseCertificateUncached(der, key);
  if (certCache.size >= CERT_CACHE_MAX) certCache.delete(certCache.keys().next().value as string);
  certCache.set(key, parsed);
  return parsed;
}

function parseCertificateUncached(der: Uint8Array, sha256: string): ParsedCertificate {
  const buf = Buffer.from(der);
  const cert = readTlv(buf, 0);
  if (cert.end !== buf.length) throw new DerError('trailing bytes after the certificate');
  const [tbs] = children(buf, expectTlv(cert, UNIVERSAL, TAG.SEQUENCE, 'Certificate'), 3);
  const f = children(buf, expectTlv(tbs, UNIVERSAL, TAG.SEQUENCE, 'TBSCertificate'), 12);
  let i = isTlv(f[0], CONTEXT, 0) ? 1 : 0;
  const serialT = expectTlv(f[i++], UNIVERSAL, TAG.INTEGER, 'serialNumber');
  i++; // signature algorithm
  const issuerT = f[i++] as Tlv;
  const validity = children(buf, expectTlv(f[i++], UNIVERSAL, TAG.SEQUENCE, 'Validity'), 2);
  const subjectT = f[i++] as Tlv;
  i++; // subjectPublicKeyInfo
  let keyUsage: ParsedCertificate['keyUsage'] = null;
  let isCa: boolean | null = null;
  const extKeyUsage: string[] = [];
  for (; i < f.length; i++) {
    const t = f[i] as Tlv;
    if (!isTlv(t, CONTEXT, 3)) continue;
    const [list] = children(buf, t, 1);
    for (const ext of children(buf, expectTlv(list, UNIVERSAL, TAG.SEQUENCE, 'Extensions'), 64)) {
      const parts = children(buf, ext, 3);
      const oid = oidOf(buf, parts[0] as Tlv);
      const valueT = expectTlv(parts[parts.length - 1], UNIVERSAL, TAG.OCTET_STRING, 'extnValue');
      const inner = readTlv(buf, valueT.start + valueT.hdr, valueT.end);
      if (oid === OIDS.keyUsage) {
        const bits = valueOf(buf, expectTlv(inner, UNIVERSAL, TAG.BIT_STRING, 'KeyUsage'));
        const b1 = bits[1] ?? 0;
        keyUsage = { digitalSignature: (b1 & 0x80) !== 0, nonRepudiation: (b1 & 0x40) !== 0, keyCertSign: (b1 & 0x04) !== 0 };
      } else if (oid === OIDS.basicConstraints) {
        const bc = children(buf, expectTlv(inner, UNIVERSAL, TAG.SEQUENCE, 'BasicConstraints'), 2);
        isCa = isTlv(bc[0], UNIVERSAL, TAG.BOOLEAN) ? (valueOf(buf, bc[0])[0] ?? 0) !== 0 : false;
      } else if (oid === OIDS.extKeyUsage) {
        for (const k of children(buf, expectTlv(inner, UNIVERSAL, TAG.SEQUENCE, 'ExtKeyUsage'), 32)) extKeyUsage.push(oidOf(buf, k));
      }
    }
  }
  const x509 = new X509Certificate(buf);
  void x509.publicKey; // throws now, inside the parser's error handling, for a malformed key
  return {
    der: buf,
    x509,
    sha256,
    serial: Buffer.from(valueOf(buf, serialT)),
    issuerDer: Buffer.from(rawOf(buf, issuerT)),
    subjectDer: Buffer.from(rawOf(buf, subjectT)),
    issuer: nameOf(buf, issuerT),
    subject: nameOf(buf, subjectT),
    notBefore: timeOf(buf, validity[0] as Tlv),
    notAfter: timeOf(buf, validity[1] as Tlv),
    keyUsage,
    isCa,
    extKeyUsage,
  };
}

export interface Attribute {
  oid: string;
  /** The values of the attribute's SET. */
  values: Tlv[];
}

export interface ParsedSignerInfo {
  sid: { issuerDer: Buffer; serial: Buffer } | { ski: Buffer };
  digestAlgorithm: string;
  /** DER of the signed attributes re-tagged as SET OF (what the signature covers); null when absent. */
  signedAttrsDer: Buffer | null;
  signedAttrs: Attribute[];
  signatureAlgorithm: string;
  signature: Buffer;
  unsignedAttrs: Attribute[];
}

export interface ParsedSignedData {
  buf: Buffer;
  /** DER length of the ContentInfo (the /Contents string is zero-padded after it). */
  length: number;
  eContentType: string;
  /** Encapsulated content (TSTInfo of a timestamp token); null when detached. */
  eContent: Buffer | null;
  certificates: ParsedCertificate[];
  signerInfos: ParsedSignerInfo[];
}

function attributes(buf: Uint8Array, t: Tlv): Attribute[] {
  return children(buf, t, 64).map((a) => {
    const [type, set] = children(buf, expectTlv(a, UNIVERSAL, TAG.SEQUENCE, 'Attribute'), 2);
    return { oid: oidOf(buf, type as Tlv), values: children(buf, expectTlv(set, UNIVERSAL, TAG.SET, 'AttributeValues'), 16) };
  });
}

function algorithmOid(buf: Uint8Array, t: Tlv | undefined): string {
  const [o] = children(buf, expectTlv(t, UNIVERSAL, TAG.SEQUENCE, 'AlgorithmIdentifier'), 2);
  return oidOf(buf, o as Tlv);
}

/**
 * Parses a ContentInfo holding SignedData. `bytes` may carry trailing zero padding (a PDF /Contents string);
 * anything but zeros after the DER is an error.
 */
export function parseSignedData(bytes: Uint8Array): ParsedSignedData {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ci = readTlv(buf, 0);
  for (let i = ci.end; i < buf.length; i++) if (buf[i] !== 0) throw new DerError('non-zero bytes after the CMS');
  const [ctype, wrapped] = children(buf, expectTlv(ci, UNIVERSAL, TAG.SEQUENCE, 'ContentInfo'), 2);
  if (oidOf(buf, ctype as Tlv) !== OIDS.signedData) throw new DerError('ContentInfo is not SignedData');
  const [sdT] = children(buf, expectTlv(wrapped, CONTEXT, 0, 'ContentInfo content'), 1);
  const sd = children(buf, expectTlv(sdT, UNIVERSAL, TAG.SEQUENCE, 'SignedData'), 6);
  let i = 1; // version
  expectTlv(sd[i++], UNIVERSAL, TAG.SET, 'digestAlgorithms');
  const encap = children(buf, expectTlv(sd[i++], UNIVERSAL, TAG.SEQUENCE, 'EncapsulatedContentInfo'), 2);
  const eContentType = oidOf(buf, encap[0] as Tlv);
  let eContent: Buffer | null = null;
  if (encap[1]) {
    const [oct] = children(buf, expectTlv(encap[1], CONTEXT, 0, 'eContent'), 1);
    eContent = Buffer.from(valueOf(buf, expectTlv(oct, UNIVERSAL, TAG.OCTET_STRING, 'eContent')));
  }
  const certificates: ParsedCertificate[] = [];
  if (isTlv(sd[i], CONTEXT, 0)) {
    for (const c of children(buf, sd[i] as Tlv, 16)) {
      if (c.cls === UNIVERSAL && c.tag === TAG.SEQUENCE) certificates.push(parseCertificate(rawOf(buf, c)));
    }
    i++;
  }
  if (isTlv(sd[i], CONTEXT, 1)) i++; // crls: not used
  const signerInfos = children(buf, expectTlv(sd[i], UNIVERSAL, TAG.SET, 'signerInfos'), 8).map((siT) => {
    const s = children(buf, expectTlv(siT, UNIVERSAL, TAG.SEQUENCE, 'SignerInfo'), 7);
    let j = 1; // version
    const sidT = s[j++] as Tlv;
    let sid: ParsedSignerInfo['sid'];
    if (isTlv(sidT, UNIVERSAL, TAG.SEQUENCE)) {
      const [iss, ser] = children(buf, sidT, 2);
      sid = { issuerDer: Buffer.from(rawOf(buf, iss as Tlv)), serial: Buffer.from(valueOf(buf, expectTlv(ser, UNIVERSAL, TAG.INTEGER, 'serial'))) };
    } else {
      sid = { ski: Buffer.from(valueOf(buf, expectTlv(sidT, CONTEXT, 0, 'subjectKeyIdentifier'))) };
    }
    const digestAlgorithm = algorithmOid(buf, s[j++]);
    let signedAttrsDer: Buffer | null = null;
    let signedAttrs: Attribute[] = [];
    if (isTlv(s[j], CONTEXT, 0)) {
      const t = s[j++] as Tlv;
      signedAttrsDer = Buffer.from(rawOf(buf, t));
      signedAttrsDer[0] = 0x31; // [0] IMPLICIT → SET OF: what the signature covers (RFC 5652 §5.4)
      signedAttrs = attributes(buf, t);
    }
    const signatureAlgorithm = algorithmOid(buf, s[j++]);
    const signature = Buffer.from(valueOf(buf, expectTlv(s[j++], UNIVERSAL, TAG.OCTET_STRING, 'signature')));
    const unsignedAttrs = isTlv(s[j], CONTEXT, 1) ? attributes(buf, s[j] as Tlv) : [];
    return { sid, digestAlgorithm, signedAttrsDer, signedAttrs, signatureAlgorithm, signature, unsignedAttrs };
  });
  return { buf, length: ci.end, eContentType, eContent, certificates, signerInfos };
}

/** The certificate the SignerInfo names (issuer + serial), from the CMS's own certificates. */
export function signerCertificate(sd: ParsedSignedData, si: ParsedSignerInfo): ParsedCertificate | null {
  const sid = si.sid;
  if ('ski' in sid) return null;
  return sd.certificates.find((c) => bytesEqual(c.serial, sid.serial) && bytesEqual(c.issuerDer, sid.issuerDer)) ?? null;
}

export function attribute(si: ParsedSignerInfo, oid: string, unsigned = false): Attribute[] {
  return (unsigned ? si.unsignedAttrs : si.signedAttrs).filter((a) => a.oid === oid);
}

/** Verifies the SignerInfo's signature over its signed attributes with `cert`'s key. */
export function verifySignerInfo(si: ParsedSignerInfo, cert: ParsedCertificate): { ok: boolean; detail: string } {
  const alg = SIG_ALGS[si.signatureAlgorithm];
  const hash = alg?.hash ?? hashOf(si.digestAlgorithm);
  if (!alg || !hash) return { ok: false, detail: `unsupported signature algorithm ${si.signatureAlgorithm}` };
  if (!si.signedAttrsDer) return { ok: false, detail: 'no signed attributes' };
  try {
    const keyType = cert.x509.publicKey.asymmetricKeyType;
    if (keyType !== alg.key) return { ok: false, detail: `a ${alg.key} algorithm with a ${String(keyType)} key` };
    const ok = cryptoVerify(hash, si.signedAttrsDer, { key: cert.x509.publicKey, dsaEncoding: 'der' }, si.signature);
    return { ok, detail: ok ? `${alg.key.toUpperCase()} ${hash}` : 'signature does not match the signed attributes' };
  } catch (err) {
    return { ok: false, detail: `signature check failed: ${(err as Error).message}` };
  }
}

/** Value of the messageDigest attribute (exactly one required). */
export function messageDigestOf(si: ParsedSignerInfo, buf: Buffer): Buffer | null {
  const a = attribute(si, OIDS.messageDigest);
  if (a.length !== 1 || a[0]?.values.length !== 1) return null;
  const v = a[0].values[0] as Tlv;
  return v.cls === UNIVERSAL && v.tag === TAG.OCTET_STRING ? Buffer.from(valueOf(buf, v)) : null;
}

/** ESSCertIDv2 of signingCertificateV2 (RFC 5035): hash of the first listed cert and its optional issuerSerial. */
export function signingCertificateV2Of(
  si: ParsedSignerInfo,
  buf: Buffer,
): { hash: 'sha256' | 'sha384' | 'sha512' | null; certHash: Buffer; serial: Buffer | null } | null {
  const a = attribute(si, OIDS.signingCertificateV2);
  if (a.length !== 1 || a[0]?.values.length !== 1) return null;
  const [certs] = children(buf, expectTlv(a[0].values[0], UNIVERSAL, TAG.SEQUENCE, 'SigningCertificateV2'), 2);
  const [first] = children(buf, expectTlv(certs, UNIVERSAL, TAG.SEQUENCE, 'certs'), 16);
  const parts = children(buf, expectTlv(first, UNIVERSAL, TAG.SEQUENCE, 'ESSCertIDv2'), 3);
  let k = 0;
  let hash: 'sha256' | 'sha384' | 'sha512' | null = 'sha256';
  if (isTlv(parts[0], UNIVERSAL, TAG.SEQUENCE)) hash = hashOf(algorithmOid(buf, parts[k++]));
  const certHash = Buffer.from(valueOf(buf, expectTlv(parts[k++], UNIVERSAL, TAG.OCTET_STRING, 'certHash')));
  let serial: Buffer | null = null;
  if (parts[k]) {
    const [, ser] = children(buf, expectTlv(parts[k], UNIVERSAL, TAG.SEQUENCE, 'IssuerSerial'), 2);
    serial = Buffer.from(valueOf(buf, expectTlv(ser, UNIVERSAL, TAG.INTEGER, 'serialNumber')));
  }
  return { hash, certHash, serial };
}

export interface TstInfo {
  hashAlgorithm: string;
  hashedMessage: Buffer;
  serialNumber: string;
  genTime: Date;
  policy: string;
  /** Hex of the nonce the requester sent, when present. */
  nonce: string | null;
}

/** TSTInfo (RFC 3161 §2.4.2) from a timestamp token's encapsulated content. */
export function parseTstInfo(bytes: Buffer): TstInfo {
  const t = readTlv(bytes, 0);
  const f = children(bytes, expectTlv(t, UNIVERSAL, TAG.SEQUENCE, 'TSTInfo'), 12);
  const policy = oidOf(bytes, f[1] as Tlv);
  const [alg, hashed] = children(bytes, expectTlv(f[2], UNIVERSAL, TAG.SEQUENCE, 'MessageImprint'), 2);
  // After genTime: accuracy (SEQUENCE)?, ordering (BOOLEAN)?, nonce (INTEGER)?, tsa [0]?, extensions [1]?
  const nonceT = f.slice(5).find((x) => isTlv(x, UNIVERSAL, TAG.INTEGER));
  return {
    nonce: nonceT ? Buffer.from(valueOf(bytes, nonceT)).toString('hex') : null,
    policy,
    hashAlgorithm: algorithmOid(bytes, alg),
    hashedMessage: Buffer.from(valueOf(bytes, expectTlv(hashed, UNIVERSAL, TAG.OCTET_STRING, 'hashedMessage'))),
    serialNumber: Buffer.from(valueOf(bytes, expectTlv(f[3], UNIVERSAL, TAG.INTEGER, 'serialNumber'))).toString('hex'),
    genTime: timeOf(bytes, expectTlv(f[4], UNIVERSAL, TAG.GeneralizedTime, 'genTime')),
  };
}
