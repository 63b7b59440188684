/**
 * 秒批秒办 benchmark: micro (rules, PDFs, signing) and end to end over the real stack.
 *
 *   npm run bench -- [--db sqlite|postgres] [--rate N] [--seconds S] [--burst N] [--workers N] [--quick]
 *
 * Everything runs in this one Node process, as in test/support/stack.ts: the HTTP data-source server, the
 * Fastify API (on a real loopback port), the BullMQ worker and the load generator share one event loop and the
 * machine's cores with redis-server (and PostgreSQL). Absolute figures are therefore pessimistic for the API,
 * which production runs in its own process. Prints a table and, last, one line `BENCH_JSON {...}`.
 */
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { startWorkerRuntime, type WorkerRuntime } from '../src/worker-runtime.js';
import { startStack, type Stack } from '../test/support/stack.js';
import { parseArgs } from './args.js';
import { runCatalogBench } from './catalog.js';
import {
  childCpuMs,
  closedLoop,
  monitor,
  openLoop,
  outcomes,
  postFiling,
  readRows,
  timings,
  waitDrained,
  type Client,
  type Outcomes,
} from './e2e.js';
import { ENTERPRISES, filingKeys, type FilingKey } from './filings.js';
import { runMicro } from './micro.js';
import { fmt, now, round, summarize } from './stats.js';

const args = parseArgs(process.argv.slice(2));
const benchStart = now();
const log = (msg: string) => console.log(`[${fmt((now() - benchStart) / 1000, 1).padStart(6)} s] ${msg}`);
const outcomeText = (o: Outcomes) =>
  `approved ${o.approved}, rejected ${o.rejected}, manual ${o.manual}, failed ${o.failed}, unfinished ${o.unfinished}, not accepted ${o.notAccepted}`;
const drainBound = (n: number) => Math.max(30_000, n * 250);

/** `npm run bench -- catalog`: load+validate, RSS and guide/precheck latency, 5-matter vs seed-scale catalog. */
async function runCatalog(): Promise<void> {
  const figures = await runCatalogBench({ iterations: args.quick ? 300 : 2000 });
  console.log(`BENCH_JSON ${JSON.stringify({ catalog: figures })}`);
}

async function main(): Promise<void> {
  log(
    `node ${process.version}, ${os.cpus().length} CPU (${os.cpus()[0]?.model ?? '?'}), db ${args.db}, ` +
      `rate ${args.rate}/s × ${args.seconds} s, burst ${args.burst}${args.quick ? ', --quick' : ''}`,
  );
  let stack: Stack | null = null;
  let runtime: WorkerRuntime | null = null;
  try {
    stack = await startStack({ backend: args.db, httpSources: true, worker: false });
    const st = stack;
    await st.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (st.app.server.address() as AddressInfo).port;
    const client: Client = { base: `http://127.0.0.1:${port}`, tokens: new Map() };
    for (const e of ENTERPRISES) client.tokens.set(e.uscc, await st.token(e.uscc));
    const workers = args.workers ?? st.deps.config.workerConcurrency;
    log(`stack up: API http://127.0.0.1:${port}, data sources over HTTP (${st.sources ? 'test/support/datasource-server' : 'fixture'}), redis ${st.redis.url}, worker concurrency ${workers}`);

    // ---------------- 1. micro
    log('micro: rules, renderCertificate, renderForm, signPdf, buildCms …');
    const micro = await runMicro(st.deps, { iterations: args.microIterations, rulesMs: args.rulesMs });
    log(`micro done (YAML test case → ${micro.rulesOutcome}; certificate ${micro.certificateBytes} B, form ${micro.formBytes} B)`);

    runtime = startWorkerRuntime(st.deps, { concurrency: workers });

    // ---------------- seeding: one 首次 filing per (enterprise, region); also warms the whole stack
    const keys = filingKeys(args.seedRegions);
    const seedSent = await closedLoop(keys.length, 8, 60_000, (i) => postFiling(client, keys[i]!, '首次'));
    const seedDrained = await waitDrained(st, drainBound(keys.length));
    const seedRows = await readRows(st, seedSent);
    const seedOut = outcomes(seedRows);
    log(`seed: ${keys.length} first filings (${ENTERPRISES.length} enterprises × ${keys.length / ENTERPRISES.length} regions) → ${outcomeText(seedOut)}${seedDrained ? '' : ' (NOT drained in time)'}`);
    for (const s of seedOut.samples) log(`  seed not approved: ${s}`);
    const active: FilingKey[] = seedRows.filter((d) => d.row?.status === 'approved').map((d) => d.sent.key);
    if (active.length === 0) throw new Error('no seed filing was approved: nothing approvable to measure');

    // ---------------- 2a. latency, open loop
    log(`latency: open loop ${args.rate}/s for ${args.seconds} s (变更 filings over ${active.length} keys) …`);
    let mon = monitor();
    const latSent = await openLoop(client, active, args.rate, args.seconds);
    const sendSpan = (Math.max(...latSent.map((s) => s.sentAt)) - Math.min(...latSent.map((s) => s.sentAt))) / 1000;
    const latDrained = await waitDrained(st, drainBound(latSent.length));
    const latMon = mon.stop();
    const latRows = await readRows(st, latSent);
    const latOut = outcomes(latRows);
    const lat = timings(latRows);
    log(`latency: ${latSent.length} sent in ${fmt(sendSpan, 2)} s → ${outcomeText(latOut)}${latDrained ? '' : ' (NOT drained in time)'}`);
    for (const s of latOut.samples) log(`  latency not approved: ${s}`);

    // ---------------- 2b. throughput, burst
    log(`throughput: burst of ${args.burst} …`);
    mon = monitor();
    const cpu0 = process.cpuUsage();
    const redisCpu0 = childCpuMs(st.redis.process.pid);
    const tpSent = await closedLoop(args.burst, 64, 60_000, (i) => postFiling(client, active[i % active.length]!, '变更'));
    const enqueuedIn = (Math.max(...tpSent.map((s) => s.respondedAt)) - Math.min(...tpSent.map((s) => s.sentAt))) / 1000;
    const tpDrained = await waitDrained(st, drainBound(tpSent.length));
    const cpu = process.cpuUsage(cpu0);
    const redisCpuMs = childCpuMs(st.redis.process.pid) - redisCpu0;
    const tpMon = mon.stop();
    const tpRows = await readRows(st, tpSent);
    const tpOut = outcomes(tpRows);
    const tp = timings(tpRows);
    const tpSpan = (tp.lastDecided - tp.firstSend) / 1000;
    const certsPerSec = tpOut.approved / tpSpan;
    // Steady state: between the 10th and the 90th decided certificate, leaving out ramp-up and tail.
    const decidedTimes = tpRows.filter((d) => d.row?.status === 'approved' && d.row.decidedAt).map((d) => Date.parse(d.row!.decidedAt!)).sort((a, b) => a - b);
    const lo = Math.floor(decidedTimes.length * 0.1);
    const hi = Math.max(lo, Math.ceil(decidedTimes.length * 0.9) - 1);
    const steadyPerSec = hi > lo ? (hi - lo) / ((decidedTimes[hi]! - decidedTimes[lo]!) / 1000) : NaN;
    const cpuMsPerCert = (cpu.user + cpu.system) / 1000 / tpOut.approved;
    log(`throughput: ${tpSent.length} accepted in ${fmt(enqueuedIn, 2)} s → ${outcomeText(tpOut)}${tpDrained ? '' : ' (NOT drained in time)'}`);
    for (const s of tpOut.samples) log(`  throughput not approved: ${s}`);

    // ---------------- 2c. intake alone (worker and relay stopped)
    await runtime.close();
    runtime = null;
    log(`intake: ${args.intakeRequests} POSTs at concurrency ${args.intakeConcurrency}, worker stopped …`);
    // Floor of this process's HTTP path (fetch client + Fastify, no auth/DB/queue) at the same concurrency.
    const hzT0 = now();
    const hz = await closedLoop(args.intakeRequests, args.intakeConcurrency, 30_000, async () => {
      const res = await fetch(`${client.base}/healthz`, { signal: AbortSignal.timeout(10_000) });
      await res.text();
      return res.status;
    });
    const healthzPerSec = hz.filter((s) => s === 200).length / ((now() - hzT0) / 1000);
    mon = monitor();
    const inCpu0 = process.cpuUsage();
    const inT0 = now();
    const inSent = await closedLoop(args.intakeRequests, args.intakeConcurrency, 60_000, (i) => postFiling(client, active[i % active.length]!, '变更'));
    const inSpan = (now() - inT0) / 1000;
    const inCpu = process.cpuUsage(inCpu0);
    const inMon = mon.stop();
    const inAccepted = inSent.filter((s) => s.status === 202).length;
    const inLat = summarize(inSent.filter((s) => s.status === 202).map((s) => s.respondedAt - s.sentAt));
    const inErrors = inSent.filter((s) => s.status !== 202);
    const inCpuMsPerReq = (inCpu.user + inCpu.system) / 1000 / Math.max(1, inSent.length);
    log(`intake: ${inAccepted}/${inSent.length} accepted (202) in ${fmt(inSpan, 2)} s${inErrors.length ? `; first error: HTTP ${inErrors[0]!.status} ${inErrors[0]!.error ?? ''}` : ''}`);

    const rssMb = Math.max(latMon.peakRssMb, tpMon.peakRssMb, inMon.peakRssMb);

    // ---------------- report
    const microCpu = micro.renderCertificate.p50 + micro.renderForm.p50 + 2 * micro.signPdf.p50 + 1000 / micro.rulesPerSec;
    const rows: Array<[string, string, string]> = [
      ['MICRO (warm, one call at a time)', '', ''],
      ['rules: evaluateRules decisions/s', fmt(micro.rulesPerSec, 0), '~3,100 (JSONPath) / ~5,300 (cached path resolver)'],
      ['renderCertificate ms p50 / p95', `${fmt(micro.renderCertificate.p50)} / ${fmt(micro.renderCertificate.p95)}`, '~35 (Noto CFF); 19–28 templated + vector QR'],
      ['renderForm ms p50 / p95', `${fmt(micro.renderForm.p50)} / ${fmt(micro.renderForm.p95)}`, '—'],
      ['signPdf ms p50 / p95', `${fmt(micro.signPdf.p50, 2)} / ${fmt(micro.signPdf.p95, 2)}`, '~0.7 (forge.asn1 CMS + node RSA); 59 stock signpdf'],
      ['buildCms ms p50 / p95', `${fmt(micro.buildCms.p50, 2)} / ${fmt(micro.buildCms.p95, 2)}`, 'RSA-2048 sign alone ≈ 0.4 (2,523/s)'],
      [`verifyPdf ms p50 / p95 (→ ${micro.verifyIndication})`, `${fmt(micro.verifyPdf.p50, 2)} / ${fmt(micro.verifyPdf.p95, 2)}`, '—'],
      ['verifications/s (one core, 1 / p50)', fmt(1000 / micro.verifyPdf.p50, 0), '—'],
      [`OFD build (layout + SM2 seal signature + ZIP) ms p50 / p95 (${micro.ofdBytes} B)`, `${fmt(micro.buildOfd.p50)} / ${fmt(micro.buildOfd.p95)}`, '— (gm departments only)'],
      ['SM2 sign (SM3 + Z, sm-crypto-v2) ms p50', fmt(micro.sm2Sign.p50, 2), '~0.8'],
      [`verifyOfd ms p50 (→ ${micro.ofdIndication})`, fmt(micro.verifyOfd.p50, 2), 'SM2 verify ~5.6 each'],
      ['sum per filing (2 PDFs + 2 signs + rules) ms', fmt(microCpu), ''],
      [`E2E LATENCY (open loop ${args.rate}/s × ${args.seconds} s, n=${latSent.length})`, '', ''],
      ['outcomes', `${latOut.approved} approved / ${latOut.rejected} rejected / ${latOut.manual} manual${latOut.failed + latOut.unfinished + latOut.notAccepted ? ` / ${latOut.failed} failed / ${latOut.unfinished} unfinished / ${latOut.notAccepted} not accepted` : ''}`, ''],
      ['due → approved ms p50 / p95 / p99', `${fmt(lat.e2e.p50, 0)} / ${fmt(lat.e2e.p95, 0)} / ${fmt(lat.e2e.p99, 0)}`, ''],
      ['createdAt → decidedAt ms p50 / p95 / p99', `${fmt(lat.server.p50, 0)} / ${fmt(lat.server.p95, 0)} / ${fmt(lat.server.p99, 0)}`, ''],
      ['  queue wait (created → picked up) p50 / p99', `${fmt(lat.queueWait.p50, 0)} / ${fmt(lat.queueWait.p99, 0)}`, 'BullMQ add→completed p99 ≈ 6 at 100/s'],
      ['  processing (picked up → decided) p50 / p99', `${fmt(lat.processing.p50, 0)} / ${fmt(lat.processing.p99, 0)}`, ''],
      ['HTTP 202 ms p50 / p99', `${fmt(lat.http202.p50, 1)} / ${fmt(lat.http202.p99, 1)}`, ''],
      ['generator send lag ms p50 / p99', `${fmt(lat.sendLag.p50, 1)} / ${fmt(lat.sendLag.p99, 1)}`, ''],
      ['event-loop delay p99 / max ms', `${fmt(latMon.loopDelayP99Ms, 0)} / ${fmt(latMon.loopDelayMaxMs, 0)}`, 'PDF blocks the loop 20–40 ms'],
      [`E2E THROUGHPUT (burst ${args.burst}, worker concurrency ${workers})`, '', ''],
      ['outcomes', `${tpOut.approved} approved / ${tpOut.rejected} rejected / ${tpOut.manual} manual${tpOut.failed + tpOut.unfinished + tpOut.notAccepted ? ` / ${tpOut.failed} failed / ${tpOut.unfinished} unfinished / ${tpOut.notAccepted} not accepted` : ''}`, ''],
      ['certificates/s (first POST → last decision)', fmt(certsPerSec, 1), '~24/s one process conc. 4 (1 PDF); ~59/s templated'],
      ['certificates/s steady (10th → 90th pct decision)', fmt(steadyPerSec, 1), ''],
      ['burst accepted by API in s', fmt(enqueuedIn, 2), ''],
      ['processing per filing ms p50 / p99', `${fmt(tp.processing.p50, 0)} / ${fmt(tp.processing.p99, 0)}`, ''],
      ['CPU ms per certificate (this process)', fmt(cpuMsPerCert, 1), ''],
      ['redis-server CPU ms per certificate', fmt(redisCpuMs / tpOut.approved, 2), ''],
      [`INTAKE (worker stopped, ${args.intakeRequests} POSTs, concurrency ${args.intakeConcurrency})`, '', ''],
      ['accepted/s', fmt(inAccepted / inSpan, 0), '~8,900 req/s p99 12–16 (Fastify+ajv+BullMQ add, no DB)'],
      ['POST latency ms p50 / p99', `${fmt(inLat.p50, 1)} / ${fmt(inLat.p99, 1)}`, ''],
      ['CPU ms per POST (client + API, this process)', fmt(inCpuMsPerReq, 2), ''],
      ['floor: GET /healthz req/s, same client & concurrency', fmt(healthzPerSec, 0), '~20,300 req/s (Fastify + ajv, 50 conn., separate generator)'],
      ['PROCESS', '', ''],
      ['peak RSS MB', fmt(rssMb, 0), ''],
      ['database', args.db, ''],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    console.log('');
    console.log(`${'metric'.padEnd(w0)} | ${'measured'.padEnd(w1)} | MEASURED.md (prototype, same kind of machine)`);
    console.log(`${'-'.repeat(w0)}-+-${'-'.repeat(w1)}-+-${'-'.repeat(46)}`);
    for (const [a, b, c] of rows) {
      if (b === '' && c === '') console.log(a);
      else console.log(`${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c}`);
    }
    console.log('');

    const json = {
      rulesPerSec: round(micro.rulesPerSec, 0),
      pdfBuildMs: round(micro.renderCertificate.p50, 2),
      formBuildMs: round(micro.renderForm.p50, 2),
      signMs: round(micro.signPdf.p50, 3),
      verifyMs: round(micro.verifyPdf.p50, 3),
      verificationsPerSec: round(1000 / micro.verifyPdf.p50, 0),
      ofdBuildMs: round(micro.buildOfd.p50, 2),
      sm2SignMs: round(micro.sm2Sign.p50, 3),
      verifyOfdMs: round(micro.verifyOfd.p50, 2),
      e2e: {
        rate: args.rate,
        p50: round(lat.e2e.p50, 0),
        p95: round(lat.e2e.p95, 0),
        p99: round(lat.e2e.p99, 0),
        approved: latOut.approved,
        rejected: latOut.rejected,
        manual: latOut.manual,
      },
      throughput: { certsPerSec: round(certsPerSec, 2), n: tpOut.approved },
      intake: { acceptedPerSec: round(inAccepted / inSpan, 0), p99Ms: round(inLat.p99, 1) },
      rssMb: round(rssMb, 0),
      cpuMsPerCert: round(cpuMsPerCert, 1),
      db: args.db,
      detail: {
        quick: args.quick,
        workers,
        cpus: os.cpus().length,
        node: process.version,
        pdfBuildP95Ms: round(micro.renderCertificate.p95, 2),
        formBuildP95Ms: round(micro.renderForm.p95, 2),
        signP95Ms: round(micro.signPdf.p95, 3),
        cmsMs: round(micro.buildCms.p50, 3),
        e2eServerP50: round(lat.server.p50, 0),
        e2eServerP99: round(lat.server.p99, 0),
        e2eQueueWaitP50: round(lat.queueWait.p50, 0),
        e2eProcessingP50: round(lat.processing.p50, 0),
        http202P50: round(lat.http202.p50, 1),
        http202P99: round(lat.http202.p99, 1),
        e2eFailed: latOut.failed,
        e2eUnfinished: latOut.unfinished,
        e2eNotAccepted: latOut.notAccepted,
        steadyCertsPerSec: round(steadyPerSec, 2),
        throughputNotApproved: tpSent.length - tpOut.approved,
        redisCpuMsPerCert: round(redisCpuMs / tpOut.approved, 2),
        loopDelayP99Ms: round(latMon.loopDelayP99Ms, 0),
        seedApproved: seedOut.approved,
        seedTotal: keys.length,
        dataSources: 'http',
        intakeCpuMsPerReq: round(inCpuMsPerReq, 2),
        healthzPerSec: round(healthzPerSec, 0),
        seconds: round((now() - benchStart) / 1000, 1),
      },
    };
    console.log(`BENCH_JSON ${JSON.stringify(json)}`);
  } finally {
    if (runtime) await runtime.close();
    if (stack) await stack.close();
  }
}

(process.argv[2] === 'catalog' ? runCatalog() : main()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
