/**
 * 证照标识 (e-licence identifier) per GB/T 36904-2018:
 * `1.2.156.3005.2.<证照类型代码>.<颁发机构代码>.<流水号>.<版本号>.<校验位>`.
 * The check character is ISO/IEC 7064 MOD 37,36 over segments 2–5 joined without dots.
 */

/** Fixed OID root of every e-licence identifier. */
export const LICENSE_ID_ROOT = '1.2.156.3005.2';

// Unlike the USCC alphabet, MOD 37,36 uses all 26 letters.
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const M = 36;

export interface LicenseIdParts {
  /** 21 characters in practice: the defining body's USCC + a 3-digit type number. */
  typeCode: string;
  /** Usually the issuing agency's USCC (a 6-digit 区划 also occurs). */
  issuerCode: string;
  /** Issuer-defined, variable length. */
  serial: string;
  /** 3 digits; `001` is the first issue. Numbers are zero-padded. */
  version: string | number;
}

function valueOf(ch: string): number {
  const v = ALPHABET.indexOf(ch);
  if (v < 0 || ch.length !== 1) throw new RangeError(`character ${JSON.stringify(ch)} is not allowed in a 证照标识`);
  return v;
}

/** Runs the MOD 37,36 recurrence and returns the final p. */
function runMod3736(s: string): number {
  let p = M;
  for (const ch of s) {
    let t = (p + valueOf(ch)) % M;
    if (t === 0) t = M;
    p = (2 * t) % (M + 1);
  }
  return p;
}

/**
 * ISO/IEC 7064 MOD 37,36 check character of `s` (segments 2–5 of a 证照标识 joined without dots).
 * Lower-case letters are accepted and treated as upper case; any other character throws a RangeError.
 */
export function licenseCheckChar(s: string): string {
  if (s.length === 0) throw new RangeError('cannot compute a check character of an empty string');
  const p = runMod3736(s.toUpperCase());
  return ALPHABET[(M + 1 - p) % M] as string;
}

const SEGMENT = /^[0-9A-Z]+$/;

/**
 * Builds a complete 证照标识 with its check character.
 * Throws a RangeError when a segment is empty or has characters outside 0-9A-Z (a dot would shift the segments).
 */
export function makeLicenseId(parts: LicenseIdParts): string {
  const version = typeof parts.version === 'number' ? String(parts.version).padStart(3, '0') : parts.version;
  const segments = [parts.typeCode, parts.issuerCode, parts.serial, version].map((x) => x.toUpperCase());
  for (const [i, seg] of segments.entries()) {
    if (!SEGMENT.test(seg)) throw new RangeError(`证照标识 segment ${i + 2} ${JSON.stringify(seg)} must be non-empty 0-9A-Z`);
  }
  if (!/^\d{3}$/.test(segments[3] as string)) throw new RangeError(`证照标识 version ${JSON.stringify(version)} must be 3 digits`);
  return `${LICENSE_ID_ROOT}.${segments.join('.')}.${licenseCheckChar(segments.join(''))}`;
}

/**
 * Parses a 证照标识 into its segments, or returns null when its shape is wrong.
 * Does not check the check character; see {@link isValidLicenseId}.
 */
export function parseLicenseId(id: string): (LicenseIdParts & { version: string; check: string }) | null {
  if (!id.startsWith(`${LICENSE_ID_ROOT}.`)) return null;
  const rest = id.slice(LICENSE_ID_ROOT.length + 1).split('.');
  if (rest.length !== 5 || !rest.every((s) => SEGMENT.test(s))) return null;
  const [typeCode, issuerCode, serial, version, check] = rest as [string, string, string, string, string];
  if (!/^\d{3}$/.test(version) || check.length !== 1) return null;
  return { typeCode, issuerCode, serial, version, check };
}

/** True when `id` has the 证照标识 shape and its MOD 37,36 check character matches. Never throws. */
export function isValidLicenseId(id: string): boolean {
  const parts = parseLicenseId(id);
  if (!parts) return false;
  // Hybrid-system check: the check character completes (p + v) ≡ 1 (mod 36) without the final doubling, so
  // the "same loop ends with p == 1" shortcut in some notes does not hold; recompute instead.
  return licenseCheckChar(parts.typeCode + parts.issuerCode + parts.serial + parts.version) === parts.check;
}
