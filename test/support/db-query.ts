/**
 * Raw read-only SQL against a stack's database (its own connection), for figures computed independently of the
 * code under test. `?` placeholders; rewritten to `$n` for PostgreSQL.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { Stack } from './stack.js';

export async function queryRows<T extends Record<string, unknown>>(stack: Pick<Stack, 'db'>, text: string, params: Array<string | number> = []): Promise<T[]> {
  const { databaseUrl, sqlitePath } = stack.db.options;
  if (databaseUrl === null) {
    const db = new BetterSqlite3(sqlitePath, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      return db.prepare(text).all(...params) as T[];
    } finally {
      db.close();
    }
  }
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  if (!schema || !/^[a-z_][a-z0-9_]{0,62}$/i.test(schema)) throw new Error(`queryRows: no usable ?schema= in ${databaseUrl}`);
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`set search_path to "${schema}"`);
    let i = 0;
    const res = await client.query(text.replace(/\?/g, () => `$${++i}`), params);
    return res.rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Runs statements against a stack's database on a connection of its own (SQLite file or PostgreSQL schema): for
 * tests that plant a fault in the database itself, such as a trigger that fails an insert inside a transaction.
 */
export async function executeSql(stack: Pick<Stack, 'db'>, sqlite: string, postgres: string): Promise<void> {
  const { databaseUrl, sqlitePath } = stack.db.options;
  if (databaseUrl === null) {
    const db = new BetterSqlite3(sqlitePath, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.exec(sqlite);
    } finally {
      db.close();
    }
    return;
  }
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  if (!schema || !/^[a-z_][a-z0-9_]{0,62}$/i.test(schema)) throw new Error(`executeSql: no usable ?schema= in ${databaseUrl}`);
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`set search_path to "${schema}"`);
    await client.query(postgres);
  } finally {
    await client.end();
  }
}
