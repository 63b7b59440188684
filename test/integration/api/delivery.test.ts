/**
 * 快递取送 (issue 16, DESIGN.md §13) on the real stack, SQLite and PostgreSQL, against the stand-in courier over HTTP:
 * a filing asks for its paper certificate by post; after issuing, the worker books a waybill to the registered
 * address (免填) unless one was typed, follows the track to 已签收 and tells webhooks. A courier that is down or
 * answers 503 delays the booking (retried) and never the certificate; a rejected filing sends nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandInCourier, type StandInCourier } from '../../../src/delivery/stand-in-courier.js';
import { eventually } from '../../support/processes.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';
import { startReceiver, type Receiver } from '../webhooks/receiver.js';

const FENGHE_ADDRESS = '辽宁省沈阳市和平区南京北街128号';

describe.each(['sqlite', 'postgres'] as const)('快递取送 (%s)', (backend) => {
  let stack: Stack;
  let courier: StandInCourier;
  let receiver: Receiver;
  let token: string;
  let region = 210150;

  beforeAll(async () => {
    courier = await startStandInCourier({ stepMs: 150 });
    receiver = await startReceiver();
    stack = await startStack({
      backend,
      env: { COURIER_URL: courier.url, COURIER_TRACK_INTERVAL_MS: '150', COURIER_RETRY_BASE_MS: '100', COURIER_TIMEOUT_MS: '1000', WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '100' },
    });
    token = await stack.token(HAPPY_USCC);
    const consumer = await stack.token('LOGISTICS-DESK', 'consumer', { scope: 'webhooks:write certificates:read' });
    const hook = await stack.app.inject({ method: 'POST', url: '/v1/webhooks', headers: { authorization: `Bearer ${consumer}` }, payload: { url: receiver.url, events: ['delivery.updated'] } });
    expect(hook.statusCode, hook.body).toBe(201);
  });
  afterAll(async () => {
    await stack?.close();
    await courier?.close();
    await receiver?.close();
  });

  async function status(id: string) {
    const res = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}`, headers: { authorization: `Bearer ${token}` } });
    return res.json<any>();
  }

  async function file(delivery: Record<string, unknown>, over: Parameters<typeof grainFiling>[0] = {}) {
    region += 1;
    const res = await submit(stack, token, { ...grainFiling({ ...over, form: { purchaseRegionCode: String(region), ...(over.form ?? {}) } }), delivery });
    expect(res.statusCode, res.body).toBe(202);
    return res.json<{ id: string }>().id;
  }

  it('books the parcel to the registered address once the certificate is issued, follows it to 已签收 and tells webhooks', async () => {
    const id = await file({ method: 'express' });
    const decided = await waitForDecision(stack, id, token);
    expect(decided.status).toBe('approved');
    const done = await eventually('the parcel delivered', async () => {
      const v = await status(id);
      return v.delivery?.status === 'delivered' ? v : undefined;
    }, 20_000, 100);
    expect(done.delivery).toMatchObject({ method: 'express', address: FENGHE_ADDRESS, addressSource: 'registered', recipient: '沈阳丰禾粮食购销有限公司' });
    expect(done.delivery.waybillNo).toMatch(/^SB\d+$/);
    expect(done.delivery.track.map((e: any) => e.event)).toEqual(expect.arrayContaining([`已下单 运单号 ${done.delivery.waybillNo}`, '快递员已揽收', '已签收']));
    const booking = courier.bookings.filter((b) => b.reference === id);
    expect(booking.length).toBeGreaterThanOrEqual(1);
    expect(booking[0]).toMatchObject({ address: FENGHE_ADDRESS, phone: '13800000000', recipient: '沈阳丰禾粮食购销有限公司' });
    expect(booking[0]!.item).toContain(decided.certificate!.number);

    // Webhooks: one delivery.updated per status, the last one 已签收; no address, name or phone in them.
    const events = await eventually('delivery.updated events up to delivered', async () => {
      const mine = receiver.received.map((r) => JSON.parse(r.body)).filter((e) => e.type === 'delivery.updated' && e.subject === id);
      return mine.some((e) => e.data.status === 'delivered') ? mine : undefined;
    }, 20_000, 100);
    expect(events[0].data).toMatchObject({ applicationId: id, certificateId: decided.certificate!.id, status: 'booked', waybillNo: done.delivery.waybillNo });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const e of events) expect(JSON.stringify(e)).not.toMatch(/南京北街|13800000000|沈阳丰禾/);
  });

  it('keeps a typed address and recipient', async () => {
    const id = await file({ method: 'express', address: '辽宁省沈阳市浑南区创新路100号', recipient: '李会计', phone: '13900000000' });
    const booked = await eventually('the parcel booked', async () => {
      const v = await status(id);
      return v.delivery?.waybillNo ? v : undefined;
    }, 20_000, 100);
    expect(booked.delivery).toMatchObject({ address: '辽宁省沈阳市浑南区创新路100号', addressSource: 'form', recipient: '李会计' });
    expect(courier.bookings.find((b) => b.reference === id)).toMatchObject({ phone: '13900000000' });
  });

  it('issues the certificate while the courier answers 503, and books the parcel once it is back', async () => {
    courier.setMode('503');
    try {
      const id = await file({ method: 'express' });
      const decided = await waitForDecision(stack, id, token);
      expect(decided.status).toBe('approved');
      expect(decided.certificate).toBeDefined();
      await eventually('booking attempts against the failing courier', async () => {
        const row = await stack.deps.store.deliveries.get(id);
        return row && row.attempts >= 2 ? row : undefined;
      }, 20_000, 100);
      const waiting = await status(id);
      expect(waiting.delivery).toMatchObject({ status: 'pending', waybillNo: null });
      courier.setMode('ok');
      const booked = await eventually('the parcel booked after the courier came back', async () => {
        const v = await status(id);
        return v.delivery?.waybillNo ? v : undefined;
      }, 30_000, 100);
      expect(booked.certificate).toEqual(decided.certificate);
    } finally {
      courier.setMode('ok');
    }
  });

  it('sends nothing for a rejected filing', async () => {
    const id = await file({ method: 'express' }, { form: { purchaseRegionCode: '110101' } });
    const decided = await waitForDecision(stack, id, token);
    expect(decided.status).toBe('rejected');
    const cancelled = await eventually('the delivery cancelled', async () => {
      const v = await status(id);
      return v.delivery?.status === 'cancelled' ? v : undefined;
    }, 20_000, 100);
    expect(cancelled.delivery.waybillNo).toBeNull();
    expect(courier.bookings.some((b) => b.reference === id)).toBe(false);
  });

  it('refuses a malformed delivery request with the field to fix', async () => {
    const res = await submit(stack, token, { ...grainFiling(), delivery: { method: 'pigeon', phone: '123' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: any) => e.path).sort()).toEqual(expect.arrayContaining(['/delivery/method', '/delivery/phone']));
  });
});
