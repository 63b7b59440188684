/**
 * End-to-end phases against the real stack (own redis-server, fresh database, HTTP data sources, Fastify on a
 * real loopback port, BullMQ worker), with filings sent by `fetch` over keep-alive connections.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ApplicationRow } from '../src/store/types.js';
import { countRows } from '../test/support/db-counts.js';
import type { Stack } from '../test/support/stack.js';
import { filingBody, type FilingKey } from './filings.js';
import { now, sleep, summarize, type Summary } from './stats.js';

export interface Client {
  base: string;
  tokens: Map<string, string>;
}

export interface Sent {
  key: FilingKey;
  /** performance.now() the send was scheduled for (open loop) or made. */
  scheduledAt: number;
  sentAt: number;
  respondedAt: number;
  status: number;
  id: string | null;
  error: string | null;
}

export interface Outcomes {
  approved: number;
  rejected: number;
  manual: number;
  failed: number;
  unfinished: number;
  /** HTTP answers other than 202 (or network errors). */
  notAccepted: number;
  /** First few non-approval reasons, for the printout. */
  samples: string[];
}

export interface Decided {
  sent: Sent;
  row: ApplicationRow | null;
}

const FETCH_TIMEOUT_MS = 30_000;
const bodies = new Map<string, string>();

function bodyFor(key: FilingKey, type: '首次' | '变更'): string {
  const k = `${key.enterprise.uscc}|${key.region}|${type}`;
  let b = bodies.get(k);
  if (!b) {
    b = JSON.stringify(filingBody(key, type));
    bodies.set(k, b);
  }
  return b;
}

export async function postFiling(client: Client, key: FilingKey, type: '首次' | '变更', scheduledAt = now()): Promise<Sent> {
  const sentAt = now();
  try {
    const res = await fetch(`${client.base}/v1/applications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.tokens.get(key.enterprise.uscc)!}`, 'content-type': 'application/json' },
      body: bodyFor(key, type),
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    const text = await res.text();
    const respondedAt = now();
    if (res.status === 202) {
      const { id } = JSON.parse(text) as { id: string };
      return { key, scheduledAt, sentAt, respondedAt, status: res.status, id, error: null };
    }
    return { key, scheduledAt, sentAt, respondedAt, status: res.status, id: null, error: text.slice(0, 300) };
  } catch (err) {
    return { key, scheduledAt, sentAt, respondedAt: now(), status: 0, id: null, error: String(err) };
  }
}

/** Runs `count` tasks with at most `concurrency` in flight (closed loop), stopping new ones after `budgetMs`. */
export async function closedLoop<T>(count: number, concurrency: number, budgetMs: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const until = now() + budgetMs;
  const lane = async () => {
    while (next < count && now() < until) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return out.filter((x) => x !== undefined);
}

/**
 * Open loop: send i is due at t0 + i/rate whatever the earlier responses did (a late send goes out as soon as
 * the event loop lets it, and its latency still counts from its due time — no coordinated omission).
 */
export async function openLoop(client: Client, keys: FilingKey[], rate: number, seconds: number): Promise<Sent[]> {
  const n = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const t0 = now() + 20;
  const hardStop = t0 + seconds * 2000 + 10_000; // never send for longer than this, however late we are
  const inflight: Array<Promise<Sent>> = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + i * interval;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    if (now() > hardStop) break;
    inflight.push(postFiling(client, keys[i % keys.length]!, '变更', due));
  }
  return Promise.all(inflight);
}

/** Waits until no application is queued or processing (bounded); returns whether it drained. */
export async function waitDrained(stack: Stack, timeoutMs: number, onTick?: (left: number) => void): Promise<boolean> {
  const until = now() + timeoutMs;
  for (;;) {
    const left = (await countRows(stack, 'applications', { status: 'queued' })) + (await countRows(stack, 'applications', { status: 'processing' }));
    onTick?.(left);
    if (left === 0) return true;
    if (now() > until) return false;
    await sleep(100);
  }
}

/** Reads back every accepted filing's row (a few at a time). */
export async function readRows(stack: Stack, sent: Sent[]): Promise<Decided[]> {
  const out: Decided[] = [];
  for (let i = 0; i < sent.length; i += 16) {
    const chunk = sent.slice(i, i + 16);
    const rows = await Promise.all(chunk.map((s) => (s.id ? stack.deps.store.applications.get(s.id) : Promise.resolve(null))));
    chunk.forEach((s, j) => out.push({ sent: s, row: rows[j] ?? null }));
  }
  return out;
}

export function outcomes(decided: Decided[]): Outcomes {
  const o: Outcomes = { approved: 0, rejected: 0, manual: 0, failed: 0, unfinished: 0, notAccepted: 0, samples: [] };
  for (const { sent, row } of decided) {
    if (!sent.id) {
      o.notAccepted++;
      if (o.samples.length < 5) o.samples.push(`HTTP ${sent.status}: ${sent.error ?? ''}`);
      continue;
    }
    const st = row?.status ?? 'queued';
    if (st === 'approved') o.approved++;
    else if (st === 'rejected') o.rejected++;
    else if (st === 'manual_review') o.manual++;
    else if (st === 'failed') o.failed++;
    else o.unfinished++;
    if (st !== 'approved' && o.samples.length < 5) {
      const why = row?.decision?.reasons.map((r) => r.rule).join(',') ?? row?.lastError ?? '';
      o.samples.push(`${sent.key.enterprise.uscc}/${sent.key.region}: ${st} ${why}`);
    }
  }
  return o;
}

/** Epoch ms of a performance.now() instant. */
export const epoch = (t: number): number => performance.timeOrigin + t;

export interface Timings {
  /** Due time of the send → decidedAt (what the applicant waits, minus polling). */
  e2e: Summary;
  /** createdAt (row inserted by the API) → decidedAt. */
  server: Summary;
  /** createdAt → the worker picked it up (receipt.evaluatedAt). */
  queueWait: Summary;
  /** Worker pick-up → decidedAt (data reads, form, rules, certificate, writes). */
  processing: Summary;
  /** POST → 202 received. */
  http202: Summary;
  /** How late the generator sent (sentAt − due). */
  sendLag: Summary;
  firstSend: number;
  lastDecided: number;
}

export function timings(decided: Decided[]): Timings {
  const e2e: number[] = [];
  const server: number[] = [];
  const queueWait: number[] = [];
  const processing: number[] = [];
  const http202: number[] = [];
  const sendLag: number[] = [];
  let firstSend = Infinity;
  let lastDecided = -Infinity;
  for (const { sent, row } of decided) {
    firstSend = Math.min(firstSend, epoch(sent.sentAt));
    if (sent.id) http202.push(sent.respondedAt - sent.sentAt);
    sendLag.push(sent.sentAt - sent.scheduledAt);
    if (row?.status !== 'approved' || !row.decidedAt) continue;
    const decidedAt = Date.parse(row.decidedAt);
    const createdAt = Date.parse(row.createdAt);
    lastDecided = Math.max(lastDecided, decidedAt);
    e2e.push(decidedAt - epoch(sent.scheduledAt));
    server.push(decidedAt - createdAt);
    const picked = row.receipt ? Date.parse(row.receipt.evaluatedAt) : NaN;
    if (Number.isFinite(picked)) {
      queueWait.push(picked - createdAt);
      processing.push(decidedAt - picked);
    }
  }
  return {
    e2e: summarize(e2e),
    server: summarize(server),
    queueWait: summarize(queueWait),
    processing: summarize(processing),
    http202: summarize(http202),
    sendLag: summarize(sendLag),
    firstSend,
    lastDecided,
  };
}

/** CPU seconds (user+sys) of another process from /proc, or NaN where that is not available. */
export function childCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 (utime, stime) are at 11 and 12 after the comm field; clock ticks of 10 ms (USER_HZ 100).
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Samples RSS and event-loop delay while a phase runs. */
export function monitor() {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      h.disable();
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      return { peakRssMb: peakRss / 2 ** 20, loopDelayP99Ms: h.percentile(99) / 1e6, loopDelayMaxMs: h.max / 1e6 };
    },
  };
}
