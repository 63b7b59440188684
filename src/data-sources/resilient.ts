/**
 * What every data source gets on top of its backend: a circuit breaker (an outage answers UNKNOWN at once
 * instead of costing every filing the full timeout) and a cache bounded by the source's TTL from the registry
 * (an answer older than its TTL is never served, so it can never decide an approval).
 */
import type { SourceRead } from '../domain/types.js';
import type { DataSource, ReadContext } from './types.js';

/** closed: reads go through; open: reads answer UNKNOWN without a request; half-open: one trial read is let through. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Options of {@link withResilience}. */
export interface ResilienceOptions {
  /** Consecutive UNKNOWN answers that open the breaker (≥ 1). */
  failureThreshold: number;
  /** How long an open breaker answers UNKNOWN before it lets one trial read through. */
  openMs: number;
  /** Seconds a found/not_found answer may be reused; 0 or undefined = no cache. */
  cacheTtlSeconds?: number;
  /**
   * Most entries kept per source (oldest evicted first). Default 2,000: a cached answer is reused by the same
   * subject's next filing within the TTL (a 一件事 bundle's members, a resubmission), which come within seconds; at
   * city load (every filing a new enterprise) 10,000 entries a source only held memory — the worker's RSS climbed
   * ~50 MB over the first 10,000 filings of the soak before the caps were reached.
   */
  cacheMaxEntries?: number;
  now?: () => Date;
}

/** A data source with its breaker's state visible (metrics, tests). */
export interface ResilientSource extends DataSource {
  breaker(): { state: BreakerState; consecutiveFailures: number; openedAt: string | null };
  /** Answers held in the cache now (metrics, tests). */
  cacheEntries(): number;
}

/** Error text of a read the open breaker refused; never sent to applicants. */
export const BREAKER_OPEN_ERROR = 'circuit open: source failing, not asked';

/**
 * Wraps `inner` with a breaker and a TTL cache. A cached answer keeps its original `fetchedAt` and
 * `responseHash` (that is its provenance) and carries `cached: true`; reads of the cache are still reads
 * and are audited like any other by the caller.
 */
export function withResilience(inner: DataSource, options: ResilienceOptions): ResilientSource {
  const now = options.now ?? (() => new Date());
  const threshold = Math.max(1, Math.floor(options.failureThreshold));
  const ttlMs = Math.max(0, (options.cacheTtlSeconds ?? 0) * 1000);
  const maxEntries = Math.max(1, options.cacheMaxEntries ?? 2_000);
  /** In the order stored, so the oldest (first to expire) come first. */
  const cache = new Map<string, { read: SourceRead; expires: number }>();
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let trialInFlight = false;

  function fromCache(key: string, at: number): SourceRead | null {
    if (ttlMs === 0) return null;
    const entry = cache.get(key);
    if (!entry) return null;
    if (at >= entry.expires) {
      cache.delete(key);
      return null;
    }
    const hit = entry.read;
    return { ...hit, record: hit.record === null ? null : structuredClone(hit.record), cached: true };
  }

  function remember(read: SourceRead, at: number): void {
    if (ttlMs === 0 || read.status === 'unknown') return;
    // Expired answers leave as new ones come, not only when their key is asked for again (it rarely is).
    for (const [k, e] of cache) {
      if (at < e.expires) break;
      cache.delete(k);
    }
    const fetched = Date.parse(read.fetchedAt);
    cache.delete(read.key);
    cache.set(read.key, { read: { ...read, record: read.record === null ? null : structuredClone(read.record) }, expires: (Number.isFinite(fetched) ? fetched : at) + ttlMs });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  }

  async function read(key: string, ctx: ReadContext): Promise<SourceRead> {
    const at = now().getTime();
    const cached = fromCache(key, at);
    if (cached) return cached;

    if (state === 'open' && at - openedAt >= options.openMs) state = 'half-open';
    if (state === 'open' || (state === 'half-open' && trialInFlight)) {
      return { source: inner.id, key, status: 'unknown', record: null, responseHash: '', fetchedAt: new Date(at).toISOString(), error: BREAKER_OPEN_ERROR };
    }
    const trial = state === 'half-open';
    if (trial) trialInFlight = true;
    try {
      const r = await inner.read(key, ctx);
      // Only the source's own failures count (issue 17): a key it refuses, or one that cannot even be sent, must not
      // let one applicant switch auto-approval off for everyone.
      if (r.status === 'unknown' && r.fault !== 'request') {
        failures++;
        if (trial || failures >= threshold) {
          state = 'open';
          openedAt = now().getTime();
        }
      } else if (r.status !== 'unknown') {
        failures = 0;
        state = 'closed';
        remember(r, now().getTime());
      }
      return r;
    } finally {
      if (trial) trialInFlight = false;
    }
  }

  return {
    id: inner.id,
    backend: inner.backend,
    read,
    breaker: () => ({ state: state === 'open' && now().getTime() - openedAt >= options.openMs ? 'half-open' : state, consecutiveFailures: failures, openedAt: openedAt === 0 ? null : new Date(openedAt).toISOString() }),
    cacheEntries: () => cache.size,
  };
}

/**
 * Reads whose answer is older than its source's TTL at `at` (`ttlSeconds` by source id; a source without a TTL
 * is never stale because its answers are never reused). Used before an approval as the last guard.
 */
export function staleReads(
  reads: ReadonlyArray<Pick<SourceRead, 'source' | 'fetchedAt' | 'status'>>,
  ttlSeconds: ReadonlyMap<string, number | undefined>,
  at: Date,
): string[] {
  const stale = new Set<string>();
  for (const r of reads) {
    const ttl = ttlSeconds.get(r.source);
    if (!ttl || r.status === 'unknown') continue;
    if (at.getTime() - Date.parse(r.fetchedAt) > ttl * 1000) stale.add(r.source);
  }
  return [...stale].sort();
}
