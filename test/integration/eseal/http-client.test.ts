/**
 * The e-seal platform client (src/signing/eseal/http-client.ts) against the stand-in server over a real socket:
 * the contract's answers, and every way a platform can fail closed.
 */
import { X509Certificate, createHash, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createESealClient } from '../../../src/signing/eseal/http-client.js';
import { startESealStandin, type ESealStandin } from '../../../src/standins/eseal-server.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const HAPPY = '91210100MA0Q1A2B6L';
const NOBODY = '91210112MA0N8T9U3L';
let dir: string;
let standin: ESealStandin;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'eseal-standin-'));
  standin = await startESealStandin({ dataDir: dir, rulesDir: RULES_DIR });
});
afterAll(async () => {
  await standin.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => standin.setMode('ok'));

const client = (over: { timeoutMs?: number; breakerFailures?: number; breakerOpenMs?: number } = {}) =>
  createESealClient({ baseUrl: standin.url, timeoutMs: over.timeoutMs ?? 10_000 /* generous: CI machines are shared; the timeout case sets its own */, ...over });
const auth = { applicationId: 'app-1', purpose: '粮食收购企业备案申请表签章' };

describe('e-seal platform client over HTTP', () => {
  it('looks up an enrolled enterprise: a 有效 EC seal whose chain ends at the platform root', async () => {
    const r = await client().lookup(HAPPY);
    expect(r.kind).toBe('found');
    if (r.kind !== 'found') return;
    expect(r.seal).toMatchObject({ code: HAPPY, name: '沈阳丰禾粮食购销有限公司', status: '有效', keyType: 'ec' });
    expect(r.seal.validUntil > new Date().toISOString().slice(0, 10)).toBe(true);
    const leaf = new X509Certificate(Buffer.from(r.seal.chain[0]!));
    const root = new X509Certificate(standin.rootsPem);
    expect(leaf.checkIssued(root) && leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.subject).toContain(`serialNumber=${HAPPY}`);
  });

  it('signs a digest under an authorisation; the signature verifies with the seal certificate', async () => {
    const c = client();
    const found = await c.lookup(HAPPY);
    if (found.kind !== 'found') throw new Error('no seal');
    const data = Buffer.from('DER of the signed attributes');
    const digest = createHash('sha256').update(data).digest();
    const r = await c.sign(HAPPY, { sealId: found.seal.sealId, digestAlgorithm: 'sha256', digest, authorization: auth });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.algorithm).toBe('ecdsa-with-SHA256');
    const pub = new X509Certificate(Buffer.from(found.seal.chain[0]!)).publicKey;
    expect(verify('sha256', data, pub, r.signature)).toBe(true);
    expect(verify('sha256', Buffer.from('other data'), pub, r.signature)).toBe(false);
  });

  it('answers none for an enterprise without a seal (404 {"found": false})', async () => {
    expect(await client().lookup(NOBODY)).toEqual({ kind: 'none' });
  });

  it('sees a cancelled seal as found with status 注销, and the platform refuses to sign with it', async () => {
    const code = '91210102123456788E';
    const c = client();
    await standin.setStatus(code, '注销');
    const r = await c.lookup(code);
    expect(r.kind === 'found' && r.seal.status).toBe('注销');
    if (r.kind !== 'found') return;
    const s = await c.sign(code, { sealId: r.seal.sealId, digestAlgorithm: 'sha256', digest: Buffer.alloc(32, 1), authorization: auth });
    expect(s).toEqual({ ok: false, error: expect.stringMatching(/^HTTP 409/) });
    await standin.setStatus(code, '有效');
  });

  it.each([
    ['503', /HTTP 503/],
    ['garbage', /not a seal record/],
    ['bare-404', /HTTP 404 without \{"found": false\}/],
  ] as const)('fails closed when the platform answers %s: unavailable, never "no seal"', async (mode, error) => {
    standin.setMode(mode);
    const r = await client().lookup(HAPPY);
    expect(r).toEqual({ kind: 'unavailable', error: expect.stringMatching(error) });
  });

  it('gives up within its timeout when the platform hangs', async () => {
    standin.setMode('hang');
    const t0 = Date.now();
    const r = await client({ timeoutMs: 300 }).lookup(HAPPY);
    expect(r).toEqual({ kind: 'unavailable', error: 'timeout after 300 ms' });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('opens its breaker after repeated failures and answers at once, then lets one trial through', async () => {
    standin.setMode('503');
    const c = client({ breakerFailures: 3, breakerOpenMs: 400 });
    for (let i = 0; i < 3; i++) expect((await c.lookup(HAPPY)).kind).toBe('unavailable');
    const before = standin.counts.lookups;
    const r = await c.lookup(HAPPY);
    expect(r).toEqual({ kind: 'unavailable', error: expect.stringMatching(/circuit open/) });
    expect(standin.counts.lookups).toBe(before);
    standin.setMode('ok');
    await new Promise((res) => setTimeout(res, 450));
    expect((await c.lookup(HAPPY)).kind).toBe('found');
    expect(standin.counts.lookups).toBe(before + 1);
  });

  it('does not reach the platform when it is down (connection refused): unavailable', async () => {
    const c = createESealClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 1000 });
    const r = await c.lookup(HAPPY);
    expect(r.kind).toBe('unavailable');
  });
});
