/**
 * The bundle side of a worker process: a BullMQ worker running bundle steps, the hook the application worker calls
 * after each filing it decides (a member's decision moves its bundle on at once; an awaited record is indexed), and a
 * sweep that finds what no job announced — a person's manual decision in the API, a lost job, a due re-check.
 * Like the outbox relay it runs in every worker process; job ids and idempotent steps make that safe.
 */
import { applicationNumberPrefix } from '../domain/application-number.js';
import { UnrecoverableError, Worker } from 'bullmq';
import { QUEUE_PREFIX, type RedisClient } from '../redis.js';
import { leaseTtl, type PassLeases } from '../queue/pass-lease.js';
import { jobLockOptions } from '../queue/job-lock.js';
import type { Deps } from '../deps.js';
import { PermanentFailure } from '../errors.js';
import { emitBundleEvent } from '../webhooks/bundle-events.js';
import { advanceBundle, type AdvanceDeps } from './advance-bundle.js';
import { indexAwaited } from './awaited.js';
import { bundleQueueName, type BundleJob } from './bundle-queue.js';
import { bundleOfApplication } from './member-id.js';

export interface BundleRuntime {
  worker: Worker<BundleJob>;
  /** Called by the application worker after it decided a filing. Never throws (the sweep covers a miss). */
  afterApplication(applicationId: string, status: string): Promise<void>;
  /** One sweep; returns how many bundle steps it queued. */
  sweepOnce(): Promise<number>;
  close(): Promise<void>;
}

export function advanceDeps(deps: Deps): AdvanceDeps {
  return {
    store: deps.store,
    catalog: deps.catalog,
    bundles: deps.bundles,
    sources: deps.sources,
    sourceNames: deps.sourceNames,
    eseal: deps.eseal,
    newId: deps.newId,
    departmentSigner: (c) => deps.departmentSigner(c),
    timestamper: deps.timestamper,
    queue: deps.queue,
    emit: (e) => emitBundleEvent({ store: deps.store, webhookQueue: deps.webhookQueue, publicUrl: deps.publicUrl, clock: deps.clock, newId: deps.newId }, e),
    clock: deps.clock,
    numberPrefix: applicationNumberPrefix(deps.config.federation.cityCode),
    recheck: { baseMs: deps.config.bundles.recheckSeconds * 1000, maxMs: deps.config.bundles.recheckMaxSeconds * 1000 },
  };
}

export function startBundleRuntime(deps: Deps, connection: RedisClient, opts: { concurrency?: number; leases?: PassLeases } = {}): BundleRuntime {
  const log = deps.logger;
  const steps = advanceDeps(deps);
  const worker = new Worker<BundleJob>(
    bundleQueueName(deps.config.queueName),
    async (job) => {
      try {
        const result = await advanceBundle(steps, job.data.bundleId);
        log.info({ bundleId: job.data.bundleId, jobId: job.id, ...result }, 'bundle advanced');
        return result;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log.error({ bundleId: job.data.bundleId, jobId: job.id, attempt: job.attemptsMade + 1, err: message }, 'bundle step failed');
        if (err instanceof PermanentFailure) throw new UnrecoverableError(message);
        throw err;
      }
    },
    { connection, prefix: QUEUE_PREFIX, concurrency: opts.concurrency ?? 2, autorun: true, ...jobLockOptions(deps.config.jobLockMs) },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'bundle worker error'));

  const sweepMs = deps.config.bundles.sweepMs;
  async function sweepOnce(): Promise<number> {
    const now = deps.clock();
    const ids = await deps.store.bundles.needingAttention(now.toISOString(), 200);
    // One job per bundle and sweep slot, whichever process sweeps first.
    const slot = Math.floor(now.getTime() / sweepMs);
    await deps.bundleQueue.advance(ids.map((bundleId) => ({ bundleId, why: `sweep.${slot}` })));
    return ids.length;
  }
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = (opts.leases ? opts.leases.run('bundle-sweep', leaseTtl(sweepMs), sweepOnce) : sweepOnce()).catch((err: unknown) => log.warn({ err: String(err) }, 'bundle sweep failed; will retry'));
  }, sweepMs);
  timer.unref();

  return {
    worker,
    async afterApplication(applicationId, status) {
      try {
        if (status === 'manual_review') await indexAwaited(deps, applicationId);
        const bundleId = bundleOfApplication(applicationId);
        if (bundleId) await deps.bundleQueue.advance([{ bundleId, why: `${applicationId.slice(bundleId.length + 1)}.${status}.${Date.now()}` }]);
      } catch (err) {
        log.warn({ applicationId, err: err instanceof Error ? err.message : String(err) }, 'bundle hook failed; the sweep picks it up');
      }
    },
    sweepOnce,
    async close() {
      clearInterval(timer);
      await running;
      await worker.close();
    },
  };
}
