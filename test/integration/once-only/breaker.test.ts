/**
 * A data source that goes down opens its breaker: filings go manual_review within the source's timeout + 100 ms at
 * p99 (an open breaker answers UNKNOWN without asking), and filings are approved again once the source is back —
 * with a real HTTP server stopped and restarted on the same port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResilientSource } from '../../../src/data-sources/resilient.js';
import { loadDemoDataRecords, startDataSourceServer, type DataSourceServer } from '../../support/datasource-server.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const OPEN_MS = 1500;
const FILINGS_WHILE_DOWN = 20;

describe('a data source that is down (sqlite)', () => {
  let stack: Stack;
  let entity: DataSourceServer;
  let port: number;
  let token: string;
  const records = loadDemoDataRecords();

  beforeAll(async () => {
    entity = await startDataSourceServer({ records });
    port = Number(new URL(entity.url('market-entity')).port);
    stack = await startStack({
      backend: 'sqlite',
      env: {
        DATASOURCE_MARKET_ENTITY_URL: entity.url('market-entity'),
        DATASOURCE_BREAKER_FAILURES: '3',
        DATASOURCE_BREAKER_OPEN_MS: String(OPEN_MS),
        DATASOURCE_RETRIES: '2',
      },
    });
    token = await stack.token(HAPPY_USCC);
  });
  afterAll(async () => {
    await stack?.close();
    await entity?.close();
  });

  const breaker = () => (stack.deps.sources.get('market-entity') as ResilientSource).breaker();
  const timeoutMs = () => stack.deps.registry.find((s) => s.id === 'market-entity')!.timeoutMs;

  /** Files and waits; returns the decision and the time from receipt to decision as the database records it. */
  async function file(region: string) {
    const res = await submit(stack, token, grainFiling({ form: { purchaseRegionCode: region } }));
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    const d = await waitForDecision(stack, id, token);
    const row = (await stack.deps.store.applications.get(id))!;
    return { id, d, ms: Date.parse(row.decidedAt!) - Date.parse(row.createdAt), receipt: row.receipt! };
  }

  it('approves while the source answers', async () => {
    expect((await file('210102')).d.status).toBe('approved');
    expect(breaker().state).toBe('closed');
  });

  it('goes manual_review within the timeout + 100 ms at p99 once it is down, and opens the breaker', async () => {
    await entity.close();
    const times: number[] = [];
    const errors: string[] = [];
    const loopStarted = Date.now();
    for (let i = 0; i < FILINGS_WHILE_DOWN; i++) {
      const { d, ms, receipt } = await file('210103');
      expect(d.status).toBe('manual_review');
      expect(d.decision!.reasons.filter((r) => r.result === 'UNKNOWN').map((r) => r.rule)).toContain('entity-registered');
      times.push(ms);
      errors.push(receipt.sources.find((s) => s.source === 'market-entity')!.error ?? '');
    }
    times.sort((a, b) => a - b);
    const p99 = times[Math.ceil(0.99 * times.length) - 1]!;
    expect(p99, `decision times ${times.join(', ')}`).toBeLessThanOrEqual(timeoutMs() + 100);
    // Open, or half-open when the loop outlasted the open period (the next read is the trial).
    expect(['open', 'half-open']).toContain(breaker().state);
    // The first three asked (and were refused); after that only one half-open trial per open period asked, every
    // other filing was answered by the open breaker without a request.
    expect(errors.slice(0, 3).every((e) => /ECONNREFUSED|fetch failed/.test(e)), errors.slice(0, 3).join(' | ')).toBe(true);
    const trials = errors.slice(3).filter((e) => !e.startsWith('circuit open')).length;
    expect(trials).toBeLessThanOrEqual(Math.ceil((Date.now() - loopStarted) / OPEN_MS));
    expect(errors.filter((e) => e.startsWith('circuit open')).length).toBeGreaterThan(FILINGS_WHILE_DOWN / 2);
  }, 60_000);

  it('recovers when the source returns: the half-open trial succeeds and filings are approved again', async () => {
    entity = await startDataSourceServer({ records, port });
    await new Promise((r) => setTimeout(r, OPEN_MS + 100));
    const { d } = await file('210104');
    expect(d.status).toBe('approved');
    expect(breaker()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(entity.requests.some((r) => r.source === 'market-entity' && r.key === HAPPY_USCC)).toBe(true);
  });
});
