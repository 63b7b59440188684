/**
 * json-rules-engine keeps a run status on the Engine object: a run that finishes while another is still pending
 * marks the engine FINISHED and the other run silently skips its rules. With shared engines that turned an
 * approvable filing into a FAIL (REJECT) under concurrency. Every concurrent evaluation must decide alone.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/load-catalog.js';
import { createDataSources, loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { runMatterTest } from '../../../src/pipeline/run-matter-tests.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const registry = loadSourceRegistry(RULES_DIR);
const catalog = loadCatalog(RULES_DIR, new Set(registry.map((s) => s.id)));
const sources = createDataSources({ registry, urls: {}, rulesDir: RULES_DIR });

describe('rule evaluation under concurrency', () => {
  it.each([...catalog.matters.keys()])('%s: 200 concurrent evaluations of its test cases each give the expected decision', async (code) => {
    const m = catalog.get(code)!;
    const cases = Array.from({ length: 200 }, (_, i) => i % m.def.tests.length);
    const results = await Promise.all(cases.map((i) => runMatterTest(m, m.def.tests[i]!, i, sources)));
    const wrong = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.problems.join('; ')}`);
    expect(wrong).toEqual([]);
  });
});
