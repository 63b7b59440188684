/**
 * POST /v1/applications under generated input: arbitrary JSON bodies, mutations of a valid grain filing (deleted,
 * replaced, wrapped, duplicated nodes; hostile strings; `__proto__` keys), odd content types, headers and raw
 * bytes. Never a 5xx; every 4xx is the §6 error shape with a registered `code`; and nothing is stored for a 4xx
 * (rows in the database = distinct ids answered 202).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { countRows } from '../support/db-counts.js';
import { HAPPY_USCC, grainFiling, startStack, type Stack } from '../support/stack.js';
import { FUZZ_RUNS, hostileString, jsonPaths, mutateAt } from './mutations.js';

const VALID = grainFiling();
const PATHS = jsonPaths(VALID);
const CODES = new Set(Object.keys(ERRORS));

describe('intake fuzzing (POST /v1/applications, sqlite)', () => {
  let stack: Stack;
  let token: string;
  const seen = { total: 0, byStatus: new Map<number, number>(), acceptedIds: new Set<string>(), acceptedKeys: new Set<string>(), unregistered: 0 };

  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite', worker: false, httpSources: false });
    token = await stack.token(HAPPY_USCC);
  });

  afterAll(async () => {
    const statuses = [...seen.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    const serverErrors = [...seen.byStatus].filter(([status]) => status >= 500).reduce((a, [, n]) => a + n, 0);
    const stored = stack ? { applications: await countRows(stack, 'applications'), keys: await countRows(stack, 'idempotency_keys') } : null;
    console.log(
      `FUZZ intake: ${seen.total} requests, ${serverErrors} responses ≥ 500, ${seen.unregistered} 4xx without a registered code; ` +
        `stored ${stored?.applications} applications and ${stored?.keys} keys for ${seen.acceptedIds.size} ids and ${seen.acceptedKeys.size} keys answered 202 (${statuses})`,
    );
    await stack?.close();
    expect({ serverErrors, unregistered: seen.unregistered, stored }).toEqual({
      serverErrors: 0,
      unregistered: 0,
      stored: { applications: seen.acceptedIds.size, keys: seen.acceptedKeys.size },
    });
  });

  async function send(payload: string | Buffer, headers: Record<string, string>, key?: string): Promise<void> {
    const res = await stack.app.inject({ method: 'POST', url: '/v1/applications', headers, payload });
    seen.total++;
    seen.byStatus.set(res.statusCode, (seen.byStatus.get(res.statusCode) ?? 0) + 1);
    expect(res.statusCode, res.body).toBeLessThan(500);
    if (res.statusCode === 202) {
      const body = res.json<{ id: string; status: string }>();
      expect(body.status).toBe('queued');
      seen.acceptedIds.add(body.id);
      if (key !== undefined) seen.acceptedKeys.add(key);
      return;
    }
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
    const body = res.json<{ code: unknown; message: unknown; requestId: unknown }>();
    if (!CODES.has(String(body.code))) seen.unregistered++;
    expect(CODES.has(String(body.code)), `unregistered code in ${res.body}`).toBe(true);
    expect(ERRORS[body.code as keyof typeof ERRORS].status, res.body).toBe(res.statusCode);
    expect(typeof body.message === 'string' && typeof body.requestId === 'string', res.body).toBe(true);
  }

  const json = (body: unknown, key?: string) =>
    send(JSON.stringify(body), { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key !== undefined ? { 'idempotency-key': key } : {}) }, key);

  it('answers arbitrary JSON bodies with 2xx/4xx and a code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (body) => json(body)),
      { numRuns: Math.round(FUZZ_RUNS * 0.25) },
    );
  }, 120_000);

  it('answers mutations of a valid filing with 2xx/4xx and a code', async () => {
    const key = fc.option(fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 300 })), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(fc.array(mutateAt(PATHS), { minLength: 1, maxLength: 3 }), key, async (mutations, k) => {
        let body: unknown = structuredClone(VALID);
        for (const m of mutations) body = m(body);
        // A header cannot carry every character; refusing to send it is the client library's business, not ours.
        const sendable = k === undefined || /^[\t\x20-\x7e\x80-\xff]*$/.test(k) ? k : undefined;
        await json(body, sendable === undefined ? undefined : `${randomUUID()}:${sendable}`.slice(0, 300));
      }),
      { numRuns: Math.round(FUZZ_RUNS * 0.55) },
    );
  }, 120_000);

  it('answers raw bodies, odd content types and odd authorization headers with 2xx/4xx and a code', async () => {
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/pdf',
      'application/octet-stream',
      '',
      '*/*',
      'application/json, text/plain',
    );
    const authorization = fc.oneof(
      fc.constant(undefined),
      fc.constant('valid'),
      fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'bearer x.y.z', 'Bearer a.b', 'Bearer ..', `Bearer ${'a'.repeat(10_000)}`),
      fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => `Bearer ${s.replace(/[\r\n\0]/g, '')}`),
    );
    const payload = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      hostileString,
      fc.constant(JSON.stringify(VALID).slice(0, -1)),
      fc.constant(`${JSON.stringify(VALID)}${JSON.stringify(VALID)}`),
      fc.constant(JSON.stringify(VALID).replace('"matter"', '"__proto__":{"matter":"x"},"matter"')),
      fc.constant('{"a":'.repeat(5_000)),
      fc.constant(`[${'['.repeat(100_000)}`),
    );
    await fc.assert(
      fc.asyncProperty(payload, contentType, authorization, async (p, type, auth) => {
        const headers: Record<string, string> = {};
        if (type !== '') headers['content-type'] = type;
        if (auth === 'valid') headers['authorization'] = `Bearer ${token}`;
        else if (auth !== undefined) headers['authorization'] = auth;
        await send(p, headers);
      }),
      { numRuns: Math.round(FUZZ_RUNS * 0.2) },
    );
  }, 120_000);

  it('stored exactly the filings it accepted', async () => {
    expect({
      applications: await countRows(stack, 'applications'),
      outbox: await countRows(stack, 'outbox'),
      keys: await countRows(stack, 'idempotency_keys'),
    }).toEqual({ applications: seen.acceptedIds.size, outbox: seen.acceptedIds.size, keys: seen.acceptedKeys.size });
  });
});
