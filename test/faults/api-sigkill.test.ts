/**
 * The API process dies between its database commit and its enqueue. To hit that gap every time instead of by
 * luck, the API reaches Redis through a TCP proxy that the test freezes: commits go on, enqueues hang — then the
 * API is SIGKILLed. The outbox relay in the worker (rows older than its 2 s grace) must enqueue every committed
 * filing, acknowledged or not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approvableFilings,
  certificateDuplicates,
  eventually,
  postFiling,
  startFaultBed,
  startTcpProxy,
  tally,
  tokensFor,
  waitAllDecided,
  type FaultBed,
  type TcpProxy,
} from '../support/processes.js';

const BEFORE_FREEZE = 10;
const AFTER_FREEZE = 30;

describe('API process SIGKILLed right after commits, before its enqueue (postgres)', () => {
  let bed: FaultBed;
  let proxy: TcpProxy;

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'postgres' });
    proxy = await startTcpProxy(bed.redisPort);
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await bed?.close();
  });

  it('processes every committed filing, acknowledged or not', async () => {
    const { proc: api, url } = await bed.api({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    const filings = approvableFilings(BEFORE_FREEZE + AFTER_FREEZE);
    const tokens = await tokensFor(bed, filings);

    // Phase 1: normal intake, acknowledged with 202 (API committed and enqueued).
    const acked: string[] = [];
    for (const f of filings.slice(0, BEFORE_FREEZE)) {
      const res = await postFiling(url, tokens.get(f.uscc)!, f.body);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      acked.push(res.body['id'] as string);
    }
    // Phase 2: Redis goes silent for the API only; these requests commit, give up waiting on their enqueue after a
    // short bound (the outbox relay owns it from there) and are acknowledged — or the API dies first.
    proxy.freeze();
    const hanging = filings.slice(BEFORE_FREEZE).map((f) => postFiling(url, tokens.get(f.uscc)!, f.body, { timeoutMs: 60_000 }).catch((e: unknown) => e));
    await eventually('every frozen request to commit', async () => ((await bed.allApplicationIds()).length === filings.length ? true : undefined), 20_000);
    await api.stop('SIGKILL');
    const answers = await Promise.all(hanging);
    // Intake never waits on Redis longer than its bound: every answer that came back is a 202 for a committed row.
    for (const a of answers) {
      if (a instanceof Error) continue;
      const res = a as { status: number; body: Record<string, unknown> };
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      acked.push(res.body['id'] as string);
    }

    const ids = await bed.allApplicationIds();
    const jobs = await Promise.all(ids.map((id) => bed.queue.getJob(id)));
    const withoutJob = ids.filter((_, i) => jobs[i] === undefined);
    expect(withoutJob.length, 'filings committed but never enqueued').toBe(AFTER_FREEZE);

    // The worker (its relay) comes up after the crash and finds them in the outbox.
    const worker = bed.worker(4);
    await worker.ready;
    const started = Date.now();
    const statuses = await waitAllDecided(bed, ids, 60_000);
    const counts = tally(statuses);
    expect((counts['approved'] ?? 0) + (counts['manual_review'] ?? 0), JSON.stringify(counts)).toBe(ids.length);
    expect(await certificateDuplicates(bed)).toEqual({ total: counts['approved'] ?? 0, duplicateApplications: 0, duplicateNumbers: 0 });
    for (const id of acked) expect(ids).toContain(id);

    console.log(
      `FAULT api-sigkill: ${ids.length} filings committed (${acked.length} acknowledged, ${withoutJob.length} committed without a job when the API died), ` +
        `${acked.filter((id) => !ids.includes(id)).length} acknowledged filings lost, ${ids.length - (counts['approved'] ?? 0) - (counts['manual_review'] ?? 0)} undecided — ` +
        `decided ${((Date.now() - started) / 1000).toFixed(1)} s after the worker started, ${JSON.stringify(counts)}`,
    );
    await worker.stop('SIGTERM');
  }, 150_000);
});
