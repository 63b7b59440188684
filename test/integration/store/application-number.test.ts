/**
 * 申请编号 (issue 18): 沈 + Beijing day + the day's counter, claimed in the intake transaction. Concurrent filings
 * get distinct consecutive numbers; the day turns at 00:00 Beijing time (16:00 UTC), not at UTC midnight; an
 * idempotent replay takes no number. Run against SQLite and PostgreSQL (real databases, no mocks).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { beijingDayKey, formatApplicationNumber, applicationNumberPrefix } from '../../../src/domain/application-number.js';
import { testBackends } from '../../support/databases.js';
import { newApplication } from '../../support/new-application.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const filing = newApplication;

describe('application number helpers', () => {
  it('uses the Beijing calendar day, 5-digit counter and the city abbreviation', () => {
    expect(beijingDayKey('2026-12-03T15:59:59.999Z')).toBe('20261203');
    expect(beijingDayKey('2026-12-03T16:00:00.000Z')).toBe('20261204');
    expect(formatApplicationNumber('沈', '20261204', 17)).toBe('沈2026120400017');
    expect(formatApplicationNumber('沈', '20261204', 123456)).toBe('沈20261204123456');
    expect(applicationNumberPrefix('210100')).toBe('沈');
    expect(applicationNumberPrefix('210400')).toBe('抚');
    expect(() => formatApplicationNumber('沈', '20261204', 0)).toThrow(RangeError);
  });
});

describe.each(backends)('application numbers on $name', (backend) => {
  it('gives concurrent filings distinct consecutive numbers of their Beijing day', { timeout: 60_000 }, async () => {
    // PostgreSQL: two stores (two pools) on one database, so the filings race for real. SQLite: one store (its one
    // connection serialises the transactions; a second in-process connection would block the event loop on the lock).
    const db = backend.database();
    const one = await db.open();
    const two = backend.name === 'postgres' ? await db.open() : one;
    try {
      const at = '2026-12-04T01:00:00.000Z';
      const stores = [one, two];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.applications.create(filing(at))));
      const numbers = results.map((r) => (r.created ? r.number : null));
      for (const n of numbers) expect(n).toMatch(/^沈20261204\d{5}$/);
      const seqs = numbers.map((n) => Number(n!.slice(-5))).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      // The number is read back with the filing, from the other store too.
      const first = results[0]!;
      expect(first.created).toBe(true);
      expect((await two.applications.get(first.applicationId))?.number).toBe(first.created ? first.number : 'missing');
    } finally {
      await db.drop();
    }
  });

  it('starts a new counter at 00:00 Beijing time, and a replayed idempotency key takes no number', { timeout: 60_000 }, async () => {
    const store = await backend.open();
    try {
      const late = await store.applications.create(filing('2026-12-04T15:59:00.000Z'));
      const early = await store.applications.create(filing('2026-12-04T16:01:00.000Z'));
      expect(late.created && late.number).toBe('沈2026120400001');
      expect(early.created && early.number).toBe('沈2026120500001');
      const keyed = filing('2026-12-04T16:02:00.000Z', { idempotencyKey: 'k-1', numberPrefix: '抚' });
      const a = await store.applications.create(keyed);
      const b = await store.applications.create({ ...keyed, id: `${keyed.id}-again` });
      expect(a.created && a.number).toBe('抚2026120500002');
      expect(b.created).toBe(false);
      const next = await store.applications.create(filing('2026-12-04T16:03:00.000Z'));
      expect(next.created && next.number).toBe('沈2026120500003');
    } finally {
      await store.close();
    }
  });
});
