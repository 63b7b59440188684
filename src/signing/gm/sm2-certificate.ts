/**
 * X.509 v3 certificates with SM2 keys signed with SM2-with-SM3 (GM/T 0015), DER-encoded with asn1js. Each
 * signature covers the DER TBSCertificate with Z computed for user ID 1234567812345678, as Bouncy Castle and
 * `openssl verify -vfyopt distid:1234567812345678` check it.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { GM_OIDS, sm2PublicKeyInfo, sm2Sign, type Sm2KeyPair } from './sm2.js';

export interface NameSpec {
  /** Organisation and common name (UTF8String). */
  name: string;
  /** serialNumber attribute (2.5.4.5): the 统一社会信用代码 or ID number; PrintableString. */
  code?: string;
}

export interface Sm2CertificateSpec {
  subject: NameSpec;
  issuer: NameSpec;
  subjectPublicKeyHex: string;
  /** The issuer's key (the subject's own for a self-signed root). */
  issuerKey: Sm2KeyPair;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
}

const OID = {
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
};

function rdn(oid: string, value: asn1js.BaseBlock): asn1js.Set {
  return new asn1js.Set({ value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), value] })] });
}

/** C=CN, O=name, CN=name[, serialNumber=code]: the same shape as the RSA seal certificates of pki.ts. */
export function encodeName(n: NameSpec): asn1js.Sequence {
  const rdns = [
    rdn(OID.countryName, new asn1js.PrintableString({ value: 'CN' })),
    rdn(OID.organizationName, new asn1js.Utf8String({ value: n.name })),
    rdn(OID.commonName, new asn1js.Utf8String({ value: n.name })),
  ];
  if (n.code !== undefined) rdns.push(rdn(OID.serialNumber, new asn1js.PrintableString({ value: n.code })));
  return new asn1js.Sequence({ value: rdns });
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bit string. */
export function keyIdentifier(publicKeyHex: string): Buffer {
  return createHash('sha1').update(Buffer.from(publicKeyHex, 'hex')).digest();
}

// UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5); whole seconds so DER has no fraction.
function time(d: Date): asn1js.BaseBlock {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? new asn1js.UTCTime({ value: `${s.slice(2)}Z` }) : new asn1js.GeneralizedTime({ value: `${s}Z` });
}

function extension(oid: string, critical: boolean, value: asn1js.BaseBlock): asn1js.Sequence {
  const parts: asn1js.BaseBlock[] = [new asn1js.ObjectIdentifier({ value: oid })];
  if (critical) parts.push(new asn1js.Boolean({ value: true }));
  parts.push(new asn1js.OctetString({ valueHex: value.toBER(false) }));
  return new asn1js.Sequence({ value: parts });
}

function positiveSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] as number) & 0x7f) | 0x01;
  return b;
}

/** Builds and signs one certificate; returns its DER. */
export function makeSm2Certificate(spec: Sm2CertificateSpec): Buffer {
  const sigAlg = () => new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: GM_OIDS.sm2WithSm3 })] });
  // keyUsage bits: digitalSignature(0) nonRepudiation(1) | digitalSignature(0) keyCertSign(5) cRLSign(6).
  const keyUsage = spec.ca
    ? new asn1js.BitString({ valueHex: Buffer.from([0x86]), unusedBits: 1 })
    : new asn1js.BitString({ valueHex: Buffer.from([0xc0]), unusedBits: 6 });
  const extensions = [
    extension(OID.basicConstraints, true, new asn1js.Sequence({ value: spec.ca ? [new asn1js.Boolean({ value: true })] : [] })),
    extension(OID.keyUsage, true, keyUsage),
    extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyIdentifier(spec.subjectPublicKeyHex) })),
    extension(
      OID.authorityKeyIdentifier,
      false,
      new asn1js.Sequence({ value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: keyIdentifier(spec.issuerKey.publicKeyHex) })] }),
    ),
  ];
  const tbs = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Integer({ value: 2 })] }),
      new asn1js.Integer({ valueHex: positiveSerial() }),
      sigAlg(),
      encodeName(spec.issuer),
      new asn1js.Sequence({ value: [time(spec.notBefore), time(spec.notAfter)] }),
      encodeName(spec.subject),
      sm2PublicKeyInfo(spec.subjectPublicKeyHex),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 3 }, value: [new asn1js.Sequence({ value: extensions })] }),
    ],
  });
  const tbsDer = Buffer.from(tbs.toBER(false));
  const signature = sm2Sign(tbsDer, spec.issuerKey);
  const cert = new asn1js.Sequence({ value: [tbs, sigAlg(), new asn1js.BitString({ valueHex: signature })] });
  return Buffer.from(cert.toBER(false));
}
