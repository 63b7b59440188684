/**
 * A filing whose processing is cut short by a worker crash twice in a row (a crash-looping worker, or a job that
 * kills its worker): BullMQ gives up on it after `maxStalledCount` (1) stalls and fails the job WITHOUT running the
 * processor, so nothing records the failure in the database. The filing must still end visibly — decided, or
 * `failed` with its error — and not stay `processing` forever behind a failed job that blocks the reconciler.
 */
import type { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_PREFIX } from '../../src/redis.js';
import { approvableFilings, eventually, postFiling, startFaultBed, type FaultBed, type ServiceProcess } from '../support/processes.js';

/**
 * From the new worker being ready to the job's stall (src/queue/job-lock.ts, the default 15 s lock): the job was
 * locked for 15 s when its attempt started, just before the kill; the stalled check runs at most once per 5 s across
 * ALL workers (the `stalled-check` key the killed worker set still gates the new one's first check) and reports a job
 * only on the check after one that saw it active — so ~15–20 s after the kill — and slack for a busy machine.
 * Counted from readiness: a slow start-up is not a stall. (With BullMQ's defaults, 30 s and 30 s, this was 60 s.)
 */
const STALL_TIMEOUT_MS = 40_000;
/** For each attempt to start (the new worker's own readiness is bounded by `spawnService`, 30 s). */
const START_TIMEOUT_MS = 60_000;
/** The worker's reconciler: a row unchanged for 30 s is enqueued again on its next pass (every 10 s). */
const RECONCILE_MS = 15_000;

describe('a job whose worker is SIGKILLed mid-job twice (postgres)', () => {
  let bed: FaultBed;
  let events: QueueEvents;
  /** The test's own connection to the bed's Redis, to read BullMQ's keys. */
  let redis: Redis;
  let key: (t: string) => string;

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'postgres' });
    events = await bed.queueEvents();
    redis = new Redis({ host: '127.0.0.1', port: bed.redisPort });
    key = (t: string) => `${QUEUE_PREFIX}:${bed.queueName}:${t}`;
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await bed?.close();
  });

  /**
   * Waits for the job's `n`th stall, from now on: BullMQ's `stalled` event, or the job's stalled count (`stc`, which
   * the same script increments) reaching `n` — the filing's fate is the subject here, not the event's delivery, and
   * which of the two came first is reported. `within(ms)` bounds the wait from the moment it is called.
   */
  function nextStall(id: string, n: number): { within(ms: number): Promise<'event' | 'count'> } {
    let seen = false;
    const on = ({ jobId }: { jobId: string }) => {
      if (jobId !== id) return;
      seen = true;
      events.off('stalled', on);
    };
    events.on('stalled', on);
    return {
      async within(ms) {
        const until = Date.now() + ms;
        try {
          for (;;) {
            if (seen) return 'event';
            if (Number((await redis.hget(key(id), 'stc')) ?? 0) >= n) return 'count';
            if (Date.now() > until) throw new Error(`no stall ${n} of ${id} within ${ms} ms of the new worker being ready; ${await diagnose(id)}`);
            await new Promise((r) => setTimeout(r, 250));
          }
        } finally {
          events.off('stalled', on);
        }
      },
    };
  }

  /** What BullMQ's keys say about the job, for a failure message. */
  async function diagnose(id: string): Promise<string> {
    try {
      const job = await bed.queue.getJob(id);
      const [state, lockTtl, checkTtl, stalled, active, stc] = await Promise.all([
        job?.getState(),
        redis.pttl(key(`${id}:lock`)),
        redis.pttl(key('stalled-check')),
        redis.smembers(key('stalled')),
        redis.lrange(key('active'), 0, -1),
        redis.hget(key(id), 'stc'),
      ]);
      return `job state ${state}, lock pttl ${lockTtl}, stalled-check pttl ${checkTtl}, stalled set ${JSON.stringify(stalled)}, active ${JSON.stringify(active)}, stalled count ${stc}; worker (${worker?.running ? 'running' : 'not running'}) last lines:\n${worker?.tail(15)}`;
    } catch (err) {
      return `(diagnosis failed: ${String(err)})`;
    }
  }
  let worker: ServiceProcess | undefined;

  it('ends the filing visibly (decided or failed), never stuck in processing', async () => {
    // 人口库 hangs: every attempt runs for its 2 s timeout, which leaves time to kill the worker mid-job.
    bed.sources.setMode('population', 'hang');
    const { url } = await bed.api();
    const filing = approvableFilings(1)[0]!;
    const res = await postFiling(url, await bed.token(filing.uscc), filing.body);
    expect(res.status).toBe(202);
    const id = res.body['id'] as string;
    const attempts = async () => (await bed.store.applications.get(id))?.attempts ?? 0;

    worker = bed.worker(1);
    const waits: string[] = [];
    for (let crash = 1; crash <= 2; crash++) {
      await eventually(`attempt ${crash} to start`, async () => ((await attempts()) >= crash ? true : undefined), START_TIMEOUT_MS, 50);
      const stalled = nextStall(id, crash);
      const killed = Date.now();
      await worker.stop('SIGKILL');
      worker = bed.worker(1);
      await worker.ready;
      const ready = Date.now();
      const by = await stalled.within(STALL_TIMEOUT_MS);
      waits.push(`kill ${crash}: worker ready after ${ready - killed} ms, stalled ${Date.now() - ready} ms later (seen by ${by === 'event' ? 'the stalled event' : "the job's stalled count"})`);
    }
    bed.sources.setMode('population', 'ok');
    const failedJob = await eventually('BullMQ to give up on the job', async () => {
      const job = await bed.queue.getJob(id);
      return job && (await job.getState()) === 'failed' ? job : undefined;
    }, 30_000);

    // What the database says after the reconciler had its chance.
    let row = await bed.store.applications.get(id);
    const deadline = Date.now() + RECONCILE_MS;
    while (row && (row.status === 'processing' || row.status === 'queued') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      row = await bed.store.applications.get(id);
    }
    console.log(
      `FAULT crash-loop: job failed by BullMQ after 2 stalls ("${failedJob.failedReason}"); application status ${row?.status}, ` +
        `${row?.attempts} attempts, last error ${JSON.stringify(row?.lastError)}; ${waits.join('; ')}`,
    );
    expect(row?.status, 'the filing is stuck: its failed job blocks the reconciler and nobody recorded the failure').toMatch(
      /^(approved|rejected|manual_review|failed)$/,
    );
    await worker.stop('SIGTERM');
  }, 2 * (START_TIMEOUT_MS + 30_000 + STALL_TIMEOUT_MS) + RECONCILE_MS + 60_000);
});
