/**
 * The BullMQ queue of bundle steps: a job carries the bundle application id only (DESIGN.md §2). Each trigger has its
 * own job id (`advance.<bundle>.<why>`): the same trigger queued twice runs once, distinct triggers are never
 * swallowed by a step that is already running.
 */
import { Queue } from 'bullmq';
import { QUEUE_PREFIX, type RedisClient } from '../redis.js';

export const ADVANCE_JOB = 'advance-bundle';
export const BUNDLE_JOB_ATTEMPTS = 8;

export interface BundleJob {
  bundleId: string;
}

export interface BundleQueue {
  readonly queue: Queue<BundleJob>;
  /** Queues one step of each bundle; `why` names the trigger (intake, a member's status, the sweep …). */
  advance(items: Array<{ bundleId: string; why: string }>): Promise<void>;
  close(): Promise<void>;
}

export function bundleQueueName(applicationQueueName: string): string {
  return `${applicationQueueName}-bundles`;
}

/** BullMQ job ids may not contain ':' and must not be integers. */
function jobId(bundleId: string, why: string): string {
  return `advance.${bundleId}.${why}`.replace(/:/g, '_');
}

export function createBundleQueue(connection: RedisClient, name: string): BundleQueue {
  const queue = new Queue<BundleJob>(name, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: {
      attempts: BUNDLE_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
  return {
    queue,
    async advance(items) {
      if (items.length === 0) return;
      await queue.addBulk(items.map(({ bundleId, why }) => ({ name: ADVANCE_JOB, data: { bundleId }, opts: { jobId: jobId(bundleId, why) } })));
    },
    close: () => queue.close(),
  };
}
