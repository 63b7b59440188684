/**
 * Issue 13: many processes on one database. Certificate numbers claimed concurrently from two store instances are
 * exactly 1..N (no duplicate, no gap), a filing that claims twice gets its own number back, and a lease is held by
 * one holder at a time until it expires or is released. Both engines. On SQLite, a connection waits for another's
 * write lock while its event loop goes on (two connections in one thread work; the worker's other jobs run).
 */
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../support/databases.js';
import { passLeases } from '../../../src/queue/pass-lease.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const AT = '2026-12-05T13:00:00.000Z';
const later = (ms: number) => new Date(Date.parse(AT) + ms).toISOString();

describe.each(backends)('scale-out store ($name)', (backend) => {
  it('numbers 400 concurrent claims from two store instances exactly 1..400, each filing keeping its number', { timeout: 120_000 }, async () => {
    const db = backend.database();
    try {
      // Two connections in one thread: on SQLite one waits for the other's write lock without blocking the thread
      // that must release it (src/store/sqlite.ts retries SQLITE_BUSY after a pause instead of sleeping).
      const [a, b] = [await db.open(), await db.open()];
      const N = 400;
      const claimants = Array.from({ length: N }, (_, i) => `app-${i}`);
      // Every filing claims twice, once through each instance, all at once: a retry racing the first attempt.
      const claims = await Promise.all(
        claimants.flatMap((c, i) => [
          (i % 2 === 0 ? a : b).certificates.claimSerial('grain:2026', c, AT).then((n) => [c, n] as const),
          (i % 2 === 0 ? b : a).certificates.claimSerial('grain:2026', c, AT).then((n) => [c, n] as const),
        ]),
      );
      const byClaimant = new Map<string, Set<number>>();
      for (const [c, n] of claims) byClaimant.set(c, (byClaimant.get(c) ?? new Set()).add(n));
      const perClaimant = [...byClaimant.values()].map((s) => s.size);
      expect(perClaimant.filter((k) => k !== 1)).toEqual([]);
      const numbers = [...byClaimant.values()].map((s) => [...s][0]!).sort((x, y) => x - y);
      expect(numbers).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      // Later claims: the same number for a known filing, the next one for a new filing, other counters apart.
      expect(await a.certificates.claimSerial('grain:2026', 'app-17', AT)).toBe(byClaimant.get('app-17')!.values().next().value);
      expect(await b.certificates.claimSerial('grain:2026', 'app-new', AT)).toBe(N + 1);
      expect(await b.certificates.claimSerial('other:2026', 'app-new', AT)).toBe(1);
      // The plain counter (bundle notices) continues after the claimed numbers.
      expect(await a.certificates.nextSerial('grain:2026')).toBe(N + 2);
      // A store opened afterwards (another process) sees the claims.
      const c = await db.open();
      expect(await c.certificates.claimSerial('grain:2026', 'app-399', AT)).toBe(byClaimant.get('app-399')!.values().next().value);
      console.log(`SCALE-OUT ${backend.name}: ${claims.length} concurrent claims by ${N} filings over ${a === b ? 1 : 2} store instance(s) → numbers ${numbers[0]}..${numbers[numbers.length - 1]}, ${new Set(numbers).size} distinct`);
    } finally {
      await db.drop();
    }
  });

  it('gives a lease to one holder at a time across two store instances, until it expires or is released', { timeout: 60_000 }, async () => {
    const db = backend.database();
    try {
      const [a, b] = [await db.open(), await db.open()];
      // 20 holders race for one free lease: exactly one wins.
      const race = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).leases.acquire('relay', `h${i}`, AT, 5_000)));
      expect(race.filter(Boolean)).toHaveLength(1);
      const winner = `h${race.indexOf(true)}`;
      expect(await b.leases.holder('relay', later(1_000))).toBe(winner);
      // The holder renews; others are refused while it is live.
      expect(await a.leases.acquire('relay', winner, later(4_000), 5_000)).toBe(true);
      expect(await b.leases.acquire('relay', 'other', later(8_000), 5_000)).toBe(false);
      // Expired (the holder died): another takes it over, and the old holder is refused.
      expect(await b.leases.acquire('relay', 'other', later(9_000), 5_000)).toBe(true);
      expect(await a.leases.acquire('relay', winner, later(9_500), 5_000)).toBe(false);
      // Released: free at once; a release by a non-holder changes nothing.
      await a.leases.release('relay', winner);
      expect(await a.leases.holder('relay', later(9_600))).toBe('other');
      await b.leases.release('relay', 'other');
      expect(await a.leases.holder('relay', later(9_700))).toBeNull();
      expect(await a.leases.acquire('relay', winner, later(9_800), 5_000)).toBe(true);
      // Other names are independent.
      expect(await b.leases.acquire('reconciler', 'other', later(9_800), 5_000)).toBe(true);

      // passLeases: of two processes' runners only one runs a pass; after releaseAll the other does.
      let ran = 0;
      const clock = () => new Date(later(20_000));
      const p1 = passLeases(a, clock, 'p1');
      const p2 = passLeases(b, clock, 'p2');
      const results = await Promise.all([p1.run('sweep', 5_000, () => Promise.resolve(++ran)), p2.run('sweep', 5_000, () => Promise.resolve(++ran))]);
      expect(ran).toBe(1);
      expect(results.filter((r) => r === null)).toHaveLength(1);
      const first = results[0] === null ? p2 : p1;
      const second = first === p1 ? p2 : p1;
      expect(await second.run('sweep', 5_000, () => Promise.resolve(++ran))).toBeNull();
      await first.releaseAll();
      expect(await second.run('sweep', 5_000, () => Promise.resolve(++ran))).toBe(2);
    } finally {
      await db.drop();
    }
  });
});

describe('SQLite write lock', () => {
  const sqlite = backends.find((b) => b.name === 'sqlite')!;

  it('waits for another process\'s write lock without stopping the event loop, and writes once it is free', { timeout: 30_000 }, async () => {
    const db = sqlite.database();
    try {
      const store = await db.open();
      // Another process holds SQLite's write lock for 300 ms.
      const other = new BetterSqlite3(db.options.sqlitePath);
      other.prepare('begin immediate').run();
      const started = performance.now();
      const write = store.certificates.claimSerial('lock:2026', 'app-1', AT).then((n) => ({ n, ms: performance.now() - started }));
      // Meanwhile the event loop goes on: a 10 ms timer keeps firing.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      await new Promise((r) => setTimeout(r, 300));
      const ticksWhileLocked = ticks;
      other.prepare('commit').run();
      other.close();
      const done = await write;
      clearInterval(timer);
      expect(ticksWhileLocked).toBeGreaterThanOrEqual(15);
      expect(done.n).toBe(1);
      expect(done.ms).toBeGreaterThanOrEqual(290);
      expect(await store.certificates.claimSerial('lock:2026', 'app-1', AT)).toBe(1);
      console.log(`SQLITE BUSY: a claim waited ${done.ms.toFixed(0)} ms for another connection's lock; ${ticksWhileLocked} timer ticks of 10 ms ran meanwhile`);
    } finally {
      await db.drop();
    }
  });
});
