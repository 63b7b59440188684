/**
 * Tests reach the data-source stand-in (src/standins/data-source-server.ts) through here, with the repository's
 * own rules/ folder as the default source of demo records.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDemoDataRecords as loadDemo, type SourceRecords } from '../../src/standins/data-source-server.js';

export { NOT_FOUND_BODY, startDataSourceServer } from '../../src/standins/data-source-server.js';
export type { DataSourceServer, ServerMode, SourceRecords } from '../../src/standins/data-source-server.js';

/** The repository's `rules/` folder. */
export const RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));

/** Loads every registered source's demo data (`rules/demo-data/<id>.yaml`) in the server's records shape. */
export function loadDemoDataRecords(rulesDir: string = RULES_DIR): SourceRecords {
  return loadDemo(rulesDir);
}

/** Convenience for tests that only need the path. */
export const DEMO_DATA_DIR = join(RULES_DIR, 'demo-data');
