import { createHash } from 'node:crypto';
import pg from 'pg';
import { CompiledQuery, PostgresDialect, sql, type Kysely } from 'kysely';

/** Schema names are interpolated into `SET search_path`; allow plain identifiers only. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Splits our own parameters (which pg would ignore) off a connection URL: `?schema=NAME` and
 * `?prepared_statements=off` (for a connection pooler in transaction mode that cannot keep them, e.g. PgBouncer
 * before 1.21).
 */
export function parsePostgresUrl(url: string, schemaOption?: string | null): { connectionString: string; schema: string | null; preparedStatements: boolean } {
  const parsed = new URL(url);
  const fromUrl = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  const prepared = parsed.searchParams.get('prepared_statements');
  parsed.searchParams.delete('prepared_statements');
  if (prepared !== null && !['on', 'off'].includes(prepared)) {
    throw new Error(`DATABASE_URL: prepared_statements must be on or off, got ${JSON.stringify(prepared)}`);
  }
  const schema = schemaOption ?? fromUrl ?? null;
  if (schema !== null && !SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${JSON.stringify(schema)}`);
  return { connectionString: parsed.toString(), schema, preparedStatements: prepared !== 'off' };
}

/** Distinct statement texts that get a name; any beyond (e.g. IN lists of every length) run unnamed. */
export const PREPARED_STATEMENT_LIMIT = 500;
const preparedNames = new Map<string, string>();
const NAMEABLE = /^\s*(?:select|insert|update|delete|with)\b/i;

/**
 * The name a statement is prepared under on each connection, or null to send it unnamed. PostgreSQL parses and
 * plans an unnamed statement every time; a filing runs ~25 statements in the worker and ~10 at intake, always the
 * same texts, so naming them spares the server that work (measured with `npm run bench -- --db postgres`, two
 * pairs: PostgreSQL CPU per filing 14.2 → 12.2 and 11.7 → 8.3 ms). Texts with `*` stay unnamed: a prepared
 * statement's result columns are fixed, and a migration that adds a column to a table read with `select *` would
 * make every later execution fail ("cached plan must not change result type") until the connection closed.
 */
export function statementName(text: string): string | null {
  const known = preparedNames.get(text);
  if (known !== undefined) return known;
  if (preparedNames.size >= PREPARED_STATEMENT_LIMIT || text.includes('*') || !NAMEABLE.test(text)) return null;
  const name = `msbb_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
  preparedNames.set(text, name);
  return name;
}

/** Sends Kysely's `client.query(text, values)` as a named statement where statementName gives one. */
function namePreparedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0 && callback === undefined) {
      const name = statementName(text);
      if (name !== null) return query({ name, text, values });
    }
    return callback === undefined ? query(text, values) : query(text, values, callback);
  };
}

/** Failures to get a connection that a moment later may not recur: PostgreSQL restarting, refusing or full. */
const TRANSIENT_CONNECT = new Set(['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '53300', '08001', '08006']);
const TRANSIENT_CONNECT_MESSAGE = /^Connection terminated|timeout exceeded when trying to connect/;

export function isTransientConnectError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'string' && TRANSIENT_CONNECT.has(code)) || TRANSIENT_CONNECT_MESSAGE.test(err.message);
}

/** How long `connect()` keeps trying while PostgreSQL restarts before the caller gets the fault (→ 503 / job retry). */
export interface ConnectRetry {
  attempts: number;
  delayMs: number;
}

/**
 * The pool Kysely sees. Issue 13: PostgreSQL terminating connections (57P01 admin_shutdown, a restart, a failover)
 * must not kill the process. node-postgres emits 'error' on the pool for an idle client and on the client itself
 * for one that is checked out (between two statements of a transaction); an 'error' without a listener is thrown,
 * so every client gets a listener when it is made. Getting a connection is retried a few times, briefly, while the
 * server restarts; a statement that fails on a connection that died under it is not retried here (it may have
 * committed) — the API answers 503 with Retry-After and a job is retried by the queue.
 */
export function resilientPool(
  pool: pg.Pool,
  onError: (err: Error) => void,
  retry: ConnectRetry = { attempts: 4, delayMs: 250 },
  preparedStatements = false,
): pg.Pool {
  pool.on('error', onError);
  pool.on('connect', (client) => {
    client.on('error', onError);
    if (preparedStatements) namePreparedStatements(client);
  });
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const retrying = async (): Promise<pg.PoolClient> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect();
      } catch (err) {
        if (attempt >= retry.attempts || !isTransientConnectError(err)) throw err;
        await new Promise((r) => setTimeout(r, retry.delayMs * attempt));
      }
    }
  };
  (pool as { connect: unknown }).connect = (callback?: unknown) => {
    if (typeof callback === 'function') return (connect as unknown as (cb: unknown) => void)(callback);
    return retrying();
  };
  return pool;
}

/**
 * A pg Pool behind Kysely. With a schema, every new connection gets `search_path` set to it, so the store's
 * unqualified table names land there (tests isolate in their own schema this way).
 */
export function postgresDialect(connectionString: string, schema: string | null, onPoolError: (err: Error) => void, preparedStatements = true): PostgresDialect {
  const pool = resilientPool(new pg.Pool({ connectionString, max: 10, connectionTimeoutMillis: 10_000 }), onPoolError, undefined, preparedStatements);
  return new PostgresDialect({
    pool,
    ...(schema === null
      ? {}
      : {
          onCreateConnection: async (connection) => {
            await connection.executeQuery(CompiledQuery.raw(`set search_path to "${schema}"`));
          },
        }),
  });
}

/**
 * Creates the schema if missing and returns the schema the store works in. `create schema if not exists`
 * can still fail with a duplicate error when two processes race, hence the re-check.
 */
export async function ensureSchema(db: Kysely<unknown>, schema: string | null): Promise<string> {
  if (schema === null) {
    const row = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const current = row.rows[0]?.schema ?? null;
    if (current === null) throw new Error('PostgreSQL search_path names no existing schema; pass ?schema=NAME');
    return current;
  }
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (err) {
    const found = await sql<{ n: string }>`select nspname as n from pg_namespace where nspname = ${schema}`.execute(db);
    if (found.rows.length === 0) throw err;
  }
  return schema;
}
