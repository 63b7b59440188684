/**
 * 都市圈通办 test bed: city nodes as real processes on loopback. Each node is its own API process and worker process
 * (`src/server.ts`, `src/worker.ts`), with its own redis-server, database (SQLite file or PostgreSQL schema), catalog
 * folder and development keys (its own root CA and node key, generated on first start). Nodes know each other only
 * by FEDERATION_PEERS; applicants' tokens are accepted by every node (one identity platform, one HS256 secret here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signDevToken } from '../../src/http/dev-token.js';
import { envNameFor, loadSourceRegistry } from '../../src/data-sources/registry.js';
import { startLocalRedis, type LocalRedis } from '../../src/local-redis.js';
import { testBackends, type TestDatabase } from './databases.js';
import { RULES_DIR, type DataSourceServer } from './datasource-server.js';
import { spawnService, type ServiceProcess } from './processes.js';
import { SECRET } from './stack.js';

export interface CityNode {
  readonly city: string;
  readonly url: string;
  readonly db: TestDatabase;
  readonly dataDir: string;
  readonly processes: { api: ServiceProcess; worker: ServiceProcess };
  /** Starts (or restarts, after kill) the API and worker processes with the same environment; resolves when both are up. */
  start(): Promise<void>;
  /** SIGKILLs the API and the worker: no shutdown, whatever they were doing. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

export interface CityNodeOptions {
  city: string;
  port: number;
  backend: 'sqlite' | 'postgres';
  rulesDir?: string;
  peers: Record<string, string>;
  sources: DataSourceServer;
  env?: Record<string, string>;
}

export const applicantToken = (sub: string, role = 'applicant', extra: Record<string, string> = {}) =>
  signDevToken(SECRET, sub, { role, ...extra });

export async function createCityNode(o: CityNodeOptions): Promise<CityNode> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `miaopi-city-${o.city}-`));
  const db: TestDatabase =
    o.backend === 'postgres'
      ? testBackends().find((b) => b.name === 'postgres')!.database()
      : { options: { databaseUrl: null, sqlitePath: path.join(dataDir, 'miaopi.sqlite') }, open: () => Promise.reject(new Error('not used')), drop: () => Promise.resolve() };
  const redis: LocalRedis = await startLocalRedis(dataDir);
  const rulesDir = o.rulesDir ?? RULES_DIR;
  const env: Record<string, string> = {
    CITY_CODE: o.city,
    PORT: String(o.port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${o.port}`,
    DATA_DIR: dataDir,
    RULES_DIR: rulesDir,
    CERTS_DIR: path.join(dataDir, 'certs'),
    REDIS_URL: redis.url,
    AUTH_JWT_SECRET: SECRET,
    QUEUE_NAME: `city-${o.city}`,
    VERIFY_RATE_LIMIT: '0',
    DATASOURCE_CACHE_MAX_TTL_SECONDS: '0',
    FEDERATION_PEERS: Object.entries(o.peers).map(([c, u]) => `${c}=${u}`).join(','),
    FEDERATION_POLL_MS: '200',
    FEDERATION_RETRY_BASE_MS: '200',
    FEDERATION_TIMEOUT_MS: '3000',
    ...(db.options.databaseUrl ? { DATABASE_URL: db.options.databaseUrl } : {}),
    ...(o.env ?? {}),
  };
  for (const { id } of loadSourceRegistry(rulesDir)) env[envNameFor(id)] = o.sources.url(id);

  let processes: CityNode['processes'] | null = null;
  const node: CityNode = {
    city: o.city,
    url: `http://127.0.0.1:${o.port}`,
    db,
    dataDir,
    get processes() {
      if (!processes) throw new Error(`node ${o.city} was not started`);
      return processes;
    },
    async start() {
      const api = spawnService('api', env, 60_000);
      const worker = spawnService('worker', env, 60_000);
      processes = { api, worker };
      try {
        await Promise.all([api.ready, worker.ready]);
      } catch (err) {
        throw new Error(`node ${o.city} did not start: ${(err as Error).message}\n--- api ---\n${api.tail()}\n--- worker ---\n${worker.tail()}`);
      }
    },
    async kill() {
      if (!processes) return;
      await Promise.all([processes.api.stop('SIGKILL'), processes.worker.stop('SIGKILL')]);
    },
    async close() {
      if (processes) await Promise.all([processes.api.stop('SIGTERM', 15_000), processes.worker.stop('SIGTERM', 15_000)]);
      await redis.stop();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return node;
}

/** JSON over HTTP with a bounded wait; the body is parsed when it is JSON. */
export async function http(url: string, init: { method?: string; token?: string; json?: unknown; headers?: Record<string, string>; body?: Uint8Array; contentType?: string } = {}) {
  const res = await fetch(url, {
    method: init.method ?? (init.json !== undefined || init.body !== undefined ? 'POST' : 'GET'),
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.contentType ? { 'content-type': init.contentType } : {}),
      ...(init.headers ?? {}),
    },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : init.body !== undefined ? { body: init.body } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let body: any = null;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, bytes, body };
}
