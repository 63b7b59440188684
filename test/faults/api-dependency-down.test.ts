/**
 * Issue 13: while PostgreSQL or Redis is away the API answers 503 with Retry-After and the stable code
 * SERVICE_UNAVAILABLE (Chinese + English message) — never a 500 or another 5xx — and works again once it is back.
 * The API process reaches both through TCP proxies the test cuts (connections reset, new ones refused: a restart).
 * Redis away does not stop intake: a filing is durable once its row commits, the outbox relay enqueues it later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approvableFilings,
  eventually,
  startFaultBed,
  startTcpProxy,
  tally,
  tokensFor,
  waitAllDecided,
  type FaultBed,
  type TcpProxy,
} from '../support/processes.js';

interface Answer {
  what: string;
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

async function call(what: string, url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { what, status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

/** Every 5xx must be a 503 with Retry-After and the stable code and bilingual message. */
function expectOnly503s(answers: Answer[]): void {
  for (const a of answers.filter((x) => x.status >= 500)) {
    expect(a.status, `${a.what}: ${JSON.stringify(a.body)}`).toBe(503);
    expect(a.retryAfter, a.what).toMatch(/^\d+$/);
    if (a.what !== 'readyz') {
      expect(a.body['code'], a.what).toBe('SERVICE_UNAVAILABLE');
      expect(String(a.body['message'])).toMatch(/[\u4e00-\u9fff]/);
      expect(String(a.body['message'])).toMatch(/retry later/i);
    }
  }
}

describe('API with PostgreSQL or Redis unreachable (postgres)', () => {
  let bed: FaultBed;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let apiUrl: string;

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'postgres' });
    const dbUrl = new URL(bed.db.options.databaseUrl!);
    pgProxy = await startTcpProxy(Number(dbUrl.port || '5432'));
    redisProxy = await startTcpProxy(bed.redisPort);
    dbUrl.hostname = '127.0.0.1';
    dbUrl.port = String(pgProxy.port);
    const { url } = await bed.api({ DATABASE_URL: dbUrl.toString(), REDIS_URL: `redis://127.0.0.1:${redisProxy.port}` });
    apiUrl = url;
  }, 120_000);

  afterAll(async () => {
    await pgProxy?.close();
    await redisProxy?.close();
    await bed?.close();
  });

  it('answers 503 + Retry-After while PostgreSQL is away, 202 again after; 202 while Redis is away; nothing lost', { timeout: 240_000 }, async () => {
    const filings = approvableFilings(24);
    const tokens = await tokensFor(bed, filings);
    const token = tokens.get(filings[0]!.uscc)!;
    const all: Answer[] = [];
    const post = async (i: number, what: string) => {
      const f = filings[i]!;
      const a = await call(what, `${apiUrl}/v1/applications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.get(f.uscc)!}`, 'content-type': 'application/json' },
        body: JSON.stringify(f.body),
      });
      all.push(a);
      return a;
    };

    // Up: accepted.
    const before = await post(0, 'post (up)');
    expect(before.status, JSON.stringify(before.body)).toBe(202);
    const firstId = before.body['id'] as string;

    // PostgreSQL away: intake, status and readiness answer 503 with Retry-After, never 500.
    pgProxy.cut();
    const down: Answer[] = [];
    for (let i = 1; i <= 6; i++) down.push(await post(i, `post (pg down) #${i}`));
    down.push(await call('get (pg down)', `${apiUrl}/v1/applications/${firstId}`, { headers: { authorization: `Bearer ${token}` } }));
    down.push(await call('readyz', `${apiUrl}/readyz`));
    all.push(...down.slice(6));
    expectOnly503s(down);
    expect(down.map((a) => a.status)).toEqual(down.map(() => 503));

    // PostgreSQL back: accepted again within seconds.
    pgProxy.restore();
    const back = await eventually(
      'intake to accept again after PostgreSQL came back',
      async () => {
        const a = await post(7, 'post (pg back)');
        return a.status === 202 ? a : undefined;
      },
      30_000,
      500,
    ).catch(async () => post(8, 'post (pg back, last try)'));
    expect(back.status, JSON.stringify(back.body)).toBe(202);

    // Redis away: a filing is still accepted (committed; the outbox relay enqueues it), readiness says 503.
    redisProxy.cut();
    const redisDown: Answer[] = [];
    for (let i = 9; i <= 14; i++) {
      const a = await post(i, `post (redis down) #${i}`);
      redisDown.push(a);
    }
    const ready = await call('readyz', `${apiUrl}/readyz`);
    all.push(ready);
    expect(ready.status).toBe(503);
    expect(ready.retryAfter).toMatch(/^\d+$/);
    expect(redisDown.map((a) => a.status)).toEqual(redisDown.map(() => 202));
    redisProxy.restore();

    expectOnly503s(all);
    const accepted = all.filter((a) => a.status === 202).map((a) => a.body['id'] as string);
    // A worker (directly on Redis and PostgreSQL) decides every accepted filing, those of the Redis outage included.
    const worker = bed.worker(4);
    await worker.ready;
    const statuses = await waitAllDecided(bed, accepted, 120_000);
    const counts = tally(statuses);
    expect((counts['approved'] ?? 0) + (counts['manual_review'] ?? 0), JSON.stringify(counts)).toBe(accepted.length);
    const byStatus = all.reduce<Record<string, number>>((m, a) => ({ ...m, [a.status]: (m[a.status] ?? 0) + 1 }), {});
    console.log(
      `FAULT api-dependency-down: ${all.length} answers ${JSON.stringify(byStatus)}; pg down → ${down.filter((a) => a.status === 503).length}×503 of ${down.length}, ${down.filter((a) => a.retryAfter !== null).length} with Retry-After; ` +
        `redis down → ${redisDown.filter((a) => a.status === 202).length}×202; accepted ${accepted.length}, decided ${JSON.stringify(counts)}`,
    );
  });
});
