/**
 * `npm run bench -- intake [--db sqlite|postgres] [--burst N] [--concurrency C] [--profile]`: durable intake alone.
 * One API process (`dist/server.js`, no worker: the filings stay queued), its own redis-server, data sources over
 * HTTP; a burst of filings from distinct enterprises with C in flight (64 unless given). Prints 202/s, latency of the
 * 202 and the API's CPU per 202 from /proc — with group commit (INTAKE_MAX_BATCH, default 64) and, beside it, with one
 * transaction per filing (INTAKE_MAX_BATCH=1); with --profile, where the API's CPU went (--cpu-prof, group commit).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchArgs } from './args.js';
import { burst, prepare, Subjects } from './city.js';
import { cpuMs, machineCpuMs, postgresCpuMs, selfCpuMs, startService } from './processes.js';
import { summarizeProfiles } from './profile.js';
import { fmt, machineNote, machineShare, round, summarize } from './stats.js';

/**
 * Filings sent before the measured burst. 300 left V8 optimising inside a 3,000 burst: API CPU per 202 read ~1.0 ms
 * over 3,000 and 0.63 ms over 15,000 on the same build.
 */
export const INTAKE_WARMUP = 2000;

export async function runIntakeBench(args: BenchArgs, log: (m: string) => void): Promise<void> {
  const runs: Array<Record<string, unknown>> = [];
  for (const batch of [null, 1]) runs.push(await intakeRun(args, log, batch));
  const [g, one] = runs as Array<{ perSec: number; apiCpuMs: number }>;
  log(`group commit ÷ one transaction per filing: ${fmt(g!.perSec / one!.perSec, 2)}× the 202/s, ${fmt(g!.apiCpuMs / one!.apiCpuMs, 2)}× the API CPU per 202`);
  console.log(`BENCH_JSON ${JSON.stringify({ intake: runs })}`);
}

async function intakeRun(args: BenchArgs, log: (m: string) => void, maxBatch: number | null): Promise<Record<string, unknown> & { perSec: number; apiCpuMs: number }> {
  const n = args.burst;
  const concurrency = args.concurrency ?? 64;
  const seed = 1 + (Date.now() % 100_000);
  const subjects = new Subjects(seed);
  const profileDir = args.profile && maxBatch === null ? mkdtempSync(path.join(os.tmpdir(), 'miaopi-intake-prof-')) : null;
  const load0 = os.loadavg();
  const mode = maxBatch === null ? 'group commit (INTAKE_MAX_BATCH default)' : `INTAKE_MAX_BATCH=${maxBatch}`;
  log(`intake, ${mode}: ${n} filings of distinct enterprises, ${concurrency} in flight, one API process on ${args.db}, no worker; load ${load0.map((l) => l.toFixed(1)).join(' ')}`);
  const svc = await startService({ db: args.db, synthetic: n + INTAKE_WARMUP, seed, workers: 0, concurrency: 1, profileDir, env: maxBatch === null ? {} : { INTAKE_MAX_BATCH: String(maxBatch) } });
  let summary = { perSec: NaN, apiCpuMs: NaN } as Record<string, unknown> & { perSec: number; apiCpuMs: number };
  try {
    await burst(svc.base, await prepare(subjects, INTAKE_WARMUP), concurrency); // warm-up: JIT, pools, statement caches
    const filings = await prepare(subjects, n);
    const c0 = cpuMs(svc.api.pid);
    const r0 = cpuMs(svc.redis.process.pid!);
    const pgCpu = () => (svc.postmasterPid === null ? NaN : postgresCpuMs(svc.postmasterPid));
    const p0 = pgCpu();
    const g0 = selfCpuMs();
    const m0 = machineCpuMs();
    const t0 = performance.now();
    const sent = await burst(svc.base, filings, concurrency);
    const seconds = (performance.now() - t0) / 1000;
    const ok = sent.filter((s) => s.status === 202);
    const apiCpu = (cpuMs(svc.api.pid) - c0) / Math.max(1, ok.length);
    const redisCpu = (cpuMs(svc.redis.process.pid!) - r0) / Math.max(1, ok.length);
    const loadCpu = (selfCpuMs() - g0) / Math.max(1, ok.length);
    const postgresCpu = (pgCpu() - p0) / Math.max(1, ok.length);
    const machine = machineShare(m0, machineCpuMs(), ok.length);
    // The POST's own latency: sent → 202 (no due time in a closed loop), from the answers' arrival order.
    const lat = summarize(sent.filter((s) => s.status === 202).map((s) => s.doneAt - s.sentAt));
    const other = sent.filter((s) => s.status !== 202);
    log(`${ok.length}/${sent.length} durable 202 in ${fmt(seconds, 2)} s → ${fmt(ok.length / seconds, 0)}/s; 202 latency p50 ${fmt(lat.p50, 1)} / p99 ${fmt(lat.p99, 1)} ms; CPU per 202: API ${fmt(apiCpu, 2)} ms, redis ${fmt(redisCpu, 2)} ms${Number.isNaN(postgresCpu) ? '' : `, PostgreSQL ${fmt(postgresCpu, 2)} ms`}, load generator ${fmt(loadCpu, 2)} ms; ${machineNote(machine, '202')}${other.length ? `; not 202: ${other.length} (${other[0]!.status} ${other[0]!.error ?? ''})`.slice(0, 300) : ''}`);
    summary = { maxBatch: maxBatch ?? 'default', db: args.db, n: sent.length, accepted: ok.length, concurrency, perSec: round(ok.length / seconds, 0), p50Ms: round(lat.p50, 1), p99Ms: round(lat.p99, 1), apiCpuMs: round(apiCpu, 2), redisCpuMs: round(redisCpu, 2), postgresCpuMs: round(postgresCpu, 2), loadGeneratorCpuMs: round(loadCpu, 2), machineBusyPct: round(machine.busyPct, 0), machineCpuMs: round(machine.msPerUnit, 2), machineCeilingPerSec: round(machine.ceiling, 0) };
  } finally {
    await svc.stop();
  }
  if (profileDir) {
    const prof = summarizeProfiles(path.join(profileDir, 'api'), 25);
    if (prof) {
      const per = (ms: number) => ms / Math.max(1, n + INTAKE_WARMUP);
      console.log(`API CPU sampled per filing (warm-up included): ${fmt(per(prof.totalMs), 2)} ms`);
      for (const a of prof.byArea) console.log(`  ${a.area.padEnd(48)} ${fmt(per(a.ms), 3).padStart(8)} ms`);
      console.log('  top functions:');
      for (const f of prof.byFunction) console.log(`  ${f.fn.slice(0, 90).padEnd(90)} ${fmt(per(f.ms), 3).padStart(8)} ms`);
    }
    rmSync(profileDir, { recursive: true, force: true });
  }
  return summary;
}
