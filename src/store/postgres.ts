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

/**
 * A pg Pool behind Kysely. With a schema, every new connection gets `search_path` set to it, so the store's
 * unqualified table names land there (tests isolate in their own schema this way).
 */
export function postgresDialect(connectionString: string, schema: string | null, onPoolError: (err: Error) => void): PostgresDialect {
  const pool = new pg.Pool({ connectionString, max: 10, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection emits 'error' on the pool; unhandled, that would kill the process.
  pool.on('error', onPoolError);
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
