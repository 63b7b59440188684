import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';

/** PostgreSQL used by tests; CI provides it. Tests fail (never skip) when it is unreachable. */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One empty database (a SQLite file or a PostgreSQL schema) that can be opened several times. */
export interface TestDatabase {
  /** `createStore` arguments that reach this database (for child processes). */
  readonly options: { databaseUrl: string | null; sqlitePath: string };
  /** Opens another Store on the same database (runs migrations again). */
  open(): Promise<Store>;
  /** Closes the stores opened here and removes the database. */
  drop(): Promise<void>;
}

export interface TestBackend {
  readonly name: 'sqlite' | 'postgres';
  /** A Store on a fresh, empty database; closing it drops the database. */
  open(): Promise<Store>;
  /** A fresh database that can be opened more than once (re-open, two processes on one file). */
  database(): TestDatabase;
  /** Drops everything this backend created and is still around; call in afterAll. */
  cleanup(): Promise<void>;
}

function randomName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** Closes every store of a database exactly once, even if a test closed one already. */
function trackStores(): { track(store: Store): Store; closeAll(): Promise<void> } {
  const open = new Set<Store>();
  return {
    track(store: Store): Store {
      const close = store.close.bind(store);
      const tracked: Store = {
        ...store,
        close: async () => {
          if (!open.delete(tracked)) return;
          await close();
        },
      };
      open.add(tracked);
      return tracked;
    },
    async closeAll(): Promise<void> {
      await Promise.all([...open].map((s) => s.close()));
    },
  };
}

function makeBackend(name: TestBackend['name'], newDatabase: () => TestDatabase): TestBackend {
  const live = new Set<TestDatabase>();
  const database = (): TestDatabase => {
    const inner = newDatabase();
    const db: TestDatabase = {
      options: inner.options,
      open: () => inner.open(),
      drop: async () => {
        live.delete(db);
        await inner.drop();
      },
    };
    live.add(db);
    return db;
  };
  return {
    name,
    database,
    async open(): Promise<Store> {
      const db = database();
      const store = await db.open();
      return {
        ...store,
        close: async () => {
          await store.close();
          await db.drop();
        },
      };
    },
    async cleanup(): Promise<void> {
      await Promise.all([...live].map((d) => d.drop()));
    },
  };
}

function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'miaopi-store-'));
  const sqlitePath = join(dir, 'nested', 'miaopi.db');
  const stores = trackStores();
  return {
    options: { databaseUrl: null, sqlitePath },
    open: async () => stores.track(await createStore({ databaseUrl: null, sqlitePath })),
    drop: async () => {
      await stores.closeAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresDatabase(): TestDatabase {
  const schema = randomName('test');
  const databaseUrl = withSchema(TEST_DATABASE_URL, schema);
  const stores = trackStores();
  return {
    options: { databaseUrl, sqlitePath: '/nonexistent/unused.db' },
    open: async () => stores.track(await createStore({ databaseUrl, sqlitePath: '/nonexistent/unused.db' })),
    drop: async () => {
      await stores.closeAll();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Both store backends, for `describe.each(testBackends())`. SQLite uses a temp file, PostgreSQL a random
 * schema in TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
export function testBackends(): TestBackend[] {
  return [makeBackend('sqlite', sqliteDatabase), makeBackend('postgres', postgresDatabase)];
}
