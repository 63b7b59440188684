/**
 * Real processes for fault tests: the API (`src/server.ts`) and worker (`src/worker.ts`) run as child processes
 * (`node --import tsx`) so that a test can SIGKILL or SIGTERM them; Redis runs as its own `redis-server` that can
 * be killed and restarted from its AOF on the same port and folder; a TCP proxy can freeze a process's link to
 * Redis. Everything listens on 127.0.0.1 only, and every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { signDevToken } from '../../src/http/dev-token.js';
import { freePort, startLocalRedis, type LocalRedis } from '../../src/local-redis.js';
import { envNameFor } from '../../src/data-sources/registry.js';
import { createStore } from '../../src/store/index.js';
import { QUEUE_PREFIX } from '../../src/redis.js';
import type { ApplicationStatus } from '../../src/domain/types.js';
import type { ApplicationRow, Store } from '../../src/store/types.js';
import { testBackends, type TestDatabase } from './databases.js';
import { loadDemoDataRecords, startDataSourceServer, type DataSourceServer } from './datasource-server.js';
import { REPO_ROOT, SECRET, privateCertsDir } from './stack.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than undefined; throws after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** One pino JSON line of a child process (non-JSON output is kept as `{msg: line}`). */
export interface LogLine {
  level?: number;
  msg?: string;
  [k: string]: unknown;
}

export interface ServiceProcess {
  readonly role: 'api' | 'worker';
  readonly pid: number;
  /** Resolves once the process logged that it is up ("api listening" / "worker started"). */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited, whatever the reason. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
  /** How many log lines with each `msg` the process wrote. */
  readonly messages: ReadonlyMap<string, number>;
  /** Sends `signal` and waits (bounded) for the exit; SIGKILL after `timeoutMs` if it is still there. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines of output, for failure messages. */
  tail(lines?: number): string;
}

const READY_MESSAGE = { api: 'api listening', worker: 'worker started' } as const;
const ENTRY = { api: 'src/server.ts', worker: 'src/worker.ts' } as const;

/**
 * Starts `src/server.ts` or `src/worker.ts` as a child process with exactly `env` (plus PATH/HOME).
 * `ready` rejects if the process exits or stays silent for `readyTimeoutMs`.
 */
export function spawnService(role: 'api' | 'worker', env: Record<string, string>, readyTimeoutMs = 30_000): ServiceProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENTRY[role]], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? tmpdir(), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recent: string[] = [];
  const messages = new Map<string, number>();
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let markReady: () => void = () => undefined;
  let failReady: (err: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  ready.catch(() => undefined);
  const readyTimer = setTimeout(() => failReady(new Error(`${role} not ready after ${readyTimeoutMs} ms:\n${tail()}`)), readyTimeoutMs);

  const onLine = (line: string) => {
    if (line.trim() === '') return;
    recent.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (recent.length > 300) recent.splice(0, recent.length - 300);
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      parsed = { msg: line };
    }
    const msg = typeof parsed.msg === 'string' ? parsed.msg : '';
    messages.set(msg, (messages.get(msg) ?? 0) + 1);
    if (msg === READY_MESSAGE[role]) {
      clearTimeout(readyTimer);
      markReady();
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      clearTimeout(readyTimer);
      failReady(new Error(`${role} exited (code ${code}, signal ${signal}) before it was ready:\n${tail()}`));
      resolve(exitInfo);
    });
  });
  function tail(lines = 40): string {
    return recent.slice(-lines).join('\n');
  }
  return {
    role,
    pid: child.pid!,
    ready,
    exited,
    get running() {
      return exitInfo === null;
    },
    messages,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 35_000) {
      if (exitInfo) return exitInfo;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    tail,
  };
}

/**
 * A TCP proxy on 127.0.0.1 in front of `target`. `freeze()` stops forwarding in both directions without closing
 * anything — to the process behind it, the peer is simply silent (a hung network, not a refused connection).
 */
export interface TcpProxy {
  readonly port: number;
  freeze(): void;
  thaw(): void;
  /** The peer goes away: open connections are reset and new ones are closed at once (a restarting server). */
  cut(): void;
  /** Connections are forwarded again after `cut()`. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  let cut = false;
  const server = createServer((client) => {
    if (cut) {
      client.on('error', () => undefined);
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr !== 'object') throw new Error('proxy has no port');
  return {
    port: addr.port,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
    },
    cut: () => {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The sources a matter may read; all point at the test's data-source server. */
const SOURCE_IDS = ['market-entity', 'population', 'credit', 'real-estate', 'e-license', 'special-equipment'];

/**
 * A whole deployment made of real processes around one database, one Redis and one data-source server:
 * start API and worker processes on it, kill them, kill and restart Redis, and observe the database and queue
 * from the test process.
 */
export interface FaultBed {
  readonly backend: 'sqlite' | 'postgres';
  readonly db: TestDatabase;
  /** A store of the test process on the same database (to read what the processes did, or write as the API would). */
  readonly store: Store;
  readonly sources: DataSourceServer;
  readonly queueName: string;
  /** The queue as the test sees it (job counts, getJob). Connected through `redisPort`. */
  readonly queue: Queue;
  readonly redisPort: number;
  /** Redis's current process. */
  redisProcess(): LocalRedis;
  /** SIGKILLs redis-server (no shutdown, no final AOF rewrite). */
  killRedis(): Promise<void>;
  /** Starts redis-server again on the same port and folder: it reloads its AOF. */
  restartRedis(): Promise<void>;
  /** Environment for a child process; `redisUrl` overrides where it finds Redis (e.g. through a proxy). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** A worker process (WORKER_CONCURRENCY `concurrency`). */
  worker(concurrency?: number, extra?: Record<string, string>): ServiceProcess;
  /** An API process on a free port; resolves once it listens. */
  api(extra?: Record<string, string>): Promise<{ proc: ServiceProcess; url: string }>;
  token(sub: string, role?: string, extra?: Record<string, string>): Promise<string>;
  /** Statuses of the given applications, from the database. */
  statuses(ids: readonly string[]): Promise<Map<string, ApplicationStatus | 'missing'>>;
  /** The rows of the given applications (null when missing). */
  rows(ids: readonly string[]): Promise<Map<string, ApplicationRow | null>>;
  /** Every application id in the database. */
  allApplicationIds(): Promise<string[]>;
  /** certificates grouped by application id and by number (duplicates show as arrays longer than 1). */
  certificateCounts(): Promise<{ total: number; perApplication: Map<string, number>; perNumber: Map<string, number> }>;
  /** Subscribes to the queue's global events (stalled, failed…). */
  queueEvents(): Promise<QueueEvents>;
  close(): Promise<void>;
}

export interface FaultBedOptions {
  backend: 'sqlite' | 'postgres';
  /** redis-server's appendfsync (default `always`: an acknowledged write survives SIGKILL). */
  appendfsync?: 'always' | 'everysec';
}

/** Starts Redis, the database and the data-source server; processes are started by the test. */
export async function startFaultBed(opts: FaultBedOptions): Promise<FaultBed> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'miaopi-faults-'));
  const appendfsync = opts.appendfsync ?? 'always';
  // SQLite: the processes derive the file from DATA_DIR (DATA_DIR/miaopi.sqlite), so the bed owns that file.
  const db: TestDatabase =
    opts.backend === 'postgres'
      ? testBackends().find((b) => b.name === 'postgres')!.database()
      : sqliteInDataDir(path.join(dataDir, 'miaopi.sqlite'));
  const store = await db.open();
  const redisPort = await freePort();
  let redis = await startLocalRedis(dataDir, { port: redisPort, appendfsync });
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const sources = await startDataSourceServer({ records: loadDemoDataRecords() });
  const queueName = `faults-${path.basename(dataDir)}`;
  // The bed's own copy of the test PKI: ensureDevPki takes a lock folder in CERTS_DIR, and a process SIGKILLed while
  // holding it (a worker killed during start-up) blocks every process of that folder for up to 60 s. Kills in
  // one bed must not stall the processes of another bed running beside it.
  const certsDir = privateCertsDir(path.join(dataDir, 'certs'));
  const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  queueConnection.on('error', () => undefined);
  const queue = new Queue(queueName, { connection: queueConnection, prefix: QUEUE_PREFIX });
  queue.on('error', () => undefined);
  const children = new Set<ServiceProcess>();
  const eventSubscribers: QueueEvents[] = [];

  const env = (extra: Record<string, string> = {}): Record<string, string> => {
    const e: Record<string, string> = {
      DATA_DIR: dataDir,
      RULES_DIR: path.join(REPO_ROOT, 'rules'),
      CERTS_DIR: certsDir,
      REDIS_URL: redisUrl,
      AUTH_JWT_SECRET: SECRET,
      PUBLIC_URL: 'http://localhost:3000',
      QUEUE_NAME: queueName,
      VERIFY_RATE_LIMIT: '0',
      ...(db.options.databaseUrl ? { DATABASE_URL: db.options.databaseUrl } : {}),
    };
    for (const id of SOURCE_IDS) e[envNameFor(id)] = sources.url(id);
    return { ...e, ...extra };
  };
  const rows = async (ids: readonly string[]) => {
    const out = new Map<string, ApplicationRow | null>();
    // Bounded parallelism: a few hundred point reads.
    for (let i = 0; i < ids.length; i += 50) {
      const found = await Promise.all(ids.slice(i, i + 50).map((id) => store.applications.get(id)));
      found.forEach((row, j) => out.set(ids[i + j]!, row));
    }
    return out;
  };
  const track = (p: ServiceProcess) => {
    children.add(p);
    void p.exited.then(() => children.delete(p));
    return p;
  };

  return {
    backend: opts.backend,
    db,
    store,
    sources,
    queueName,
    queue,
    redisPort,
    redisProcess: () => redis,
    async killRedis() {
      if (redis.process.exitCode !== null || redis.process.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => redis.process.once('exit', () => resolve()));
      redis.process.kill('SIGKILL');
      await gone;
    },
    async restartRedis() {
      redis = await startLocalRedis(dataDir, { port: redisPort, appendfsync });
    },
    env,
    worker: (concurrency = 4, extra = {}) => track(spawnService('worker', env({ WORKER_CONCURRENCY: String(concurrency), ...extra }))),
    async api(extra = {}) {
      const port = await freePort();
      const proc = track(spawnService('api', env({ PORT: String(port), HOST: '127.0.0.1', ...extra })));
      await proc.ready;
      return { proc, url: `http://127.0.0.1:${port}` };
    },
    token: (sub, role = 'applicant', extra = {}) =>
      signDevToken(SECRET, sub, { role, ...extra }),
    rows,
    async statuses(ids) {
      return new Map([...(await rows(ids))].map(([id, row]) => [id, row ? row.status : 'missing'] as const));
    },
    allApplicationIds: () => selectColumn(db, 'select id as v from applications'),
    async certificateCounts() {
      const appIds = await selectColumn(db, 'select application_id as v from certificates');
      const numbers = await selectColumn(db, 'select number as v from certificates');
      const group = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
      return { total: appIds.length, perApplication: group(appIds), perNumber: group(numbers) };
    },
    async queueEvents() {
      const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      connection.on('error', () => undefined);
      const events = new QueueEvents(queueName, { connection, prefix: QUEUE_PREFIX });
      events.on('error', () => undefined);
      await events.waitUntilReady();
      eventSubscribers.push(events);
      return events;
    },
    async close() {
      await Promise.all([...children].map((c) => c.stop('SIGKILL', 5_000)));
      await Promise.all(eventSubscribers.map((e) => e.close().catch(() => undefined)));
      await queue.close().catch(() => undefined);
      queueConnection.disconnect();
      await redis.stop();
      await sources.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function sqliteInDataDir(sqlitePath: string): TestDatabase {
  const opened: Store[] = [];
  return {
    options: { databaseUrl: null, sqlitePath },
    async open() {
      const s = await createStore({ databaseUrl: null, sqlitePath });
      opened.push(s);
      return s;
    },
    async drop() {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
    },
  };
}

/** One text column of a query, straight from the database (independent of the store under test). */
async function selectColumn(db: TestDatabase, sql: string): Promise<string[]> {
  const { databaseUrl, sqlitePath } = db.options;
  if (databaseUrl === null) {
    const { default: BetterSqlite3 } = await import('better-sqlite3');
    const conn = new BetterSqlite3(sqlitePath, { readonly: true, fileMustExist: true });
    try {
      conn.pragma('busy_timeout = 5000');
      return (conn.prepare(sql).all() as Array<{ v: string }>).map((r) => r.v);
    } finally {
      conn.close();
    }
  }
  const { default: pg } = await import('pg');
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`set search_path to "${schema}"`);
    return (await client.query<{ v: string }>(sql)).rows.map((r) => r.v);
  } finally {
    await client.end();
  }
}

/** Demo enterprises that the grain matter approves with a current lease (rules/demo-data). */
export const APPROVABLE_USCCS = ['91210100MA0Q1A2B6L', '91210102123456788E', '91210103MA0W9J1K7P', '91210102MA0X2L3M48', '91210104MA0Y1B2C40'];

/**
 * `n` grain filings that are each approvable on a fresh database: one active filing is allowed per
 * (enterprise, purchase region), so every filing gets its own pair (5 enterprises × 100 Shenyang regions).
 */
export function approvableFilings(n: number, offset = 0): Array<{ uscc: string; body: Record<string, unknown> }> {
  if (offset + n > APPROVABLE_USCCS.length * 100) throw new Error('not enough distinct (enterprise, region) pairs');
  return Array.from({ length: n }, (_, k) => {
    const i = offset + k;
    const uscc = APPROVABLE_USCCS[i % APPROVABLE_USCCS.length]!;
    const region = `2101${String(Math.floor(i / APPROVABLE_USCCS.length)).padStart(2, '0')}`;
    return {
      uscc,
      body: {
        matter: 'grain-purchase-filing',
        answers: { filingType: '首次', storageSource: '租赁' },
        form: {
          responsiblePerson: { name: '张伟', idNumber: '210102199001011237' },
          contactPhone: '13800000000',
          purchaseRegionCode: region,
          grainTypes: ['玉米'],
          storageFacilities: [{ address: '沈阳市于洪区租赁仓库', capacityTonnes: 2000, ownership: '租赁', leaseEndsOn: '2099-12-31' }],
        },
        consent: { dataSharing: true, sealAuthorization: true },
      },
    };
  });
}

/** POSTs a filing to a real API over HTTP; bounded by `timeoutMs`. */
export async function postFiling(
  apiUrl: string,
  token: string,
  body: unknown,
  opts: { idempotencyKey?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${apiUrl}/v1/applications`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}

/** Runs `tasks` with at most `limit` in flight. */
export async function inBatches<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<Array<PromiseSettledResult<T>>> {
  const results: Array<PromiseSettledResult<T>> = new Array<PromiseSettledResult<T>>(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await tasks[i]!() };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

export const DECIDED: ReadonlySet<string> = new Set(['approved', 'rejected', 'manual_review']);

/** Waits until every id has a decision (approved/rejected/manual_review); returns the statuses. */
export async function waitAllDecided(bed: FaultBed, ids: readonly string[], timeoutMs: number): Promise<Map<string, string>> {
  let last = new Map<string, string>();
  try {
    await eventually(
      `${ids.length} filings to be decided`,
      async () => {
        last = await bed.statuses(ids);
        return [...last.values()].every((s) => DECIDED.has(s)) ? true : undefined;
      },
      timeoutMs,
      500,
    );
  } catch (err) {
    const pending = [...last.entries()].filter(([, s]) => !DECIDED.has(s));
    throw new Error(`${(err as Error).message}; undecided: ${JSON.stringify(pending.slice(0, 10))} (${pending.length} in all)`);
  }
  return last;
}

/** Counts of a status map, e.g. {approved: 198, manual_review: 2}. */
export function tally(statuses: Map<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of statuses.values()) out[s] = (out[s] ?? 0) + 1;
  return out;
}

/** Applicant tokens for the enterprises of `filings`. */
export async function tokensFor(bed: FaultBed, filings: ReadonlyArray<{ uscc: string }>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of filings) if (!out.has(f.uscc)) out.set(f.uscc, await bed.token(f.uscc));
  return out;
}

export interface LoadResult {
  /** Ids of filings answered 202. */
  accepted: string[];
  /** Answers other than 202. */
  refused: Array<{ status: number; body: Record<string, unknown> }>;
  /** Requests that got no answer (connection refused/reset, timeout). */
  unanswered: string[];
  /** Milliseconds from send to 202, in completion order. */
  latenciesMs: number[];
}

/**
 * Offers `filings` open-loop at `perSecond` (request i starts at i/perSecond s whatever the earlier answers),
 * each bounded by `timeoutMs`.
 */
export async function offerLoad(
  apiUrl: string | (() => string),
  tokens: ReadonlyMap<string, string>,
  filings: ReadonlyArray<{ uscc: string; body: unknown }>,
  perSecond: number,
  timeoutMs = 20_000,
): Promise<LoadResult> {
  const result: LoadResult = { accepted: [], refused: [], unanswered: [], latenciesMs: [] };
  const started = Date.now();
  await Promise.all(
    filings.map(async (f, i) => {
      const due = started + (i * 1000) / perSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      const sent = Date.now();
      try {
        const res = await postFiling(typeof apiUrl === 'string' ? apiUrl : apiUrl(), tokens.get(f.uscc)!, f.body, { timeoutMs });
        if (res.status === 202 && typeof res.body['id'] === 'string') {
          result.accepted.push(res.body['id']);
          result.latenciesMs.push(Date.now() - sent);
        } else {
          result.refused.push(res);
        }
      } catch (err) {
        result.unanswered.push(String((err as Error).message));
      }
    }),
  );
  return result;
}

/** Asserts-free summary of the certificate register: duplicates per application and per number. */
export async function certificateDuplicates(bed: FaultBed): Promise<{ total: number; duplicateApplications: number; duplicateNumbers: number }> {
  const c = await bed.certificateCounts();
  return {
    total: c.total,
    duplicateApplications: [...c.perApplication.values()].filter((n) => n > 1).length,
    duplicateNumbers: [...c.perNumber.values()].filter((n) => n > 1).length,
  };
}
