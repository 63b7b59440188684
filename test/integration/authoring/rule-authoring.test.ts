/**
 * Rule authoring on the real stack (issue 6), on SQLite and PostgreSQL: drafts are checked like rules/ files,
 * a failing test case or a self-approval blocks publication, a published version decides the next filing with
 * no restart (in this process at once, in another by polling), rollback restores the old behaviour, the
 * back-test reports exactly the flips computed here independently, stored receipts replay to the same decision,
 * and manual review decisions and revocations join the audit chain.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { reEvaluate } from '../../../src/authoring/backtest.js';
import { seedCatalog } from '../../../src/authoring/seed.js';
import { loadCatalog } from '../../../src/catalog/load-catalog.js';
import { createMatterChecker, openVersionedCatalog, versionOf } from '../../../src/catalog/versioned-catalog.js';
import { loadSourceRegistry } from '../../../src/data-sources/registry.js';
import type { DecisionReceipt } from '../../../src/domain/types.js';
import { RULES_DIR } from '../../support/datasource-server.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const GRAIN = 'grain-purchase-filing';
const GRAIN_DEPT = '11210100MB0E12346R';
const PARKING_DEPT = '11210100MB0E23459Q';
const GRAIN_FILE = path.join(RULES_DIR, 'matters', `${GRAIN}.yaml`);
const grainYaml = readFileSync(GRAIN_FILE, 'utf8');
/** The v2 under test: only 和平区 (210102) may be a purchase region. */
const NARROW_REGION = "operator: regionWithin, value: '210102' }";
const narrowedYaml = grainYaml.replace("operator: regionWithin, value: '2101' }", NARROW_REGION);
const grainDef = () => parse(grainYaml, { merge: true }) as Record<string, any>;

const owned = (realEstateCertNo: string, capacityTonnes = 3000) => ({ address: '沈阳市某区粮库', capacityTonnes, ownership: '自有', realEstateCertNo });
const leased = { address: '沈阳市某区租赁仓库', capacityTonnes: 2000, ownership: '租赁', leaseEndsOn: '2030-12-31' };

/** The seeded history: every outcome, with reasons that the narrowed region rule does and does not touch. */
const HISTORY = [
  { name: 'approved in 和平区', sub: HAPPY_USCC, filing: grainFiling() },
  { name: 'approved in 沈河区', sub: '91210102123456788E', filing: grainFiling({ form: { responsiblePerson: { name: '王芳', idNumber: '21011219850615002X' }, purchaseRegionCode: '210103', storageFacilities: [owned('辽(2023)沈阳市不动产权第0100001号')] } }) },
  { name: 'approved, leased, in 大东区', sub: HAPPY_USCC, filing: grainFiling({ answers: { storageSource: '租赁' }, form: { purchaseRegionCode: '210104', storageFacilities: [leased] } }) },
  { name: 'rejected: 个体工商户 in 和平区', sub: '92210106L0A9B8C750', filing: grainFiling({ answers: { storageSource: '租赁' }, form: { responsiblePerson: { name: '刘洋', idNumber: '210106199912315675' }, storageFacilities: [leased] } }) },
  { name: 'rejected: region outside Shenyang', sub: HAPPY_USCC, filing: grainFiling({ form: { purchaseRegionCode: '210202' } }) },
  { name: 'rejected: zero capacity in 皇姑区', sub: HAPPY_USCC, filing: grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities: [owned('辽(2024)沈阳市不动产权第0012345号', 0)] } }) },
  { name: 'manual: seriously dishonest in 皇姑区', sub: '91210106MA0U7G8H65', filing: grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities: [owned('辽(2022)沈阳市不动产权第0054321号')] } }) },
];

interface Rec {
  id: string;
  status: string;
}

describe.each(['sqlite', 'postgres'] as const)('rule authoring on %s', (backend) => {
  let stack: Stack;
  let authorA: string;
  let approverB: string;
  let otherDept: string;
  const history = new Map<string, Rec>();
  let manualUnknownId = '';
  let v1 = '';
  let v2 = '';

  const call = async (token: string, method: 'GET' | 'POST', url: string, payload?: unknown, contentType = 'application/json') => {
    const res = await stack.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': contentType }) },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
    return { status: res.statusCode, body: res.headers['content-type']?.toString().startsWith('application/json') ? res.json<any>() : res.body, headers: res.headers };
  };

  async function file(sub: string, filing: unknown) {
    const token = await stack.token(sub);
    const res = await submit(stack, token, filing);
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    const d = await waitForDecision(stack, id, token);
    return { id, ...d };
  }

  async function receipt(id: string): Promise<DecisionReceipt> {
    return (await stack.deps.store.applications.get(id))!.receipt!;
  }

  beforeAll(async () => {
    // No source cache: the population outage below must reach the source.
    stack = await startStack({ backend, env: { DATASOURCE_CACHE_MAX_TTL_SECONDS: '0' } });
    authorA = await stack.token('ADMIN-A', 'admin', { dept: GRAIN_DEPT });
    approverB = await stack.token('ADMIN-B', 'admin', { dept: GRAIN_DEPT });
    otherDept = await stack.token('ADMIN-P', 'admin', { dept: PARKING_DEPT });
    v1 = stack.deps.catalog.get(GRAIN)!.version;
    // Sequential, so decided_at orders them as listed.
    for (const h of HISTORY) history.set(h.name, await file(h.sub, h.filing));
    stack.sources!.setMode('population', '503');
    try {
      manualUnknownId = (await file(HAPPY_USCC, grainFiling({ form: { purchaseRegionCode: '210114', responsiblePerson: { name: '陈刚', idNumber: '210104197805120010' } } }))).id;
    } finally {
      stack.sources!.setMode('population', 'ok');
    }
  }, 120_000);
  afterAll(async () => stack?.close());

  it('seeds the catalog from rules/ and exports a version as the very file it came from', async () => {
    const list = await call(authorA, 'GET', `/v1/admin/matters/${GRAIN}/versions`);
    expect(list.status).toBe(200);
    expect(list.body.current).toBe(v1);
    expect(list.body.versions).toEqual([expect.objectContaining({ version: v1, origin: 'seed', current: true })]);
    const yaml = await call(authorA, 'GET', `/v1/admin/matters/${GRAIN}/versions/${v1}?format=yaml`);
    expect(yaml.status).toBe(200);
    expect(yaml.body).toBe(grainYaml);
    expect(versionOf(parse(yaml.body as string, { merge: true }))).toBe(v1);
    const json = await call(authorA, 'GET', `/v1/admin/matters/${GRAIN}/versions/${v1}`);
    expect(versionOf(json.body.definition)).toBe(v1);
  });

  it('shows an admin only the matters of their own department; another department’s answer 404', async () => {
    const mine = await call(authorA, 'GET', '/v1/admin/matters');
    expect(mine.body.matters.map((m: { code: string }) => m.code)).toEqual([GRAIN]);
    const theirs = await call(otherDept, 'GET', '/v1/admin/matters');
    expect(theirs.body.matters.map((m: { code: string }) => m.code)).toEqual(['public-parking-filing']);
    expect((await call(otherDept, 'GET', `/v1/admin/matters/${GRAIN}/versions`)).status).toBe(404);
    expect((await call(otherDept, 'POST', `/v1/admin/matters/${GRAIN}/drafts`, narrowedYaml, 'application/yaml')).status).toBe(404);
    const applicant = await stack.token(HAPPY_USCC);
    expect((await call(applicant, 'GET', '/v1/admin/matters')).status).toBe(403);
  });

  it('refuses an invalid draft with the JSON Pointer of every problem', async () => {
    const def = grainDef();
    def.rules[0].conditions.all[0].operator = 'noSuchOperator';
    const res = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/drafts`, def);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('DRAFT_INVALID');
    expect(res.body.errors).toContainEqual({ path: '/rules/0/conditions/all/0/operator', message: 'unknown operator "noSuchOperator"' });
    const yaml = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/drafts`, 'code: [unclosed', 'application/yaml');
    expect(yaml.status).toBe(422);
    expect(yaml.body.errors[0].path).toBe('/');
    const dept = grainDef();
    dept.department.code = PARKING_DEPT;
    dept.output.certificate.licenseTypeCode = `${PARKING_DEPT}009`;
    const wrongDept = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/drafts`, dept);
    expect(wrongDept.status).toBe(422);
    expect(wrongDept.body.errors.map((e: { path: string }) => e.path)).toContain('/department/code');
  });

  it('does not publish a draft whose test case fails, even when approved', async () => {
    const def = grainDef();
    def.tests[0].expect = { outcome: 'MANUAL', failing: [] };
    const draft = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/drafts`, def);
    expect(draft.status).toBe(201);
    const tested = await call(authorA, 'POST', `/v1/admin/drafts/${draft.body.id}/test`);
    expect(tested.status).toBe(200);
    expect(tested.body.passed).toBe(false);
    expect(tested.body.cases.filter((c: { ok: boolean }) => !c.ok).map((c: { index: number }) => c.index)).toEqual([0]);
    expect((await call(approverB, 'POST', `/v1/admin/drafts/${draft.body.id}/approve`)).status).toBe(200);
    const pub = await call(authorA, 'POST', `/v1/admin/drafts/${draft.body.id}/publish`);
    expect(pub.status).toBe(409);
    expect(pub.body.code).toBe('DRAFT_TESTS_FAILING');
    expect(pub.body.errors[0].path).toBe('/tests/0');
    expect(stack.deps.catalog.get(GRAIN)!.version).toBe(v1);
  });

  it('does not let the author approve their own draft, and an unapproved draft cannot be published', async () => {
    const draft = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/drafts`, narrowedYaml, 'application/yaml');
    expect(draft.status).toBe(201);
    const self = await call(authorA, 'POST', `/v1/admin/drafts/${draft.body.id}/approve`);
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('DRAFT_SELF_APPROVAL');
    const pub = await call(authorA, 'POST', `/v1/admin/drafts/${draft.body.id}/publish`);
    expect(pub.status).toBe(409);
    expect(pub.body.code).toBe('DRAFT_NOT_APPROVED');
    expect((await call(otherDept, 'POST', `/v1/admin/drafts/${draft.body.id}/approve`)).status).toBe(404);
    expect(stack.deps.catalog.get(GRAIN)!.version).toBe(v1);
  });

  it('back-tests a draft on the stored facts and reports exactly the flips computed independently', async () => {
    const draft = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/drafts`, narrowedYaml, 'application/yaml');
    const res = await call(authorA, 'POST', `/v1/admin/drafts/${draft.body.id}/backtest`, { limit: 100 });
    expect(res.status).toBe(200);

    // Independently: the narrowed rule FAILs (onFail REJECT) for any region but 210102; an UNKNOWN keeps MANUAL.
    const ids = [...[...history.values()].map((h) => h.id), manualUnknownId];
    const flips = new Map<string, string[]>();
    const reasonChanges: string[] = [];
    for (const id of ids) {
      const r = await receipt(id);
      const region = (r.facts.form as { purchaseRegionCode: string }).purchaseRegionCode;
      const failsNow = region !== '210102';
      const failedBefore = r.decision.reasons.some((x) => x.rule === 'purchase-region-shenyang');
      const unknown = r.decision.reasons.some((x) => x.result === 'UNKNOWN');
      const before = r.decision.outcome;
      const after = unknown ? 'MANUAL' : failsNow ? 'REJECT' : before;
      if (after !== before) flips.set(`${before}→${after}`, [...(flips.get(`${before}→${after}`) ?? []), id]);
      else if (failsNow && !failedBefore) reasonChanges.push(id);
    }
    const reported = new Map(res.body.outcomeChanges.map((g: any) => [`${g.from}→${g.to}`, g.examples.map((e: any) => e.applicationId).sort()]));
    expect(reported).toEqual(new Map([...flips].map(([k, v]) => [k, v.sort()])));
    for (const g of res.body.outcomeChanges) expect(g.count).toBe(flips.get(`${g.from}→${g.to}`)!.length);
    expect(res.body.reasonChanges.count).toBe(reasonChanges.length);
    expect(res.body.reasonChanges.examples.map((e: any) => e.applicationId).sort()).toEqual(reasonChanges.sort());
    for (const e of res.body.reasonChanges.examples) expect(e.added).toEqual(['purchase-region-shenyang=FAIL']);
    expect(res.body.filings).toBe(ids.length);
    expect(res.body.evaluated).toBe(ids.length);
    expect(res.body.unchanged).toBe(ids.length - reasonChanges.length - [...flips.values()].flat().length);
    // The seeded history was chosen to show each kind of change.
    expect(flips.get('APPROVE→REJECT')).toHaveLength(2);
    expect(flips.get('MANUAL→REJECT')).toHaveLength(1);
    expect(reasonChanges).toHaveLength(2);

    const last3 = await call(authorA, 'POST', `/v1/admin/drafts/${draft.body.id}/backtest`, { limit: 3 });
    expect(last3.body.filings).toBe(3);
  });

  it('publishes an approved draft whose tests pass, and the next filing is decided by it without a restart', async () => {
    // Another process (an API or worker sharing the database) polls for new versions.
    const otherStore = await stack.db.open();
    const otherProcess = await openVersionedCatalog({
      files: { matters: new Map(), get: () => undefined },
      store: otherStore.authoring,
      check: createMatterChecker(RULES_DIR, new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id))),
      pollMs: 100,
    });
    try {
      expect(otherProcess.get(GRAIN)!.version).toBe(v1);
      const draft = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/drafts`, narrowedYaml, 'application/yaml');
      expect((await call(authorA, 'POST', `/v1/admin/drafts/${draft.body.id}/test`)).body.passed).toBe(true);
      expect((await call(approverB, 'POST', `/v1/admin/drafts/${draft.body.id}/approve`)).status).toBe(200);
      const pub = await call(authorA, 'POST', `/v1/admin/drafts/${draft.body.id}/publish`);
      expect(pub.status).toBe(200);
      v2 = pub.body.version;
      expect(v2).toBe(versionOf(parse(narrowedYaml, { merge: true })));
      expect(pub.body.previousVersion).toBe(v1);
      expect(stack.deps.catalog.get(GRAIN)!.version).toBe(v2);
      expect((await call(authorA, 'POST', `/v1/admin/drafts/${draft.body.id}/publish`)).body.code).toBe('DRAFT_ALREADY_PUBLISHED');

      const next = await file('91210102123456788E', grainFiling({ form: { ...HISTORY[1]!.filing.form, purchaseRegionCode: '210105' } }));
      expect(next.status).toBe('rejected');
      expect(next.decision!.reasons.map((r) => r.rule)).toEqual(['purchase-region-shenyang']);
      expect((await receipt(next.id)).rulesetVersion).toBe(v2);

      const until = Date.now() + 5_000;
      while (otherProcess.get(GRAIN)!.version !== v2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(otherProcess.get(GRAIN)!.version).toBe(v2);

      const yaml = await call(authorA, 'GET', `/v1/admin/matters/${GRAIN}/versions/${v2}?format=yaml`);
      expect(yaml.body).toBe(narrowedYaml);

      // A restart seeds from rules/ again: the published version stays current.
      const files = loadCatalog(RULES_DIR, new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id)));
      const seeded = await seedCatalog(stack.deps.store.authoring, files, RULES_DIR, new Date().toISOString());
      expect(seeded).toEqual({ created: [], updated: [], kept: [GRAIN] });
      expect((await stack.deps.store.authoring.currentVersions()).find((c) => c.matter === GRAIN)!.version).toBe(v2);
    } finally {
      otherProcess.close();
      await otherStore.close();
    }
  });

  it('replays every stored receipt with the version that decided it to the same decision', async () => {
    for (const id of [...[...history.values()].map((h) => h.id), manualUnknownId]) {
      const r = await receipt(id);
      expect(r.rulesetVersion).toBe(v1);
      const matter = await stack.deps.catalog.getVersion(GRAIN, r.rulesetVersion);
      const again = await reEvaluate(matter!, r);
      expect(again).toEqual({ ok: true, situation: r.situation, decision: r.decision });
    }
    // The same receipt under v2 decides differently: replay uses the receipt's version, not the current one.
    const approved = await receipt(history.get('approved in 沈河区')!.id);
    const underV2 = await reEvaluate((await stack.deps.catalog.getVersion(GRAIN, v2))!, approved);
    expect(underV2.ok && underV2.decision.outcome).toBe('REJECT');
  });

  it('rolls back only when a second admin of the department approves the request; the old version then decides again', async () => {
    const res = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/rollback`, { version: v1, reason: '新版规则误拒和平区以外的申请' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ matter: GRAIN, version: v1, previousVersion: v2, status: 'pending', requestedBy: 'ADMIN-A', approvedBy: null });
    const twin = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/rollback`, { version: v1 });
    expect(twin.status).toBe(202);
    // Requested is not done: v2 still decides.
    expect(stack.deps.catalog.get(GRAIN)!.version).toBe(v2);
    const self = await call(authorA, 'POST', `/v1/admin/rollbacks/${res.body.id}/approve`);
    expect([self.status, self.body.code]).toEqual([403, 'ROLLBACK_SELF_APPROVAL']);
    expect((await call(otherDept, 'POST', `/v1/admin/rollbacks/${res.body.id}/approve`)).body.code).toBe('ROLLBACK_NOT_FOUND');
    expect((await call(otherDept, 'GET', '/v1/admin/rollbacks')).body.items).toEqual([]);
    const pending = await call(approverB, 'GET', '/v1/admin/rollbacks');
    expect(pending.body.items.map((r: { id: string }) => r.id).sort()).toEqual([res.body.id, twin.body.id].sort());
    expect(stack.deps.catalog.get(GRAIN)!.version).toBe(v2);

    const ok = await call(approverB, 'POST', `/v1/admin/rollbacks/${res.body.id}/approve`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ matter: GRAIN, version: v1, previousVersion: v2, request: res.body.id, requestedBy: 'ADMIN-A', approvedBy: 'ADMIN-B' });
    expect((await call(approverB, 'POST', `/v1/admin/rollbacks/${res.body.id}/approve`)).body.code).toBe('ROLLBACK_NOT_PENDING');
    // The twin asked to leave v2, which is no longer current: not carried out.
    expect((await call(approverB, 'POST', `/v1/admin/rollbacks/${twin.body.id}/approve`)).body.code).toBe('ROLLBACK_STALE');
    expect((await call(approverB, 'GET', '/v1/admin/rollbacks')).body.items).toEqual([]);
    const all = await call(approverB, 'GET', '/v1/admin/rollbacks?pending=false');
    expect(all.body.items.map((r: { id: string; status: string; approvedBy: string }) => [r.id, r.status, r.approvedBy]).sort()).toEqual(
      [[res.body.id, 'done', 'ADMIN-B'], [twin.body.id, 'stale', 'ADMIN-B']].sort(),
    );

    expect((await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/rollback`, { version: v1 })).body.code).toBe('VERSION_ALREADY_CURRENT');
    expect((await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/rollback`, { version: 'f'.repeat(64) })).status).toBe(404);
    const audit = (await stack.deps.store.authoring.audit.list({ limit: 1000 })).filter((e) => e.action.startsWith('version.rollback'));
    expect(audit.map((e) => [e.action, e.actor])).toEqual([
      ['version.rollback-request', 'ADMIN-A'],
      ['version.rollback-request', 'ADMIN-A'],
      ['version.rollback', 'ADMIN-B'],
    ]);
    expect(audit[2]!.details).toMatchObject({ version: v1, previous: v2, request: res.body.id, requestedBy: 'ADMIN-A', approvedBy: 'ADMIN-B' });
    const next = await file('91210102123456788E', grainFiling({ form: { ...HISTORY[1]!.filing.form, purchaseRegionCode: '210111' } }));
    expect(next.status).toBe('approved');
    expect((await receipt(next.id)).rulesetVersion).toBe(v1);
    const versions = await call(authorA, 'GET', `/v1/admin/matters/${GRAIN}/versions`);
    expect(versions.body.versions.map((v: { version: string; current: boolean }) => [v.version, v.current])).toEqual([
      [v1, true],
      [v2, false],
    ]);
  });

  it('lists the department’s manual review queue with reasons, and approves one with a certificate', async () => {
    const dishonest = history.get('manual: seriously dishonest in 皇姑区')!.id;
    const queue = await call(authorA, 'GET', '/v1/admin/reviews');
    expect(queue.status).toBe(200);
    const item = queue.body.items.find((i: { id: string }) => i.id === dishonest);
    expect(item.decision.reasons.map((r: { rule: string }) => r.rule)).toEqual(['credit-not-seriously-dishonest']);
    expect(queue.body.items.map((i: { id: string }) => i.id).sort()).toEqual([dishonest, manualUnknownId].sort());
    expect((await call(otherDept, 'GET', '/v1/admin/reviews')).body.items).toEqual([]);
    expect((await call(otherDept, 'POST', `/v1/admin/reviews/${dishonest}/approve`, {})).status).toBe(404);

    const ok = await call(approverB, 'POST', `/v1/admin/reviews/${dishonest}/approve`, { note: '已核实信用修复材料' });
    expect(ok.status).toBe(200);
    expect(ok.body.certificate.number).toMatch(/^沈粮收备〔\d{4}〕\d{6}号$/);
    const applicant = await stack.token('91210106MA0U7G8H65');
    const view = await call(applicant, 'GET', `/v1/applications/${dishonest}`);
    expect(view.body.status).toBe('approved');
    expect(view.body.certificate.id).toBe(ok.body.certificate.id);
    const pdf = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${ok.body.certificate.id}/pdf`, headers: { authorization: `Bearer ${applicant}` } });
    expect(pdf.statusCode).toBe(200);
    expect((await call(authorA, 'POST', `/v1/admin/reviews/${dishonest}/approve`, {})).status).toBe(409);
    expect((await call(authorA, 'POST', `/v1/admin/reviews/${dishonest}/reject`, { reason: '重复处理' })).status).toBe(409);

    const revoke = await call(authorA, 'POST', `/v1/certificates/${ok.body.certificate.id}/revoke`, { reason: '信用修复材料经复核不实' });
    expect(revoke.status).toBe(200);
  });

  it('rejects a manual review filing with a reason the applicant sees', async () => {
    const res = await call(authorA, 'POST', `/v1/admin/reviews/${manualUnknownId}/reject`, { reason: '负责人身份经线下核验不符' });
    expect(res.status).toBe(200);
    const view = await call(await stack.token(HAPPY_USCC), 'GET', `/v1/applications/${manualUnknownId}`);
    expect(view.body.status).toBe('rejected');
    expect(view.body.decision.reasons).toEqual([{ rule: 'manual-review', message: '负责人身份经线下核验不符', basis: '人工审核 manual review', result: 'FAIL' }]);
    expect(view.body.certificate).toBeUndefined();
    expect((await call(authorA, 'GET', '/v1/admin/reviews')).body.items).toEqual([]);
  });

  it('keeps every draft, approval, publication, rollback, manual decision and revocation in a verifiable audit chain', async () => {
    const entries = await stack.deps.store.authoring.audit.list({ limit: 1000 });
    const actions = entries.map((e) => e.action);
    expect(actions.filter((a) => a === 'version.seed')).toHaveLength(stack.deps.catalog.matters.size);
    for (const a of ['draft.create', 'draft.approve', 'version.publish', 'version.rollback-request', 'version.rollback', 'application.manual-approve', 'application.manual-reject', 'certificate.revoke']) {
      expect(actions).toContain(a);
    }
    const publish = entries.find((e) => e.action === 'version.publish')!;
    expect(publish.details).toMatchObject({ version: v2, previous: v1, author: 'ADMIN-A', approvedBy: 'ADMIN-B' });
    const mine = await call(authorA, 'GET', '/v1/admin/audit?limit=1000');
    expect(mine.body.entries.every((e: { dept: string }) => e.dept === GRAIN_DEPT)).toBe(true);
    const report = await stack.deps.store.authoring.audit.verify();
    expect(report).toMatchObject({ ok: true, entries: entries.length, problems: [] });
  });
});
