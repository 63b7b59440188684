/**
 * rules/ seeds the versions table on start-up: a matter the database does not know yet gets the file's version
 * as current. A file that changed replaces a current version that itself came from a file (the developer
 * workflow); once a version was published or rolled back through the admin API, the database wins and a
 * differing file is only reported.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalJson, type Catalog } from '../catalog/load-catalog.js';
import type { AuthoringStore } from '../store/authoring-store.js';

export const SEED_ACTOR = 'system:rules';

export interface SeedReport {
  created: string[];
  updated: string[];
  /** Matters whose file differs from the version published in the database (the database is kept). */
  kept: string[];
}

export async function seedCatalog(
  store: Pick<AuthoringStore, 'seed' | 'currentVersions'>,
  files: Catalog,
  rulesDir: string,
  at: string,
): Promise<SeedReport> {
  const report: SeedReport = { created: [], updated: [], kept: [] };
  const current = new Map((await store.currentVersions()).map((c) => [c.matter, c]));
  for (const m of files.matters.values()) {
    const cur = current.get(m.def.code);
    if (cur?.version === m.version) continue;
    if (cur && cur.origin !== 'seed') {
      report.kept.push(m.def.code);
      continue;
    }
    const file = path.join(path.dirname(rulesDir), m.file);
    const res = await store.seed({
      matter: m.def.code,
      version: m.version,
      department: m.def.department.code,
      definition: canonicalJson(m.def),
      source: readFileSync(file, 'utf8'),
      sourceFormat: file.endsWith('.json') ? 'json' : 'yaml',
      createdBy: SEED_ACTOR,
      createdAt: at,
    });
    if (res === 'created') report.created.push(m.def.code);
    else if (res === 'updated') report.updated.push(m.def.code);
    else if (res === 'kept') report.kept.push(m.def.code);
  }
  return report;
}
