/**
 * The human-readable application number (申请编号, issue 18): `沈2026120400017` — the city's one-character
 * abbreviation, the Beijing calendar day of the filing (YYYYMMDD) and that day's counter (5 digits, more if a day
 * ever passes 99 999 filings). The counter is claimed in the intake transaction (store), so numbers are unique
 * and consecutive per day; the UUID stays the id in URLs.
 */

/** 辽宁省 cities (GB/T 2260 prefecture codes) → the abbreviation printed before the number. */
const CITY_ABBREVIATION: Readonly<Record<string, string>> = {
  '210100': '沈',
  '210200': '连',
  '210300': '鞍',
  '210400': '抚',
  '210500': '本',
  '210600': '丹',
  '210700': '锦',
  '210800': '营',
  '210900': '阜',
  '211000': '辽',
  '211100': '盘',
  '211200': '铁',
  '211300': '朝',
  '211400': '葫',
};

/** The number prefix of a node's city (沈 for 210100); a city not in the table uses its 6-digit code. */
export function applicationNumberPrefix(cityCode: string): string {
  return CITY_ABBREVIATION[cityCode] ?? cityCode;
}

/** `2026-12-03T16:30:00Z` → `20261204`: the Beijing (UTC+8, no daylight saving) calendar day of an instant. */
export function beijingDayKey(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new RangeError(`not an ISO time: ${JSON.stringify(iso)}`);
  return new Date(t + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
}

export function formatApplicationNumber(prefix: string, dayKey: string, seq: number): string {
  if (!Number.isInteger(seq) || seq < 1) throw new RangeError(`application number counter must be ≥ 1, got ${seq}`);
  return `${prefix}${dayKey}${String(seq).padStart(5, '0')}`;
}

/** Default prefix where a caller does not say (the reference deployment is 沈阳, CITY_CODE 210100). */
export const DEFAULT_NUMBER_PREFIX = '沈';
