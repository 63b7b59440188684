/**
 * Per-subject counters in Redis, so every API process shares them (issue 17 item 5): a fixed-window request count
 * per subject and route group, and a daily byte quota per subject for uploads. A subject is the token's `sub` or,
 * without a valid token, the client IP. Redis being away must not stop intake (the outbox carries filings through
 * such outages), so a counter that does not answer within a short bound lets the request through and says so.
 */
import type { Redis } from 'ioredis';

/** What one counted request learned. */
export interface HitResult {
  allowed: boolean;
  count: number;
  /** Seconds until the window starts afresh (Retry-After). */
  retryAfterSeconds: number;
}

export interface QuotaResult {
  allowed: boolean;
  usedBytes: number;
  retryAfterSeconds: number;
}

export interface SubjectLimits {
  /** Counts one request of `subject` in `group`; allowed while the window holds at most `limit`. */
  hit(group: string, subject: string, limit: number, windowMs: number): Promise<HitResult>;
  /**
   * Reserves `bytes` of `subject`'s upload quota for the China-time day of `now`; refused (and nothing reserved)
   * when the day's total would pass `quota`.
   */
  reserveBytes(subject: string, bytes: number, quota: number, now: Date): Promise<QuotaResult>;
  /** Gives back a reservation that was not used (the same file again, or the store refused). */
  releaseBytes(subject: string, bytes: number, now: Date): Promise<void>;
}

// INCR then set the window's expiry on the first hit: one round trip, atomic across API processes.
const HIT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

// Adds the bytes only when the total stays within the quota; the key lives until the day is over.
const RESERVE = `local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local add = tonumber(ARGV[1])
if used + add > tonumber(ARGV[2]) then return {0, used} end
local n = redis.call('INCRBY', KEYS[1], add)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, n}`;

const DAY_MS = 86_400_000;
const CHINA_OFFSET_MS = 8 * 3_600_000;

/** Milliseconds from `now` to the next midnight in China time (UTC+8), at least 1. */
export function msToChinaMidnight(now: Date): number {
  const local = now.getTime() + CHINA_OFFSET_MS;
  return Math.max(1, DAY_MS - (local % DAY_MS));
}

function chinaDayKey(now: Date): string {
  return new Date(now.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

export interface SubjectLimitOptions {
  /** Key prefix, so several services may share one Redis. */
  prefix: string;
  /** Longest wait for Redis before the request is let through (fail open). */
  timeoutMs?: number;
  onUnavailable?(err: unknown): void;
}

export function createSubjectLimits(redis: Pick<Redis, 'eval' | 'decrby'>, opts: SubjectLimitOptions): SubjectLimits {
  const timeoutMs = opts.timeoutMs ?? 300;
  const bounded = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`redis did not answer in ${timeoutMs} ms`)), timeoutMs).unref())]);
  const quotaKey = (subject: string, now: Date) => `${opts.prefix}:quota:${chinaDayKey(now)}:${subject}`;
  return {
    async hit(group, subject, limit, windowMs) {
      try {
        const [count, ttl] = (await bounded(redis.eval(HIT, 1, `${opts.prefix}:rate:${group}:${subject}`, String(windowMs)))) as [number, number];
        return { allowed: count <= limit, count, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
      } catch (err) {
        opts.onUnavailable?.(err);
        return { allowed: true, count: 0, retryAfterSeconds: 0 };
      }
    },
    async reserveBytes(subject, bytes, quota, now) {
      const untilMidnight = msToChinaMidnight(now);
      try {
        const [ok, used] = (await bounded(redis.eval(RESERVE, 1, quotaKey(subject, now), String(bytes), String(quota), String(untilMidnight + 60_000)))) as [number, number];
        return { allowed: ok === 1, usedBytes: used, retryAfterSeconds: Math.ceil(untilMidnight / 1000) };
      } catch (err) {
        opts.onUnavailable?.(err);
        return { allowed: true, usedBytes: 0, retryAfterSeconds: 0 };
      }
    },
    async releaseBytes(subject, bytes, now) {
      await bounded(redis.decrby(quotaKey(subject, now), bytes)).catch((err: unknown) => opts.onUnavailable?.(err));
    },
  };
}
