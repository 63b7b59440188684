/**
 * The courier client against the stand-in courier over a real socket: idempotent booking by reference, the track as
 * the parcel moves, and every failure (503, a courier that never answers, nobody listening, a refused request) as
 * CourierUnavailableError within the timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CourierUnavailableError, httpCourier } from '../../../src/delivery/courier-client.js';
import { startStandInCourier, type StandInCourier } from '../../../src/delivery/stand-in-courier.js';
import { freePort } from '../../../src/local-redis.js';

describe('courier client against the stand-in courier', () => {
  let courier: StandInCourier;
  let clock = Date.now();

  beforeAll(async () => {
    courier = await startStandInCourier({ stepMs: 1000, now: () => clock });
  });
  afterAll(async () => {
    await courier?.close();
  });

  const waybill = (reference: string) => ({ reference, recipient: '沈阳丰禾粮食购销有限公司', phone: '13800000000', address: '辽宁省沈阳市和平区南京北街128号', item: '沈粮收备〔2026〕000001号' });

  it('books once per reference and follows the parcel to 已签收', async () => {
    const client = httpCourier({ url: courier.url, timeoutMs: 2000, retries: 0 });
    const first = await client.book(waybill('app-1'));
    expect(first.waybillNo).toMatch(/^SB\d{12}$/);
    expect(await client.book(waybill('app-1'))).toEqual(first);
    expect((await client.track(first.waybillNo)).status).toBe('created');
    clock += 2500;
    expect(await client.track(first.waybillNo)).toMatchObject({ status: 'in_transit', track: [{ event: '已下单，等待揽收' }, { event: '快递员已揽收' }, { event: '运输中' }] });
    clock += 10_000;
    expect((await client.track(first.waybillNo)).status).toBe('delivered');
  });

  it('retries a 503 within its budget, then gives up with CourierUnavailableError', async () => {
    courier.setMode('503');
    try {
      const client = httpCourier({ url: courier.url, timeoutMs: 2000, retries: 2 });
      const before = courier.bookings.length;
      await expect(client.book(waybill('app-2'))).rejects.toThrow(CourierUnavailableError);
      expect(courier.bookings.length).toBe(before);
    } finally {
      courier.setMode('ok');
    }
  });

  it('gives up on a courier that never answers, at its timeout', async () => {
    courier.setMode('hang');
    try {
      const client = httpCourier({ url: courier.url, timeoutMs: 300, retries: 1 });
      const started = Date.now();
      await expect(client.book(waybill('app-3'))).rejects.toThrow(CourierUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      courier.setMode('ok');
    }
  });

  it('treats nobody listening and a refused request as unavailable, never as a waybill', async () => {
    const nobody = httpCourier({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 500, retries: 1 });
    await expect(nobody.book(waybill('app-4'))).rejects.toThrow(CourierUnavailableError);
    const client = httpCourier({ url: courier.url, timeoutMs: 2000, retries: 0 });
    await expect(client.book({ ...waybill('app-5'), address: '' })).rejects.toThrow(/without a waybill number/);
    await expect(client.track('SB000000000000')).rejects.toThrow(CourierUnavailableError);
  });
});
