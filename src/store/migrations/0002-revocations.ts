import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Revocation of issued certificates (who, when, why) and a lookup of certificates by file hash for
 * POST /v1/verify. Additive: the certificates table keeps its status column, now also set to 'revoked'.
 */
export function revocations(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('certificate_revocations')
        .addColumn('certificate_id', 'text', (c) => c.primaryKey().references('certificates.id'))
        .addColumn('issuer_code', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('revoked_by', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('certificate_revocations_issuer')
        .on('certificate_revocations')
        .columns(['issuer_code', 'revoked_at'])
        .execute();
      await db.schema.createIndex('certificates_sha256').on('certificates').column('sha256').execute();
    },
  };
}
