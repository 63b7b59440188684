/**
 * `npm run bench -- --topology cluster`: the scaled-out shape of DESIGN.md §8 on this machine (src/cluster/: own
 * PostgreSQL, Redis master + replica + 3 sentinels, API and worker processes), every filing from a new enterprise.
 * One cluster, grown step by step:
 *   1. intake with 1 API, then with 2 APIs: a burst of durable 202s (each sent after its row committed), no worker
 *      running, so the APIs have the CPU to themselves and the filings wait as a backlog (each API warmed up with
 *      INTAKE_WARMUP filings first);
 *   2. certificates/s with 1 worker process, then with 2: approvals per second over a fixed window while the backlog
 *      lasts (after a few seconds of warm-up for each);
 *   3. p99 submit→approved in an open loop at --rate (50/s unless given) over 2 APIs and 2 workers.
 * Prints a table, the machine's load average before and after, the whole machine's CPU per unit of each step (every
 * process: how far these cores allow a goal), and `BENCH_JSON {...}`.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startLocalCluster, type LocalCluster } from '../src/cluster/local-cluster.js';
import { startSyntheticSources } from '../test/support/synthetic-sources.js';
import type { BenchArgs } from './args.js';
import { INTAKE_WARMUP } from './intake.js';
import { post, prepare, Subjects, type Prepared, type Sent } from './city.js';
import { cpuMs, machineCpuMs, postgresCpuMs, SECRET, selfCpuMs } from './processes.js';
import { fmt, machineNote, machineShare, round, sleep, summarize, type MachineShare } from './stats.js';

/** A burst over `bases` round robin, `concurrency` in flight; bounded to 120 s. */
async function burstOver(bases: string[], filings: Prepared[], concurrency: number): Promise<{ sent: Sent[]; seconds: number }> {
  const out: Sent[] = [];
  let next = 0;
  const t0 = performance.now();
  const until = Date.now() + 120_000;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, filings.length) }, async () => {
      while (next < filings.length && Date.now() < until) {
        const i = next++;
        out.push(await post(bases[i % bases.length]!, filings[i]!, Date.now()));
      }
    }),
  );
  return { sent: out, seconds: (performance.now() - t0) / 1000 };
}

/** Open loop over `bases`: filing i is due at i/rate s whatever the answers did. */
async function openLoopOver(bases: string[], filings: Prepared[], rate: number): Promise<Sent[]> {
  const t0 = Date.now() + 50;
  const inflight: Array<Promise<Sent>> = [];
  for (let i = 0; i < filings.length; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 1) await sleep(wait);
    inflight.push(post(bases[i % bases.length]!, filings[i]!, due));
  }
  return Promise.all(inflight);
}

export async function runClusterBench(args: BenchArgs, log: (m: string) => void): Promise<void> {
  const quick = args.quick;
  const intakeN = args.burst;
  const windowS = quick ? 10 : 30;
  const warmS = quick ? 5 : 10;
  const latN = Math.round(args.rate * args.seconds);
  const concurrency = args.concurrency ?? 4;
  const load0 = os.loadavg();
  log(`cluster topology: node ${process.version}, ${os.cpus().length} CPU, load ${load0.map((l) => l.toFixed(1)).join(' ')}; intake bursts of ${intakeN}, worker windows ${windowS} s, open loop ${args.rate}/s × ${args.seconds} s`);

  const seed = 1 + (Date.now() % 100_000);
  const subjects = new Subjects(seed);
  // Each worker step must start on a backlog it cannot finish inside its warm-up and window. The intake bursts alone
  // ran out on an idle machine (the 2-worker window measured 0/s); a floor of 150/s per step still ran out in a fast
  // hour (1 worker 139/s, and the first worker goes on eating while the second starts and warms up), and measured
  // 2 workers at 0.90× of one. So: room for every running worker at PER_WORKER_CAP through the new one's start,
  // warm-up and window, topped up in rounds because the running workers eat while the top-up is sent.
  const PER_WORKER_CAP = 200;
  const STARTUP_S = 5;
  const backlogFloor = (n: number) => PER_WORKER_CAP * (n * (warmS + windowS) + (n - 1) * STARTUP_S);
  const TOP_UP_ROUNDS = 4;
  // What the rounds may send at most: each round sends what is missing, and the workers eat less than the intake adds.
  const total = 2 * intakeN + 2 * INTAKE_WARMUP + latN + 100 + 2 * (backlogFloor(1) + backlogFloor(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'miaopi-bench-cluster-'));
  chmodSync(dir, 0o755);
  const sources = await startSyntheticSources(total, seed, 120_000);
  let cluster: LocalCluster | null = null;
  const db = { client: null as pg.Client | null };
  try {
    cluster = await startLocalCluster({
      apis: 1,
      workers: 0,
      dir: path.join(dir, 'cluster'),
      // The built code, as the main bench and production run it (`npm run bench` builds first), not src/ through tsx.
      code: 'dist',
      env: { ...sources.env, AUTH_JWT_SECRET: SECRET, CERTS_DIR: path.join(dir, 'certs'), WORKER_CONCURRENCY: String(concurrency), VERIFY_RATE_LIMIT: '0' },
      log: (l) => log(`[cluster] ${l}`),
    });
    db.client = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.client.connect();
    const q = async (text: string, params: unknown[] = []) => (await db.client!.query(text, params)).rows as Array<Record<string, unknown>>;
    const count = async (where: string, params: unknown[] = []) => Number((await q(`select count(*) as n from applications where ${where}`, params))[0]!['n']);

    // CPU time of the service's own processes, from /proc: what a filing costs whatever else the machine runs.
    const cpuOf = (ps: Array<{ pid: number }>) => ps.reduce((t, p) => t + cpuMs(p.pid), 0);
    // PostgreSQL's share: its postmaster and every backend (NaN when /proc does not show them).
    const pgCpu = () => {
      const pid = cluster?.postgres.pid() ?? null;
      return pid === null ? NaN : postgresCpuMs(pid);
    };

    // ---- 1. intake
    const intake: Array<{ apis: number; accepted: number; sent: number; perSec: number; apiCpuMs: number; postgresCpuMs: number; loadCpuMs: number; machine: MachineShare }> = [];
    const api1 = cluster.apis[0]!.url!;
    await burstOver([api1], await prepare(subjects, INTAKE_WARMUP), 64);
    for (const apis of [1, 2]) {
      if (apis === 2) {
        const a2 = await cluster.addApi();
        await burstOver([a2.url!], await prepare(subjects, INTAKE_WARMUP), 64);
      }
      const bases = cluster.apis.slice(0, apis).map((a) => a.url!);
      const filings = await prepare(subjects, intakeN);
      const c0 = cpuOf(cluster.apis);
      const p0 = pgCpu();
      const g0 = selfCpuMs();
      const m0 = machineCpuMs();
      const { sent, seconds } = await burstOver(bases, filings, 64 * apis);
      const ok = sent.filter((s) => s.status === 202);
      const per = (ms: number) => ms / Math.max(1, ok.length);
      const r = { apis, accepted: ok.length, sent: sent.length, perSec: ok.length / seconds, apiCpuMs: per(cpuOf(cluster.apis) - c0), postgresCpuMs: per(pgCpu() - p0), loadCpuMs: per(selfCpuMs() - g0), machine: machineShare(m0, machineCpuMs(), ok.length) };
      intake.push(r);
      const other = sent.filter((s) => s.status !== 202);
      log(`intake, ${apis} API process(es): ${ok.length}/${sent.length} durable 202 in ${fmt(seconds, 2)} s → ${fmt(r.perSec, 0)}/s, API CPU ${fmt(r.apiCpuMs, 2)} ms, PostgreSQL ${fmt(r.postgresCpuMs, 2)} ms, load generator ${fmt(r.loadCpuMs, 2)} ms per 202; ${machineNote(r.machine, '202')}${other.length ? `; not 202: ${other.length} (${other[0]!.status} ${other[0]!.error ?? ''})`.slice(0, 300) : ''}`);
    }

    // ---- 2. workers on the backlog
    const workers: Array<{ workers: number; perSec: number; backlogLeft: number; workerCpuMs: number; postgresCpuMs: number; machine: MachineShare }> = [];
    for (const n of [1, 2]) {
      const floor = backlogFloor(n);
      let added = 0;
      let open = await count(`status in ('queued', 'processing')`);
      for (let round = 0; round < TOP_UP_ROUNDS && open < floor; round++) {
        const extra = await burstOver(cluster.apis.map((a) => a.url!), await prepare(subjects, floor - open), 64);
        added += extra.sent.filter((x) => x.status === 202).length;
        open = await count(`status in ('queued', 'processing')`);
      }
      if (added > 0) log(`backlog topped up by ${added} filings to ${open} open (floor ${floor}) before the ${n}-worker step`);
      await cluster.addWorker();
      await sleep(warmS * 1000);
      const from = new Date().toISOString();
      const c0 = cpuOf(cluster.workers);
      const p0 = pgCpu();
      const m0 = machineCpuMs();
      await sleep(windowS * 1000);
      const to = new Date().toISOString();
      const used = cpuOf(cluster.workers) - c0;
      const pgUsed = pgCpu() - p0;
      const m1 = machineCpuMs();
      const approved = await count(`status = 'approved' and decided_at >= $1 and decided_at < $2`, [from, to]);
      // Every process counts here: the workers, PostgreSQL, Redis and its sentinels, the data sources they read
      // (served by this process) and the idle APIs.
      const machine = machineShare(m0, m1, approved);
      const left = await count(`status in ('queued', 'processing')`);
      const workerCpuMs = used / Math.max(1, approved);
      const postgresCpuMs = pgUsed / Math.max(1, approved);
      workers.push({ workers: n, perSec: approved / windowS, backlogLeft: left, workerCpuMs, postgresCpuMs, machine });
      log(`certificates, ${n} worker process(es) × ${concurrency} jobs: ${approved} approved in ${windowS} s → ${fmt(approved / windowS, 1)}/s, worker CPU ${fmt(workerCpuMs, 1)} ms per approval (${fmt(used / windowS / 10, 0)} % of one core), PostgreSQL ${fmt(postgresCpuMs, 1)} ms (${fmt(pgUsed / windowS / 10, 0)} %); backlog left ${left}${left === 0 ? ' (ran out inside the window: figure is a lower bound)' : ''}; ${machineNote(machine, 'approval')}`);
    }
    const drainUntil = Date.now() + (quick ? 120_000 : 600_000);
    let open = await count(`status in ('queued', 'processing')`);
    while (open > 0 && Date.now() < drainUntil) {
      await sleep(1_000);
      open = await count(`status in ('queued', 'processing')`);
    }
    log(`backlog ${open === 0 ? 'drained' : `NOT drained (${open} open)`}`);

    // ---- 3. latency at --rate over 2 APIs and 2 workers
    const bases = cluster.apis.map((a) => a.url!);
    const sent = await openLoopOver(bases, await prepare(subjects, latN), args.rate);
    const ids = sent.filter((s) => s.id).map((s) => s.id!);
    const due = new Map(sent.filter((s) => s.id).map((s) => [s.id!, s.dueAt]));
    const latUntil = Date.now() + 120_000;
    let rows: Array<Record<string, unknown>> = [];
    for (;;) {
      rows = await q(`select id, status, decided_at from applications where id = any($1)`, [ids]);
      if (rows.every((r) => !['queued', 'processing'].includes(String(r['status']))) || Date.now() > latUntil) break;
      await sleep(500);
    }
    const approvedRows = rows.filter((r) => r['status'] === 'approved');
    const lat = summarize(approvedRows.map((r) => Date.parse(String(r['decided_at'])) - due.get(String(r['id']))!));
    log(`latency: ${approvedRows.length}/${sent.length} approved at ${args.rate}/s; submit→approved p50 ${fmt(lat.p50, 0)} / p95 ${fmt(lat.p95, 0)} / p99 ${fmt(lat.p99, 0)} ms`);

    const load1 = os.loadavg();
    const [i1, i2] = intake;
    const [w1, w2] = workers;
    // The whole machine's CPU per unit that a rate leaves room for on these cores.
    const feasible = (perSec: number) => (os.cpus().length * 1000) / perSec;
    const rowsOut: Array<[string, string, string]> = [
      [`CLUSTER TOPOLOGY (PostgreSQL, Redis via Sentinel; new enterprise per filing; ${os.cpus().length} CPU, load ${load0.map((l) => l.toFixed(1)).join(' ')} → ${load1.map((l) => l.toFixed(1)).join(' ')})`, '', ''],
      ['intake durable 202/s, 1 API process', fmt(i1!.perSec, 0), `API CPU ${fmt(i1!.apiCpuMs, 2)} ms per 202 → ceiling ≈ ${fmt(1000 / i1!.apiCpuMs, 0)}/s per free core; PostgreSQL ${fmt(i1!.postgresCpuMs, 2)} ms per 202`],
      ['intake durable 202/s, 2 API processes', fmt(i2!.perSec, 0), `${fmt(i2!.perSec / i1!.perSec, 2)}× — goal ≥ 3,000/s: ${i2!.perSec >= 3000 ? 'met' : 'NOT met'}`],
      ['  whole machine, 2 API processes (every process, load generator included)', `${fmt(i2!.machine.msPerUnit, 2)} ms per 202`, `${fmt(i2!.machine.busyPct, 0)} % busy → ≈ ${fmt(i2!.machine.ceiling, 0)}/s at most on ${i2!.machine.cores} cores; 3,000/s needs ≤ ${fmt(feasible(3000), 2)} ms per 202`],
      [`certificates/s, 1 worker process × ${concurrency}`, fmt(w1!.perSec, 1), `worker CPU ${fmt(w1!.workerCpuMs, 1)} ms per approval → ceiling ≈ ${fmt(1000 / w1!.workerCpuMs, 0)}/s per free core; PostgreSQL ${fmt(w1!.postgresCpuMs, 1)} ms per approval`],
      [`certificates/s, 2 worker processes × ${concurrency}`, fmt(w2!.perSec, 1), `${fmt(w2!.perSec / w1!.perSec, 2)}× — goal ≥ 1.5×: ${w2!.perSec / w1!.perSec >= 1.5 ? 'met' : 'NOT met'}`],
      ['  whole machine, 1 → 2 worker processes (every process, load generator included)', `${fmt(w1!.machine.msPerUnit, 1)} → ${fmt(w2!.machine.msPerUnit, 1)} ms per approval`, `${fmt(w1!.machine.busyPct, 0)} → ${fmt(w2!.machine.busyPct, 0)} % busy → ≈ ${fmt(w2!.machine.ceiling, 0)}/s at most on ${w2!.machine.cores} cores; 1.5× (${fmt(1.5 * w1!.perSec, 0)}/s) needs ≤ ${fmt(feasible(1.5 * w1!.perSec), 1)} ms per approval`],
      [`p99 submit→approved at ${args.rate}/s, 2 APIs + 2 workers (p50 / p95 / p99 ms)`, `${fmt(lat.p50, 0)} / ${fmt(lat.p95, 0)} / ${fmt(lat.p99, 0)}`, `${approvedRows.length}/${sent.length} approved`],
    ];
    const w0 = Math.max(...rowsOut.map((r) => r[0].length));
    const wv = Math.max(...rowsOut.map((r) => r[1].length));
    console.log('');
    for (const [a, b, c] of rowsOut) console.log(b === '' && c === '' ? a : `${a.padEnd(w0)} | ${b.padEnd(wv)} | ${c}`);
    console.log('');
    console.log(
      `BENCH_JSON ${JSON.stringify({
        topology: 'cluster',
        quick,
        cpus: os.cpus().length,
        load: [load0.map((l) => round(l, 1)), load1.map((l) => round(l, 1))],
        intake: intake.map((r) => ({ apis: r.apis, n: r.sent, accepted: r.accepted, perSec: round(r.perSec, 0), apiCpuMs: round(r.apiCpuMs, 2), postgresCpuMs: round(r.postgresCpuMs, 2), loadGeneratorCpuMs: round(r.loadCpuMs, 2), machineBusyPct: round(r.machine.busyPct, 0), machineCpuMs: round(r.machine.msPerUnit, 2) })),
        workers: workers.map((r) => ({ workers: r.workers, concurrency, certsPerSec: round(r.perSec, 1), backlogLeft: r.backlogLeft, workerCpuMs: round(r.workerCpuMs, 1), postgresCpuMs: round(r.postgresCpuMs, 1), machineBusyPct: round(r.machine.busyPct, 0), machineCpuMs: round(r.machine.msPerUnit, 1) })),
        ratio: { intake: round(i2!.perSec / i1!.perSec, 2), workers: round(w2!.perSec / w1!.perSec, 2) },
        latency: { rate: args.rate, n: sent.length, approved: approvedRows.length, p50: round(lat.p50, 0), p95: round(lat.p95, 0), p99: round(lat.p99, 0) },
      })}`,
    );
  } finally {
    await db.client?.end().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    await sources.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
