/**
 * The audit chain anchored by signed checkpoints (issue 17), on SQLite and PostgreSQL: someone with full write
 * access to the database — triggers dropped, hashes recomputed — can make the unkeyed chain verify again, but not
 * the checkpoints signed with the service's key. `npm run audit -- verify` finds a rewritten entry, a removed
 * entry and a truncated tail; `npm run audit -- checkpoint` signs the head, with an RFC 3161 token when TSA_URL is set.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHash } from '../../../src/authoring/audit-chain.js';
import { openAuditKey, signCheckpoint, timestampTime } from '../../../src/authoring/audit-checkpoint.js';
import { verifyAuditLog, writeAuditCheckpoint } from '../../../src/authoring/audit-checkpointer.js';
import { passLeases } from '../../../src/queue/pass-lease.js';
import { httpTimestamper } from '../../../src/signing/timestamp.js';
import type { Store } from '../../../src/store/types.js';
import { startTestTsa, type TestTsa } from '../../fixtures/test-tsa.js';
import { TEST_DATABASE_URL, testBackends, type TestDatabase } from '../../support/databases.js';
import { REPO_ROOT, SECRET } from '../../support/stack.js';

const run = promisify(execFile);
const DEPT = '11210100MB0E12346R';

const keyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const key = openAuditKey(keyPem);
const otherKey = openAuditKey(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const dir = mkdtempSync(path.join(tmpdir(), 'audit-cp-'));
const keyFile = path.join(dir, 'audit.pem');
writeFileSync(keyFile, keyPem, { mode: 0o600 });

let tsa: TestTsa;
beforeAll(async () => {
  tsa = await startTestTsa();
}, 30_000);
afterAll(async () => {
  await tsa?.close();
  rmSync(dir, { recursive: true, force: true });
});

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

const unlockLog = (db: TestDatabase) =>
  db.options.databaseUrl === null
    ? ['drop trigger if exists audit_log_no_update', 'drop trigger if exists audit_log_no_delete']
    : ['alter table audit_log disable trigger audit_log_no_change'];

async function cli(db: TestDatabase, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const target = db.options.databaseUrl ? ['--database-url', db.options.databaseUrl] : ['--sqlite', db.options.sqlitePath];
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'src/cli/audit.ts', ...args, ...target], {
      cwd: REPO_ROOT,
      env: { ...process.env, AUTH_JWT_SECRET: SECRET, LOG_LEVEL: 'silent', DATA_DIR: dir, AUDIT_SIGNING_KEY: keyFile, ...env },
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

async function append(store: Store, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await store.authoring.audit.append({ at: new Date().toISOString(), actor: 'ADMIN-A', dept: DEPT, action: 'draft.create', subject: 'grain-purchase-filing', details: { i } });
  }
}

const checkpoint = (store: Store) => writeAuditCheckpoint({ store, key, timestamper: null, clock: () => new Date() });

/** Rewrites entry `seq` and recomputes every later hash, so the unkeyed chain verifies again. */
async function rewriteChain(db: TestDatabase, store: Store, seq: number): Promise<void> {
  const all = await store.authoring.audit.list({ limit: 1000 });
  const statements = [...unlockLog(db)];
  let prev = all.find((e) => e.seq === seq - 1)?.hash ?? '0'.repeat(64);
  for (const e of all.filter((x) => x.seq >= seq)) {
    const details = e.seq === seq ? JSON.stringify({ i: 'forged' }) : JSON.stringify(e.details);
    const hash = auditHash({ seq: e.seq, at: e.at, actor: e.actor, dept: e.dept, action: e.action, subject: e.subject, details, prevHash: prev });
    statements.push(`update audit_log set details = '${details}', prev_hash = '${prev}', hash = '${hash}' where seq = ${e.seq}`);
    prev = hash;
  }
  await rawSql(db, statements);
}

describe.each(testBackends().map((b) => [b.name, b] as const))('audit checkpoints on %s', (_name, backend) => {
  const dbs: TestDatabase[] = [];
  async function fresh(entries: number): Promise<{ db: TestDatabase; store: Store }> {
    const db = backend.database();
    dbs.push(db);
    const store = await db.open();
    await append(store, entries);
    return { db, store };
  }
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('signs the head once per change, with an RFC 3161 token, and verifies through the CLI', async () => {
    const { db, store } = await fresh(5);
    const first = await writeAuditCheckpoint({ store, key, timestamper: httpTimestamper(tsa.url), clock: () => new Date() });
    expect(first).toMatchObject({ id: 1, headSeq: 5, keyId: key.keyId });
    expect(timestampTime(first!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await checkpoint(store)).toBeNull();
    await append(store, 2);
    expect(await checkpoint(store)).toMatchObject({ id: 2, headSeq: 7 });
    expect(await verifyAuditLog(store, key.publicKey)).toMatchObject({ ok: true, entries: 7, checkpoints: 2, problems: [] });
    await append(store, 1);
    const written = await cli(db, ['checkpoint']);
    expect(written.code, written.out).toBe(0);
    expect(JSON.parse(written.out.trim().split('\n').pop()!)).toMatchObject({ id: 3, headSeq: 8 });
    const verified = await cli(db, ['verify']);
    expect(verified.code, verified.out).toBe(0);
    expect(verified.out).toMatch(/ok: 8 entries, head [0-9a-f]{64}; 3 checkpoints, last 3 at .* over entry 8/);
  }, 90_000);

  it('detects an entry rewritten with every later hash recomputed (the bare chain verifies)', async () => {
    const { db, store } = await fresh(6);
    await checkpoint(store);
    await rewriteChain(db, store, 3);
    expect((await store.authoring.audit.verify()).ok).toBe(true);
    const report = await verifyAuditLog(store, key.publicKey);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ seq: 6, problem: expect.stringContaining('entry 6 differs from its hash signed in checkpoint 1') }]);
  });

  it('detects an edited and a deleted entry', async () => {
    const { db, store } = await fresh(6);
    await checkpoint(store);
    await rawSql(db, [...unlockLog(db), `update audit_log set actor = 'MALLORY' where seq = 2`, 'delete from audit_log where seq = 4']);
    const report = await verifyAuditLog(store, key.publicKey);
    expect(report.problems.map((p) => [p.seq, p.problem.split(' (')[0]])).toEqual([
      [2, 'hash does not match the entry’s content'],
      [5, 'sequence gap: expected entry 4, found 5'],
      [5, 'prev_hash does not match the previous entry’s hash'],
    ]);
  });

  it('detects a truncated tail: entries a checkpoint signed removed from the end, through the CLI', async () => {
    const { db, store } = await fresh(4);
    await checkpoint(store);
    await append(store, 3);
    await checkpoint(store);
    await rawSql(db, [...unlockLog(db), 'delete from audit_log where seq > 5']);
    // What remains is a perfectly chained log of 5 entries: only the checkpoint knows there were 7.
    expect(await store.authoring.audit.verify()).toMatchObject({ ok: true, entries: 5 });
    const report = await verifyAuditLog(store, key.publicKey);
    expect(report.problems).toEqual([{ seq: 5, problem: 'tail truncated: a signed checkpoint covers entries up to 7, the log ends at 5' }]);
    const verified = await cli(db, ['verify']);
    expect(verified.code).toBe(1);
    expect(verified.out).toContain('✗ entry 5: tail truncated');
    expect(verified.out).toContain('BROKEN: 5 entries');
  }, 90_000);

  it('refuses checkpoints signed by another key, and notices a removed checkpoint', async () => {
    const { db, store } = await fresh(3);
    await checkpoint(store);
    await append(store, 1);
    await checkpoint(store);
    await append(store, 1);
    const forged = signCheckpoint(otherKey, await store.auditCheckpoints.last(), (await store.auditCheckpoints.head())!, new Date().toISOString());
    await store.auditCheckpoints.insert({ ...forged, timestampToken: null });
    expect((await verifyAuditLog(store, key.publicKey)).problems).toEqual([{ seq: 5, problem: expect.stringMatching(/checkpoint 3 .* signed by key [0-9a-f]{16}…, not the audit signing key/) }]);
    await expect(rawSql(db, ['delete from audit_checkpoints where id = 1'])).rejects.toThrow(/append-only/);
    const unlock = db.options.databaseUrl === null ? ['drop trigger audit_checkpoints_no_delete'] : ['alter table audit_checkpoints disable trigger audit_checkpoints_no_change'];
    await rawSql(db, [...unlock, 'delete from audit_checkpoints where id = 1']);
    const after = (await verifyAuditLog(store, key.publicKey)).problems.map((p) => p.problem);
    expect(after.filter((p) => /^checkpoint 2 \(.*expected checkpoint 1 next \(checkpoints removed\)$/.test(p))).toHaveLength(1);
  });

  it('is written by one process of many: the periodic pass runs under the audit-checkpoint lease', async () => {
    const { store } = await fresh(2);
    const processes = Array.from({ length: 4 }, (_, i) => passLeases(store, () => new Date(), `p${i}`));
    const results = await Promise.all(processes.map((l) => l.run('audit-checkpoint', 10_000, () => checkpoint(store))));
    expect(results.filter((r) => r !== null && r !== undefined)).toHaveLength(1);
    expect(await store.auditCheckpoints.list()).toHaveLength(1);
  });
});
