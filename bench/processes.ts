/**
 * The service as a city runs it, in separate processes on this machine: its own redis-server (AOF, as the embedded
 * default), the data-source stand-in (demo data + N synthetic enterprises, over HTTP), the API (`dist/server.js`)
 * and worker processes (`dist/worker.js`), on SQLite (embedded default) or a fresh PostgreSQL schema. The bench
 * process is only the load generator; CPU and RSS of every process are read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { envNameFor, loadSourceRegistry } from '../src/data-sources/registry.js';
import { freePort, startLocalRedis, type LocalRedis } from '../src/local-redis.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SECRET = 'bench-secret-bench-secret-bench-secret-01234';
/**
 * The PostgreSQL of `--db postgres` (a fresh schema in it per run). BENCH_DATABASE_URL overrides, e.g. the same
 * server through its Unix socket: postgres://postgres@localhost/test?host=/var/run/postgresql
 */
const PG_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Recent output lines, for failure messages. */
  tail: string[];
}

/** user+system CPU ms of a process from /proc (USER_HZ = 100). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * CPU ms of the whole machine so far, from /proc/stat's first line (USER_HZ = 100): `busy` what every process and the
 * kernel used on all cores (steal counted as busy: time the cores were not ours), `all` that plus idle and iowait.
 * NaN where /proc/stat cannot be read.
 */
export function machineCpuMs(): { busy: number; all: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy: busy * 10, all: (busy + idle + iowait) * 10 };
  } catch {
    return { busy: NaN, all: NaN };
  }
}

/** user+system CPU ms of this process: the load generator (and stand-ins a bench runs in-process). */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * CPU ms of a PostgreSQL server so far: the postmaster's own time, the time of the children it has reaped
 * (connections closed since) and that of every live child (backends, WAL writer, checkpointer …). Needs the
 * postmaster's pid (first line of postmaster.pid) and a /proc that shows other users' processes.
 */
export function postgresCpuMs(postmasterPid: number): number {
  try {
    const fields = (pid: number) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    };
    const f = fields(postmasterPid);
    let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const c = fields(Number(name));
        if (Number(c[1]) === postmasterPid) ticks += Number(c[11]) + Number(c[12]);
      } catch {
        // exited meanwhile
      }
    }
    return ticks * 10;
  } catch {
    return NaN;
  }
}

/** The postmaster of a PostgreSQL server from its data directory (`show data_directory`); null if unreadable. */
export function localPostmasterPid(dataDirectory: string | null): number | null {
  if (!dataDirectory) return null;
  try {
    const pid = Number(readFileSync(path.join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Resident set size in MB from /proc. */
export function rssMb(pid: number): number {
  return rssOf(pid).rss;
}

/**
 * Resident set size in MB and its file-backed part (`RssFile`: pages of mapped files — the program's code and
 * libraries, and the SQLite database, which the service maps with `mmap_size` — shared with the page cache and
 * dropped when a mapping is replaced, unlike the anonymous memory where a leak would show).
 */
export function rssOf(pid: number): { rss: number; file: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, file: kb('RssFile') / 1024 };
  } catch {
    return { rss: NaN, file: NaN };
  }
}

function start(name: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: REPO,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Proc = { name, child, pid: child.pid!, tail: [] };
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (l) => {
      p.tail.push(l);
      if (p.tail.length > 40) p.tail.shift();
    });
  }
  return p;
}

async function waitFor(p: Proc, what: RegExp, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const hit = p.tail.find((l) => what.test(l));
    if (hit) return hit;
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}) before ready:\n${p.tail.join('\n')}`);
    if (Date.now() > until) throw new Error(`${p.name} not ready after ${timeoutMs} ms:\n${p.tail.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(t);
}

export interface ServiceOptions {
  db: 'sqlite' | 'postgres';
  /** Synthetic enterprises the data-source stand-in serves. */
  synthetic: number;
  seed: number;
  workers: number;
  /** Jobs per worker process (WORKER_CONCURRENCY). */
  concurrency: number;
  /** Directory for the worker's --cpu-prof output, or null. */
  profileDir: string | null;
  /** Extra environment for API and workers. */
  env?: Record<string, string>;
}

export interface Service {
  base: string;
  api: Proc;
  workers: Proc[];
  sources: Proc;
  redis: LocalRedis;
  dir: string;
  /** Rows of applications created at or after `since` (ISO), for results. */
  rows(since: string): Promise<Array<{ id: string; status: string; created_at: string; decided_at: string | null; last_error: string | null; decision: string | null }>>;
  /** How many applications are still queued or processing. */
  open(): Promise<number>;
  /** The PostgreSQL server's postmaster (its CPU is the database's share of a filing); null on SQLite or if unreadable. */
  postmasterPid: number | null;
  stop(): Promise<void>;
}

export async function startService(o: ServiceOptions): Promise<Service> {
  if (!existsSync(path.join(REPO, 'dist', 'server.js'))) throw new Error('dist/ is missing: npm run build (npm run bench builds first)');
  const dir = mkdtempSync(path.join(tmpdir(), 'miaopi-bench-'));
  const redis = await startLocalRedis(dir);
  const sources = start('data-sources', ['dist/cli/standin.js', 'data-sources', '--synthetic', String(o.synthetic), '--seed', String(o.seed), '--rules', 'rules'], {});
  const line = await waitFor(sources, /"standin":"data-sources"/, 120_000);
  const { urls } = JSON.parse(line) as { urls: Record<string, string> };

  let schema: string | null = null;
  let databaseUrl: string | null = null;
  if (o.db === 'postgres') {
    schema = `bench_${randomBytes(4).toString('hex')}`;
    const u = new URL(PG_URL);
    u.searchParams.set('schema', schema);
    databaseUrl = u.toString();
  }
  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    RULES_DIR: path.join(REPO, 'rules'),
    CERTS_DIR: path.join(dir, 'certs'),
    REDIS_URL: redis.url,
    AUTH_JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: String(o.concurrency),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(o.env ?? {}),
  };
  for (const { id } of loadSourceRegistry(path.join(REPO, 'rules'))) {
    if (urls[id]) env[envNameFor(id)] = urls[id];
  }
  // The API first (it migrates and makes the dev keys), then the workers.
  const api = start('api', ['dist/server.js'], { ...env, LOG_LEVEL: 'info' }, o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(o.profileDir, 'api')}`] : []);
  await waitFor(api, /api listening/, 120_000);
  const workers: Proc[] = [];
  for (let i = 0; i < o.workers; i++) {
    const prof = o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(o.profileDir, 'worker')}`] : [];
    const w = start(`worker-${i + 1}`, ['dist/worker.js'], { ...env, LOG_LEVEL: 'info' }, prof);
    await waitFor(w, /worker started/, 120_000);
    workers.push(w);
  }

  const sqlite = o.db === 'sqlite' ? new BetterSqlite3(path.join(dir, 'miaopi.sqlite'), { readonly: true, fileMustExist: true }) : null;
  const pool = databaseUrl ? new pg.Pool({ connectionString: PG_URL, max: 2, options: `-c search_path=${schema}` }) : null;
  const cols = 'id, status, created_at, decided_at, last_error, decision';
  const dataDirectory = pool ? ((await pool.query('show data_directory').catch(() => null))?.rows[0]?.data_directory as string | undefined) ?? null : null;
  return {
    postmasterPid: localPostmasterPid(dataDirectory),
    base: `http://127.0.0.1:${port}`,
    api,
    workers,
    sources,
    redis,
    dir,
    async rows(since) {
      if (sqlite) return sqlite.prepare(`select ${cols} from applications where created_at >= ?`).all(since) as never;
      return (await pool!.query(`select ${cols} from applications where created_at >= $1`, [since])).rows as never;
    },
    async open() {
      if (sqlite) return (sqlite.prepare(`select count(*) as n from applications where status in ('queued','processing')`).get() as { n: number }).n;
      return Number((await pool!.query(`select count(*) as n from applications where status in ('queued','processing')`)).rows[0].n);
    },
    async stop() {
      for (const w of workers) await stop(w);
      await stop(api);
      await stop(sources);
      await redis.stop();
      sqlite?.close();
      if (pool) {
        await pool.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
        await pool.end();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
