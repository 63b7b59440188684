/**
 * Poison jobs fail alone: a filing whose matter left the catalog, a job for an application that does not exist,
 * a job whose payload is not an application id, and a stored filing far beyond intake's limits (it ties a worker
 * up for seconds per attempt) — while ordinary filings keep being decided by two worker processes.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_NAME } from '../../src/queue/application-queue.js';
import { HAPPY_USCC } from '../support/stack.js';
import {
  approvableFilings,
  eventually,
  offerLoad,
  postFiling,
  startFaultBed,
  tally,
  tokensFor,
  waitAllDecided,
  type FaultBed,
  type ServiceProcess,
} from '../support/processes.js';

const ORDINARY = 30;

describe('poison jobs (postgres)', () => {
  let bed: FaultBed;
  let apiUrl: string;
  let workers: ServiceProcess[];

  /** Writes an application as the API would (row + outbox in one transaction), bypassing intake's checks. */
  async function storedDirectly(matter: string, form: Record<string, unknown>, regionOffset: number): Promise<string> {
    const body = approvableFilings(1, regionOffset)[0]!.body as { answers: Record<string, unknown>; consent: { dataSharing: boolean; sealAuthorization: boolean } };
    const id = randomUUID();
    await bed.store.applications.create({
      id,
      matter,
      matterVersion: 'poison',
      applicant: HAPPY_USCC,
      answers: body.answers,
      form,
      consent: body.consent,
      bodyHash: 'poison',
      idempotencyKey: null,
      createdAt: new Date().toISOString(),
    });
    return id;
  }

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'postgres' });
    ({ url: apiUrl } = await bed.api());
  }, 60_000);

  afterAll(async () => {
    await bed?.close();
  });

  it('fails each poison job on its own while every ordinary filing is decided', async () => {
    const validForm = (approvableFilings(1, 0)[0]!.body as { form: Record<string, unknown> }).form;
    // 1. Its matter was withdrawn from the catalog after the filing was accepted: PermanentFailure, no retry.
    const withdrawn = await storedDirectly('withdrawn-matter', validForm, 5);
    // 2. A stored form ~60× over intake's limits (address maxLength 200): each attempt blocks a worker for seconds.
    const monstrous = await storedDirectly(
      'grain-purchase-filing',
      { ...validForm, storageFacilities: [{ address: '仓'.repeat(200_000), capacityTonnes: 1, ownership: '租赁', leaseEndsOn: '2099-12-31' }] },
      10,
    );
    // 3. A job for an application that does not exist, 4. a job whose payload is not an application id at all.
    const ghost = randomUUID();
    await bed.queue.add(JOB_NAME, { applicationId: ghost }, { jobId: ghost, attempts: 8, backoff: { type: 'exponential', delay: 500 } });
    const malformedJob = `malformed-${randomUUID()}`;
    await bed.queue.add(JOB_NAME, { applicationId: { $ne: null }, extra: 'x'.repeat(10_000) }, { jobId: malformedJob, attempts: 3, backoff: { type: 'fixed', delay: 200 } });

    workers = [bed.worker(2), bed.worker(2)];
    await Promise.all(workers.map((w) => w.ready));
    const filings = approvableFilings(ORDINARY, 20);
    const offered = await offerLoad(apiUrl, await tokensFor(bed, filings), filings, 20);
    expect(offered.accepted).toHaveLength(ORDINARY);
    const started = Date.now();
    const statuses = await waitAllDecided(bed, offered.accepted, 90_000);
    const decidedIn = Date.now() - started;
    const counts = tally(statuses);
    expect((counts['approved'] ?? 0) + (counts['manual_review'] ?? 0), JSON.stringify(counts)).toBe(ORDINARY);

    const w = await eventually('the withdrawn matter to fail', async () => {
      const row = await bed.store.applications.get(withdrawn);
      return row?.status === 'failed' ? row : undefined;
    }, 20_000);
    expect(w.attempts).toBe(1);
    expect(w.lastError).toMatch(/withdrawn-matter/);
    expect((await bed.queue.getJob(withdrawn))?.attemptsMade).toBe(1);

    // The ghost job finds nothing to do and completes; no row appears.
    await eventually('the ghost job to complete', async () => {
      const job = await bed.queue.getJob(ghost);
      return job === undefined || (await job.getState()) === 'completed' ? true : undefined;
    }, 20_000);
    expect(await bed.store.applications.get(ghost)).toBeNull();

    // Not an id: it matches no row (no operator injection into the query) or fails; either way it ends.
    const malformed = await eventually('the malformed job to end', async () => {
      const job = await bed.queue.getJob(malformedJob);
      const state = job ? await job.getState() : 'missing';
      return job && (state === 'failed' || state === 'completed') ? { state, attempts: job.attemptsMade, reason: job.failedReason } : undefined;
    }, 30_000);
    expect(await bed.allApplicationIds().then((ids) => ids.length)).toBe(ORDINARY + 2);

    // The monstrous filing is never approved automatically: it goes to a person (its certificate cannot be laid
    // out), or keeps failing (retried with backoff), or has failed.
    const m = (await bed.store.applications.get(monstrous))!;
    expect(['queued', 'processing', 'failed', 'manual_review']).toContain(m.status);
    if (m.status === 'manual_review') expect(m.decision?.outcome).toBe('MANUAL');
    else expect(m.decision).toBeNull();
    expect(await bed.certificateCounts().then((c) => c.perApplication.get(monstrous) ?? 0)).toBe(0);
    expect(workers.every((x) => x.running)).toBe(true);

    console.log(
      `FAULT poison: 4 poison jobs, ${workers.filter((x) => x.running).length} of ${workers.length} workers still running ` +
        `(withdrawn matter → ${w.status} after ${w.attempts} attempt(s); missing application → ${(await bed.store.applications.get(ghost)) === null ? 'no row' : 'a row'}; ` +
        `malformed payload → ${malformed.state} after ${malformed.attempts} attempt(s)${malformed.reason ? ` "${malformed.reason.slice(0, 60)}"` : ''}; ` +
        `200,000-char stored form → ${m.status}, ${m.attempts} attempts, "${String(m.lastError).slice(0, 60)}"), ` +
        `${(counts['approved'] ?? 0) + (counts['manual_review'] ?? 0)} of ${ORDINARY} ordinary filings decided in ${(decidedIn / 1000).toFixed(1)} s ${JSON.stringify(counts)}`,
    );
  }, 200_000);

  it('decides a filing that intake accepted even when its certificate has a lot to print (10 facilities × 100 characters)', async () => {
    const filing = approvableFilings(1, 400)[0]!;
    const body = filing.body as { form: { storageFacilities: Array<Record<string, unknown>> } };
    const facility = body.form.storageFacilities[0]!;
    body.form.storageFacilities = Array.from({ length: 10 }, (_, i) => ({ ...facility, address: `沈阳市于洪区${i}号`.padEnd(100, '库') }));
    const res = await postFiling(apiUrl, await bed.token(filing.uscc), body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = res.body['id'] as string;
    // A decision (approved, or manual review if it cannot be printed) within seconds — not 8 retries and `failed`.
    const row = await eventually('the filing to be decided or failed', async () => {
      const r = await bed.store.applications.get(id);
      return r && (['approved', 'rejected', 'manual_review', 'failed'].includes(r.status) || (r.lastError !== null && r.attempts >= 2)) ? r : undefined;
    }, 30_000);
    console.log(`FAULT unprintable-certificate: status ${row.status} after ${row.attempts} attempts, last error ${JSON.stringify(row.lastError)}`);
    expect(row.status, `last error: ${row.lastError}`).toMatch(/^(approved|manual_review)$/);
  }, 60_000);
});
