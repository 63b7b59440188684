/**
 * Catalog benchmark (`npm run bench -- catalog`): load + validate time and RSS of the catalog, and guide /
 * precheck latency, on the 5-matter catalog (rules/) and on a synthetic seed-scale one (2851 matters, 8539
 * situations, 2611 materials, 4772 fields, 7383 data sources; src/cli/generate-catalog.ts). Each catalog is
 * measured in its own child process so that RSS belongs to it alone.
 * Goals (issue 3): load ≤ 2 s and RSS ≤ 300 MB at seed scale; guide latency within 10 % of the small catalog.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalog } from '../src/catalog/load-catalog.js';
import { generateCatalog, SEED_SCALE } from '../src/cli/generate-catalog.js';
import { createDataSources, demoDataFile, loadSourceRegistry } from '../src/data-sources/registry.js';
import { guideMatter, precheckFiling } from '../src/pipeline/guide.js';

const RULES_DIR = fileURLToPath(new URL('../rules/', import.meta.url));
const HERE = fileURLToPath(import.meta.url);

export interface CatalogBenchOptions {
  /** Guide and precheck calls per catalog (default 2000). */
  iterations?: number;
  seed?: number;
  /** Print the table (default true). */
  print?: boolean;
}

interface ChildResult {
  loadMs: number;
  rssMb: number;
  heapMb: number;
  matters: number;
  guideP50Us: number;
  guideP95Us: number;
  precheckP50Us: number;
  precheckP95Us: number;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** Runs inside the child: load, then time guide and precheck for the parking matter, S8, authenticated. */
async function measure(rulesDir: string, iterations: number, snapshotFile: string | null): Promise<ChildResult> {
  const t0 = performance.now();
  const registry = loadSourceRegistry(rulesDir);
  const catalog = loadCatalog(rulesDir, new Set(registry.map((s) => s.id)), { snapshotFile });
  const loadMs = performance.now() - t0;
  const mem = process.memoryUsage();
  const withDemo = registry.filter((s) => existsSync(demoDataFile(rulesDir, s.id)));
  const sources = createDataSources({ registry: withDemo, urls: {}, rulesDir });
  const store = { dataAccess: { record: async () => {}, forApplication: async () => [] }, certificates: { findValid: async () => null } } as never;
  const deps = { sources, sourceNames: new Map(registry.map((s) => [s.id, s.name])), store, clock: () => new Date('2026-11-26T04:00:00Z') };
  const parking = catalog.get('public-parking-filing')!;
  const answers = { temporary: '否', lotForm: '机械式立体', tenure: '自有产权' };
  const form = {
    contactPhone: '13900000001', lotName: '盛京智慧停车楼', lotAddress: '沈阳市沈河区青年大街185号停车楼', lotRegionCode: '210103',
    realEstateCertNo: '辽(2025)沈阳市不动产权第0200001号', spaces: { total: 120, small: 116, large: 4, accessible: 3, charging: 20, mechanical: 80 },
  };
  const time = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < Math.min(200, iterations); i++) await fn();
    const xs: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const t = performance.now();
      await fn();
      xs.push((performance.now() - t) * 1000);
    }
    return xs;
  };
  const guide = await time(() => guideMatter(deps, catalog.get('public-parking-filing')!, { answers, applicant: '91210103MA0W9J1K7P' }));
  const precheck = await time(() => precheckFiling(deps, catalog.get('public-parking-filing')!, { applicant: '91210103MA0W9J1K7P', situation: 'S8', answers, form }));
  if (!parking) throw new Error('parking matter missing');
  return {
    loadMs,
    rssMb: mem.rss / 2 ** 20,
    heapMb: mem.heapUsed / 2 ** 20,
    matters: catalog.matters.size,
    guideP50Us: pct(guide, 50),
    guideP95Us: pct(guide, 95),
    precheckP50Us: pct(precheck, 50),
    precheckP95Us: pct(precheck, 95),
  };
}

function runChild(rulesDir: string, iterations: number, snapshotFile = ''): ChildResult {
  const res = spawnSync(process.execPath, ['--import', 'tsx', HERE, '--child', rulesDir, String(iterations), snapshotFile], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (res.status !== 0) throw new Error(`catalog bench child failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as ChildResult;
}

export async function runCatalogBench(opts: CatalogBenchOptions = {}): Promise<Record<string, number>> {
  const iterations = opts.iterations ?? 2000;
  const dir = mkdtempSync(path.join(tmpdir(), 'catalog-bench-'));
  try {
    const counts = generateCatalog({ outDir: dir, rulesDir: RULES_DIR, scale: SEED_SCALE, seed: opts.seed ?? 1 });
    const small = runChild(RULES_DIR, iterations);
    // Cold: every file parsed and checked (first start, or after a change). Warm: the validated snapshot the cold
    // run wrote (every later start of the service; DATA_DIR/catalog-snapshot.json).
    const snapshot = path.join(dir, 'catalog-snapshot.json');
    const seed = runChild(dir, iterations, snapshot);
    const warm = runChild(dir, iterations, snapshot);
    const out: Record<string, number> = {
      'seed.matters': counts['matters']!, 'seed.situations': counts['situations']!, 'seed.materials': counts['materials']!,
      'seed.fields': counts['fields']!, 'seed.sources': counts['sources']!,
    };
    for (const [name, r] of [['small', small], ['seed', seed], ['seedWarm', warm]] as const) {
      for (const [k, v] of Object.entries(r)) out[`${name}.${k}`] = Math.round(v * 10) / 10;
    }
    out['guideP50.seedVsSmallPct'] = Math.round(((seed.guideP50Us / small.guideP50Us) - 1) * 1000) / 10;
    out['guideP50.seedWarmVsSmallPct'] = Math.round(((warm.guideP50Us / small.guideP50Us) - 1) * 1000) / 10;
    out['precheckP50.seedVsSmallPct'] = Math.round(((seed.precheckP50Us / small.precheckP50Us) - 1) * 1000) / 10;
    if (opts.print !== false) {
      const row = (label: string, r: ChildResult) =>
        `| ${label} | ${r.matters} | ${r.loadMs.toFixed(0)} | ${r.rssMb.toFixed(0)} | ${r.guideP50Us.toFixed(0)} / ${r.guideP95Us.toFixed(0)} | ${r.precheckP50Us.toFixed(0)} / ${r.precheckP95Us.toFixed(0)} |`;
      console.log(`catalog bench (${iterations} guide + precheck calls each; seed catalog ${JSON.stringify(counts)})`);
      console.log('| catalog | matters | load+validate ms | RSS MB | guide µs p50 / p95 | precheck µs p50 / p95 |');
      console.log('|---|---|---|---|---|---|');
      console.log(row('5 matters', small));
      console.log(row('seed scale, cold (parse + check every file)', seed));
      console.log(row('seed scale, warm (validated snapshot)', warm));
      console.log(`guide p50 seed vs small: cold ${out['guideP50.seedVsSmallPct']} %, warm ${out['guideP50.seedWarmVsSmallPct']} %; precheck p50: ${out['precheckP50.seedVsSmallPct']} % (goal: guide within 10 %)`);
      console.log(`goals at seed scale: load ≤ 2000 ms → cold ${seed.loadMs <= 2000 ? 'met' : 'NOT met'}, warm ${warm.loadMs <= 2000 ? 'met' : 'NOT met'}; RSS ≤ 300 MB → cold ${seed.rssMb <= 300 ? 'met' : 'NOT met'}, warm ${warm.rssMb <= 300 ? 'met' : 'NOT met'}`);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === HERE && process.argv[2] === '--child') {
  const r = await measure(process.argv[3]!, Number(process.argv[4] ?? 2000), process.argv[5] ? process.argv[5] : null);
  console.log(JSON.stringify(r));
} else if (process.argv[1] === HERE) {
  await runCatalogBench({ iterations: Number(process.argv[2] ?? 2000) });
}
