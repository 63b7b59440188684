/**
 * redis-server is SIGKILLed mid-load and started again on the same port and folder, where it reloads its AOF
 * (appendonly yes, appendfsync always: every acknowledged write is on disk before the reply). API and worker
 * processes reconnect by themselves; filings accepted while Redis was away wait in the outbox. Nothing is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approvableFilings,
  certificateDuplicates,
  offerLoad,
  sleep,
  startFaultBed,
  tally,
  tokensFor,
  waitAllDecided,
  type FaultBed,
} from '../support/processes.js';

const FILINGS = 120;
const PER_SECOND = 12;
const KILL_AFTER_MS = 3_000;
const DOWN_FOR_MS = 3_000;
/** Jobs that were active when Redis died are back after their lock (30 s) and a stalled check (30 s). */
const RECOVERY_TIMEOUT_MS = 100_000;

describe('redis-server SIGKILLed and restarted from its AOF mid-load (postgres)', () => {
  let bed: FaultBed;
  let apiUrl: string;

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'postgres', appendfsync: 'always' });
    ({ url: apiUrl } = await bed.api());
  }, 60_000);

  afterAll(async () => {
    await bed?.close();
  });

  it('decides every accepted filing once Redis is back, with one certificate each', async () => {
    const workers = [bed.worker(4), bed.worker(4)];
    await Promise.all(workers.map((w) => w.ready));
    const filings = approvableFilings(FILINGS);
    const tokens = await tokensFor(bed, filings);

    const load = offerLoad(apiUrl, tokens, filings, PER_SECOND, 30_000);
    await sleep(KILL_AFTER_MS);
    const decidedBefore = [...(await bed.statuses(await bed.allApplicationIds())).values()].filter((s) => s !== 'queued' && s !== 'processing').length;
    await bed.killRedis();
    const killedAt = Date.now();
    await sleep(DOWN_FOR_MS);
    await bed.restartRedis();
    const downMs = Date.now() - killedAt;
    const jobsAfterRestart = await bed.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const offered = await load;

    expect(offered.refused, 'the API refused filings while Redis was away').toEqual([]);
    expect(offered.unanswered, 'the API left filings unanswered').toEqual([]);
    // Whatever the API committed is the truth, acknowledged or not.
    const ids = await bed.allApplicationIds();
    expect(ids.length).toBe(FILINGS);
    expect(new Set(ids)).toEqual(new Set(offered.accepted));

    const statuses = await waitAllDecided(bed, ids, RECOVERY_TIMEOUT_MS);
    const counts = tally(statuses);
    expect((counts['approved'] ?? 0) + (counts['manual_review'] ?? 0), JSON.stringify(counts)).toBe(FILINGS);
    const dupes = await certificateDuplicates(bed);
    expect(dupes).toEqual({ total: counts['approved'] ?? 0, duplicateApplications: 0, duplicateNumbers: 0 });
    expect(workers.every((w) => w.running), 'a worker process died with Redis').toBe(true);

    const slowest = Math.max(...offered.latenciesMs);
    console.log(
      `FAULT redis-kill (appendfsync always): ${FILINGS} filings, ${FILINGS - (counts['approved'] ?? 0) - (counts['manual_review'] ?? 0)} lost, ` +
        `${dupes.duplicateApplications} duplicate certificates; Redis down ${(downMs / 1000).toFixed(1)} s ` +
        `after ${decidedBefore} decisions, ${Object.values(jobsAfterRestart).reduce((a, b) => a + b, 0)} jobs reloaded from the AOF, ` +
        `slowest 202 ${slowest} ms, ${JSON.stringify(counts)}`,
    );
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
  }, RECOVERY_TIMEOUT_MS + 90_000);
});
