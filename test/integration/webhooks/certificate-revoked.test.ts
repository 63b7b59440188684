/**
 * `certificate.revoked` (issue 17): when an admin of the issuing department revokes a certificate, webhooks
 * subscribed to the event get a signed CloudEvent like certificate.issued — the certificate as it now stands
 * (status revoked), when and why — once; a webhook subscribed only to certificate.issued gets nothing. The event goes
 * through an outbox: a revocation whose emit fails after the commit is announced by the worker's revocation feed,
 * still exactly once per subscribed webhook (SQLite and PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewDelivery } from '../../../src/store/types.js';
import { announceRevocation } from '../../../src/webhooks/emit.js';
import { SIGNATURE_HEADER, verifySignature } from '../../../src/webhooks/signature.js';
import { queryRows } from '../../support/db-query.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';
import { startReceiver, type Receiver } from './receiver.js';

const GRAIN_DEPT = '11210100MB0E12346R';
let stack: Stack;
let revokedHook: Receiver;
let issuedHook: Receiver;
let consumer: string;

beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite', env: { WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '200' } });
  revokedHook = await startReceiver();
  issuedHook = await startReceiver();
  consumer = await stack.token('DOWNSTREAM-SYS-1', 'consumer', { scope: 'certificates:read webhooks:write' });
}, 120_000);
afterAll(async () => {
  await revokedHook?.close();
  await issuedHook?.close();
  await stack?.close();
});

async function api(method: 'GET' | 'POST', url: string, token: string, payload?: unknown) {
  const res = await stack.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? res.json<any>() : null };
}

describe('certificate.revoked webhook', () => {
  it('is delivered, signed, once, to the webhooks subscribed to it', async () => {
    const reg = await api('POST', '/v1/webhooks', consumer, { url: revokedHook.url, events: ['certificate.revoked'] });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect(reg.body.events).toEqual(['certificate.revoked']);
    const onlyIssued = await api('POST', '/v1/webhooks', consumer, { url: issuedHook.url, events: ['certificate.issued'] });
    expect(onlyIssued.status).toBe(201);
    // Without certificates:read a consumer may not subscribe to certificate events.
    const noScope = await stack.token('DOWNSTREAM-SYS-2', 'consumer', { scope: 'webhooks:write' });
    expect((await api('POST', '/v1/webhooks', noScope, { url: revokedHook.url, events: ['certificate.revoked'] })).status).toBe(403);

    const applicant = await stack.token(HAPPY_USCC);
    const filed = await submit(stack, applicant, grainFiling({ form: { purchaseRegionCode: '210103' } }));
    const decided = await waitForDecision(stack, filed.json().id, applicant);
    expect(decided.status).toBe('approved');
    const certId = decided.certificate!.id;
    await issuedHook.waitFor(1, 5_000);
    // Issuing is not revoking: the revoked-only webhook has heard nothing.
    expect(revokedHook.received).toHaveLength(0);

    const admin = await stack.token('ADMIN-A', 'admin', { dept: GRAIN_DEPT });
    const revoke = await api('POST', `/v1/certificates/${certId}/revoke`, admin, { reason: '申请材料经核查不实' });
    expect(revoke.status).toBe(200);
    const [hit] = await revokedHook.waitFor(1, 5_000);
    expect(String(hit!.headers['content-type'])).toMatch(/^application\/cloudevents\+json/);
    expect(verifySignature(reg.body.secret, String(hit!.headers[SIGNATURE_HEADER]), hit!.body, Math.floor(Date.now() / 1000))).toEqual({ ok: true });
    const event = JSON.parse(hit!.body);
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'certificate.revoked',
      id: `certificate.revoked/${certId}`,
      subject: certId,
      time: revoke.body.revokedAt,
      datacontenttype: 'application/json',
    });
    expect(event.data).toMatchObject({ id: certId, status: 'revoked', issuer: { code: GRAIN_DEPT }, revokedAt: revoke.body.revokedAt, reason: '申请材料经核查不实' });
    expect(event.data.links.self).toMatch(new RegExp(`/v1/certificates/${certId}$`));

    // Revoking again changes nothing and tells nobody again.
    expect((await api('POST', `/v1/certificates/${certId}/revoke`, admin, { reason: '重复' })).status).toBe(409);
    await new Promise((r) => setTimeout(r, 1000));
    expect(revokedHook.received).toHaveLength(1);
    expect(issuedHook.received.map((h) => JSON.parse(h.body).type)).toEqual(['certificate.issued']);
    const deliveries = await api('GET', `/v1/webhooks/${reg.body.id}/deliveries`, consumer);
    expect(deliveries.body.items.map((d: any) => [d.eventType, d.status])).toEqual([['certificate.revoked', 'delivered']]);
  }, 60_000);
});

describe.each(['sqlite', 'postgres'] as const)('certificate.revoked through the outbox (%s)', (backend) => {
  let stack: Stack;
  let hooks: Receiver[];
  beforeAll(async () => {
    stack = await startStack({ backend, env: { WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '200' } });
    hooks = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all((hooks ?? []).map((h) => h.close()));
    await stack?.close();
  });

  const call = async (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) => {
    const res = await stack.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.body ? res.json<any>() : null };
  };

  it('delivers a revocation whose emit failed after the commit, exactly once to each subscribed webhook', async () => {
    const consumerA = await stack.token('DOWNSTREAM-SYS-A', 'consumer', { scope: 'certificates:read webhooks:write' });
    const consumerB = await stack.token('DOWNSTREAM-SYS-B', 'consumer', { scope: 'certificates:read webhooks:write' });
    const [a, b, issuedOnly] = hooks as [Receiver, Receiver, Receiver];
    const subscribed = [
      (await call('POST', '/v1/webhooks', consumerA, { url: a.url, events: ['certificate.revoked'] })).body.id as string,
      (await call('POST', '/v1/webhooks', consumerB, { url: b.url, events: ['certificate.issued', 'certificate.revoked'] })).body.id as string,
    ];
    expect((await call('POST', '/v1/webhooks', consumerA, { url: issuedOnly.url, events: ['certificate.issued'] })).status).toBe(201);

    const applicant = await stack.token(HAPPY_USCC);
    const filed = await submit(stack, applicant, grainFiling({ form: { purchaseRegionCode: '210106' } }));
    const decided = await waitForDecision(stack, filed.json().id, applicant);
    expect(decided.status).toBe('approved');
    const certId = decided.certificate!.id;

    // The database fails writing the revocation's deliveries once, right after the revocation committed.
    const webhooks = stack.deps.store.webhooks;
    const addDeliveries = webhooks.addDeliveries.bind(webhooks);
    let failed = 0;
    webhooks.addDeliveries = async (rows: NewDelivery[]) => {
      if (rows.some((r) => r.eventType === 'certificate.revoked') && failed++ === 0) throw new Error('connection terminated');
      return addDeliveries(rows);
    };
    try {
      const admin = await stack.token('ADMIN-A', 'admin', { dept: GRAIN_DEPT });
      const revoke = await call('POST', `/v1/certificates/${certId}/revoke`, admin, { reason: '证照信息有误' });
      expect(revoke.status).toBe(200);
      expect(failed).toBe(1);
      const eventId = `certificate.revoked/${certId}`;
      const perWebhook = async () =>
        (await queryRows<{ webhook_id: string; n: number | string }>(stack, 'select webhook_id, count(*) as n from webhook_deliveries where event_id = ? group by webhook_id order by webhook_id', [eventId]))
          .map((r) => [r.webhook_id, Number(r.n)]);
      expect(await perWebhook()).toEqual([]);

      // The worker's revocation feed announces it.
      // (b also hears certificate.issued.)
      const [[hitA], received] = await Promise.all([a.waitFor(1, 15_000), b.waitFor(2, 15_000)]);
      const hitB = received.find((h) => JSON.parse(h.body).type === 'certificate.revoked');
      for (const hit of [hitA!, hitB!]) expect(JSON.parse(hit.body)).toMatchObject({ id: eventId, type: 'certificate.revoked', time: revoke.body.revokedAt, data: { id: certId, status: 'revoked', reason: '证照信息有误' } });

      // Both paths again (a feed pass, a late API emit): nothing new.
      await stack.worker!.revocationFeed.pollOnce();
      await announceRevocation({ ...stack.deps, webhookQueue: stack.deps.webhookQueue }, { certificateId: certId, revokedAt: revoke.body.revokedAt, reason: '证照信息有误' });
      await new Promise((r) => setTimeout(r, 1000));
      expect(await perWebhook()).toEqual([...subscribed].sort().map((id) => [id, 1]));
      const outbox = await queryRows<{ announced_at: string | null }>(stack, 'select announced_at from certificate_revocations where certificate_id = ?', [certId]);
      expect(outbox[0]?.announced_at).toEqual(expect.any(String));
      expect(a.received).toHaveLength(1);
      expect(b.received.map((h) => JSON.parse(h.body).type).sort()).toEqual(['certificate.issued', 'certificate.revoked']);
      expect(issuedOnly.received.map((h) => JSON.parse(h.body).type)).toEqual(['certificate.issued']);
    } finally {
      webhooks.addDeliveries = addDeliveries;
    }
  }, 60_000);
});
