/**
 * The audit log is append-only (a trigger refuses UPDATE/DELETE) and hash-chained: someone who can drop the
 * trigger and edit a row directly in the database is still caught by the verifier, through the store and the
 * `npm run audit -- verify` CLI, on SQLite and PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.js';
import { TEST_DATABASE_URL, testBackends, type TestDatabase } from '../../support/databases.js';
import { REPO_ROOT, SECRET } from '../../support/stack.js';

const run = promisify(execFile);

/** Runs SQL on the test database behind the store's back, as a DBA could. */
async function rawSql(db: TestDatabase, statements: string[]): Promise<void> {
  if (db.options.databaseUrl === null) {
    const conn = new BetterSqlite3(db.options.sqlitePath);
    try {
      for (const s of statements) conn.exec(s);
    } finally {
      conn.close();
    }
    return;
  }
  const schema = new URL(db.options.databaseUrl).searchParams.get('schema')!;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`set search_path to "${schema}"`);
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

async function cliVerify(db: TestDatabase): Promise<{ code: number; out: string }> {
  const args = ['tsx', 'src/cli/audit.ts', 'verify', ...(db.options.databaseUrl ? ['--database-url', db.options.databaseUrl] : ['--sqlite', db.options.sqlitePath])];
  try {
    const { stdout, stderr } = await run('npx', args, { cwd: REPO_ROOT, env: { ...process.env, AUTH_JWT_SECRET: SECRET, LOG_LEVEL: 'silent' } });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe.each(testBackends().map((b) => [b.name, b] as const))('audit chain on %s', (_name, backend) => {
  let db: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    db = backend.database();
    store = await db.open();
    for (let i = 1; i <= 5; i++) {
      await store.authoring.audit.append({ at: `2026-11-26T00:00:0${i}.000Z`, actor: 'ADMIN-A', dept: '11210100MB0E12346R', action: 'draft.create', subject: 'grain-purchase-filing', details: { draft: `d${i}` } });
    }
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('verifies an untouched chain, each entry carrying the previous entry’s hash', async () => {
    const entries = await store.authoring.audit.list({ limit: 10 });
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
    expect(await store.authoring.audit.verify()).toMatchObject({ ok: true, entries: 5, head: entries[4]!.hash });
    const cli = await cliVerify(db);
    expect(cli.code).toBe(0);
    expect(cli.out).toContain(`ok: 5 entries, head ${entries[4]!.hash}`);
  }, 60_000);

  it('refuses to update or delete an audit row', async () => {
    await expect(rawSql(db, [`update audit_log set actor = 'MALLORY' where seq = 2`])).rejects.toThrow(/append-only/);
    await expect(rawSql(db, ['delete from audit_log where seq = 5'])).rejects.toThrow(/append-only/);
  });

  it('detects a row changed directly in the database, through the store and the CLI', async () => {
    const disable =
      db.options.databaseUrl === null ? ['drop trigger audit_log_no_update'] : ['alter table audit_log disable trigger audit_log_no_change'];
    await rawSql(db, [...disable, `update audit_log set details = '{"draft":"forged"}' where seq = 2`]);
    const report = await store.authoring.audit.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ seq: 2, problem: expect.stringContaining('hash does not match') }]);
    const cli = await cliVerify(db);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('✗ entry 2:');
    expect(cli.out).toContain('BROKEN');
  }, 60_000);

  it('detects a removed row even when the hashes of the others are intact', async () => {
    const disable = db.options.databaseUrl === null ? ['drop trigger audit_log_no_delete'] : [];
    await rawSql(db, [...disable, 'delete from audit_log where seq = 4']);
    const report = await store.authoring.audit.verify();
    expect(report.problems.map((p) => p.seq)).toEqual([2, 5, 5]);
  });
});

describe.each(testBackends().map((b) => [b.name, b] as const))('concurrent audit appends on %s', (_name, backend) => {
  it('keep one unbroken chain when many connections append at once', async () => {
    const db = backend.database();
    const stores = [await db.open(), ...(db.options.databaseUrl ? [await db.open(), await db.open()] : [])];
    try {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          stores[i % stores.length]!.authoring.audit.append({ at: new Date().toISOString(), actor: `A${i}`, dept: null, action: 'test.append', subject: String(i), details: { i } }),
        ),
      );
      expect(await stores[0]!.authoring.audit.verify()).toMatchObject({ ok: true, entries: 30 });
    } finally {
      await db.drop();
    }
  }, 60_000);
});
