/**
 * Redis loses all its data mid-load (FLUSHALL: an operator's mistake, a failover to an empty replica): the
 * database is the system of record, and the worker's reconciler enqueues every accepted filing that stayed
 * unfinished again (default: unfinished for 30 s, checked every 10 s).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../support/db-counts.js';
import {
  approvableFilings,
  certificateDuplicates,
  eventually,
  offerLoad,
  startFaultBed,
  tally,
  tokensFor,
  waitAllDecided,
  type FaultBed,
} from '../support/processes.js';

const FILINGS = 60;
/** Reconciler: staleAfter 30 s + interval 10 s, then the backlog of a slow worker. */
const RESTORE_TIMEOUT_MS = 90_000;

describe('Redis data flushed mid-load (sqlite)', () => {
  let bed: FaultBed;
  let apiUrl: string;

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'sqlite' });
    ({ url: apiUrl } = await bed.api());
  }, 60_000);

  afterAll(async () => {
    await bed?.close();
  });

  it('restores every accepted filing from the database (reconciler) and decides it', async () => {
    // One slow worker (人口库 hangs: each filing takes its 2 s timeout), so that most filings are still waiting in
    // Redis when it is wiped.
    const worker = bed.worker(1);
    await worker.ready;
    bed.sources.setMode('population', 'hang');
    const filings = approvableFilings(FILINGS);
    const tokens = await tokensFor(bed, filings);
    const offered = await offerLoad(apiUrl, tokens, filings, 50);
    expect(offered.accepted).toHaveLength(FILINGS);

    // The outbox relay has marked every row enqueued (after its 2 s grace): from the flush on, only the reconciler
    // can bring a filing back.
    await eventually('the outbox relay to drain the outbox', async () => ((await countRows(bed, 'outbox', { enqueued_at: null })) === 0 ? true : undefined), 30_000);
    const admin = new Redis(`redis://127.0.0.1:${bed.redisPort}`, { maxRetriesPerRequest: 1 });
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
    const flushedAt = Date.now();
    bed.sources.setMode('population', 'ok');
    const atFlush = await bed.statuses(offered.accepted);
    const wiped = [...atFlush.values()].filter((s) => s === 'queued' || s === 'processing').length;
    expect(wiped, 'the flush came mid-load').toBeGreaterThan(10);
    // Nothing in Redis any more: only the reconciler can bring these back.
    expect(await bed.queue.getJobCounts('waiting', 'delayed', 'prioritized')).toEqual({ waiting: 0, delayed: 0, prioritized: 0 });

    const statuses = await waitAllDecided(bed, offered.accepted, RESTORE_TIMEOUT_MS);
    const restoredMs = Date.now() - flushedAt;
    const counts = tally(statuses);
    expect((counts['approved'] ?? 0) + (counts['manual_review'] ?? 0), JSON.stringify(counts)).toBe(FILINGS);
    const dupes = await certificateDuplicates(bed);
    expect(dupes).toEqual({ total: counts['approved'] ?? 0, duplicateApplications: 0, duplicateNumbers: 0 });
    const reconciled = worker.messages.get('reconciler re-enqueued unfinished applications') ?? 0;
    expect(reconciled).toBeGreaterThan(0);

    console.log(
      `FAULT redis-flush: ${FILINGS} filings, ${wiped} wiped from Redis by FLUSHALL, ` +
        `${FILINGS - (counts['approved'] ?? 0) - (counts['manual_review'] ?? 0)} lost — restored by the reconciler ` +
        `(${reconciled} passes) and decided ${(restoredMs / 1000).toFixed(1)} s after the flush, ${JSON.stringify(counts)}, ` +
        `${dupes.duplicateApplications} duplicate certificates`,
    );
    await worker.stop('SIGTERM');
  }, RESTORE_TIMEOUT_MS + 90_000);
});
