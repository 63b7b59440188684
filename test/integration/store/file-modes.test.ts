/**
 * Personal data at rest is readable by the service's account only (issue 17, item 6): under a umask of 022 — what
 * most hosts have — DATA_DIR, the SQLite file with its WAL and SHM, the local Redis folder with its AOF, the
 * development secrets and the development key folders are 0700 folders of 0600 files; and a data folder left wider
 * by an earlier version is narrowed on the next start.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { startLocalRedis } from '../../../src/local-redis.js';
import { ensureDevPki } from '../../../src/signing/pki.js';
import { createStore } from '../../../src/store/index.js';

const root = mkdtempSync(path.join(tmpdir(), 'miaopi-modes-'));
let previousUmask = 0;
beforeAll(() => {
  // The defaults of the host must not make this pass: 022 leaves new files 0644 unless the service narrows them.
  previousUmask = process.umask(0o022);
});
afterAll(() => {
  process.umask(previousUmask);
  rmSync(root, { recursive: true, force: true });
});

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(3, '0');

/** Every folder and file below `dir` (and `dir` itself) whose mode is not 0700 (folders) or 0600 (files). */
function wider(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    const want = st.isDirectory() ? '700' : '600';
    if (mode(p) !== want) out.push(`${path.relative(root, p) || '.'} ${mode(p)}`);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return out;
}

describe('files at rest', () => {
  it('a fresh DATA_DIR: folder 0700; SQLite file, WAL, SHM and the development secrets 0600', async () => {
    const dataDir = path.join(root, 'fresh');
    const config = loadConfig({ DATA_DIR: dataDir });
    const store = await createStore({ sqlitePath: config.sqlitePath });
    try {
      const names = readdirSync(dataDir).sort();
      for (const f of ['dev-jwt-secret', 'dev-webhook-secret-key', 'miaopi.sqlite', 'miaopi.sqlite-shm', 'miaopi.sqlite-wal']) expect(names).toContain(f);
      expect(wider(dataDir)).toEqual([]);
      console.log(`FILE MODES fresh DATA_DIR: ${names.length} files checked, ${wider(dataDir).length} wider than 0600/0700`);
    } finally {
      await store.close();
    }
  });

  it('a DATA_DIR left 0755 with a 0644 database, WAL and SHM by an earlier version is narrowed on start', async () => {
    const dataDir = path.join(root, 'earlier');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const sqlite = path.join(dataDir, 'miaopi.sqlite');
    const first = await createStore({ sqlitePath: sqlite });
    await first.close();
    for (const f of [sqlite, `${sqlite}-wal`, `${sqlite}-shm`]) writeFileSync(f, '', { flag: 'a' });
    for (const f of [dataDir]) chmodSync(f, 0o755);
    for (const f of [sqlite, `${sqlite}-wal`, `${sqlite}-shm`]) chmodSync(f, 0o644);
    expect(wider(dataDir).length).toBe(4);
    const again = await createStore({ sqlitePath: sqlite });
    try {
      expect(wider(dataDir)).toEqual([]);
    } finally {
      await again.close();
    }
  });

  it('the local redis-server: DATA_DIR/redis 0700, its AOF folder 0700, AOF files and log 0600', async () => {
    const dataDir = path.join(root, 'redis-data');
    const redis = await startLocalRedis(dataDir);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      await client.set('miaopi:probe', '210102199001011237');
      // An AOF rewrite makes the base file as well as the incremental one.
      await client.bgrewriteaof();
      for (let i = 0; i < 50 && (await client.info('persistence')).includes('aof_rewrite_in_progress:1'); i++) await new Promise((r) => setTimeout(r, 100));
      const files = readdirSync(path.join(dataDir, 'redis'), { recursive: true }).map(String);
      expect(files.some((f) => f.includes('.aof'))).toBe(true);
      expect(files).toContain('redis.log');
      expect(wider(dataDir)).toEqual([]);
      console.log(`FILE MODES local redis: ${files.length} entries under DATA_DIR/redis, ${wider(dataDir).length} wider than 0600/0700`);
    } finally {
      client.disconnect();
      await redis.stop();
    }
  }, 30_000);

  it('the development key folders (CERTS_DIR): 0700 folders, private keys 0600', async () => {
    const certs = path.join(root, 'certs');
    await ensureDevPki(certs, [{ code: '11210100MB0E12346R', name: '沈阳市粮食和物资储备局' }]);
    for (const d of [certs, path.join(certs, 'departments')]) expect(mode(d)).toBe('700');
    const keys = readdirSync(certs, { recursive: true }).map(String).filter((f) => f.endsWith('.key.pem'));
    expect(keys.length).toBeGreaterThan(1);
    for (const k of keys) expect(mode(path.join(certs, k)), k).toBe('600');
  }, 60_000);
});
