/**
 * Downstream access (issue 8) on the real stack: consumers register webhooks and get certificate.issued as signed
 * CloudEvents within 2 s of approval — also after the receiver failed twice, and after an admin approves a filing
 * from manual review; deliveries are visible with their attempts; private, loopback and metadata addresses are
 * refused at registration and at connect time; GET /v1/certificates filters and paginates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postEvent } from '../../../src/webhooks/post-event.js';
import { SIGNATURE_HEADER, verifySignature } from '../../../src/webhooks/signature.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';
import { startReceiver, type Receiver } from './receiver.js';

const GRAIN_DEPT = '11210100MB0E12346R';
const DISHONEST_USCC = '91210106MA0U7G8H65';
let stack: Stack;
let receiver: Receiver;
let consumer: string;
let region = 210102;

beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite', env: { WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '200' } });
  receiver = await startReceiver();
  consumer = await stack.token('DOWNSTREAM-SYS-1', 'consumer', { scope: 'certificates:read webhooks:write' });
});
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

async function api(method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: unknown) {
  const res = await stack.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? res.json<any>() : null };
}

async function register(url: string, token = consumer) {
  return api('POST', '/v1/webhooks', token, { url, events: ['certificate.issued'] });
}

/** Files an approvable grain filing in a fresh region (one active filing per enterprise and region). */
async function fileApproved() {
  const token = await stack.token(HAPPY_USCC);
  region += 1;
  const res = await submit(stack, token, grainFiling({ form: { purchaseRegionCode: String(region) } }));
  expect(res.statusCode).toBe(202);
  const decided = await waitForDecision(stack, res.json().id, token);
  expect(decided.status).toBe('approved');
  return { id: res.json().id as string, decidedAt: Date.now(), certificate: decided.certificate! };
}

function expectSignedEvent(hit: { headers: Record<string, unknown>; body: string }, secret: string, certificateId: string) {
  expect(String(hit.headers['content-type'])).toMatch(/^application\/cloudevents\+json/);
  const header = String(hit.headers[SIGNATURE_HEADER]);
  expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  expect(verifySignature(secret, header, hit.body, Math.floor(Date.now() / 1000))).toEqual({ ok: true });
  expect(verifySignature('whsec_wrong', header, hit.body, Math.floor(Date.now() / 1000))).toEqual({ ok: false, reason: 'mismatch' });
  expect(verifySignature(secret, header, hit.body, Math.floor(Date.now() / 1000) + 301)).toEqual({ ok: false, reason: 'stale' });
  const event = JSON.parse(hit.body);
  expect(event).toMatchObject({ specversion: '1.0', type: 'certificate.issued', subject: certificateId, id: `certificate.issued/${certificateId}`, datacontenttype: 'application/json' });
  expect(event.data).toMatchObject({ id: certificateId, matter: 'grain-purchase-filing', issuer: { code: GRAIN_DEPT } });
  return event;
}

describe('webhooks', () => {
  let hookId: string;
  let secret: string;

  it('registers a webhook and returns its secret once', async () => {
    const res = await register(receiver.url);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ url: receiver.url, events: ['certificate.issued'], status: 'active' });
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    hookId = res.body.id;
    secret = res.body.secret;
    const again = await api('GET', `/v1/webhooks/${hookId}`, consumer);
    expect(again.status).toBe(200);
    expect(again.body.secret).toBeUndefined();
    expect((await api('GET', '/v1/webhooks', consumer)).body.items.map((w: any) => w.id)).toEqual([hookId]);
  });

  it('delivers certificate.issued with a valid signature within 2 s of approval', async () => {
    const before = receiver.received.length;
    const filed = await fileApproved();
    const [hit] = (await receiver.waitFor(before + 1, 5_000)).slice(before);
    expect(hit!.at - filed.decidedAt).toBeLessThan(2_000);
    expectSignedEvent(hit!, secret, filed.certificate.id);
  });

  it('delivers again after the receiver failed twice, and shows the three attempts', async () => {
    const before = receiver.received.length;
    receiver.script.push(500, 503);
    const filed = await fileApproved();
    const hits = (await receiver.waitFor(before + 3, 10_000)).slice(before);
    expect(hits).toHaveLength(3);
    expect(hits[0]!.at - filed.decidedAt).toBeLessThan(2_000);
    // Same event and body every time; each attempt signed afresh.
    expect(new Set(hits.map((h) => h.body)).size).toBe(1);
    expectSignedEvent(hits[2]!, secret, filed.certificate.id);
    let delivery: any;
    for (let i = 0; i < 50; i++) {
      const list = await api('GET', `/v1/webhooks/${hookId}/deliveries`, consumer);
      delivery = list.body.items.find((d: any) => d.eventId === `certificate.issued/${filed.certificate.id}`);
      if (delivery?.status === 'delivered') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(delivery).toMatchObject({ status: 'delivered', eventType: 'certificate.issued' });
    expect(delivery.attempts.map((a: any) => [a.attempt, a.statusCode])).toEqual([[1, 500], [2, 503], [3, 200]]);
    expect(delivery.attempts[0].error).toBe('HTTP 500');
  });

  it('delivers certificate.issued within 2 s when an admin approves a filing from manual review', async () => {
    const token = await stack.token(DISHONEST_USCC);
    const storageFacilities = [{ address: '沈阳市某区粮库', capacityTonnes: 3000, ownership: '自有', realEstateCertNo: '辽(2022)沈阳市不动产权第0054321号' }];
    const res = await submit(stack, token, grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities } }));
    const decided = await waitForDecision(stack, res.json().id, token);
    expect(decided.status).toBe('manual_review');
    const before = receiver.received.length;
    const admin = await stack.token('ADMIN-GRAIN-1', 'admin', { dept: GRAIN_DEPT });
    const approved = await api('POST', `/v1/admin/reviews/${res.json().id}/approve`, admin, { note: '信用修复材料已核实' });
    expect(approved.status).toBe(200);
    const at = Date.now();
    const [hit] = (await receiver.waitFor(before + 1, 5_000)).slice(before);
    expect(hit!.at - at).toBeLessThan(2_000);
    expectSignedEvent(hit!, secret, approved.body.certificate.id);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const other = await startReceiver();
    try {
      const res = await postEvent(other.url, '{}', {}, { allowLoopback: true, timeoutMs: 2_000 });
      expect(res.statusCode).toBe(200);
      other.script.push(302);
      const redirected = await postEvent(other.url, '{}', {}, { allowLoopback: true, timeoutMs: 2_000 });
      expect(redirected.statusCode).toBe(302);
      await new Promise((r) => setTimeout(r, 100));
      expect(other.received.map((r) => r.path)).toEqual(['/hook', '/hook']);
    } finally {
      await other.close();
    }
  });

  it('only the owner sees a webhook; other roles and scopes are refused', async () => {
    const stranger = await stack.token('DOWNSTREAM-SYS-2', 'consumer', { scope: 'certificates:read webhooks:write' });
    expect((await api('GET', `/v1/webhooks/${hookId}`, stranger)).status).toBe(404);
    expect((await api('GET', `/v1/webhooks/${hookId}/deliveries`, stranger)).status).toBe(404);
    const noScope = await stack.token('DOWNSTREAM-SYS-3', 'consumer', { scope: 'certificates:read' });
    expect((await register(receiver.url, noScope)).status).toBe(403);
    expect((await register(receiver.url, await stack.token(HAPPY_USCC))).status).toBe(403);
  });

  it('stops delivering to a disabled webhook', async () => {
    const other = await startReceiver();
    try {
      const created = await register(other.url);
      expect((await api('DELETE', `/v1/webhooks/${created.body.id}`, consumer)).status).toBe(204);
      const before = receiver.received.length;
      await fileApproved();
      await receiver.waitFor(before + 1, 5_000);
      expect(other.received).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe('webhook addresses', () => {
  let strict: Stack;
  beforeAll(async () => {
    strict = await startStack({ backend: 'sqlite', worker: false, httpSources: false });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it.each([
    'http://127.0.0.1:9/hook',
    'http://169.254.169.254/latest/meta-data/',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.5/hook',
    'https://192.168.1.10/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[::ffff:a9fe:a9fe]/hook',
    'https://100.100.100.200/hook',
    'https://localhost/hook',
    'http://example.com/hook',
    'ftp://example.com/hook',
  ])('refuses %s without WEBHOOK_ALLOW_LOOPBACK', async (url) => {
    const token = await strict.token('DOWNSTREAM-SYS-1', 'consumer', { scope: 'certificates:read webhooks:write' });
    const res = await strict.app.inject({ method: 'POST', url: '/v1/webhooks', headers: { authorization: `Bearer ${token}` }, payload: { url, events: ['certificate.issued'] } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN', errors: [{ path: '/url' }] });
  });

  it('refuses metadata and private addresses even when loopback is allowed', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/hook', 'http://[fd00:ec2::254]/']) {
      const res = await register(url);
      expect(res.status, url).toBe(400);
      expect(res.body.code).toBe('WEBHOOK_URL_FORBIDDEN');
    }
  });

  it('checks the address at connect time: a name resolving to loopback is refused unless allowed', async () => {
    const target = await startReceiver();
    try {
      const viaName = target.url.replace('127.0.0.1', 'localhost');
      await expect(postEvent(viaName, '{}', {}, { allowLoopback: false, timeoutMs: 2_000 })).rejects.toThrow(/refused to connect to localhost/);
      await expect(postEvent(target.url, '{}', {}, { allowLoopback: false, timeoutMs: 2_000 })).rejects.toThrow(/refused to connect to 127\.0\.0\.1/);
      await expect(postEvent('http://169.254.169.254/latest/meta-data/', '{}', {}, { allowLoopback: true, timeoutMs: 2_000 })).rejects.toThrow(/refused to connect/);
      expect(target.received).toHaveLength(0);
      await expect(postEvent(viaName, '{}', {}, { allowLoopback: true, timeoutMs: 2_000 })).resolves.toEqual({ statusCode: 200 });
    } finally {
      await target.close();
    }
  });
});

describe('GET /v1/certificates', () => {
  it('filters by holder, matter and issuedSince and pages with a cursor', async () => {
    await fileApproved();
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const res = await api('GET', `/v1/certificates?holder=${HAPPY_USCC}&matter=grain-purchase-filing&limit=2${cursor ? `&cursor=${cursor}` : ''}`, consumer);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      all.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    expect(all.every((c) => c.holder.code === HAPPY_USCC)).toBe(true);
    const sorted = [...all].sort((a, b) => (a.issuedAt === b.issuedAt ? (a.id < b.id ? -1 : 1) : a.issuedAt < b.issuedAt ? -1 : 1));
    expect(all.map((c) => c.id)).toEqual(sorted.map((c) => c.id));
    const since = all[all.length - 1].issuedAt;
    const recent = await api('GET', `/v1/certificates?issuedSince=${encodeURIComponent(since)}`, consumer);
    expect(recent.body.items.every((c: any) => c.issuedAt >= since)).toBe(true);
    expect((await api('GET', '/v1/certificates?issuedSince=2000-01-01&matter=public-parking-filing', consumer)).body).toEqual({ items: [], nextCursor: null });
  });

  it('limits each role to what it may read', async () => {
    expect((await api('GET', '/v1/certificates', await stack.token('DOWNSTREAM-SYS-9', 'consumer', { scope: 'webhooks:write' }))).status).toBe(403);
    const other = await api('GET', '/v1/certificates', await stack.token('91210104MA0R3C4D20'));
    expect(other.body.items).toEqual([]);
    const mine = await api('GET', `/v1/certificates?holder=91210104MA0R3C4D20`, await stack.token(HAPPY_USCC));
    expect(mine.body.items).toEqual([]);
    const ownAdmin = await api('GET', '/v1/certificates', await stack.token('ADMIN-GRAIN-1', 'admin', { dept: GRAIN_DEPT }));
    expect(ownAdmin.body.items.length).toBeGreaterThan(0);
    const otherAdmin = await api('GET', '/v1/certificates', await stack.token('ADMIN-HOUSING', 'admin', { dept: '11210100MB0E34561M' }));
    expect(otherAdmin.body.items).toEqual([]);
  });

  it('refuses a forged cursor and unknown parameters', async () => {
    expect((await api('GET', '/v1/certificates?cursor=bm9wZQ', consumer)).body.code).toBe('CURSOR_INVALID');
    expect((await api('GET', '/v1/certificates?owner=x', consumer)).status).toBe(400);
    expect((await api('GET', '/v1/certificates?limit=500', consumer)).status).toBe(400);
  });
});

describe('GET /v1/applications/{id}/events', () => {
  it('streams the status until the decision, for the applicant only', async () => {
    const token = await stack.token(HAPPY_USCC);
    region += 1;
    const res = await submit(stack, token, grainFiling({ form: { purchaseRegionCode: String(region) } }));
    const id = res.json().id as string;
    const stranger = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}/events`, headers: { authorization: `Bearer ${await stack.token('91210104MA0R3C4D20')}` } });
    expect(stranger.statusCode).toBe(404);
    const stream = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}/events`, headers: { authorization: `Bearer ${token}` } });
    expect(stream.statusCode).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = stream.body
      .split('\n\n')
      .filter((b) => b.includes('event: status'))
      .map((b) => JSON.parse(b.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
    expect(events.length).toBeGreaterThanOrEqual(1);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ id, status: 'approved', decision: { outcome: 'APPROVE' }, certificate: { id: expect.any(String) } });
  });
});
