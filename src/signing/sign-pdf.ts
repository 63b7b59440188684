/**
 * PAdES signing in one pass: the renderer (`pdf-writer.ts`) leaves a signature placeholder in the (single,
 * non-incremental) file, `signPdf` patches /ByteRange in place and writes a detached CAdES CMS into /Contents, so
 * the signature covers the entire file. The CMS is written directly in DER (./der-writer.ts); only the private-key operation goes to the Signer.
 */
import { createHash } from 'node:crypto';
import { explicit, octets, oid, seq, set, small } from './der-writer.js';
import { signatureImprint } from './timestamp.js';
import type { Signer, Timestamper } from './types.js';

/** Bytes reserved for the CMS when the caller does not size it (hex doubles it): room for a long chain and a timestamp. */
export const SIGNATURE_CONTENTS_BYTES = 16384;

/**
 * Bytes to reserve for the CMS of `signer`: its certificates, ~1.5 KB of structure, signed attributes and signature
 * (RSA-4096 at most), and ~8 KB more for an RFC 3161 token. Sizing it to the signer keeps every issued PDF ~25 KB
 * smaller than a fixed 16 KiB placeholder (32 KiB of hex zeros) — less to hash, store and send.
 */
export function reserveFor(signer: Pick<Signer, 'chain'>, timestamper?: Timestamper | null): number {
  const certs = signer.chain.reduce((n, c) => n + c.length, 0);
  const need = certs + 1536 + (timestamper ? 8192 : 0);
  return Math.ceil(need / 512) * 512;
}
/** The zeroed /Contents of an unsigned placeholder (hex digits '0'). */
const ZERO_HEX = Buffer.alloc(SIGNATURE_CONTENTS_BYTES * 2, 0x30);

// Fixed-width tokens so the real offsets can be written over them without moving any byte.
const BR_TOKEN = '**********';
/** The /ByteRange of an unsigned placeholder, exactly as the document writer emits it and `signPdf` finds it. */
export const BYTE_RANGE_PLACEHOLDER = `/ByteRange [ 0 /${BR_TOKEN} /${BR_TOKEN} /${BR_TOKEN} ]`;

interface PreparedSigner {
  /** DER of the certificates, for the SignedData's [0] certificates. */
  certs: Buffer;
  /** DER of the signer certificate's issuer Name and serialNumber INTEGER. */
  issuer: Buffer;
  serial: Buffer;
  certHash: Buffer;
}
const prepared = new WeakMap<Signer, PreparedSigner>();

/** Start, header length and end of the TLV at `at` (definite lengths: our own certificates, already parsed once by X509). */
function tlvAt(buf: Uint8Array, at: number): { start: number; body: number; end: number } {
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

function prepare(signer: Signer): PreparedSigner {
  const hit = prepared.get(signer);
  if (hit) return hit;
  const first = signer.chain[0];
  if (!first) throw new Error('signer has an empty certificate chain');
  // Certificate → tbsCertificate → [0] version, serialNumber, signature, issuer, …
  const cert = tlvAt(first, 0);
  const tbs = tlvAt(first, cert.body);
  let f = tlvAt(first, tbs.body);
  if (first[f.start] === 0xa0) f = tlvAt(first, f.end);
  const serial = f;
  const sigAlg = tlvAt(first, serial.end);
  const issuer = tlvAt(first, sigAlg.end);
  if (first[serial.start] !== 0x02 || first[issuer.start] !== 0x30 || issuer.end > tbs.end) {
    throw new Error('signer certificate is not a well-formed X.509 certificate');
  }
  const p: PreparedSigner = {
    certs: Buffer.concat(signer.chain.map((c) => Buffer.from(c))),
    issuer: Buffer.from(first.subarray(issuer.start, issuer.end)),
    serial: Buffer.from(first.subarray(serial.start, serial.end)),
    certHash: createHash('sha256').update(first).digest(),
  };
  prepared.set(signer, p);
  return p;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
};

const NULL = Buffer.from([0x05, 0x00]);
const attribute = (type: string, value: Buffer) => seq(oid(type), set(value));

export interface SignOptions {
  /** PAdES B-T: timestamp the signature value and add the token as id-aa-signatureTimeStampToken. */
  timestamper?: Timestamper | null;
}

/**
 * Detached CMS SignedData (RFC 5652) over a precomputed SHA-256 `digest`, with exactly the signed attributes
 * contentType, messageDigest and signingCertificateV2 (no signingTime: PAdES puts the time in /M), and — with a
 * timestamper — the unsigned attribute signatureTimeStampToken over the signature value. Returns DER.
 */
export async function buildCms(digest: Uint8Array, signer: Signer, opts: SignOptions = {}): Promise<Uint8Array> {
  // PAdES here is SHA-256 with RSA/ECDSA; SM2 keys sign OFD seals (src/signing/gm/), never a CMS with the wrong OID.
  if (signer.keyType === 'sm2') throw new Error('an SM2 signer cannot sign a PAdES CMS (sha256WithRSA/ecdsa-with-SHA256)');
  const p = prepare(signer);
  const sha256Alg = seq(oid(OID.sha256));

  // ESSCertIDv2 with hashAlgorithm omitted (DEFAULT sha256 must not be encoded in DER) and issuerSerial, whose
  // issuer is GeneralNames { directoryName [4] EXPLICIT Name }.
  const essCertId = seq(octets(p.certHash), seq(seq(explicit(4, p.issuer)), p.serial));
  const attrs = [
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.messageDigest, octets(digest)),
    attribute(OID.signingCertificateV2, seq(seq(essCertId))),
  ].sort((a, b) => Buffer.compare(a, b)); // DER SET OF: elements ordered by their encodings
  const signature = await signer.sign(set(...attrs));

  const sigAlg = signer.keyType === 'rsa' ? seq(oid(OID.sha256WithRSA), NULL) : seq(oid(OID.ecdsaWithSHA256));
  const signerInfoParts = [small(1), seq(p.issuer, p.serial), sha256Alg, explicit(0, ...attrs), sigAlg, octets(signature)];
  if (opts.timestamper) {
    const token = await opts.timestamper.timestamp(signatureImprint(signature));
    signerInfoParts.push(explicit(1, attribute(OID.signatureTimeStampToken, Buffer.from(token))));
  }
  const signedData = seq(small(1), set(sha256Alg), seq(oid(OID.data)), explicit(0, p.certs), set(seq(...signerInfoParts)));
  return seq(oid(OID.signedData), explicit(0, signedData));
}

function indexOfAll(buf: Buffer, needle: string): number[] {
  const out: number[] = [];
  for (let i = buf.indexOf(needle, 0, 'latin1'); i >= 0; i = buf.indexOf(needle, i + 1, 'latin1')) out.push(i);
  return out;
}

/**
 * Signs a PDF that carries the placeholder of `writeDocument` (pdf-writer.ts): patches /ByteRange (everything but
 * the /Contents hex string), hashes those bytes, and writes the CMS into /Contents. Returns a new array; the input
 * is not modified. Throws when the input does not hold exactly one unsigned placeholder or the CMS does not fit.
 */
export async function signPdf(pdfWithPlaceholder: Uint8Array, signer: Signer, opts: SignOptions = {}): Promise<Uint8Array> {
  const buf = Buffer.from(pdfWithPlaceholder); // copy
  // One pass over the file: every /ByteRange, which must be exactly one, and that one the unsigned placeholder.
  const byteRanges = indexOfAll(buf, '/ByteRange');
  const brAt = byteRanges.length === 1 ? (byteRanges[0] as number) : -1;
  if (brAt < 0 || buf.toString('latin1', brAt, brAt + BYTE_RANGE_PLACEHOLDER.length) !== BYTE_RANGE_PLACEHOLDER) {
    throw new Error(`expected exactly one unsigned signature placeholder, found ${indexOfAll(buf, BYTE_RANGE_PLACEHOLDER).length}`);
  }
  const contentsAt = buf.indexOf('/Contents <', brAt, 'latin1');
  if (contentsAt < 0) throw new Error('signature placeholder has no /Contents hex string');
  const start = contentsAt + '/Contents '.length; // at '<'
  const end = buf.indexOf('>', start, 'latin1') + 1; // just after '>'
  const capacity = (end - start - 2) / 2;
  if (end <= 0 || capacity < 1024) throw new Error('signature /Contents placeholder is malformed');
  const hex = buf.subarray(start + 1, end - 1);
  if (!hex.equals(hex.length === ZERO_HEX.length ? ZERO_HEX : Buffer.alloc(hex.length, 0x30))) {
    throw new Error('signature /Contents placeholder is not zeroed (already signed?)');
  }

  const patched = `/ByteRange [ 0 ${start} ${end} ${buf.length - end}`;
  buf.write(`${patched.padEnd(BYTE_RANGE_PLACEHOLDER.length - 1, ' ')}]`, brAt, 'latin1');

  const digest = createHash('sha256').update(buf.subarray(0, start)).update(buf.subarray(end)).digest();
  const cms = await buildCms(digest, signer, opts);
  if (cms.length > capacity) throw new Error(`CMS of ${cms.length} bytes does not fit the ${capacity}-byte placeholder`);
  buf.write(Buffer.from(cms).toString('hex'), start + 1, 'latin1');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
