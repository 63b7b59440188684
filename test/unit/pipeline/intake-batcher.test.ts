/**
 * The group-commit coordinator (issue 13) on its own: a lone filing is committed at once; filings arriving while
 * a commit runs go together into the next one, at most `maxBatch`; a failed batch is retried filing by filing so
 * the fault is answered only to its filing; a filing is answered only after its own commit and the enqueue try;
 * a failing enqueue does not fail the filing. The store here is an in-memory recorder: the real transactions are
 * tested in test/integration/store/intake-batch.test.ts and through HTTP in test/integration/api/intake-batching.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { IntakeBatcher } from '../../../src/pipeline/intake-batcher.js';
import type { CreateResult, NewApplication } from '../../../src/store/types.js';

const app = (id: string): NewApplication => ({
  id,
  matter: 'm',
  matterVersion: 'v',
  applicant: 'a',
  answers: {},
  form: {},
  consent: { dataSharing: true, sealAuthorization: true },
  bodyHash: 'h',
  idempotencyKey: null,
  createdAt: '2026-12-06T00:00:00.000Z',
});

function recorder(opts: { failMany?: boolean; badId?: string; enqueueFails?: boolean; maxBatch?: number } = {}) {
  const transactions: string[][] = [];
  const enqueued: string[][] = [];
  const events: string[] = [];
  const ok = (a: NewApplication): CreateResult => ({ created: true, applicationId: a.id, number: null });
  const batcher = new IntakeBatcher({
    maxBatch: opts.maxBatch ?? 64,
    async createMany(apps) {
      await new Promise((r) => setTimeout(r, 5));
      if (apps.length === 1) {
        // A filing alone (first of a quiet moment, or retried on its own after its batch failed).
        const a = apps[0]!;
        if (a.id === opts.badId) throw new Error(`bad ${a.id}`);
        transactions.push([a.id]);
        events.push(`commit ${a.id}`);
        return [ok(a)];
      }
      if (opts.failMany || apps.some((a) => a.id === opts.badId)) throw new Error('batch failed');
      transactions.push(apps.map((a) => a.id));
      events.push(`commit ${apps.map((a) => a.id).join(',')}`);
      return apps.map(ok);
    },
    async afterCommit(ids) {
      enqueued.push(ids);
      if (opts.enqueueFails) throw new Error('redis away');
    },
  });
  return { batcher, transactions, enqueued, events };
}

describe('IntakeBatcher', () => {
  it('commits a lone filing at once and the ones arriving meanwhile together in the next transaction', async () => {
    const { batcher, transactions, enqueued } = recorder();
    const first = batcher.submit(app('f1'));
    const rest = Array.from({ length: 10 }, (_, i) => batcher.submit(app(`r${i}`)));
    const results = await Promise.all([first, ...rest]);
    expect(results.map((r) => r.applicationId)).toEqual(['f1', ...Array.from({ length: 10 }, (_, i) => `r${i}`)]);
    expect(transactions).toEqual([['f1'], Array.from({ length: 10 }, (_, i) => `r${i}`)]);
    expect(enqueued).toEqual(transactions);
    expect(batcher.committed).toBe(11);
    expect(batcher.commits).toBe(2);
  });

  it('puts at most maxBatch filings into one transaction', async () => {
    const { batcher, transactions } = recorder({ maxBatch: 4 });
    await Promise.all(Array.from({ length: 11 }, (_, i) => batcher.submit(app(`x${i}`))));
    // The first finds nothing running and goes alone; the other ten wait and go four at most at a time.
    expect(transactions.map((t) => t.length)).toEqual([1, 4, 4, 2]);
  });

  it('answers a failing filing alone: the batch is retried filing by filing', async () => {
    const { batcher, transactions } = recorder({ badId: 'b2' });
    const first = batcher.submit(app('b0'));
    const others = ['b1', 'b2', 'b3'].map((id) => batcher.submit(app(id)));
    const settled = await Promise.allSettled([first, ...others]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toContain('bad b2');
    expect(transactions.flat().sort()).toEqual(['b0', 'b1', 'b3']);
    expect(transactions.every((t) => t.length === 1)).toBe(true);
  });

  it('answers only after its own commit, and a failed enqueue does not fail the filing', async () => {
    const { batcher, events } = recorder({ enqueueFails: true });
    const answered: string[] = [];
    await Promise.all(['a', 'b', 'c'].map((id) => batcher.submit(app(id)).then((r) => { answered.push(r.applicationId); events.push(`answer ${r.applicationId}`); })));
    expect(answered.sort()).toEqual(['a', 'b', 'c']);
    for (const id of ['a', 'b', 'c']) {
      const commit = events.findIndex((e) => e.startsWith('commit ') && e.slice(7).split(',').includes(id));
      expect(commit).toBeGreaterThanOrEqual(0);
      expect(events.indexOf(`answer ${id}`)).toBeGreaterThan(commit);
    }
  });

  it('refuses a batch size below 1', () => {
    expect(() => new IntakeBatcher({ maxBatch: 0, createMany: async () => [], afterCommit: async () => undefined })).toThrow(RangeError);
  });
});
