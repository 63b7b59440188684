/**
 * The real stack for integration tests: its own redis-server (AOF, free port), a fresh SQLite file or
 * PostgreSQL schema, data sources over real HTTP (or the fixture backend), the Fastify app (inject) and a
 * BullMQ worker — wired exactly as in production through loadConfig/createDeps.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { signDevToken } from '../../src/http/dev-token.js';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { envNameFor, loadSourceRegistry } from '../../src/data-sources/registry.js';
import { httpDepsFrom } from '../../src/http/http-deps.js';
import { startLocalRedis, type LocalRedis } from '../../src/local-redis.js';
import { startWorkerRuntime, type WorkerRuntime } from '../../src/worker-runtime.js';
import { testBackends, type TestDatabase } from './databases.js';
import { RULES_DIR, loadDemoDataRecords, startDataSourceServer, type DataSourceServer } from './datasource-server.js';

export const SECRET = 'test-secret-test-secret-test-secret-0123456789';
export const REPO_ROOT = path.resolve(RULES_DIR, '..');
/** One dev PKI for the whole run: key generation is not what these tests are about. */
export const SHARED_CERTS_DIR = path.join(tmpdir(), 'miaopi-test-certs');

/**
 * A CERTS_DIR of one's own at `dir`: a copy of the shared test PKI (when made already) without its lock folder. Every
 * start takes that lock (`.lock/`) in the folder it uses: a process SIGKILLed while holding it stalls the others of
 * the folder, and a test counting the folder's files would count another file's start.
 */
export function privateCertsDir(dir: string): string {
  if (existsSync(SHARED_CERTS_DIR)) cpSync(SHARED_CERTS_DIR, dir, { recursive: true, filter: (src) => path.basename(src) !== '.lock' });
  return dir;
}

export interface Stack {
  deps: Deps;
  app: FastifyInstance;
  worker: WorkerRuntime | null;
  redis: LocalRedis;
  sources: DataSourceServer | null;
  db: TestDatabase;
  dataDir: string;
  token(sub: string, role?: string, extra?: Record<string, string>): Promise<string>;
  /** Starts (or restarts) the worker runtime. */
  startWorker(): void;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  backend: 'sqlite' | 'postgres';
  /** Serve the demo data over real HTTP and point every DATASOURCE_*_URL at it (default true). */
  httpSources?: boolean;
  worker?: boolean;
  env?: Record<string, string>;
  /** Records served besides the demo data (e.g. synthetic enterprises), merged per source. */
  extraRecords?: Record<string, Record<string, object>>;
  relay?: { relayIntervalMs?: number; reconcileIntervalMs?: number; staleAfterMs?: number; relayGraceMs?: number };
}

const silent = pino({ level: 'silent' });

export async function startStack(opts: StackOptions): Promise<Stack> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'miaopi-stack-'));
  const backend = testBackends().find((b) => b.name === opts.backend)!;
  const db = backend.database();
  const redis = await startLocalRedis(dataDir);
  let sources: DataSourceServer | null = null;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    RULES_DIR,
    CERTS_DIR: SHARED_CERTS_DIR,
    REDIS_URL: redis.url,
    AUTH_JWT_SECRET: SECRET,
    PUBLIC_URL: 'http://localhost:3000',
    LOG_LEVEL: 'silent',
    QUEUE_NAME: `applications-${path.basename(dataDir)}`,
    // Suites flip data sources between modes per filing: a cached answer would hide the change. Tests of the cache set their own cap.
    DATASOURCE_CACHE_MAX_TTL_SECONDS: '0',
    // PDFs laid out on the test's own thread; render threads have their own test (render-threads.test.ts) and run in
    // every test that starts dist/worker.js.
    RENDER_THREADS: '0',
    ...(db.options.databaseUrl ? { DATABASE_URL: db.options.databaseUrl } : {}),
  };
  if (opts.httpSources !== false) {
    const records = loadDemoDataRecords();
    for (const [id, recs] of Object.entries(opts.extraRecords ?? {})) records[id] = { ...(records[id] ?? {}), ...recs };
    sources = await startDataSourceServer({ records });
    for (const { id } of loadSourceRegistry(RULES_DIR)) {
      env[envNameFor(id)] = sources.url(id);
    }
  }
  Object.assign(env, opts.env ?? {});
  const config = loadConfig(env, REPO_ROOT);
  // SQLite: the stack's own file inside the test database's folder.
  const deps = await createDeps(db.options.databaseUrl ? config : { ...config, sqlitePath: db.options.sqlitePath }, silent);
  const app = await buildApp(httpDepsFrom(deps));
  let worker: WorkerRuntime | null = null;
  const stack: Stack = {
    deps,
    app,
    get worker() {
      return worker;
    },
    redis,
    sources,
    db,
    dataDir,
    token: (sub, role = 'applicant', extra = {}) =>
      signDevToken(SECRET, sub, { role, ...extra }),
    startWorker() {
      worker = startWorkerRuntime(deps, { concurrency: 2, relay: opts.relay ?? { relayIntervalMs: 100, reconcileIntervalMs: 500, staleAfterMs: 5_000 } });
    },
    async stopWorker() {
      if (worker) await worker.close();
      worker = null;
    },
    async close() {
      await stack.stopWorker();
      await app.close();
      await deps.close();
      await redis.stop();
      await sources?.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (opts.worker !== false) stack.startWorker();
  return stack;
}

/** A grain filing that the demo data approves; override parts per test. */
export function grainFiling(over: { answers?: Record<string, unknown>; form?: Record<string, unknown>; consent?: Record<string, unknown> } = {}) {
  return {
    matter: 'grain-purchase-filing',
    answers: { filingType: '首次', storageSource: '自有', ...(over.answers ?? {}) },
    form: {
      responsiblePerson: { name: '张伟', idNumber: '210102199001011237' },
      contactPhone: '13800000000',
      purchaseRegionCode: '210102',
      grainTypes: ['玉米', '稻谷'],
      storageFacilities: [
        { address: '沈阳市和平区南京南街1号粮库', capacityTonnes: 5000, ownership: '自有', realEstateCertNo: '辽(2024)沈阳市不动产权第0012345号' },
      ],
      ...(over.form ?? {}),
    },
    consent: { dataSharing: true, sealAuthorization: true, ...(over.consent ?? {}) },
  };
}

export const HAPPY_USCC = '91210100MA0Q1A2B6L';

/** Polls GET /v1/applications/{id} until it leaves queued/processing (bounded). */
export async function waitForDecision(stack: Stack, id: string, token: string, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}`, headers: { authorization: `Bearer ${token}` } });
    const body = res.json<{ status: string; decision: { outcome: string; reasons: Array<{ rule: string; result: string }> } | null; certificate?: { id: string; number: string } }>();
    if (body.status !== 'queued' && body.status !== 'processing') return body;
    if (Date.now() > until) throw new Error(`application ${id} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function submit(stack: Stack, token: string, body: unknown, headers: Record<string, string> = {}) {
  return stack.app.inject({
    method: 'POST',
    url: '/v1/applications',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
