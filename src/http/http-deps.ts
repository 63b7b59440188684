import type { Deps } from '../deps.js';
import { createTokenVerifier } from './auth.js';
import { createMetrics } from './metrics.js';
import { createSubjectLimits } from './subject-limits.js';
import type { HttpDeps } from './types.js';

/** The HTTP layer's view of the composition root. */
export function httpDepsFrom(deps: Deps): HttpDeps {
  return {
    config: deps.config,
    store: deps.store,
    catalog: deps.catalog,
    queue: deps.queue,
    redis: deps.redis,
    rootsPem: deps.trustAnchorsPem,
    ...(deps.gm ? { gmRootsPem: deps.gm.rootsPem } : {}),
    ...(deps.ofd ? { ofd: deps.ofd } : {}),
    verifyToken: createTokenVerifier(deps.config.auth, deps.clock),
    metrics: createMetrics(),
    clock: deps.clock,
    newId: deps.newId,
    sources: deps.sources,
    sourceNames: deps.sourceNames,
    authoring: deps.authoring,
    departments: deps.departments,
    departmentSigner: (code) => deps.departmentSigner(code),
    webhookQueue: deps.webhookQueue,
    boardQueues: [deps.queue.queue, deps.webhookQueue.queue, deps.bundleQueue.queue],
    bundles: deps.bundles,
    bundleQueue: deps.bundleQueue,
    sourceKeyTypes: new Map(deps.registry.map((s) => [s.id, s.keyType])),
    ...(deps.federation ? { federation: deps.federation } : {}),
    limits: createSubjectLimits(deps.redis, {
      prefix: `miaopi:${deps.config.queueName}`,
      onUnavailable: (err) => deps.logger.warn({ err: String(err) }, 'throttle counters unavailable; request let through'),
    }),
  };
}
