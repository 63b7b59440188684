/**
 * The bundle state machine: who starts when, what each member shows, when the bundle is complete — and that a
 * member's rejection or manual review holds back only its dependants.
 */
import { describe, expect, it } from 'vitest';
import { awaitedSources, planBundle, type MemberProgress } from '../../../src/bundles/plan.js';
import type { BundleDef } from '../../../src/bundles/types.js';

const def: Pick<BundleDef, 'members'> = {
  members: [
    { matter: 'card', level: '区县', mode: 'request' },
    { matter: 'care', level: '区县', mode: 'proactive', dependsOn: ['card'] },
    { matter: 'transit', level: '市', mode: 'proactive', dependsOn: ['card'] },
    { matter: 'jobs', level: '区县', mode: 'request' },
  ],
};
const p = (matter: string, status: MemberProgress['status'] = null, awaiting: string[] = []): MemberProgress => ({
  matter,
  status,
  decision: status === null ? null : { outcome: status === 'approved' ? 'APPROVE' : status === 'rejected' ? 'REJECT' : 'MANUAL', reasons: [] },
  awaiting,
});

describe('planning a bundle application', () => {
  it('starts members without open dependencies first; dependants wait naming what they wait for', () => {
    const plan = planBundle(def, [p('card'), p('care'), p('transit'), p('jobs')]);
    expect(plan.start).toEqual(['card', 'jobs']);
    expect(plan.members.find((m) => m.matter === 'care')).toMatchObject({ status: 'queued', waitingFor: ['card'], start: false });
    expect(plan.complete).toBe(false);
  });

  it('starts the dependants once the dependency is approved — or rejected (their own rules then decide)', () => {
    expect(planBundle(def, [p('card', 'approved'), p('care'), p('transit'), p('jobs', 'processing')]).start).toEqual(['care', 'transit']);
    expect(planBundle(def, [p('card', 'rejected'), p('care'), p('transit'), p('jobs', 'approved')]).start).toEqual(['care', 'transit']);
  });

  it('holds back only the dependants of a member in manual review; the bundle completes with it decided', () => {
    const plan = planBundle(def, [p('card', 'manual_review'), p('care'), p('transit'), p('jobs', 'approved')]);
    expect(plan.start).toEqual([]);
    expect(plan.members.find((m) => m.matter === 'card')).toMatchObject({ status: 'manual_review', decided: true, settled: false });
    expect(plan.members.find((m) => m.matter === 'jobs')!.decided).toBe(true);
    expect(plan.complete).toBe(false);
    const alone = planBundle(def, [p('card', 'approved'), p('jobs', 'manual_review')]);
    expect(alone.complete).toBe(true);
  });

  it('shows a member waiting for another department as processing, waiting for that source, not decided', () => {
    const plan = planBundle(def, [p('card', 'manual_review', ['disability-assessment']), p('care'), p('transit'), p('jobs', 'rejected')]);
    expect(plan.members[0]).toMatchObject({ status: 'processing', decided: false, waitingFor: ['disability-assessment'] });
    expect(plan.complete).toBe(false);
  });

  it('ignores dependencies that are not part of the application (the person holds the card already)', () => {
    expect(planBundle(def, [p('care'), p('transit')]).start).toEqual(['care', 'transit']);
  });

  it('is complete when every member is decided', () => {
    const plan = planBundle(def, [p('card', 'approved'), p('care', 'rejected'), p('transit', 'approved'), p('jobs', 'failed')]);
    expect(plan.complete).toBe(true);
    expect(plan.members.every((m) => m.decided && m.waitingFor.length === 0)).toBe(true);
  });
});

describe('what a manual review waits for', () => {
  const rules = [
    { id: 'assessment-received', awaits: true, requires: ['assessment'] },
    { id: 'person-verified', requires: ['person'] },
  ];
  const lookups = [
    { id: 'assessment', source: 'disability-assessment' },
    { id: 'person', source: 'population' },
  ];
  const manual = (...rule: string[]) => ({ outcome: 'MANUAL' as const, reasons: rule.map((r) => ({ rule: r, message: '', basis: '', result: 'FAIL' as const })) });

  it('names the sources of its awaiting rules when they are its only reasons', () => {
    expect(awaitedSources(manual('assessment-received'), rules, lookups)).toEqual(['disability-assessment']);
  });
  it('is nothing when a person must look at it for another reason too, or when it is not a manual review', () => {
    expect(awaitedSources(manual('assessment-received', 'person-verified'), rules, lookups)).toEqual([]);
    expect(awaitedSources({ outcome: 'REJECT', reasons: manual('assessment-received').reasons }, rules, lookups)).toEqual([]);
    expect(awaitedSources(null, rules, lookups)).toEqual([]);
  });
});
