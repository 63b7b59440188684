/**
 * Real traffic (issue 12): every filing from a new enterprise with a new responsible person, as a city loads the
 * service, through HTTP, with every data source over HTTP. Phases: warm-up; open loop at a fixed rate (latency);
 * a burst (throughput, CPU per filing); the same burst from ONE enterprise (the figure that only stands beside the
 * distinct one); a long run (RSS of the API and the worker across many filings).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { signDevToken } from '../src/http/dev-token.js';
import { httpRequest } from '../src/net/http-request.js';
import { grainFilingOf, syntheticEnterprise, SHENYANG_COUNTIES } from '../src/standins/synthetic.js';
import { cpuMs, postgresCpuMs, rssMb, rssOf, SECRET, type Service } from './processes.js';
import { sleep, summarize, type Summary } from './stats.js';

export interface Sent {
  /** Epoch ms the POST was due (open loop) or sent. */
  dueAt: number;
  sentAt: number;
  /** Epoch ms the answer (or the error) arrived. */
  doneAt: number;
  status: number;
  id: string | null;
  error: string | null;
}


/** Subjects are handed out once: no enterprise files twice across the whole run. */
export class Subjects {
  #next = 0;
  constructor(readonly seed: number) {}
  take(): number {
    return this.#next++;
  }
  get used(): number {
    return this.#next;
  }
}

async function tokenFor(sub: string): Promise<string> {
  return signDevToken(SECRET, sub, { role: 'applicant' }, { ttlSeconds: 2 * 3600 });
}

/** A ready-to-send filing: token and body prepared ahead so the generator does little while it measures. */
export interface Prepared {
  token: string;
  body: string;
}

async function prepare(subjects: Subjects, n: number): Promise<Prepared[]> {
  const out: Prepared[] = [];
  for (let i = 0; i < n; i++) {
    const idx = subjects.take();
    const e = syntheticEnterprise(idx, subjects.seed);
    out.push({ token: await tokenFor(e.uscc), body: JSON.stringify(grainFilingOf(e, SHENYANG_COUNTIES[idx % SHENYANG_COUNTIES.length]!)) });
  }
  return out;
}

/** `n` filings of ONE enterprise: its first (首次) filing, then changes (变更), which the rules approve every time. */
export async function prepareRepeated(subjects: Subjects, n: number): Promise<{ first: Prepared; rest: Prepared[] }> {
  const idx = subjects.take();
  const e = syntheticEnterprise(idx, subjects.seed);
  const token = await tokenFor(e.uscc);
  const region = SHENYANG_COUNTIES[0]!;
  const change = JSON.stringify(grainFilingOf(e, region, '变更'));
  return { first: { token, body: JSON.stringify(grainFilingOf(e, region, '首次')) }, rest: Array.from({ length: n }, () => ({ token, body: change })) };
}

/** How filings are sent; `--no-idempotency-keys` (bench/args.ts) turns the keys off to show what they cost. */
export const sending = { idempotencyKeys: true };

/**
 * One filing as the portal sends it: with a new Idempotency-Key (DESIGN.md §6), which the intake claims and keeps.
 * Over the service's own node:http client with kept-alive connections (src/net/http-request.ts), not fetch: undici's
 * fetch cost the load generator ~1 ms of CPU per POST, as much as the API's intake, on the service's cores.
 */
export async function post(base: string, p: Prepared, dueAt: number): Promise<Sent> {
  const sentAt = Date.now();
  const r = await httpRequest(new URL('/v1/applications', base), {
    method: 'POST',
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json', ...(sending.idempotencyKeys ? { 'idempotency-key': randomUUID() } : {}) },
    body: p.body,
    timeoutMs: 30_000,
    maxBytes: 1 << 20,
  });
  const doneAt = Date.now();
  if (!r.ok) return { dueAt, sentAt, doneAt, status: 0, id: null, error: r.error };
  const text = r.response.body.toString('utf8');
  if (r.response.status === 202) return { dueAt, sentAt, doneAt, status: 202, id: (JSON.parse(text) as { id: string }).id, error: null };
  return { dueAt, sentAt, doneAt, status: r.response.status, id: null, error: text.slice(0, 200) };
}

/** Open loop: filing i is due at t0 + i/rate whatever the answers did; latency counts from the due time. */
export async function openLoop(base: string, filings: Prepared[], rate: number): Promise<Sent[]> {
  const t0 = Date.now() + 50;
  const inflight: Array<Promise<Sent>> = [];
  const hardStop = t0 + (filings.length / rate) * 2000 + 30_000;
  for (let i = 0; i < filings.length; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 1) await sleep(wait);
    if (Date.now() > hardStop) break;
    inflight.push(post(base, filings[i]!, due));
  }
  return Promise.all(inflight);
}

/** Closed loop: `concurrency` POSTs in flight until all are sent (a burst as fast as intake takes it). */
export async function burst(base: string, filings: Prepared[], concurrency: number): Promise<Sent[]> {
  const out: Sent[] = new Array<Sent>(filings.length);
  let next = 0;
  const until = Date.now() + 120_000;
  const lane = async () => {
    while (next < filings.length && Date.now() < until) {
      const i = next++;
      out[i] = await post(base, filings[i]!, Date.now());
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, filings.length) }, lane));
  return out.filter(Boolean);
}

/** Waits (bounded) until nothing is queued or processing. */
export async function drain(svc: Service, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if ((await svc.open()) === 0) return true;
    if (Date.now() > until) return false;
    await sleep(100);
  }
}

export interface PhaseResult {
  sent: number;
  accepted: number;
  approved: number;
  other: Record<string, number>;
  /** submit (due time) → decided, approved filings only. */
  latency: Summary;
  /** first submit → last approval, seconds. */
  spanS: number;
  certsPerSec: number;
  drained: boolean;
  samples: string[];
}

export async function results(svc: Service, sent: Sent[], since: string, drained: boolean): Promise<PhaseResult> {
  const byId = new Map(sent.filter((s) => s.id).map((s) => [s.id!, s]));
  const rows = (await svc.rows(since)).filter((r) => byId.has(r.id));
  const other: Record<string, number> = {};
  const lat: number[] = [];
  let lastDecided = -Infinity;
  const samples: string[] = [];
  for (const r of rows) {
    if (r.status !== 'approved') {
      other[r.status] = (other[r.status] ?? 0) + 1;
      if (samples.length < 3) samples.push(`${r.status}: ${r.last_error ?? r.decision ?? ''}`.slice(0, 240));
      continue;
    }
    const d = Date.parse(r.decided_at!);
    lastDecided = Math.max(lastDecided, d);
    lat.push(d - byId.get(r.id)!.dueAt);
  }
  for (const s of sent) if (s.status !== 202 && samples.length < 6) samples.push(`HTTP ${s.status}: ${s.error ?? ''}`.slice(0, 240));
  const firstSend = Math.min(...sent.map((s) => s.sentAt));
  const spanS = (lastDecided - firstSend) / 1000;
  return {
    sent: sent.length,
    accepted: byId.size,
    approved: lat.length,
    other,
    latency: summarize(lat),
    spanS,
    certsPerSec: lat.length / spanS,
    drained,
    samples,
  };
}

export interface CpuSnapshot {
  at: number;
  api: number;
  workers: number;
  redis: number;
  sources: number;
  /** The PostgreSQL server (all its processes); NaN on SQLite. */
  postgres: number;
}

export function cpuSnapshot(svc: Service): CpuSnapshot {
  return {
    at: performance.now(),
    api: cpuMs(svc.api.pid),
    workers: svc.workers.reduce((a, w) => a + cpuMs(w.pid), 0),
    redis: cpuMs(svc.redis.process.pid!),
    sources: cpuMs(svc.sources.pid),
    postgres: svc.postmasterPid === null ? NaN : postgresCpuMs(svc.postmasterPid),
  };
}

export interface RssTrace {
  api: number[];
  worker: number[];
  /** The file-backed part of each sample (`rssOf`). */
  apiFile: number[];
  workerFile: number[];
  /** Filings accepted at each sample. */
  progress: number[];
}

/**
 * The long run: `n` distinct filings at `rate`/s, RSS of the API and the (first) worker sampled every second. RSS
 * "flat" compares the samples after the first 10 % (warm-up: JIT, pools, caches) with the value at 10 %.
 */
export async function soak(svc: Service, subjects: Subjects, n: number, rate: number, log: (m: string) => void): Promise<{ trace: RssTrace; sent: Sent[]; since: string }> {
  const since = new Date().toISOString();
  const trace: RssTrace = { api: [], worker: [], apiFile: [], workerFile: [], progress: [] };
  const chunk = Math.max(100, Math.round(rate * 10));
  const all: Sent[] = [];
  let accepted = 0;
  const sampler = setInterval(() => {
    const api = rssOf(svc.api.pid);
    trace.api.push(api.rss);
    trace.apiFile.push(api.file);
    // The largest worker's RSS: with several worker processes, any one growing shows.
    const worker = svc.workers.map((w) => rssOf(w.pid)).reduce((a, b) => (b.rss > a.rss ? b : a));
    trace.worker.push(worker.rss);
    trace.workerFile.push(worker.file);
    trace.progress.push(accepted);
  }, 1000);
  try {
    for (let done = 0; done < n; done += chunk) {
      const batch = await prepare(subjects, Math.min(chunk, n - done));
      const sent = await openLoop(svc.base, batch, rate);
      accepted += sent.filter((s) => s.status === 202).length;
      all.push(...sent);
      if ((done / chunk) % 5 === 0) log(`  soak: ${done + batch.length}/${n} sent, RSS api ${rssMb(svc.api.pid).toFixed(0)} MB, worker(s) ${svc.workers.map((w) => rssMb(w.pid).toFixed(0)).join(' / ')} MB, open ${await svc.open()}`);
    }
  } finally {
    clearInterval(sampler);
  }
  return { trace, sent: all, since };
}

export { prepare };
