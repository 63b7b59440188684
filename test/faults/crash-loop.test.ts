/**
 * A filing whose processing is cut short by a worker crash twice in a row (a crash-looping worker, or a job that
 * kills its worker): BullMQ gives up on it after `maxStalledCount` (1) stalls and fails the job WITHOUT running the
 * processor, so nothing records the failure in the database. The filing must still end visibly — decided, or
 * `failed` with its error — and not stay `processing` forever behind a failed job that blocks the reconciler.
 */
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvableFilings, eventually, postFiling, startFaultBed, type FaultBed } from '../support/processes.js';

/**
 * From the new worker being ready to BullMQ's `stalled` event: the stalled check runs at most once per
 * stalledInterval (30 s) across ALL workers (the `stalled-check` key the killed worker set still gates the new
 * one's first check), and a job is reported only by the check after the one that saw it active — so two intervals,
 * 60 s, in the worst phase — and slack for a busy machine. Counted from readiness: a slow start-up is not a stall.
 */
const STALL_TIMEOUT_MS = 80_000;
/** For each attempt to start (the new worker's own readiness is bounded by `spawnService`, 30 s). */
const START_TIMEOUT_MS = 60_000;
/** The worker's reconciler: a row unchanged for 30 s is enqueued again on its next pass (every 10 s). */
const RECONCILE_MS = 15_000;

describe('a job whose worker is SIGKILLed mid-job twice (postgres)', () => {
  let bed: FaultBed;
  let events: QueueEvents;

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'postgres' });
    events = await bed.queueEvents();
  }, 60_000);

  afterAll(async () => {
    await bed?.close();
  });

  /**
   * Listens for the job's next `stalled` event from now on (so none is missed while a worker starts); `within(ms)`
   * bounds the wait from the moment it is called.
   */
  function nextStall(id: string): { within(ms: number): Promise<void> } {
    let seen = false;
    let wake: (() => void) | undefined;
    const on = ({ jobId }: { jobId: string }) => {
      if (jobId !== id) return;
      seen = true;
      events.off('stalled', on);
      wake?.();
    };
    events.on('stalled', on);
    return {
      within: (ms) =>
        new Promise<void>((resolve, reject) => {
          if (seen) return resolve();
          const timer = setTimeout(() => {
            events.off('stalled', on);
            reject(new Error(`no stalled event for ${id} within ${ms} ms of the new worker being ready`));
          }, ms);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        }),
    };
  }

  it('ends the filing visibly (decided or failed), never stuck in processing', async () => {
    // 人口库 hangs: every attempt runs for its 2 s timeout, which leaves time to kill the worker mid-job.
    bed.sources.setMode('population', 'hang');
    const { url } = await bed.api();
    const filing = approvableFilings(1)[0]!;
    const res = await postFiling(url, await bed.token(filing.uscc), filing.body);
    expect(res.status).toBe(202);
    const id = res.body['id'] as string;
    const attempts = async () => (await bed.store.applications.get(id))?.attempts ?? 0;

    let worker = bed.worker(1);
    const waits: string[] = [];
    for (let crash = 1; crash <= 2; crash++) {
      await eventually(`attempt ${crash} to start`, async () => ((await attempts()) >= crash ? true : undefined), START_TIMEOUT_MS, 50);
      const stalled = nextStall(id);
      const killed = Date.now();
      await worker.stop('SIGKILL');
      worker = bed.worker(1);
      await worker.ready;
      const ready = Date.now();
      await stalled.within(STALL_TIMEOUT_MS);
      waits.push(`kill ${crash}: worker ready after ${ready - killed} ms, stalled ${Date.now() - ready} ms later`);
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
