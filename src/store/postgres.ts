import pg from 'pg';
import { CompiledQuery, PostgresDialect, sql, type Kysely } from 'kysely';

/** Schema names are interpolated into `SET search_path`; allow plain identifiers only. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Splits a `?schema=NAME` parameter (which pg would ignore) off a connection URL. */
export function parsePostgresUrl(url: string, schemaOption?: string | null): { connectionString: string; schema: string | null } {
  const parsed = new URL(url);
  const fromUrl = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  const schema = schemaOption ?? fromUrl ?? null;
  if (schema !== null && !SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${JSON.stringify(schema)}`);
  return { connectionString: parsed.toString(), schema };
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
export function resilientPool(pool: pg.Pool, onError: (err: Error) => void, retry: ConnectRetry = { attempts: 4, delayMs: 250 }): pg.Pool {
  pool.on('error', onError);
  pool.on('connect', (client) => {
    client.on('error', onError);
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
export function postgresDialect(connectionString: string, schema: string | null, onPoolError: (err: Error) => void): PostgresDialect {
  const pool = resilientPool(new pg.Pool({ connectionString, max: 10, connectionTimeoutMillis: 10_000 }), onPoolError);
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
