/**
 * The database is the system of record (DESIGN.md §2): whatever happens between the commit and the worker —
 * a crash before enqueue, Redis losing its data, a job running twice, a worker shutting down mid-batch, a data
 * source that hangs or fails — every accepted filing reaches a decision, at most one certificate is issued, and
 * missing knowledge routes to manual review, never to rejection.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processApplication } from '../../../src/pipeline/process-application.js';
import { startRelay } from '../../../src/queue/outbox-relay.js';
import { countRows } from '../../support/db-counts.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

/** rules/data-sources.yaml: timeoutMs of `population`. */
const POPULATION_TIMEOUT_MS = 2000;
/** Slack for the rest of the pipeline (other reads, sealed form, rules) on a busy CI machine. */
const PIPELINE_MARGIN_MS = 4000;
/** The stacks' relay: fast relay, and a reconciler that treats 1 s without progress as lost. */
const RELAY = { relayIntervalMs: 100, reconcileIntervalMs: 250, staleAfterMs: 1000, relayGraceMs: 0 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe.each(['sqlite', 'postgres'] as const)('queue durability (%s)', (backend) => {
  let stack: Stack;
  let applicant: string;
  // One active filing per (USCC, region): a fresh Shenyang region per filing keeps every filing approvable.
  let regionCounter = 10;
  const freshRegion = () => `2101${String(regionCounter++).padStart(2, '0')}`;
  const approvableFiling = (form: Record<string, unknown> = {}) => grainFiling({ form: { purchaseRegionCode: freshRegion(), ...form } });

  async function submitted(body: unknown): Promise<string> {
    const res = await submit(stack, applicant, body);
    expect(res.statusCode, res.body).toBe(202);
    return res.json<{ id: string }>().id;
  }

  /** Writes a filing the way the API does (application + outbox row in one transaction) but never enqueues it. */
  async function committedNotEnqueued(body: ReturnType<typeof grainFiling>): Promise<string> {
    const matter = stack.deps.catalog.get(body.matter)!;
    const id = randomUUID();
    const res = await stack.deps.store.applications.create({
      id,
      matter: matter.def.code,
      matterVersion: matter.version,
      applicant: HAPPY_USCC,
      answers: body.answers,
      form: body.form,
      consent: body.consent,
      bodyHash: createHash('sha256').update(JSON.stringify(body)).digest('hex'),
      idempotencyKey: null,
      createdAt: new Date().toISOString(),
    });
    expect(res).toEqual({ created: true, applicationId: id, number: expect.stringMatching(/^沈\d{13}$/) });
    return id;
  }

  const jobCounts = () => stack.deps.queue.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'failed', 'completed');

  beforeAll(async () => {
    stack = await startStack({ backend, relay: RELAY });
    applicant = await stack.token(HAPPY_USCC);
  });

  afterEach(() => {
    // A test that stopped the worker and failed before restarting it must not starve the next one.
    if (stack.worker === null) stack.startWorker();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('approves a filing that was committed but never enqueued (crash between commit and enqueue): the outbox relay picks it up', async () => {
    const id = await committedNotEnqueued(approvableFiling());
    const decided = await waitForDecision(stack, id, applicant, 15_000);
    expect(decided.status).toBe('approved');
    expect(decided.certificate?.number).toMatch(/^沈粮收备〔\d{4}〕\d{6}号$/);
    expect(await countRows(stack, 'outbox', { application_id: id, enqueued_at: null })).toBe(0);
  });

  it('restores every accepted filing after Redis lost all its data, once the worker is back (reconciler)', async () => {
    await stack.stopWorker();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await submitted(approvableFiling()));
    // The outbox says "enqueued": from here on only the reconciler can bring the filings back.
    const relay = startRelay({ store: stack.deps.store, queue: stack.deps.queue, clock: () => new Date(), log: stack.deps.logger, relayGraceMs: 0 }, false);
    await relay.relayOnce();
    await relay.stop();
    expect(await stack.deps.store.outbox.pending(100)).toEqual([]);
    // Each filing waits exactly once: a count of at least ids.length would not see a duplicate job or one lost
    // beside a stray job of another filing.
    const waitingIds = (await stack.deps.queue.queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'])).map((j) => j.data.applicationId);
    expect([...waitingIds].sort()).toEqual([...ids].sort());

    await stack.deps.redis.flushall();
    expect(Object.values(await jobCounts()).reduce((a, b) => a + b, 0)).toBe(0);

    stack.startWorker();
    const decisions = await Promise.all(ids.map((id) => waitForDecision(stack, id, applicant, 20_000)));
    expect(decisions.map((d) => d.status)).toEqual(ids.map(() => 'approved'));
    for (const id of ids) expect(await countRows(stack, 'certificates', { application_id: id })).toBe(1);
  });

  it('audits the reads of a job that fails after reading (no decision recorded), and again those of its retry', async () => {
    await stack.stopWorker();
    const id = await committedNotEnqueued(approvableFiling());
    // The department's key is away when the certificate is signed: the job fails after every source was read.
    const failing = { ...stack.deps, departmentSigner: () => { throw new Error('HSM session lost'); } };
    await expect(processApplication(failing, id)).rejects.toThrow('HSM session lost');
    const reads = await countRows(stack, 'data_access_log', { application_id: id });
    expect(reads).toBeGreaterThanOrEqual(4);
    expect(await countRows(stack, 'certificates', { application_id: id })).toBe(0);
    expect((await stack.deps.store.applications.get(id))?.status).toBe('processing');
    stack.startWorker();
    expect((await waitForDecision(stack, id, applicant, 15_000)).status).toBe('approved');
    expect(await countRows(stack, 'data_access_log', { application_id: id })).toBe(2 * reads);
  });

  it('issues exactly one certificate when the same job runs twice at once, again after completion, and is enqueued again', async () => {
    const id = await committedNotEnqueued(approvableFiling());
    // Two concurrent runs (and, within ~100 ms, the relay's job on the worker as well).
    const [a, b] = await Promise.all([processApplication(stack.deps, id), processApplication(stack.deps, id)]);
    expect(a).toMatchObject({ done: true, status: 'approved' });
    expect(b).toMatchObject({ done: true, status: 'approved' });
    const cert = await stack.deps.store.certificates.byApplication(id);
    expect(cert).not.toBeNull();
    expect([a.done && a.certificateId, b.done && b.certificateId]).toEqual([cert!.id, cert!.id]);

    // A run after completion changes nothing.
    expect(await processApplication(stack.deps, id)).toEqual({ done: false, reason: 'missing-or-finished' });
    // Nor does the job delivered once more.
    await stack.deps.queue.enqueue([id]);
    await eventually('the re-enqueued job to leave the queue', async () => ((await stack.deps.queue.queue.getJob(id)) ? undefined : true));

    expect(await countRows(stack, 'certificates', { application_id: id })).toBe(1);
    const view = await waitForDecision(stack, id, applicant);
    expect(view.status).toBe('approved');
    expect(view.certificate?.id).toBe(cert!.id);
    expect(await countRows(stack, 'documents', { application_id: id })).toBe(1);
  });

  it('shuts the worker down gracefully mid-batch: no job is left active, and after a restart every filing is decided', async () => {
    // The whole batch is waiting when the worker starts, so that stopping it soon after is really mid-batch.
    await stack.stopWorker();
    const ids = await Promise.all(Array.from({ length: 20 }, () => submitted(approvableFiling())));
    const statusesOf = () => Promise.all(ids.map(async (id) => (await stack.deps.store.applications.get(id))!.status));
    stack.startWorker();
    await eventually('the batch to start processing', async () => ((await statusesOf()).some((s) => s !== 'queued') ? true : undefined));
    await stack.stopWorker();

    const counts = await jobCounts();
    expect(counts.active).toBe(0);
    expect(counts.failed).toBe(0);
    // Active jobs finished before close() returned: no filing is left half-processed.
    expect(await countRows(stack, 'applications', { status: 'processing' })).toBe(0);
    expect((await statusesOf()).filter((s) => s === 'queued').length, 'the shutdown came mid-batch').toBeGreaterThan(0);

    stack.startWorker();
    const decisions = await Promise.all(ids.map((id) => waitForDecision(stack, id, applicant, 30_000)));
    expect(decisions.map((d) => d.status)).toEqual(ids.map(() => 'approved'));
  }, 60_000);

  describe('a data source that does not answer', () => {
    async function decidedWithPopulation(mode: 'hang' | '503', person: { name: string; idNumber: string }) {
      stack.sources!.setMode('population', mode);
      try {
        const started = Date.now();
        const id = await submitted(approvableFiling({ responsiblePerson: person }));
        const view = await waitForDecision(stack, id, applicant, POPULATION_TIMEOUT_MS + PIPELINE_MARGIN_MS + 5000);
        const elapsed = Date.now() - started;
        const row = await stack.deps.store.applications.get(id);
        return { id, view, elapsed, row: row! };
      } finally {
        stack.sources!.setMode('population', 'ok');
      }
    }

    function expectManualForPopulation(view: Awaited<ReturnType<typeof waitForDecision>>) {
      expect(view.status).toBe('manual_review');
      expect(view.decision?.outcome).toBe('MANUAL');
      expect(view.decision?.reasons).toEqual([expect.objectContaining({ rule: 'responsible-person-verified', result: 'UNKNOWN' })]);
      expect(view.certificate).toBeUndefined();
    }

    it('routes a filing to manual review (not rejection) when 人口库 hangs, within its timeout plus a margin', async () => {
      const { id, view, elapsed, row } = await decidedWithPopulation('hang', { name: '王芳', idNumber: '21011219850615002X' });
      expectManualForPopulation(view);
      expect(elapsed).toBeGreaterThanOrEqual(POPULATION_TIMEOUT_MS - 100);
      expect(elapsed).toBeLessThan(POPULATION_TIMEOUT_MS + PIPELINE_MARGIN_MS);
      expect(row.receipt?.sources.find((s) => s.source === 'population')?.status).toBe('unknown');
      expect(await countRows(stack, 'certificates', { application_id: id })).toBe(0);
    });

    it('routes a filing to manual review (not rejection) when 人口库 answers 503, without waiting for the timeout', async () => {
      const { id, view, elapsed, row } = await decidedWithPopulation('503', { name: '赵敏', idNumber: '210103200002290049' });
      expectManualForPopulation(view);
      expect(elapsed).toBeLessThan(POPULATION_TIMEOUT_MS + PIPELINE_MARGIN_MS);
      expect(row.receipt?.sources.find((s) => s.source === 'population')?.status).toBe('unknown');
      expect(await countRows(stack, 'certificates', { application_id: id })).toBe(0);
    });

    it('approves the same kind of filing once 人口库 answers again', async () => {
      const id = await submitted(approvableFiling({ responsiblePerson: { name: '王芳', idNumber: '21011219850615002X' } }));
      expect((await waitForDecision(stack, id, applicant)).status).toBe('approved');
    });
  });
});
