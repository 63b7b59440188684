import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Queue } from 'bullmq';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { RedisClient } from '../redis.js';
import type { Authoring } from '../authoring/authoring.js';
import type { Catalog } from '../catalog/load-catalog.js';
import type { Config } from '../config.js';
import type { WebhookQueue } from '../webhooks/webhook-queue.js';
import type { DataSource } from '../data-sources/types.js';
import type { Federation } from '../federation/federation.js';
import type { Party } from '../documents/types.js';
import type { Signer } from '../signing/types.js';
import type { OfdCertificates } from '../pipeline/certificate-ofd.js';
import type { ApplicationQueue } from '../queue/application-queue.js';
import type { BundleCatalog } from '../bundles/load-bundles.js';
import type { BundleQueue } from '../bundles/bundle-queue.js';
import type { Store } from '../store/types.js';
import type { TokenVerifier } from './auth.js';
import type { Metrics } from './metrics.js';
import type { SubjectLimits } from './subject-limits.js';

/** The app as routes see it: request params, querystring, body and headers are typed by each route's TypeBox schema. */
export type TypeBoxApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** What the HTTP layer needs; built in app.ts from the composition root's Deps. */
export interface HttpDeps {
  config: Readonly<Config>;
  /** Webhook deliveries, for events the API itself causes (certificate.revoked, issue 17); absent: none emitted. */
  webhookQueue?: Pick<WebhookQueue, 'enqueue'>;
  store: Store;
  catalog: Catalog;
  queue: Pick<ApplicationQueue, 'enqueue'>;
  redis: Pick<RedisClient, 'ping'>;
  rootsPem: string;
  verifyToken: TokenVerifier;
  metrics: Metrics;
  clock: () => Date;
  newId: () => string;
  /** Issuing departments; each signs its own revocation list with its seal key. */
  departments?: Party[];
  departmentSigner?(code: string): Signer;
  /** Data sources for guidance and pre-check (absent: guidance reads nothing, pre-check answers 503). */
  sources?: ReadonlyMap<string, DataSource>;
  sourceNames?: ReadonlyMap<string, string>;
  /** Rule authoring and manual review (admin API, issue 6); absent: the admin routes are not registered. */
  authoring?: Authoring;
  /** PEM of the SM2 anchors of OFD seals (issue 15); absent: OFD is neither served nor verified. */
  gmRootsPem?: string;
  /** OFD certificates (issue 15). */
  ofd?: OfdCertificates;
  /** Queues shown on the admins' dashboard at /admin/queues (issue 8); absent: no dashboard. */
  boardQueues?: Queue[];
  /** 一件事 bundles and the queue of their steps (issue 14); absent: no bundle filings. */
  bundles?: BundleCatalog;
  bundleQueue?: Pick<BundleQueue, 'advance'>;
  /** Key type per data source (registry), to check a department's push. */
  sourceKeyTypes?: ReadonlyMap<string, string>;
  /** 都市圈通办 (issue 16): peers, node authentication, peers' catalogs; absent: this node has no federation routes. */
  federation?: Federation;
  /** Per-subject counters in Redis (issue 17 throttles and upload quota); absent: no throttling. */
  limits?: SubjectLimits;
}
