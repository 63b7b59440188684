/**
 * The BullMQ queue of webhook deliveries. A job carries the delivery id only (the body waits in the database); the
 * job id is the delivery id, so enqueueing twice is a no-op while the job exists. Retries back off 4× per attempt
 * from WEBHOOK_RETRY_BASE_MS (1 s → 4 s → 16 s → … capped at 6 h).
 */
import { Queue } from 'bullmq';
import { QUEUE_PREFIX, type RedisClient } from '../redis.js';

export const DELIVERY_JOB = 'deliver-webhook';
const MAX_DELAY_MS = 6 * 3600_000;

export interface WebhookJob {
  deliveryId: string;
}

export interface WebhookQueue {
  readonly queue: Queue<WebhookJob>;
  enqueue(deliveryIds: string[]): Promise<void>;
  close(): Promise<void>;
}

export function webhookQueueName(applicationQueueName: string): string {
  return `${applicationQueueName}-webhooks`;
}

/** Delay before retry number `attemptsMade` (1 = the first retry). */
export function retryDelayMs(attemptsMade: number, baseMs: number): number {
  return Math.min(baseMs * 4 ** Math.max(0, attemptsMade - 1), MAX_DELAY_MS);
}

export function createWebhookQueue(connection: RedisClient, name: string, attempts: number): WebhookQueue {
  const queue = new Queue<WebhookJob>(name, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: {
      attempts,
      backoff: { type: 'webhook' },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
  return {
    queue,
    async enqueue(ids) {
      if (ids.length === 0) return;
      await queue.addBulk(ids.map((deliveryId) => ({ name: DELIVERY_JOB, data: { deliveryId }, opts: { jobId: deliveryId } })));
    },
    close: () => queue.close(),
  };
}
