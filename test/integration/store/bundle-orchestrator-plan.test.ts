/**
 * The bundle orchestrator's pass asks which bundles have a member whose filing moved. It lists the member statuses
 * that can still change, so SQLite reads them through `bundle_members_seen`; with `not in` it read every member ever
 * filed on every pass. The plan is read from SQLite itself for the query the store runs (changedBundlesQuery).
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { changedBundlesQuery } from '../../../src/store/bundle-store.js';
import type { Database } from '../../../src/store/schema.js';
import { sqliteDialect } from '../../../src/store/sqlite.js';
import { testBackends } from '../../support/databases.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

describe('the bundle orchestrator pass on SQLite', () => {
  it('reads the members that can still change through their index, not every member', { timeout: 60_000 }, async () => {
    const db = backends.find((b) => b.name === 'sqlite')!.database();
    await db.open();
    const k = new Kysely<Database>({ dialect: sqliteDialect(db.options.sqlitePath) });
    const file = new BetterSqlite3(db.options.sqlitePath, { readonly: true });
    try {
      const q = changedBundlesQuery(k, 50).compile();
      expect(q.parameters).toEqual(expect.arrayContaining(['pending', 'queued', 'processing', 'manual_review']));
      expect(q.parameters).not.toContain('approved');
      const plan = (file.prepare(`explain query plan ${q.sql}`).all(...q.parameters) as Array<{ detail: string }>).map((p) => p.detail);
      expect(plan.some((d) => /^SEARCH m USING (COVERING )?INDEX bundle_members_seen \(seen_status=\?\)/.test(d)), plan.join(' | ')).toBe(true);
      expect(plan.filter((d) => /^SCAN (m|a)\b/.test(d)), plan.join(' | ')).toEqual([]);
    } finally {
      file.close();
      await k.destroy();
      await db.drop();
    }
  });
});
