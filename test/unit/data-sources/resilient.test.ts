/**
 * The data-source hardening: a breaker that opens after consecutive failures and answers UNKNOWN at once, lets one
 * trial through after its open period and closes on success; a cache that never serves an answer past its TTL; the
 * freshness guard; HTTP retries with jitter inside the one timeout, against a real socket.
 */
import { describe, expect, it } from 'vitest';
import { createHttpSource } from '../../../src/data-sources/http.js';
import { BREAKER_OPEN_ERROR, staleReads, withResilience } from '../../../src/data-sources/resilient.js';
import type { DataSource } from '../../../src/data-sources/types.js';
import { startDataSourceServer } from '../../support/datasource-server.js';

const ctx = { requester: 'T', applicationId: null, purpose: 'test' };

/** A source whose answer the test sets; counts the reads that reach it. */
function scripted(now: () => Date) {
  const state = { up: true, calls: 0 };
  const source: DataSource = {
    id: 's',
    backend: 'fixture',
    read: async (key) => {
      state.calls++;
      const base = { source: 's', key, fetchedAt: now().toISOString(), responseHash: 'h' };
      return state.up ? ({ ...base, status: 'found', record: { key } }) : ({ ...base, status: 'unknown', record: null, responseHash: '', error: 'down' });
    },
  };
  return { state, source };
}

describe('withResilience', () => {
  it('opens after the threshold, answers UNKNOWN without asking, lets one trial through after openMs and closes when it succeeds', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const now = () => new Date(t);
    const { state, source } = scripted(now);
    const s = withResilience(source, { failureThreshold: 3, openMs: 1000, now });
    state.up = false;
    for (let i = 0; i < 3; i++) expect((await s.read('k', ctx)).error).toBe('down');
    expect(s.breaker().state).toBe('open');
    const refused = await s.read('k', ctx);
    expect(refused).toMatchObject({ status: 'unknown', error: BREAKER_OPEN_ERROR });
    expect(state.calls).toBe(3);
    t += 1000;
    expect(s.breaker().state).toBe('half-open');
    expect((await s.read('k', ctx)).error).toBe('down'); // the trial fails: open again
    expect(s.breaker().state).toBe('open');
    expect(state.calls).toBe(4);
    t += 1000;
    state.up = true;
    expect((await s.read('k', ctx)).status).toBe('found');
    expect(s.breaker()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('serves a cached answer with its original fetchedAt only within the TTL', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const now = () => new Date(t);
    const { state, source } = scripted(now);
    const s = withResilience(source, { failureThreshold: 3, openMs: 1000, cacheTtlSeconds: 60, now });
    const first = await s.read('k', ctx);
    t += 59_000;
    const second = await s.read('k', ctx);
    expect(second).toMatchObject({ cached: true, fetchedAt: first.fetchedAt, responseHash: 'h' });
    expect(state.calls).toBe(1);
    t += 1_000;
    const third = await s.read('k', ctx);
    expect(third.cached).toBeUndefined();
    expect(state.calls).toBe(2);
  });

  it('lets expired answers go as new ones are stored, and holds at most cacheMaxEntries (2,000 by default)', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const now = () => new Date(t);
    const { state, source } = scripted(now);
    const s = withResilience(source, { failureThreshold: 3, openMs: 1000, cacheTtlSeconds: 60, now });
    // A new subject every 10 ms for 2 minutes (city load): 12,000 answers, none asked for twice.
    for (let i = 0; i < 12_000; i++) {
      await s.read(`new-${i}`, ctx);
      t += 10;
    }
    expect(state.calls).toBe(12_000);
    expect(s.cacheEntries()).toBe(2_000);
    // Slower: one a second for 10 minutes. Only the last 60 s of answers are held, not 2,000.
    for (let i = 0; i < 600; i++) {
      await s.read(`slow-${i}`, ctx);
      t += 1000;
    }
    expect(s.cacheEntries()).toBeGreaterThanOrEqual(59);
    expect(s.cacheEntries()).toBeLessThanOrEqual(61);
    // A recent answer is still served from the cache.
    t -= 1000;
    expect((await s.read('slow-599', ctx)).cached).toBe(true);
    const explicit = withResilience(scripted(now).source, { failureThreshold: 3, openMs: 1000, cacheTtlSeconds: 60, cacheMaxEntries: 10, now });
    for (let i = 0; i < 50; i++) await explicit.read(`k-${i}`, ctx);
    expect(explicit.cacheEntries()).toBe(10);
  });

  it('never caches an UNKNOWN answer', async () => {
    const { state, source } = scripted(() => new Date());
    const s = withResilience(source, { failureThreshold: 10, openMs: 1000, cacheTtlSeconds: 60 });
    state.up = false;
    await s.read('k', ctx);
    state.up = true;
    expect((await s.read('k', ctx)).status).toBe('found');
    expect(state.calls).toBe(2);
  });
});

describe('staleReads', () => {
  it('names the sources whose answer is older than their TTL', () => {
    const at = new Date('2026-01-01T00:10:00Z');
    const reads = [
      { source: 'a', status: 'found' as const, fetchedAt: '2026-01-01T00:00:00Z' },
      { source: 'b', status: 'found' as const, fetchedAt: '2026-01-01T00:09:30Z' },
      { source: 'c', status: 'found' as const, fetchedAt: '2026-01-01T00:00:00Z' },
    ];
    expect(staleReads(reads, new Map([['a', 300], ['b', 60], ['c', undefined]]), at)).toEqual(['a']);
  });
});

describe('HTTP retries', () => {
  it('retries a 503 with jitter inside the timeout, then answers UNKNOWN', async () => {
    const server = await startDataSourceServer({ records: { s: { k: { a: 1 } } } });
    try {
      server.setMode('s', '503');
      const source = createHttpSource({ id: 's', baseUrl: server.url('s'), timeoutMs: 2000, retries: 2, retryBaseMs: 10 });
      const r = await source.read('k', ctx);
      expect(r).toMatchObject({ status: 'unknown', error: 'HTTP 503' });
      expect(server.requests.length).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('does not retry a 404 or a timeout', async () => {
    const server = await startDataSourceServer({ records: { s: {} } });
    try {
      const source = createHttpSource({ id: 's', baseUrl: server.url('s'), timeoutMs: 300, retries: 2, retryBaseMs: 10 });
      expect((await source.read('missing', ctx)).status).toBe('not_found');
      server.setMode('s', 'hang');
      const started = Date.now();
      expect((await source.read('k', ctx)).error).toMatch(/timeout/);
      expect(Date.now() - started).toBeLessThan(300 + 150);
      expect(server.requests.length).toBe(2);
    } finally {
      await server.close();
    }
  });
});

describe('a breaker counts only the source’s own failures (issue 17)', () => {
  it('stays closed after 5 keys that cannot be sent (lone surrogate) or that the source refuses (400), and opens on 503s', async () => {
    const server = await startDataSourceServer({ records: { s: { k: { a: 1 } } } });
    try {
      const s = withResilience(createHttpSource({ id: 's', baseUrl: server.url('s'), timeoutMs: 2000 }), { failureThreshold: 3, openMs: 60_000 });
      for (let i = 0; i < 5; i++) {
        expect(await s.read(`bad\uD800${i}`, ctx)).toMatchObject({ status: 'unknown', error: 'key is not well-formed Unicode', fault: 'request' });
      }
      expect(await s.read('', ctx)).toMatchObject({ status: 'unknown', fault: 'request' });
      server.setMode('s', '400');
      for (let i = 0; i < 5; i++) expect(await s.read(`k${i}`, ctx)).toMatchObject({ status: 'unknown', error: 'HTTP 400', fault: 'request' });
      expect(s.breaker()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
      server.setMode('s', 'ok');
      expect((await s.read('k', ctx)).status).toBe('found');
      server.setMode('s', '503');
      for (let i = 0; i < 3; i++) expect((await s.read('k', ctx)).error).toBe('HTTP 503');
      expect(s.breaker().state).toBe('open');
    } finally {
      await server.close();
    }
  });

  it('a refused key between two failures neither resets nor adds to the count', async () => {
    const server = await startDataSourceServer({ records: { s: { k: { a: 1 } } } });
    try {
      const s = withResilience(createHttpSource({ id: 's', baseUrl: server.url('s'), timeoutMs: 2000 }), { failureThreshold: 2, openMs: 60_000 });
      server.setMode('s', '503');
      await s.read('k', ctx);
      expect(s.breaker().consecutiveFailures).toBe(1);
      await s.read('\uDFFF', ctx);
      expect(s.breaker()).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
      await s.read('k', ctx);
      expect(s.breaker().state).toBe('open');
    } finally {
      await server.close();
    }
  });
});
