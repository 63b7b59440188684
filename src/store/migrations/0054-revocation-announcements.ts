import { sql, type Kysely, type Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Issue 17: `certificate.revoked` through an outbox. A revocation is written with `announced_at` null in its own
 * transaction; once its webhook deliveries exist (the API right after the commit, else the worker's revocation feed)
 * it is marked announced. Revocations recorded before this migration count as announced: they are not replayed to
 * subscribers on upgrade.
 */
export function revocationAnnouncements(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('certificate_revocations').addColumn('announced_at', 'text').execute();
      await sql`update certificate_revocations set announced_at = revoked_at`.execute(db);
      // The feed only ever looks at revocations not announced yet: a partial index stays small.
      await db.schema
        .createIndex('certificate_revocations_unannounced')
        .on('certificate_revocations')
        .column('revoked_at')
        .where(sql.ref('announced_at'), 'is', null)
        .execute();
    },
  };
}
