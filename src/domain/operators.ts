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

/** Item test shared by anyItem/allItems: `where` (exact keys) selects, then `operator(item[path], value)` if given. */
interface ItemTest {
  where?: Record<string, unknown>;
  path?: string;
  operator?: string;
  value?: unknown;
  /** allItems only: at least this many items must be selected (default 0). */
  min?: number;
}

function asItemTest(b: unknown): ItemTest | null {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return null;
  const t = b as ItemTest;
  if (t.where !== undefined && (typeof t.where !== 'object' || t.where === null)) return null;
  if (t.operator !== undefined && (typeof t.operator !== 'string' || !(t.operator in operators || t.operator in builtinOperators))) return null;
  return t;
}

function selected(items: unknown[], t: ItemTest): unknown[] {
  return items.filter((item) => Object.entries(t.where ?? {}).every(([k, v]) => getPath(item, k) === v));
}

function satisfies(item: unknown, t: ItemTest): boolean {
  if (!t.operator) return true;
  const value = t.path ? getPath(item, t.path) : item;
  return applyOperator(t.operator, value, t.value);
}

/** json-rules-engine's built-in operators, for tests outside the engine (array items, answers from data). */
export const builtinOperators: Record<string, Operator> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  in: (a, b) => Array.isArray(b) && b.includes(a),
  notIn: (a, b) => Array.isArray(b) && !b.includes(a),
  contains: (a, b) => Array.isArray(a) && a.includes(b),
  doesNotContain: (a, b) => Array.isArray(a) && !a.includes(b),
  lessThan: (a, b) => typeof a === 'number' && typeof b === 'number' && a < b,
  lessThanInclusive: (a, b) => typeof a === 'number' && typeof b === 'number' && a <= b,
  greaterThan: (a, b) => typeof a === 'number' && typeof b === 'number' && a > b,
  greaterThanInclusive: (a, b) => typeof a === 'number' && typeof b === 'number' && a >= b,
};

/** Applies a custom or built-in operator by name; an unknown name is not a match. */
export function applyOperator(name: string, a: unknown, b: unknown): boolean {
  const fn = operators[name] ?? builtinOperators[name];
  return fn ? fn(a, b) : false;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
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
  /** A licence-style validity: the fact is a 'valid until' date (null = 长期) that has not passed on the rule date. */
  validOn: (a, b) => isDate(b) && (a === null || (isDate(a) && a >= b)),
  /** The code lies within one of several region prefixes, e.g. ['210102', '210103']. */
  regionWithinAny: (a, b) => typeof a === 'string' && Array.isArray(b) && b.some((p) => typeof p === 'string' && isWithinRegion(a, p)),
  /** Some item (selected by `where`) satisfies `operator(item[path], value)`; with no operator, some item is selected. */
  anyItem: (a, b) => {
    const t = asItemTest(b);
    return Array.isArray(a) && t !== null && selected(a, t).some((item) => satisfies(item, t));
  },
  /** Every selected item satisfies the test, and at least `min` items are selected. */
  allItems: (a, b) => {
    const t = asItemTest(b);
    if (!Array.isArray(a) || t === null) return false;
    const items = selected(a, t);
    return items.length >= (t.min ?? 0) && items.every((item) => satisfies(item, t));
  },
  /** rule value {of: [paths], path}: the numbers at `of` add up to the number at `path` (e.g. 泊位总数). */
  sumEquals: (a, b) => {
    if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
    const { of, path } = b as { of?: unknown; path?: unknown };
    if (!Array.isArray(of) || typeof path !== 'string') return false;
    const total = num(getPath(a, path));
    const parts = of.map((p) => (typeof p === 'string' ? num(getPath(a, p)) : null));
    if (total === null || parts.some((p) => p === null)) return false;
    return (parts as number[]).reduce((x, y) => x + y, 0) === total;
  },
  /** rule value {numerator, denominator, min}: fact[numerator] / fact[denominator] ≥ min (denominator > 0). */
  ratioAtLeast: (a, b) => {
    if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
    const { numerator, denominator, min } = b as { numerator?: unknown; denominator?: unknown; min?: unknown };
    if (typeof numerator !== 'string' || typeof denominator !== 'string' || num(min) === null) return false;
    const n = num(getPath(a, numerator));
    const d = num(getPath(a, denominator));
    return n !== null && d !== null && d > 0 && n / d >= (min as number);
  },
  /** rule value true: the fact is there (not null/undefined, not blank text, not an empty list); false: it is not. */
  present: (a, b) => {
    const there = a !== null && a !== undefined && !(typeof a === 'string' && a.trim() === '') && !(Array.isArray(a) && a.length === 0);
    return typeof b === 'boolean' && there === b;
  },
  /** Fact string contains the rule string after text normalisation (e.g. 经营范围 contains 停车). */
  containsText: (a, b) => typeof a === 'string' && typeof b === 'string' && normaliseText(a).includes(normaliseText(b)),
};
