/**
 * Row counts straight from a stack's database, for assertions like "nothing was stored". Opens its own
 * connection (better-sqlite3 read-only on the stack's file, or pg with search_path set to the stack's
 * schema) so it sees exactly what is committed, independently of the store under test.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { Stack } from './stack.js';

export type CountedTable = 'applications' | 'outbox' | 'idempotency_keys' | 'documents' | 'certificates' | 'data_access_log' | 'application_consents';

/** Equality filters on plain columns; `null` means IS NULL. */
export type RowFilter = Record<string, string | number | null>;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function whereClause(filter: RowFilter, placeholder: (i: number) => string): { sql: string; params: Array<string | number> } {
  const parts: string[] = [];
  const params: Array<string | number> = [];
  for (const [column, value] of Object.entries(filter)) {
    if (!IDENTIFIER.test(column)) throw new Error(`countRows: bad column name ${JSON.stringify(column)}`);
    if (value === null) {
      parts.push(`"${column}" is null`);
    } else {
      params.push(value);
      parts.push(`"${column}" = ${placeholder(params.length)}`);
    }
  }
  return { sql: parts.length === 0 ? '' : ` where ${parts.join(' and ')}`, params };
}

/** Number of rows in `table` of the stack's database, optionally only those matching `filter`. */
export async function countRows(stack: Pick<Stack, 'db'>, table: CountedTable, filter: RowFilter = {}): Promise<number> {
  if (!IDENTIFIER.test(table)) throw new Error(`countRows: bad table name ${JSON.stringify(table)}`);
  const { databaseUrl, sqlitePath } = stack.db.options;
  if (databaseUrl === null) {
    const where = whereClause(filter, () => '?');
    const db = new BetterSqlite3(sqlitePath, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const row = db.prepare(`select count(*) as n from "${table}"${where.sql}`).get(...where.params) as { n: number };
      return Number(row.n);
    } finally {
      db.close();
    }
  }
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  if (schema === null || !IDENTIFIER.test(schema.toLowerCase())) throw new Error(`countRows: no usable ?schema= in ${databaseUrl}`);
  const where = whereClause(filter, (i) => `$${i}`);
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`set search_path to "${schema}"`);
    const res = await client.query<{ n: string }>(`select count(*) as n from "${table}"${where.sql}`, where.params);
    return Number(res.rows[0]?.n ?? NaN);
  } finally {
    await client.end();
  }
}

/** Counts of the tables a filing writes at intake. */
export async function intakeCounts(stack: Pick<Stack, 'db'>): Promise<{ applications: number; outbox: number; idempotencyKeys: number }> {
  const [applications, outbox, idempotencyKeys] = await Promise.all([
    countRows(stack, 'applications'),
    countRows(stack, 'outbox'),
    countRows(stack, 'idempotency_keys'),
  ]);
  return { applications, outbox, idempotencyKeys };
}
