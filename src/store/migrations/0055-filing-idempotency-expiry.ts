import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Issue 17: an applicant's Idempotency-Key of a 一件事 bundle filing and of a filing for another city (都市圈通办, held
 * here and forwarded) follows the rule of 0052: kept for IDEMPOTENCY_TTL_HOURS, then purged, a replay within the
 * period answering the stored response. Those keys live on their filing rows (idempotency_keys references local
 * applications only), so the expiry and the answer do too. Null expiry = kept (keys made before this migration);
 * null answer = the answer those filings always gave.
 */
export function filingIdempotencyExpiry(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const table of ['bundle_applications', 'federated_filings']) {
        await db.schema.alterTable(table).addColumn('idempotency_expires_at', 'text').execute();
        await db.schema.alterTable(table).addColumn('idempotency_response', 'text').execute();
        await db.schema.createIndex(`${table}_idempotency_expires_at`).on(table).column('idempotency_expires_at').execute();
      }
    },
  };
}
