import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';
import { createIndexes, type IndexList } from './indexes.js';

/**
 * The reform's figures (GET /v1/stats, /metrics) give each matter's median and 95th-percentile time to decision.
 * They were computed by reading every figure row of the period into the process on each call; now the database sums
 * the figures and each percentile is one read at its rank of this index, which holds the matter's decision times in
 * order with the creation time beside them (the period's filter reads no row). Test:
 * `test/integration/store/figures-aggregate.test.ts`.
 */
export const DECISION_TIME_INDEXES: IndexList = [
  ['application_figures_matter_decision', 'application_figures', ['matter', 'decision_ms', 'created_at']],
];

export function decisionTimeIndex(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createIndexes(db, DECISION_TIME_INDEXES);
    },
  };
}
