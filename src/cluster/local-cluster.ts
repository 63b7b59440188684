/**
 * `npm run cluster`: the scaled-out topology of DESIGN.md §8 on this one machine — its own PostgreSQL (initdb into a
 * temporary folder, so it can be stopped and started again), a Redis master + replica watched by 3 sentinels, and
 * API and worker processes (ROLE=api / ROLE=worker) sharing them. A process that dies is started again, as a
 * process manager or the compose file's `restart: always` would. Tests use it to kill parts under load.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { childEnvironment } from '../config.js';
import { freePort } from '../local-redis.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(here, '../..');
const PG_BIN = '/usr/lib/postgresql/15/bin';
export const SENTINEL_NAME = 'mymaster';

export interface LocalClusterOptions {
  apis?: number;
  workers?: number;
  /** Extra environment for API and worker processes (CERTS_DIR, WORKER_CONCURRENCY, LOG_LEVEL …). */
  env?: Record<string, string>;
  /** Folder for everything (default: a new temporary folder, removed by stop()). */
  dir?: string;
  /** Called with one line per event (started, exited, restarted). */
  log?: (line: string) => void;
  /** Start a process again when it dies (default true). */
  restart?: boolean;
  /** How long an API or worker process may take to come up at start (default 180 s; it logs at LOG_LEVEL info). */
  readyTimeoutMs?: number;
  /**
   * What API and worker processes run: the built `dist/` (what production runs; benchmarks) or `src/` through tsx
   * (no build step). Default: whatever this module was loaded from.
   */
  code?: 'dist' | 'source';
}

export interface ClusterProcess {
  readonly name: string;
  readonly role: 'api' | 'worker';
  /** The current OS process id. */
  readonly pid: number;
  /** How many times it was started. */
  readonly starts: number;
  readonly url: string | null;
  /** Resolves when the current process is up (API listening / worker started). */
  ready(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** The last log lines, for failure messages. */
  tail(lines?: number): string;
}

export interface LocalCluster {
  readonly dir: string;
  readonly databaseUrl: string;
  readonly sentinels: Array<{ host: string; port: number }>;
  readonly apis: ClusterProcess[];
  readonly workers: ClusterProcess[];
  /** Starts one more worker / API process (the benchmark scales 1 → 2); resolves once it is up. */
  addWorker(): Promise<ClusterProcess>;
  addApi(): Promise<ClusterProcess>;
  /** The environment a further process of this cluster needs (Redis via sentinels, the database, …). */
  env(extra?: Record<string, string>): Record<string, string>;
  postgres: {
    readonly port: number;
    /** The postmaster's pid while it runs (benchmarks read the server's CPU time from /proc). */
    pid(): number | null;
    /** Fast shutdown (SIGINT) and wait for the exit. */
    stop(): Promise<void>;
    start(): Promise<void>;
  };
  redis: {
    /** The port the sentinels name as master now. */
    masterPort(): Promise<number>;
    /** SIGKILLs the redis-server listening on `port`. */
    kill(port: number): void;
    /** Ports of master and replica as started. */
    readonly ports: number[];
  };
  stop(): Promise<void>;
}

function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  return (async () => {
    for (;;) {
      if (await probe().catch(() => false)) return;
      if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
}

async function redisAnswers(port: number): Promise<boolean> {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } finally {
    c.disconnect();
  }
}

/** initdb refuses to run as root: PostgreSQL then runs as the `postgres` user. */
function postgresIds(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'miaopi-cluster-'));
  const ownDir = opts.dir === undefined;
  const log = opts.log ?? (() => undefined);
  const restart = opts.restart ?? true;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 180_000;
  const bounded = <T>(p: Promise<T>, what: string, tail: () => string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${readyTimeoutMs} ms (is LOG_LEVEL info?):\n${tail()}`)), readyTimeoutMs);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  };
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const children = new Set<ChildProcess>();
  const logs: WriteStream[] = [];
  let stopping = false;

  const launch = (name: string, cmd: string, args: string[], extra: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): ChildProcess => {
    const out = createWriteStream(path.join(dir, 'logs', `${name}.log`), { flags: 'a' });
    logs.push(out);
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...extra });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.on('error', (err) => log(`${name}: ${err.message}`));
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  // A start that fails half-way (a process that never comes up, a port taken) leaves nothing running behind it.
  try {
    // PostgreSQL.
    const ids = postgresIds();
    const pgData = path.join(dir, 'pg');
    const pgSock = path.join(dir, 'pg-socket');
    mkdirSync(pgData, { recursive: true });
    mkdirSync(pgSock, { recursive: true });
    if (ids) {
      chownSync(dir, ids.uid, ids.gid);
      chownSync(pgData, ids.uid, ids.gid);
      chownSync(pgSock, ids.uid, ids.gid);
    }
    execFileSync(path.join(PG_BIN, 'initdb'), ['-D', pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
      stdio: 'ignore',
      ...(ids ?? {}),
    });
    const pgPort = await freePort();
    let pgProcess: ChildProcess | null = null;
    const startPostgres = async () => {
      pgProcess = launch('postgres', path.join(PG_BIN, 'postgres'), [
        '-D', pgData, '-p', String(pgPort), '-k', pgSock, '-c', 'listen_addresses=127.0.0.1',
        '-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'full_page_writes=off',
      ], ids ?? {});
      await waitFor('PostgreSQL to accept connections', async () => {
        try {
          execFileSync(path.join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'postgres'], { stdio: 'ignore' });
          return true;
        } catch {
          return false;
        }
      }, 30_000, 200);
    };
    await startPostgres();
    const databaseUrl = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
    log(`postgres  ${databaseUrl} (data ${pgData})`);

    // Redis master + replica, 3 sentinels.
    const redisPorts = [await freePort(), await freePort()];
    const redisProcs = new Map<number, ChildProcess>();
    for (const [i, port] of redisPorts.entries()) {
      const rdir = path.join(dir, `redis-${port}`);
      mkdirSync(rdir, { recursive: true });
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', rdir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'];
      if (i > 0) args.push('--replicaof', '127.0.0.1', String(redisPorts[0]));
      redisProcs.set(port, launch(`redis-${port}`, 'redis-server', args));
      await waitFor(`redis-server on ${port}`, () => redisAnswers(port), 15_000);
    }
    const sentinels: Array<{ host: string; port: number }> = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = path.join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
          `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${redisPorts[0]} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
          `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
          `sentinel parallel-syncs ${SENTINEL_NAME} 1`, '',
        ].join('\n'),
      );
      launch(`sentinel-${port}`, 'redis-sentinel', [conf]);
      await waitFor(`redis-sentinel on ${port}`, () => redisAnswers(port), 15_000);
      sentinels.push({ host: '127.0.0.1', port });
    }
    log(`redis     master 127.0.0.1:${redisPorts[0]}, replica 127.0.0.1:${redisPorts[1]}; sentinels ${sentinels.map((s) => s.port).join(', ')} (name ${SENTINEL_NAME})`);

    // This process's environment minus what names another Redis, database or port.
    const inherited = Object.fromEntries(
      Object.entries(childEnvironment({})).filter((e): e is [string, string] => e[1] !== undefined && !/^(REDIS_|DATABASE_URL$|PORT$|ROLE$|PUBLIC_URL$|QUEUE_NAME$)/.test(e[0])),
    );
    const baseEnv: Record<string, string> = {
      ...inherited,
      DATA_DIR: path.join(dir, 'data'),
      DATABASE_URL: databaseUrl,
      REDIS_SENTINELS: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: SENTINEL_NAME,
      LOG_LEVEL: 'info',
      ...(opts.env ?? {}),
    };
    const env = (extra: Record<string, string> = {}) => ({ ...baseEnv, ...extra });

    // API and worker processes: from src/ with tsx when this runs from src/ (unless told otherwise), from dist/ otherwise.
    const fromSource = (opts.code ?? (import.meta.url.endsWith('.ts') ? 'source' : 'dist')) === 'source';
    const entry = (role: 'api' | 'worker') =>
      fromSource ? ['--import', 'tsx', path.join(REPO_ROOT, 'src', role === 'api' ? 'server.ts' : 'worker.ts')] : [path.join(REPO_ROOT, 'dist', role === 'api' ? 'server.js' : 'worker.js')];
    const READY = { api: 'api listening', worker: 'worker started' } as const;

    const service = (role: 'api' | 'worker', index: number, port: number | null): ClusterProcess => {
      const name = `${role}-${index + 1}`;
      let child: ChildProcess;
      let starts = 0;
      let readyPromise: Promise<void> = Promise.resolve();
      const recent: string[] = [];
      const start = () => {
        starts++;
        child = launch(name, process.execPath, entry(role), { env: env({ ROLE: role, ...(port === null ? {} : { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }) }) });
        const c = child;
        readyPromise = new Promise<void>((resolve, reject) => {
          let buffered = '';
          const onData = (chunk: Buffer) => {
            buffered += chunk.toString('utf8');
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              recent.push(line.slice(0, 1000));
              if (recent.length > 200) recent.splice(0, recent.length - 200);
              if (line.includes(`"msg":"${READY[role]}"`)) resolve();
            }
          };
          c.stdout!.on('data', onData);
          c.stderr!.on('data', onData);
          c.once('exit', (code, signal) => reject(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready:\n${recent.slice(-30).join('\n')}`)));
        });
        readyPromise.catch(() => undefined);
        c.once('exit', (code, signal) => {
          if (stopping) return;
          log(`${name} (pid ${c.pid}) exited (code ${code}, signal ${signal})${restart ? '; starting it again' : ''}`);
          if (restart) setTimeout(() => !stopping && start(), 500);
        });
      };
      start();
      return {
        name,
        role,
        get pid() {
          return child.pid ?? -1;
        },
        get starts() {
          return starts;
        },
        url: port === null ? null : `http://127.0.0.1:${port}`,
        ready: async () => {
          // A restart may be pending or under way: wait for the process after it.
          for (let i = 0; i < 600; i++) {
            try {
              await readyPromise;
              return;
            } catch (err) {
              if (!restart || stopping) throw err;
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        },
        kill: (signal) => {
          child.kill(signal);
        },
        tail: (lines = 40) => recent.slice(-lines).join('\n'),
      };
    };

    const apis: ClusterProcess[] = [];
    const workers: ClusterProcess[] = [];
    // The first API makes the schema and the development keys; the others start after it.
    apis.push(service('api', 0, await freePort()));
    await bounded(apis[0]!.ready(), `${apis[0]!.name} to listen`, () => apis[0]!.tail());
    for (let i = 1; i < (opts.apis ?? 2); i++) apis.push(service('api', i, await freePort()));
    for (let i = 0; i < (opts.workers ?? 2); i++) workers.push(service('worker', i, null));
    await Promise.all([...apis, ...workers].map((p) => bounded(p.ready(), `${p.name} to start`, () => p.tail())));
    for (const p of [...apis, ...workers]) log(`${p.name.padEnd(9)} pid ${p.pid}${p.url ? `  ${p.url}` : ''}`);

    return {
      dir,
      databaseUrl,
      sentinels,
      apis,
      workers,
      env,
      async addWorker() {
        const p = service('worker', workers.length, null);
        workers.push(p);
        await p.ready();
        log(`${p.name.padEnd(9)} pid ${p.pid}`);
        return p;
      },
      async addApi() {
        const p = service('api', apis.length, await freePort());
        apis.push(p);
        await p.ready();
        log(`${p.name.padEnd(9)} pid ${p.pid}  ${p.url}`);
        return p;
      },
      postgres: {
        port: pgPort,
        pid: () => (pgProcess && pgProcess.exitCode === null && pgProcess.signalCode === null ? (pgProcess.pid ?? null) : null),
        async stop() {
          const p = pgProcess;
          if (!p || p.exitCode !== null || p.signalCode !== null) return;
          await new Promise<void>((resolve) => {
            p.once('exit', () => resolve());
            p.kill('SIGINT');
          });
        },
        start: startPostgres,
      },
      redis: {
        ports: redisPorts,
        async masterPort() {
          for (const s of sentinels) {
            const c = new Redis({ port: s.port, host: s.host, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
            c.on('error', () => undefined);
            try {
              await c.connect();
              const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_NAME)) as [string, string] | null;
              if (addr) return Number(addr[1]);
            } catch {
              // ask the next sentinel
            } finally {
              c.disconnect();
            }
          }
          throw new Error('no sentinel names a master');
        },
        kill(port) {
          redisProcs.get(port)?.kill('SIGKILL');
        },
      },
      async stop() {
        stopping = true;
        const all = [...children];
        await Promise.all(
          all.map(
            (c) =>
              new Promise<void>((resolve) => {
                if (c.exitCode !== null || c.signalCode !== null) return resolve();
                const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
                c.once('exit', () => {
                  clearTimeout(t);
                  resolve();
                });
                c.kill(c === pgProcess ? 'SIGINT' : 'SIGTERM');
              }),
          ),
        );
        for (const l of logs) l.end();
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    stopping = true;
    for (const c of children) c.kill('SIGKILL');
    for (const l of logs) l.end();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
