/**
 * Webhooks and their deliveries (issue 8). Part of the one Kysely store; kept in its own file so the core
 * repositories stay readable.
 */
import { withTransaction } from './tx.js';
import type { Kysely, Selectable } from 'kysely';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from './schema.js';
import type { SecretBox } from './secret-box.js';
import type { DeliveryAttempt, DeliveryRow, Store, WebhookEventType, WebhookRow } from './types.js';

function toWebhook(row: Selectable<WebhooksTable>, box: SecretBox | null): WebhookRow {
  return {
    id: row.id,
    owner: row.owner,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEventType[],
    secret: box ? box.open(row.secret, row.id) : row.secret,
    status: row.status,
    createdAt: row.created_at,
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): DeliveryRow {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType: row.event_type as WebhookEventType,
    payload: row.payload,
    status: row.status,
    attempts: JSON.parse(row.attempts) as DeliveryAttempt[],
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  };
}

/** `box`: signing secrets are sealed with it before they are written (issue 17); null keeps them as given. */
export function webhookRepository(db: Kysely<Database>, box: SecretBox | null = null): Store['webhooks'] {
  const toRow = (row: Selectable<WebhooksTable>) => toWebhook(row, box);
  return {
    async create(w) {
      await db
        .insertInto('webhooks')
        .values({ id: w.id, owner: w.owner, url: w.url, events: JSON.stringify(w.events), secret: box ? box.seal(w.secret, w.id) : w.secret, created_at: w.createdAt })
        .execute();
      return { ...w, status: 'active' };
    },

    async get(id) {
      const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toRow(row);
    },

    async list(owner) {
      const rows = await db.selectFrom('webhooks').selectAll().where('owner', '=', owner).orderBy('created_at').orderBy('id').execute();
      return rows.map(toRow);
    },

    async disable(id) {
      await db.updateTable('webhooks').set({ status: 'disabled' }).where('id', '=', id).execute();
    },

    async subscribedTo(eventType) {
      // Few webhooks; the event list is a JSON array, filtered here rather than with dialect-specific JSON SQL.
      const rows = await db.selectFrom('webhooks').selectAll().where('status', '=', 'active').execute();
      return rows.map(toRow).filter((w) => w.events.includes(eventType));
    },

    async addDeliveries(deliveries) {
      if (deliveries.length === 0) return [];
      await db
        .insertInto('webhook_deliveries')
        .values(
          deliveries.map((d) => ({
            id: d.id,
            webhook_id: d.webhookId,
            event_id: d.eventId,
            event_type: d.eventType,
            payload: d.payload,
            created_at: d.createdAt,
            delivered_at: null,
          })),
        )
        .onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing())
        .execute();
      const ids: string[] = [];
      for (const d of deliveries) {
        const row = await db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('webhook_id', '=', d.webhookId)
          .where('event_id', '=', d.eventId)
          .executeTakeFirst();
        if (row) ids.push(row.id);
      }
      return ids;
    },

    async getDelivery(id) {
      const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toDelivery(row);
    },

    async recordAttempt(deliveryId, attempt, status) {
      await withTransaction(db, async (trx) => {
        const row = await trx.selectFrom('webhook_deliveries').select(['attempts', 'status']).where('id', '=', deliveryId).executeTakeFirst();
        if (row === undefined || row.status === 'delivered') return;
        const attempts = [...(JSON.parse(row.attempts) as DeliveryAttempt[]), attempt];
        await trx
          .updateTable('webhook_deliveries')
          .set({ attempts: JSON.stringify(attempts), status, ...(status === 'delivered' ? { delivered_at: attempt.at } : {}) })
          .where('id', '=', deliveryId)
          .execute();
      });
    },

    async deliveries(webhookId, { limit, before }) {
      let q = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
      if (before) {
        q = q.where((eb) => eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)])]));
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toDelivery);
    },

    async sealClearSecrets() {
      if (!box) return 0;
      const rows = await db.selectFrom('webhooks').select(['id', 'secret']).execute();
      let sealed = 0;
      for (const r of rows) {
        if (box.isSealed(r.secret)) continue;
        // Compare-and-set on the clear value: another process sealing the same row at once changes nothing twice.
        const res = await db.updateTable('webhooks').set({ secret: box.seal(r.secret, r.id) }).where('id', '=', r.id).where('secret', '=', r.secret).executeTakeFirst();
        sealed += Number(res.numUpdatedRows);
      }
      return sealed;
    },

    async pendingDeliveries(before, limit) {
      const rows = await db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('created_at', '<', before)
        .orderBy('created_at')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },
  };
}
