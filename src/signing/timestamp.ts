/**
 * RFC 3161 timestamps for PAdES B-T: a client that asks a TSA (`TSA_URL`) for a token over the SHA-256 of the
 * signature value. The token goes into the SignerInfo as the unsigned attribute id-aa-signatureTimeStampToken.
 */
import { createHash, randomBytes } from 'node:crypto';
import { OIDS, hashOf, parseSignedData, parseTstInfo } from '../verification/cms.js';
import { TAG, UNIVERSAL, children, derHeader, expectTlv, rawOf, readTlv, valueOf } from '../verification/der.js';
import { uint } from './der-writer.js';
import type { Timestamper } from './types.js';

const SHA256_OID_DER = Buffer.from('0609608648016503040201', 'hex');

function tlv(tagByte: number, content: Buffer): Buffer {
  return Buffer.concat([derHeader(tagByte, content.length), content]);
}

/**
 * DER TimeStampReq v1 over a SHA-256 `digest`, asking for the TSA's certificate, with `nonce` (unsigned big-endian
 * bytes, written as a minimal INTEGER: a random nonce starting with 0x00 and then a byte below 0x80 is not valid DER
 * as it stands, and openssl's TSA rejected it — one request in 512).
 */
export function timeStampRequest(digest: Uint8Array, nonce: Buffer): Buffer {
  const imprint = tlv(0x30, Buffer.concat([tlv(0x30, SHA256_OID_DER), tlv(0x04, Buffer.from(digest))]));
  return tlv(0x30, Buffer.concat([Buffer.from([0x02, 0x01, 0x01]), imprint, uint(nonce), Buffer.from([0x01, 0x01, 0xff])]));
}

export class TimestampError extends Error {
  override name = 'TimestampError';
}

const FAILURES = ['badAlg', '', 'badRequest', '', '', 'badDataFormat', '', '', '', '', '', '', '', '', 'timeNotAvailable', 'unacceptedPolicy', 'unacceptedExtension', 'addInfoNotAvailable', '', '', '', '', '', '', '', 'systemFailure'];

/** The refusal's PKIFailureInfo bits by name (RFC 3161 §2.4.2), for the error an operator reads. */
function failInfo(buf: Buffer, statusInfo: ReturnType<typeof children>): string {
  const bits = statusInfo.find((t) => t.tag === TAG.BIT_STRING);
  if (!bits) return '';
  const v = valueOf(buf, bits);
  const names: string[] = [];
  for (let i = 0; i < (v.length - 1) * 8; i++) if (((v[1 + (i >> 3)] as number) >> (7 - (i & 7))) & 1) names.push(FAILURES[i] || `bit ${i}`);
  return names.length ? `, failInfo ${names.join(', ')}` : '';
}

/**
 * The token (DER ContentInfo) from a TimeStampResp, after checking status granted (0) or grantedWithMods (1), that
 * it is a SignedData over TSTInfo, and that its imprint and nonce are the ones asked for.
 */
export function tokenFromResponse(resp: Uint8Array, digest: Uint8Array, nonce: Buffer | null): Buffer {
  const buf = Buffer.from(resp);
  const top = children(buf, expectTlv(readTlv(buf, 0), UNIVERSAL, TAG.SEQUENCE, 'TimeStampResp'), 2);
  const statusInfo = children(buf, expectTlv(top[0], UNIVERSAL, TAG.SEQUENCE, 'PKIStatusInfo'), 3);
  const status = valueOf(buf, expectTlv(statusInfo[0], UNIVERSAL, TAG.INTEGER, 'PKIStatus'));
  if (status.length !== 1 || (status[0] as number) > 1) throw new TimestampError(`TSA refused the request (PKIStatus ${status.length === 1 ? String(status[0]) : `0x${Buffer.from(status).toString('hex')}`}${failInfo(buf, statusInfo)})`);
  if (!top[1]) throw new TimestampError('TSA response has no token');
  const token = Buffer.from(rawOf(buf, top[1]));
  const sd = parseSignedData(token);
  if (sd.eContentType !== OIDS.tstInfo || !sd.eContent) throw new TimestampError('token does not hold a TSTInfo');
  const tst = parseTstInfo(sd.eContent);
  if (hashOf(tst.hashAlgorithm) !== 'sha256' || !tst.hashedMessage.equals(Buffer.from(digest))) {
    throw new TimestampError('token imprint is not the digest that was sent');
  }
  if (nonce && tst.nonce !== null && BigInt(`0x${tst.nonce}`) !== BigInt(`0x${nonce.toString('hex')}`)) {
    throw new TimestampError('token nonce is not the one that was sent');
  }
  return token;
}

/** A Timestamper that POSTs `application/timestamp-query` to `url` (RFC 3161 §3.4), bounded in time and size. */
export function httpTimestamper(url: string, opts: { timeoutMs?: number } = {}): Timestamper {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return {
    async timestamp(digest) {
      const nonce = randomBytes(8);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
          body: timeStampRequest(digest, nonce),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new TimestampError(`TSA ${url} unreachable: ${(err as Error).message}`);
      }
      if (!res.ok) throw new TimestampError(`TSA ${url} answered HTTP ${res.status}`);
      const body = Buffer.from(await res.arrayBuffer());
      if (body.length > 64 * 1024) throw new TimestampError(`TSA response of ${body.length} bytes is too large`);
      return new Uint8Array(tokenFromResponse(body, digest, nonce));
    },
  };
}

/** SHA-256 of a signature value: the imprint of a signature timestamp (ETSI EN 319 122-1 §5.3). */
export function signatureImprint(signature: Uint8Array): Buffer {
  return createHash('sha256').update(signature).digest();
}
