/**
 * A 一件事's figures over a period with more bundle applications than PostgreSQL takes parameters (65,535): the
 * members are found by a join with the same filter, not by a list of every application's id as parameters (which
 * PostgreSQL refused, and /v1/stats with it). Both engines; rows written with one statement each.
 */
import pg from 'pg';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, testBackends } from '../../support/databases.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const N = 70_000;
const BUNDLE = 'business-start';

/** N bundle applications, one a day-second apart from 2026-12-01; every 1,000th has two members (one filed). */
const FILL = [
  `insert into bundle_applications (id, bundle, bundle_version, applicant, status, answers, form, consent, body_hash, created_at, updated_at, completed_at)
   select 'b' || n, '${BUNDLE}', '1', '91210100MA0Q1A2B6L', case when n % 2 = 0 then 'completed' else 'processing' end, '{}', '{}', '{}', 'h',
          $ts, $ts, case when n % 2 = 0 then $ts end
     from series`,
  `insert into bundle_members (bundle_id, matter, position) select 'b' || n, 'grain-purchase-filing', 0 from series where n % 1000 = 0`,
  `insert into bundle_members (bundle_id, matter, position) select 'b' || n, 'public-parking-filing', 1 from series where n % 1000 = 0`,
];

describe.each(backends.map((b) => [b.name, b] as const))('bundle figures on %s', (name, backend) => {
  it(`count ${N.toLocaleString('en')} bundle applications and their members`, { timeout: 120_000 }, async () => {
    const db = backend.database();
    const store = await db.open();
    if (name === 'postgres') {
      const schema = new URL(db.options.databaseUrl!).searchParams.get('schema')!;
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`set search_path to "${schema}"`);
        for (const text of FILL) {
          await client.query(
            `with series as (select generate_series(1, ${N}) as n) ${text.replace(/\$ts/g, `to_char(timestamp '2026-12-01' + n * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.000"Z"')`)}`,
          );
        }
      } finally {
        await client.end();
      }
    } else {
      const file = new BetterSqlite3(db.options.sqlitePath);
      try {
        for (const text of FILL) {
          file.exec(
            `with recursive series(n) as (select 1 union all select n + 1 from series where n < ${N}) ${text.replace(/\$ts/g, `strftime('%Y-%m-%dT%H:%M:%S.000Z', '2026-12-01', '+' || n || ' seconds')`)}`,
          );
        }
      } finally {
        file.close();
      }
    }
    const all = await store.bundles.aggregate(BUNDLE, {});
    expect(all.filings).toBe(N);
    expect(all.completed).toBe(N / 2);
    expect(all.completionMs).toHaveLength(N / 2);
    expect(all.members.map((m) => [m.matter, m.byStatus, m.filed]).sort()).toEqual([
      ['grain-purchase-filing', { pending: N / 1000 }, 0],
      ['public-parking-filing', { pending: N / 1000 }, 0],
    ]);
    // The window filters the members the same way: n in [1000, 5000) → 1000, 2000, 3000, 4000.
    const part = await store.bundles.aggregate(BUNDLE, { from: '2026-12-01T00:16:40.000Z', to: '2026-12-01T01:23:20.000Z' });
    expect(part.filings).toBe(4000);
    expect(part.members.map((m) => m.byStatus['pending'])).toEqual([4, 4]);
    await db.drop();
  });
});
