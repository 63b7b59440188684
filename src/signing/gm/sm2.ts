/**
 * SM2 signatures over SM3 (GB/T 32918, GM/T 0009) through `sm-crypto-v2` (on @noble/curves), and SM3 through
 * Node's own `createHash('sm3')`, which is correct (MEASURED.md). Node's SM2 signing is not used: it signs with an
 * empty user ID (or as plain ECDSA), which neither openssl with `distid:1234567812345678` nor Bouncy Castle accept.
 *
 * Keys are kept as a 32-byte private scalar and the uncompressed public point `04‖x‖y`; PEM/DER encodings are the
 * standard ones (PKCS#8 / SubjectPublicKeyInfo with id-ecPublicKey + the sm2 curve OID) so openssl reads them.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { sm2 } from 'sm-crypto-v2';

/** The user ID every party uses (GM/T 0009 default); `openssl … -sigopt distid:1234567812345678`. */
export const SM2_DEFAULT_ID = '1234567812345678';

export const GM_OIDS = {
  ecPublicKey: '1.2.840.10045.2.1',
  sm2Curve: '1.2.156.10197.1.301',
  sm2WithSm3: '1.2.156.10197.1.501',
  sm3: '1.2.156.10197.1.401',
} as const;

export interface Sm2KeyPair {
  /** 32-byte private scalar, hex. */
  readonly privateKeyHex: string;
  /** Uncompressed public point `04‖x‖y`, hex (130 digits). */
  readonly publicKeyHex: string;
}

const HEX = /^[0-9a-f]+$/;

/** SM3 of `data` (32 bytes). */
export function sm3(...parts: Uint8Array[]): Buffer {
  const h = createHash('sm3');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** A fresh key pair from the system CSPRNG (a few microseconds of scalar work, no files). */
export function generateSm2KeyPair(): Sm2KeyPair {
  const kp = sm2.generateKeyPairHex();
  return { privateKeyHex: kp.privateKey.padStart(64, '0'), publicKeyHex: kp.publicKey };
}

/** The key pair of a private scalar (hex). */
export function sm2KeyPairOf(privateKeyHex: string): Sm2KeyPair {
  const priv = privateKeyHex.toLowerCase().padStart(64, '0');
  if (priv.length !== 64 || !HEX.test(priv)) throw new Error('an SM2 private key is 32 bytes (64 hex digits)');
  return { privateKeyHex: priv, publicKeyHex: sm2.getPublicKeyFromPrivateKey(priv) };
}

/** Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) for the default user ID. */
export function sm2Z(publicKeyHex: string, userId: string = SM2_DEFAULT_ID): Buffer {
  return Buffer.from(sm2.getZ(publicKeyHex, userId));
}

/**
 * e = SM3(Z_A ‖ M): the digest an SM2 signature actually signs. This is what an e-seal platform or HSM receives
 * when the service asks it to sign with `digestAlgorithm: "sm3"` (DESIGN.md §9).
 */
export function sm2Digest(data: Uint8Array, publicKeyHex: string, userId: string = SM2_DEFAULT_ID): Buffer {
  return sm3(sm2Z(publicKeyHex, userId), data);
}

/** Signs a precomputed digest `e` (32 bytes, see {@link sm2Digest}); returns DER `SEQUENCE { r, s }`. */
export function sm2SignDigest(e: Uint8Array, key: Pick<Sm2KeyPair, 'privateKeyHex'>): Buffer {
  if (e.length !== 32) throw new Error(`an SM3 digest is 32 bytes, got ${e.length}`);
  // A Uint8Array message with hash:false is taken as e itself (a string would be read as UTF-8 text).
  return Buffer.from(sm2.doSignature(new Uint8Array(e), key.privateKeyHex, { der: true, hash: false }), 'hex');
}

/** SM2 over SM3 of `data` with Z for user ID 1234567812345678; returns DER `SEQUENCE { r, s }`. */
export function sm2Sign(data: Uint8Array, key: Sm2KeyPair): Buffer {
  return sm2SignDigest(sm2Digest(data, key.publicKeyHex), key);
}

/** True when `signatureDer` is a valid SM2 signature of `data` by `publicKeyHex` (default user ID). Never throws. */
export function sm2Verify(data: Uint8Array, signatureDer: Uint8Array, publicKeyHex: string): boolean {
  try {
    if (!/^04[0-9a-f]{128}$/i.test(publicKeyHex) || !sm2.verifyPublicKey(publicKeyHex)) return false;
    const e = sm2Digest(data, publicKeyHex);
    const rs = parseSignature(signatureDer);
    if (!rs) return false;
    return sm2.doVerifySignature(new Uint8Array(e), rs, publicKeyHex, { der: false, hash: false });
  } catch {
    return false;
  }
}

const N = BigInt('0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123');

/** DER `SEQUENCE { r INTEGER, s INTEGER }` → 128 hex digits r‖s, or null when not strict DER or out of range. */
function parseSignature(der: Uint8Array): string | null {
  const parsed = asn1js.fromBER(new Uint8Array(der));
  if (parsed.offset !== der.length || !(parsed.result instanceof asn1js.Sequence)) return null;
  const items = parsed.result.valueBlock.value;
  if (items.length !== 2) return null;
  const out: string[] = [];
  for (const it of items) {
    if (!(it instanceof asn1js.Integer)) return null;
    const hex = Buffer.from(it.valueBlock.valueHexView).toString('hex');
    const v = BigInt(`0x${hex || '0'}`);
    if (hex.length > 2 && hex.startsWith('00') && parseInt(hex.slice(2, 4), 16) < 0x80) return null; // non-minimal
    if (parseInt(hex.slice(0, 2), 16) >= 0x80 || v <= 0n || v >= N) return null;
    out.push(v.toString(16).padStart(64, '0'));
  }
  // Re-encoding must give the input back: rejects BER leniencies (long-form lengths and the like).
  const again = new asn1js.Sequence({ value: items.map((i) => new asn1js.Integer({ valueHex: (i as asn1js.Integer).valueBlock.valueHexView })) }).toBER(false);
  if (!Buffer.from(again).equals(Buffer.from(der))) return null;
  return out.join('');
}

/** SubjectPublicKeyInfo (DER) of an SM2 public key: id-ecPublicKey with the sm2 curve, BIT STRING 04‖x‖y. */
export function sm2PublicKeyInfo(publicKeyHex: string): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: GM_OIDS.ecPublicKey }), new asn1js.ObjectIdentifier({ value: GM_OIDS.sm2Curve })] }),
      new asn1js.BitString({ valueHex: Buffer.from(publicKeyHex, 'hex') }),
    ],
  });
}

/** PEM `PUBLIC KEY` (what `openssl dgst -verify` takes). */
export function sm2PublicKeyPem(publicKeyHex: string): string {
  return pem('PUBLIC KEY', Buffer.from(sm2PublicKeyInfo(publicKeyHex).toBER(false)));
}

/** PKCS#8 `PRIVATE KEY` PEM of an SM2 key (openssl reads it with `-inkey`). */
export function sm2PrivateKeyPem(key: Sm2KeyPair): string {
  const ecPrivateKey = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.OctetString({ valueHex: Buffer.from(key.privateKeyHex, 'hex') }),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.BitString({ valueHex: Buffer.from(key.publicKeyHex, 'hex') })] }),
    ],
  });
  const pkcs8 = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: GM_OIDS.ecPublicKey }), new asn1js.ObjectIdentifier({ value: GM_OIDS.sm2Curve })] }),
      new asn1js.OctetString({ valueHex: ecPrivateKey.toBER(false) }),
    ],
  });
  return pem('PRIVATE KEY', Buffer.from(pkcs8.toBER(false)));
}

/** Reads an SM2 PKCS#8 `PRIVATE KEY` PEM (as written by {@link sm2PrivateKeyPem} or `openssl genpkey -algorithm SM2`). */
export function sm2KeyFromPem(text: string): Sm2KeyPair {
  const der = pemBody(text, 'PRIVATE KEY');
  const p = asn1js.fromBER(new Uint8Array(der));
  const fail = () => new Error('not an SM2 PKCS#8 private key (id-ecPublicKey with the sm2 curve)');
  if (!(p.result instanceof asn1js.Sequence)) throw fail();
  const [, alg, inner] = p.result.valueBlock.value;
  const algItems = alg instanceof asn1js.Sequence ? alg.valueBlock.value : [];
  const curve = algItems[1];
  if (!(curve instanceof asn1js.ObjectIdentifier) || curve.valueBlock.toString() !== GM_OIDS.sm2Curve || !(inner instanceof asn1js.OctetString)) throw fail();
  const ec = asn1js.fromBER(inner.valueBlock.valueHexView).result;
  const scalar = ec instanceof asn1js.Sequence ? ec.valueBlock.value[1] : undefined;
  if (!(scalar instanceof asn1js.OctetString)) throw fail();
  return sm2KeyPairOf(Buffer.from(scalar.valueBlock.valueHexView).toString('hex'));
}

export function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function pemBody(text: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(text);
  if (!m?.[1]) throw new Error(`no ${label} PEM block`);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}
