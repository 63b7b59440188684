/**
 * Issue 17 items 1 and 2, the probe's inputs on the real API: a form array far over its maxItems, thousands of
 * empty objects where facilities belong, a webhook with 40,000 events. Each is refused with 400
 * REQUEST_VALIDATION naming the field, a short error list, nothing stored, and no 500 (the stack overflow of
 * `push(...errors)` is gone). Before the fix the first took ~6 s and answered 14 MB at 100k items.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FIELD_ERRORS } from '../../../src/errors.js';
import { intakeCounts } from '../../support/db-counts.js';
import { HAPPY_USCC, grainFiling, startStack, submit, type Stack } from '../../support/stack.js';

/** CPU milliseconds (user + system) this process has used: what a request costs, whatever else the machine runs. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface ErrorBody {
  code: string;
  errors?: Array<{ path: string; message: string }>;
}

describe('hostile input (sqlite)', () => {
  let stack: Stack;
  let applicant: string;

  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite', worker: false });
    applicant = await stack.token(HAPPY_USCC);
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  const precheck = (form: Record<string, unknown>) =>
    stack.app.inject({
      method: 'POST',
      url: '/v1/matters/grain-purchase-filing/precheck',
      headers: { authorization: `Bearer ${applicant}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ answers: grainFiling().answers, form: grainFiling({ form }).form }),
    });

  /** A 400 REQUEST_VALIDATION naming `path`, with at most MAX_FIELD_ERRORS (+1 summary) errors and a small body. */
  function expectBounded(res: { statusCode: number; body: string; json<T>(): T }, path: string) {
    expect(res.statusCode, res.body.slice(0, 300)).toBe(400);
    const body = res.json<ErrorBody>();
    expect(body.code).toBe('REQUEST_VALIDATION');
    expect(body.errors?.map((e) => e.path)).toContain(path);
    expect(body.errors!.length).toBeLessThanOrEqual(MAX_FIELD_ERRORS + 1);
    expect(res.body.length).toBeLessThan(8_192);
  }

  it('refuses 42,000 grain types with one short error, quickly, and stores nothing', async () => {
    const before = await intakeCounts(stack);
    // Short items so the body stays under BODY_LIMIT_BYTES (256 KB), as the probe's 241 KB did.
    const grainTypes = Array.from({ length: 42_000 }, (_, i) => i % 100);
    const t0 = cpuMs();
    const res = await submit(stack, applicant, grainFiling({ form: { grainTypes } }));
    const ms = cpuMs() - t0;
    expectBounded(res, '/form/grainTypes');
    expect(res.json<ErrorBody>().errors![0]!.message).toContain('at most 6');
    // CPU time of this process (API in-process), not wall time, so a busy CI machine does not fail it; the quadratic
    // check took ~6,000 ms on the probe's machine, the bounded one a few ms.
    expect(ms).toBeLessThan(1_500);
    expect(await intakeCounts(stack)).toEqual(before);
  });

  it('refuses 100,000 items at precheck with a capped body (was 14.5 MB)', async () => {
    const grainTypes = Array.from({ length: 100_000 }, (_, i) => i % 10);
    expectBounded(await precheck({ grainTypes }), '/form/grainTypes');
  });

  it('refuses 20,000 empty storage facilities with 400, not a 500 from a stack overflow', async () => {
    const storageFacilities = Array.from({ length: 20_000 }, () => ({}));
    expectBounded(await submit(stack, applicant, grainFiling({ form: { storageFacilities } })), '/form/storageFacilities');
    expectBounded(await precheck({ storageFacilities }), '/form/storageFacilities');
  });

  it('caps the error list when every one of 50 allowed facilities is wrong in several ways', async () => {
    const storageFacilities = Array.from({ length: 50 }, () => ({ capacityTonnes: 'many', extra: 1 }));
    const res = await submit(stack, applicant, grainFiling({ form: { storageFacilities } }));
    expectBounded(res, '/form/storageFacilities/0/capacityTonnes');
    const errors = res.json<ErrorBody>().errors!;
    expect(errors).toHaveLength(MAX_FIELD_ERRORS + 1);
    expect(errors.at(-1)!.message).toMatch(/more errors not listed/);
  });

  it('refuses a 10,000-character address at its maxLength, naming the path', async () => {
    const storageFacilities = [{ address: '路'.repeat(10_000), capacityTonnes: 1, ownership: '自有', realEstateCertNo: 'x' }];
    expectBounded(await submit(stack, applicant, grainFiling({ form: { storageFacilities } })), '/form/storageFacilities/0/address');
  });

  it('refuses a webhook with 40,000 events with 400 before checking them pairwise', async () => {
    const consumer = await stack.token('DOWNSTREAM-HOSTILE', 'consumer', { scope: 'certificates:read webhooks:write' });
    const events = Array.from({ length: 40_000 }, (_, i) => String(i % 10));
    const t0 = cpuMs();
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: { authorization: `Bearer ${consumer}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ url: 'https://downstream.example.com/hook', events }),
    });
    const ms = cpuMs() - t0;
    expectBounded(res, '/events');
    expect(ms).toBeLessThan(1_500);
  });
});
