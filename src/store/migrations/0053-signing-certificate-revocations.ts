import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Issue 17: revoked signing certificates (a department's seal certificate whose key was compromised or retired).
 * Verification fails every document signed with one, naming the revocation; keyed by the certificate's sha256.
 */
export function signingCertificateRevocations(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('signing_certificate_revocations')
        .addColumn('certificate_sha256', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('revoked_by', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
