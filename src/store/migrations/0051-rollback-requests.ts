import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Issue 17: four eyes on rollback, as on publication. One admin requests making an earlier version current again;
 * the rollback happens only when a second admin of the department approves, and only if the matter is still at
 * the version it was at when requested.
 */
export function rollbackRequests(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('rollback_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('department', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('expected', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('approved_by', 'text')
        .addColumn('approved_at', 'text')
        .execute();
      await db.schema.createIndex('rollback_requests_dept_status').on('rollback_requests').columns(['department', 'status', 'requested_at']).execute();
    },
  };
}
