/**
 * ID numbers in query strings never reach the access log (issue 17, item 7): the service's own logger, given to the
 * real app, writes each request's path but only `?[redacted]` for its query — on a route that exists, a route that
 * does not, and a request refused for its token.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { httpDepsFrom } from '../../../src/http/http-deps.js';
import { createLogger, redactQuery } from '../../../src/logger.js';
import { startStack, type Stack } from '../../support/stack.js';

const ID_NUMBER = '210102199001011237';
const PHONE = '13800000000';

let stack: Stack;
const lines: string[] = [];
let app: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite', httpSources: false });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  app = await buildApp(httpDepsFrom(stack.deps), createLogger('info', 'api', sink));
}, 90_000);
afterAll(async () => {
  await app?.close();
  await stack?.close();
});

describe('the access log', () => {
  it('redacts the query string and keeps the path', () => {
    expect(redactQuery('/v1/matters?idNumber=1')).toBe('/v1/matters?[redacted]');
    expect(redactQuery('/v1/matters')).toBe('/v1/matters');
    expect(redactQuery('/?')).toBe('/?[redacted]');
  });

  it(`never contains an ID number or phone sent in a query string, on any kind of request`, async () => {
    const token = await stack.token('91210100MA0Q1A2B6L');
    const requests = [
      { method: 'GET' as const, url: `/v1/matters?idNumber=${ID_NUMBER}&phone=${PHONE}` },
      { method: 'GET' as const, url: `/v1/no-such-route?idNumber=${ID_NUMBER}&phone=${PHONE}` },
      { method: 'GET' as const, url: `/v1/applications/x?idNumber=${ID_NUMBER}&phone=${PHONE}`, headers: { authorization: 'Bearer not-a-jwt' } },
      { method: 'GET' as const, url: `/v1/applications/x?idNumber=${ID_NUMBER}&phone=${PHONE}`, headers: { authorization: `Bearer ${token}` } },
      { method: 'GET' as const, url: `/v1/trust?${ID_NUMBER}` },
    ];
    const before = lines.length;
    for (const r of requests) await app.inject(r);
    await new Promise((r) => setImmediate(r));
    const written = lines.slice(before);
    const incoming = written.map((l) => JSON.parse(l) as { msg?: string; req?: { url?: string } }).filter((l) => l.msg === 'incoming request');
    // Every request was logged, with its path and a redacted query.
    expect(incoming.map((l) => l.req?.url)).toEqual(requests.map((r) => `${r.url.split('?')[0]}?[redacted]`));
    const leaks = written.filter((l) => l.includes(ID_NUMBER) || l.includes(PHONE));
    expect(leaks).toEqual([]);
    console.log(`ACCESS LOG: ${requests.length} requests with an ID number in the query, ${written.length} lines written, ${leaks.length} carrying it`);
  });
});
