/**
 * Group commit through HTTP (issue 13): 120 filings from 120 new enterprises at once, with Idempotency-Keys, to one
 * API on SQLite and on PostgreSQL. Each gets its 202 with a row that is there when the 202 arrives; numbers are
 * 1..120 of the day with no gap; every filing has its outbox row and its consent; on PostgreSQL the intake took far
 * fewer transactions than filings (the metrics say how many); replays of the same keys, sent together, answer the stored
 * 202 and write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grainFilingOf, syntheticEnterprise, SHENYANG_COUNTIES } from '../../../src/standins/synthetic.js';
import { countRows } from '../../support/db-counts.js';
import { startStack, submit, type Stack } from '../../support/stack.js';

const N = 120;

describe.each(['sqlite', 'postgres'] as const)('group commit at intake (%s)', (backend) => {
  let stack: Stack;
  const seed = 1 + (Date.now() % 10_000);
  const enterprises = Array.from({ length: N }, (_, i) => syntheticEnterprise(i, seed));

  beforeAll(async () => {
    stack = await startStack({ backend, worker: false, httpSources: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const figure = (body: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(body)?.[1] ?? NaN);

  it('answers each of many concurrent filings after its own row committed, numbered without gaps, in fewer transactions', { timeout: 120_000 }, async () => {
    const tokens = await Promise.all(enterprises.map((e) => stack.token(e.uscc)));
    const ops = `Bearer ${await stack.token('ops-batch', 'ops')}`;
    const before = await stack.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: ops } });
    const commits0 = figure(before.body, 'miaopi_intake_commits_total');
    const filings0 = figure(before.body, 'miaopi_intake_filings_committed_total');
    const apps0 = await countRows(stack, 'applications');

    const bodies = enterprises.map((e, i) => grainFilingOf(e, SHENYANG_COUNTIES[i % SHENYANG_COUNTIES.length]!));
    const res = await Promise.all(
      bodies.map(async (body, i) => {
        const r = await submit(stack, tokens[i]!, body, { 'idempotency-key': `batch-${i}` });
        // The row is there when its 202 arrives (read through the API, as the applicant would).
        const id = r.statusCode === 202 ? r.json<{ id: string }>().id : null;
        const seen = id ? await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}`, headers: { authorization: `Bearer ${tokens[i]}` } }) : null;
        return { status: r.statusCode, body: r.body, id, seen: seen?.statusCode, number: seen?.statusCode === 200 ? seen.json<{ number: string }>().number : null };
      }),
    );
    expect(res.filter((r) => r.status !== 202).map((r) => r.body)).toEqual([]);
    expect(res.every((r) => r.seen === 200)).toBe(true);
    const seqs = res.map((r) => Number(r.number!.slice(-5)));
    const first = Math.min(...seqs);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => first + i));
    expect(await countRows(stack, 'applications')).toBe(apps0 + N);
    for (const r of res.slice(0, 10)) {
      expect(await countRows(stack, 'outbox', { application_id: r.id! })).toBe(1);
      expect(await countRows(stack, 'application_consents', { application_id: r.id! })).toBe(1);
    }

    const after = await stack.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: ops } });
    const commits = figure(after.body, 'miaopi_intake_commits_total') - commits0;
    const filings = figure(after.body, 'miaopi_intake_filings_committed_total') - filings0;
    console.log(`INTAKE group commit (${backend}): ${N} concurrent filings → ${filings} committed in ${commits} transactions`);
    expect(filings).toBe(N);
    expect(commits).toBeGreaterThanOrEqual(1);
    // PostgreSQL: a commit waits on the server, and the filings arriving meanwhile share the next one. SQLite's
    // driver is synchronous: a transaction ends before the next request reaches the batcher, so batches form
    // only when requests queue behind a busy event loop (the bench shows them); here one per filing is right.
    if (backend === 'postgres') expect(commits).toBeLessThan(N / 4);
    else expect(commits).toBeLessThanOrEqual(N);

    // The same keys again, all at once: the stored answers, no new row.
    const replays = await Promise.all(bodies.map((body, i) => submit(stack, tokens[i]!, body, { 'idempotency-key': `batch-${i}` })));
    expect(replays.map((r) => r.statusCode)).toEqual(res.map(() => 202));
    expect(replays.map((r) => r.json<{ id: string }>().id)).toEqual(res.map((r) => r.id));
    expect(replays.every((r) => r.headers['idempotent-replayed'] === 'true')).toBe(true);
    expect(await countRows(stack, 'applications')).toBe(apps0 + N);
  });
});
