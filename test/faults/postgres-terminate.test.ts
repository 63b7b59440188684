/**
 * Issue 13: PostgreSQL terminating connections (57P01 admin_shutdown — what a restart or `pg_terminate_backend` sends)
 * must not kill the API or the worker. Both processes connect under their own application_name; the test terminates
 * every backend of theirs, once while idle and then repeatedly under load. The processes stay up (same pid), every
 * answer is 202 or 503 with Retry-After, and every accepted filing is decided.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../support/databases.js';
import {
  approvableFilings,
  postFiling,
  sleep,
  startFaultBed,
  tally,
  tokensFor,
  waitAllDecided,
  type FaultBed,
  type ServiceProcess,
} from '../support/processes.js';

describe('PostgreSQL terminating the connections of API and worker (57P01)', () => {
  let bed: FaultBed;
  let api: { proc: ServiceProcess; url: string };
  let worker: ServiceProcess;
  const appName = `msbb_term_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'postgres' });
    const url = new URL(bed.db.options.databaseUrl!);
    url.searchParams.set('application_name', appName);
    api = await bed.api({ DATABASE_URL: url.toString() });
    worker = bed.worker(4, { DATABASE_URL: url.toString() });
    await worker.ready;
    await admin.connect();
  }, 120_000);

  afterAll(async () => {
    await admin.end().catch(() => undefined);
    await bed?.close();
  });

  /** Terminates every backend of the two processes; returns how many. */
  const terminate = async (): Promise<number> => {
    const r = await admin.query<{ ok: boolean }>('select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1', [appName]);
    return r.rows.filter((x) => x.ok).length;
  };

  it('keeps both processes up, answers 202 or 503 + Retry-After, and decides every accepted filing', { timeout: 150_000 }, async () => {
    const filings = approvableFilings(60);
    const tokens = await tokensFor(bed, filings);
    const answers: Array<{ status: number; retryAfter: string | null; id: string | null }> = [];
    const post = async (i: number) => {
      const f = filings[i]!;
      const res = await fetch(`${api.url}/v1/applications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.get(f.uscc)!}`, 'content-type': 'application/json' },
        body: JSON.stringify(f.body),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      answers.push({ status: res.status, retryAfter: res.headers.get('retry-after'), id: typeof body['id'] === 'string' ? body['id'] : null });
    };

    // Warm: both processes hold pooled connections.
    for (let i = 0; i < 5; i++) await post(i);
    await sleep(1000);
    const killedIdle = await terminate();
    expect(killedIdle, 'backends of API + worker to terminate').toBeGreaterThan(0);
    await sleep(500);
    expect(api.proc.running, api.proc.tail()).toBe(true);
    expect(worker.running, worker.tail()).toBe(true);
    // The next request after the idle clients died is served on a new connection.
    const first = await postFiling(api.url, tokens.get(filings[5]!.uscc)!, filings[5]!.body);
    answers.push({ status: first.status, retryAfter: null, id: typeof first.body['id'] === 'string' ? first.body['id'] : null });
    expect(first.status, JSON.stringify(first.body)).toBe(202);

    // Under load: 54 filings, 8 in flight, while every backend of theirs is terminated every 150 ms for 6 s.
    let killedUnderLoad = 0;
    let rounds = 0;
    const until = Date.now() + 6_000;
    const killer = (async () => {
      while (Date.now() < until) {
        killedUnderLoad += await terminate();
        rounds++;
        await sleep(150);
      }
    })();
    let next = 6;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < filings.length) {
          const i = next++;
          await post(i);
          await sleep(50);
        }
      }),
    );
    await killer;
    expect(api.proc.running, api.proc.tail()).toBe(true);
    expect(worker.running, worker.tail()).toBe(true);

    const bad = answers.filter((a) => a.status !== 202 && !(a.status === 503 && /^\d+$/.test(a.retryAfter ?? '')));
    expect(bad, 'answers other than 202 and 503 + Retry-After').toEqual([]);
    const accepted = answers.filter((a) => a.status === 202).map((a) => a.id!);
    const statuses = await waitAllDecided(bed, accepted, 90_000);
    const counts = tally(statuses);
    expect(counts['approved'] ?? 0, JSON.stringify(counts)).toBeGreaterThan(0);
    const certs = await bed.certificateCounts();
    expect([...certs.perApplication.values()].filter((n) => n > 1)).toEqual([]);
    expect(api.proc.running && worker.running).toBe(true);
    const byStatus = answers.reduce<Record<string, number>>((m, a) => ({ ...m, [a.status]: (m[a.status] ?? 0) + 1 }), {});
    console.log(
      `FAULT postgres-terminate: terminated ${killedIdle} idle backends, then ${killedUnderLoad} in ${rounds} rounds under load; ` +
        `answers ${JSON.stringify(byStatus)}; accepted ${accepted.length}, decided ${JSON.stringify(counts)}; ` +
        `certificates ${certs.total}; API pid ${api.proc.pid} and worker pid ${worker.pid} still running; ` +
        `pool errors logged: API ${api.proc.messages.get('postgres idle client error') ?? 0}, worker ${worker.messages.get('postgres idle client error') ?? 0}`,
    );
  });
});
