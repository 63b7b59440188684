/**
 * Once-only on the real stack (issue 4), on SQLite and PostgreSQL: consent recorded and required for every read,
 * revocation honoured; who read whose data; the archive and 材料复用 (a returning enterprise uploads nothing twice);
 * commitments printed on the form; per-field provenance in the receipt; /v1/stats equal to counts computed from
 * the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../../support/db-counts.js';
import { queryRows } from '../../support/db-query.js';
import { pdfText, tempDir, writeTemp } from '../../support/pdf-tools.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const OTHER_USCC = '91210102123456788E';
const RESPONSIBLE_ID = '210102199001011237';
const GRAIN_DEPT = '11210100MB0E12346R';
const PARKING_DEPT = '11210100MB0E23459Q';
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n% lease contract\n'), Buffer.alloc(2048, 0x20), Buffer.from('\n%%EOF\n')]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);
const LEASE_COMMITMENT = '本企业承诺所填报租赁仓储设施的租赁合同真实有效';

const leased = (region: string, filingType = '首次', sub = {}) =>
  grainFiling({
    answers: { filingType, storageSource: '租赁' },
    form: { purchaseRegionCode: region, storageFacilities: [{ address: '沈阳市于洪区租赁仓库', capacityTonnes: 2000, ownership: '租赁', leaseEndsOn: '2030-12-31' }], ...sub },
  });

function multipart(fields: Record<string, string>, file: { name: string; type: string; bytes: Buffer } | null) {
  const boundary = '----miaopi-test-boundary';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${file.name}"\r\ncontent-type: ${file.type}\r\n\r\n`), file.bytes, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

describe.each(['sqlite', 'postgres'] as const)('once-only on %s', (backend) => {
  let stack: Stack;
  let fenghe: string;
  let other: string;

  const get = async (url: string, token: string) => stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const upload = async (token: string, fields: Record<string, string>, file: { name: string; type: string; bytes: Buffer } | null) => {
    const { payload, contentType } = multipart(fields, file);
    return stack.app.inject({ method: 'POST', url: '/v1/materials', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, payload });
  };
  const fileAndWait = async (token: string, body: unknown) => {
    const res = await submit(stack, token, body);
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    return { id, ...(await waitForDecision(stack, id, token)) };
  };
  const materialsOf = (id: string) =>
    queryRows<{ material: string; category: string; archive_id: string | null }>(stack, 'select material, category, archive_id from application_materials where application_id = ? order by material', [id]);

  beforeAll(async () => {
    stack = await startStack({ backend, env: { MATERIAL_MAX_BYTES: '65536' } });
    fenghe = await stack.token(HAPPY_USCC);
    other = await stack.token(OTHER_USCC);
  });
  afterAll(async () => stack?.close());

  describe('consent', () => {
    it('records the filing’s consent with its purpose and the sources it covers', async () => {
      const d = await fileAndWait(fenghe, grainFiling({ form: { purchaseRegionCode: '210102' } }));
      expect(d.status).toBe('approved');
      const res = await get('/v1/me/consents', fenghe);
      expect(res.statusCode).toBe(200);
      const [c] = res.json<{ consents: Array<Record<string, unknown>> }>().consents;
      expect(c).toMatchObject({ matter: 'grain-purchase-filing', purpose: '粮食收购企业备案审核', applicationId: d.id, status: 'active' });
      expect((c!.sources as Array<{ id: string }>).map((s) => s.id)).toEqual(['credit', 'market-entity', 'population', 'real-estate']);
      const log = await stack.deps.store.dataAccess.forApplication(d.id);
      expect(log.length).toBeGreaterThan(0);
      expect(new Set(log.map((e) => e.consentId))).toEqual(new Set([c!.id]));
      expect(new Set(log.map((e) => e.matter))).toEqual(new Set(['grain-purchase-filing']));
    });

    it('lets a later filing rely on the consent in force instead of repeating it', async () => {
      const d = await fileAndWait(fenghe, leased('210103'));
      expect(d.status).toBe('approved');
      const again = await fileAndWait(fenghe, { ...grainFiling({ form: { purchaseRegionCode: '210104' } }), consent: { dataSharing: false, sealAuthorization: true } });
      expect(again.status).toBe('approved');
      expect(await countRows(stack, 'data_access_log', { application_id: again.id })).toBeGreaterThan(0);
    });

    it('after revoking, refuses a filing without new consent (4xx) and reads nothing; a filing that consents again is read', async () => {
      const list = (await get('/v1/me/consents', fenghe)).json<{ consents: Array<{ id: string; status: string }> }>().consents;
      const active = list.find((c) => c.status === 'active')!;
      expect(list.filter((c) => c.status === 'superseded').length).toBeGreaterThan(0);
      const del = await stack.app.inject({ method: 'DELETE', url: `/v1/me/consents/${active.id}`, headers: { authorization: `Bearer ${fenghe}` } });
      expect(del.statusCode).toBe(200);
      expect(del.json()).toMatchObject({ id: active.id, status: 'revoked' });
      // Another subject cannot revoke (or see) it.
      expect((await stack.app.inject({ method: 'DELETE', url: `/v1/me/consents/${active.id}`, headers: { authorization: `Bearer ${other}` } })).statusCode).toBe(404);

      const reads = await countRows(stack, 'data_access_log');
      const refused = await submit(stack, fenghe, { ...grainFiling({ form: { purchaseRegionCode: '210105' } }), consent: { dataSharing: false, sealAuthorization: true } });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'CONSENT_REQUIRED', errors: [{ path: '/consent/dataSharing' }] });
      // Guidance honours the revocation too: nothing is read.
      const guide = await stack.app.inject({ method: 'POST', url: '/v1/matters/grain-purchase-filing/guide', headers: { authorization: `Bearer ${fenghe}` }, payload: { answers: {} } });
      expect(guide.json()).toMatchObject({ consent: { status: 'revoked' } });
      const precheck = await stack.app.inject({
        method: 'POST',
        url: '/v1/matters/grain-purchase-filing/precheck',
        headers: { authorization: `Bearer ${fenghe}` },
        payload: { answers: grainFiling().answers, form: grainFiling().form },
      });
      expect(precheck.statusCode).toBe(400);
      expect(await countRows(stack, 'data_access_log')).toBe(reads);

      const renewed = await fileAndWait(fenghe, grainFiling({ form: { purchaseRegionCode: '210105' } }));
      expect(renewed.status).toBe('approved');
      const current = (await get('/v1/me/consents', fenghe)).json<{ consents: Array<{ id: string; status: string; applicationId: string }> }>().consents[0]!;
      expect(current).toMatchObject({ status: 'active', applicationId: renewed.id });
    });

    it('stops the reads of a queued filing whose consent is revoked before it is processed', async () => {
      await stack.stopWorker();
      try {
        const res = await submit(stack, other, grainFiling({ form: { responsiblePerson: { name: '王芳', idNumber: '21011219850615002X' }, purchaseRegionCode: '210106', storageFacilities: [{ address: '沈阳市某区粮库', capacityTonnes: 3000, ownership: '自有', realEstateCertNo: '辽(2023)沈阳市不动产权第0100001号' }] } }));
        expect(res.statusCode).toBe(202);
        const id = res.json<{ id: string }>().id;
        const [c] = (await get('/v1/me/consents', other)).json<{ consents: Array<{ id: string }> }>().consents;
        await stack.app.inject({ method: 'DELETE', url: `/v1/me/consents/${c!.id}`, headers: { authorization: `Bearer ${other}` } });
        stack.startWorker();
        const d = await waitForDecision(stack, id, other);
        expect(d.status).toBe('manual_review');
        expect(d.decision!.reasons.map((r) => r.rule)).toContain('consent-missing');
        expect(await countRows(stack, 'data_access_log', { application_id: id })).toBe(0);
      } finally {
        if (!stack.worker) stack.startWorker();
      }
    });
  });

  describe('who read my data', () => {
    it('shows the enterprise the reads made for its filings, with purpose, matter and consent', async () => {
      const res = await get('/v1/me/data-access?limit=500', fenghe);
      expect(res.statusCode).toBe(200);
      const { entries } = res.json<{ entries: Array<Record<string, any>> }>();
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.every((e) => e.requester === HAPPY_USCC || e.key === HAPPY_USCC)).toBe(true);
      const filing = entries.find((e) => e.applicationId !== null)!;
      expect(filing).toMatchObject({ purpose: '粮食收购企业备案审核', matter: { code: 'grain-purchase-filing', department: '沈阳市粮食和物资储备局' }, origin: 'source' });
      expect(filing.responseHash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('shows a citizen that an enterprise’s filing read their population record, without that filing’s id', async () => {
      const citizen = await stack.token(RESPONSIBLE_ID);
      const { entries } = (await get('/v1/me/data-access', citizen)).json<{ entries: Array<Record<string, any>> }>();
      const read = entries.find((e) => e.source.id === 'population')!;
      expect(read).toMatchObject({ key: RESPONSIBLE_ID, requester: HAPPY_USCC, applicationId: null, source: { name: '人口基础信息库' } });
    });

    it('lets an admin query its own department’s reads and nobody else’s', async () => {
      const grainAdmin = await stack.token('ADMIN-GRAIN', 'admin', { dept: GRAIN_DEPT });
      const parkingAdmin = await stack.token('ADMIN-PARKING', 'admin', { dept: PARKING_DEPT });
      const mine = (await get(`/v1/admin/data-access?source=population&key=${RESPONSIBLE_ID}`, grainAdmin)).json<{ entries: Array<Record<string, any>> }>();
      expect(mine.entries.length).toBeGreaterThan(0);
      expect(mine.entries.every((e) => e.source.id === 'population' && e.matter.code === 'grain-purchase-filing')).toBe(true);
      expect((await get('/v1/admin/data-access', parkingAdmin)).json<{ entries: unknown[] }>().entries).toEqual([]);
      expect((await get('/v1/admin/data-access', fenghe)).statusCode).toBe(403);
    });
  });

  describe('archive and 材料复用', () => {
    let archived: { id: string; sha256: string };

    it('keeps an uploaded material by its content type, sha256 and validity, once', async () => {
      const res = await upload(fenghe, { matter: 'grain-purchase-filing', material: 'M5', validUntil: '2030-12-31' }, { name: 'lease.pdf', type: 'application/pdf', bytes: PDF });
      expect(res.statusCode, res.body).toBe(201);
      archived = res.json();
      expect(res.json()).toMatchObject({ material: 'M5', name: '仓储设施租赁合同', mediaType: 'application/pdf', size: PDF.length, validUntil: '2030-12-31', status: 'valid', fileName: 'lease.pdf' });
      const again = await upload(fenghe, { matter: 'grain-purchase-filing', material: 'M5', validUntil: '2030-12-31' }, { name: 'copy.pdf', type: 'application/pdf', bytes: PDF });
      expect(again.statusCode).toBe(200);
      expect(again.json<{ id: string }>().id).toBe(archived.id);
      // Raw body with the fields in the query string; the declared type does not matter, the bytes do.
      const raw = await stack.app.inject({
        method: 'POST',
        url: '/v1/materials?matter=grain-purchase-filing&material=M5&fileName=photo.png',
        headers: { authorization: `Bearer ${other}`, 'content-type': 'application/octet-stream' },
        payload: PNG,
      });
      expect(raw.statusCode, raw.body).toBe(201);
      expect(raw.json()).toMatchObject({ mediaType: 'image/png', validUntil: null });
    });

    it('refuses what it cannot keep: a text file named .pdf, an oversize file, a material that is never uploaded, a past validity', async () => {
      const fake = await upload(fenghe, { matter: 'grain-purchase-filing', material: 'M5' }, { name: 'lease.pdf', type: 'application/pdf', bytes: Buffer.from('just text, not a PDF') });
      expect([fake.statusCode, fake.json().code]).toEqual([415, 'MATERIAL_TYPE_UNSUPPORTED']);
      const big = await upload(fenghe, { matter: 'grain-purchase-filing', material: 'M5' }, { name: 'big.pdf', type: 'application/pdf', bytes: Buffer.concat([PDF, Buffer.alloc(70_000)]) });
      expect(big.statusCode).toBe(413);
      const license = await upload(fenghe, { matter: 'grain-purchase-filing', material: 'M2' }, { name: 'license.pdf', type: 'application/pdf', bytes: PDF });
      expect([license.statusCode, license.json().code]).toEqual([422, 'MATERIAL_NOT_ARCHIVABLE']);
      const past = await upload(fenghe, { matter: 'grain-purchase-filing', material: 'M5', validUntil: '2020-01-01' }, { name: 'lease.pdf', type: 'application/pdf', bytes: PDF });
      expect([past.statusCode, past.json().errors[0].path]).toEqual([400, '/validUntil']);
      const none = await upload(fenghe, { matter: 'grain-purchase-filing', material: 'M5' }, null);
      expect([none.statusCode, none.json().code]).toEqual([400, 'MATERIAL_EMPTY']);
    });

    it('guidance says the archived material will be reused', async () => {
      const res = await stack.app.inject({ method: 'POST', url: '/v1/matters/grain-purchase-filing/guide', headers: { authorization: `Bearer ${fenghe}` }, payload: { answers: { filingType: '首次', storageSource: '租赁' } } });
      const m5 = res.json<{ materials: Array<Record<string, unknown>> }>().materials.find((m) => m.id === 'M5');
      expect(m5).toMatchObject({ how: '材料复用', status: 'reused', exempt: true, archiveId: archived.id, validUntil: '2030-12-31' });
      expect(String(m5!.note)).toContain('复用');
    });

    it('a returning enterprise uploads nothing it uploaded before: first use counts as uploaded, the next as reused', async () => {
      const first = await fileAndWait(fenghe, leased('210111'));
      expect(first.status).toBe('approved');
      expect((await materialsOf(first.id)).find((m) => m.material === 'M5')).toEqual({ material: 'M5', category: 'uploaded', archive_id: archived.id });
      const change = await fileAndWait(fenghe, leased('210111', '变更'));
      expect(change.status).toBe('approved');
      expect((await materialsOf(change.id)).find((m) => m.material === 'M5')).toEqual({ material: 'M5', category: 'reused', archive_id: archived.id });
      const row = await stack.deps.store.applications.get(change.id);
      expect(row!.receipt!.materials!.find((m) => m.id === 'M5')).toMatchObject({ status: 'reused', archiveId: archived.id, sha256: archived.sha256 });

      // The sealed form names the reused material and prints no lease commitment (none was made).
      const form = await get(`/v1/applications/${change.id}/form`, fenghe);
      const tmp = tempDir('once-only-');
      try {
        const text = (await pdfText(writeTemp(tmp.dir, 'form.pdf', form.rawPayload))).replace(/\s+/g, '');
        expect(text).toContain('材料复用（仓储设施租赁合同）');
        expect(text).not.toContain(LEASE_COMMITMENT);
      } finally {
        tmp.cleanup();
      }
    });

    it('an expired archive item is not reused: the matter’s 告知承诺 is recorded and printed instead', async () => {
      await stack.deps.store.archive.put({
        id: stack.deps.newId(),
        subject: OTHER_USCC,
        matter: 'grain-purchase-filing',
        material: 'M5',
        name: '仓储设施租赁合同',
        mediaType: 'application/pdf',
        sha256: 'f'.repeat(64),
        fileName: null,
        validUntil: '2020-12-31',
        uploadedAt: '2020-01-01T00:00:00.000Z',
        bytes: new Uint8Array(PDF),
      });
      // OTHER_USCC also holds the PNG uploaded above for M5 (no end date): remove its effect by filing as a third enterprise instead.
      const guide = await stack.app.inject({ method: 'POST', url: '/v1/matters/grain-purchase-filing/guide', headers: { authorization: `Bearer ${other}` }, payload: { answers: { filingType: '首次', storageSource: '租赁' } } });
      const m5 = guide.json<{ materials: Array<Record<string, unknown>> }>().materials.find((m) => m.id === 'M5');
      expect(m5!.archiveId).not.toBeUndefined();
      expect(m5!.validUntil).toBeNull(); // the valid PNG, never the expired PDF

      const third = await stack.token('91210104MA0R3C4D20');
      await stack.deps.store.archive.put({
        id: stack.deps.newId(),
        subject: '91210104MA0R3C4D20',
        matter: 'grain-purchase-filing',
        material: 'M5',
        name: '仓储设施租赁合同',
        mediaType: 'application/pdf',
        sha256: 'e'.repeat(64),
        fileName: null,
        validUntil: '2020-12-31',
        uploadedAt: '2020-01-01T00:00:00.000Z',
        bytes: new Uint8Array(PDF),
      });
      const g3 = await stack.app.inject({ method: 'POST', url: '/v1/matters/grain-purchase-filing/guide', headers: { authorization: `Bearer ${third}` }, payload: { answers: { filingType: '首次', storageSource: '租赁' } } });
      expect(g3.json<{ materials: Array<Record<string, unknown>> }>().materials.find((m) => m.id === 'M5')).toMatchObject({ status: 'commitment', how: '告知承诺' });
      const d = await fileAndWait(third, leased('210112', '首次', { responsiblePerson: { name: '陈刚', idNumber: '210104197805120010' } }));
      expect(d.status).toBe('rejected'); // 吊销: the commitment is still recorded with the filing
      expect((await materialsOf(d.id)).find((m) => m.material === 'M5')).toEqual({ material: 'M5', category: 'committed', archive_id: null });
      const form = await get(`/v1/applications/${d.id}/form`, third);
      const tmp = tempDir('once-only-');
      try {
        expect((await pdfText(writeTemp(tmp.dir, 'form.pdf', form.rawPayload))).replace(/\s+/g, '')).toContain(LEASE_COMMITMENT);
      } finally {
        tmp.cleanup();
      }
    });

    it('lists the archive: uploaded materials and the certificates issued to the applicant', async () => {
      const res = await get('/v1/me/archive', fenghe);
      expect(res.statusCode).toBe(200);
      const body = res.json<{ materials: Array<{ id: string }>; certificates: Array<{ number: string; matter: string }> }>();
      expect(body.materials.map((m) => m.id)).toEqual([archived.id]);
      expect(body.certificates.length).toBeGreaterThanOrEqual(4);
      expect(body.certificates.every((c) => c.matter === 'grain-purchase-filing' && /^沈粮收备/.test(c.number))).toBe(true);
    });
  });

  describe('receipt provenance', () => {
    it('names source, key, fetched-at and response hash for every pre-filled field', async () => {
      const [row] = await queryRows<{ id: string }>(stack, "select id from applications where applicant = ? and status = 'approved' order by created_at limit 1", [HAPPY_USCC]);
      const receipt = (await stack.deps.store.applications.get(row!.id))!.receipt!;
      const fields = receipt.provenance!.map((p) => p.field).sort();
      expect(fields).toEqual(['address', 'businessScope', 'enterpriseName', 'entityStatus', 'entityType', 'legalRepresentative']);
      const entityRead = receipt.sources.find((s) => s.source === 'market-entity')!;
      for (const p of receipt.provenance!) expect(p).toEqual({ field: p.field, source: 'market-entity', key: HAPPY_USCC, fetchedAt: entityRead.fetchedAt, responseHash: entityRead.responseHash, cached: false });
    });
  });

  describe('supervision figures', () => {
    it('/v1/stats equals counts computed from the database', async () => {
      const supervisor = await stack.token('SUPERVISOR-1', 'supervisor', { dept: '11210100MB0E56787K' });
      const res = await get('/v1/stats', supervisor);
      expect(res.statusCode).toBe(200);
      const grain = res.json<{ matters: Array<Record<string, any>> }>().matters.find((m) => m.matter === 'grain-purchase-filing')!;

      const apps = await queryRows<{ id: string; status: string; created_at: string; decided_at: string | null; decision: string | null }>(
        stack,
        "select id, status, created_at, decided_at, decision from applications where matter = 'grain-purchase-filing'",
      );
      const decided = apps.filter((a) => ['approved', 'rejected', 'manual_review'].includes(a.status));
      const count = (s: string) => apps.filter((a) => a.status === s).length;
      expect(grain.filings).toBe(apps.length);
      expect(grain.outcomes).toEqual({ approved: count('approved'), rejected: count('rejected'), manualReview: count('manual_review'), failed: count('failed'), inProgress: count('queued') + count('processing') });
      expect(grain.autoApprovalRate).toBeCloseTo(count('approved') / decided.length, 10);
      const ms = decided.map((a) => Date.parse(a.decided_at!) - Date.parse(a.created_at)).sort((a, b) => a - b);
      const nearest = (p: number) => ms[Math.ceil(p * ms.length) - 1];
      expect(grain.timeToDecisionMs).toEqual({ count: ms.length, median: nearest(0.5), p95: nearest(0.95) });

      const cats = await queryRows<{ category: string; n: number | string }>(stack, "select category, count(*) as n from application_materials where matter = 'grain-purchase-filing' group by category");
      const cat = (c: string) => Number(cats.find((x) => x.category === c)?.n ?? 0);
      expect(grain.materials).toEqual({ exempted: cat('exempted'), reused: cat('reused'), uploaded: cat('uploaded'), committed: cat('committed'), generated: cat('generated'), missing: cat('missing') });
      expect(grain.materials.reused).toBeGreaterThanOrEqual(1);
      expect(grain.materials.uploaded).toBeGreaterThanOrEqual(1);

      // Pre-filled fields: one per provenance entry of each receipt; typed: the matter's form fields, per decided filing.
      let prefilled = 0;
      for (const a of decided) prefilled += ((await stack.deps.store.applications.get(a.id))!.receipt!.provenance ?? []).length;
      const typedPerFiling = stack.deps.catalog.get('grain-purchase-filing')!.def.fields.filter((f) => f.from?.startsWith('form.')).length;
      expect(grain.fields).toEqual({ prefilled, typed: typedPerFiling * decided.length });

      const fallout = new Map<string, number>();
      for (const a of decided.filter((x) => x.status !== 'approved')) {
        for (const rule of new Set((JSON.parse(a.decision!) as { reasons: Array<{ rule: string }> }).reasons.map((r) => r.rule))) fallout.set(rule, (fallout.get(rule) ?? 0) + 1);
      }
      const expected = [...fallout].map(([rule, n]) => ({ rule, count: n })).sort((x, y) => y.count - x.count || (x.rule < y.rule ? -1 : 1)).slice(0, 5);
      expect(grain.topFalloutReasons).toEqual(expected);
      expect(grain.topFalloutReasons.map((r: { rule: string }) => r.rule)).toContain('consent-missing');
    });

    it('shows an admin its own department’s matters only, and refuses applicants', async () => {
      const grainAdmin = await stack.token('ADMIN-GRAIN', 'admin', { dept: GRAIN_DEPT });
      const mine = (await get('/v1/stats', grainAdmin)).json<{ matters: Array<{ matter: string }> }>();
      expect(mine.matters.map((m) => m.matter)).toEqual(['grain-purchase-filing']);
      const parkingAdmin = await stack.token('ADMIN-PARKING', 'admin', { dept: PARKING_DEPT });
      expect((await get('/v1/stats?matter=grain-purchase-filing', parkingAdmin)).statusCode).toBe(404);
      expect((await get('/v1/stats', fenghe)).statusCode).toBe(403);
    });

    it('exposes the same figures to Prometheus', async () => {
      const supervisor = await stack.token('SUPERVISOR-1', 'supervisor');
      const grain = (await get('/v1/stats?matter=grain-purchase-filing', supervisor)).json<{ matters: Array<Record<string, any>> }>().matters[0]!;
      const text = (await stack.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${await stack.token('ops-1', 'ops')}` } })).body;
      expect(text).toContain(`miaopi_matter_filings{matter="grain-purchase-filing"} ${grain.filings}`);
      expect(text).toContain(`miaopi_matter_outcomes{matter="grain-purchase-filing",outcome="approved"} ${grain.outcomes.approved}`);
      expect(text).toContain(`miaopi_matter_materials{matter="grain-purchase-filing",how="reused"} ${grain.materials.reused}`);
      expect(text).toContain(`miaopi_matter_fields{matter="grain-purchase-filing",kind="prefilled"} ${grain.fields.prefilled}`);
      expect(text).toMatch(/miaopi_matter_decision_seconds\{matter="grain-purchase-filing",quantile="0.95"\} [0-9.]+/);
      expect(text).toMatch(/miaopi_datasource_breaker_open\{source="market-entity"\} 0/);
    });
  });
});
