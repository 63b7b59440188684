/**
 * Issue 17 item 5: the precheck is a name ↔ 身份证号 oracle and uploads take 10 MB each, so both are throttled per
 * subject (token sub; the client IP without one), counted in Redis so that several API processes share the count,
 * and uploads have a daily byte quota. Over real HTTP against two API instances on one Redis.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { httpDepsFrom } from '../../../src/http/http-deps.js';
import { HAPPY_USCC, grainFiling, startStack, type Stack } from '../../support/stack.js';

const OTHER_USCC = '91210103MA0W9J1K7P';
const TEN_MB = 10_000_000;

describe('per-subject throttles and the upload quota (default limits)', () => {
  let stack: Stack;
  let second: FastifyInstance;
  const bases: string[] = [];

  beforeAll(async () => {
    // Defaults on purpose: PRECHECK_RATE_LIMIT 30/min, MATERIAL_RATE_LIMIT 20/min, MATERIAL_QUOTA_BYTES_PER_DAY 32 MiB.
    stack = await startStack({ backend: 'sqlite', worker: false });
    second = await buildApp(httpDepsFrom(stack.deps));
    for (const app of [stack.app, second]) bases.push(await app.listen({ port: 0, host: '127.0.0.1' }));
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await stack?.close();
  });

  const precheck = (base: string, token: string) =>
    fetch(`${base}/v1/matters/grain-purchase-filing/precheck`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ answers: grainFiling().answers, form: grainFiling().form, consent: { dataSharing: true } }),
    });

  it('200 prechecks in a burst from one subject: 30 answered across both API processes, the rest 429 with Retry-After; another subject is unaffected', async () => {
    const token = await stack.token(HAPPY_USCC);
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const res = await precheck(bases[i % 2]!, token);
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { code?: string; decision?: unknown } };
      }),
    );
    const elapsedMs = Date.now() - started;
    const ok = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    // The window is a minute; on a loaded machine the burst still ends well inside it.
    expect(elapsedMs).toBeLessThan(60_000);
    expect(ok.length).toBe(30);
    expect(ok.every((a) => a.body.decision !== undefined)).toBe(true);
    expect(limited.length).toBe(170);
    for (const a of limited) {
      expect(a.body.code).toBe('SUBJECT_RATE_LIMITED');
      const seconds = Number(a.retryAfter);
      expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60).toBe(true);
    }
    const other = await precheck(bases[1]!, await stack.token(OTHER_USCC));
    expect(other.status).toBe(200);
  }, 120_000);

  it('an unauthenticated flood is counted per client IP and throttled as well', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 35; i += 1) statuses.push((await precheck(bases[0]!, 'not-a-token')).status);
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
  }, 60_000);

  it('5 × 10 MB uploads by one subject: the quota (32 MiB a day) stops the 4th and 5th with 429; another subject still uploads', async () => {
    const token = await stack.token(HAPPY_USCC);
    const upload = async (tokenValue: string, n: number) => {
      const bytes = Buffer.alloc(TEN_MB, 0x20);
      bytes.write(`%PDF-1.7\n% upload ${n}\n`, 0, 'latin1');
      const res = await fetch(`${bases[n % 2]!}/v1/materials?matter=grain-purchase-filing&material=M5`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokenValue}`, 'content-type': 'application/pdf' },
        body: bytes,
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { code?: string } };
    };
    const results = [];
    for (let n = 0; n < 5; n += 1) results.push(await upload(token, n));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 429, 429]);
    for (const r of results.slice(3)) {
      expect(r.body.code).toBe('UPLOAD_QUOTA_EXCEEDED');
      const seconds = Number(r.retryAfter);
      expect(seconds >= 1 && seconds <= 86_400).toBe(true);
    }
    expect((await upload(await stack.token(OTHER_USCC), 7)).status).toBe(201);
  }, 120_000);
});
