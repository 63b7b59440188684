import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Once-only to the seed's figures (issue 19): per filing, how many fields it printed and how many pre-filled
 * fields fell back to what the applicant typed because their source could not answer. Additive: rows written
 * before keep fields_fallback 0 and fields_total NULL (their total is not known after the fact).
 */
export function onceOnlyFigures(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('application_figures').addColumn('fields_fallback', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('application_figures').addColumn('fields_total', 'integer').execute();
    },
  };
}
