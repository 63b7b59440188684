/**
 * A store starting on SQLite while another connection holds the file's write lock for longer than the 5 s a
 * statement waits (another process migrating on a loaded host): it is refused with SQLITE_BUSY, tries again, and
 * starts once the lock is free — before, it failed to start.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../../src/store/index.js';
import { testBackends } from '../../support/databases.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

describe('a store starting on a locked SQLite file', () => {
  it('waits past the busy timeout for the write lock and migrates', { timeout: 30_000 }, async () => {
    const db = backends.find((b) => b.name === 'sqlite')!.database();
    mkdirSync(path.dirname(db.options.sqlitePath), { recursive: true, mode: 0o700 });
    const holder = new BetterSqlite3(db.options.sqlitePath);
    holder.pragma('journal_mode = WAL');
    holder.exec('begin immediate');
    const heldMs = 6500;
    const released = new Promise<void>((resolve) =>
      setTimeout(() => {
        holder.exec('commit');
        holder.close();
        resolve();
      }, heldMs),
    );
    const t0 = Date.now();
    const store = await createStore({ sqlitePath: db.options.sqlitePath });
    const waited = Date.now() - t0;
    await released;
    expect(waited).toBeGreaterThanOrEqual(heldMs - 100);
    expect(await store.certificates.nextSerial('cert')).toBe(1);
    await store.close();
    await db.drop();
  });
});
