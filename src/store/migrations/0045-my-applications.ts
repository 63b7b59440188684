import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * 我的办件 (issue 18): an applicant's filings newest first, keyset-paginated on (created_at, id). The index on
 * applicant alone would sort every filing of a busy enterprise on each page.
 */
export function myApplications(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('applications_applicant_created').on('applications').columns(['applicant', 'created_at', 'id']).execute();
    },
  };
}
