import { sql, type Kysely, type Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Rule authoring (issue 6): published matter versions (immutable, keyed by content hash), the current version
 * per matter, drafts with their four-eyes approval, manual review decisions, and the hash-chained audit log.
 * The audit log refuses UPDATE and DELETE with a trigger; the chain makes a change by anyone who can drop the
 * trigger detectable all the same.
 */
export function authoring({ dialect }: MigrationContext): Migration {
  const pg = dialect === 'postgres';

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('matter_versions')
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('department', 'text', (c) => c.notNull())
        // Canonical JSON of the definition; sha256 of it is `version`.
        .addColumn('definition', 'text', (c) => c.notNull())
        // The text as authored (YAML with comments, or JSON), exported for review in git.
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('source_format', 'text', (c) => c.notNull().check(sql`source_format in ('yaml', 'json')`))
        .addColumn('origin', 'text', (c) => c.notNull().check(sql`origin in ('seed', 'draft')`))
        .addColumn('draft_id', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('matter_versions_pk', ['matter', 'version'])
        .execute();

      await db.schema
        .createTable('matter_current')
        .addColumn('matter', 'text', (c) => c.primaryKey())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('changed_by', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'text', (c) => c.notNull())
        .addForeignKeyConstraint('matter_current_version_fk', ['matter', 'version'], 'matter_versions', ['matter', 'version'])
        .execute();

      await db.schema
        .createTable('matter_drafts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('department', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        // The current version when the draft was made: publishing over anything else is refused (stale).
        .addColumn('base_version', 'text')
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('source_format', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'published')`))
        .addColumn('tests_passed', 'integer')
        .addColumn('tested_at', 'text')
        .addColumn('approved_by', 'text')
        .addColumn('approved_at', 'text')
        .addColumn('published_by', 'text')
        .addColumn('published_at', 'text')
        .addCheckConstraint('matter_drafts_four_eyes', sql`approved_by is null or approved_by <> author`)
        .execute();
      await db.schema.createIndex('matter_drafts_matter').on('matter_drafts').columns(['matter', 'created_at']).execute();

      await db.schema
        .createTable('manual_decisions')
        .addColumn('application_id', 'text', (c) => c.primaryKey().references('applications.id'))
        .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('APPROVE', 'REJECT')`))
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text', (c) => c.notNull())
        .addColumn('department', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text', (c) => c.notNull())
        .execute();
      // The review queue lists a department's manual_review filings by matter.
      await db.schema.createIndex('applications_matter_status_decided').on('applications').columns(['matter', 'status', 'decided_at']).execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('seq', pg ? 'bigint' : 'integer', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('dept', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .execute();
      await db.schema.createIndex('audit_log_dept_seq').on('audit_log').columns(['dept', 'seq']).execute();

      if (pg) {
        await sql`create function audit_log_append_only() returns trigger language plpgsql as $$
          begin raise exception 'audit_log is append-only'; end $$`.execute(db);
        await sql`create trigger audit_log_no_change before update or delete on audit_log
          for each row execute function audit_log_append_only()`.execute(db);
        await sql`create trigger audit_log_no_truncate before truncate on audit_log
          for each statement execute function audit_log_append_only()`.execute(db);
      } else {
        await sql`create trigger audit_log_no_update before update on audit_log
          begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
        await sql`create trigger audit_log_no_delete before delete on audit_log
          begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
      }
    },
  };
}
