import { Kysely, Migrator, type Dialect, type MigrationResultSet } from 'kysely';
import { kyselyStore } from './kysely-store.js';
import { createSecretBox } from './secret-box.js';
import { migrationProvider } from './migrations/index.js';
import { ensureSchema, parsePostgresUrl, postgresDialect } from './postgres.js';
import type { Database } from './schema.js';
import { sqliteDialect } from './sqlite.js';
import type { Store } from './types.js';

export type * from './types.js';

/** The part of a pino logger the store uses. */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
}

/** How to reach the database. */
export interface CreateStoreOptions {
  /** PostgreSQL URL (`postgres://…`, optionally `?schema=NAME`). Null/undefined selects SQLite. */
  databaseUrl?: string | null;
  /** SQLite file used when there is no `databaseUrl`; its parent directory is created. */
  sqlitePath: string;
  /** PostgreSQL schema to work in (created if missing); overrides `?schema=` in the URL. */
  schema?: string | null;
  logger?: StoreLogger;
  /** 32-byte key that seals webhook signing secrets at rest (WEBHOOK_SECRET_KEY); absent: they are stored as given. */
  webhookSecretKey?: Buffer | null;
}

/**
 * Opens the store and brings the schema up to date (versioned migrations, safe when the API and the worker
 * start at the same time: PostgreSQL takes an advisory lock, SQLite a `BEGIN IMMEDIATE` write lock).
 */
export async function createStore(opts: CreateStoreOptions): Promise<Store> {
  const logger = opts.logger;
  let dialect: Dialect;
  let kind: Store['dialect'];
  let schema: string | null = null;
  if (opts.databaseUrl) {
    const parsed = parsePostgresUrl(opts.databaseUrl, opts.schema);
    schema = parsed.schema;
    kind = 'postgres';
    dialect = postgresDialect(
      parsed.connectionString,
      schema,
      (err) => {
        logger?.info({ err: err.message }, 'postgres idle client error');
      },
      parsed.preparedStatements,
    );
  } else {
    kind = 'sqlite';
    dialect = sqliteDialect(opts.sqlitePath);
  }

  const db = new Kysely<Database>({ dialect });
  try {
    // Kysely's migrator finds its own tables by name across all schemas unless told which schema to use.
    const migrationTableSchema = kind === 'postgres' ? await ensureSchema(db as Kysely<unknown>, schema) : undefined;
    const migrator = new Migrator({
      db,
      provider: migrationProvider({ dialect: kind }),
      // Migrations from parallel branches may land in any order; each is independent and idempotent by name.
      allowUnorderedMigrations: true,
      ...(migrationTableSchema === undefined ? {} : { migrationTableSchema }),
    });
    const { error, results } = await migrateWithRetry(migrator, kind);
    for (const r of results ?? []) {
      logger?.info({ migration: r.migrationName, status: r.status }, 'store migration');
    }
    if (error !== undefined) throw error instanceof Error ? error : new Error(JSON.stringify(error));
    logger?.info({ dialect: kind, ...(schema === null ? {} : { schema }) }, 'store ready');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const box = opts.webhookSecretKey ? createSecretBox(opts.webhookSecretKey) : null;
  const store = kyselyStore(db, kind, box);
  if (box) {
    // Rows written in clear by an earlier version are sealed once, here; until then they are read as they are.
    const sealed = await store.webhooks.sealClearSecrets().catch(async (err: unknown) => {
      await db.destroy();
      throw err;
    });
    if (sealed > 0) logger?.info({ sealed }, 'webhook secrets sealed at rest');
  }
  return store;
}

/** PostgreSQL's answers when an object of another schema went away under the introspection query. */
const INTROSPECTION_RACE = new Set(['3F000', '42P01', '42703']);

/**
 * Whether a migration run failed only by such a race (no migration of ours failed): then it is run again. Seen in
 * CI: 42703 `column "body_hash" of relation "idempotency_keys" does not exist` while a parallel test dropped its schema.
 */
export function migrationRaced(outcome: Pick<MigrationResultSet, 'error' | 'results'>, kind: 'postgres' | 'sqlite'): boolean {
  const code = (outcome.error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return false;
  if (kind === 'sqlite') return code.startsWith('SQLITE_BUSY');
  return INTROSPECTION_RACE.has(code) && (outcome.results ?? []).every((r) => r.status !== 'Error');
}

/**
 * Kysely's migrator looks for its own tables with an introspection query over every schema of the database
 * (`pg_get_serial_sequence` per column). When another schema or table is dropped at that moment — another
 * service sharing the database, or parallel test schemas — PostgreSQL answers 3F000/42P01/42703 (schema, table
 * or column undefined) about an object that is not ours. Migrations are idempotent by name and run under Kysely's
 * lock, so such a run is retried.
 * On SQLite the lock is the file's write lock: a process starting while another migrates (the API and the worker
 * on a fresh file, on a loaded host) waits 5 s for it, then is refused with SQLITE_BUSY, and tries again until the
 * same deadline — the other's migrations may take longer than 5 s there, and then there is nothing left to do.
 */
async function migrateWithRetry(migrator: Migrator, kind: 'postgres' | 'sqlite'): Promise<MigrationResultSet> {
  const deadline = Date.now() + 15_000;
  for (let attempt = 1; ; attempt++) {
    // The introspection runs before Kysely's own error capture, so a race may also be thrown rather than returned.
    const outcome: MigrationResultSet = await migrator.migrateToLatest().catch((error: unknown) => ({ error }));
    if (!migrationRaced(outcome, kind) || Date.now() > deadline) return outcome;
    await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 500) * (0.5 + Math.random())));
  }
}
