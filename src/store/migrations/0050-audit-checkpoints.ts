import { sql, type Kysely, type Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Issue 17: signed checkpoints of the audit chain's head. Append-only like the log itself (a trigger refuses
 * UPDATE and DELETE); the signatures, made with a key the database does not hold, are what makes a change show.
 */
export function auditCheckpoints({ dialect }: MigrationContext): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('id', pg ? 'bigint' : 'integer', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('head_seq', pg ? 'bigint' : 'integer', (c) => c.notNull())
        .addColumn('head_hash', 'text', (c) => c.notNull())
        .addColumn('prev_digest', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('timestamp_token', 'text')
        .execute();
      if (pg) {
        await sql`create function audit_checkpoints_append_only() returns trigger language plpgsql as $$
          begin raise exception 'audit_checkpoints is append-only'; end $$`.execute(db);
        await sql`create trigger audit_checkpoints_no_change before update or delete on audit_checkpoints
          for each row execute function audit_checkpoints_append_only()`.execute(db);
      } else {
        await sql`create trigger audit_checkpoints_no_update before update on audit_checkpoints
          begin select raise(abort, 'audit_checkpoints is append-only'); end`.execute(db);
        await sql`create trigger audit_checkpoints_no_delete before delete on audit_checkpoints
          begin select raise(abort, 'audit_checkpoints is append-only'); end`.execute(db);
      }
    },
  };
}
