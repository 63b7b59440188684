/**
 * Identifier algorithms (pure): 统一社会信用代码 (GB 32100-2015), 组织机构代码 (GB 11714-1997),
 * 公民身份号码 (GB 11643-1999, ISO 7064 MOD 11-2) and 行政区划代码 (GB/T 2260).
 * See `domain/REFERENCE.md` §1.1–1.3 for the algorithms and test vectors.
 *
 * No I/O and no clock: whatever depends on "today" takes it as an argument so that a decision can be
 * re-evaluated from its receipt and give the same answer.
 */

/**
 * Canonical form of a typed code: NFKC (full-width "９１…" / "ｘ" → half-width), trimmed, upper-case.
 * Applicants paste codes from Word documents and Chinese IMEs, which produce full-width characters; the
 * authorities store half-width upper-case, so every comparison must go through this.
 */
export function normaliseCode(s: string): string {
  return s.normalize('NFKC').trim().toUpperCase();
}

// ---------------------------------------------------------------------------------------------------
// 统一社会信用代码 (USCC)

/** The 31 characters of GB 32100: digits plus letters without I, O, S, V, Z (value = index). */
const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** Weights 3^(i-1) mod 31 for positions 1–17. */
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const USCC_REGEX = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/**
 * Check character (position 18) of a USCC from its first 17 characters, or `null` when the input is not
 * 17 characters of the USCC character set. Expects normalised (half-width upper-case) input.
 */
export function usccCheckChar(code17: string): string | null {
  if (code17.length !== 17) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_CHARSET.indexOf(code17.charAt(i));
    if (v < 0) return null;
    sum += v * (USCC_WEIGHTS[i] ?? 0);
  }
  const c = (31 - (sum % 31)) % 31;
  return USCC_CHARSET.charAt(c);
}

/**
 * Whether `s` is a well-formed USCC with a correct check character. The input is normalised first
 * (full-width, lower-case and surrounding blanks are accepted). The org-code check is NOT part of this:
 * see {@link orgCodeValid}.
 */
export function isValidUscc(s: string): boolean {
  const code = normaliseCode(s);
  return USCC_REGEX.test(code) && usccCheckChar(code.slice(0, 17)) === code.charAt(17);
}

/** GB 11714 character values: 0–9 → 0–9 and A–Z → 10–35 (this set includes I, O, S, V, Z). */
const ORG_CHARSET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

/**
 * Secondary check of a USCC: positions 9–17 are a GB 11714 组织机构代码 whose position 17 is its own check
 * character. Informational only (a WARN, never a reject): codes failing it are known to exist on real
 * licences, and the authoritative check is the look-up in 市场主体登记.
 */
export function orgCodeValid(uscc: string): boolean {
  const code = normaliseCode(uscc);
  if (code.length !== 18) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const v = ORG_CHARSET.indexOf(code.charAt(8 + i));
    if (v < 0) return false;
    sum += v * (ORG_WEIGHTS[i] ?? 0);
  }
  const r = 11 - (sum % 11);
  const expected = r === 10 ? 'X' : r === 11 ? '0' : String(r);
  return code.charAt(16) === expected;
}

/**
 * 登记管理部门代码 + 机构类别代码 (first two characters, e.g. `'91'` 企业, `'92'` 个体工商户, `'93'` 农民专业合作社),
 * or `null` when the input does not have the USCC shape. The check character is deliberately not required:
 * a registered entity whose code fails its checksum must still be categorised (it goes to manual review,
 * it is not an unknown kind of entity).
 */
export function usccEntityCategory(uscc: string): string | null {
  const code = normaliseCode(uscc);
  return USCC_REGEX.test(code) ? code.slice(0, 2) : null;
}

// ---------------------------------------------------------------------------------------------------
// 公民身份号码

/** Weights 2^(17-i) mod 11 and the check map indexed by (sum mod 11). */
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK_MAP = '10X98765432';
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Earliest birth date accepted: GB 11643's own example is 1880-01-01; earlier values are garbage. */
const EARLIEST_BIRTH = '1800-01-01';

/**
 * Check character (position 18, `0`–`9` or `X`) of a 身份证号 from its first 17 digits, or `null` when
 * the input is not 17 ASCII digits.
 */
export function idNumberCheckChar(d17: string): string | null {
  if (!/^\d{17}$/.test(d17)) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(d17.charAt(i)) * (ID_WEIGHTS[i] ?? 0);
  return ID_CHECK_MAP.charAt(sum % 11);
}

/** `YYYY-MM-DD` when `yyyymmdd` is a real calendar date (leap years included), else `null`. */
function calendarDate(yyyymmdd: string): string | null {
  if (!/^\d{8}$/.test(yyyymmdd)) return null;
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  if (m < 1 || m > 12 || d < 1) return null;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
  if (d > days) return null;
  return `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
}

/** Throws on a malformed `today`: that is a programming error, not an applicant's input error. */
function assertIsoDate(today: string): void {
  const m = ISO_DATE.exec(today);
  if (!m || calendarDate(`${m[1]}${m[2]}${m[3]}`) === null) {
    throw new RangeError(`today must be a YYYY-MM-DD date, got ${JSON.stringify(today)}`);
  }
}

/**
 * Whether `s` is a valid 18-character 公民身份号码 on `today` (`YYYY-MM-DD`, passed in so the result is
 * reproducible): 17 digits + digit/X, a real birth date not after today, and a correct check character.
 * Lower-case `x`, full-width characters and surrounding blanks are accepted (normalised first).
 * The checksum alone does not catch impossible dates such as 1999-02-29, hence the date check.
 * @throws RangeError when `today` is not a `YYYY-MM-DD` date.
 */
export function isValidIdNumber(s: string, today: string): boolean {
  assertIsoDate(today);
  const id = normaliseCode(s);
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const birth = calendarDate(id.slice(6, 14));
  if (birth === null || birth > today || birth < EARLIEST_BIRTH) return false;
  return idNumberCheckChar(id.slice(0, 17)) === id.charAt(17);
}

/**
 * Converts a legacy 15-digit 身份证号 (6 area + YYMMDD + 3 sequence, no check character, all issued to
 * people born in the 1900s) to its 18-character form, or `null` when it is not 15 digits with a real date.
 */
export function idNumber15To18(s15: string): string | null {
  const id = normaliseCode(s15);
  if (!/^\d{15}$/.test(id)) return null;
  const d17 = `${id.slice(0, 6)}19${id.slice(6)}`;
  if (calendarDate(d17.slice(6, 14)) === null) return null;
  return d17 + (idNumberCheckChar(d17) ?? '');
}

/**
 * Birth date (`YYYY-MM-DD`) encoded in an 18- or 15-character 身份证号, or `null` when the shape or the
 * date is invalid. Does not verify the check character (use {@link isValidIdNumber} for that).
 */
export function birthDateOf(id: string): string | null {
  const s = normaliseCode(id);
  if (/^\d{17}[\dX]$/.test(s)) return calendarDate(s.slice(6, 14));
  if (/^\d{15}$/.test(s)) return calendarDate(`19${s.slice(6, 12)}`);
  return null;
}

/**
 * Gender encoded in a 身份证号 (顺序码: odd = 男, even = 女), or `null` when the shape is invalid.
 * Lets demo data and rules check a population record's gender against the number.
 */
export function genderOf(id: string): '男' | '女' | null {
  const s = normaliseCode(id);
  const seqDigit = /^\d{17}[\dX]$/.test(s) ? s.charAt(16) : /^\d{15}$/.test(s) ? s.charAt(14) : null;
  if (seqDigit === null) return null;
  return Number(seqDigit) % 2 === 1 ? '男' : '女';
}

// ---------------------------------------------------------------------------------------------------
// 行政区划代码

/**
 * Whether `s` is a 6-digit GB/T 2260 行政区划代码. Shape only: historical codes (e.g. 210122 辽中县) stay
 * valid in old ID numbers and USCCs, so no list of current units is consulted. No normalisation either:
 * codes reaching the rules have already been normalised at intake.
 */
export function isRegionCode(s: string): boolean {
  return /^\d{6}$/.test(s);
}

/**
 * Whether region `code` lies within `prefix` (2 digits = province, 4 = prefecture such as `'2101'` 沈阳市,
 * 6 = the county itself). `false` when either argument is malformed.
 */
export function isWithinRegion(code: string, prefix: string): boolean {
  return isRegionCode(code) && /^\d{2}(\d{2}){0,2}$/.test(prefix) && code.startsWith(prefix);
}
