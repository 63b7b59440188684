/**
 * 业务协同: a disability-certificate filing waits in manual review until the 评定机构's assessment arrives, and is then
 * decided again automatically and issued — no new filing, no person. A manual review for any other reason stays
 * with a person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recheckAwaiting } from '../../../src/queue/await-recheck.js';
import { grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite' });
});
afterAll(async () => {
  await stack?.close();
});

const recheck = () =>
  recheckAwaiting({ store: stack.deps.store, catalog: stack.deps.catalog, queue: stack.deps.queue, clock: () => new Date(), log: stack.deps.logger }, { minWaitMs: 0 });

describe('filings that await another department’s result', () => {
  it('are issued automatically once the assessment arrives', async () => {
    const t = stack.deps.catalog.get('disability-certificate')!.def.tests[1]!; // 周梅: assessment not yet received
    const token = await stack.token(t.applicant);
    const res = await submit(stack, token, { matter: 'disability-certificate', answers: t.answers, form: t.form, consent: { dataSharing: true, sealAuthorization: true } });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    const waiting = await waitForDecision(stack, id, token);
    expect(waiting.status).toBe('manual_review');
    expect(waiting.decision!.reasons.map((r) => r.rule)).toEqual(['assessment-received']);

    // Nothing arrived yet: decided again, still waiting.
    expect(await recheck()).toEqual([id]);
    expect((await waitForDecision(stack, id, token)).status).toBe('manual_review');

    const idNumber = (t.form as { disabledPerson: { idNumber: string } }).disabledPerson.idNumber;
    stack.sources!.records['disability-assessment']![idNumber] = {
      idNumber, category: '肢体', categoryCode: 4, grade: 2, institution: '沈阳市第一人民医院残疾评定中心', assessedOn: '2026-11-20', signed: true,
    };
    expect(await recheck()).toEqual([id]);
    const issued = await waitForDecision(stack, id, token);
    expect(issued.status, JSON.stringify(issued.decision)).toBe('approved');
    expect(issued.certificate?.number).toMatch(/^沈残证〔\d{4}〕\d{6}号$/);
    expect(await recheck()).toEqual([]);
  });

  it('leave a manual review for any other reason with a person', async () => {
    const token = await stack.token('91210106MA0U7G8H65'); // seriously dishonest → MANUAL
    const res = await submit(stack, token, grainFiling({ form: { storageFacilities: [{ address: '沈阳市某区粮库', capacityTonnes: 3000, ownership: '自有', realEstateCertNo: '辽(2022)沈阳市不动产权第0054321号' }] } }));
    const id = res.json<{ id: string }>().id;
    expect((await waitForDecision(stack, id, token)).status).toBe('manual_review');
    expect(await recheck()).not.toContain(id);
    expect((await stack.deps.store.applications.get(id))!.status).toBe('manual_review');
  });
});
