import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogError, loadCatalog } from '../../../src/catalog/load-catalog.js';
import { loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const sourceIds = new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id));
const dirs: string[] = [];
function copyRules(): { rules: string; snapshot: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'snap-'));
  dirs.push(dir);
  cpSync(RULES_DIR, path.join(dir, 'rules'), { recursive: true });
  return { rules: path.join(dir, 'rules'), snapshot: path.join(dir, 'data', 'catalog-snapshot.json') };
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('catalog snapshot', () => {
  it('loads the same matters and versions from the snapshot as from the files', () => {
    const { rules, snapshot } = copyRules();
    const cold = loadCatalog(rules, sourceIds, { snapshotFile: snapshot });
    const warm = loadCatalog(rules, sourceIds, { snapshotFile: snapshot });
    expect([...warm.matters.keys()].sort()).toEqual([...cold.matters.keys()].sort());
    for (const [code, m] of cold.matters) {
      expect(warm.get(code)!.version).toBe(m.version);
      expect(warm.get(code)!.def).toEqual(m.def);
    }
  });

  it('compiles a snapshot matter’s form validator on first use, and it validates like the original', () => {
    const { rules, snapshot } = copyRules();
    loadCatalog(rules, sourceIds, { snapshotFile: snapshot });
    const grain = loadCatalog(rules, sourceIds, { snapshotFile: snapshot }).get('grain-purchase-filing')!;
    expect(grain.validateForm({ contactPhone: 'x' })).toBe(false);
    const form = grain.def.tests[0]!.form;
    expect(grain.validateForm(form)).toBe(true);
  });

  it('re-checks a file that changed after the snapshot and refuses it when it became invalid', () => {
    const { rules, snapshot } = copyRules();
    loadCatalog(rules, sourceIds, { snapshotFile: snapshot });
    const file = path.join(rules, 'matters', 'grain-purchase-filing.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('operator: regionWithin', 'operator: regionInside'));
    expect(() => loadCatalog(rules, sourceIds, { snapshotFile: snapshot })).toThrow(CatalogError);
    expect(readFileSync(snapshot, 'utf8')).not.toContain('regionInside');
  });

  it('ignores a snapshot written for another data-source registry', () => {
    const { rules, snapshot } = copyRules();
    loadCatalog(rules, sourceIds, { snapshotFile: snapshot });
    const fewer = new Set([...sourceIds].filter((s) => s !== 'credit'));
    expect(() => loadCatalog(rules, fewer, { snapshotFile: snapshot })).toThrow(/unknown data source "credit"/);
  });
});
