/**
 * The BullMQ queue of applications. A job carries the application id only — never names, ID numbers or form
 * data (DESIGN.md §2). The job id is the application id, so enqueueing twice is a no-op while the job exists.
 */
import { Queue } from 'bullmq';
import { QUEUE_PREFIX, type RedisClient } from '../redis.js';

export const JOB_NAME = 'process-application';
export const JOB_ATTEMPTS = 8;

export interface ApplicationJob {
  applicationId: string;
}

export interface ApplicationQueue {
  readonly queue: Queue<ApplicationJob>;
  enqueue(applicationIds: string[]): Promise<void>;
  close(): Promise<void>;
}

export function createApplicationQueue(connection: RedisClient, name: string): ApplicationQueue {
  const queue = new Queue<ApplicationJob>(name, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: {
      attempts: JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: 500 },
      // Completed jobs are removed so that the reconciler can enqueue an id again after Redis lost it.
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
  return {
    queue,
    async enqueue(ids) {
      if (ids.length === 0) return;
      await queue.addBulk(ids.map((applicationId) => ({ name: JOB_NAME, data: { applicationId }, opts: { jobId: applicationId } })));
    },
    close: () => queue.close(),
  };
}
