/**
 * PostgreSQL named prepared statements (src/store/postgres.ts): Kysely's parameterised DML is prepared once per
 * connection under a name derived from its text; statements with `*` stay unnamed so a migration that adds a column
 * cannot break them; `?prepared_statements=off` in DATABASE_URL turns it off (poolers in transaction mode).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePostgresUrl, PREPARED_STATEMENT_LIMIT, resilientPool, statementName } from '../../../src/store/postgres.js';
import { TEST_DATABASE_URL } from '../../support/databases.js';

const schema = `prep_${randomBytes(4).toString('hex')}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  await admin.query(`create table "${schema}".t (a integer primary key, b text)`);
});
afterAll(async () => {
  await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

function kyselyOn(prepared: boolean): { db: Kysely<unknown>; pool: pg.Pool } {
  // One connection, so every statement and the look-up of pg_prepared_statements share a session.
  const pool = resilientPool(new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1, options: `-c search_path=${schema}` }), () => undefined, undefined, prepared);
  return { db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }), pool };
}

async function preparedHere(db: Kysely<unknown>): Promise<Array<{ name: string; statement: string }>> {
  const r = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements order by statement`.execute(db);
  return r.rows;
}

describe('named prepared statements on PostgreSQL', () => {
  it('prepares parameterised DML once per connection, leaves `*` and parameterless statements unnamed', { timeout: 30_000 }, async () => {
    const { db } = kyselyOn(true);
    try {
      for (let i = 1; i <= 3; i++) await sql`insert into t (a, b) values (${i}, ${`v${i}`})`.execute(db);
      const one = await sql<{ b: string }>`select b from t where a = ${2}`.execute(db);
      expect(one.rows).toEqual([{ b: 'v2' }]);
      await sql`select * from t where a = ${1}`.execute(db);
      await sql`select count(*) as n from t`.execute(db);
      const names = await preparedHere(db);
      expect(names.map((n) => n.statement)).toEqual(['insert into t (a, b) values ($1, $2)', 'select b from t where a = $1']);
      for (const n of names) expect(n.name).toBe(statementName(n.statement));
    } finally {
      await db.destroy();
    }
  });

  it('keeps working when a migration adds a column meanwhile: named statements list their columns, `*` re-plans', { timeout: 30_000 }, async () => {
    const { db } = kyselyOn(true);
    try {
      await sql`select b from t where a = ${1}`.execute(db);
      await sql`select * from t where a = ${1}`.execute(db);
      await admin.query(`alter table "${schema}".t add column c text default 'new'`);
      expect((await sql<{ b: string }>`select b from t where a = ${1}`.execute(db)).rows).toEqual([{ b: 'v1' }]);
      expect((await sql`select * from t where a = ${1}`.execute(db)).rows).toEqual([{ a: 1, b: 'v1', c: 'new' }]);
    } finally {
      await db.destroy();
    }
  });

  it('prepares nothing when turned off', { timeout: 30_000 }, async () => {
    const { db } = kyselyOn(false);
    try {
      await sql`select b from t where a = ${1}`.execute(db);
      expect(await preparedHere(db)).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('reads ?prepared_statements=on|off off the URL and refuses any other value', () => {
    const off = parsePostgresUrl('postgres://u@h:5432/db?schema=s1&prepared_statements=off');
    expect(off).toEqual({ connectionString: 'postgres://u@h:5432/db', schema: 's1', preparedStatements: false });
    expect(parsePostgresUrl('postgres://u@h:5432/db').preparedStatements).toBe(true);
    expect(parsePostgresUrl('postgres://u@h:5432/db?prepared_statements=on').preparedStatements).toBe(true);
    expect(() => parsePostgresUrl('postgres://u@h:5432/db?prepared_statements=false')).toThrow(/prepared_statements must be on or off/);
  });

  it('names at most PREPARED_STATEMENT_LIMIT distinct texts, and never BEGIN or COMMIT', () => {
    const early = statementName('update "x" set "a" = $1');
    expect(early).toMatch(/^msbb_[0-9a-f]{32}$/);
    expect(statementName('begin')).toBeNull();
    expect(statementName('commit')).toBeNull();
    expect(statementName('select "a" from "x" returning *')).toBeNull();
    const names = new Set<string | null>();
    for (let i = 0; i < PREPARED_STATEMENT_LIMIT + 50; i++) names.add(statementName(`select "a" from "x" where "id" in (${new Array(i + 1).fill('$1').join(', ')})`));
    expect(names.has(null)).toBe(true);
    expect([...names].filter((n) => n !== null).length).toBeLessThanOrEqual(PREPARED_STATEMENT_LIMIT);
    // A text named before the limit was reached keeps its name.
    expect(statementName('update "x" set "a" = $1')).toBe(early);
  });
});
