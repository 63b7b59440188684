/**
 * 公租房申请 (the merged matter): the applicant applies once; after the qualification is approved the department
 * publishes it (公示) and, for households who accept a subsidy, pays the 租赁补贴 on its own — scheduled with the
 * approval, run when due, visible with the application.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueFollowUps } from '../../../src/pipeline/follow-ups.js';
import { startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite' });
});
afterAll(async () => {
  await stack?.close();
});

async function file(index: number) {
  const t = stack.deps.catalog.get('public-rental-housing')!.def.tests[index]!;
  const token = await stack.token(t.applicant);
  const res = await submit(stack, token, { matter: 'public-rental-housing', answers: t.answers, form: t.form, consent: { dataSharing: true, sealAuthorization: true } });
  expect(res.statusCode, res.body).toBe(202);
  const id = res.json<{ id: string }>().id;
  const body = await waitForDecision(stack, id, token);
  expect(body.status).toBe('approved');
  return { id, token, members: (t.form as { members: unknown[] }).members.length };
}

const view = async (id: string, token: string) =>
  (await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}`, headers: { authorization: `Bearer ${token}` } })).json<{
    followUps?: Array<{ step: string; status: string; dueAt: string; detail: string | null }>;
  }>();

describe('public rental housing follow-ups', () => {
  it('schedules the notice and the subsidy after the notice period, and pays the configured subsidy when due', async () => {
    const { id, token, members } = await file(0); // preference 均可
    const before = await view(id, token);
    expect(before.followUps?.map((f) => [f.step, f.status])).toEqual([
      ['public-notice', 'scheduled'],
      ['rental-subsidy', 'scheduled'],
    ]);
    const config = stack.deps.catalog.get('public-rental-housing')!.def.config!;
    const due = Date.parse(before.followUps![0]!.dueAt);
    expect(due - Date.now()).toBeGreaterThan((Number(config['publicNoticeDays']) - 1) * 86_400_000);

    // Nothing is due yet.
    expect(await runDueFollowUps({ store: stack.deps.store, catalog: stack.deps.catalog, clock: () => new Date() })).toBe(0);
    // After the notice period both steps run.
    const later = () => new Date(due + 60_000);
    expect(await runDueFollowUps({ store: stack.deps.store, catalog: stack.deps.catalog, clock: later })).toBeGreaterThanOrEqual(2);
    const after = await view(id, token);
    expect(after.followUps?.every((f) => f.status === 'done')).toBe(true);
    const expected = Number(config['subsidyPerSquareMetreMonthly']) * Number(config['subsidyAreaPerPerson']) * members;
    expect(after.followUps?.find((f) => f.step === 'rental-subsidy')?.detail).toContain(`每月发放 ${expected.toFixed(2)} 元`);
    // Running again does nothing twice.
    expect(await runDueFollowUps({ store: stack.deps.store, catalog: stack.deps.catalog, clock: later })).toBe(0);
  });

  it('gives no subsidy to a household that asked only for a unit', async () => {
    const { id, token } = await file(1); // preference 实物配租
    expect((await view(id, token)).followUps?.map((f) => f.step)).toEqual(['public-notice']);
  });
});
