/**
 * The issued-certificate feed on a real database (both engines): every certificate issued within its window is
 * emitted once, however many there are; a row that lands behind the feed's cursor is still emitted (within `lateMs`
 * on the next poll, later ones at the next sweep); a poll with nothing new reads only the rows near its cursor, not
 * the window.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NewCertificate, Store } from '../../../src/store/types.js';
import { startIssuedFeed, type IssuedFeed } from '../../../src/webhooks/issued-feed.js';
import { testBackends } from '../../support/databases.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const NOW = Date.parse('2026-12-06T08:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
let counter = 0;

/** Files an application and records its certificate issued at `issuedAt` (ms). */
async function issue(store: Store, issuedAt: number): Promise<string> {
  counter++;
  const { applicationId } = await store.applications.create({
    id: `feed-app-${process.pid}-${counter}`,
    matter: 'grain-purchase-filing',
    matterVersion: 'sha256:feed',
    applicant: '91110000MA01234567',
    answers: {},
    form: {},
    consent: { dataSharing: true, sealAuthorization: true },
    bodyHash: 'f'.repeat(64),
    idempotencyKey: null,
    createdAt: iso(issuedAt),
  });
  const cert: NewCertificate = {
    id: `feed-cert-${process.pid}-${counter}`,
    applicationId,
    matter: 'grain-purchase-filing',
    number: `粮备〔2026〕F${counter}号`,
    licenseId: `LID-FEED-${process.pid}-${counter}`,
    holderCode: '91110000MA01234567',
    holderName: '北京市某某粮油有限公司',
    issuerCode: '11110000000000000X',
    issuerName: '北京市粮食和物资储备局',
    subjectKey: `feed-${counter}`,
    issuedAt: iso(issuedAt),
    validUntil: null,
    verifyCode: 'VERIFY',
    sha256: counter.toString(16).padStart(64, '0'),
    pdf: new Uint8Array([0x25, 0x50, 0x44, 0x46]),
  };
  return (await store.certificates.insert(cert)).id;
}

describe.each(backends)('issued-certificate feed ($name)', (backend) => {
  it('emits each of 4,200 certificates in its window once, late rows too, and reads only near its cursor when idle', { timeout: 180_000 }, async () => {
    const db = backend.database();
    let feed: IssuedFeed | null = null;
    try {
      const store = await db.open();
      // 4,200 certificates over the last 7 minutes (more than the 4,000 the earlier feed could reach in a poll), and
      // one from 11 minutes ago, outside the 10-minute window.
      const inWindow: string[] = [];
      await store.transaction(async (tx) => {
        for (let i = 0; i < 4_200; i++) inWindow.push(await issue(tx, NOW - 7 * 60_000 + i * 100));
      });
      const tooOld = await issue(store, NOW - 11 * 60_000);

      let now = NOW;
      const emitted: string[] = [];
      let read = 0;
      const counting: Pick<Store, 'certificates'> = {
        certificates: {
          ...store.certificates,
          issuedAfter: async (after, limit) => {
            const rows = await store.certificates.issuedAfter(after, limit);
            read += rows.length;
            return rows;
          },
        },
      };
      feed = startIssuedFeed(
        { store: counting, emit: async (id) => void emitted.push(id), clock: () => new Date(now), log: { warn: () => undefined } },
        { intervalMs: 3_600_000, windowMs: 10 * 60_000, lateMs: 15_000, sweepMs: 60_000 },
      );
      await feed.stop(); // polls only when told to below
      const poll = async (advanceMs: number) => {
        now += advanceMs;
        read = 0;
        return feed!.pollOnce();
      };

      expect(await poll(0)).toBe(4_200);
      expect(new Set(emitted).size).toBe(4_200);
      expect([...emitted].sort()).toEqual([...inWindow].sort());
      expect(emitted).not.toContain(tooOld);

      // Nothing new: the poll reads the rows of the last 15 s before its cursor (150 at 10 a second), not 4,200.
      expect(await poll(500)).toBe(0);
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThanOrEqual(160);

      // New rows, one of them landing 5 s behind the cursor (its issue time taken before a slow signing).
      const fresh = await issue(store, now);
      const late = await issue(store, NOW - 5_000);
      expect(await poll(500)).toBe(2);
      expect(emitted.slice(-2).sort()).toEqual([fresh, late].sort());

      // A row 3 minutes behind the cursor: emitted at the latest by the next sweep of the window.
      const veryLate = await issue(store, NOW - 3 * 60_000);
      let polls = 0;
      while (!emitted.includes(veryLate) && polls < 130) {
        await poll(500);
        polls++;
      }
      expect(emitted).toContain(veryLate);
      expect(polls * 500).toBeLessThanOrEqual(60_000 + 500);

      // No certificate was ever emitted twice by the feed.
      expect(emitted.length).toBe(new Set(emitted).size);
      expect(emitted.length).toBe(4_203);
    } finally {
      await feed?.stop();
      await db.drop();
    }
  });

  it('asks whether anyone listens once per poll, not once per certificate, and passes certificates over while no one does', { timeout: 60_000 }, async () => {
    const db = backend.database();
    let feed: IssuedFeed | null = null;
    try {
      const store = await db.open();
      const first: string[] = [];
      for (let i = 0; i < 30; i++) first.push(await issue(store, NOW - 60_000 + i * 100));
      let now = NOW;
      let asked = 0;
      let anyone = false;
      const emitted: string[] = [];
      feed = startIssuedFeed(
        {
          store,
          emit: async (id) => void emitted.push(id),
          listening: async () => {
            asked++;
            return anyone;
          },
          clock: () => new Date(now),
          log: { warn: () => undefined },
        },
        { intervalMs: 3_600_000, windowMs: 10 * 60_000, lateMs: 15_000, sweepMs: 60_000 },
      );
      await feed.stop();
      // 30 new certificates, no webhook: one question, nothing emitted, all of them done.
      expect(await feed.pollOnce()).toBe(30);
      expect(asked).toBe(1);
      expect(emitted).toEqual([]);
      // Nothing new: no question at all.
      now += 500;
      expect(await feed.pollOnce()).toBe(0);
      expect(asked).toBe(1);
      // A webhook now, and 2 new certificates: one question, those 2 emitted, the 30 passed over stay done.
      anyone = true;
      const fresh = [await issue(store, now), await issue(store, now + 1)];
      now += 500;
      expect(await feed.pollOnce()).toBe(2);
      expect(asked).toBe(2);
      expect(emitted.sort()).toEqual(fresh.sort());
      expect(emitted.some((id) => first.includes(id))).toBe(false);
    } finally {
      await feed?.stop();
      await db.drop();
    }
  });
});
