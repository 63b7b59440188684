/**
 * Rules as code: every matter's `tests:` cases run through the decision steps against the demo data (fixture
 * sources), every rule has a passing and a failing case, and the five reference matters have the shape
 * REFERENCE.md §3 gives them.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/load-catalog.js';
import { createDataSources, loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { ruleCoverage, runMatterTests } from '../../../src/pipeline/run-matter-tests.js';
import { planMaterials } from '../../../src/pipeline/resolve-materials.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const registry = loadSourceRegistry(RULES_DIR);
const catalog = loadCatalog(RULES_DIR, new Set(registry.map((s) => s.id)));
const sources = createDataSources({ registry, urls: {}, rulesDir: RULES_DIR });
const matter = (code: string) => catalog.get(code)!;

describe('the five reference matters', () => {
  it('all load, each from its department of DESIGN.md §5', () => {
    const depts = Object.fromEntries([...catalog.matters.values()].map((m) => [m.def.code, m.def.department.code]));
    expect(depts).toMatchObject({
      'grain-purchase-filing': '11210100MB0E12346R',
      'public-parking-filing': '11210100MB0E23459Q',
      'commercial-housing-presale': '11210100MB0E34561M',
      'public-rental-housing': '11210100MB0E34561M',
      'disability-certificate': '11210100MB0E45674L',
    });
  });

  it('issue certificates whose 证照类型代码 is the department code plus a type number, one series per matter', () => {
    const certs = [...catalog.matters.values()].map((m) => m.def.output.certificate);
    for (const m of catalog.matters.values()) expect(m.def.output.certificate.licenseTypeCode.slice(0, 18)).toBe(m.def.department.code);
    expect(new Set(certs.map((c) => c.licenseTypeCode)).size).toBe(catalog.matters.size);
    expect(new Set(certs.map((c) => c.numberPrefix)).size).toBe(catalog.matters.size);
  });

  it('parking: 10 situations, 10 materials with 3–6 per situation, 17 fields from 6 data sources', () => {
    const d = matter('public-parking-filing').def;
    expect(d.situations).toHaveLength(10);
    expect(d.materials).toHaveLength(10);
    for (const s of d.situations) {
      const n = planMaterials(d, s.id).length;
      expect(n, s.id).toBeGreaterThanOrEqual(3);
      expect(n, s.id).toBeLessThanOrEqual(6);
    }
    expect(d.fields).toHaveLength(17);
    expect(new Set(d.lookups.map((l) => l.source))).toEqual(new Set(['market-entity', 'population', 'e-license', 'real-estate', 'construction-project', 'special-equipment']));
  });

  it('presale: 10 standard materials (+ the mortgagee’s consent only when mortgaged), government-issued ones exempt, never auto-approved', () => {
    const d = matter('commercial-housing-presale').def;
    expect(d.autoApprove).toBe(false);
    expect(d.materials.filter((m) => !m.situations)).toHaveLength(10);
    expect(d.rules.every((r) => r.onFail === 'MANUAL')).toBe(true);
    const plan = planMaterials(d, 'S1');
    for (const m of plan.filter((p) => p.type === '政府核发')) expect(m.exempt, m.name).toBe(true);
    expect(d.tests.every((t) => t.expect.outcome === 'MANUAL')).toBe(true);
  });

  it('public rental housing keeps its thresholds in config and the subsidy as an internal follow-up', () => {
    const d = matter('public-rental-housing').def;
    expect(Object.keys(d.config ?? {})).toEqual(expect.arrayContaining(['perCapitaIncomeLimit', 'perCapitaAreaLimit']));
    expect(JSON.stringify(d.rules)).not.toMatch(/"value":(3000|15)\b/);
    expect(d.followUps?.map((f) => f.id)).toContain('rental-subsidy');
  });

  it('disability: the assessment is a 业务协同 data source whose absence is MANUAL, never REJECT', () => {
    const d = matter('disability-certificate').def;
    expect(d.lookups.find((l) => l.id === 'assessment')?.source).toBe('disability-assessment');
    expect(d.rules.filter((r) => r.requires?.includes('assessment')).every((r) => r.onFail === 'MANUAL')).toBe(true);
    expect(d.materials.find((m) => m.id === 'M7')?.acquisition).toEqual(['业务协同']);
  });
});

describe.each([...catalog.matters.keys()])('rules as code: %s', (code) => {
  const m = matter(code);
  const run = runMatterTests(m, sources);

  it.each(m.def.tests.map((t, i) => [t.name, i] as const))('%s', async (_name, i) => {
    const r = (await run)[i]!;
    expect(r.problems).toEqual([]);
    expect(r.outcome).toBe(m.def.tests[i]!.expect.outcome);
  });

  it('has, for every rule, a case that passes it and one that fails it', async () => {
    const missing = ruleCoverage(m, await run).filter((c) => c.pass === 0 || c.fail === 0);
    expect(missing).toEqual([]);
  });
});
