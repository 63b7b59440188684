/**
 * Issue 13 item 3: the `npm run cluster` topology (own PostgreSQL, Redis master + replica + 3 sentinels, 2 API and
 * 2 worker processes) under an open-loop load of filings from distinct enterprises (a new 统一社会信用代码 each),
 * while the test SIGKILLs the Redis master (Sentinel promotes the replica), SIGKILLs a worker, SIGKILLs an API
 * process and restarts PostgreSQL. The load balancer it plays sends each filing to the next API and, on a refused
 * connection or a 503, sends it again (same Idempotency-Key) to the other API, as a client honouring Retry-After
 * would. Afterwards: every accepted (202) filing is decided, each approved filing has exactly one certificate,
 * certificate numbers have no duplicate and no gap, and no answer was a 5xx other than 503 with Retry-After.
 * Everything is bounded: load 36 s, drain ≤ 100 s.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCluster, type LocalCluster } from '../../src/cluster/local-cluster.js';
import { sleep } from '../support/processes.js';
import { SECRET, privateCertsDir } from '../support/stack.js';
import { distinctFilings, startSyntheticSources, type DistinctFiling, type SyntheticSources } from '../support/synthetic-sources.js';

const RATE = 8;
const LOAD_SECONDS = 36;
const N = RATE * LOAD_SECONDS;
const DECIDED = new Set(['approved', 'rejected', 'manual_review']);

interface Answer {
  status: number;
  retryAfter: string | null;
  api: string;
  error: string | null;
}

describe('cluster topology under load: Redis master, a worker, an API killed; PostgreSQL restarted', () => {
  const seed = 1 + (Date.now() % 100_000);
  let dir: string;
  let sources: SyntheticSources;
  let cluster: LocalCluster;
  let filings: DistinctFiling[];
  const events: string[] = [];
  const t0 = Date.now();
  const note = (line: string) => {
    const l = `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`;
    events.push(l);
    console.log(`CLUSTER ${l}`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'miaopi-resilience-'));
    // PostgreSQL runs as the postgres user when this runs as root: it must reach its folder below this one.
    chmodSync(dir, 0o755);
    const certsDir = privateCertsDir(path.join(dir, 'certs'));
    [sources, filings] = await Promise.all([startSyntheticSources(N + 10, seed), distinctFilings(N, seed)]);
    cluster = await startLocalCluster({
      dir: path.join(dir, 'cluster'),
      env: { ...sources.env, AUTH_JWT_SECRET: SECRET, CERTS_DIR: certsDir, WORKER_CONCURRENCY: '4', VERIFY_RATE_LIMIT: '0' },
      log: (l) => note(l),
    });
  }, 200_000);

  afterAll(async () => {
    await cluster?.stop().catch(() => undefined);
    await sources?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('decides every accepted filing with one certificate each, numbers without duplicate or gap, only 503s with Retry-After', { timeout: 240_000 }, async () => {
    const answers: Answer[] = [];
    const accepted = new Map<number, string>();
    // The load balancer: round robin over the APIs, skipping one that refused a connection in the last 2 s.
    let rr = 0;
    const downUntil = new Map<string, number>();
    const pick = () => {
      for (let k = 0; k < cluster.apis.length; k++) {
        const api = cluster.apis[rr++ % cluster.apis.length]!;
        if ((downUntil.get(api.name) ?? 0) <= Date.now()) return api;
      }
      return cluster.apis[rr++ % cluster.apis.length]!;
    };
    const send = async (i: number): Promise<void> => {
      const f = filings[i]!;
      // Up to 6 tries, the same Idempotency-Key each time (a retry after a lost answer is the same filing).
      for (let attempt = 0; attempt < 6; attempt++) {
        const api = pick();
        let wait = 500;
        try {
          const res = await fetch(`${api.url}/v1/applications`, {
            method: 'POST',
            headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json', 'idempotency-key': `resilience-${seed}-${i}` },
            body: f.body,
            signal: AbortSignal.timeout(15_000),
          });
          const text = await res.text();
          answers.push({ status: res.status, retryAfter: res.headers.get('retry-after'), api: api.name, error: res.status >= 400 ? text.slice(0, 300) : null });
          if (res.status === 202) {
            accepted.set(i, (JSON.parse(text) as { id: string }).id);
            return;
          }
          if (res.status !== 503) return;
          // Honour Retry-After, capped: the other API may already be able to take it.
          wait = Math.min(2_000, Number(res.headers.get('retry-after') ?? '1') * 1000);
        } catch (err) {
          const e = err as Error & { cause?: { code?: string } };
          answers.push({ status: 0, retryAfter: null, api: api.name, error: e.cause?.code ?? e.name });
          downUntil.set(api.name, Date.now() + 2_000);
          wait = 100;
        }
        await sleep(wait);
      }
    };

    const loadStart = Date.now();
    /** Resolves once the process manager started `p` again (a new pid), bounded. */
    const waitNewPid = async (p: { pid: number }, old: number) => {
      for (let k = 0; k < 100 && p.pid === old; k++) await sleep(100);
    };
    // The faults, at fixed times into the load.
    const killed: string[] = [];
    const faults = (async () => {
      await sleep(6_000);
      const master = await cluster.redis.masterPort();
      cluster.redis.kill(master);
      note(`SIGKILL redis master :${master}`);
      const tFail = Date.now();
      let promoted = master;
      while (promoted === master && Date.now() - tFail < 30_000) {
        await sleep(200);
        promoted = await cluster.redis.masterPort().catch(() => master);
      }
      note(`sentinels name :${promoted} master after ${Date.now() - tFail} ms`);
      killed.push(`redis master :${master} (promoted :${promoted} in ${Date.now() - tFail} ms)`);

      await sleep(Math.max(0, 14_000 - (Date.now() - loadStart)));
      const w = cluster.workers[0]!;
      const wpid = w.pid;
      w.kill('SIGKILL');
      note(`SIGKILL ${w.name} pid ${wpid}`);
      // Not awaited: a restart still under way when the cluster stops ends in a rejection, which must not be unhandled.
      void waitNewPid(w, wpid)
        .then(() => w.ready())
        .then(
          () => note(`${w.name} started again, pid ${w.pid}`),
          (err: unknown) => note(`${w.name} not started again before the end: ${String(err).split('\n')[0]}`),
        );
      killed.push(`${w.name} pid ${wpid}`);

      await sleep(Math.max(0, 20_000 - (Date.now() - loadStart)));
      const a = cluster.apis[0]!;
      const apid = a.pid;
      a.kill('SIGKILL');
      note(`SIGKILL ${a.name} pid ${apid}`);
      void waitNewPid(a, apid)
        .then(() => a.ready())
        .then(
          () => note(`${a.name} listening again, pid ${a.pid}`),
          (err: unknown) => note(`${a.name} not listening again before the end: ${String(err).split('\n')[0]}`),
        );
      killed.push(`${a.name} pid ${apid}`);

      await sleep(Math.max(0, 26_000 - (Date.now() - loadStart)));
      const tPg = Date.now();
      await cluster.postgres.stop();
      note('PostgreSQL stopped (fast shutdown: 57P01 to every backend)');
      await sleep(1_000);
      await cluster.postgres.start();
      note(`PostgreSQL accepting again after ${Date.now() - tPg} ms`);
      killed.push(`postgres restart (${Date.now() - tPg} ms down)`);
    })();

    // Open loop: filing i is sent at i/RATE s whatever happened to the earlier ones.
    note(`load: ${N} filings from distinct enterprises at ${RATE}/s over ${cluster.apis.length} APIs`);
    const inflight: Array<Promise<void>> = [];
    for (let i = 0; i < N; i++) {
      const wait = loadStart + (i * 1000) / RATE - Date.now();
      if (wait > 1) await sleep(wait);
      inflight.push(send(i));
    }
    await Promise.all(inflight);
    await faults;
    note(`load done: ${accepted.size}/${N} accepted`);

    // Drain: every accepted filing decided (a job of the killed worker comes back after BullMQ's 30 s lock).
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    try {
      const ids = [...accepted.values()];
      // Every application in the database counts: a filing committed whose 202 was lost on the way (an API killed
      // after the commit) is decided and certified like the others.
      let statuses = new Map<string, string>();
      const until = Date.now() + 100_000;
      for (;;) {
        const r = await db.query<{ id: string; status: string }>('select id, status from applications');
        statuses = new Map(r.rows.map((x) => [x.id, x.status]));
        const open = [...new Set([...ids, ...statuses.keys()])].filter((id) => !DECIDED.has(statuses.get(id) ?? 'missing'));
        if (open.length === 0 || Date.now() > until) break;
        await sleep(1_000);
      }
      note('drained');
      const tally: Record<string, number> = {};
      for (const id of new Set([...ids, ...statuses.keys()])) {
        const s = statuses.get(id) ?? 'missing';
        tally[s] = (tally[s] ?? 0) + 1;
      }
      const certs = (await db.query<{ application_id: string; number: string }>('select application_id, number from certificates')).rows;
      const all = statuses.size;
      const unanswered = all - ids.length;

      const approved = [...statuses.keys()].filter((id) => statuses.get(id) === 'approved');
      const perApp = new Map<string, number>();
      for (const c of certs) perApp.set(c.application_id, (perApp.get(c.application_id) ?? 0) + 1);
      const dupApps = [...perApp.entries()].filter(([, n]) => n > 1);
      const approvedWithout = approved.filter((id) => (perApp.get(id) ?? 0) !== 1);
      const certOfUnapproved = [...perApp.keys()].filter((id) => statuses.get(id) !== 'approved');
      const numbers = certs.map((c) => c.number);
      const dupNumbers = numbers.filter((n, i) => numbers.indexOf(n) !== i);
      // 〔year〕serial号 per prefix and year: 1..count, nothing skipped.
      const series = new Map<string, number[]>();
      for (const n of numbers) {
        const m = /^(.*〔\d{4}〕)(\d+)号$/.exec(n);
        if (!m) throw new Error(`certificate number of an unknown form: ${n}`);
        series.set(m[1]!, [...(series.get(m[1]!) ?? []), Number(m[2])]);
      }
      const gaps: string[] = [];
      for (const [prefix, xs] of series) {
        const sorted = [...xs].sort((a, b) => a - b);
        sorted.forEach((x, i) => {
          if (x !== i + 1) gaps.push(`${prefix}: position ${i + 1} holds ${x}`);
        });
      }
      const byStatus = answers.reduce<Record<string, number>>((m, a) => ({ ...m, [a.status]: (m[a.status] ?? 0) + 1 }), {});
      const bad5xx = answers.filter((a) => a.status >= 500 && !(a.status === 503 && /^\d+$/.test(a.retryAfter ?? '')));
      const otherRefusals = answers.filter((a) => a.status >= 400 && a.status < 500);
      const unsent = N - accepted.size;

      console.log(
        [
          `RESILIENCE killed: ${killed.join('; ')}`,
          `RESILIENCE restarts: ${[...cluster.apis, ...cluster.workers].map((p) => `${p.name}×${p.starts}`).join(', ')}`,
          `RESILIENCE answers ${JSON.stringify(byStatus)} (0 = connection refused/reset/timeout, retried on the other API); ${accepted.size}/${N} filings accepted, ${unsent} never accepted after 6 tries; applications in the database ${all} (${unanswered} committed whose 202 never arrived)`,
          `RESILIENCE connection faults: ${JSON.stringify(answers.filter((a) => a.status === 0).reduce<Record<string, number>>((m, a) => ({ ...m, [`${a.api} ${a.error}`]: (m[`${a.api} ${a.error}`] ?? 0) + 1 }), {}))}`,
          `RESILIENCE decided ${JSON.stringify(tally)}; certificates ${certs.length} for ${approved.length} approved; duplicates per filing ${dupApps.length}; approved without exactly one ${approvedWithout.length}; certificates of unapproved ${certOfUnapproved.length}`,
          `RESILIENCE numbers: ${[...series].map(([p, xs]) => `${p}${Math.min(...xs)}..${Math.max(...xs)} (${xs.length})`).join(', ')}; duplicate numbers ${dupNumbers.length}; gaps ${gaps.length}; 5xx other than 503+Retry-After ${bad5xx.length}`,
        ].join('\n'),
      );
      if (otherRefusals.length) console.log(`RESILIENCE 4xx: ${JSON.stringify(otherRefusals.slice(0, 5))}`);

      expect(bad5xx, JSON.stringify(bad5xx.slice(0, 5))).toEqual([]);
      expect(otherRefusals, JSON.stringify(otherRefusals.slice(0, 5))).toEqual([]);
      expect(tally['missing'] ?? 0).toBe(0);
      expect([...new Set([...ids, ...statuses.keys()])].filter((id) => !DECIDED.has(statuses.get(id) ?? 'missing')), JSON.stringify(tally)).toEqual([]);
      // Liveness, not the property under test: on an idle machine ~99 % are accepted; on a starved one (load 20 on 2
      // cores) a restarted API needs a minute to listen and the other times out, so only a floor is asserted.
      expect(accepted.size, 'filings accepted').toBeGreaterThan(N * 0.25);
      expect(approved.length, JSON.stringify(tally)).toBeGreaterThan(0);
      expect(dupApps).toEqual([]);
      expect(approvedWithout).toEqual([]);
      expect(certOfUnapproved).toEqual([]);
      expect(dupNumbers).toEqual([]);
      expect(gaps.slice(0, 10)).toEqual([]);
      expect(killed).toHaveLength(4);
    } finally {
      await db.end();
    }
  });
});
