/**
 * HTTP backend against a real HTTP server on 127.0.0.1 (test/support/datasource-server.ts).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFixtureSource } from '../../../src/data-sources/fixture.js';
import { createHttpSource } from '../../../src/data-sources/http.js';
import { createDataSources, envNameFor, loadSourceRegistry, sourceUrlsFromEnv } from '../../../src/data-sources/registry.js';
import type { ReadContext } from '../../../src/data-sources/types.js';
import { loadDemoDataRecords, NOT_FOUND_BODY, RULES_DIR, startDataSourceServer, type DataSourceServer } from '../../support/datasource-server.js';

const ctx: ReadContext = { requester: 'test', applicationId: 'app-1', purpose: 'integration test' };
const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const HAPPY = '91210100MA0Q1A2B6L';
const CERT = '辽(2024)沈阳市不动产权第0012345号';

const demo = loadDemoDataRecords();
let server: DataSourceServer;

beforeAll(async () => {
  server = await startDataSourceServer({ records: demo });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  for (const id of Object.keys(demo)) server.setMode(id, 'ok');
});

const http = (id: string, timeoutMs = 2000, baseUrl = server.url(id)) => createHttpSource({ id, baseUrl, timeoutMs });

describe('HTTP data source', () => {
  it('found: 200 JSON record, hash of the bytes the server sent', async () => {
    const src = http('market-entity');
    expect(src.backend).toBe('http');
    const read = await src.read(HAPPY, ctx);
    expect(read.status).toBe('found');
    expect(read.source).toBe('market-entity');
    expect(read.key).toBe(HAPPY);
    expect(read.record).toEqual(demo['market-entity']?.[HAPPY]);
    expect(read.responseHash).toBe(sha256(JSON.stringify(demo['market-entity']?.[HAPPY])));
    expect(read.error).toBeUndefined();
    expect(Number.isNaN(Date.parse(read.fetchedAt))).toBe(false);
    expect(server.requests).toEqual([{ source: 'market-entity', key: HAPPY }]);
  });

  it('works with or without a trailing slash on the base URL', async () => {
    const read = await http('market-entity', 2000, `${server.url('market-entity')}/`).read(HAPPY, ctx);
    expect(read.status).toBe('found');
    expect(server.requests).toEqual([{ source: 'market-entity', key: HAPPY }]);
  });

  it('not_found: only 404 {"found": false}, hashed like any answer', async () => {
    const read = await http('market-entity').read('91210112MA0N8T9U3L', ctx);
    expect(read).toMatchObject({ status: 'not_found', record: null, responseHash: sha256(NOT_FOUND_BODY) });
    expect(read.error).toBeUndefined();
  });

  it.each([
    ['bare-404', /HTTP 404 without \{"found": false\}/],
    ['html-404', /HTTP 404 without \{"found": false\}/],
    ['not-record', /not a market-entity record: missing uscc, name, entityType, status/],
  ] as const)('fails closed on a misrouted proxy (%s): unknown, never not_found', async (mode, error) => {
    server.setMode('market-entity', mode);
    const shape = loadSourceRegistry(RULES_DIR).find((s) => s.id === 'market-entity')!.record!;
    const src = createHttpSource({ id: 'market-entity', baseUrl: server.url('market-entity'), timeoutMs: 2000, record: shape });
    for (const key of [HAPPY, '91210112MA0N8T9U3L']) {
      const read = await src.read(key, ctx);
      expect(read.status).toBe('unknown');
      expect(read.record).toBeNull();
      expect(read.error).toMatch(error);
    }
  });

  it('a 200 that carries another subject\'s record is unknown, not found', async () => {
    const shape = loadSourceRegistry(RULES_DIR).find((s) => s.id === 'market-entity')!.record!;
    const other = demo['market-entity']![HAPPY]!;
    const wrongKey = '91210102123456788E';
    const records = { ...demo, 'market-entity': { [wrongKey]: other } };
    const liar = await startDataSourceServer({ records });
    try {
      const read = await createHttpSource({ id: 'market-entity', baseUrl: liar.url('market-entity'), timeoutMs: 2000, record: shape }).read(wrongKey, ctx);
      expect(read.status).toBe('unknown');
      expect(read.error).toMatch(/uscc is not the key asked for/);
    } finally {
      await liar.close();
    }
  });

  it('a key with Chinese and parentheses round-trips through encodeURIComponent', async () => {
    const read = await http('real-estate').read(CERT, ctx);
    expect(read.status).toBe('found');
    expect(read.record?.['certNo']).toBe(CERT);
    expect(server.requests).toEqual([{ source: 'real-estate', key: CERT }]);
    // and one with '/', '?', '#', '%' and spaces stays a single path segment
    const odd = 'a/b?c#d%e f';
    expect((await http('real-estate').read(odd, ctx)).status).toBe('not_found');
    expect(server.requests[1]).toEqual({ source: 'real-estate', key: odd });
  });

  it('rare characters outside GB2312 survive as UTF-8', async () => {
    const read = await http('market-entity').read('91210102123456788E', ctx);
    expect(read.record?.['name']).toBe('沈阳䶮盛粮贸有限公司');
  });

  it('503 → unknown with the status in error, hash of the body', async () => {
    server.setMode('credit', '503');
    const read = await http('credit').read(HAPPY, ctx);
    expect(read.status).toBe('unknown');
    expect(read.record).toBeNull();
    expect(read.error).toContain('503');
    expect(read.responseHash).toBe(sha256(JSON.stringify({ error: 'service unavailable' })));
  });

  it('hang → unknown within the timeout plus a small margin', async () => {
    server.setMode('population', 'hang');
    const started = performance.now();
    const read = await http('population', 300).read('210102199001011237', ctx);
    const elapsed = performance.now() - started;
    expect(read.status).toBe('unknown');
    expect(read.error).toMatch(/timeout/);
    expect(read.responseHash).toBe('');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(300 + 700);
  });

  it('a body that stalls after the headers → unknown within the timeout', async () => {
    server.setMode('population', 'stall');
    const started = performance.now();
    const read = await http('population', 300).read('210102199001011237', ctx);
    expect(read.status).toBe('unknown');
    expect(read.error).toMatch(/timeout/);
    expect(read.responseHash).toBe('');
    expect(performance.now() - started).toBeLessThan(300 + 700);
  });

  it('garbage (HTML) body with 200 → unknown', async () => {
    server.setMode('market-entity', 'garbage');
    const read = await http('market-entity').read(HAPPY, ctx);
    expect(read.status).toBe('unknown');
    expect(read.error).toMatch(/not valid UTF-8 JSON/);
    expect(read.responseHash).toBe(sha256('<html><body>502 Bad Gateway</body></html>'));
  });

  it('JSON that is not an object → unknown', async () => {
    server.setMode('market-entity', 'array');
    const read = await http('market-entity').read(HAPPY, ctx);
    expect(read.status).toBe('unknown');
    expect(read.error).toMatch(/array, not an object/);
  });

  it('redirects are not followed → unknown', async () => {
    server.setMode('market-entity', 'redirect');
    const read = await http('market-entity').read(HAPPY, ctx);
    expect(read.status).toBe('unknown');
    expect(read.error).toMatch(/302/);
    expect(server.requests).toHaveLength(1);
  });

  it('an oversize (chunked) body → unknown', async () => {
    server.setMode('market-entity', 'huge');
    const read = await http('market-entity').read(HAPPY, ctx);
    expect(read.status).toBe('unknown');
    expect(read.error).toMatch(/too large/);
  });

  it('connection refused → unknown, never throws', async () => {
    const read = await createHttpSource({ id: 'credit', baseUrl: 'http://127.0.0.1:9/credit', timeoutMs: 1000 }).read(HAPPY, ctx);
    expect(read.status).toBe('unknown');
    expect(read.error).toBeTruthy();
    expect(read.responseHash).toBe('');
  });

  it('fixture and HTTP backends give the same record and responseHash for every demo record', async () => {
    for (const [id, records] of Object.entries(demo)) {
      const fixture = createFixtureSource({ id, records });
      const remote = http(id);
      for (const key of Object.keys(records)) {
        const [a, b] = await Promise.all([fixture.read(key, ctx), remote.read(key, ctx)]);
        expect(b.status, `${id}/${key}`).toBe('found');
        expect(b.record).toEqual(a.record);
        expect(b.responseHash).toBe(a.responseHash);
      }
      const [a, b] = await Promise.all([fixture.read('no-such-key', ctx), remote.read('no-such-key', ctx)]);
      expect([a.status, b.status]).toEqual(['not_found', 'not_found']);
      expect(b.responseHash).toBe(a.responseHash);
    }
  });
});

describe('registry over real HTTP', () => {
  it('DATASOURCE_<ID>_URL selects the HTTP backend for that source only', async () => {
    const registry = loadSourceRegistry(RULES_DIR);
    const env = { [envNameFor('real-estate')]: server.url('real-estate'), [envNameFor('market-entity')]: server.url('market-entity') };
    const sources = createDataSources({ registry, urls: sourceUrlsFromEnv(registry, env), rulesDir: RULES_DIR });
    expect(sources.get('real-estate')?.backend).toBe('http');
    expect(sources.get('market-entity')?.backend).toBe('http');
    expect(sources.get('population')?.backend).toBe('fixture');
    const read = await sources.get('real-estate')?.read(CERT, ctx);
    expect(read?.status).toBe('found');
    expect(server.requests).toEqual([{ source: 'real-estate', key: CERT }]);
    server.setMode('market-entity', '503');
    expect((await sources.get('market-entity')?.read(HAPPY, ctx))?.status).toBe('unknown');
  });
});
