/**
 * Identifier algorithms under generated input: every generated valid 统一社会信用代码 (GB 32100) and 公民身份号码
 * (GB 11643) is accepted; any single character changed makes it invalid (both check systems detect every single
 * substitution); full-width, lower-case and blank-padded input normalises to the same code.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { idNumberCheckChar, isValidIdNumber, isValidUscc, normaliseCode, usccCheckChar } from '../../src/domain/identifiers.js';

const RUNS = 10_000;
const TODAY = '2026-06-01';
const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** Printable ASCII plus a few characters applicants paste: full-width digits, 〇, O/I look-alikes. */
const REPLACEMENTS = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -_./', '〇', '０', '９', 'Ｘ', 'Ｏ', '\u00a0', '\u3000'];

const usccChar = fc.constantFrom(...USCC_CHARSET);
const digit = fc.constantFrom(...'0123456789');

/** A valid USCC: 2 + 6 digits + 9 characters of the set, then its check character. */
const validUscc = fc
  .tuple(fc.array(usccChar, { minLength: 2, maxLength: 2 }), fc.array(digit, { minLength: 6, maxLength: 6 }), fc.array(usccChar, { minLength: 9, maxLength: 9 }))
  .map(([a, b, c]) => {
    const body = [...a, ...b, ...c].join('');
    return body + usccCheckChar(body)!;
  });

/** A valid 18-digit ID number born 1900-01-01 … 2025-12-28. */
const validIdNumber = fc
  .tuple(
    fc.integer({ min: 110000, max: 659999 }),
    fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2025-12-28T00:00:00Z'), noInvalidDate: true }),
    fc.integer({ min: 0, max: 999 }),
  )
  .map(([area, birth, seq]) => {
    const d17 = `${area}${birth.toISOString().slice(0, 10).replace(/-/g, '')}${String(seq).padStart(3, '0')}`;
    return d17 + idNumberCheckChar(d17)!;
  });

/** Replaces the character at `at % length` by `by`, which differs from the original. */
function substitute(code: string, at: number, by: string): string | null {
  const i = at % code.length;
  if (code.charAt(i) === by || normaliseCode(by) === code.charAt(i)) return null;
  return code.slice(0, i) + by + code.slice(i + 1);
}

/** ASCII → full-width forms (U+FF01…), as Chinese IMEs type them. */
const fullWidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

/** Counted, not assumed: property runs that passed, and runs that failed (a counterexample and its shrinks). */
const seen = { passed: 0, failed: 0 };

/** Wraps a property body so that every run is counted; fast-check's skipped runs (fc.pre) are neither. */
function counted<A extends unknown[]>(body: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      body(...args);
      seen.passed++;
    } catch (err) {
      if (!fc.PreconditionFailure.isFailure(err)) seen.failed++;
      throw err;
    }
  };
}

describe('identifiers under generated input', () => {
  afterAll(() => {
    console.log(`FUZZ identifiers: ${seen.passed + seen.failed} generated inputs checked by 5 properties (${RUNS} runs each asked), ${seen.failed} failing runs`);
    expect(seen).toEqual({ passed: 5 * RUNS, failed: 0 });
  });

  it('accepts every generated valid USCC and rejects it with any single character changed', () => {
    fc.assert(
      fc.property(validUscc, fc.nat(), fc.constantFrom(...REPLACEMENTS), counted((code, at, by) => {
        expect(isValidUscc(code)).toBe(true);
        const changed = substitute(code, at, by);
        if (changed !== null) expect(isValidUscc(changed), `${code} → ${changed}`).toBe(false);
      })),
      { numRuns: RUNS },
    );
  });

  it('accepts every generated valid ID number and rejects it with any single character changed', () => {
    fc.assert(
      fc.property(validIdNumber, fc.nat(), fc.constantFrom(...REPLACEMENTS), counted((id, at, by) => {
        expect(isValidIdNumber(id, TODAY)).toBe(true);
        const changed = substitute(id, at, by);
        if (changed !== null) expect(isValidIdNumber(changed, TODAY), `${id} → ${changed}`).toBe(false);
      })),
      { numRuns: RUNS },
    );
  });

  it('rejects two adjacent characters swapped when they differ (the common typing slip)', () => {
    fc.assert(
      fc.property(fc.oneof(validUscc.map((code) => ({ code, kind: 'uscc' })), validIdNumber.map((code) => ({ code, kind: 'id' }))), fc.nat(), counted(({ code, kind }, at) => {
        const i = at % (code.length - 1);
        const swapped = code.slice(0, i) + code.charAt(i + 1) + code.charAt(i) + code.slice(i + 2);
        fc.pre(swapped !== code);
        const valid = kind === 'id' ? isValidIdNumber(swapped, TODAY) : isValidUscc(swapped);
        // MOD 31 detects every transposition; MOD 11-2 detects them too (weights differ and 11 is prime).
        expect(valid, `${code} → ${swapped}`).toBe(false);
      })),
      { numRuns: RUNS },
    );
  });

  it('normalises full-width, lower-case and blank-padded input to the same valid code', () => {
    const pad = fc.constantFrom('', ' ', '\t', '\u3000', '\u00a0');
    // Tagged by generator: a USCC may be all digits (fast-check favours '0'), which makes it look like an ID number
    // without being one (seed -2051708860 found 002009100000020903).
    const tagged = fc.oneof(validUscc.map((code) => ({ code, id: false })), validIdNumber.map((code) => ({ code, id: true })));
    fc.assert(
      fc.property(tagged, fc.boolean(), fc.boolean(), pad, pad, counted(({ code, id }, wide, lower, before, after) => {
        let typed = lower ? code.toLowerCase() : code;
        if (wide) typed = fullWidth(typed);
        typed = before + typed + after;
        expect(normaliseCode(typed)).toBe(code);
        if (id) expect(isValidIdNumber(typed, TODAY)).toBe(true);
        expect(isValidUscc(typed)).toBe(isValidUscc(code));
      })),
      { numRuns: RUNS },
    );
  });

  it('never throws on arbitrary strings, and only accepts what normalises to a well-formed code', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), counted((s) => {
        const uscc = isValidUscc(s);
        const id = isValidIdNumber(s, TODAY);
        if (uscc) expect(normaliseCode(s)).toMatch(/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/);
        if (id) expect(normaliseCode(s)).toMatch(/^\d{17}[\dX]$/);
      })),
      { numRuns: RUNS },
    );
  });
});
