import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Issue 12. `eseal_sign_log`: one row per sign request this service sent to the e-seal platform (which filing,
 * under which authorisation, which digest, what came back) — the enterprise's seal is used only under its
 * authorisation, and that use is auditable. `dev_eseals`: the seals of the in-process development e-seal
 * authority (embedded default only; production uses the platform at ESEAL_URL and never writes here), one row
 * per enterprise or person instead of a key file each.
 */
export function eseals({ dialect }: MigrationContext): Migration {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('eseal_sign_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('application_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('seal_id', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('digest_algorithm', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('signature_sha256', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('eseal_sign_log_application').on('eseal_sign_log').column('application_id').execute();

      await db.schema
        .createTable('dev_eseals')
        .addColumn('code', 'text', (c) => c.primaryKey())
        .addColumn('seal_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('valid_until', 'text', (c) => c.notNull())
        // DER of the seal certificate (the e-seal CA's certificate completes the chain).
        .addColumn('certificate', blob, (c) => c.notNull())
        // PKCS#8 DER of the EC key: the development authority is the platform here; production keeps no key.
        .addColumn('private_key', blob, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
