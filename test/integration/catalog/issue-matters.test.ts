/**
 * The worker decides and issues for every reference matter, not only grain: each approving test case of each
 * matter, filed through the API on the real stack, ends with the outcome its test case expects and, when approved,
 * a certificate numbered in its matter's own series. The disability certificate waits (manual_review) until the
 * assessment arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite' });
});
afterAll(async () => {
  await stack?.close();
});

const STATUS = { APPROVE: 'approved', REJECT: 'rejected', MANUAL: 'manual_review' } as const;

describe('filing the new matters through the worker', () => {
  it.each([
    ['public-parking-filing', 0, '沈建停备'],
    ['public-rental-housing', 0, '沈房公租资'],
    ['disability-certificate', 0, '沈残证'],
    ['disability-certificate', 1, null],
    ['commercial-housing-presale', 0, null],
  ] as const)('%s case %i', async (code, index, prefix) => {
    const t = stack.deps.catalog.get(code)!.def.tests[index]!;
    const token = await stack.token(t.applicant);
    const res = await submit(stack, token, { matter: code, answers: t.answers, form: t.form, consent: { dataSharing: true, sealAuthorization: true } }, { 'idempotency-key': `${code}-${index}` });
    expect(res.statusCode, res.body).toBe(202);
    const body = await waitForDecision(stack, res.json<{ id: string }>().id, token, 30_000);
    expect(body.status).toBe(STATUS[t.expect.outcome]);
    if (prefix) expect(body.certificate?.number).toMatch(new RegExp(`^${prefix}〔\\d{4}〕\\d{6}号$`));
    else expect(body.certificate).toBeUndefined();
  });
});
