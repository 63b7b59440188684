/**
 * Filings sealed through the e-seal platform (DESIGN.md §9, issue 12): the e-form is signed by the platform's seal
 * under the filing's authorisation and audited per sign request; no seal, a seal that is not 有效 or a platform
 * that does not answer makes the filing a manual review with that reason; the development authority (embedded
 * default) serves a city's worth of new enterprises without a key generated or a file written on their path.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevelopmentAuthority } from '../../../src/signing/eseal/development-authority.js';
import { startESealStandin, type ESealStandin } from '../../../src/standins/eseal-server.js';
import { grainFilingOf, syntheticEnterprise, syntheticRecords } from '../../../src/standins/synthetic.js';
import { RULES_DIR } from '../../support/datasource-server.js';
import { tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';
import { grainFiling, HAPPY_USCC, privateCertsDir, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const SEED = 4242;
const tmp = tempDir('eseal-filings-');
afterAll(() => tmp.cleanup());

async function fileAndWait(stack: Stack, sub: string, body: unknown) {
  const token = await stack.token(sub);
  const res = await submit(stack, token, body);
  expect(res.statusCode).toBe(202);
  const id = res.json<{ id: string }>().id;
  return { id, token, app: await waitForDecision(stack, id, token, 30_000) };
}

describe.each(['sqlite', 'postgres'] as const)('with the e-seal platform at ESEAL_URL (%s)', (backend) => {
  let standin: ESealStandin;
  let stack: Stack;
  const unenrolled = syntheticEnterprise(1, SEED);

  beforeAll(async () => {
    standin = await startESealStandin({ dataDir: path.join(tmp.dir, `standin-${backend}`), rulesDir: RULES_DIR });
    const rootsFile = writeTemp(tmp.dir, `eseal-root-${backend}.pem`, standin.rootsPem);
    stack = await startStack({
      backend,
      env: { ESEAL_URL: standin.url, ESEAL_TRUST_ROOTS: rootsFile, ESEAL_TIMEOUT_MS: '1500' },
      extraRecords: syntheticRecords(4, SEED) as unknown as Record<string, Record<string, object>>,
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await standin?.close();
  });

  it('seals the e-form with the platform seal; the form verifies against /v1/trust; one sign request is audited', async () => {
    expect(stack.deps.eseal.kind).toBe('http');
    const { id, token, app } = await fileAndWait(stack, HAPPY_USCC, grainFiling({ form: { purchaseRegionCode: '210103' } }));
    expect(app.status).toBe('approved');
    const form = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}/form`, headers: { authorization: `Bearer ${token}` } });
    expect(form.statusCode).toBe(200);
    const trust = await stack.app.inject({ method: 'GET', url: '/v1/trust' });
    expect(trust.body).toContain(standin.rootsPem.trim());
    const r = await verifyCertificate(writeTemp(tmp.dir, `form-${backend}.pdf`, form.rawPayload), writeTemp(tmp.dir, `trust-${backend}.pem`, trust.body), ['沈阳丰禾粮食购销有限公司']);
    expect(r.stdout).toContain('ALL PASS');
    const log = await stack.deps.store.eseals.signLog(id);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ applicationId: id, subject: HAPPY_USCC, platform: 'http', digestAlgorithm: 'sha256', result: 'signed', purpose: '粮食收购企业备案申请表签章' });
    expect(log[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(await stack.deps.store.eseals.devGet(HAPPY_USCC)).toBeNull();
  });

  it('an enterprise the platform has no seal for: manual review with that reason, no form passed off as sealed', async () => {
    const { id, token, app } = await fileAndWait(stack, unenrolled.uscc, grainFilingOf(unenrolled, '210102'));
    expect(app.status).toBe('manual_review');
    expect(app.decision!.reasons.map((r) => r.rule)).toEqual(['eseal-missing']);
    expect(app.decision!.reasons[0]).toMatchObject({ result: 'UNKNOWN' });
    const form = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}/form`, headers: { authorization: `Bearer ${token}` } });
    expect(form.statusCode).toBe(409);
    expect(form.json()).toMatchObject({ code: 'FORM_NOT_SEALED' });
    expect(await stack.deps.store.eseals.signLog(id)).toEqual([]);
  });

  it('a seal that is not 有效 (挂失): manual review, nothing signed', async () => {
    const e = syntheticEnterprise(2, SEED);
    await standin.enrol(e.uscc, e.name);
    await standin.setStatus(e.uscc, '挂失');
    const { id, app } = await fileAndWait(stack, e.uscc, grainFilingOf(e, '210102'));
    expect(app.status).toBe('manual_review');
    expect(app.decision!.reasons.map((r) => r.rule)).toEqual(['eseal-not-valid']);
    expect(await stack.deps.store.eseals.signLog(id)).toEqual([]);
  });

  it('a platform that does not answer: manual review (unavailable), never an invented seal', async () => {
    const e = syntheticEnterprise(3, SEED);
    await standin.enrol(e.uscc, e.name);
    standin.setMode('503');
    try {
      const { app } = await fileAndWait(stack, e.uscc, grainFilingOf(e, '210102'));
      expect(app.status).toBe('manual_review');
      expect(app.decision!.reasons.map((r) => r.rule)).toEqual(['eseal-unavailable']);
    } finally {
      standin.setMode('ok');
    }
  });
});

/** Every file under `dir` with its size class, except what grows with any write (SQLite WAL, Redis AOF). */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.filter((f) => !/(-wal|-shm|\.aof|\.rdb|\.manifest|redis\.log)$/.test(f)).sort();
}

describe('the development e-seal authority under 100 new enterprises (embedded default)', () => {
  let stack: Stack;
  const N = 100;

  beforeAll(async () => {
    // A CERTS_DIR of its own: another file's start holding the shared folder's PKI lock while this test counts files
    // is not a file written on a filing's path.
    stack = await startStack({
      backend: 'sqlite',
      env: { CERTS_DIR: privateCertsDir(path.join(tmp.dir, 'certs')) },
      extraRecords: syntheticRecords(N, SEED + 1) as unknown as Record<string, Record<string, object>>,
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('approves them all with no key generated and no file written on their path', async () => {
    const authority = stack.deps.eseal as DevelopmentAuthority;
    expect(authority.kind).toBe('development');
    expect(await authority.warm(20_000)).toBe(true);
    const certsDir = stack.deps.config.certsDir;
    const dbDir = path.dirname(stack.db.options.sqlitePath);
    const before = { certs: files(certsDir), data: files(stack.dataDir), db: files(dbDir) };
    const keys0 = authority.keyStats();

    const ids: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < N; i++) {
      const e = syntheticEnterprise(i, SEED + 1);
      const token = await stack.token(e.uscc);
      const res = await submit(stack, token, grainFilingOf(e, '210102'));
      expect(res.statusCode).toBe(202);
      ids.push({ id: res.json<{ id: string }>().id, token });
    }
    const statuses: string[] = [];
    for (const { id, token } of ids) statuses.push((await waitForDecision(stack, id, token, 60_000)).status);
    expect(statuses.filter((s) => s === 'approved')).toHaveLength(N);

    const keys = authority.keyStats();
    expect(keys.generatedOnPath - keys0.generatedOnPath).toBe(0);
    expect(keys.takenFromPool - keys0.takenFromPool).toBe(N);
    expect(files(certsDir)).toEqual(before.certs);
    expect(files(stack.dataDir)).toEqual(before.data);
    expect(files(dbDir)).toEqual(before.db);
    // One seal row per enterprise in the database instead.
    for (const i of [0, N - 1]) expect(await stack.deps.store.eseals.devGet(syntheticEnterprise(i, SEED + 1).uscc)).not.toBeNull();
    const log = await stack.deps.store.eseals.signLog(ids[0]!.id);
    expect(log).toMatchObject([{ platform: 'development', result: 'signed' }]);
    console.log(`ESEAL ${N} new enterprises approved; keys from pool ${keys.takenFromPool - keys0.takenFromPool}, on path ${keys.generatedOnPath - keys0.generatedOnPath}; files under CERTS_DIR ${files(certsDir).length} before and after, under DATA_DIR ${before.data.length} → ${files(stack.dataDir).length}, beside the database ${before.db.length} → ${files(dbDir).length}`);
  }, 180_000);
});
