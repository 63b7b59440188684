import { sql, type Kysely, type Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Once-only (issue 4): data-sharing consents and which one each filing relies on, the applicant's archive
 * (一人一档/一企一档), how each filing obtained each material, per-filing figures for supervision, and the
 * data-access log's matter / consent / origin (source or cache). Additive: existing rows keep NULLs.
 */
export function onceOnly({ dialect }: MigrationContext): Migration {
  const binary = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('consents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        // JSON array of data-source ids the consent covers.
        .addColumn('sources', 'text', (c) => c.notNull())
        // The filing that carried the consent (no foreign key: the row is written in the same transaction).
        .addColumn('application_id', 'text')
        .addColumn('granted_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('ended_reason', 'text', (c) => c.check(sql`ended_reason in ('revoked', 'superseded')`))
        .execute();
      await db.schema.createIndex('consents_subject_matter').on('consents').columns(['subject', 'matter', 'granted_at']).execute();

      await db.schema
        .createTable('application_consents')
        .addColumn('application_id', 'text', (c) => c.primaryKey().references('applications.id'))
        .addColumn('consent_id', 'text', (c) => c.notNull().references('consents.id'))
        // 1: the filing itself gave the consent; 0: it relied on a consent given before.
        .addColumn('granted', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('archive_materials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('material', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('file_name', 'text')
        .addColumn('valid_until', 'text')
        .addColumn('uploaded_at', 'text', (c) => c.notNull())
        .addColumn('bytes', binary, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('archive_materials_subject').on('archive_materials').columns(['subject', 'matter', 'material']).execute();
      // The same file for the same material of the same subject is kept once.
      await db.schema.createIndex('archive_materials_unique_file').on('archive_materials').columns(['subject', 'matter', 'material', 'sha256']).unique().execute();

      await db.schema
        .createTable('application_materials')
        .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
        .addColumn('material', 'text', (c) => c.notNull())
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('how', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        // exempted | reused | uploaded | committed | generated | missing: the supervision figure it counts in.
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('archive_id', 'text')
        .addColumn('commitment', 'text')
        .addPrimaryKeyConstraint('application_materials_pk', ['application_id', 'material'])
        .execute();
      await db.schema.createIndex('application_materials_matter').on('application_materials').columns(['matter', 'category']).execute();
      await db.schema.createIndex('application_materials_archive').on('application_materials').column('archive_id').execute();

      await db.schema
        .createTable('application_figures')
        .addColumn('application_id', 'text', (c) => c.primaryKey().references('applications.id'))
        .addColumn('matter', 'text', (c) => c.notNull())
        // The automatic decision, kept even if a reviewer later decides otherwise.
        .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('APPROVE', 'REJECT', 'MANUAL')`))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text', (c) => c.notNull())
        .addColumn('decision_ms', 'integer', (c) => c.notNull())
        .addColumn('fields_prefilled', 'integer', (c) => c.notNull())
        .addColumn('fields_typed', 'integer', (c) => c.notNull())
        // JSON array of the rule ids that kept the filing from automatic approval.
        .addColumn('fallout_rules', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('application_figures_matter_created').on('application_figures').columns(['matter', 'created_at']).execute();

      for (const column of ['matter', 'consent_id', 'origin']) {
        await db.schema.alterTable('data_access_log').addColumn(column, 'text').execute();
      }
      await db.schema.createIndex('data_access_log_requester').on('data_access_log').columns(['requester', 'id']).execute();
      await db.schema.createIndex('data_access_log_key').on('data_access_log').columns(['key', 'id']).execute();
      await db.schema.createIndex('data_access_log_matter').on('data_access_log').columns(['matter', 'id']).execute();
    },
  };
}
