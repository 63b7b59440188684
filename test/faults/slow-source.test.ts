/**
 * A data source that is slow, down or answering nonsense makes its facts UNKNOWN: the filing goes to manual review
 * (never rejection, never a certificate) within the source's timeout plus a margin, in a real worker process over
 * real sockets. test/integration/queue/durability.test.ts covers 人口库 hang/503 in-process; this goes through
 * every failure mode of the test server for two sources, plus a source whose port refuses connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local-redis.js';
import type { ServerMode } from '../support/datasource-server.js';
import { approvableFilings, postFiling, startFaultBed, type FaultBed } from '../support/processes.js';

/** rules/data-sources.yaml: timeoutMs of every source used here. */
const SOURCE_TIMEOUT_MS = 2_000;
/** The rest of the pipeline (other reads, sealed form, rules) on a busy 2-core CI machine. */
const MARGIN_MS = 3_000;

const MODES: ServerMode[] = ['hang', 'stall', '503', 'garbage', 'huge', 'redirect', 'array'];
const SOURCES = ['population', 'market-entity'];

describe('a data source slow, down or broken (sqlite, worker process)', () => {
  let bed: FaultBed;
  let apiUrl: string;
  let offset = 0;

  beforeAll(async () => {
    bed = await startFaultBed({ backend: 'sqlite' });
    ({ url: apiUrl } = await bed.api());
  }, 60_000);

  afterAll(async () => {
    await bed?.close();
  });

  async function decide(): Promise<{ status: string; ms: number; unknown: string[]; certificates: number }> {
    const filing = approvableFilings(1, offset++)[0]!;
    const sent = Date.now();
    const res = await postFiling(apiUrl, await bed.token(filing.uscc), filing.body);
    expect(res.status).toBe(202);
    const id = res.body['id'] as string;
    for (;;) {
      const row = await bed.store.applications.get(id);
      if (row && row.status !== 'queued' && row.status !== 'processing') {
        const certificates = (await bed.certificateCounts()).perApplication.get(id) ?? 0;
        return { status: row.status, ms: Date.now() - sent, unknown: (row.receipt?.sources ?? []).filter((s) => s.status === 'unknown').map((s) => s.source), certificates };
      }
      if (Date.now() - sent > SOURCE_TIMEOUT_MS + MARGIN_MS + 10_000) throw new Error(`${id} still ${row?.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('sends the filing to manual review within the timeout plus a margin, whatever the failure', async () => {
    // Each failure mode on its own: no cached answer from the warm-up, no circuit breaker answering for the source.
    const isolated = { DATASOURCE_CACHE_MAX_TTL_SECONDS: '0', DATASOURCE_BREAKER_FAILURES: '1000' };
    const worker = bed.worker(2, isolated);
    await worker.ready;
    expect((await decide()).status, 'warm-up filing with every source up').toBe('approved');
    const figures: string[] = [];
    /** Every decision seen, tallied for the printed line. */
    const outcomes: Array<{ status: string; certificates: number }> = [];
    let slowest = 0;
    for (const source of SOURCES) {
      for (const mode of MODES) {
        bed.sources.setMode(source, mode);
        try {
          const d = await decide();
          outcomes.push(d);
          expect({ source, mode, status: d.status, certificates: d.certificates }).toEqual({ source, mode, status: 'manual_review', certificates: 0 });
          expect(d.unknown).toContain(source);
          expect(d.ms, `${source} ${mode}`).toBeLessThan(SOURCE_TIMEOUT_MS + MARGIN_MS);
          slowest = Math.max(slowest, d.ms);
          figures.push(`${source}/${mode} ${d.ms} ms`);
        } finally {
          bed.sources.setMode(source, 'ok');
        }
      }
    }
    await worker.stop('SIGTERM');

    // A source whose address refuses connections (the service is down, not slow).
    const closed = await freePort();
    const down = bed.worker(2, { ...isolated, DATASOURCE_POPULATION_URL: `http://127.0.0.1:${closed}/population` });
    await down.ready;
    const d = await decide();
    outcomes.push(d);
    expect({ status: d.status, certificates: d.certificates }).toEqual({ status: 'manual_review', certificates: 0 });
    expect(d.unknown).toContain('population');
    expect(d.ms).toBeLessThan(SOURCE_TIMEOUT_MS + MARGIN_MS);
    figures.push(`population/refused ${d.ms} ms`);
    await down.stop('SIGTERM');

    console.log(
      `FAULT slow-source: ${figures.length} failure modes → ${outcomes.filter((o) => o.status === 'manual_review').length} manual_review, ` +
        `${outcomes.filter((o) => o.status === 'rejected').length} rejections, ${outcomes.reduce((a, o) => a + o.certificates, 0)} certificates; slowest ${Math.max(slowest, d.ms)} ms ` +
        `(timeout ${SOURCE_TIMEOUT_MS} + margin ${MARGIN_MS} ms): ${figures.join(', ')}`,
    );
  }, 180_000);
});
