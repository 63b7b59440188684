/**
 * Group commit at intake (issue 13): `applications.createMany` writes a batch of filings in one transaction with
 * the same meaning as committing them one after the other — consecutive 申请编号 across a Beijing midnight, an
 * Idempotency-Key used twice in one batch answered as a replay of the first, a key already in the database
 * answered with its stored filing, a consent superseded by a later one of the same subject and matter (inside
 * the batch and before it), outbox and delivery rows per filing; and all or nothing when one row fails.
 * SQLite and PostgreSQL, real databases.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NewApplication, NewConsent } from '../../../src/store/types.js';
import { testBackends } from '../../support/databases.js';
import { newApplication } from '../../support/new-application.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

let counter = 0;
/** Distinct applicant, body and stored answer per filing (the batch tells them apart). */
function filing(createdAt: string, over: Partial<NewApplication> = {}): NewApplication {
  counter += 1;
  const id = `batch-${process.pid}-${counter}`;
  return newApplication(createdAt, {
    id,
    applicant: `91210100MA0Q${String(counter).padStart(4, '0')}6L`,
    answers: { filingType: '首次' },
    form: { contactPhone: '13800000000' },
    bodyHash: `${counter}`.padStart(64, 'b'),
    response: { status: 202, body: { id, status: 'queued' } },
    ...over,
  });
}

function grant(subject: string, at: string, id: string): NewConsent {
  return { id, subject, matter: 'grain-purchase-filing', purpose: '粮食收购企业备案', sources: ['market-supervision'], grantedAt: at, expiresAt: '2027-12-04T00:00:00.000Z' };
}

describe.each(backends)('intake batches on $name', (backend) => {
  it('writes a batch as if its filings had been committed one after the other', { timeout: 60_000 }, async () => {
    const store = await backend.open();
    try {
      const subject = '91210100MA0QBATCH01';
      const run = `${process.pid}-${Date.now().toString(36)}`;
      // Before the batch: a filing with a key, and a consent in force for the subject.
      const earlier = filing('2026-12-04T15:58:00.000Z', { applicant: subject, idempotencyKey: 'k-old', dataConsent: { grant: grant(subject, '2026-12-04T15:58:00.000Z', `c-old-${run}`) } });
      const e = await store.applications.create(earlier);
      expect(e.created && e.number).toBe('沈2026120400001');

      const a = filing('2026-12-04T15:59:00.000Z', { applicant: subject, idempotencyKey: 'k-1', dataConsent: { grant: grant(subject, '2026-12-04T15:59:00.000Z', `c-a-${run}`) } });
      const replayOfA = filing('2026-12-04T15:59:01.000Z', { applicant: subject, idempotencyKey: 'k-1', bodyHash: a.bodyHash });
      const replayOfEarlier = filing('2026-12-04T15:59:02.000Z', { applicant: subject, idempotencyKey: 'k-old', bodyHash: 'x'.repeat(64) });
      const b = filing('2026-12-04T16:00:30.000Z', { applicant: subject, dataConsent: { grant: grant(subject, '2026-12-04T16:00:30.000Z', `c-b-${run}`) }, delivery: { method: 'express', address: '沈阳市和平区南京南街1号' } });
      const c = filing('2026-12-04T16:00:31.000Z', { dataConsent: { reuse: `c-old-${run}` } });
      const results = await store.applications.createMany([a, replayOfA, replayOfEarlier, b, c]);

      expect(results.map((r) => r.created)).toEqual([true, false, false, true, true]);
      expect(results[0]).toMatchObject({ applicationId: a.id, number: '沈2026120400002' });
      // The same key twice in one batch: the second is the first's replay, with its stored answer.
      expect(results[1]).toMatchObject({ applicationId: a.id, bodyHash: a.bodyHash, response: a.response });
      // A key already in the database: its filing (the body differs: the route answers IDEMPOTENCY_KEY_REUSED).
      expect(results[2]).toMatchObject({ applicationId: earlier.id, bodyHash: earlier.bodyHash });
      // Numbers per Beijing day, consecutive in arrival order: 16:00 UTC is 00:00 in Beijing.
      expect(results[3]).toMatchObject({ applicationId: b.id, number: '沈2026120500001' });
      expect(results[4]).toMatchObject({ applicationId: c.id, number: '沈2026120500002' });

      for (const app of [a, b, c]) {
        const row = await store.applications.get(app.id);
        expect(row?.status).toBe('queued');
        expect(row?.form).toEqual(app.form);
      }
      expect(await store.applications.get(replayOfA.id)).toBeNull();
      expect(await store.applications.get(replayOfEarlier.id)).toBeNull();
      const outbox = (await store.outbox.pending(100)).map((o) => o.applicationId);
      expect(outbox).toEqual(expect.arrayContaining([earlier.id, a.id, b.id, c.id]));
      expect(outbox).not.toContain(replayOfA.id);

      // Consents: the old one ended when a's was given; a's ended when b's (same subject and matter, same batch) was.
      const consents = await store.consents.list(subject);
      const byId = new Map(consents.map((x) => [x.id, x]));
      expect(byId.get(`c-old-${run}`)).toMatchObject({ endedAt: a.createdAt, endedReason: 'superseded' });
      expect(byId.get(`c-a-${run}`)).toMatchObject({ endedAt: b.createdAt, endedReason: 'superseded', applicationId: a.id });
      expect(byId.get(`c-b-${run}`)).toMatchObject({ endedAt: null, endedReason: null, applicationId: b.id });
      expect((await store.consents.active(subject, 'grain-purchase-filing', '2026-12-05T00:00:00.000Z'))?.id).toBe(`c-b-${run}`);

      const delivery = await store.deliveries.get(b.id);
      expect(delivery).toMatchObject({ method: 'express', status: 'pending', address: '沈阳市和平区南京南街1号' });
      expect(await store.deliveries.get(a.id)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('claims a batch\'s keys together: takes over an expired key, answers a live one, claims 250 new ones', { timeout: 60_000 }, async () => {
    const store = await backend.open();
    try {
      const subject = `91210100MA0QKEYS${String(process.pid % 100).padStart(2, '0')}`;
      const expired = filing('2026-12-07T01:00:00.000Z', { applicant: subject, idempotencyKey: 'k-expired', idempotencyExpiresAt: '2026-12-07T02:00:00.000Z' });
      const live = filing('2026-12-07T01:00:00.000Z', { applicant: subject, idempotencyKey: 'k-live', idempotencyExpiresAt: '2026-12-09T02:00:00.000Z' });
      for (const app of [expired, live]) expect((await store.applications.create(app)).created).toBe(true);

      const at = '2026-12-07T03:00:00.000Z';
      const takeOver = filing(at, { applicant: subject, idempotencyKey: 'k-expired', idempotencyExpiresAt: '2026-12-08T03:00:00.000Z' });
      const replayOfLive = filing(at, { applicant: subject, idempotencyKey: 'k-live', bodyHash: live.bodyHash });
      // More keys than one multi-row statement takes (200), so the claim runs in two statements.
      const many = Array.from({ length: 250 }, (_, i) => filing(at, { idempotencyKey: `k-many-${i}` }));
      const results = await store.applications.createMany([...many.slice(0, 100), takeOver, replayOfLive, ...many.slice(100)]);

      expect(results.filter((r) => r.created)).toHaveLength(251);
      expect(results[100]).toMatchObject({ created: true, applicationId: takeOver.id });
      expect(results[101]).toMatchObject({ created: false, applicationId: live.id, bodyHash: live.bodyHash, response: live.response });
      many.forEach((m, i) => expect(results[i < 100 ? i : i + 2]).toMatchObject({ created: true, applicationId: m.id }));

      // The keys now answer with the filings that claimed them.
      const again = await store.applications.createMany([
        filing(at, { applicant: subject, idempotencyKey: 'k-expired' }),
        filing(at, { applicant: many[0]!.applicant, idempotencyKey: 'k-many-0' }),
        filing(at, { applicant: many[249]!.applicant, idempotencyKey: 'k-many-249' }),
      ]);
      expect(again.map((r) => [r.created, r.applicationId])).toEqual([
        [false, takeOver.id],
        [false, many[0]!.id],
        [false, many[249]!.id],
      ]);
    } finally {
      await store.close();
    }
  });

  it('writes nothing of a batch when one of its rows fails, and takes no number', { timeout: 60_000 }, async () => {
    const store = await backend.open();
    try {
      const at = '2026-12-06T02:00:00.000Z';
      const first = await store.applications.create(filing(at));
      expect(first.created && first.number).toBe('沈2026120600001');
      const ok = filing(at, { idempotencyKey: 'k-rollback' });
      const clash = filing(at, { id: first.applicationId }); // the same id again: the applications insert fails
      await expect(store.applications.createMany([ok, clash])).rejects.toThrow();
      expect(await store.applications.get(ok.id)).toBeNull();
      // Neither the key nor a number stayed behind: the key files anew and the day's counter goes on from 1.
      const again = await store.applications.create({ ...ok, id: `${ok.id}-again` });
      expect(again).toMatchObject({ created: true, number: '沈2026120600002' });
    } finally {
      await store.close();
    }
  });
});
