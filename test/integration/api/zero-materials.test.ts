/**
 * 零材料 (issue 16) on the real stack, SQLite and PostgreSQL: the catalog marks a matter 零材料 when no situation needs
 * an upload, and GET /v1/stats counts, per matter and city-wide, the filings that needed no upload — checked against
 * counts computed from the database with our own SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../support/db-query.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

describe.each(['sqlite', 'postgres'] as const)('零材料 (%s)', (backend) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ backend });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('marks matters no situation of which needs an upload, and lists the situations that need none', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/matters' });
    const flags = Object.fromEntries(res.json<{ matters: Array<{ code: string; zeroMaterials: boolean }> }>().matters.map((m) => [m.code, m.zeroMaterials]));
    expect(flags).toMatchObject({
      'grain-purchase-filing': true,
      'enterprise-credit-proof': true,
      'social-insurance-proof': true,
      // Upload is the first choice for some material in some situation.
      'public-parking-filing': false,
      'commercial-housing-presale': false,
    });
    const parking = (await stack.app.inject({ method: 'GET', url: '/v1/matters/public-parking-filing' })).json<{ situations: Array<{ id: string }>; zeroMaterialSituations: string[] }>();
    expect(parking.zeroMaterialSituations.length).toBeGreaterThan(0);
    expect(parking.zeroMaterialSituations.length).toBeLessThan(parking.situations.length);
    expect(parking.zeroMaterialSituations).not.toContain('S10');
  });

  it('counts filings that needed no upload, per matter and city-wide, as the database does', async () => {
    const fenghe = await stack.token(HAPPY_USCC);
    const grain = await Promise.all(['210112', '210113'].map((r) => submit(stack, fenghe, grainFiling({ form: { purchaseRegionCode: r } }))));
    // A temporary car park: its 临时用地批准文件 must be uploaded (the matter's own test case, run over the API).
    const tc = stack.deps.catalog.get('public-parking-filing')!.def.tests.find((t) => t.answers['temporary'] === '是')!;
    const parkingToken = await stack.token(tc.applicant);
    const parking = await submit(stack, parkingToken, { matter: 'public-parking-filing', answers: tc.answers, form: tc.form, consent: { dataSharing: true, sealAuthorization: true } });
    expect(parking.statusCode, parking.body).toBe(202);
    for (const r of grain) expect((await waitForDecision(stack, r.json().id, fenghe)).status).toBe('approved');
    expect((await waitForDecision(stack, parking.json().id, parkingToken)).status).toBe('manual_review');

    const supervisor = await stack.token('SUPERVISOR-1', 'supervisor', { dept: '11210100MB0E56787K' });
    const stats = (await stack.app.inject({ method: 'GET', url: '/v1/stats', headers: { authorization: `Bearer ${supervisor}` } })).json<any>();
    const byMatter = Object.fromEntries(stats.matters.map((m: any) => [m.matter, m]));
    // Our own count: decided filings none of whose materials was an upload.
    const rows = await queryRows<{ matter: string; n: number | string }>(
      stack,
      `select f.matter as matter, count(*) as n from application_figures f
        where not exists (select 1 from application_materials m where m.application_id = f.application_id and m.category = 'uploaded')
        group by f.matter`,
    );
    const expected = Object.fromEntries(rows.map((r) => [r.matter, Number(r.n)]));
    expect(expected['grain-purchase-filing']).toBe(2);
    expect(expected['public-parking-filing'] ?? 0).toBe(0);
    for (const m of stats.matters) expect(m.filingsWithoutUploads, m.matter).toBe(expected[m.matter] ?? 0);
    expect(byMatter['grain-purchase-filing']).toMatchObject({ zeroMaterials: true, filings: 2, filingsWithoutUploads: 2 });
    expect(byMatter['public-parking-filing']).toMatchObject({ zeroMaterials: false, filings: 1, filingsWithoutUploads: 0 });

    const decided = stats.matters.reduce((n: number, m: any) => n + m.timeToDecisionMs.count, 0);
    expect(stats.cityWide).toEqual({
      city: '210100',
      matters: stats.matters.length,
      zeroMaterialMatters: stats.matters.filter((m: any) => m.zeroMaterials).length,
      filings: 3,
      decidedFilings: decided,
      filingsWithoutUploads: 2,
      withoutUploadsRate: 2 / decided,
    });
    expect(decided).toBe(3);
    const metrics = (await stack.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${await stack.token('ops-1', 'ops')}` } })).body;
    expect(metrics).toContain('miaopi_matter_filings_without_uploads{matter="grain-purchase-filing"} 2');
  });
});
