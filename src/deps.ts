/**
 * Composition root: builds the stores, queue, data sources, catalog and signers once; the API and the worker
 * share it and each step asks only for what it needs.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createAuthoring, type Authoring } from './authoring/authoring.js';
import { seedCatalog } from './authoring/seed.js';
import { loadCatalog } from './catalog/load-catalog.js';
import { createMatterChecker, openVersionedCatalog, type VersionedCatalog } from './catalog/versioned-catalog.js';
import type { Config } from './config.js';
import { createDataSources, loadSourceRegistry, type SourceDefinition } from './data-sources/registry.js';
import type { DataSource } from './data-sources/types.js';
import { createFederation, type Federation } from './federation/federation.js';
import { ensureDevPki, type DevPki } from './signing/pki.js';
import { httpTimestamper } from './signing/timestamp.js';
import type { Party } from './documents/types.js';
import type { Timestamper } from './signing/types.js';
import type { PipelineDeps } from './pipeline/process-application.js';
import { createApplicationQueue, type ApplicationQueue } from './queue/application-queue.js';
import { createStore } from './store/index.js';
import type { Store } from './store/types.js';
import { createWebhookQueue, webhookQueueName, type WebhookQueue } from './webhooks/webhook-queue.js';

export interface Deps extends PipelineDeps {
  config: Readonly<Config>;
  logger: Logger;
  store: Store;
  /** Current version per matter from the database (seeded from rules/), picked up live when one is published. */
  catalog: VersionedCatalog;
  /** Rule authoring and manual review (issue 6). */
  authoring: Authoring;
  registry: SourceDefinition[];
  sources: ReadonlyMap<string, DataSource>;
  pki: DevPki;
  /** Issuing departments of the catalog (their seal keys sign certificates and revocation lists). */
  departments: Party[];
  /** RFC 3161 client when TSA_URL is set (PAdES B-T), else null (B-B). */
  timestamper: Timestamper | null;
  redis: Redis;
  queue: ApplicationQueue;
  /** Webhook deliveries (issue 8): filled by the worker after issuing, drained by the delivery worker. */
  webhookQueue: WebhookQueue;
  /** 都市圈通办 (issue 16): this node's key, its peers, their catalogs and the signed client. */
  federation: Federation;
  close(): Promise<void>;
}

/** How often each process checks the database for a newly published or rolled-back version. */
const CATALOG_POLL_MS = 1000;

export function redisConnection(url: string): Redis {
  // BullMQ workers need maxRetriesPerRequest: null so blocking commands survive reconnects.
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

export async function createDeps(config: Readonly<Config>, logger: Logger): Promise<Deps> {
  if (!config.redisUrl) throw new Error('REDIS_URL is not set: start the service with `npm start`, which starts a local redis-server');
  const registry = loadSourceRegistry(config.rulesDir);
  const catalog = loadCatalog(config.rulesDir, new Set(registry.map((s) => s.id)), {
    snapshotFile: path.join(config.dataDir, 'catalog-snapshot.json'),
  });
  const { retries, breakerFailures, breakerOpenMs, cacheMaxTtlSeconds } = config.dataSources;
  const sources = createDataSources({
    registry,
    urls: config.dataSourceUrls,
    rulesDir: config.rulesDir,
    resilience: { retries, failureThreshold: breakerFailures, openMs: breakerOpenMs, cacheMaxTtlSeconds },
  });
  const departments = [...new Map([...catalog.matters.values()].map((m) => [m.def.department.code, m.def.department])).values()];
  const pki = await ensureDevPki(config.certsDir, departments);
  const store = await createStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, logger });
  // rules/ seeds the versions table; from then on the database says which version of a matter is current.
  await seedCatalog(store.authoring, catalog, config.rulesDir, new Date().toISOString());
  const versioned = await openVersionedCatalog({
    files: catalog,
    store: store.authoring,
    check: createMatterChecker(config.rulesDir, new Set(registry.map((s) => s.id))),
    pollMs: CATALOG_POLL_MS,
    onError: (err) => logger.warn({ err: err.message }, 'catalog refresh failed; keeping the versions loaded'),
  });
  const authoring = createAuthoring({
    store,
    catalog: versioned,
    // Draft tests run on the demo data, never on production registries (no reads about test subjects).
    testSources: createDataSources({ registry, urls: {}, rulesDir: config.rulesDir }),
    departments,
    issue: {
      store,
      departmentSigner: (code) => pki.departmentSigner(code),
      publicUrl: config.publicUrl,
      newId: () => randomUUID(),
      timestamper: config.tsaUrl ? httpTimestamper(config.tsaUrl, { timeoutMs: config.tsaTimeoutMs }) : null,
    },
    clock: () => new Date(),
    newId: () => randomUUID(),
  });
  const federation = await createFederation({ config, store, clock: () => new Date(), logger });
  const redis = redisConnection(config.redisUrl);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const queue = createApplicationQueue(redis, config.queueName);
  const webhookQueue = createWebhookQueue(redis, webhookQueueName(config.queueName), config.webhooks.attempts);
  return {
    config,
    logger,
    store,
    catalog: versioned,
    authoring,
    registry,
    sources,
    sourceNames: new Map(registry.map((s) => [s.id, s.name])),
    sourceTtls: new Map(registry.map((s) => [s.id, s.cacheTtlSeconds])),
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
    webhookQueue,
    federation,
    async close() {
      versioned.close();
      await queue.close();
      await webhookQueue.close();
      await store.close();
      redis.disconnect();
    },
  };
}
