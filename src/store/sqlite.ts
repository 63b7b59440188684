import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ensurePrivateDir, ensurePrivateFile, narrowIfPresent } from '../private-files.js';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryResult,
  type SqliteDialectConfig,
} from 'kysely';

/** How long a writer waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}

/** The first retries let whatever else is ready run; then about a millisecond apart. */
function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => (attempt < 2 ? setImmediate(resolve) : setTimeout(resolve, 1)));
}

/**
 * Waits for another process's write lock without blocking the event loop. SQLite's own busy handler sleeps the
 * thread (1, 2, 5, 10 … ms) and better-sqlite3 is synchronous, so a worker waiting for the API's lock stopped every
 * other job it had in hand (measured: ~1.2 ms of every filing's worker time on the embedded default, ~4 ms with two
 * worker processes). Here busy_timeout is 0 and a statement refused with SQLITE_BUSY is tried again after a pause
 * in which other jobs run — only when the refusal had no effect: a statement outside a transaction, or the
 * `BEGIN IMMEDIATE` that did not start one. Inside a transaction (the write lock held) it is an error as before.
 */
class BusyRetryConnection implements DatabaseConnection {
  constructor(
    private readonly inner: DatabaseConnection,
    private readonly database: BetterSqlite3.Database,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    let deadline = 0; // set on the first refusal: a statement that is not refused reads no clock
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.inner.executeQuery<R>(query);
      } catch (err) {
        if (!isBusy(err) || this.database.inTransaction) throw err;
        deadline ||= performance.now() + BUSY_TIMEOUT_MS;
        if (performance.now() >= deadline) throw err;
        await pause(attempt);
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * Starts every transaction with `BEGIN IMMEDIATE`. A plain (deferred) `BEGIN` that reads and then writes
 * fails at once with SQLITE_BUSY when another process (API vs worker) wrote in between: WAL cannot upgrade a
 * stale read snapshot, and no wait applies. Taking the write lock up front makes the transaction wait
 * instead (BusyRetryConnection tries the BEGIN IMMEDIATE again).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #database: BetterSqlite3.Database;
  #connection: DatabaseConnection | null = null;

  constructor(config: SqliteDialectConfig, database: BetterSqlite3.Database) {
    super(config);
    this.#database = database;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await super.acquireConnection();
    return (this.#connection ??= new BusyRetryConnection(inner, this.#database));
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * SQLite does have transactional DDL; Kysely's adapter says no, which makes its Migrator run without a
 * transaction (and its migration lock is a no-op on SQLite). Saying yes puts the whole migration run in one
 * `BEGIN IMMEDIATE` transaction: two processes starting at once serialise, the second sees the first's work.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class MultiProcessSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #database: BetterSqlite3.Database;

  constructor(config: SqliteDialectConfig, database: BetterSqlite3.Database) {
    super(config);
    this.#config = config;
    this.#database = database;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#database);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** Statements kept per connection; the queries are a small fixed set, so this never fills in practice. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew, and preparing cost as much as running the statement (profiled: ~25 % of the
 * worker's SQLite time). better-sqlite3 statements are reusable, so keep them by SQL text; SQLite re-prepares a
 * cached statement itself after a schema change.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = database.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/**
 * Opens (creating the parent directory) the SQLite file shared by the API and worker processes. The folder is 0700
 * and the file 0600 before SQLite opens it, which gives the -wal and -shm files the same mode.
 * Within one process, use one Store per file: each Store is its own connection, and two connections of one process
 * contend for the write lock like two processes do.
 */
export function sqliteDialect(path: string): SqliteDialect {
  if (path !== ':memory:' && !path.startsWith('file:')) {
    ensurePrivateDir(dirname(path));
    ensurePrivateFile(path);
    // Left by an earlier version with a wider mode; SQLite reuses them as they are.
    narrowIfPresent(`${path}-wal`);
    narrowIfPresent(`${path}-shm`);
  }
  const database = new BetterSqlite3(path, { timeout: BUSY_TIMEOUT_MS });
  // busy_timeout first: switching to WAL itself takes a lock another process may hold.
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  // Every filing writes ~100 KB (its e-form and certificate). Reads come through the memory map, so the page cache
  // mostly holds pages just written (those PDFs): 8 MB, not more — at 64 MB it was a steady RSS climb of each
  // process over the first ~10,000 filings, for no measurable speed. A larger WAL between checkpoints turns many
  // small copy-and-sync rounds into fewer, larger ones.
  database.pragma('cache_size = -8192');
  database.pragma('mmap_size = 268435456');
  database.pragma('wal_autocheckpoint = 4000');
  database.pragma('temp_store = MEMORY');
  // From here on a busy lock is waited for without blocking the event loop (BusyRetryConnection).
  database.pragma('busy_timeout = 0');
  return new MultiProcessSqliteDialect({ database: withStatementCache(database) }, database);
}
