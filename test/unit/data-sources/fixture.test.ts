import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFixtureSource } from '../../../src/data-sources/fixture.js';
import type { ReadContext } from '../../../src/data-sources/types.js';

const ctx: ReadContext = { requester: 'test', applicationId: null, purpose: 'unit test' };
const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const FIXED = new Date('2026-11-26T08:00:00.000Z');

const record = { uscc: '91210102123456788E', name: '沈阳䶮盛粮贸有限公司', status: '在业', nested: { a: [1, 2] } };

describe('createFixtureSource', () => {
  it('answers found with the record and the sha256 of JSON.stringify(record)', async () => {
    const src = createFixtureSource({ id: 'market-entity', records: { '91210102123456788E': record }, now: () => FIXED });
    expect(src.id).toBe('market-entity');
    expect(src.backend).toBe('fixture');
    const read = await src.read('91210102123456788E', ctx);
    expect(read).toEqual({
      source: 'market-entity',
      key: '91210102123456788E',
      status: 'found',
      record,
      responseHash: sha256(JSON.stringify(record)),
      fetchedAt: FIXED.toISOString(),
    });
  });

  it('answers not_found (no record, hash of the contract 404 body {"found":false}) for an absent key', async () => {
    const src = createFixtureSource({ id: 'population', records: new Map([['210102199001011237', { name: '张伟' }]]) });
    const read = await src.read('210102199001011236', ctx);
    expect(read.status).toBe('not_found');
    expect(read.record).toBeNull();
    expect(read.responseHash).toBe(sha256('{"found":false}'));
    expect(read.error).toBeUndefined();
  });

  it('accepts a Map and matches keys with Chinese and parentheses exactly', async () => {
    const key = '辽(2024)沈阳市不动产权第0012345号';
    const src = createFixtureSource({ id: 'real-estate', records: new Map([[key, { certNo: key }]]) });
    expect((await src.read(key, ctx)).status).toBe('found');
    expect((await src.read(encodeURIComponent(key), ctx)).status).toBe('not_found');
    expect((await src.read('辽（2024）沈阳市不动产权第0012345号', ctx)).status).toBe('not_found');
  });

  it('does not match inherited object properties', async () => {
    const src = createFixtureSource({ id: 'credit', records: {} });
    expect((await src.read('constructor', ctx)).status).toBe('not_found');
    expect((await src.read('__proto__', ctx)).status).toBe('not_found');
  });

  it('returns a fresh copy on every read', async () => {
    const src = createFixtureSource({ id: 'market-entity', records: { k: { v: 1 } } });
    const first = await src.read('k', ctx);
    (first.record as { v: number }).v = 99;
    expect((await src.read('k', ctx)).record).toEqual({ v: 1 });
  });

  it('answers unknown for an empty key, and rejects non-object records at creation', async () => {
    const src = createFixtureSource({ id: 'credit', records: {} });
    const read = await src.read('', ctx);
    expect(read.status).toBe('unknown');
    expect(read.error).toMatch(/empty key/);
    expect(() => createFixtureSource({ id: 'x', records: { a: [] as unknown as object } })).toThrow(/not an object/);
  });
});
