/**
 * Composition root: builds the stores, queue, data sources, catalog and signers once; the API and the worker
 * share it and each step asks only for what it needs.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { loadCatalog, type Catalog } from './catalog/load-catalog.js';
import type { Config } from './config.js';
import { createDataSources, loadSourceRegistry, type SourceDefinition } from './data-sources/registry.js';
import type { DataSource } from './data-sources/types.js';
import { ensureDevPki, type DevPki } from './documents/pki.js';
import { httpTimestamper } from './documents/timestamp.js';
import type { Party, Timestamper } from './documents/types.js';
import type { PipelineDeps } from './pipeline/process-application.js';
import { createApplicationQueue, type ApplicationQueue } from './queue/application-queue.js';
import { createStore } from './store/index.js';
import type { Store } from './store/types.js';

export interface Deps extends PipelineDeps {
  config: Readonly<Config>;
  logger: Logger;
  store: Store;
  catalog: Catalog;
  registry: SourceDefinition[];
  sources: ReadonlyMap<string, DataSource>;
  pki: DevPki;
  /** Issuing departments of the catalog (their seal keys sign certificates and revocation lists). */
  departments: Party[];
  /** RFC 3161 client when TSA_URL is set (PAdES B-T), else null (B-B). */
  timestamper: Timestamper | null;
  redis: Redis;
  queue: ApplicationQueue;
  close(): Promise<void>;
}

export function redisConnection(url: string): Redis {
  // BullMQ workers need maxRetriesPerRequest: null so blocking commands survive reconnects.
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

export async function createDeps(config: Readonly<Config>, logger: Logger): Promise<Deps> {
  if (!config.redisUrl) throw new Error('REDIS_URL is not set: start the service with `npm start`, which starts a local redis-server');
  const registry = loadSourceRegistry(config.rulesDir);
  const catalog = loadCatalog(config.rulesDir, new Set(registry.map((s) => s.id)));
  const sources = createDataSources({ registry, urls: config.dataSourceUrls, rulesDir: config.rulesDir });
  const departments = [...new Map([...catalog.matters.values()].map((m) => [m.def.department.code, m.def.department])).values()];
  const pki = await ensureDevPki(config.certsDir, departments);
  const store = await createStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, logger });
  const redis = redisConnection(config.redisUrl);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const queue = createApplicationQueue(redis, config.queueName);
  return {
    config,
    logger,
    store,
    catalog,
    registry,
    sources,
    sourceNames: new Map(registry.map((s) => [s.id, s.name])),
    pki,
    departments: departments.map((d) => ({ name: d.name, code: d.code })),
    timestamper: config.tsaUrl ? httpTimestamper(config.tsaUrl, { timeoutMs: config.tsaTimeoutMs }) : null,
    enterpriseSigner: (party) => pki.enterpriseSigner(party),
    departmentSigner: (code) => pki.departmentSigner(code),
    publicUrl: config.publicUrl,
    clock: () => new Date(),
    newId: () => randomUUID(),
    redis,
    queue,
    async close() {
      await queue.close();
      await store.close();
      redis.disconnect();
    },
  };
}
