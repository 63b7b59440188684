/**
 * How soon a job whose worker died is handed to another (JOB_LOCK_MS). A BullMQ worker holds a lock on each job it
 * runs and renews it every half lock; the stalled check (one Lua script, at most once per `stalledInterval` across
 * all workers of a queue) first notes the active jobs, and on its next run moves back to the queue those whose lock
 * has expired since. So a killed worker's jobs come back between one lock and one lock plus two check intervals
 * after its last renewal, once any worker of the queue runs.
 *
 * BullMQ's defaults (lock 30 s, check every 30 s) kept a filing caught in a crash waiting 60–90 s (measured 60.0–60.3 s
 * after the new worker was ready); the service decides a filing in well under a second. Our default: a 15 s lock,
 * checked every 5 s — back in ~10–25 s. What a shorter lock risks is a live job taken for stalled: its renewal is a
 * timer on the worker's event loop, so only an event loop blocked for a whole lock (15 s; measured with
 * `monitorEventLoopDelay` through a bench run of ~12,000 filings, start-up included: longest 203 ms, p99.9 86 ms),
 * or Redis out of reach for as long (a Sentinel failover took 2.5 s in the cluster test), would do it — and a job
 * run twice is harmless here: processing is idempotent (one certificate per filing, one number per certificate).
 */
export const DEFAULT_JOB_LOCK_MS = 15_000;

export interface JobLockOptions {
  lockDuration: number;
  stalledInterval: number;
}

/** BullMQ Worker options for a lock of `lockMs`: the stalled check runs three times per lock. */
export function jobLockOptions(lockMs: number = DEFAULT_JOB_LOCK_MS): JobLockOptions {
  if (!Number.isInteger(lockMs) || lockMs < 3_000) throw new Error(`job lock must be a whole number of ms ≥ 3000, got ${lockMs}`);
  return { lockDuration: lockMs, stalledInterval: Math.round(lockMs / 3) };
}
