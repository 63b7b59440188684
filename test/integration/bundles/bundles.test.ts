/**
 * 残疾人服务一件事 over HTTP on the real stack (Redis, BullMQ, data sources over HTTP), on SQLite and on PostgreSQL:
 * one filing fans out to ten services of five departments; each person is written into the data sources in the
 * DESIGN.md §4 shapes by the test itself.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../support/databases.js';
import { addPerson, type PersonSpec } from '../../support/bundle-people.js';
import { tempDir, verifyCertificate } from '../../support/pdf-tools.js';
import { startStack, submit, type Stack } from '../../support/stack.js';
import { startReceiver } from '../webhooks/receiver.js';

interface Member {
  matter: string;
  name: string;
  department: string;
  departmentCode: string;
  level: string;
  status: string;
  decision: { outcome: string; reasons: Array<{ rule: string; message: string; basis: string }> } | null;
  certificate?: { id: string; number: string };
  waitingFor?: string[];
  applicationId?: string;
}
interface BundleView {
  id: string;
  createdAt: string;
  completedAt: string | null;
  bundle: string;
  status: string;
  members: Member[];
  notice?: { number: string; sha256: string };
}

const CONSENT = { dataSharing: true, sealAuthorization: true };
const ALL_TEN = [
  'disability-certificate', 'disability-living-allowance', 'disability-care-allowance', 'disability-pension-subsidy', 'disability-employment-registration',
  'disability-medical-insurance-aid', 'disability-assistive-devices', 'disability-transit-concession', 'disability-home-accessibility', 'disability-rehabilitation-service',
];

describe.each(testBackends().map((b) => b.name))('残疾人服务一件事 on %s', (backend) => {
  let stack: Stack;
  const docs = tempDir('bundle-');
  let roots: string;

  beforeAll(async () => {
    stack = await startStack({ backend, env: { BUNDLE_SWEEP_MS: '200', AWAIT_RECHECK_SECONDS: '1', WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '50' } });
    roots = path.join(docs.dir, 'roots.pem');
    writeFileSync(roots, stack.deps.trustAnchorsPem);
  });
  afterAll(async () => {
    await stack?.close();
    docs.cleanup();
  });

  const get = async (url: string, token: string) => stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const person = (spec: PersonSpec) => addPerson(stack.sources!.records, spec);
  const file = async (p: { name: string; idNumber: string }, over: Record<string, unknown> = {}, key?: string) => {
    const token = await stack.token(p.idNumber);
    const body = { bundle: 'disability-services', answers: { relation: '本人', residence: '本市户籍' }, form: { disabledPerson: p, contactPhone: '13800000000' }, consent: CONSENT, ...over };
    const res = await submit(stack, token, body, key ? { 'idempotency-key': key } : {});
    return { res, token, body };
  };
  /** Polls the bundle until `done` holds (bounded). */
  const until = async (id: string, token: string, done: (v: BundleView) => boolean, timeoutMs = 40_000): Promise<BundleView> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const res = await get(`/v1/applications/${id}`, token);
      expect(res.statusCode, res.body).toBe(200);
      const v = res.json<BundleView>();
      if (done(v)) return v;
      if (Date.now() > end) throw new Error(`bundle ${id} not there after ${timeoutMs} ms: ${JSON.stringify(v.members.map((m) => [m.matter, m.status, m.waitingFor]))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const member = (v: BundleView, matter: string) => v.members.find((m) => m.matter === matter)!;
  const save = async (url: string, token: string, name: string) => {
    const res = await get(url, token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const file = path.join(docs.dir, name);
    writeFileSync(file, res.rawPayload);
    return file;
  };

  it('lists the bundle with ten members of five departments at two levels', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/bundles/disability-services' });
    expect(res.statusCode).toBe(200);
    const b = res.json<{ name: string; members: Array<{ matter: string; department: string; level: string; dependsOn: string[] }> }>();
    expect(b.name).toContain('残疾人服务一件事');
    expect(b.members.map((m) => m.matter)).toEqual(ALL_TEN);
    expect(new Set(b.members.map((m) => m.department)).size).toBe(5);
    expect(new Set(b.members.map((m) => m.level))).toEqual(new Set(['区县', '市']));
    expect(b.members.find((m) => m.matter === 'disability-care-allowance')!.dependsOn).toEqual(['disability-certificate']);
  });

  it('decides every member for a fully eligible person; the certificates, the e-form and the notice verify', async () => {
    const p = person({ name: '林芳' });
    const { res, token } = await file(p, {}, 'full-1');
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string; status: string }>().id;
    const v = await until(id, token, (x) => x.status === 'completed');
    expect(v.members.map((m) => m.matter)).toEqual(ALL_TEN);
    for (const m of v.members) {
      expect(m.status, `${m.matter}: ${JSON.stringify(m.decision)}`).toBe('approved');
      expect(m.decision).toEqual({ outcome: 'APPROVE', reasons: [] });
      expect(m.certificate?.number).toMatch(/〔\d{4}〕\d{6}号$/);
    }
    const card = member(v, 'disability-certificate');
    expect(card.certificate!.number).toMatch(/^沈残证/);
    const checked = backend === 'sqlite' ? v.members : [card, member(v, 'disability-care-allowance')];
    for (const m of checked) {
      const pdf = await save(`/v1/certificates/${m.certificate!.id}/pdf`, token, `${m.matter}.pdf`);
      const r = await verifyCertificate(pdf, roots, [p.name, m.certificate!.number]);
      expect(r.code, `${m.matter}\n${r.stdout}`).toBe(0);
    }
    expect(v.notice?.number).toMatch(/^沈残联告〔\d{4}〕\d{6}号$/);
    const notice = await save(`/v1/applications/${id}/notice`, token, 'notice.pdf');
    const nr = await verifyCertificate(notice, roots, ['办理结果告知书', p.name, '重度残疾人护理补贴', '准予办理', card.certificate!.number]);
    expect(nr.code, nr.stdout).toBe(0);
    const form = await save(`/v1/applications/${id}/form`, token, 'form.pdf');
    const fr = await verifyCertificate(form, roots, ['联办申请表', p.name]);
    expect(fr.code, fr.stdout).toBe(0);
    const ms = Date.parse(v.completedAt!) - Date.parse(v.createdAt);
    console.log(`BUNDLE full: ${v.members.length} members approved in ${ms} ms from receipt to completed; ${checked.length} certificates + notice + e-form verified (${backend})`);
    // One e-form, sealed once: every member's form is the same file.
    const forms = await Promise.all(v.members.map(async (m) => (await get(`/v1/applications/${m.applicationId!}/form`, token)).headers['x-content-sha256']));
    expect(new Set(forms)).toEqual(new Set([(await get(`/v1/applications/${id}/form`, token)).headers['x-content-sha256']]));
  }, 120_000);

  it('rejects the members a person is not eligible for, with reasons, and approves the others', async () => {
    const p = person({ name: '赵强', assessment: { category: '肢体', categoryCode: 4, grade: 3 }, assistance: '无', residentPension: null, employment: '就业', scheme: '职工医保' });
    const { res, token } = await file(p);
    const v = await until(res.json<{ id: string }>().id, token, (x) => x.status === 'completed');
    const outcome = Object.fromEntries(v.members.map((m) => [m.matter, m.decision?.outcome]));
    expect(outcome).toEqual({
      'disability-certificate': 'APPROVE',
      'disability-living-allowance': 'REJECT',
      'disability-care-allowance': 'REJECT',
      'disability-pension-subsidy': 'REJECT',
      'disability-employment-registration': 'APPROVE',
      'disability-medical-insurance-aid': 'REJECT',
      'disability-assistive-devices': 'APPROVE',
      'disability-transit-concession': 'APPROVE',
      'disability-home-accessibility': 'REJECT',
      'disability-rehabilitation-service': 'APPROVE',
    });
    expect(member(v, 'disability-care-allowance').decision!.reasons.map((r) => r.rule)).toEqual(['severe-grade']);
    expect(member(v, 'disability-living-allowance').decision!.reasons[0]!.message).toContain('低保');
    for (const m of v.members.filter((x) => x.decision!.outcome === 'REJECT')) {
      expect(m.status).toBe('rejected');
      expect(m.decision!.reasons.length).toBeGreaterThan(0);
      expect(m.certificate).toBeUndefined();
    }
  });

  it('keeps the card and its dependants waiting for the assessment while the others finish, then finishes with no action by anyone', async () => {
    const p = person({ name: '何静', assessment: null });
    const { res, token } = await file(p);
    const id = res.json<{ id: string }>().id;
    const waiting = await until(id, token, (x) => member(x, 'disability-certificate').waitingFor?.includes('disability-assessment') === true && member(x, 'disability-medical-insurance-aid').status === 'approved' && member(x, 'disability-employment-registration').status === 'approved');
    expect(waiting.status).toBe('processing');
    expect(member(waiting, 'disability-certificate').decision).toBeNull();
    for (const dep of ['disability-living-allowance', 'disability-care-allowance', 'disability-transit-concession']) {
      expect(member(waiting, dep).status).toBe('queued');
      expect(member(waiting, dep).waitingFor).toEqual(['disability-certificate']);
    }
    expect((await get(`/v1/applications/${id}/notice`, token)).json<{ code: string }>().code).toBe('NOTICE_NOT_READY');

    // The 评定机构 writes its result; the scheduled re-check (1 s, backing off) finds it — nobody calls anything.
    stack.sources!.records['disability-assessment']![p.idNumber] = { idNumber: p.idNumber, category: '视力', categoryCode: 1, grade: 2, institution: '沈阳市第四人民医院残疾评定中心', assessedOn: '2026-11-28', signed: true };
    const done = await until(id, token, (x) => x.status === 'completed');
    expect(done.members.every((m) => m.status === 'approved')).toBe(true);
  });

  it('resumes a waiting member at once when the 评定机构 pushes the arrival (consumer scope collaboration:notify)', async () => {
    const p = person({ name: '钱敏', assessment: null });
    const { res, token } = await file(p, { members: ['disability-certificate'] });
    const id = res.json<{ id: string }>().id;
    const waiting = await until(id, token, (x) => member(x, 'disability-certificate').waitingFor !== undefined);
    // Asked only for the card: the request members not asked for are not part of it, the proactive ones are.
    expect(waiting.members.map((m) => m.matter)).toEqual(['disability-certificate', 'disability-living-allowance', 'disability-care-allowance', 'disability-pension-subsidy', 'disability-medical-insurance-aid', 'disability-transit-concession']);
    const push = async (scope: string, key = p.idNumber) =>
      stack.app.inject({ method: 'POST', url: '/v1/data-sources/disability-assessment/arrivals', headers: { authorization: `Bearer ${await stack.token('EVAL-CENTER-1', 'consumer', { scope })}`, 'content-type': 'application/json' }, payload: { key } });
    expect((await push('certificates:read')).statusCode).toBe(403);
    expect((await push('collaboration:notify', '210102196101011234')).json<{ code: string }>().code).toBe('DATA_SOURCE_KEY_INVALID');
    stack.sources!.records['disability-assessment']![p.idNumber] = { idNumber: p.idNumber, category: '肢体', categoryCode: 4, grade: 1, institution: '沈阳市第一人民医院残疾评定中心', assessedOn: '2026-11-29', signed: true };
    const started = Date.now();
    const r = await push('collaboration:notify');
    expect(r.statusCode, r.body).toBe(202);
    const done = await until(id, token, (x) => x.status === 'completed', 20_000);
    expect(member(done, 'disability-certificate').status).toBe('approved');
    // Well before the back-off of the scheduled re-check would have come round again.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('sends a member whose source is down to manual review while the others proceed; its department decides it and the notice is made again', async () => {
    const p = person({ name: '孟雪' });
    stack.sources!.setMode('medical-insurance', '503');
    let id: string;
    let token: string;
    try {
      const f = await file(p);
      id = f.res.json<{ id: string }>().id;
      token = f.token;
      const v = await until(id, token, (x) => x.status === 'completed');
      expect(member(v, 'disability-medical-insurance-aid').status).toBe('manual_review');
      expect(member(v, 'disability-medical-insurance-aid').decision!.outcome).toBe('MANUAL');
      expect(v.members.filter((m) => m.matter !== 'disability-medical-insurance-aid').every((m) => m.status === 'approved')).toBe(true);
    } finally {
      stack.sources!.setMode('medical-insurance', 'ok');
    }
    const first = (await until(id, token, (x) => x.notice !== undefined)).notice!;
    const medical = '11210100MB0E89010U';
    const admin = await stack.token('MEDICAL-ADMIN-1', 'admin', { dept: medical });
    const mine = (await get('/v1/admin/bundles', admin)).json<{ items: Array<{ id: string; members: Member[] }> }>().items.find((b) => b.id === id)!;
    expect(mine.members.map((m) => m.matter)).toEqual(['disability-medical-insurance-aid']);
    const appId = mine.members[0]!.applicationId!;
    expect((await get('/v1/admin/reviews', admin)).json<{ items: Array<{ id: string }> }>().items.map((i) => i.id)).toContain(appId);
    const other = await stack.token('CIVIL-ADMIN-1', 'admin', { dept: '11210100MB0E67890K' });
    expect((await stack.app.inject({ method: 'POST', url: `/v1/admin/reviews/${appId}/approve`, headers: { authorization: `Bearer ${other}`, 'content-type': 'application/json' }, payload: {} })).statusCode).toBe(404);
    const ok = await stack.app.inject({ method: 'POST', url: `/v1/admin/reviews/${appId}/approve`, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: { note: '线下核验参保信息无误' } });
    expect(ok.statusCode, ok.body).toBe(200);
    const after = await until(id, token, (x) => member(x, 'disability-medical-insurance-aid').status === 'approved' && x.notice !== undefined && x.notice.sha256 !== first.sha256);
    expect(after.notice!.number).not.toBe(first.number);
  });

  it('answers a duplicate submission with the same application, a reused key with another body with 422, and another person with 404', async () => {
    const p = person({ name: '宋佳' });
    const a = await file(p, {}, 'dup-1');
    const b = await file(p, {}, 'dup-1');
    expect(a.res.statusCode).toBe(202);
    expect(b.res.statusCode).toBe(202);
    expect(b.res.json<{ id: string }>().id).toBe(a.res.json<{ id: string }>().id);
    const c = await file(p, { form: { disabledPerson: p, contactPhone: '13900000000' } }, 'dup-1');
    expect(c.res.statusCode).toBe(422);
    const id = a.res.json<{ id: string }>().id;
    await until(id, a.token, (x) => x.status === 'completed');
    const stranger = await stack.token('210106198002120014');
    for (const url of [`/v1/applications/${id}`, `/v1/applications/${id}/notice`, `/v1/applications/${id}/form`]) {
      const r = await get(url, stranger);
      expect(r.statusCode, url).toBe(404);
      expect(r.json<{ code: string }>().code).toBe('APPLICATION_NOT_FOUND');
    }
    const civil = await stack.token('CIVIL-ADMIN-2', 'admin', { dept: '11210100MB0E67890K' });
    const seen = (await get(`/v1/applications/${id}`, civil)).json<BundleView>();
    expect(seen.members.map((m) => m.department)).toEqual(['沈阳市民政局', '沈阳市民政局']);
  });

  it('refuses bad filings with a stable code and the path to fix', async () => {
    const p = person({ name: '冯刚' });
    const cases: Array<[Record<string, unknown>, number, string, string]> = [
      [{ bundle: 'no-such-bundle' }, 400, 'BUNDLE_UNKNOWN', '/bundle'],
      [{ members: ['grain-purchase-filing'] }, 400, 'REQUEST_VALIDATION', '/members/0'],
      [{ answers: { relation: '监护人代办', residence: '本市户籍' }, members: ['disability-employment-registration'] }, 400, 'REQUEST_VALIDATION', '/members/0'],
      [{ form: { disabledPerson: { name: p.name, idNumber: '210102196101011234' }, contactPhone: '13800000000' } }, 400, 'REQUEST_VALIDATION', '/form/disabledPerson/idNumber'],
      [{ answers: { relation: '本人' } }, 400, 'REQUEST_VALIDATION', '/answers/residence'],
      [{ consent: { dataSharing: false, sealAuthorization: true } }, 400, 'CONSENT_REQUIRED', '/consent/dataSharing'],
      [{ matter: 'disability-certificate' }, 400, 'FILING_TARGET_INVALID', '/bundle'],
      [{ bundle: undefined }, 400, 'REQUEST_VALIDATION', '/matter'],
    ];
    for (const [over, status, code, at] of cases) {
      const { res } = await file(p, over);
      expect(res.statusCode, res.body).toBe(status);
      const body = res.json<{ code: string; message: string; errors?: Array<{ path: string }> }>();
      expect(body.code).toBe(code);
      expect(body.errors?.map((e) => e.path)).toContain(at);
    }
  });

  it('gives one guide: shared questions once, each material once, members pre-ticked by a dry run of each', async () => {
    const anon = await stack.app.inject({ method: 'POST', url: '/v1/bundles/disability-services/guide', payload: {} });
    expect(anon.statusCode, anon.body).toBe(200);
    const g0 = anon.json<{ openQuestions: Array<{ id: string }>; members: Array<{ applies: boolean }>; materials: Array<{ name: string; members: string[] }> }>();
    expect(g0.openQuestions.map((q) => q.id).sort()).toEqual(['relation', 'residence']);
    expect(g0.members.every((m) => m.applies)).toBe(true);
    const guide = async (p: { name: string; idNumber: string }) => {
      const res = await stack.app.inject({
        method: 'POST',
        url: '/v1/bundles/disability-services/guide',
        headers: { authorization: `Bearer ${await stack.token(p.idNumber)}`, 'content-type': 'application/json' },
        payload: { answers: { relation: '本人', residence: '本市户籍' }, person: p },
      });
      expect(res.statusCode, res.body).toBe(200);
      const g = res.json<{ openQuestions: unknown[]; members: Array<{ matter: string; preselected: boolean; eligibility?: { outcome: string; reasons: Array<{ rule: string }> } }>; materials: Array<{ name: string; members: string[] }> }>();
      expect(g.openQuestions).toEqual([]);
      expect(g.materials.filter((m) => m.name === '残疾人身份证')).toHaveLength(1);
      return Object.fromEntries(g.members.map((m) => [m.matter, m]));
    };
    // Holds a valid card already (demo data): the card is not ticked, the services that need it are.
    const holder = await guide({ name: '曹阳', idNumber: '210105196812120037' });
    expect(holder['disability-certificate']!.preselected).toBe(false);
    expect(holder['disability-certificate']!.eligibility!.reasons.map((r) => r.rule)).toEqual(['no-valid-card']);
    expect(holder['disability-care-allowance']!.preselected).toBe(true);
    // No card yet, 三级, not 困难: the card is ticked and what it enables too; what the person is not eligible for is not.
    const p = person({ name: '蒋伟', assessment: { category: '言语', categoryCode: 3, grade: 3 }, assistance: '无' });
    const g = await guide(p);
    expect(g['disability-certificate']!.preselected).toBe(true);
    expect(g['disability-transit-concession']!.preselected).toBe(true);
    expect(g['disability-care-allowance']!.preselected).toBe(false);
    expect(g['disability-care-allowance']!.eligibility!.reasons.map((r) => r.rule)).toContain('severe-grade');
    expect(g['disability-living-allowance']!.preselected).toBe(false);
  });

  it('sends a signed webhook per member decision and one bundle.completed, with ids and outcomes but no personal data', async () => {
    const receiver = await startReceiver();
    try {
      const consumer = await stack.token('DOWNSTREAM-BUNDLES', 'consumer', { scope: 'webhooks:write bundles:read' });
      const reg = await stack.app.inject({ method: 'POST', url: '/v1/webhooks', headers: { authorization: `Bearer ${consumer}`, 'content-type': 'application/json' }, payload: { url: receiver.url, events: ['bundle.member.decided', 'bundle.completed'] } });
      expect(reg.statusCode, reg.body).toBe(201);
      const p = person({ name: '邵兰' });
      const { res, token } = await file(p, { members: ['disability-certificate'] });
      const id = res.json<{ id: string }>().id;
      const v = await until(id, token, (x) => x.status === 'completed');
      const got = await receiver.waitFor(v.members.length + 1, 20_000);
      const events = got.map((r) => JSON.parse(r.body) as { type: string; id: string; data: { bundleApplicationId: string; member?: { matter: string; status: string } } });
      expect(events.filter((e) => e.type === 'bundle.member.decided').map((e) => e.data.member!.matter).sort()).toEqual(v.members.map((m) => m.matter).sort());
      expect(events.filter((e) => e.type === 'bundle.completed').map((e) => e.data.bundleApplicationId)).toEqual([id]);
      for (const r of got) {
        expect(r.headers['miaopi-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        expect(r.body).not.toContain(p.idNumber);
        expect(r.body).not.toContain(p.name);
      }
    } finally {
      await receiver.close();
    }
  });

  it('reports per-bundle figures to supervisors', async () => {
    const sup = await stack.token('SUPERVISOR-1', 'supervisor');
    const res = await get('/v1/stats?bundle=disability-services', sup);
    expect(res.statusCode, res.body).toBe(200);
    const f = res.json<{ bundles: Array<{ filings: number; completed: number; timeToAllDecidedMs: { count: number; median: number }; members: { autoDecided: number; manualDecided: number }; perMember: Array<{ matter: string; topFalloutReasons: Array<{ rule: string }> }> }> }>().bundles[0]!;
    expect(f.filings).toBeGreaterThanOrEqual(6);
    expect(f.completed).toBeGreaterThanOrEqual(5);
    expect(f.timeToAllDecidedMs.count).toBe(f.completed);
    expect(f.members.manualDecided).toBeGreaterThanOrEqual(1);
    expect(f.members.autoDecided).toBeGreaterThan(30);
    expect(f.perMember.find((m) => m.matter === 'disability-care-allowance')!.topFalloutReasons.map((r) => r.rule)).toContain('severe-grade');
    console.log(`BUNDLE figures (${backend}): ${f.completed} of ${f.filings} bundle filings completed; receipt → every member decided median ${f.timeToAllDecidedMs.median} ms (includes waits for assessments and a person)`);
  });
});
