/**
 * A small, strict DER reader for untrusted input (CMS signatures, certificates, timestamp tokens): definite lengths
 * only, bounds-checked, no recursion of its own — callers walk the structure explicitly, so nesting depth is fixed
 * by the code, never by the input.
 */

export class DerError extends Error {
  override name = 'DerError';
}

/** One tag-length-value. `start` is the first byte of the tag, `end` one past the value. */
export interface Tlv {
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  cls: number;
  constructed: boolean;
  tag: number;
  start: number;
  /** Header length (tag + length bytes). */
  hdr: number;
  len: number;
  end: number;
}

export const UNIVERSAL = 0;
export const CONTEXT = 2;
export const TAG = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8String: 12,
  SEQUENCE: 16,
  SET: 17,
  PrintableString: 19,
  T61String: 20,
  IA5String: 22,
  UTCTime: 23,
  GeneralizedTime: 24,
  BMPString: 30,
} as const;

/** Reads the TLV at `at`; its end must not pass `limit`. */
export function readTlv(buf: Uint8Array, at: number, limit: number = buf.length): Tlv {
  if (at + 2 > limit) throw new DerError(`truncated DER at ${at}`);
  const b0 = buf[at] as number;
  const tag = b0 & 0x1f;
  if (tag === 0x1f) throw new DerError(`high tag numbers are not supported (at ${at})`);
  let p = at + 1;
  const l0 = buf[p++] as number;
  let len: number;
  if (l0 < 0x80) {
    len = l0;
  } else {
    const n = l0 & 0x7f;
    if (n === 0) throw new DerError(`indefinite length is not DER (at ${at})`);
    if (n > 4) throw new DerError(`length of ${n} bytes is too large (at ${at})`);
    if (p + n > limit) throw new DerError(`truncated DER length at ${at}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p++] as number);
    if (len < 0x80 || (n > 1 && (buf[at + 2] as number) === 0)) throw new DerError(`non-minimal DER length at ${at}`);
  }
  const end = p + len;
  if (end > limit) throw new DerError(`DER value at ${at} runs past its container (${end} > ${limit})`);
  return { cls: b0 >> 6, constructed: (b0 & 0x20) !== 0, tag, start: at, hdr: p - at, len, end };
}

/** The children of a constructed TLV, in order (at most `max`). */
export function children(buf: Uint8Array, t: Tlv, max = 4096): Tlv[] {
  if (!t.constructed) throw new DerError(`expected a constructed value at ${t.start}`);
  const out: Tlv[] = [];
  for (let p = t.start + t.hdr; p < t.end; ) {
    if (out.length >= max) throw new DerError(`more than ${max} elements at ${t.start}`);
    const c = readTlv(buf, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** Checks class and tag; returns the TLV for chaining. */
export function expectTlv(t: Tlv | undefined, cls: number, tag: number, what: string): Tlv {
  if (!t || t.cls !== cls || t.tag !== tag) {
    throw new DerError(`${what}: expected [${cls}:${tag}], found ${t ? `[${t.cls}:${t.tag}]` : 'nothing'}`);
  }
  return t;
}

export function isTlv(t: Tlv | undefined, cls: number, tag: number): t is Tlv {
  return t !== undefined && t.cls === cls && t.tag === tag;
}

/** The whole encoding (tag, length, value). */
export const rawOf = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.start, t.end);
/** The value bytes only. */
export const valueOf = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.start + t.hdr, t.end);

export function oidOf(buf: Uint8Array, t: Tlv): string {
  expectTlv(t, UNIVERSAL, TAG.OID, 'OBJECT IDENTIFIER');
  const v = valueOf(buf, t);
  if (v.length === 0 || v.length > 64) throw new DerError(`bad OID length at ${t.start}`);
  const parts: number[] = [];
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const b = v[i] as number;
    n = n * 128 + (b & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new DerError(`OID arc too large at ${t.start}`);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) {
        const first = n < 80 ? Math.floor(n / 40) : 2;
        parts.push(first, n - first * 40);
      } else {
        parts.push(n);
      }
      n = 0;
    } else if (i === v.length - 1) {
      throw new DerError(`truncated OID at ${t.start}`);
    }
  }
  return parts.join('.');
}

/** DER string types to a JS string (UTF8String, PrintableString, IA5String, T61 as latin1, BMPString). */
export function stringOf(buf: Uint8Array, t: Tlv): string {
  const v = Buffer.from(valueOf(buf, t));
  switch (t.tag) {
    case TAG.BMPString: {
      let s = '';
      for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode(v.readUInt16BE(i));
      return s;
    }
    case TAG.T61String:
      return v.toString('latin1');
    default:
      return v.toString('utf8');
  }
}

/** UTCTime / GeneralizedTime (Z form, optional fractional seconds) to a Date. */
export function timeOf(buf: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(valueOf(buf, t)).toString('latin1');
  let m: RegExpExecArray | null;
  if (t.tag === TAG.UTCTime && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  if (t.tag === TAG.GeneralizedTime && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/.exec(s))) {
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms));
  }
  throw new DerError(`unsupported time ${JSON.stringify(s)} at ${t.start}`);
}

/** Encodes a DER header for `tagByte` and `len` (used to re-tag [0] IMPLICIT signed attributes as SET). */
export function derHeader(tagByte: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tagByte, len]);
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([tagByte, 0x80 | bytes.length, ...bytes]);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
