import { sql, type Kysely, type Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Initial schema. Timestamps are ISO-8601 UTC text (portable ordering), JSON is text (exact round trip:
 * jsonb would reorder keys and drop duplicate ones), binary is blob/bytea.
 */
export function initial({ dialect }: MigrationContext): Migration {
  const pg = dialect === 'postgres';
  const binary = pg ? 'bytea' : 'blob';

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('applications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('matter_version', 'text', (c) => c.notNull())
        .addColumn('applicant', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status in ('queued', 'processing', 'approved', 'rejected', 'manual_review', 'failed')`),
        )
        .addColumn('answers', 'text', (c) => c.notNull())
        .addColumn('form', 'text', (c) => c.notNull())
        .addColumn('consent', 'text', (c) => c.notNull())
        .addColumn('body_hash', 'text', (c) => c.notNull())
        .addColumn('decision', 'text')
        .addColumn('receipt', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text')
        .execute();
      // The reconciler scans unfinished rows by age.
      await db.schema.createIndex('applications_status_updated_at').on('applications').columns(['status', 'updated_at']).execute();
      await db.schema.createIndex('applications_applicant').on('applications').column('applicant').execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('applicant', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        // Deferred: the key is claimed first (that is what serialises concurrent duplicates), the
        // application row follows in the same transaction.
        .addColumn('application_id', 'text', (c) =>
          c.notNull().references('applications.id').modifyEnd(sql`deferrable initially deferred`),
        )
        .addColumn('body_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['applicant', 'key'])
        .execute();

      await db.schema
        .createTable('outbox')
        .addColumn('id', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('enqueued_at', 'text')
        .execute();
      // The relay only ever looks at rows not yet enqueued; a partial index stays small.
      await db.schema.createIndex('outbox_pending').on('outbox').column('id').where(sql.ref('enqueued_at'), 'is', null).execute();

      await db.schema
        .createTable('documents')
        .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('bytes', binary, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('documents_pk', ['application_id', 'kind'])
        .execute();

      await db.schema
        .createTable('certificates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // One application yields at most one certificate (DESIGN.md §2), enforced here.
        .addColumn('application_id', 'text', (c) => c.notNull().unique().references('applications.id'))
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('number', 'text', (c) => c.notNull().unique())
        .addColumn('license_id', 'text', (c) => c.notNull().unique())
        .addColumn('holder_code', 'text', (c) => c.notNull())
        .addColumn('holder_name', 'text', (c) => c.notNull())
        .addColumn('issuer_code', 'text', (c) => c.notNull())
        .addColumn('issuer_name', 'text', (c) => c.notNull())
        .addColumn('subject_key', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text', (c) => c.notNull())
        .addColumn('valid_until', 'text')
        .addColumn('verify_code', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) =>
          c.notNull().defaultTo('valid').check(sql`status in ('valid', 'revoked', 'superseded')`),
        )
        .addColumn('pdf', binary, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('certificates_matter_subject_status')
        .on('certificates')
        .columns(['matter', 'subject_key', 'status'])
        .execute();

      await db.schema
        .createTable('serials')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', pg ? 'bigint' : 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('data_access_log')
        .addColumn('id', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('requester', 'text', (c) => c.notNull())
        // No foreign key: reads made for a dry run (precheck) are logged without an application.
        .addColumn('application_id', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('response_hash', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('data_access_log_application_id').on('data_access_log').column('application_id').execute();
    },
  };
}
