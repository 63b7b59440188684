/**
 * The same filing sent 5× at once with one Idempotency-Key, spread over two real API processes (so that only
 * the database can arbitrate): exactly one application, every answer 202 with its id. With two different bodies
 * under one key, one body wins and the other gets 422 — still one application.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../support/db-counts.js';
import { approvableFilings, postFiling, startFaultBed, tokensFor, type FaultBed } from '../support/processes.js';

const KEYS = 20;
const COPIES = 5;

describe.each(['postgres', 'sqlite'] as const)('one Idempotency-Key, five concurrent copies, two API processes (%s)', (backend) => {
  let bed: FaultBed;
  let urls: string[];

  beforeAll(async () => {
    bed = await startFaultBed({ backend });
    urls = (await Promise.all([bed.api(), bed.api()])).map((a) => a.url);
  }, 60_000);

  afterAll(async () => {
    await bed?.close();
  });

  it('stores exactly one application per key and answers every copy with its id', async () => {
    const filings = approvableFilings(KEYS);
    const tokens = await tokensFor(bed, filings);
    const runId = Date.now().toString(36);
    const results = await Promise.all(
      filings.map(async (f, k) => {
        const key = `race-${runId}-${k}`;
        const answers = await Promise.all(
          Array.from({ length: COPIES }, (_, c) => postFiling(urls[c % urls.length]!, tokens.get(f.uscc)!, f.body, { idempotencyKey: key })),
        );
        return { key, answers };
      }),
    );
    // Counted from the answers and the rows: copies not answered 202, keys answered with more than one id, rows beyond one per key.
    const errors = results.flatMap(({ answers }) => answers).filter((a) => a.status !== 202).length;
    const splitKeys = results.filter(({ answers }) => new Set(answers.map((a) => a.body['id'])).size !== 1).length;
    for (const { key, answers } of results) {
      expect(answers.map((a) => a.status), key).toEqual(Array(COPIES).fill(202));
      expect(new Set(answers.map((a) => a.body['id'])).size, key).toBe(1);
    }
    const counts = { applications: await countRows(bed, 'applications'), outbox: await countRows(bed, 'outbox'), keys: await countRows(bed, 'idempotency_keys') };
    expect(counts).toEqual({ applications: KEYS, outbox: KEYS, keys: KEYS });
    console.log(
      `FAULT idempotency-race (${backend}): ${KEYS} keys × ${COPIES} concurrent copies over 2 API processes → ${counts.applications} applications, ` +
        `${counts.applications - KEYS} duplicates, ${splitKeys} keys answered with more than one id, ${errors} answers other than 202`,
    );
  });

  it('lets one of two bodies racing under one key win: the other body gets 422, and one application is stored', async () => {
    // Same enterprise, another purchase region: a different body.
    const [a, , , , , b] = approvableFilings(6, 200);
    const token = await bed.token(a!.uscc);
    const key = `race-bodies-${Date.now().toString(36)}`;
    const before = await countRows(bed, 'applications');
    const answers = await Promise.all(
      Array.from({ length: COPIES * 2 }, (_, c) => postFiling(urls[c % urls.length]!, token, c % 2 === 0 ? a!.body : b!.body, { idempotencyKey: key })),
    );
    const byStatus = answers.reduce<Record<number, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});
    expect(Object.keys(byStatus).sort()).toEqual(['202', '422']);
    expect(byStatus[202]).toBe(COPIES);
    for (const r of answers.filter((x) => x.status === 422)) expect(r.body['code']).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(new Set(answers.filter((x) => x.status === 202).map((x) => x.body['id'])).size).toBe(1);
    expect(await countRows(bed, 'applications')).toBe(before + 1);
  });
});
