/**
 * Delivers webhook events: one attempt per job run, recorded on the delivery (time, HTTP status or error,
 * duration); a failed attempt throws so BullMQ retries it with the webhook backoff, the last one marks the delivery
 * failed. A sweeper re-enqueues deliveries left pending without a job (Redis lost it, or the emitter could not
 * reach Redis).
 */
import { Worker } from 'bullmq';
import { QUEUE_PREFIX, type RedisClient } from '../redis.js';
import { leaseTtl, type PassLeases } from '../queue/pass-lease.js';
import { jobLockOptions } from '../queue/job-lock.js';
import type { Config } from '../config.js';
import type { Store } from '../store/types.js';
import { postEvent } from './post-event.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';
import { retryDelayMs, type WebhookJob, type WebhookQueue } from './webhook-queue.js';

export interface DeliveryDeps {
  store: Pick<Store, 'webhooks'>;
  webhooks: Config['webhooks'];
  clock: () => Date;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'skipped';

/**
 * One attempt. Attempts are counted on the delivery row (not the job), so a delivery re-enqueued by the sweeper
 * keeps its count. Throws nothing: the outcome says what happened.
 */
export async function attemptDelivery(deps: DeliveryDeps, deliveryId: string): Promise<AttemptOutcome> {
  const delivery = await deps.store.webhooks.getDelivery(deliveryId);
  if (!delivery || delivery.status !== 'pending') return 'skipped';
  const attempt = delivery.attempts.length + 1;
  const hook = await deps.store.webhooks.get(delivery.webhookId);
  const started = deps.clock();
  const last = attempt >= deps.webhooks.attempts;
  if (!hook || hook.status !== 'active') {
    await deps.store.webhooks.recordAttempt(deliveryId, { attempt, at: started.toISOString(), statusCode: null, error: 'webhook disabled', durationMs: 0 }, 'failed');
    return 'failed';
  }
  const timestamp = Math.floor(started.getTime() / 1000);
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const res = await postEvent(
      hook.url,
      delivery.payload,
      {
        'content-type': 'application/cloudevents+json; charset=utf-8',
        'user-agent': 'miaopi-webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(hook.secret, timestamp, delivery.payload),
      },
      { allowLoopback: deps.webhooks.allowLoopback, timeoutMs: deps.webhooks.timeoutMs },
    );
    statusCode = res.statusCode;
    if (statusCode < 200 || statusCode >= 300) error = statusCode >= 300 && statusCode < 400 ? `HTTP ${statusCode} (redirects are not followed)` : `HTTP ${statusCode}`;
  } catch (err) {
    error = (err instanceof Error ? err.message : String(err)).slice(0, 300);
  }
  const outcome: AttemptOutcome = error === null ? 'delivered' : last ? 'failed' : 'retry';
  const durationMs = deps.clock().getTime() - started.getTime();
  await deps.store.webhooks.recordAttempt(deliveryId, { attempt, at: started.toISOString(), statusCode, error, durationMs }, outcome === 'retry' ? 'pending' : outcome);
  deps.log.info({ deliveryId, webhookId: hook.id, attempt, statusCode, outcome }, 'webhook delivery attempt');
  return outcome;
}

export interface DeliveryWorker {
  worker: Worker<WebhookJob>;
  sweepOnce(): Promise<number>;
  close(): Promise<void>;
}

export function startDeliveryWorker(
  deps: DeliveryDeps & { queue: Pick<WebhookQueue, 'enqueue'>; leases?: PassLeases },
  connection: RedisClient,
  queueName: string,
  opts: { concurrency?: number; sweepIntervalMs?: number; sweepAfterMs?: number; lockMs?: number } = {},
): DeliveryWorker {
  const worker = new Worker<WebhookJob>(
    queueName,
    async (job) => {
      const outcome = await attemptDelivery(deps, job.data.deliveryId);
      if (outcome === 'retry') throw new Error('webhook delivery failed; retrying');
      return outcome;
    },
    {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency: opts.concurrency ?? 8,
      autorun: true,
      ...jobLockOptions(opts.lockMs),
      settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade, deps.webhooks.retryBaseMs) },
    },
  );
  worker.on('error', (err) => deps.log.warn({ err: err.message }, 'webhook worker error'));

  const sweepAfter = opts.sweepAfterMs ?? 60_000;
  async function sweepOnce(): Promise<number> {
    const ids = await deps.store.webhooks.pendingDeliveries(new Date(deps.clock().getTime() - sweepAfter).toISOString(), 500);
    await deps.queue.enqueue(ids);
    return ids.length;
  }
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    if (stopped) return;
    running = (deps.leases ? deps.leases.run('webhook-sweep', leaseTtl(opts.sweepIntervalMs ?? 30_000), sweepOnce) : sweepOnce())
      .catch((err: unknown) => deps.log.warn({ err: String(err) }, 'webhook sweep failed; will retry'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, opts.sweepIntervalMs ?? 30_000);
      });
  };
  timer = setTimeout(tick, opts.sweepIntervalMs ?? 30_000);
  return {
    worker,
    sweepOnce,
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await worker.close();
    },
  };
}
