import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CatalogError, checkMatter, createFormAjv, loadCatalog } from '../../../src/catalog/load-catalog.js';
import { loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const sourceIds = new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id));
const grainText = readFileSync(path.join(RULES_DIR, 'matters', 'grain-purchase-filing.yaml'), 'utf8');
const schemaValidator = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(path.join(RULES_DIR, 'schema', 'matter.schema.json'), 'utf8')) as object,
);
const check = (text: string) => checkMatter(text, 'rules/matters/broken.yaml', { sourceIds, schemaValidator, formAjv: createFormAjv() });

describe('catalog loader', () => {
  it('loads the grain matter with a content-hash version', () => {
    const catalog = loadCatalog(RULES_DIR, sourceIds);
    const grain = catalog.get('grain-purchase-filing')!;
    expect(grain.def.department.code).toBe('11210100MB0E12346R');
    expect(grain.version).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same version when only comments or key order change', () => {
    const a = check(grainText).matter!.version;
    const b = check(`# another comment\n${grainText}`).matter!.version;
    expect(b).toBe(a);
    const c = check(grainText.replace('message: 企业登记状态不是存续', 'message: 企业登记状态并非存续')).matter!.version;
    expect(c).not.toBe(a);
  });

  it.each([
    ['an unknown top-level property', grainText.replace('autoApprove: true', 'autoApprove: true\nautoApporve: false'), '/: must NOT have additional properties "autoApporve"'],
    ['a wrong type', grainText.replace('autoApprove: true', 'autoApprove: yes please'), '/autoApprove: must be boolean'],
    ['an unknown operator', grainText.replace('operator: regionWithin', 'operator: regionInside'), 'unknown operator "regionInside"'],
    ['an unknown fact', grainText.replace('{ fact: form, path: purchaseRegionCode', '{ fact: forms, path: purchaseRegionCode'), 'unknown fact "forms"'],
    ['an unknown data source', grainText.replace('source: credit', 'source: credit-bureau'), '/lookups/2/source: unknown data source "credit-bureau"'],
    ['an unknown lookup in requires', grainText.replace('requires: [credit]', 'requires: [credits]'), 'unknown lookup "credits"'],
    ['an unknown situation on a material', grainText.replace('situations: [S2, S3, S4]', 'situations: [S2, S3, S9]'), '/materials/4/situations/2: unknown situation "S9"'],
    ['a situation no answers reach', grainText.replace('when: { filingType: 变更 }', 'when: { filingType: 首次, storageSource: 自有 }'), 'select more than one situation'],
    ['answers no situation covers', grainText.replace("  - id: S4\n    name: 变更备案\n    when: { filingType: 变更 }\n", ''), 'no situation covers the answers filingType=变更'],
    ['an option that does not exist', grainText.replace('when: { filingType: 变更 }', 'when: { filingType: 注销 }'), '"注销" is not an option of filingType'],
    ['a duplicate rule id', grainText.replace('- id: entity-active', '- id: entity-registered'), 'duplicate id "entity-registered"'],
    ['a form schema that does not compile', grainText.replace('format: id-number', 'format: id-numbr'), '/form: form schema does not compile'],
    ['a test case whose form breaks the schema', grainText.replace("contactPhone: '13800000000'", 'contactPhone: 12'), '/tests/0/form'],
    ['invalid YAML', `${grainText}\n  bad: [`, 'YAML'],
    ['a duplicate key', grainText.replace('kind: 行政备案', 'kind: 行政备案\nkind: 行政许可'), 'YAML'],
  ])('rejects %s, naming the file and the path', (_what, text, expected) => {
    const { matter, problems } = check(text);
    expect(matter).toBeUndefined();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.startsWith('rules/matters/broken.yaml: /'))).toBe(true);
    expect(problems.join('\n')).toContain(expected);
  });

  it('refuses a whole catalog folder with a broken file (the service does not start)', () => {
    expect(() => loadCatalog(path.join(RULES_DIR, '..', 'test', 'fixtures', 'no-such-rules'), sourceIds)).toThrow();
    expect(CatalogError.name).toBe('CatalogError');
  });
});
