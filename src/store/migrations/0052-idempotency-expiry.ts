import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Issue 17: Idempotency-Keys are kept for IDEMPOTENCY_TTL_HOURS, not forever, and a replay answers the stored
 * response. `expires_at` null = kept (keys made before this migration, and the node-to-node keys of forwarded
 * filings, which must never let a late re-forward make a second filing); `response_*` null = the pre-migration
 * answer (202 {id, status: "queued"}).
 */
export function idempotencyExpiry(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('idempotency_keys').addColumn('expires_at', 'text').execute();
      await db.schema.alterTable('idempotency_keys').addColumn('response_status', 'integer').execute();
      await db.schema.alterTable('idempotency_keys').addColumn('response_body', 'text').execute();
      await db.schema.createIndex('idempotency_keys_expires_at').on('idempotency_keys').column('expires_at').execute();
    },
  };
}
