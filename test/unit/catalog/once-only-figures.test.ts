/**
 * The catalog's once-only figures (issue 19): the reference matters reach the seed's 16 of 17 fields and the
 * parking matter's at most 3 typed; the counting rules themselves (acquisition order, 零材料, origins) on small
 * matters built here; and `npm run rules -- stats` prints the same numbers beside the seed's.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/load-catalog.js';
import { cityWideFigures, fieldOrigin, materialAcquisition, onceOnlyFigures, percent } from '../../../src/catalog/once-only-figures.js';
import type { MatterDef } from '../../../src/catalog/types.js';
import { displayWidth } from '../../../src/cli/stats-table.js';
import { createDataSources, loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { fetchLookups } from '../../../src/pipeline/fetch-lookups.js';
import { planMaterials } from '../../../src/pipeline/resolve-materials.js';
import { RULES_DIR } from '../../support/datasource-server.js';
import { REPO_ROOT } from '../../support/stack.js';

const registry = loadSourceRegistry(RULES_DIR);
const catalog = loadCatalog(RULES_DIR, new Set(registry.map((s) => s.id)));
const def = (code: string) => catalog.get(code)!.def;

describe('the reference matters against the seed', () => {
  it('商品房预售许可: 16 of 17 fields 免填 (项目代码 among them), only the phone typed', () => {
    const f = onceOnlyFigures(def('commercial-housing-presale'));
    expect(f.fields).toMatchObject({ total: 17, prefilled: 16, typed: 1, typedFields: ['contactPhone'] });
    expect(f.fields.byOrigin['data-source']).toBe(16);
    expect(def('commercial-housing-presale').fields.find((x) => x.id === 'projectCode')?.prefill?.lookup).toBe('project');
  });

  it('商品房预售许可: at least 4 government-issued materials 免交, and the demo developer submits none of them', async () => {
    const d = def('commercial-housing-presale');
    const f = onceOnlyFigures(d);
    const exempt = f.materials.byAcquisition['证照共享'] + f.materials.byAcquisition['数据核验'] + f.materials.byAcquisition['业务协同'];
    expect(exempt).toBeGreaterThanOrEqual(4);
    expect(d.materials.filter((m) => m.type === '政府核发' && ['证照共享', '数据核验'].includes(materialAcquisition(d, m))).map((m) => m.name)).toContain('建筑工程施工许可证');
    // With the demo data, every material of 首次申请 (S1) is verified from a source or generated: nothing to upload.
    const sources = createDataSources({ registry, urls: {}, rulesDir: RULES_DIR });
    const base = { applicant: { code: '91210112MA0P3H5JX0', kind: 'organisation' }, answers: { phase: '首次申请', mortgage: '否' }, form: { contactPhone: '02431880000' } };
    const reads = await fetchLookups(catalog.get(d.code)!, base, sources, { requester: base.applicant.code, applicationId: null, purpose: 'test' });
    const plan = planMaterials(d, 'S1', { lookups: reads.top });
    expect(plan.filter((p) => p.status === 'verified').length).toBeGreaterThanOrEqual(4);
    expect(plan.map((p) => p.status).sort()).toEqual([...Array(9).fill('verified'), 'generated', 'generated'].sort());
  });

  it('经营性公共停车场备案: at most 3 fields typed, the rest from the six sources', () => {
    const f = onceOnlyFigures(def('public-parking-filing'));
    expect(f.fields.typed).toBeLessThanOrEqual(3);
    expect(f.fields.typedFields).toEqual(['contactPhone', 'realEstateCertNo']);
    expect(f.fields.total).toBe(17);
    expect(new Set(def('public-parking-filing').lookups.map((l) => l.source)).size).toBe(6);
  });

  it('city-wide figures are the sums of the matters’ figures', () => {
    const all = [...catalog.matters.values()].map((m) => onceOnlyFigures(m.def));
    const city = cityWideFigures(all);
    expect(city.matters).toBe(all.length);
    expect(city.materials.total).toBe(all.reduce((n, f) => n + f.materials.total, 0));
    expect(city.materials.onceOnly).toBe(all.reduce((n, f) => n + f.materials.onceOnly, 0));
    expect(city.fields.prefilled + city.fields.typed).toBe(city.fields.total);
    expect(Object.values(city.materials.byAcquisition).reduce((a, b) => a + b, 0)).toBe(city.materials.total);
    expect(city.zeroMaterialMatters).toBe(all.filter((f) => f.zeroMaterial).length);
  });
});

describe('counting rules', () => {
  const tiny = (over: Partial<MatterDef>): MatterDef =>
    ({
      code: 'tiny',
      name: '测试事项',
      lookups: [
        { id: 'lic', source: 'e-license', key: 'applicant.code' },
        { id: 'ent', source: 'market-entity', key: 'applicant.code' },
      ],
      situations: [
        { id: 'A', name: 'A', when: {} },
        { id: 'B', name: 'B', when: {} },
      ],
      materials: [],
      fields: [],
      ...over,
    }) as unknown as MatterDef;

  it('counts a material under the first acquisition that can apply', () => {
    const d = tiny({});
    expect(materialAcquisition(d, { id: 'M', name: 'm', type: '政府核发', acquisition: ['证照共享', '数据核验'], lookup: 'lic' })).toBe('证照共享');
    // 证照共享 needs the 电子证照库; from another source the material is verified instead.
    expect(materialAcquisition(d, { id: 'M', name: 'm', type: '政府核发', acquisition: ['证照共享', '数据核验'], lookup: 'ent' })).toBe('数据核验');
    expect(materialAcquisition(d, { id: 'M', name: 'm', type: '申请人自备', acquisition: ['材料复用', 'upload'] })).toBe('材料复用');
    expect(materialAcquisition(d, { id: 'M', name: 'm', type: '申请人自备', acquisition: ['upload'] })).toBe('upload');
  });

  it('is 零材料 only when no situation asks for a file, a first-time 材料复用 included', () => {
    const generated = { id: 'M1', name: '表', type: '申请人自备' as const, acquisition: ['系统生成' as const] };
    const reuse = { id: 'M2', name: '合同', type: '申请人自备' as const, acquisition: ['材料复用' as const, 'upload' as const], situations: ['B'] };
    const zero = onceOnlyFigures(tiny({ materials: [generated] }));
    expect(zero).toMatchObject({ zeroMaterial: true, situations: { total: 2, zeroMaterial: 2 }, materials: { total: 1, onceOnly: 1 } });
    const partly = onceOnlyFigures(tiny({ materials: [generated, reuse] }));
    expect(partly).toMatchObject({ zeroMaterial: false, situations: { total: 2, zeroMaterial: 1 }, materials: { total: 2, onceOnly: 2 } });
  });

  it('tells a field’s origin: a source, the signed-in identity, a guide answer, or typed', () => {
    const d = tiny({});
    expect(fieldOrigin(d, { id: 'a', label: 'a', prefill: { lookup: 'ent', path: 'record.name' } })).toBe('data-source');
    expect(fieldOrigin(d, { id: 'b', label: 'b', prefill: { lookup: 'ent', path: 'record.name' }, fallback: 'form.name' })).toBe('data-source');
    expect(fieldOrigin(d, { id: 'c', label: 'c', from: 'applicant.code' })).toBe('identity');
    expect(fieldOrigin(d, { id: 'd', label: 'd', from: 'answers.kind' })).toBe('answer');
    expect(fieldOrigin(d, { id: 'e', label: 'e', from: 'form.phone' })).toBe('typed');
  });

  it('writes shares as the seed does, and measures CJK text for the table', () => {
    expect(percent(2270, 2611)).toBe(87);
    expect(percent(16, 17)).toBe(94);
    expect(percent(1, 0)).toBeNull();
    expect(displayWidth('免填 ab')).toBe(7);
  });
});

describe('npm run rules -- stats', () => {
  const run = promisify(execFile);
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/rules.ts', 'stats', ...args], { cwd: REPO_ROOT, timeout: 60_000 });

  it('prints each matter’s and the city-wide figures beside the seed’s 2270 of 2611 (87 %) and 16 of 17', async () => {
    const { stdout } = await cli();
    const figures = [...catalog.matters.values()].map((m) => onceOnlyFigures(m.def));
    const city = cityWideFigures(figures);
    for (const f of figures) {
      const line = stdout.split('\n').find((l) => l.startsWith(f.name))!;
      expect(line, f.name).toBeDefined();
      expect(line).toContain(`${f.materials.onceOnly}/${f.materials.total} ${percent(f.materials.onceOnly, f.materials.total)}%`);
      expect(line).toContain(`${f.fields.prefilled}/${f.fields.total} ${percent(f.fields.prefilled, f.fields.total)}%`);
    }
    const cityLine = stdout.split('\n').find((l) => l.startsWith('全市 city-wide'))!;
    expect(cityLine).toContain(`${city.materials.onceOnly}/${city.materials.total} ${percent(city.materials.onceOnly, city.materials.total)}%`);
    const seedLine = stdout.split('\n').find((l) => l.startsWith('种子数据 seed'))!;
    expect(seedLine).toContain('2270/2611 87%');
    expect(seedLine).toContain('16/17 94%');
    expect(stdout).toContain('商品房预售许可: 16 of 17 fields 免填 (seed: 16 of 17); typed: contactPhone.');
  });

  it('gives the same figures as JSON', async () => {
    const { stdout } = await cli('--json');
    const out = JSON.parse(stdout) as { matters: unknown[]; cityWide: unknown; seed: { materials: { onceOnly: number } } };
    const figures = [...catalog.matters.values()].map((m) => onceOnlyFigures(m.def)).sort((a, b) => (a.matter < b.matter ? -1 : 1));
    expect(out.matters).toEqual(figures);
    expect(out.cityWide).toEqual(cityWideFigures(figures));
    expect(out.seed.materials.onceOnly).toBe(2270);
  });
});
