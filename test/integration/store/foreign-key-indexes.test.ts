/**
 * Migration 0057: every foreign key's child columns lead an index, on both engines, read from each engine's own
 * catalogue — a foreign key added later without one fails here. On SQLite the plan of a filing's insert no longer
 * scans `idempotency_keys`: the intake claims the Idempotency-Key before it inserts the filing (a deferred key), and
 * without the index SQLite looked the new filing up in every stored key, a cost that grew with every filing.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { FOREIGN_KEY_INDEXES } from '../../../src/store/migrations/0057-foreign-key-indexes.js';
import { TEST_DATABASE_URL, testBackends } from '../../support/databases.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const APPLICATION_INSERT = `insert into "applications" ("id", "number", "matter", "matter_version", "applicant", "status", "answers", "form",
  "consent", "body_hash", "attempts", "created_at", "updated_at") values (?, ?, 'm', '1', ?, 'queued', '{}', '{}', '{}', 'h', 0, 'now', 'now')`;

/** `table (a, b) -> parent` for each foreign key whose child columns are not the leading columns of an index. */
function uncovered(keys: Array<{ table: string; columns: string[]; parent: string }>, indexes: Array<{ table: string; columns: string[] }>): string[] {
  return keys
    .filter((k) => !indexes.some((i) => i.table === k.table && k.columns.every((c, n) => i.columns[n] === c)))
    .map((k) => `${k.table} (${k.columns.join(', ')}) -> ${k.parent}`)
    .sort();
}

describe('foreign keys and their indexes', () => {
  it('SQLite: every foreign key has one, and inserting a filing scans no child table', { timeout: 60_000 }, async () => {
    const db = backends.find((b) => b.name === 'sqlite')!.database();
    await db.open();
    const file = new BetterSqlite3(db.options.sqlitePath, { readonly: true });
    try {
      const tables = file.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`).pluck().all() as string[];
      const keys: Array<{ table: string; columns: string[]; parent: string }> = [];
      const indexes: Array<{ table: string; columns: string[] }> = [];
      for (const table of tables) {
        const byId = new Map<number, { table: string; columns: string[]; parent: string }>();
        for (const f of file.prepare(`pragma foreign_key_list("${table}")`).all() as Array<{ id: number; seq: number; table: string; from: string }>) {
          const k = byId.get(f.id) ?? { table, columns: [], parent: f.table };
          k.columns[f.seq] = f.from;
          byId.set(f.id, k);
        }
        keys.push(...byId.values());
        for (const i of file.prepare(`pragma index_list("${table}")`).all() as Array<{ name: string }>) {
          indexes.push({ table, columns: (file.prepare(`pragma index_info("${i.name}")`).all() as Array<{ name: string }>).map((c) => c.name) });
        }
      }
      expect(keys.length).toBeGreaterThan(15);
      expect(uncovered(keys, indexes)).toEqual([]);
      for (const [name, table] of FOREIGN_KEY_INDEXES) expect(indexes.some((i) => i.table === table && file.prepare(`pragma index_info("${name}")`).all().length > 0), name).toBe(true);

      const plan = (file.prepare(`explain query plan ${APPLICATION_INSERT}`).all('a', 'n', 'x') as Array<{ detail: string }>).map((p) => p.detail);
      expect(plan.filter((d) => /^SCAN (?!\d+-ROW VALUES)/.test(d))).toEqual([]);
      expect(plan.some((d) => d.includes('idempotency_keys USING') && d.includes('idempotency_keys_application'))).toBe(true);
    } finally {
      file.close();
      await db.drop();
    }
  });

  it('PostgreSQL: every foreign key has one', { timeout: 60_000 }, async () => {
    const db = backends.find((b) => b.name === 'postgres')!.database();
    await db.open();
    const schema = new URL(db.options.databaseUrl!).searchParams.get('schema')!;
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const keys = await client.query<{ table: string; columns: string[]; parent: string }>(
        `select c.relname as table, p.relname as parent,
                array(select a.attname from unnest(k.conkey) with ordinality as u(n, o) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.o)::text[] as columns
           from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid join pg_namespace s on s.oid = c.relnamespace
          where k.contype = 'f' and s.nspname = $1`,
        [schema],
      );
      const indexes = await client.query<{ table: string; columns: string[] }>(
        `select c.relname as table,
                array(select a.attname from unnest(i.indkey::int2[]) with ordinality as u(n, o) join pg_attribute a on a.attrelid = i.indrelid and a.attnum = u.n order by u.o)::text[] as columns
           from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace s on s.oid = c.relnamespace
          where s.nspname = $1`,
        [schema],
      );
      expect(keys.rows.length).toBeGreaterThan(15);
      expect(uncovered(keys.rows, indexes.rows)).toEqual([]);
    } finally {
      await client.end();
      await db.drop();
    }
  });
});
