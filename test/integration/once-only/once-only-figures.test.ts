/**
 * Once-only to the seed's figures (issue 19), on the real stack — SQLite and PostgreSQL, Redis, the worker, and
 * every data source over real HTTP: the 商品房预售许可 guide lists 16 of 17 fields pre-filled with their sources; a
 * presale filing from the demo data is decided with only the phone typed; with the 测绘 source down it still goes
 * through (fields fall back to typed input with a note; a rule that needs a value nobody gave is UNKNOWN → manual
 * review); a parking lot is filed with two typed fields and its certificate verifies; /v1/stats carries the
 * catalog's rates beside the seed's and the measured ones, equal to what the database holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onceOnlyFigures } from '../../../src/catalog/once-only-figures.js';
import { queryRows } from '../../support/db-query.js';
import { pdfText, tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';
import { startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const PRESALE = 'commercial-housing-presale';
const PARKING = 'public-parking-filing';
/** 沈阳浑南盛华置业有限公司: one project under construction (demo data). */
const ONE_PROJECT = '91210112MA0P3H5JX0';
/** 沈阳华府置业有限公司: two projects under construction. */
const TWO_PROJECTS = '91210104MA0Y1B2C40';
const PARKING_OPERATOR = '91210103MA0W9J1K7P';
const CONSENT = { dataSharing: true, sealAuthorization: true };
const FIRST_FILING = { phase: '首次申请', mortgage: '否' };

interface GuideFieldView {
  id: string;
  label: string;
  prefill: { source: string; sourceName: string } | null;
  typed: boolean;
  origin: string;
  status?: string;
  note?: string;
  value?: string;
  fallback?: { path: string };
}

describe.each(['sqlite', 'postgres'] as const)('once-only figures on %s', (backend) => {
  let stack: Stack;
  const auth = async (sub: string) => ({ authorization: `Bearer ${await stack.token(sub)}` });
  const guide = async (code: string, answers: Record<string, string>, sub?: string) => {
    const res = await stack.app.inject({ method: 'POST', url: `/v1/matters/${code}/guide`, headers: sub ? await auth(sub) : {}, payload: { answers } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ fields: GuideFieldView[]; fieldSummary: Record<string, number>; choices: Array<{ path: string; options: Array<{ value: string; label: string }> }> }>();
  };
  const file = async (sub: string, body: Record<string, unknown>, key: string) => {
    const token = await stack.token(sub);
    const res = await submit(stack, token, { consent: CONSENT, ...body }, { 'idempotency-key': key });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    const decided = await waitForDecision(stack, id, token, 30_000);
    const app = await stack.deps.store.applications.get(id);
    return { id, token, decided, receipt: app!.receipt! };
  };
  const formText = async (id: string, token: string) => {
    const pdf = await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}/form`, headers: { authorization: `Bearer ${token}` } });
    expect(pdf.statusCode).toBe(200);
    const tmp = tempDir('once-only-form-');
    try {
      return await pdfText(writeTemp(tmp.dir, 'form.pdf', pdf.rawPayload));
    } finally {
      tmp.cleanup();
    }
  };

  beforeAll(async () => {
    stack = await startStack({ backend });
  });
  afterAll(async () => stack?.close());

  describe('商品房预售许可 guide', () => {
    it('lists at least 16 of its 17 fields as pre-filled, each with the data source it comes from', async () => {
      const anonymous = await guide(PRESALE, FIRST_FILING);
      expect(anonymous.fields).toHaveLength(17);
      const withSource = anonymous.fields.filter((f) => f.prefill !== null);
      expect(withSource.length).toBeGreaterThanOrEqual(16);
      for (const f of withSource) {
        expect(f.typed, f.id).toBe(false);
        expect(f.prefill!.sourceName, f.id).not.toBe(f.prefill!.source);
      }
      expect(anonymous.fields.filter((f) => f.typed).map((f) => f.id)).toEqual(['contactPhone']);
      expect(anonymous.fieldSummary).toEqual({ total: 17, prefilled: 16, typed: 1, fromDataSources: 16 });
      const sources = new Set(withSource.map((f) => f.prefill!.source));
      expect(sources).toEqual(new Set(['market-entity', 'project-permits', 'real-estate', 'construction-project', 'housing-survey', 'presale-escrow']));
    });

    it('shows a signed-in developer the values it will use, read from its own records', async () => {
      const g = await guide(PRESALE, FIRST_FILING, ONE_PROJECT);
      const field = (id: string) => g.fields.find((f) => f.id === id)!;
      expect(field('projectCode')).toMatchObject({ status: 'prefilled', value: '2025-210112-70-01-000318', prefill: { source: 'project-permits' } });
      expect(field('buildings')).toMatchObject({ status: 'prefilled', value: '1#、2#、5#楼', prefill: { source: 'housing-survey', sourceName: '房产测绘成果管理系统' }, fallback: { path: 'form.buildings' } });
      expect(field('escrowBank')).toMatchObject({ status: 'prefilled', value: '中国工商银行沈阳浑南支行' });
      expect(g.fields.filter((f) => f.status === 'prefilled')).toHaveLength(16);
      expect(g.choices).toEqual([]);
    });

    it('offers a developer with several projects the choice among them, and guesses none', async () => {
      const g = await guide(PRESALE, FIRST_FILING, TWO_PROJECTS);
      expect(g.choices).toEqual([
        {
          lookup: 'project',
          source: 'project-permits',
          path: 'form.projectCode',
          options: [
            { value: '2024-210104-70-01-000123', label: '华府·东望园一期' },
            { value: '2024-210104-70-01-000456', label: '华府·东站园二期' },
          ],
        },
      ]);
      expect(g.fields.find((f) => f.id === 'projectCode')).toMatchObject({ status: 'unavailable', note: expect.stringContaining('多项记录') });
    });
  });

  it('shows, for every field of every reference matter, whether a source fills it — as the catalog figures count', async () => {
    for (const m of stack.deps.catalog.matters.values()) {
      const g = await guide(m.def.code, m.def.tests[0]!.answers);
      const figures = onceOnlyFigures(m.def);
      expect(g.fields.length, m.def.code).toBeGreaterThan(0);
      for (const f of g.fields) {
        const def = m.def.fields.find((x) => x.id === f.id)!;
        expect(f.prefill !== null, `${m.def.code}.${f.id}`).toBe(def.prefill !== undefined);
        expect(f.typed, `${m.def.code}.${f.id}`).toBe(figures.fields.typedFields.includes(f.id));
        expect(f.origin === 'data-source', `${m.def.code}.${f.id}`).toBe(f.prefill !== null);
      }
      // A situation shows only the fields of its materials: never more typed ones than the matter has.
      expect(g.fields.filter((f) => f.typed).length).toBeLessThanOrEqual(figures.fields.typed);
    }
  });

  describe('商品房预售许可 filing', () => {
    it('is decided with only the phone typed: every pre-review rule passes on shared data, a person decides', async () => {
      const { id, token, decided, receipt } = await file(ONE_PROJECT, { matter: PRESALE, answers: FIRST_FILING, form: { contactPhone: '02431880000' } }, `presale-only-phone-${backend}`);
      expect(decided.status).toBe('manual_review');
      expect(decided.decision!.reasons.map((r) => r.rule)).toEqual(['manual-matter']);
      expect(receipt.rules.filter((r) => !r.id.startsWith('material:') && r.result !== 'PASS')).toEqual([]);
      // 16 fields came from six sources, each with the read it came from.
      expect(receipt.provenance!.filter((p) => !p.fallback)).toHaveLength(16);
      expect(receipt.provenance!.every((p) => p.responseHash.length === 64)).toBe(true);
      const reads = new Set(receipt.sources.map((s) => `${s.source}:${s.status}`));
      for (const s of ['project-permits', 'housing-survey', 'presale-escrow', 'real-estate', 'construction-project', 'market-entity']) expect(reads).toContain(`${s}:found`);
      // The sealed e-form prints what the sources gave.
      const text = await formText(id, token);
      for (const v of ['2025-210112-70-01-000318', '1#、2#、5#楼', '31850.6', '中国工商银行沈阳浑南支行', '免填']) expect(text).toContain(v);
      const [figures] = await queryRows<{ fields_prefilled: number | string; fields_typed: number | string; fields_fallback: number | string; fields_total: number | string }>(
        stack,
        'select fields_prefilled, fields_typed, fields_fallback, fields_total from application_figures where application_id = ?',
        [id],
      );
      expect([figures!.fields_prefilled, figures!.fields_typed, figures!.fields_fallback, figures!.fields_total].map(Number)).toEqual([16, 1, 0, 17]);
    });

    it('once a person approves it, issues a 预售许可证 printing the shared data, which verify-certificate.sh accepts', async () => {
      const { id, token } = await file(ONE_PROJECT, { matter: PRESALE, answers: FIRST_FILING, form: { contactPhone: '02431880000' } }, `presale-approved-${backend}`);
      const admin = await stack.token('HOUSING-ADMIN-19', 'admin', { dept: '11210100MB0E34561M' });
      const ok = await stack.app.inject({ method: 'POST', url: `/v1/admin/reviews/${id}/approve`, headers: { authorization: `Bearer ${admin}` }, payload: { note: '现场核查符合预售条件' } });
      expect(ok.statusCode, ok.body).toBe(200);
      const cert = ok.json<{ certificate: { id: string; number: string } }>().certificate;
      expect(cert.number).toMatch(/^沈房预售证〔\d{4}〕\d{6}号$/);
      const pdf = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${cert.id}/pdf`, headers: { authorization: `Bearer ${token}` } });
      expect(pdf.statusCode).toBe(200);
      const roots = await stack.app.inject({ method: 'GET', url: '/v1/trust' });
      const tmp = tempDir('once-only-presale-');
      try {
        const v = await verifyCertificate(writeTemp(tmp.dir, 'cert.pdf', pdf.rawPayload), writeTemp(tmp.dir, 'roots.pem', roots.body), [
          '沈阳浑南盛华置业有限公司',
          '盛华·浑南悦府一期',
          '2025-210112-70-01-000318',
          '1#、2#、5#楼',
          '中国工商银行沈阳浑南支行',
          cert.number,
        ]);
        expect(v.stdout).toContain('ALL PASS');
        expect(v.code).toBe(0);
      } finally {
        tmp.cleanup();
      }
    });

    it('still goes through with the 测绘 source down: its fields are missing with a note, the rule that needs them is UNKNOWN', async () => {
      stack.sources!.setMode('housing-survey', '503');
      try {
        const { decided, receipt } = await file(ONE_PROJECT, { matter: PRESALE, answers: FIRST_FILING, form: { contactPhone: '02431880000' } }, `presale-survey-down-${backend}`);
        expect(decided.status).toBe('manual_review');
        const notPassed = receipt.rules.filter((r) => !r.id.startsWith('material:') && r.result !== 'PASS');
        expect(notPassed.map((r) => [r.id, r.result])).toEqual([
          ['survey-filed', 'UNKNOWN'],
          ['presale-area-within-plan', 'UNKNOWN'],
        ]);
        expect(notPassed[1]!.message).toContain('缺少预售建筑面积（平方米）');
        expect(decided.decision!.reasons.every((r) => r.result !== 'FAIL')).toBe(true);
        const fallbacks = receipt.provenance!.filter((p) => p.fallback);
        expect(fallbacks.map((p) => [p.field, p.source, p.fallback!.value])).toEqual([
          ['buildings', 'housing-survey', 'missing'],
          ['presaleArea', 'housing-survey', 'missing'],
          ['unitCount', 'housing-survey', 'missing'],
        ]);
        expect(fallbacks[0]!.fallback!.note).toContain('数源暂未答复');
        expect(receipt.sources.find((s) => s.source === 'housing-survey')?.status).toBe('unknown');
      } finally {
        stack.sources!.setMode('housing-survey', 'ok');
      }
    });

    it('with the 测绘 source down uses what the applicant typed, noted as such, and decides the rule on it', async () => {
      stack.sources!.setMode('housing-survey', '503');
      try {
        const typed = { contactPhone: '02431880000', buildings: '1#、2#楼', presaleArea: 22604.8, unitCount: 204 };
        const { id, token, decided, receipt } = await file(ONE_PROJECT, { matter: PRESALE, answers: FIRST_FILING, form: typed }, `presale-survey-typed-${backend}`);
        expect(decided.status).toBe('manual_review');
        const byId = new Map(receipt.rules.map((r) => [r.id, r.result]));
        expect(byId.get('survey-filed')).toBe('UNKNOWN');
        expect(byId.get('presale-area-within-plan')).toBe('PASS');
        const fallbacks = receipt.provenance!.filter((p) => p.fallback);
        expect(fallbacks.map((p) => [p.field, p.fallback!.value])).toEqual([
          ['buildings', 'typed'],
          ['presaleArea', 'typed'],
          ['unitCount', 'typed'],
        ]);
        expect(fallbacks[0]!.fallback!.note).toContain('采用申请人填写的内容');
        const text = await formText(id, token);
        expect(text).toContain('1#、2#楼');
        expect(text).toContain('22604.8');
        const [row] = await queryRows<{ fields_fallback: number | string; fields_typed: number | string }>(stack, 'select fields_fallback, fields_typed from application_figures where application_id = ?', [id]);
        expect([Number(row!.fields_fallback), Number(row!.fields_typed)]).toEqual([3, 4]);
      } finally {
        stack.sources!.setMode('housing-survey', 'ok');
      }
    });

    it('takes the project a developer with several chooses, and asks a person when it did not choose', async () => {
      const chosen = await file(TWO_PROJECTS, { matter: PRESALE, answers: FIRST_FILING, form: { contactPhone: '02422880000', projectCode: '2024-210104-70-01-000123' } }, `presale-chosen-${backend}`);
      expect(chosen.decided.decision!.reasons.map((r) => r.rule)).toEqual(['manual-matter']);
      const unchosen = await file(TWO_PROJECTS, { matter: PRESALE, answers: FIRST_FILING, form: { contactPhone: '02422880000' } }, `presale-unchosen-${backend}`);
      expect(unchosen.decided.status).toBe('manual_review');
      const identified = unchosen.receipt.rules.find((r) => r.id === 'project-identified');
      expect(identified).toMatchObject({ result: 'UNKNOWN' });
      expect(unchosen.decided.decision!.reasons.some((r) => r.result === 'FAIL')).toBe(false);
    });
  });

  describe('经营性公共停车场备案', () => {
    it('is approved with two fields typed, the lot taken from its 规划核实 record, and the certificate verifies', async () => {
      const { decided, receipt } = await file(
        PARKING_OPERATOR,
        { matter: PARKING, answers: { temporary: '否', lotForm: '地面露天', tenure: '自有产权' }, form: { contactPhone: '13900000001', realEstateCertNo: '辽(2025)沈阳市不动产权第0200004号' } },
        `parking-two-typed-${backend}`,
      );
      expect(decided.status).toBe('approved');
      expect(receipt.provenance!.filter((p) => !p.fallback).map((p) => p.field)).toEqual(
        expect.arrayContaining(['lotName', 'lotAddress', 'lotRegion', 'lotForm', 'totalSpaces', 'smallSpaces', 'largeSpaces', 'accessibleSpaces', 'chargingSpaces', 'mechanicalSpaces']),
      );
      const token = await stack.token(PARKING_OPERATOR);
      const pdf = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${decided.certificate!.id}/pdf`, headers: { authorization: `Bearer ${token}` } });
      expect(pdf.statusCode).toBe(200);
      const roots = await stack.app.inject({ method: 'GET', url: '/v1/trust' });
      const tmp = tempDir('once-only-cert-');
      try {
        const v = await verifyCertificate(writeTemp(tmp.dir, 'cert.pdf', pdf.rawPayload), writeTemp(tmp.dir, 'roots.pem', roots.body), ['盛京停车场（露天）', '沈阳市沈河区青年大街185号院内', decided.certificate!.number]);
        expect(v.stdout).toContain('ALL PASS');
        expect(v.code).toBe(0);
      } finally {
        tmp.cleanup();
      }
    });

    it('with 工程建设项目审批 down takes the typed lot details and asks a person only for the rule that needs the record', async () => {
      stack.sources!.setMode('construction-project', '503');
      try {
        const { decided, receipt } = await file(
          PARKING_OPERATOR,
          {
            matter: PARKING,
            answers: { temporary: '否', lotForm: '地面露天', tenure: '自有产权' },
            form: {
              contactPhone: '13900000001',
              realEstateCertNo: '辽(2025)沈阳市不动产权第0200004号',
              lotName: '盛京停车场（露天）',
              lotAddress: '沈阳市沈河区青年大街185号院内',
              lotRegionCode: '210103',
              spaces: { total: 60, small: 58, large: 2, accessible: 2, charging: 6, mechanical: 0 },
            },
          },
          `parking-project-down-${backend}`,
        );
        expect(decided.status).toBe('manual_review');
        expect(decided.decision!.reasons.map((r) => [r.rule, r.result])).toEqual([['lot-form-as-recorded', 'UNKNOWN']]);
        expect(receipt.provenance!.filter((p) => p.fallback?.value === 'typed').map((p) => p.field)).toEqual(
          expect.arrayContaining(['lotName', 'lotAddress', 'lotRegion', 'totalSpaces', 'mechanicalSpaces', 'lotForm']),
        );
      } finally {
        stack.sources!.setMode('construction-project', 'ok');
      }
    });
  });

  describe('/v1/stats', () => {
    it('carries the catalog’s rates beside the seed’s, and measured figures equal to the database', async () => {
      const supervisor = await stack.token('SUPERVISOR-19', 'supervisor', { dept: '11210100MB0E56787K' });
      const res = await stack.app.inject({ method: 'GET', url: '/v1/stats', headers: { authorization: `Bearer ${supervisor}` } });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<{ matters: Array<Record<string, any>>; totals: Record<string, any>; seed: Record<string, any> }>();
      const presale = body.matters.find((m) => m.matter === PRESALE)!;
      const expected = onceOnlyFigures(stack.deps.catalog.get(PRESALE)!.def);
      expect(presale.catalog.fields).toMatchObject({ total: 17, prefilled: 16, typed: 1, typedFields: ['contactPhone'] });
      expect(presale.catalog.fields.prefilledRate).toBeCloseTo(16 / 17, 10);
      expect(presale.catalog.materials).toMatchObject({ total: expected.materials.total, onceOnly: expected.materials.onceOnly, byAcquisition: expected.materials.byAcquisition });
      const exempt = expected.materials.byAcquisition;
      expect(exempt['证照共享'] + exempt['数据核验'] + exempt['业务协同']).toBeGreaterThanOrEqual(4);
      const parking = body.matters.find((m) => m.matter === PARKING)!;
      expect(parking.catalog.fields.typed).toBeLessThanOrEqual(3);
      expect(body.seed).toEqual({
        materials: { onceOnly: 2270, total: 2611, onceOnlyRate: 2270 / 2611 },
        presaleFields: { matter: PRESALE, prefilled: 16, total: 17, prefilledRate: 16 / 17 },
      });
      expect(body.totals.scope).toBe('city-wide');
      const sum = (f: (m: Record<string, any>) => number) => body.matters.reduce((n, m) => n + f(m), 0);
      expect(body.totals.catalog.materials.total).toBe(sum((m) => m.catalog.materials.total));
      expect(body.totals.catalog.fields.typed).toBe(sum((m) => m.catalog.fields.typed));

      // Measured, recomputed here from the rows the worker wrote.
      for (const m of [presale, parking]) {
        const decided = await queryRows<{ application_id: string }>(stack, 'select application_id from application_figures where matter = ?', [m.matter]);
        const uploaders = await queryRows<{ application_id: string }>(stack, "select distinct application_id from application_materials where matter = ? and category = 'uploaded'", [m.matter]);
        const [fields] = await queryRows<{ total: number | string; typed: number | string; fallback: number | string }>(
          stack,
          'select sum(fields_total) as total, sum(fields_typed) as typed, sum(fields_fallback) as fallback from application_figures where matter = ? and fields_total is not null',
          [m.matter],
        );
        expect(m.onceOnly.decided).toBe(decided.length);
        expect(m.onceOnly.zeroUploadFilings).toBe(decided.length - uploaders.length);
        expect(m.onceOnly.fields).toMatchObject({ total: Number(fields!.total), typed: Number(fields!.typed), typedFallback: Number(fields!.fallback) });
        const rows = await queryRows<{ n: number | string }>(stack, 'select count(*) as n from application_materials where matter = ?', [m.matter]);
        expect(Object.values(m.onceOnly.materialsByAcquisition as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(Number(rows[0]!.n));
      }
      expect(presale.onceOnly.decided).toBe(6);
      expect(presale.onceOnly.fields.typedFallback).toBe(3);
      // The presale filings upload nothing (S1: 零材料); the parking ones neither (the plan drawing is a commitment).
      expect(presale.onceOnly.zeroUploadRate).toBe(1);
      expect(body.totals.measured.decided).toBe(sum((m) => m.onceOnly.decided));
      // City-wide fall-out reasons, counted here from the stored decisions.
      const decisions = await queryRows<{ matter: string; fallout_rules: string }>(stack, "select matter, fallout_rules from application_figures where outcome <> 'APPROVE'");
      const counts = new Map<string, number>();
      for (const d of decisions) for (const rule of JSON.parse(d.fallout_rules) as string[]) counts.set(`${d.matter} ${rule}`, (counts.get(`${d.matter} ${rule}`) ?? 0) + 1);
      for (const r of body.totals.topFalloutReasons as Array<{ matter: string; rule: string; count: number }>) expect(r.count, `${r.matter} ${r.rule}`).toBe(counts.get(`${r.matter} ${r.rule}`));
      expect(body.totals.topFalloutReasons[0]).toEqual({ matter: PRESALE, rule: 'manual-matter', count: Math.max(...counts.values()) });
    });
  });
});
