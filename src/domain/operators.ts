/**
 * Custom json-rules-engine operators: pure functions (fact value, rule value) → boolean.
 * They never throw: a value of the wrong shape is simply not a match.
 */
import { isValidIdNumber, isValidUscc, isWithinRegion, normaliseCode, usccEntityCategory } from './identifiers.js';
import { getPath } from './paths.js';

export type Operator = (factValue: unknown, ruleValue: unknown) => boolean;

/** NFKC, no whitespace (incl. full-width spaces): "张 伟" and "张伟" are the same name. */
export function normaliseText(s: string): string {
  return s.normalize('NFKC').replace(/\s+/gu, '');
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isDate(s: unknown): s is string {
  if (typeof s !== 'string' || !DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export const operators: Record<string, Operator> = {
  /** Strings equal after NFKC and whitespace removal. */
  sameText: (a, b) => typeof a === 'string' && typeof b === 'string' && normaliseText(a) === normaliseText(b),
  /** Identifiers equal after NFKC/upper-casing (full-width input). */
  sameCode: (a, b) => typeof a === 'string' && typeof b === 'string' && normaliseCode(a) === normaliseCode(b),
  /** The USCC's first two characters (登记管理部门 + 机构类别), e.g. '91' 企业. */
  usccCategory: (a, b) => typeof a === 'string' && typeof b === 'string' && usccEntityCategory(normaliseCode(a)) === b,
  validUscc: (a, b) => typeof a === 'string' && isValidUscc(a) === b,
  /** rule value: {today: 'YYYY-MM-DD'} or true with today taken from the id's own plausibility. */
  validIdNumber: (a, b) => {
    if (typeof a !== 'string' || typeof b !== 'object' || b === null) return false;
    const today = (b as { today?: unknown }).today;
    return typeof today === 'string' && isValidIdNumber(a, today);
  },
  /** A 6-digit 行政区划代码 within a prefix, e.g. '2101' 沈阳市. */
  regionWithin: (a, b) => typeof a === 'string' && typeof b === 'string' && isWithinRegion(a, b),
  minItems: (a, b) => Array.isArray(a) && typeof b === 'number' && a.length >= b,
  /** rule value {path, than}: every item's number at path is > than. */
  everyItemGreaterThan: (a, b) => {
    if (!Array.isArray(a) || typeof b !== 'object' || b === null) return false;
    const { path, than } = b as { path?: unknown; than?: unknown };
    if (typeof path !== 'string' || typeof than !== 'number') return false;
    return a.every((item) => {
      const v = getPath(item, path);
      return typeof v === 'number' && Number.isFinite(v) && v > than;
    });
  },
  dateOnOrAfter: (a, b) => isDate(a) && isDate(b) && a >= b,
  dateBefore: (a, b) => isDate(a) && isDate(b) && a < b,
  /** rule value {from?: date, days}: the fact date is within `days` days of today given as rule value {today, days}. */
  withinDays: (a, b) => {
    if (!isDate(a) || typeof b !== 'object' || b === null) return false;
    const { today, days } = b as { today?: unknown; days?: unknown };
    if (!isDate(today) || typeof days !== 'number') return false;
    const diff = (Date.parse(`${today}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000;
    return diff >= 0 && diff <= days;
  },
  /** Fact string contains the rule string after text normalisation (e.g. 经营范围 contains 停车). */
  containsText: (a, b) => typeof a === 'string' && typeof b === 'string' && normaliseText(a).includes(normaliseText(b)),
};
