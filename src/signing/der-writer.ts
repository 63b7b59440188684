/**
 * A minimal DER writer for the structures we issue ourselves on the hot path (seal certificates of the development
 * e-seal authority): each helper returns the complete encoding of one value, so a structure is built bottom-up by
 * concatenation without an object tree. Reading untrusted DER is src/verification/der.ts's job, not this file's.
 */

function header(tag: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tag, len]);
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = content.length === 1 ? Buffer.from(content[0] as Uint8Array) : Buffer.concat(content);
  return Buffer.concat([header(tag, body.length), body]);
}

export const seq = (...items: Uint8Array[]): Buffer => tlv(0x30, ...items);
export const set = (...items: Uint8Array[]): Buffer => tlv(0x31, ...items);
/** [n] EXPLICIT (constructed, context-specific). */
export const explicit = (n: number, ...items: Uint8Array[]): Buffer => tlv(0xa0 | n, ...items);
/** [n] IMPLICIT primitive (context-specific). */
export const implicit = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);
export const octets = (b: Uint8Array): Buffer => tlv(0x04, b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printable = (s: string): Buffer => {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)) throw new Error(`not a PrintableString: ${JSON.stringify(s)}`);
  return tlv(0x13, Buffer.from(s, 'latin1'));
};
export const bool = (v: boolean): Buffer => Buffer.from([0x01, 0x01, v ? 0xff : 0x00]);
/** BIT STRING with `unused` trailing bits in the last byte. */
export const bits = (b: Uint8Array, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), b);

/** INTEGER from unsigned big-endian bytes (a leading 0x00 is added when the high bit is set). */
export function uint(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = Buffer.from(bytes.subarray(i));
  return tlv(0x02, (b[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

export const small = (n: number): Buffer => {
  if (!Number.isInteger(n) || n < 0 || n > 127) throw new RangeError('small() takes 0…127');
  return Buffer.from([0x02, 0x01, n]);
};

const oidCache = new Map<string, Buffer>();
/** OBJECT IDENTIFIER from dotted notation (cached: the same few OIDs are written on every certificate). */
export function oid(dotted: string): Buffer {
  const hit = oidCache.get(dotted);
  if (hit) return hit;
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  const enc = tlv(0x06, Buffer.from(out));
  oidCache.set(dotted, enc);
  return enc;
}

/** UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole seconds, Zulu. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1')) : tlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}
