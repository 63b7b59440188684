import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Steps a department takes on its own after a decision (issue 3: 公租房 公示 and 租赁补贴 with no second
 * application). One row per filing and step; the worker runs a row when it falls due.
 */
export function followUps(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('follow_ups')
        .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('scheduled'))
        .addColumn('due_at', 'text', (c) => c.notNull())
        .addColumn('done_at', 'text')
        .addColumn('detail', 'text')
        .addPrimaryKeyConstraint('follow_ups_pk', ['application_id', 'step'])
        .execute();
      await db.schema.createIndex('follow_ups_status_due').on('follow_ups').columns(['status', 'due_at']).execute();
    },
  };
}
