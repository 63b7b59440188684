/**
 * Issue 17 item 7 (metrics and the queue dashboard): /metrics is for the operators (JWT role `ops`, or the scraper's
 * METRICS_TOKEN) in full; a department admin sees only its own department's matters and none of the process-wide
 * figures; anyone else is refused. The queue dashboard (every department's jobs, with stack traces) is for ops only:
 * department admins get 403.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const GRAIN_DEPT = '11210100MB0E12346R';
const PARKING_DEPT = '11210100MB0E23459Q';
const METRICS_TOKEN = randomBytes(32).toString('hex');

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite', env: { METRICS_TOKEN } });
  const token = await stack.token(HAPPY_USCC);
  const res = await submit(stack, token, grainFiling());
  expect(res.statusCode).toBe(202);
  expect((await waitForDecision(stack, res.json().id, token)).status).toBe('approved');
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const metrics = (authorization?: string) => stack.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
/** Matter labels of a Prometheus exposition. */
const mattersIn = (text: string) => new Set([...text.matchAll(/matter="([^"]+)"/g)].map((m) => m[1]!));
const departmentMatters = (dept: string) => [...stack.deps.catalog.matters.values()].filter((m) => m.def.department.code === dept).map((m) => m.def.code);

describe('/metrics', () => {
  it('refuses anonymous callers (401), a wrong static token (401) and roles without a view (403)', async () => {
    expect((await metrics()).statusCode).toBe(401);
    expect((await metrics(`Bearer ${'x'.repeat(64)}`)).statusCode).toBe(401);
    for (const role of ['applicant', 'consumer', 'supervisor']) {
      const res = await metrics(`Bearer ${await stack.token(role === 'applicant' ? HAPPY_USCC : `someone-${role}`, role)}`);
      expect(res.statusCode, role).toBe(403);
      expect(res.json().code).toBe('AUTH_ROLE_FORBIDDEN');
    }
  });

  it('gives ops and the METRICS_TOKEN scraper every department’s figures and the process-wide ones', async () => {
    for (const auth of [`Bearer ${await stack.token('ops-1', 'ops')}`, `Bearer ${METRICS_TOKEN}`]) {
      const res = await metrics(auth);
      expect(res.statusCode).toBe(200);
      const seen = mattersIn(res.body);
      for (const code of [...departmentMatters(GRAIN_DEPT), ...departmentMatters(PARKING_DEPT)]) expect(seen.has(code), code).toBe(true);
      expect(res.body).toContain('miaopi_http_responses_total');
      expect(res.body).toContain('miaopi_process_resident_memory_bytes');
      expect(res.body).toContain('miaopi_matter_filings{matter="grain-purchase-filing"} 1');
    }
  });

  it('gives a department admin exactly its own department’s matters, without process-wide figures', async () => {
    for (const dept of [GRAIN_DEPT, PARKING_DEPT]) {
      const res = await metrics(`Bearer ${await stack.token(`admin-${dept}`, 'admin', { dept })}`);
      expect(res.statusCode).toBe(200);
      const own = departmentMatters(dept);
      expect(own.length).toBeGreaterThan(0);
      expect([...mattersIn(res.body)].sort()).toEqual([...own].sort());
      expect(res.body).not.toContain('miaopi_http_responses_total');
      expect(res.body).not.toContain('miaopi_process_resident_memory_bytes');
      expect(res.body).not.toContain('miaopi_datasource_breaker_open{');
    }
    const grain = await metrics(`Bearer ${await stack.token('grain-admin', 'admin', { dept: GRAIN_DEPT })}`);
    expect(grain.body).toContain('miaopi_matter_filings{matter="grain-purchase-filing"} 1');
    const parking = await metrics(`Bearer ${await stack.token('parking-admin', 'admin', { dept: PARKING_DEPT })}`);
    expect(parking.body).not.toContain('grain-purchase-filing');
  });
});

describe('the queue dashboard', () => {
  const board = (headers: Record<string, string>) => stack.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { accept: 'application/json', ...headers } });

  it('refuses department admins (403) by bearer, by cookie and at the session route', async () => {
    const admin = await stack.token('grain-admin', 'admin', { dept: GRAIN_DEPT });
    expect((await board({ authorization: `Bearer ${admin}` })).statusCode).toBe(403);
    expect((await board({ cookie: `miaopi_board=${admin}` })).statusCode).toBe(403);
    const session = await stack.app.inject({ method: 'POST', url: '/admin/queues/session', headers: { authorization: `Bearer ${admin}` } });
    expect(session.statusCode).toBe(403);
    expect(session.headers['set-cookie']).toBeUndefined();
    const page = await stack.app.inject({ method: 'GET', url: '/admin/queues/', headers: { accept: 'text/html', cookie: `miaopi_board=${admin}` } });
    expect(page.statusCode).toBe(403);
    expect(page.body).not.toContain(stack.deps.config.queueName);
  });

  it('opens for ops: session cookie, then the read-only queues', async () => {
    const ops = await stack.token('ops-1', 'ops');
    const session = await stack.app.inject({ method: 'POST', url: '/admin/queues/session', headers: { authorization: `Bearer ${ops}` } });
    expect(session.statusCode).toBe(200);
    const cookie = String(session.headers['set-cookie']).split(';')[0]!;
    const res = await board({ cookie });
    expect(res.statusCode).toBe(200);
    expect(res.json().queues.map((q: { name: string }) => q.name)).toContain(stack.deps.config.queueName);
    expect(res.json().queues.every((q: { readOnlyMode: boolean }) => q.readOnlyMode)).toBe(true);
  });
});
