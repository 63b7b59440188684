import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Webhooks for downstream systems and their deliveries (issue 8), plus the index behind GET /v1/certificates
 * (keyset pagination by issue time). A delivery keeps the exact body it sends and its attempts as a JSON array:
 * attempts are few and always read with the delivery.
 */
export function portalWebhooks(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhooks_owner').on('webhooks').column('owner').execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
        .addColumn('attempts', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        // One event reaches one webhook once, however often it is emitted (retried worker jobs).
        .addUniqueConstraint('webhook_deliveries_event', ['webhook_id', 'event_id'])
        .execute();
      await db.schema.createIndex('webhook_deliveries_webhook_created').on('webhook_deliveries').columns(['webhook_id', 'created_at', 'id']).execute();
      await db.schema.createIndex('webhook_deliveries_status_created').on('webhook_deliveries').columns(['status', 'created_at']).execute();

      await db.schema.createIndex('certificates_issued_at_id').on('certificates').columns(['issued_at', 'id']).execute();
    },
  };
}
