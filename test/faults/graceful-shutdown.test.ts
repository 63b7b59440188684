/**
 * SIGTERM to a worker process under load (a deploy, a scale-down): it stops taking jobs, finishes the active ones
 * and exits 0. No job is left active (so none can stall), no filing is left `processing`, and a new worker
 * decides the rest without a single `stalled` event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvableFilings, eventually, offerLoad, sleep, startFaultBed, tally, tokensFor, waitAllDecided, type FaultBed } from '../support/processes.js';

const FILINGS = 80;

describe('graceful shutdown of a worker process under load (postgres)', () => {
  let bed: FaultBed;
  let apiUrl: string;

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'postgres' });
    ({ url: apiUrl } = await bed.api());
  }, 60_000);

  afterAll(async () => {
    await bed?.close();
  });

  it('finishes its active jobs, exits 0, leaves nothing active, and the next worker sees no stalled job', async () => {
    const events = await bed.queueEvents();
    const stalled: string[] = [];
    events.on('stalled', ({ jobId }) => stalled.push(jobId));

    const first = bed.worker(4);
    await first.ready;
    const filings = approvableFilings(FILINGS);
    const offered = await offerLoad(apiUrl, await tokensFor(bed, filings), filings, 100);
    expect(offered.accepted).toHaveLength(FILINGS);
    await eventually('the first decisions', async () => ([...(await bed.statuses(offered.accepted)).values()].filter((s) => s === 'approved').length >= 5 ? true : undefined), 30_000, 50);
    const activeAtSigterm = (await bed.queue.getJobCounts('active')).active ?? 0;

    const sigtermAt = Date.now();
    const exit = await first.stop('SIGTERM', 40_000);
    const shutdownMs = Date.now() - sigtermAt;
    expect(exit).toEqual({ code: 0, signal: null });
    const afterExit = await bed.queue.getJobCounts('active', 'waiting', 'failed');
    expect(afterExit.active).toBe(0);
    expect(afterExit.failed).toBe(0);
    const atExit = tally(await bed.statuses(offered.accepted));
    expect(atExit['processing'] ?? 0).toBe(0);
    expect(atExit['queued'] ?? 0, 'the shutdown came mid-load').toBeGreaterThan(0);

    const second = bed.worker(4);
    await second.ready;
    const statuses = await waitAllDecided(bed, offered.accepted, 60_000);
    const counts = tally(statuses);
    expect((counts['approved'] ?? 0) + (counts['manual_review'] ?? 0), JSON.stringify(counts)).toBe(FILINGS);
    // The new worker's stalled check runs at start-up; a stalled job would be reported right away.
    await sleep(1_000);
    expect(stalled).toEqual([]);

    console.log(
      `FAULT graceful-shutdown: SIGTERM with ${activeAtSigterm} jobs active → exit ${exit.code} in ${shutdownMs} ms, ${afterExit.active} active, ` +
        `${atExit['processing'] ?? 0} processing, ${atExit['queued'] ?? 0} left queued; ` +
        `${(counts['approved'] ?? 0) + (counts['manual_review'] ?? 0)} of ${FILINGS} decided after restart, ${stalled.length} stalled events ${JSON.stringify(counts)}`,
    );
    await second.stop('SIGTERM');
  }, 180_000);
});
