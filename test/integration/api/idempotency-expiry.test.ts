/**
 * Idempotency-Keys over HTTP (issue 17), on SQLite and PostgreSQL: a replay with the same key and body answers the
 * stored response — status, body and Location of the first answer, marked `Idempotent-Replayed` — a different body
 * is refused (422), a key is kept for IDEMPOTENCY_TTL_HOURS and, once expired, files anew; expired keys are purged by
 * the leased pass, one process of many doing it.
 */
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passLeases } from '../../../src/queue/pass-lease.js';
import { purgeExpiredIdempotencyKeys } from '../../../src/queue/idempotency-purge.js';
import { intakeCounts } from '../../support/db-counts.js';
import { queryRows } from '../../support/db-query.js';
import { TEST_DATABASE_URL } from '../../support/databases.js';
import { HAPPY_USCC, grainFiling, startStack, submit, type Stack } from '../../support/stack.js';

/** Writes behind the service's back (moving a key's expiry into the past stands in for waiting 72 hours). */
async function writeSql(stack: Stack, text: string, params: string[]): Promise<void> {
  const { databaseUrl, sqlitePath } = stack.db.options;
  if (databaseUrl === null) {
    const db = new BetterSqlite3(sqlitePath);
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare(text).run(...params);
    } finally {
      db.close();
    }
    return;
  }
  const schema = new URL(databaseUrl).searchParams.get('schema')!;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`set search_path to "${schema}"`);
    let i = 0;
    await client.query(text.replace(/\?/g, () => `$${++i}`), params);
  } finally {
    await client.end();
  }
}

const keyRow = async (stack: Stack, key: string) =>
  (await queryRows<{ application_id: string; created_at: string; expires_at: string | null }>(stack, 'select application_id, created_at, expires_at from idempotency_keys where key = ?', [key]))[0];

describe.each(['sqlite', 'postgres'] as const)('Idempotency-Key kept for a period, replayed from the store (%s)', (backend) => {
  let stack: Stack;
  let applicant: string;
  beforeAll(async () => {
    stack = await startStack({ backend, worker: false, env: { IDEMPOTENCY_TTL_HOURS: '48' } });
    applicant = await stack.token(HAPPY_USCC);
  }, 120_000);
  afterAll(async () => stack?.close());

  it('answers a replay with the stored 202: same body, same Location, marked as a replay; one application', async () => {
    const key = randomUUID();
    const before = await intakeCounts(stack);
    const first = await submit(stack, applicant, grainFiling(), { 'idempotency-key': key });
    expect(first.statusCode, first.body).toBe(202);
    const id = first.json<{ id: string }>().id;
    const second = await submit(stack, applicant, grainFiling(), { 'idempotency-key': key });
    expect(second.statusCode).toBe(202);
    expect(second.body).toBe(first.body);
    expect(second.json()).toEqual({ id, status: 'queued' });
    expect(second.headers['location']).toBe(`/v1/applications/${id}`);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect((await intakeCounts(stack)).applications - before.applications).toBe(1);
    const row = (await keyRow(stack, key))!;
    expect(Date.parse(row.expires_at!) - Date.parse(row.created_at)).toBe(48 * 3_600_000);
  });

  it('refuses the same key with another body (422 IDEMPOTENCY_KEY_REUSED)', async () => {
    const key = randomUUID();
    expect((await submit(stack, applicant, grainFiling(), { 'idempotency-key': key })).statusCode).toBe(202);
    const other = await submit(stack, applicant, grainFiling({ form: { contactPhone: '13900000000' } }), { 'idempotency-key': key });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('files anew with a key past its expiry, even before the purge removed it', async () => {
    const key = randomUUID();
    const first = await submit(stack, applicant, grainFiling(), { 'idempotency-key': key });
    await writeSql(stack, 'update idempotency_keys set expires_at = ? where key = ?', [new Date(Date.now() - 1000).toISOString(), key]);
    const again = await submit(stack, applicant, grainFiling({ form: { contactPhone: '13900000000' } }), { 'idempotency-key': key });
    expect(again.statusCode, again.body).toBe(202);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    const newId = again.json<{ id: string }>().id;
    expect(newId).not.toBe(first.json<{ id: string }>().id);
    expect((await keyRow(stack, key))!.application_id).toBe(newId);
    // And the renewed key deduplicates again.
    const replay = await submit(stack, applicant, grainFiling({ form: { contactPhone: '13900000000' } }), { 'idempotency-key': key });
    expect(replay.json<{ id: string }>().id).toBe(newId);
  });

  it('purges expired keys only, under a lease one process holds', async () => {
    const [expired, live] = [randomUUID(), randomUUID()];
    await submit(stack, applicant, grainFiling(), { 'idempotency-key': expired });
    await submit(stack, applicant, grainFiling(), { 'idempotency-key': live });
    await writeSql(stack, 'update idempotency_keys set expires_at = ? where key = ?', ['2000-01-01T00:00:00.000Z', expired]);
    const expiredBefore = (await queryRows<{ n: number | string }>(stack, 'select count(*) as n from idempotency_keys where expires_at <= ?', [new Date().toISOString()]))[0]!;
    const processes = Array.from({ length: 3 }, (_, i) => passLeases(stack.deps.store, () => new Date(), `purger-${i}`));
    const results = await Promise.all(processes.map((l) => l.run('idempotency-purge', 10_000, () => purgeExpiredIdempotencyKeys(stack.deps.store, new Date()))));
    expect(results.filter((r) => r !== null)).toEqual([Number(expiredBefore.n)]);
    expect(await keyRow(stack, expired)).toBeUndefined();
    expect(await keyRow(stack, live)).toBeDefined();
    expect((await queryRows(stack, 'select key from idempotency_keys where expires_at <= ?', [new Date().toISOString()])).length).toBe(0);
  });
});

/**
 * The same rule for the other keys an applicant sends with POST /v1/applications (issue 17): a 一件事 bundle filing
 * and a filing for another city (都市圈通办, held here and forwarded). The peer city is down for the whole test: the
 * filing is checked against the owner's definition kept in the database, which the test puts there.
 */
describe.each(['sqlite', 'postgres'] as const)('Idempotency-Keys of bundle and other-city filings kept for a period, replayed from the store (%s)', (backend) => {
  const PEER = '210400';
  let stack: Stack;
  let person: string;
  let enterprise: string;
  beforeAll(async () => {
    stack = await startStack({ backend, worker: false, env: { IDEMPOTENCY_TTL_HOURS: '48', FEDERATION_PEERS: `${PEER}=http://127.0.0.1:9` } });
    person = await stack.token('210102199001011237');
    enterprise = await stack.token(HAPPY_USCC);
    const view = await stack.app.inject({ method: 'GET', url: '/v1/matters/grain-purchase-filing' });
    const v = view.json<{ code: string; version: string }>();
    await stack.deps.store.federation.putMatter({ city: PEER, code: v.code, version: v.version, definition: view.body, fetchedAt: new Date().toISOString() });
  }, 120_000);
  afterAll(async () => stack?.close());

  const bundleBody = (contactPhone = '13800000000') => ({
    bundle: 'disability-services',
    answers: { relation: '本人', residence: '本市户籍' },
    form: { disabledPerson: { name: '王芳', idNumber: '210102199001011237' }, contactPhone },
    consent: { dataSharing: true, sealAuthorization: true },
  });
  const kinds = [
    { kind: 'bundle', table: 'bundle_applications', token: () => person, body: (v = 0) => bundleBody(v ? '13900000000' : '13800000000'), status: 'processing' },
    { kind: 'other-city', table: 'federated_filings', token: () => enterprise, body: (v = 0) => ({ ...grainFiling(v ? { form: { contactPhone: '13900000000' } } : {}), city: PEER }), status: 'queued' },
  ] as const;
  const rowOf = async (table: string, key: string) =>
    (await queryRows<{ id: string; created_at: string; idempotency_expires_at: string | null }>(stack, `select id, created_at, idempotency_expires_at from ${table} where idempotency_key = ?`, [key]))[0];
  const count = async (table: string) => Number((await queryRows<{ n: number | string }>(stack, `select count(*) as n from ${table}`))[0]!.n);

  it('lets an other-city filing take over a key whose filing here has expired (one key namespace per applicant)', async () => {
    const key = randomUUID();
    const local = await submit(stack, enterprise, grainFiling(), { 'idempotency-key': key });
    expect(local.statusCode).toBe(202);
    expect((await submit(stack, enterprise, { ...grainFiling(), city: PEER }, { 'idempotency-key': key })).statusCode).toBe(422);
    await writeSql(stack, 'update idempotency_keys set expires_at = ? where key = ?', [new Date(Date.now() - 1000).toISOString(), key]);
    const other = await submit(stack, enterprise, { ...grainFiling(), city: PEER }, { 'idempotency-key': key });
    expect(other.statusCode, other.body).toBe(202);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(other.json<{ id: string }>().id).not.toBe(local.json<{ id: string }>().id);
    expect((await rowOf('federated_filings', key))!.id).toBe(other.json<{ id: string }>().id);
  });

  describe.each(kinds)('$kind', ({ table, token, body, status }) => {
    it('answers a replay with the stored 202: same body, same Location, marked as a replay; one filing; key kept for the period', async () => {
      const key = randomUUID();
      const before = await count(table);
      const first = await submit(stack, token(), body(), { 'idempotency-key': key });
      expect(first.statusCode, first.body).toBe(202);
      const id = first.json<{ id: string }>().id;
      expect(first.json()).toEqual({ id, status });
      const second = await submit(stack, token(), body(), { 'idempotency-key': key });
      expect(second.statusCode).toBe(202);
      expect(second.body).toBe(first.body);
      expect(second.headers['location']).toBe(`/v1/applications/${id}`);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect((await count(table)) - before).toBe(1);
      const row = (await rowOf(table, key))!;
      expect(row.id).toBe(id);
      expect(Date.parse(row.idempotency_expires_at!) - Date.parse(row.created_at)).toBe(48 * 3_600_000);
    });

    it('refuses the same key with another body (422 IDEMPOTENCY_KEY_REUSED)', async () => {
      const key = randomUUID();
      expect((await submit(stack, token(), body(), { 'idempotency-key': key })).statusCode).toBe(202);
      const other = await submit(stack, token(), body(1), { 'idempotency-key': key });
      expect(other.statusCode).toBe(422);
      expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    });

    it('files anew with a key past its expiry, even before the purge removed it', async () => {
      const key = randomUUID();
      const first = await submit(stack, token(), body(), { 'idempotency-key': key });
      await writeSql(stack, `update ${table} set idempotency_expires_at = ? where idempotency_key = ?`, [new Date(Date.now() - 1000).toISOString(), key]);
      const again = await submit(stack, token(), body(1), { 'idempotency-key': key });
      expect(again.statusCode, again.body).toBe(202);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      const newId = again.json<{ id: string }>().id;
      expect(newId).not.toBe(first.json<{ id: string }>().id);
      expect((await rowOf(table, key))!.id).toBe(newId);
      const replay = await submit(stack, token(), body(1), { 'idempotency-key': key });
      expect(replay.json<{ id: string }>().id).toBe(newId);
      expect(replay.headers['idempotent-replayed']).toBe('true');
    });

    it('loses its expired keys to the periodic purge (the filing stays), keeps the live ones', async () => {
      const [expired, live] = [randomUUID(), randomUUID()];
      const gone = (await submit(stack, token(), body(), { 'idempotency-key': expired })).json<{ id: string }>().id;
      await submit(stack, token(), body(), { 'idempotency-key': live });
      await writeSql(stack, `update ${table} set idempotency_expires_at = ? where idempotency_key = ?`, ['2000-01-01T00:00:00.000Z', expired]);
      expect(await purgeExpiredIdempotencyKeys(stack.deps.store, new Date())).toBeGreaterThanOrEqual(1);
      expect(await rowOf(table, expired)).toBeUndefined();
      expect(await rowOf(table, live)).toBeDefined();
      expect((await queryRows(stack, `select id from ${table} where id = ?`, [gone])).length).toBe(1);
      expect((await queryRows(stack, `select id from ${table} where idempotency_expires_at <= ?`, [new Date().toISOString()])).length).toBe(0);
    });
  });
});
