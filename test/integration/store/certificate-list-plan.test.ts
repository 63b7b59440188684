/**
 * Migration 0058: a holder's or a department's certificates, a page at a time in (issued_at, id) order, are a seek
 * in SQLite's plan — not a walk through every certificate ever issued, filtered. The queries are built as the store's
 * `certificates.list` builds them (holder, issuer, issuer + matter, a cursor after a page).
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/store/schema.js';
import { sqliteDialect } from '../../../src/store/sqlite.js';
import { testBackends } from '../../support/databases.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

describe('certificate lists on SQLite', () => {
  it('seek the holder or issuer index and read in its order', { timeout: 60_000 }, async () => {
    const db = backends.find((b) => b.name === 'sqlite')!.database();
    await db.open();
    const k = new Kysely<Database>({ dialect: sqliteDialect(db.options.sqlitePath) });
    const file = new BetterSqlite3(db.options.sqlitePath, { readonly: true });
    try {
      const page = (f: { holder?: string; issuer?: string; matter?: string; after?: [string, string] }) => {
        let q = k.selectFrom('certificates').select(['id', 'number', 'holder_name', 'issued_at', 'status']);
        if (f.holder) q = q.where('holder_code', '=', f.holder);
        if (f.issuer) q = q.where('issuer_code', '=', f.issuer);
        if (f.matter) q = q.where('matter', '=', f.matter);
        const after = f.after;
        if (after) q = q.where((eb) => eb(eb.refTuple('issued_at', 'id'), '>', eb.tuple(after[0], after[1])));
        const c = q.orderBy('issued_at').orderBy('id').limit(50).compile();
        return (file.prepare(`explain query plan ${c.sql}`).all(...c.parameters) as Array<{ detail: string }>).map((p) => p.detail);
      };
      const cases: Array<[Parameters<typeof page>[0], string]> = [
        [{ holder: '91210100MA0Q1A2B6L' }, 'certificates_holder_issued'],
        [{ holder: '91210100MA0Q1A2B6L', after: ['2026-12-07T00:00:00.000Z', 'c-1'] }, 'certificates_holder_issued'],
        [{ issuer: '11210100MB0E12346R' }, 'certificates_issuer_issued'],
        [{ issuer: '11210100MB0E12346R', matter: 'grain-purchase-filing' }, 'certificates_issuer_issued'],
      ];
      for (const [filter, index] of cases) {
        const plan = page(filter);
        const shown = `${JSON.stringify(filter)}: ${plan.join(' | ')}`;
        expect(plan.some((d) => d.startsWith(`SEARCH certificates USING INDEX ${index} (`)), shown).toBe(true);
        expect(plan.filter((d) => d.startsWith('SCAN certificates') || d.includes('TEMP B-TREE')), shown).toEqual([]);
      }
    } finally {
      file.close();
      await k.destroy();
      await db.drop();
    }
  });
});
