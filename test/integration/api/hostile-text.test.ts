/**
 * Issue 17 items 3 and 7 (unprintable text) on the real stack with a worker: lone surrogates, U+0000, ESC and bidi
 * overrides are refused at intake and precheck with 400 REQUEST_TEXT_INVALID naming the field, and nothing is
 * stored. Five prechecks with a lone surrogate in the 不动产权证号 (a real-estate lookup key) used to open that
 * source's breaker and send everyone's filings to MANUAL; now the breaker stays closed and a good filing approves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResilientSource } from '../../../src/data-sources/resilient.js';
import { intakeCounts } from '../../support/db-counts.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

interface ErrorBody {
  code: string;
  errors?: Array<{ path: string; message: string }>;
}

const FACILITY = { address: '沈阳市和平区南京南街1号粮库', capacityTonnes: 5000, ownership: '自有' };

describe('unprintable and ill-formed text (sqlite)', () => {
  let stack: Stack;
  let applicant: string;

  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite', env: { DATASOURCE_BREAKER_FAILURES: '3', DATASOURCE_BREAKER_OPEN_MS: '30000' } });
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

  function expectTextRefusal(res: { statusCode: number; body: string; json<T>(): T }, path: string, codePoint: string) {
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json<ErrorBody>();
    expect(body.code).toBe('REQUEST_TEXT_INVALID');
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.path).toBe(path);
    expect(body.errors![0]!.message).toContain(codePoint);
  }

  it.each([
    ['a lone high surrogate', '张\uD800伟', 'U+D800'],
    ['a lone low surrogate', '\uDC00张伟', 'U+DC00'],
    ['U+0000', '张\u0000伟', 'U+0000'],
    ['ESC', '张\u001b[31m伟', 'U+001B'],
    ['a right-to-left override', '张\u202E伟', 'U+202E'],
    ['a bidi isolate', '\u2066张伟', 'U+2066'],
  ])('refuses %s in a name at intake and precheck, storing nothing', async (_what, name, cp) => {
    const before = await intakeCounts(stack);
    const form = { responsiblePerson: { name, idNumber: '210102199001011237' } };
    expectTextRefusal(await submit(stack, applicant, grainFiling({ form })), '/form/responsiblePerson/name', cp);
    expectTextRefusal(await precheck(form), '/form/responsiblePerson/name', cp);
    expect(await intakeCounts(stack)).toEqual(before);
  });

  it('refuses a bad character in an object key, naming the object', async () => {
    const res = await submit(stack, applicant, { ...grainFiling(), answers: { ...grainFiling().answers, 'x\u0000': '1' } });
    expectTextRefusal(res, '/answers', 'U+0000');
  });

  it('accepts a name with an astral character (a well-formed surrogate pair)', async () => {
    const res = await precheck({ responsiblePerson: { name: '张𠀋伟', idNumber: '210102199001011237' } });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('five prechecks with a lone surrogate in a lookup key do not open the real-estate breaker; a good filing still approves', async () => {
    const breaker = () => (stack.deps.sources.get('real-estate') as ResilientSource).breaker();
    for (let i = 0; i < 5; i++) {
      const res = await precheck({ storageFacilities: [{ ...FACILITY, realEstateCertNo: `辽(2024)沈阳市不动产权第001234${i}号\uD800` }] });
      expectTextRefusal(res, '/form/storageFacilities/0/realEstateCertNo', 'U+D800');
    }
    expect(breaker()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    const res = await submit(stack, applicant, grainFiling());
    expect(res.statusCode, res.body).toBe(202);
    const d = await waitForDecision(stack, res.json<{ id: string }>().id, applicant, 30_000);
    expect(d.decision?.outcome).toBe('APPROVE');
    expect(breaker().state).toBe('closed');
  }, 60_000);
});
