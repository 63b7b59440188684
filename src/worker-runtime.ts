/**
 * Runs the BullMQ worker, the outbox relay and the reconciler over shared deps. Used by the worker process
 * and by integration tests; `close()` lets active jobs finish (no stalled job on shutdown).
 */
import { UnrecoverableError, Worker } from 'bullmq';
import type { Deps } from './deps.js';
import { redisConnection } from './deps.js';
import { JOB_ATTEMPTS, type ApplicationJob } from './queue/application-queue.js';
import { startRelay, type Relay } from './queue/outbox-relay.js';
import { PermanentFailure, processApplication } from './pipeline/process-application.js';

export interface WorkerRuntime {
  worker: Worker<ApplicationJob>;
  relay: Relay;
  close(): Promise<void>;
}

export function startWorkerRuntime(
  deps: Deps,
  opts: { concurrency?: number; relay?: { relayIntervalMs?: number; reconcileIntervalMs?: number; staleAfterMs?: number; relayGraceMs?: number } } = {},
): WorkerRuntime {
  const log = deps.logger;
  const connection = redisConnection(deps.config.redisUrl!);
  connection.on('error', (err) => log.warn({ err: err.message }, 'worker redis connection error'));
  const worker = new Worker<ApplicationJob>(
    deps.config.queueName,
    async (job) => {
      const { applicationId } = job.data;
      try {
        const result = await processApplication(deps, applicationId);
        log.info({ applicationId, jobId: job.id, attempt: job.attemptsMade + 1, ...result }, 'application processed');
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
    { connection, concurrency: opts.concurrency ?? deps.config.workerConcurrency, autorun: true },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  const relay = startRelay({ store: deps.store, queue: deps.queue, clock: deps.clock, log, ...(opts.relay ?? {}) });
  return {
    worker,
    relay,
    async close() {
      await relay.stop();
      await worker.close();
      connection.disconnect();
    },
  };
}
