import { sql, type Kysely, type Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * 一件事 bundles (issue 14): one application for several member matters. The bundle row is the system of record of
 * the bundle; each member becomes an ordinary application (its own decision, receipt, certificate, manual review)
 * when its dependencies are decided, linked here. Documents are the one e-form and the result notices (a new notice
 * when a person later decides a member). `awaited_results` indexes filings waiting for another department's record
 * (业务协同) by source and a hash of the key, so the department's push finds them without reading receipts.
 */
export function bundles({ dialect }: MigrationContext): Migration {
  const binary = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('bundle_applications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('bundle', 'text', (c) => c.notNull())
        .addColumn('bundle_version', 'text', (c) => c.notNull())
        .addColumn('applicant', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('processing').check(sql`status in ('processing', 'completed')`))
        .addColumn('answers', 'text', (c) => c.notNull())
        .addColumn('form', 'text', (c) => c.notNull())
        .addColumn('consent', 'text', (c) => c.notNull())
        .addColumn('body_hash', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('completed_at', 'text')
        // When the reconciler looks at it next (a lost advance job, a wait with back-off); null = nothing scheduled.
        .addColumn('next_check_at', 'text')
        .addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // NULL keys are distinct on both engines: only keyed filings are deduplicated.
      await db.schema.createIndex('bundle_applications_idempotency').on('bundle_applications').columns(['applicant', 'idempotency_key']).unique().execute();
      await db.schema.createIndex('bundle_applications_due').on('bundle_applications').columns(['status', 'next_check_at']).execute();
      await db.schema.createIndex('bundle_applications_applicant').on('bundle_applications').columns(['applicant', 'created_at']).execute();
      await db.schema.createIndex('bundle_applications_bundle').on('bundle_applications').columns(['bundle', 'created_at']).execute();

      await db.schema
        .createTable('bundle_members')
        .addColumn('bundle_id', 'text', (c) => c.notNull().references('bundle_applications.id'))
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('application_id', 'text', (c) => c.unique().references('applications.id'))
        // The member status the orchestrator last acted on; a different application status means "look again".
        .addColumn('seen_status', 'text', (c) => c.notNull().defaultTo('pending'))
        .addColumn('decided_at', 'text')
        .addPrimaryKeyConstraint('bundle_members_pk', ['bundle_id', 'matter'])
        .execute();
      await db.schema.createIndex('bundle_members_seen').on('bundle_members').columns(['seen_status', 'bundle_id']).execute();
      await db.schema.createIndex('bundle_members_matter').on('bundle_members').columns(['matter', 'bundle_id']).execute();

      await db.schema
        .createTable('bundle_documents')
        .addColumn('bundle_id', 'text', (c) => c.notNull().references('bundle_applications.id'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('form', 'notice')`))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('number', 'text')
        // What the document says, hashed: a notice is made again only when a member's outcome changed.
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('bytes', binary, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('bundle_documents_pk', ['bundle_id', 'kind', 'seq'])
        .execute();
      await db.schema.createIndex('bundle_documents_digest').on('bundle_documents').columns(['bundle_id', 'kind', 'digest']).unique().execute();
      await db.schema.createIndex('bundle_documents_sha256').on('bundle_documents').column('sha256').execute();

      await db.schema
        .createTable('awaited_results')
        .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('awaited_results_pk', ['application_id', 'source'])
        .execute();
      await db.schema.createIndex('awaited_results_key').on('awaited_results').columns(['source', 'key_hash']).execute();
    },
  };
}
