/**
 * Seal certificates in microseconds: an X.509 v3 end-entity certificate for a seal (电子印章) or a personal
 * e-signature, written directly in DER and signed by an EC issuing CA with Node's crypto. node-forge took
 * milliseconds per certificate (and RSA key generation ~180 ms), which is what made every new enterprise cost a
 * fifth of a second on the filing's path.
 *
 * Profile: C = CN, O = CN = the holder's name (UTF8String), serialNumber (2.5.4.5) = USCC / 身份号码;
 * basicConstraints cA=false, keyUsage digitalSignature + nonRepudiation (critical), SKI, AKI.
 */
import { X509Certificate, createHash, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { bits, bool, explicit, implicit, octets, oid, printable, seq, set, small, time, uint, utf8 } from './der-writer.js';

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
};

/** The CA that signs seal certificates: its key and what of its certificate goes into ours. */
export interface IssuingCa {
  key: KeyObject;
  /** DER of the CA certificate (the chain's second element). */
  certificate: Uint8Array;
}

interface PreparedCa {
  subject: Buffer;
  ski: Buffer;
  sigAlg: Buffer;
  notAfter: Date;
}
const prepared = new WeakMap<IssuingCa, PreparedCa>();

function prepare(ca: IssuingCa): PreparedCa {
  const hit = prepared.get(ca);
  if (hit) return hit;
  const x = new X509Certificate(Buffer.from(ca.certificate));
  const pub = x.publicKey.export({ type: 'spki', format: 'der' });
  const type = ca.key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa') throw new Error(`issuing CA key must be EC or RSA, got ${type}`);
  const p: PreparedCa = {
    subject: subjectOf(Buffer.from(ca.certificate)),
    ski: keyIdentifier(pub),
    sigAlg: type === 'ec' ? seq(oid(OID.ecdsaWithSHA256)) : seq(oid(OID.sha256WithRSA), Buffer.from([0x05, 0x00])),
    notAfter: new Date(x.validTo),
  };
  prepared.set(ca, p);
  return p;
}

/** The DER of a certificate's subject Name (tbsCertificate's sixth field), found by walking the outer TLVs. */
export function subjectOf(cert: Buffer): Buffer {
  // Certificate → tbsCertificate → [version] serial sigAlg issuer validity subject
  const tbs = inner(cert, 0);
  let at = tbs.start;
  const fields: Array<{ start: number; end: number }> = [];
  while (at < tbs.end && fields.length < 6) {
    const f = span(cert, at);
    fields.push(f);
    at = f.end;
  }
  const hasVersion = cert[(fields[0] as { start: number }).start] === 0xa0;
  const subject = fields[hasVersion ? 5 : 4];
  if (!subject) throw new Error('CA certificate has no subject');
  return cert.subarray(subject.start, subject.end);
}

function span(buf: Buffer, at: number): { start: number; end: number; body: number } {
  const l0 = buf[at + 1] as number;
  let len = l0;
  let hdr = 2;
  if (l0 & 0x80) {
    const n = l0 & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[at + 2 + i] as number);
    hdr = 2 + n;
  }
  return { start: at, body: at + hdr, end: at + hdr + len };
}

function inner(buf: Buffer, at: number): { start: number; end: number } {
  const outer = span(buf, at);
  const first = span(buf, outer.body);
  return { start: first.body, end: first.end };
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING's value. */
function keyIdentifier(spki: Buffer): Buffer {
  const outer = span(spki, 0);
  const alg = span(spki, outer.body);
  const bitString = span(spki, alg.end);
  return createHash('sha1').update(spki.subarray(bitString.body + 1, bitString.end)).digest();
}

/** X.501 Name of a seal holder. */
export function sealName(holder: { name: string; code: string }): Buffer {
  const rdn = (type: string, value: Buffer) => set(seq(oid(type), value));
  return seq(
    rdn(OID.countryName, printable('CN')),
    rdn(OID.organizationName, utf8(holder.name)),
    rdn(OID.commonName, utf8(holder.name)),
    rdn(OID.serialNumber, printable(holder.code)),
  );
}

export interface SealCertificateSpec {
  holder: { name: string; code: string };
  /** SPKI DER of the holder's public key. */
  publicKey: Uint8Array;
  notBefore: Date;
  notAfter: Date;
}

/** Issues the certificate (DER) and says its notAfter (capped at the CA's own notAfter). */
export function issueSealCertificate(ca: IssuingCa, spec: SealCertificateSpec): { der: Buffer; notAfter: Date } {
  return buildCertificate(ca, {
    subject: sealName(spec.holder),
    publicKey: spec.publicKey,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    // basicConstraints cA=false (an empty SEQUENCE); digitalSignature (bit 0) + nonRepudiation (bit 1).
    basicConstraints: seq(),
    keyUsage: bits(Buffer.from([0xc0]), 6),
  });
}

/**
 * A subordinate CA certificate (e.g. the development e-seal authority under the development root): cA=true with
 * pathLenConstraint 0, keyUsage digitalSignature + keyCertSign + cRLSign.
 */
export function issueCaCertificate(issuer: IssuingCa, spec: { subject: Uint8Array; publicKey: Uint8Array; notBefore: Date; notAfter: Date }): Buffer {
  return buildCertificate(issuer, {
    ...spec,
    subject: Buffer.from(spec.subject),
    basicConstraints: seq(bool(true), small(0)),
    // digitalSignature (bit 0), keyCertSign (bit 5), cRLSign (bit 6): 0b10000110, 1 unused bit.
    keyUsage: bits(Buffer.from([0x86]), 1),
  }).der;
}

/**
 * A self-signed root CA certificate for `key` (e.g. the e-seal platform stand-in's own root), cA=true, no path
 * length limit.
 */
export function selfSignedCa(key: KeyObject, publicKey: Uint8Array, subject: Uint8Array, notBefore: Date, notAfter: Date): Buffer {
  const spki = Buffer.from(publicKey);
  const name = Buffer.from(subject);
  const ski = keyIdentifier(spki);
  const type = key.asymmetricKeyType;
  const sigAlg = type === 'ec' ? seq(oid(OID.ecdsaWithSHA256)) : seq(oid(OID.sha256WithRSA), Buffer.from([0x05, 0x00]));
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
  const tbs = seq(
    explicit(0, small(2)),
    uint(serial),
    sigAlg,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    spki,
    explicit(
      3,
      seq(
        ext(OID.basicConstraints, true, seq(bool(true))),
        ext(OID.keyUsage, true, bits(Buffer.from([0x86]), 1)),
        ext(OID.subjectKeyIdentifier, false, octets(ski)),
        ext(OID.authorityKeyIdentifier, false, seq(implicit(0, ski))),
      ),
    ),
  );
  return seq(tbs, sigAlg, bits(cryptoSign('sha256', tbs, key)));
}

/** A Name of C, O and CN (UTF8String), for CA certificates. */
export function caName(organization: string, commonName: string): Buffer {
  const rdn = (type: string, value: Buffer) => set(seq(oid(type), value));
  return seq(rdn(OID.countryName, printable('CN')), rdn(OID.organizationName, utf8(organization)), rdn(OID.commonName, utf8(commonName)));
}

function buildCertificate(
  ca: IssuingCa,
  spec: { subject: Buffer; publicKey: Uint8Array; notBefore: Date; notAfter: Date; basicConstraints: Buffer; keyUsage: Buffer },
): { der: Buffer; notAfter: Date } {
  const p = prepare(ca);
  const spki = Buffer.from(spec.publicKey);
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  const notAfter = spec.notAfter.getTime() > p.notAfter.getTime() ? p.notAfter : spec.notAfter;
  const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
  const tbs = seq(
    explicit(0, small(2)),
    uint(serial),
    p.sigAlg,
    p.subject,
    seq(time(spec.notBefore), time(notAfter)),
    spec.subject,
    spki,
    explicit(
      3,
      seq(
        ext(OID.basicConstraints, true, spec.basicConstraints),
        ext(OID.keyUsage, true, spec.keyUsage),
        ext(OID.subjectKeyIdentifier, false, octets(keyIdentifier(spki))),
        ext(OID.authorityKeyIdentifier, false, seq(implicit(0, p.ski))),
      ),
    ),
  );
  const signature = cryptoSign('sha256', tbs, ca.key);
  // Whole seconds, as written (time() drops the milliseconds).
  return { der: seq(tbs, p.sigAlg, bits(signature)), notAfter: new Date(Math.floor(notAfter.getTime() / 1000) * 1000) };
}
