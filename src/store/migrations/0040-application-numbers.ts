import { sql, type Kysely, type Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Human-readable application numbers (issue 18): `applications.number` (`沈2026120400017`, unique; NULL for rows
 * filed before this migration, which keep showing their id) and the per-day counter claimed in the intake
 * transaction (`application_number_days`: Beijing day YYYYMMDD → last number given).
 */
export function applicationNumbers(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('application_number_days')
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('last', 'integer', (c) => c.notNull().check(sql`"last" >= 1`))
        .execute();
      await db.schema.alterTable('applications').addColumn('number', 'text').execute();
      await db.schema.createIndex('applications_number').unique().on('applications').column('number').execute();
    },
  };
}
