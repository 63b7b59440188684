/**
 * Runs the BullMQ worker, the outbox relay and the reconciler over shared deps. Used by the worker process
 * and by integration tests; `close()` lets active jobs finish (no stalled job on shutdown).
 */
import { UnrecoverableError, Worker } from 'bullmq';
import type { Deps } from './deps.js';
import { QUEUE_PREFIX } from './redis.js';
import { redisConnection } from './deps.js';
import { JOB_ATTEMPTS, type ApplicationJob } from './queue/application-queue.js';
import { jobLockOptions } from './queue/job-lock.js';
import { startBundleRuntime, type BundleRuntime } from './bundles/bundle-runtime.js';
import { runDueFollowUps } from './pipeline/follow-ups.js';
import { recheckAwaiting } from './queue/await-recheck.js';
import { startRelay, type Relay } from './queue/outbox-relay.js';
import { leaseTtl, passLeases, type PassLeases } from './queue/pass-lease.js';
import { PermanentFailure, processApplication } from './pipeline/process-application.js';
import { startDeliveryWorker, type DeliveryWorker } from './webhooks/delivery-worker.js';
import { announceRevocation, emitCertificateIssued } from './webhooks/emit.js';
import { startRevocationFeed, type RevocationFeed } from './webhooks/revocation-feed.js';
import { startIssuedFeed, type IssuedFeed } from './webhooks/issued-feed.js';
import { webhookQueueName } from './webhooks/webhook-queue.js';
import { startForwarder, type Forwarder } from './federation/forwarder.js';
import { startBookingLoop, type BookingLoop } from './delivery/booking.js';
import { httpCourier } from './delivery/courier-client.js';
import { startStandInCourier, type StandInCourier } from './delivery/stand-in-courier.js';
import { emitDeliveryUpdated } from './webhooks/delivery-event.js';
import { openAuditKey } from './authoring/audit-checkpoint.js';
import { startAuditCheckpoints, type AuditCheckpoints } from './authoring/audit-checkpointer.js';
import { startIdempotencyPurge } from './queue/idempotency-purge.js';
import { renderPool } from './documents/pdf/render-pool.js';

/** How often expired Idempotency-Keys are purged (they stop deduplicating at expiry whether purged or not). */
const IDEMPOTENCY_PURGE_MS = 10 * 60_000;

export interface WorkerRuntime {
  worker: Worker<ApplicationJob>;
  relay: Relay;
  deliveries: DeliveryWorker;
  issuedFeed: IssuedFeed;
  /** `certificate.revoked` for revocations the API did not announce (issue 17). */
  revocationFeed: RevocationFeed;
  /** 一件事 bundle steps (issue 14). */
  bundles: BundleRuntime;
  /** 都市圈通办: the outbox to peer city nodes and the mirror of their answers (issue 16). */
  forwarder: Forwarder;
  /** 快递取送: waybill booking and tracking after issuing (issue 16). */
  bookings: BookingLoop;
  /** The leases of this process's periodic passes. */
  leases: PassLeases;
  /** Signed checkpoints of the audit chain's head (issue 17); null without a signing key. */
  auditCheckpoints: AuditCheckpoints | null;
  close(): Promise<void>;
}

export function startWorkerRuntime(
  deps: Deps,
  opts: { concurrency?: number; relay?: { relayIntervalMs?: number; reconcileIntervalMs?: number; staleAfterMs?: number; relayGraceMs?: number } } = {},
): WorkerRuntime {
  const log = deps.logger;
  // The development e-seal authority makes new applicants' keys ahead of need, in the thread pool (never in an API process).
  if ('warm' in deps.eseal) void deps.eseal.warm(30_000);
  // PDF layout on render threads (RENDER_THREADS): the main thread keeps the database, the queue and the keys.
  const renderer = deps.config.renderThreads > 0 ? renderPool(deps.config.renderThreads) : null;
  if (renderer) deps.renderer = renderer;
  const connection = redisConnection(deps.config);
  connection.on('error', (err: Error) => log.warn({ err: err.message }, 'worker redis connection error'));
  const bundleConnection = redisConnection(deps.config);
  bundleConnection.on('error', (err: Error) => log.warn({ err: err.message }, 'bundle worker redis connection error'));
  // Periodic passes run in every worker process, each pass in the one holding its lease (issue 13).
  const leases = passLeases(deps.store, deps.clock);
  const bundles = startBundleRuntime(deps, bundleConnection, { leases });
  const worker = new Worker<ApplicationJob>(
    deps.config.queueName,
    async (job) => {
      const { applicationId } = job.data;
      try {
        const result = await processApplication(deps, applicationId);
        log.info({ applicationId, jobId: job.id, attempt: job.attemptsMade + 1, ...result }, 'application processed');
        await emitIssued(applicationId, result.done ? result.certificateId : undefined);
        // A bundle member's decision moves its bundle on; an awaited record is indexed for the department's push.
        if (result.done) await bundles.afterApplication(applicationId, result.status);
        return result;
      } catch (err) {
        const permanent = err instanceof PermanentFailure;
        const last = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? JOB_ATTEMPTS);
        const message = err instanceof Error ? err.message : String(err);
        log.error({ applicationId, jobId: job.id, attempt: job.attemptsMade + 1, err: message, last }, 'application processing failed');
        await deps.store.applications
          .recordError(applicationId, message.slice(0, 500), new Date().toISOString(), last)
          .catch((e: unknown) => log.error({ applicationId, err: String(e) }, 'could not record the error'));
        if (permanent) throw new UnrecoverableError(message);
        throw err;
      }
    },
    { connection, prefix: QUEUE_PREFIX, concurrency: opts.concurrency ?? deps.config.workerConcurrency, autorun: true, ...jobLockOptions(deps.config.jobLockMs) },
  );
  worker.on('error', (err: Error) => log.warn({ err: err.message }, 'worker error'));
  // A job whose worker died mid-job too often is failed by BullMQ's stall checker without running our processor;
  // record it, or the filing would stay `processing` behind a failed job the reconciler cannot replace.
  worker.on('failed', (job, err) => {
    if (!job || !/stalled/i.test(err.message)) return;
    const { applicationId } = job.data;
    log.error({ applicationId, jobId: job.id, err: err.message }, 'job failed after repeated worker crashes');
    deps.store.applications
      .recordError(applicationId, `worker crashed while processing (${err.message})`.slice(0, 500), new Date().toISOString(), true)
      .catch((e: unknown) => log.error({ applicationId, err: String(e) }, 'could not record the stalled failure'));
  });

  // certificate.issued to webhooks. A job that finds its application finished already (a retry after a crash
  // between issuing and emitting) emits again; the event id dedupes. A failure here must not fail the filing:
  // delivery rows that exist are swept into the queue later.
  async function emitIssued(applicationId: string, certificateId: string | null | undefined): Promise<void> {
    try {
      const id = certificateId === undefined ? (await deps.store.certificates.byApplication(applicationId))?.id : certificateId;
      if (id) await emitCertificateIssued({ ...deps, webhookQueue: deps.webhookQueue }, id);
    } catch (err) {
      log.warn({ applicationId, err: err instanceof Error ? err.message : String(err) }, 'certificate.issued not emitted; the sweeper retries pending deliveries');
    }
  }
  const hookConnection = redisConnection(deps.config);
  hookConnection.on('error', (err: Error) => log.warn({ err: err.message }, 'webhook worker redis connection error'));
  const deliveries = startDeliveryWorker(
    { store: deps.store, webhooks: deps.config.webhooks, clock: deps.clock, log, queue: deps.webhookQueue, leases },
    hookConnection,
    webhookQueueName(deps.config.queueName),
    { lockMs: deps.config.jobLockMs },
  );
  const issuedFeed = startIssuedFeed({
    store: deps.store,
    emit: (id) => emitCertificateIssued({ ...deps, webhookQueue: deps.webhookQueue }, id),
    // One look at the webhooks per poll rather than one per certificate (most cities have few or no subscribers).
    listening: async () => (await deps.store.webhooks.subscribedTo('certificate.issued')).length > 0,
    clock: deps.clock,
    log,
    leases,
  });
  const revocationFeed = startRevocationFeed({ store: deps.store, announce: (r) => announceRevocation({ ...deps, webhookQueue: deps.webhookQueue }, r), clock: deps.clock, log, leases });
  const relay = startRelay({ store: deps.store, queue: deps.queue, clock: deps.clock, log, leases, ...(opts.relay ?? {}) });
  // 业务协同: filings waiting only for another department's result are decided again periodically.
  const recheckMs = deps.config.awaitRecheckSeconds * 1000;
  let recheckRunning: Promise<unknown> = Promise.resolve();
  const recheck = setInterval(() => {
    recheckRunning = leases
      .run('awaited-recheck', leaseTtl(recheckMs), async () => {
        await recheckAwaiting(
          { store: deps.store, catalog: deps.catalog, queue: deps.queue, clock: deps.clock, log },
          { minWaitMs: recheckMs, maxWaitMs: deps.config.awaitRecheckMaxSeconds * 1000 },
        );
        await runDueFollowUps(deps);
      })
      .catch((err: unknown) => log.warn({ err: String(err) }, 'awaited-results / follow-up pass failed; will retry'));
  }, recheckMs);
  recheck.unref();
  // Issue 16. Both loops lease their rows in the database, so every worker process may run them.
  const forwarder: Forwarder = deps.federation
    ? startForwarder({ store: deps.store, federation: deps.federation, config: deps.config.federation, clock: deps.clock, log })
    : { runOnce: () => Promise.resolve(0), refreshCatalogs: () => Promise.resolve(0), stop: () => Promise.resolve() };
  // Without COURIER_URL (development) the stand-in courier runs on loopback in this process: same contract, real socket.
  let standIn: Promise<StandInCourier> | null = null;
  const courierCfg = deps.config.courier;
  // Production never runs the stand-in: without COURIER_URL it takes no delivery (intake refuses one).
  const courier = courierCfg.url || deps.config.production
    ? httpCourier({ url: courierCfg.url ?? 'http://127.0.0.1:9/courier-not-configured', timeoutMs: courierCfg.timeoutMs, retries: courierCfg.retries })
    : (() => {
        standIn = startStandInCourier({ stepMs: 30_000 });
        const client = standIn.then((s) => httpCourier({ url: s.url, timeoutMs: courierCfg.timeoutMs, retries: courierCfg.retries }));
        return { book: async (w: Parameters<ReturnType<typeof httpCourier>['book']>[0]) => (await client).book(w), track: async (n: string) => (await client).track(n) };
      })();
  const bookings = startBookingLoop({
    store: deps.store,
    catalog: deps.catalog,
    sources: deps.sources,
    courier,
    config: courierCfg,
    clock: deps.clock,
    log,
    emit: (d, certificateId) => emitDeliveryUpdated({ ...deps, webhookQueue: deps.webhookQueue }, d, certificateId),
  });
  const auditKeyPem = deps.config.audit.signingKeyPem;
  const auditCheckpoints =
    auditKeyPem === null
      ? null
      : startAuditCheckpoints({ store: deps.store, key: openAuditKey(auditKeyPem), timestamper: deps.timestamper, clock: deps.clock, log, leases }, deps.config.audit.checkpointSeconds * 1000);
  const idempotencyPurge = startIdempotencyPurge({ store: deps.store, leases, clock: deps.clock, log }, IDEMPOTENCY_PURGE_MS);
  return {
    auditCheckpoints,
    worker,
    relay,
    deliveries,
    issuedFeed,
    revocationFeed,
    bundles,
    forwarder,
    bookings,
    leases,
    async close() {
      await auditCheckpoints?.stop();
      await idempotencyPurge.stop();
      await forwarder.stop();
      await bookings.stop();
      if (standIn) await (await standIn).close();
      clearInterval(recheck);
      await recheckRunning;
      await relay.stop();
      await worker.close();
      await bundles.close();
      bundleConnection.disconnect();
      await issuedFeed.stop();
      await revocationFeed.stop();
      await deliveries.close();
      if (renderer) {
        if (deps.renderer === renderer) delete deps.renderer;
        await renderer.close();
      }
      hookConnection.disconnect();
      connection.disconnect();
      await leases.releaseAll();
    },
  };
}
