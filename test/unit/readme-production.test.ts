/** The README's "Going to production" table names every data source the registry has (a new source must be documented). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSourceRegistry } from '../../src/data-sources/registry.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('README "Going to production"', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Going to production'), readme.indexOf('\n## ', readme.indexOf('## Going to production') + 5));
  it('exists and lists every data source of rules/data-sources.yaml', () => {
    expect(section.length).toBeGreaterThan(500);
    const ids = loadSourceRegistry(path.join(ROOT, 'rules')).map((s) => s.id.toUpperCase().replace(/-/g, '_'));
    expect(ids.length).toBeGreaterThan(10);
    const missing = ids.filter((id) => !new RegExp(`\\b${id}\\b`).test(section));
    expect(missing).toEqual([]);
  });
  it('names every variable the production check refuses on', () => {
    const check = readFileSync(path.join(ROOT, 'src/production-check.ts'), 'utf8') + readFileSync(path.join(ROOT, 'src/federation/production.ts'), 'utf8');
    const named = new Set([...check.matchAll(/\b((?:AUTH|SEAL|ESEAL|TRUST|SIGNATURE|FEDERATION|COURIER|WEBHOOK|AUDIT|METRICS)_[A-Z_]+)\b/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(5);
    expect([...named].filter((v) => !section.includes(v))).toEqual([]);
  });
});
