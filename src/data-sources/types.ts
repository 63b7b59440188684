import type { SourceRead } from '../domain/types.js';

/** Who reads, for which filing and why: recorded with every read (数据访问审计). */
export interface ReadContext {
  requester: string;
  applicationId: string | null;
  purpose: string;
}

/**
 * One adapter per data source (数源). Backends: HTTP (production contract, DESIGN.md §4) and fixture (demo data).
 * `read` never throws for a source problem: it answers `status: 'unknown'` instead.
 */
export interface DataSource {
  readonly id: string;
  readonly backend: 'http' | 'fixture';
  read(key: string, ctx: ReadContext): Promise<SourceRead>;
}
