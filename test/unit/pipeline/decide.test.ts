/**
 * decide(): the rule results of one filing → APPROVE, REJECT or MANUAL (DESIGN.md §2). Missing knowledge (UNKNOWN)
 * is never a rejection; a FAIL rejects only when its rule says REJECT; an approvable result still goes to a person
 * when the matter is not auto-approvable. Every combination of three rules' results and onFail is checked against
 * that sentence, so a change in precedence cannot hide behind the few named cases.
 */
import { describe, expect, it } from 'vitest';
import type { RuleEvaluation, RuleResult } from '../../../src/domain/types.js';
import { decide } from '../../../src/pipeline/evaluate-rules.js';

const rule = (id: string, result: RuleResult, onFail: 'REJECT' | 'MANUAL' = 'REJECT'): RuleEvaluation => ({
  id,
  result,
  onFail,
  message: `${id} message`,
  basis: `${id} basis`,
});

const reason = (e: RuleEvaluation) => ({ rule: e.id, message: e.message, basis: e.basis, result: e.result });

describe('decide()', () => {
  it('approves when every rule passes and the matter is auto-approvable', () => {
    expect(decide([rule('a', 'PASS'), rule('b', 'PASS')], true)).toEqual({ outcome: 'APPROVE', reasons: [] });
  });

  it('approves a matter with no rules at all', () => {
    expect(decide([], true)).toEqual({ outcome: 'APPROVE', reasons: [] });
  });

  it('sends an all-PASS filing to a person when the matter is not auto-approvable, saying why', () => {
    const d = decide([rule('a', 'PASS')], false);
    expect(d.outcome).toBe('MANUAL');
    expect(d.reasons).toEqual([{ rule: 'manual-matter', message: expect.any(String), basis: expect.any(String), result: 'UNKNOWN' }]);
  });

  it('rejects on a FAIL whose onFail is REJECT, naming only the rejecting rules', () => {
    const evaluations = [rule('a', 'PASS'), rule('b', 'FAIL', 'REJECT'), rule('c', 'FAIL', 'MANUAL')];
    expect(decide(evaluations, true)).toEqual({ outcome: 'REJECT', reasons: [reason(evaluations[1]!)] });
  });

  it('rejects even a matter that is not auto-approvable when a REJECT rule fails', () => {
    expect(decide([rule('a', 'FAIL', 'REJECT')], false).outcome).toBe('REJECT');
  });

  it('sends a FAIL whose onFail is MANUAL to a person, with every rule that did not pass', () => {
    const evaluations = [rule('a', 'FAIL', 'MANUAL'), rule('b', 'PASS'), rule('c', 'FAIL', 'MANUAL')];
    expect(decide(evaluations, true)).toEqual({ outcome: 'MANUAL', reasons: [reason(evaluations[0]!), reason(evaluations[2]!)] });
  });

  it('never rejects on missing knowledge: an UNKNOWN beside a REJECT FAIL is MANUAL, listing both in rule order', () => {
    const evaluations = [rule('a', 'FAIL', 'REJECT'), rule('b', 'UNKNOWN', 'REJECT'), rule('c', 'PASS')];
    expect(decide(evaluations, true)).toEqual({ outcome: 'MANUAL', reasons: [reason(evaluations[0]!), reason(evaluations[1]!)] });
  });

  it('an UNKNOWN alone is MANUAL whatever its onFail', () => {
    expect(decide([rule('a', 'UNKNOWN', 'REJECT')], true).outcome).toBe('MANUAL');
    expect(decide([rule('a', 'UNKNOWN', 'MANUAL')], true).outcome).toBe('MANUAL');
  });

  it('follows the precedence UNKNOWN → REJECT → MANUAL → approvable for every combination of three rules', () => {
    const results: RuleResult[] = ['PASS', 'FAIL', 'UNKNOWN'];
    const kinds = results.flatMap((r) => (['REJECT', 'MANUAL'] as const).map((onFail) => ({ r, onFail })));
    let checked = 0;
    for (const x of kinds) {
      for (const y of kinds) {
        for (const z of kinds) {
          for (const autoApprove of [true, false]) {
            const evaluations = [rule('x', x.r, x.onFail), rule('y', y.r, y.onFail), rule('z', z.r, z.onFail)];
            const expected = evaluations.some((e) => e.result === 'UNKNOWN')
              ? 'MANUAL'
              : evaluations.some((e) => e.result === 'FAIL' && e.onFail === 'REJECT')
                ? 'REJECT'
                : evaluations.some((e) => e.result === 'FAIL') || !autoApprove
                  ? 'MANUAL'
                  : 'APPROVE';
            const d = decide(evaluations, autoApprove);
            const label = JSON.stringify({ evaluations: evaluations.map((e) => [e.result, e.onFail]), autoApprove });
            expect(d.outcome, label).toBe(expected);
            if (expected === 'APPROVE') expect(d.reasons, label).toEqual([]);
            else expect(d.reasons.length, label).toBeGreaterThan(0);
            // A PASS is never given as a reason.
            expect(d.reasons.every((r) => r.result !== 'PASS'), label).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(6 ** 3 * 2);
  });
});
