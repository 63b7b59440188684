/**
 * The reviewer's view of a filing's materials (issue 18) on the real stack, SQLite and PostgreSQL: an enterprise
 * uploads its lease contract to its archive and files; the filing goes to manual review. An admin of the grain
 * department sees every material of the filing — 免交 from shared data, 复用 from the archive with the file's name,
 * size and sha256, 告知承诺, 系统生成 — and opens the file, byte for byte, as an attachment of its own type. Another
 * department's admin finds nothing (404, the answer for a filing that does not exist); applicants are refused by role.
 */
import { createHash, randomUUID } from 'node:crypto';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const DISHONEST_USCC = '91210106MA0U7G8H65';
const GRAIN_DEPT = '11210100MB0E12346R';
const PARKING_DEPT = '11210100MB0E23459Q';
const FILE_NAME = '租赁合同(2024)\'s copy.pdf';

interface MaterialView {
  material: string;
  name: string;
  how: string;
  status: string;
  category: string;
  exempt: boolean;
  commitment: string | null;
  file: { archiveId: string; fileName: string | null; mediaType: string; size: number; sha256: string; href: string } | null;
}

async function leaseContract(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.setCreationDate(new Date('2024-03-01T00:00:00Z'));
  doc.addPage([595, 842]).drawText('Lease contract, warehouse No. 2', { x: 72, y: 760, size: 14 });
  return Buffer.from(await doc.save());
}

describe.each(['sqlite', 'postgres'] as const)('reviewer view of a filing’s materials (%s)', (backend) => {
  let stack: Stack;
  let applicant: string;
  let grainAdmin: string;
  let parkingAdmin: string;
  let pdf: Buffer;
  let id: string;

  const get = (url: string, token: string | null) => stack.app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    stack = await startStack({ backend });
    applicant = await stack.token(DISHONEST_USCC);
    grainAdmin = await stack.token('GRAIN-REVIEWER', 'admin', { dept: GRAIN_DEPT });
    parkingAdmin = await stack.token('PARKING-REVIEWER', 'admin', { dept: PARKING_DEPT });
    pdf = await leaseContract();
    const up = await stack.app.inject({
      method: 'POST',
      url: `/v1/materials?matter=grain-purchase-filing&material=M5&validUntil=2030-12-31&fileName=${encodeURIComponent(FILE_NAME)}`,
      headers: { authorization: `Bearer ${applicant}`, 'content-type': 'application/pdf' },
      payload: pdf,
    });
    expect(up.statusCode, up.body).toBe(201);
    const filed = await submit(
      stack,
      applicant,
      grainFiling({
        answers: { storageSource: '租赁' },
        form: { storageFacilities: [{ address: '沈阳市于洪区租赁仓库', capacityTonnes: 2000, ownership: '租赁', leaseEndsOn: '2030-12-31' }] },
      }),
    );
    expect(filed.statusCode, filed.body).toBe(202);
    id = filed.json<{ id: string }>().id;
    expect((await waitForDecision(stack, id, applicant, 30_000)).status).toBe('manual_review');
  }, 90_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('shows the department’s reviewer every material of the filing: 免交, 复用 with its file, 承诺, 系统生成', async () => {
    const res = await get(`/v1/admin/applications/${id}/materials`, grainAdmin);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ application: { id: string; matter: string; status: string }; materials: MaterialView[] }>();
    expect(body.application).toMatchObject({ id, matter: 'grain-purchase-filing', status: 'manual_review' });
    // The matter's order, the leased situation's materials (M4, the own warehouse's deed, is not one of them).
    expect(body.materials.map((m) => m.material)).toEqual(['M1', 'M2', 'M3', 'M5', 'M6']);
    const by = Object.fromEntries(body.materials.map((m) => [m.material, m]));
    expect(by['M1']).toMatchObject({ how: '系统生成', category: 'generated', exempt: false, file: null });
    expect(by['M2']).toMatchObject({ name: '营业执照', category: 'exempted', exempt: true, file: null });
    expect(by['M3']).toMatchObject({ how: '数据核验', status: 'verified', category: 'exempted', exempt: true, file: null });
    expect(by['M6']).toMatchObject({ how: '告知承诺', category: 'committed', exempt: false, file: null });
    expect(by['M6']!.commitment).toContain('本企业承诺所填报备案信息真实');
    const sha256 = createHash('sha256').update(pdf).digest('hex');
    expect(by['M5']).toMatchObject({
      name: '仓储设施租赁合同',
      how: '材料复用',
      status: 'reused',
      exempt: true,
      file: { fileName: FILE_NAME, mediaType: 'application/pdf', size: pdf.length, sha256, href: `/v1/admin/applications/${id}/materials/M5` },
    });
    // The same file the decision receipt names.
    const row = await stack.deps.store.applications.get(id);
    expect(row!.receipt!.materials!.find((m) => m.id === 'M5')).toMatchObject({ archiveId: by['M5']!.file!.archiveId, sha256 });
  });

  it('opens the file as it was uploaded: its content type, an attachment with the applicant’s file name, its sha256', async () => {
    const res = await get(`/v1/admin/applications/${id}/materials/M5`, grainAdmin);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.rawPayload.equals(pdf)).toBe(true);
    expect(res.headers['x-content-sha256']).toBe(createHash('sha256').update(pdf).digest('hex'));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const disposition = String(res.headers['content-disposition']);
    expect(disposition).toBe(`attachment; filename="M5-${id}.pdf"; filename*=UTF-8''${encodeURIComponent(FILE_NAME).replace(/['()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`);
    expect(decodeURIComponent(disposition.split("filename*=UTF-8''")[1]!)).toBe(FILE_NAME);
  });

  it('answers MATERIAL_NOT_FOUND for a material without a file, and for one the filing does not have', async () => {
    for (const material of ['M2', 'M6', 'M4', 'M99']) {
      const res = await get(`/v1/admin/applications/${id}/materials/${material}`, grainAdmin);
      expect([res.statusCode, res.json<{ code: string }>().code], material).toEqual([404, 'MATERIAL_NOT_FOUND']);
    }
    const bad = await get(`/v1/admin/applications/${id}/materials/${encodeURIComponent('../M5')}`, grainAdmin);
    expect(bad.statusCode).toBe(400);
  });

  it('keeps the filing from another department’s admin exactly as if it did not exist', async () => {
    for (const suffix of ['', '/M5']) {
      const other = await get(`/v1/admin/applications/${id}/materials${suffix}`, parkingAdmin);
      const missing = await get(`/v1/admin/applications/${randomUUID()}/materials${suffix}`, parkingAdmin);
      expect([other.statusCode, other.json<{ code: string }>().code], suffix).toEqual([404, 'APPLICATION_NOT_FOUND']);
      expect([missing.statusCode, missing.json<{ code: string }>().code], suffix).toEqual([404, 'APPLICATION_NOT_FOUND']);
      expect(other.body).not.toContain('租赁');
    }
  });

  it('refuses applicants by role, the filing’s own applicant included, and anonymous callers', async () => {
    for (const suffix of ['', '/M5']) {
      const own = await get(`/v1/admin/applications/${id}/materials${suffix}`, applicant);
      expect([own.statusCode, own.json<{ code: string }>().code], suffix).toEqual([403, 'AUTH_ROLE_FORBIDDEN']);
      expect(own.body).not.toContain(FILE_NAME);
      const anonymous = await get(`/v1/admin/applications/${id}/materials${suffix}`, null);
      expect([anonymous.statusCode, anonymous.json<{ code: string }>().code], suffix).toEqual([401, 'AUTH_TOKEN_MISSING']);
    }
  });
});
