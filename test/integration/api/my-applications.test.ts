/**
 * 我的办件 (issue 18) on the real stack, SQLite and PostgreSQL: GET /v1/me/applications lists the token subject's own
 * filings only, newest first, with matter name, kind and status (and the certificate once issued); the cursor walks
 * every filing exactly once; bad cursors and limits are 400s with a Chinese+English message; other roles are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const DISHONEST = '91210106MA0U7G8H65';

interface Item { id: string; number: string | null; matter: string; matterName: string; kind: string; status: string; createdAt: string; certificate: { id: string; number: string } | null }

describe.each(['sqlite', 'postgres'] as const)('GET /v1/me/applications (%s)', (backend) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ backend });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const list = (token: string, qs = '') => stack.app.inject({ method: 'GET', url: `/v1/me/applications${qs}`, headers: { authorization: `Bearer ${token}` } });

  it('lists only the applicant’s own filings, newest first, and the cursor walks them all once', async () => {
    const mine = await stack.token(HAPPY_USCC);
    const other = await stack.token(DISHONEST);
    const ids: string[] = [];
    for (const region of ['210102', '210103', '210104']) {
      const r = await submit(stack, mine, grainFiling({ form: { purchaseRegionCode: region } }));
      expect(r.statusCode, r.body).toBe(202);
      ids.push(r.json().id);
      await new Promise((res) => setTimeout(res, 5)); // distinct createdAt, so "newest first" is checkable
    }
    const storageFacilities = [{ address: '沈阳市某区粮库', capacityTonnes: 3000, ownership: '自有', realEstateCertNo: '辽(2022)沈阳市不动产权第0054321号' }];
    const theirs = await submit(stack, other, grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities } }));
    expect(theirs.statusCode, theirs.body).toBe(202);
    for (const id of ids) expect((await waitForDecision(stack, id, mine)).status).toBe('approved');
    expect((await waitForDecision(stack, theirs.json().id, other)).status).toBe('manual_review');

    const all = await list(mine);
    expect(all.statusCode, all.body).toBe(200);
    const items = all.json<{ items: Item[]; nextCursor: string | null }>().items;
    expect(items.map((i) => i.id)).toEqual([...ids].reverse());
    expect(items.map((i) => i.id)).not.toContain(theirs.json().id);
    expect(items[0]).toMatchObject({ matter: 'grain-purchase-filing', matterName: stack.deps.catalog.get('grain-purchase-filing')!.def.name, kind: '行政备案', status: 'approved' });
    expect(items[0]!.certificate?.number).toMatch(/^沈粮收备/);
    expect(all.json().nextCursor).toBeNull();

    // Page by page with limit=1: each filing once, in the same order, then a null cursor.
    const walked: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res = await list(mine, `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<{ items: Item[]; nextCursor: string | null }>();
      expect(page.items.length).toBe(1);
      walked.push(page.items[0]!.id);
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    expect(walked).toEqual([...ids].reverse());

    // The other applicant sees its manual-review filing and nothing of ours.
    const theirList = (await list(other)).json<{ items: Item[] }>().items;
    expect(theirList.map((i) => [i.id, i.status, i.certificate])).toEqual([[theirs.json().id, 'manual_review', null]]);
  });

  it('refuses bad cursors, bad limits, no token and non-applicant roles', async () => {
    const mine = await stack.token(HAPPY_USCC);
    const badCursor = await list(mine, '?cursor=not-a-cursor');
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json()).toMatchObject({ code: 'CURSOR_INVALID' });
    expect(JSON.stringify(badCursor.json())).toContain('分页游标无效');
    const badLimit = await list(mine, '?limit=0');
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().errors[0].path).toBe('/querystring/limit');
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me/applications' })).statusCode).toBe(401);
    const admin = await stack.token('ADMIN-01', 'admin', { dept: '11210100MB0E12346R' });
    expect((await list(admin)).statusCode).toBe(403);
  });
});
