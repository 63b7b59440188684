/**
 * 都市圈通办 (issue 16, DESIGN.md §12) with two city nodes as separate processes on loopback: 沈阳 (210100, SQLite,
 * catalog rules/) and 抚顺 (210400, PostgreSQL, catalog rules/cities/210400), each with its own redis-server, dev root
 * CA and node key. Filings go both ways, so each node is the receiving node on one backend and the owning node on
 * the other. The owning node is SIGKILLed mid-forward and restarted: every filing is decided once, none is lost.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local-redis.js';
import { startStandInCourier, type StandInCourier } from '../../src/delivery/stand-in-courier.js';
import { applicantToken, createCityNode, http, type CityNode } from '../support/city-nodes.js';
import { queryRows } from '../support/db-query.js';
import { loadDemoDataRecords, startDataSourceServer, type DataSourceServer } from '../support/datasource-server.js';
import { tempDir, verifyCertificate, writeTemp } from '../support/pdf-tools.js';
import { eventually, sleep } from '../support/processes.js';
import { RULES_DIR } from '../support/datasource-server.js';
import path from 'node:path';

const FENGHE = '91210100MA0Q1A2B6L';
const FENGHE_ADDRESS = '辽宁省沈阳市和平区南京北街128号';

function fushunGrain(region: string) {
  return {
    matter: 'grain-purchase-filing',
    city: '210400',
    answers: { filingType: '首次', storageSource: '租赁' },
    form: {
      responsiblePerson: { name: '张伟', idNumber: '210102199001011237' },
      contactPhone: '13800000000',
      purchaseRegionCode: region,
      grainTypes: ['玉米'],
      storageFacilities: [{ address: '抚顺市望花区租赁仓库', capacityTonnes: 2000, ownership: '租赁', leaseEndsOn: '2099-12-31' }],
    },
    consent: { dataSharing: true, sealAuthorization: true },
  };
}

type View = { status: string; city: string; certificate?: { id: string; number: string }; forwarding?: { state: string; attempts: number; remoteId: string | null }; delivery?: any; decision: any };

async function view(node: CityNode, id: string, token: string): Promise<View> {
  const res = await http(`${node.url}/v1/applications/${id}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as View;
}

describe('都市圈通办: 沈阳 (SQLite) and 抚顺 (PostgreSQL) as separate processes', () => {
  let sources: DataSourceServer;
  let courier: StandInCourier;
  let shenyang: CityNode;
  let fushun: CityNode;
  let token: string;
  const tmp = tempDir('federation-');

  beforeAll(async () => {
    sources = await startDataSourceServer({ records: loadDemoDataRecords() });
    courier = await startStandInCourier({ stepMs: 300 });
    const [sp, fp] = [await freePort(), await freePort()];
    const common = { COURIER_URL: courier.url, COURIER_TRACK_INTERVAL_MS: '300', COURIER_RETRY_BASE_MS: '200' };
    shenyang = await createCityNode({ city: '210100', port: sp, backend: 'sqlite', peers: { '210400': `http://127.0.0.1:${fp}` }, sources, env: common });
    fushun = await createCityNode({
      city: '210400',
      port: fp,
      backend: 'postgres',
      rulesDir: path.join(RULES_DIR, 'cities', '210400'),
      peers: { '210100': `http://127.0.0.1:${sp}` },
      sources,
      env: common,
    });
    await Promise.all([shenyang.start(), fushun.start()]);
    token = await applicantToken(FENGHE);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([shenyang?.close(), fushun?.close()]);
    await courier?.close();
    await sources?.close();
    tmp.cleanup();
  }, 60_000);

  it('a filing at 沈阳 for 抚顺’s matter is decided and issued by 抚顺; status, the signed file and the delivery reach the applicant at 沈阳', async () => {
    const res = await http(`${shenyang.url}/v1/applications`, { token, json: { ...fushunGrain('210402'), delivery: { method: 'express' } }, headers: { 'idempotency-key': 'fed-1' } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = res.body.id as string;
    // Same key, same body: the same filing, not a second one.
    const again = await http(`${shenyang.url}/v1/applications`, { token, json: { ...fushunGrain('210402'), delivery: { method: 'express' } }, headers: { 'idempotency-key': 'fed-1' } });
    expect(again.body.id).toBe(id);

    const decided = await eventually('the 抚顺 decision at 沈阳', async () => {
      const v = await view(shenyang, id, token);
      return v.status === 'approved' && v.certificate ? v : undefined;
    }, 60_000, 200);
    expect(decided.city).toBe('210400');
    expect(decided.certificate!.number).toMatch(/^抚粮收备〔\d{4}〕\d{6}号$/);
    expect(decided.forwarding).toMatchObject({ state: 'forwarded' });
    const remoteId = decided.forwarding!.remoteId!;

    // The owner holds it as its own application, decided there.
    const atOwner = await view(fushun, remoteId, token);
    expect(atOwner).toMatchObject({ status: 'approved', city: '210400', certificate: decided.certificate });

    // The owner's signed file, byte for byte, at the receiving node.
    const here = await http(`${shenyang.url}/v1/certificates/${decided.certificate!.id}/pdf`, { token });
    const there = await http(`${fushun.url}/v1/certificates/${decided.certificate!.id}/pdf`, { token });
    expect(here.status).toBe(200);
    expect(there.status).toBe(200);
    expect(Buffer.from(here.bytes).equals(Buffer.from(there.bytes))).toBe(true);
    expect(here.headers.get('x-content-sha256')).toBe(createHash('sha256').update(here.bytes).digest('hex'));
    const meta = await http(`${shenyang.url}/v1/certificates/${decided.certificate!.id}`, { token });
    expect(meta.body).toMatchObject({ id: decided.certificate!.id, city: '210400', issuer: { name: '抚顺市粮食和物资储备局' }, applicationId: id });
    // Nobody else sees it at 沈阳.
    expect((await http(`${shenyang.url}/v1/certificates/${decided.certificate!.id}/pdf`, { token: await applicantToken('91210102123456788E') })).status).toBe(404);

    // Tools we did not write accept it against the owner's anchors, and against 沈阳's /v1/trust (which carries them).
    const pdf = writeTemp(tmp.dir, 'fushun-cert.pdf', here.bytes);
    const fushunRoots = writeTemp(tmp.dir, 'fushun-roots.pem', (await http(`${fushun.url}/v1/trust?scope=own`)).bytes);
    const shenyangTrust = writeTemp(tmp.dir, 'shenyang-trust.pem', (await http(`${shenyang.url}/v1/trust`)).bytes);
    const r1 = await verifyCertificate(pdf, fushunRoots, ['抚顺市粮食和物资储备局', '沈阳丰禾粮食购销有限公司', decided.certificate!.number]);
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    const r2 = await verifyCertificate(pdf, shenyangTrust);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    // 沈阳's own anchors alone do not vouch for it: the pinned peer anchors are what makes it pass.
    const shenyangOwn = writeTemp(tmp.dir, 'shenyang-own.pem', (await http(`${shenyang.url}/v1/trust?scope=own`)).bytes);
    expect((await verifyCertificate(pdf, shenyangOwn)).code).not.toBe(0);

    // POST /v1/verify at either node: TOTAL_PASSED, with 抚顺's register entry.
    for (const node of [shenyang, fushun]) {
      const v = await http(`${node.url}/v1/verify`, { body: here.bytes, contentType: 'application/pdf' });
      expect(v.status).toBe(200);
      expect(v.body, `${node.city}: ${JSON.stringify(v.body.checks?.filter((c: any) => c.result !== 'PASSED'))}`).toMatchObject({
        indication: 'TOTAL_PASSED',
        register: { id: decided.certificate!.id, number: decided.certificate!.number, status: 'valid', sha256Matches: true },
      });
    }
    // A byte changed: 沈阳 says so too.
    const tampered = Buffer.from(here.bytes);
    const at = Math.floor(tampered.length / 3);
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at);
    expect((await http(`${shenyang.url}/v1/verify`, { body: tampered, contentType: 'application/pdf' })).body.indication).toBe('TOTAL_FAILED');

    // 快递取送 booked by the owner to the registered address (免填), mirrored to 沈阳 with its waybill and track.
    const delivered = await eventually('the parcel delivered, seen at 沈阳', async () => {
      const v = await view(shenyang, id, token);
      return v.delivery?.status === 'delivered' ? v : undefined;
    }, 30_000, 200);
    expect(delivered.delivery.waybillNo).toMatch(/^SB\d+$/);
    expect(delivered.delivery.track.map((e: any) => e.event)).toContain('已签收');
    const ownerDelivery = (await view(fushun, remoteId, token)).delivery;
    expect(ownerDelivery).toMatchObject({ waybillNo: delivered.delivery.waybillNo, address: FENGHE_ADDRESS, addressSource: 'registered', recipient: '沈阳丰禾粮食购销有限公司' });
    expect(courier.bookings.filter((b) => b.reference === remoteId).map((b) => b.address)).toContain(FENGHE_ADDRESS);

    // Measured, not asserted: a second filing with both nodes warm, from POST at 沈阳 to the certificate seen at 沈阳.
    const started = Date.now();
    const warm = await http(`${shenyang.url}/v1/applications`, { token, json: fushunGrain('210405') });
    await eventually('the warm filing decided at 沈阳', async () => {
      const v = await view(shenyang, warm.body.id, token);
      return v.status === 'approved' && v.certificate ? v : undefined;
    }, 30_000, 50);
    console.log(`FEDERATION 沈阳 → 抚顺 → 沈阳, warm: filed → approved with certificate at the receiving node in ${Date.now() - started} ms (FEDERATION_POLL_MS=200, status polled every 50 ms)`);
  }, 150_000);

  it('a filing at 抚顺 for 沈阳’s proof (企业信用信息证明) is issued by 沈阳 and served unchanged at 抚顺', async () => {
    const res = await http(`${fushun.url}/v1/applications`, {
      token,
      json: { matter: '210100:enterprise-credit-proof', answers: {}, form: { purpose: '抚顺市政府采购投标' }, consent: { dataSharing: true, sealAuthorization: false } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const v = await eventually('the 沈阳 proof at 抚顺', async () => {
      const x = await view(fushun, res.body.id, token);
      return x.status === 'approved' && x.certificate ? x : undefined;
    }, 60_000, 200);
    expect(v.city).toBe('210100');
    expect(v.certificate!.number).toMatch(/^沈信证〔\d{4}〕\d{6}号$/);
    const meta = await http(`${fushun.url}/v1/certificates/${v.certificate!.id}`, { token });
    expect(meta.body).toMatchObject({ kind: '证明', city: '210100', issuer: { name: '沈阳市发展和改革委员会' } });
    const file = await http(`${fushun.url}/v1/certificates/${v.certificate!.id}/pdf`, { token });
    const pdf = writeTemp(tmp.dir, 'proof.pdf', file.bytes);
    const roots = writeTemp(tmp.dir, 'shenyang-roots.pem', (await http(`${shenyang.url}/v1/trust?scope=own`)).bytes);
    const r = await verifyCertificate(pdf, roots, ['企业信用信息证明', '抚顺市政府采购投标', '有效期至']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await http(`${fushun.url}/v1/verify`, { body: file.bytes, contentType: 'application/pdf' })).body.indication).toBe('TOTAL_PASSED');
  }, 90_000);

  it('refuses at intake what the owner’s schema refuses, and a city that is not a peer', async () => {
    const bad = await http(`${shenyang.url}/v1/applications`, { token, json: { ...fushunGrain('210402'), form: { ...fushunGrain('210402').form, contactPhone: 'x' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('REQUEST_VALIDATION');
    expect(bad.body.errors.map((e: any) => e.path)).toContain('/form/contactPhone');
    const unknown = await http(`${shenyang.url}/v1/applications`, { token, json: { ...fushunGrain('210402'), city: '210200' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe('CITY_UNKNOWN');
    const noMatter = await http(`${shenyang.url}/v1/applications`, { token, json: { ...fushunGrain('210402'), matter: 'public-parking-filing' } });
    expect(noMatter.body.code).toBe('MATTER_UNKNOWN');
    // A node request without a node signature is refused.
    const forged = await http(`${fushun.url}/v1/federation/filings`, { json: { originId: 'x' } });
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('FEDERATION_AUTH_INVALID');
  });

  it('the owning node SIGKILLed mid-forward: filings wait at 沈阳, and are decided once each after 抚顺 returns', async () => {
    const regions = ['210403', '210404', '210411', '210421', '210422', '210423'];
    const burst = await Promise.all(regions.slice(0, 4).map((r) => http(`${shenyang.url}/v1/applications`, { token, json: fushunGrain(r) })));
    for (const b of burst) expect(b.status, JSON.stringify(b.body)).toBe(202);
    // Kill the owner while the forwarder is at work on the burst.
    await sleep(150);
    await fushun.kill();
    // Filed while the owner is down: checked against the cached copy of the owner's catalog, accepted, kept.
    const during = await Promise.all(regions.slice(4).map((r) => http(`${shenyang.url}/v1/applications`, { token, json: fushunGrain(r) })));
    for (const d of during) expect(d.status, JSON.stringify(d.body)).toBe(202);
    const ids = [...burst, ...during].map((b) => b.body.id as string);
    const waiting = await eventually('a retried forward while the owner is down', async () => {
      const v = await view(shenyang, ids[ids.length - 1]!, token);
      return v.forwarding!.attempts >= 2 ? v : undefined;
    }, 20_000, 200);
    expect(waiting.status).toBe('queued');
    expect(waiting.forwarding!.state).toBe('pending');
    const attemptsWhileDown = waiting.forwarding!.attempts;

    await fushun.start();
    const decided = await Promise.all(
      ids.map((id) =>
        eventually(`filing ${id} decided after 抚顺 returned`, async () => {
          const v = await view(shenyang, id, token);
          return v.status === 'approved' && v.certificate ? v : undefined;
        }, 120_000, 500),
      ),
    );
    // Exactly one application and one certificate at the owner per filing, whatever was retried.
    const inbound = await queryRows<{ origin_id: string; application_id: string }>(fushun, 'select origin_id, application_id from federation_inbound');
    const mine = inbound.filter((r) => ids.includes(r.origin_id));
    expect(new Set(mine.map((r) => r.origin_id)).size).toBe(ids.length);
    expect(mine).toHaveLength(ids.length);
    const certs = await queryRows<{ application_id: string }>(fushun, 'select application_id from certificates');
    const perApplication = mine.map((r) => certs.filter((c) => c.application_id === r.application_id).length);
    expect(perApplication).toEqual(ids.map(() => 1));
    expect(new Set(decided.map((d) => d.certificate!.number)).size).toBe(ids.length);
    console.log(
      `FEDERATION owner SIGKILLed mid-forward: filed ${ids.length}, accepted while down ${during.length}, forward attempts while down ${attemptsWhileDown}, ` +
        `decided ${decided.length}, owner applications ${mine.length}, certificates per filing ${[...new Set(perApplication)].join('/')}`,
    );
  }, 240_000);
});
