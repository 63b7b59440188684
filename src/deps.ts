/**
 * Composition root: builds the stores, queue, data sources, catalog and signers once; the API and the worker
 * share it and each step asks only for what it needs.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { createAuthoring, type Authoring } from './authoring/authoring.js';
import { seedCatalog } from './authoring/seed.js';
import { CatalogError, loadCatalog } from './catalog/load-catalog.js';
import { checkFormTemplates, createFormTemplates } from './catalog/form-templates.js';
import { createMatterChecker, openVersionedCatalog, type VersionedCatalog } from './catalog/versioned-catalog.js';
import { ConfigError, type Config } from './config.js';
import { createDataSources, loadSourceRegistry, type SourceDefinition } from './data-sources/registry.js';
import type { DataSource } from './data-sources/types.js';
import { ProductionRefusal, productionConfigProblems, productionKeyProblems } from './production-check.js';
import { openDepartmentSigners, type DepartmentSigners } from './signing/department-signers.js';
import type { ESealPlatform } from './signing/eseal/contract.js';
import { createDevelopmentAuthority, databaseSealStore, type DevelopmentAuthority } from './signing/eseal/development-authority.js';
import { createESealClient } from './signing/eseal/http-client.js';
import { createFederation, type Federation } from './federation/federation.js';
import { ensureDevPki, type DevPki } from './signing/pki.js';
import { ensureGmPki, type GmPki } from './signing/gm/gm-pki.js';
import { sealPicture } from './documents/seal-picture.js';
import { createOfdCertificates, type OfdCertificates } from './pipeline/certificate-ofd.js';
import { httpTimestamper } from './signing/timestamp.js';
import type { Party } from './documents/types.js';
import type { Timestamper } from './signing/types.js';
import type { PipelineDeps } from './pipeline/process-application.js';
import { loadBundles, type BundleCatalog } from './bundles/load-bundles.js';
import { createBundleQueue, bundleQueueName, type BundleQueue } from './bundles/bundle-queue.js';
import { cardRecord, withIssuedRecords } from './data-sources/issued-records.js';
import { createApplicationQueue, type ApplicationQueue } from './queue/application-queue.js';
import { connectRedis, type ConnectOptions, type RedisClient } from './redis.js';
import { parseSecretKey } from './store/secret-box.js';
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
  /** The development PKI, only when something uses it (dev seal keys or the dev e-seal authority); never in production. */
  pki: DevPki | null;
  /** Department seal keys (dev PKI, mounted files or PKCS#11) and the anchors they chain to. */
  departmentSeals: DepartmentSigners;
  /** PEM of every anchor a document we issue or seal chains to: departments' and the e-seal platform's. */
  trustAnchorsPem: string;
  /**
   * 国密 PKI (issue 15): SM2 root, seal maker, departments' SM2 seals — generated into CERTS_DIR/gm, development only
   * (null in production until SM2 keys can be mounted; OFD certificates then answer OFD_UNAVAILABLE).
   */
  gm: GmPki | null;
  /** OFD certificates: made at issuance for `gm` departments, on first request for the others (null without gm). */
  ofd: OfdCertificates | null;
  /** Issuing departments of the catalog (their seal keys sign certificates and revocation lists). */
  departments: Party[];
  /** RFC 3161 client when TSA_URL is set (PAdES B-T), else null (B-B). */
  timestamper: Timestamper | null;
  redis: RedisClient;
  queue: ApplicationQueue;
  /** Webhook deliveries (issue 8): filled by the worker after issuing, drained by the delivery worker. */
  webhookQueue: WebhookQueue;
  /** 一件事 bundles (rules/bundles/) and the queue of their steps (issue 14). */
  bundles: BundleCatalog;
  bundleQueue: BundleQueue;
  /** 都市圈通办 (issue 16): this node's key, its peers, their catalogs and the signed client. */
  federation: Federation | null;
  close(): Promise<void>;
}

/** How often each process checks the database for a newly published or rolled-back version. */
const CATALOG_POLL_MS = 1000;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----\n?/g;
function splitPem(pem: string): string[] {
  return (pem.match(PEM_CERT) ?? []).map((b) => (b.endsWith('\n') ? b : `${b}\n`));
}

/** A new connection to the configured Redis (single server, Sentinel or Cluster: src/redis.ts). */
export function redisConnection(config: Pick<Config, 'redis'>, opts: ConnectOptions = {}): RedisClient {
  if (!config.redis) throw new ConfigError('REDIS_URL', 'is not set: start the service with `npm start` (which starts a local redis-server) or name the Redis to use (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
  return connectRedis(config.redis, opts);
}

export async function createDeps(config: Readonly<Config>, logger: Logger): Promise<Deps> {
  const registry = loadSourceRegistry(config.rulesDir);
  // Production refuses before anything development-only is made or opened (DESIGN.md §9).
  const refused = productionConfigProblems(config, registry);
  if (refused.length > 0) throw new ProductionRefusal(refused);
  if (!config.redis) throw new ConfigError('REDIS_URL', 'is not set: start the service with `npm start` (which starts a local redis-server) or name the Redis to use (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
  const catalog = loadCatalog(config.rulesDir, new Set(registry.map((s) => s.id)), {
    snapshotFile: path.join(config.dataDir, 'catalog-snapshot.json'),
  });
  // Official e-form templates: every mapped field must be a text field of its PDF, or the service does not start.
  const templates = createFormTemplates(config.rulesDir);
  const templateProblems = await checkFormTemplates(catalog.matters.values(), templates);
  if (templateProblems.length > 0) throw new CatalogError(templateProblems);
  const { retries, breakerFailures, breakerOpenMs, cacheMaxTtlSeconds } = config.dataSources;
  const bundles = loadBundles(config.rulesDir, catalog, new Set(registry.map((s) => s.id)));
  const rawSources = createDataSources({
    registry,
    urls: config.dataSourceUrls,
    rulesDir: config.rulesDir,
    resilience: { retries, failureThreshold: breakerFailures, openMs: breakerOpenMs, cacheMaxTtlSeconds },
  });
  const departments = [...new Map([...catalog.matters.values()].map((m) => [m.def.department.code, m.def.department])).values()];
  // The development PKI exists only where it is used: never generated in production (checked before this runs).
  const pki = config.sealKeys.backend === 'dev' || config.eseal.url === null ? await ensureDevPki(config.certsDir, departments) : null;
  const departmentSeals = openDepartmentSigners(
    config.sealKeys,
    departments.map((d) => d.code),
    { devPki: pki, trustRootsPem: config.trustRootsPem, production: config.production },
  );
  const keyProblems = productionKeyProblems(config, departmentSeals.leaves, departmentSeals.anchorsPem);
  if (keyProblems.length > 0) {
    departmentSeals.close();
    throw new ProductionRefusal(keyProblems);
  }
  const gm = config.production ? null : await ensureGmPki(path.join(config.certsDir, 'gm'), departments, { sealPicture: (name) => sealPicture(name) });
  const suiteOf = (code: string) => config.signatureSuite.byDepartment[code] ?? config.signatureSuite.default;
  const store = await createStore({
    databaseUrl: config.databaseUrl,
    sqlitePath: config.sqlitePath,
    logger,
    webhookSecretKey: config.webhooks.secretKey === null ? null : parseSecretKey(config.webhooks.secretKey),
  });
  const eseal: ESealPlatform | DevelopmentAuthority =
    config.eseal.url !== null
      ? createESealClient({ baseUrl: config.eseal.url, timeoutMs: config.eseal.timeoutMs })
      : createDevelopmentAuthority({ store: databaseSealStore(store.eseals), ca: pki!.esealCa, prefill: false });
  const esealAnchors = config.eseal.url !== null ? (config.eseal.trustRootsPem ?? '') : pki!.rootsPem;
  const trustAnchorsPem = [...new Set([...splitPem(departmentSeals.anchorsPem), ...splitPem(esealAnchors)])].join('');
  // A source that lists certificates a member issues (the 残疾人证管理系统) also answers with the ones issued here.
  const sources = new Map(rawSources);
  for (const [sourceId, matter] of bundles.publishedRecords) {
    const s = rawSources.get(sourceId);
    if (s) sources.set(sourceId, withIssuedRecords(s, { matter, certificates: store.certificates, toRecord: cardRecord }));
  }
  // rules/ seeds the versions table; from then on the database says which version of a matter is current.
  await seedCatalog(store.authoring, catalog, config.rulesDir, new Date().toISOString());
  const versioned = await openVersionedCatalog({
    files: catalog,
    store: store.authoring,
    check: createMatterChecker(config.rulesDir, new Set(registry.map((s) => s.id))),
    pollMs: CATALOG_POLL_MS,
    onError: (err) => logger.warn({ err: err.message }, 'catalog refresh failed; keeping the versions loaded'),
  });
  const ofd =
    gm === null
      ? null
      : createOfdCertificates({
          store,
          catalog: versioned,
          departmentSeal: (code) => gm.departmentSeal(code),
          suiteOf,
          publicUrl: config.publicUrl,
          clock: () => new Date(),
        });
  const onIssued = ofd ? ofd.onIssued.bind(ofd) : undefined;
  const authoring = createAuthoring({
    store,
    catalog: versioned,
    // Draft tests run on the demo data, never on production registries (no reads about test subjects).
    testSources: createDataSources({ registry, urls: {}, rulesDir: config.rulesDir }),
    departments,
    issue: {
      store,
      departmentSigner: (code) => departmentSeals.signer(code),
      publicUrl: config.publicUrl,
      newId: () => randomUUID(),
      timestamper: config.tsaUrl ? httpTimestamper(config.tsaUrl, { timeoutMs: config.tsaTimeoutMs }) : null,
      onIssued,
    },
    clock: () => new Date(),
    newId: () => randomUUID(),
  });
  // A node with no peers needs no node key: production then runs without federation rather than make a dev key.
  const federation =
    config.production && config.federation.peers.length === 0 && !(config.federation.nodeKeyPem && config.federation.nodeCertPem)
      ? null
      : await createFederation({ config, store, clock: () => new Date(), logger });
  const redis = redisConnection(config);
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  const queue = createApplicationQueue(redis, config.queueName);
  const webhookQueue = createWebhookQueue(redis, webhookQueueName(config.queueName), config.webhooks.attempts);
  const bundleQueue = createBundleQueue(redis, bundleQueueName(config.queueName));
  return {
    config,
    logger,
    store,
    catalog: versioned,
    authoring,
    registry,
    sources,
    sourceNames: new Map(registry.map((s) => [s.id, s.name])),
    templates,
    sourceTtls: new Map(registry.map((s) => [s.id, s.cacheTtlSeconds])),
    pki,
    departmentSeals,
    trustAnchorsPem,
    eseal,
    gm,
    ofd,
    onIssued,
    departments: departments.map((d) => ({ name: d.name, code: d.code })),
    timestamper: config.tsaUrl ? httpTimestamper(config.tsaUrl, { timeoutMs: config.tsaTimeoutMs }) : null,
    departmentSigner: (code) => departmentSeals.signer(code),
    publicUrl: config.publicUrl,
    clock: () => new Date(),
    newId: () => randomUUID(),
    redis,
    queue,
    webhookQueue,
    bundles,
    bundleQueue,
    federation,
    async close() {
      versioned.close();
      await queue.close();
      await webhookQueue.close();
      await eseal.close();
      await bundleQueue.close();
      await store.close();
      departmentSeals.close();
      redis.disconnect();
    },
  };
}
