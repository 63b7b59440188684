/**
 * `delivery.updated` (快递取送, issue 16): the waybill number, status and track of a filing's paper certificate, to
 * webhooks subscribed to it. One event per (filing, status): a retried pass adds nothing. No address, name or
 * phone in the payload — the filing's id and the waybill are enough to follow the parcel.
 */
import type { ExpressDeliveryRow, Store } from '../store/types.js';
import type { WebhookQueue } from './webhook-queue.js';

export interface DeliveryEventDeps {
  store: Pick<Store, 'webhooks'>;
  webhookQueue: Pick<WebhookQueue, 'enqueue'>;
  publicUrl: string;
  clock: () => Date;
  newId: () => string;
}

/** Emits `delivery.updated` for the delivery's current status; returns how many deliveries exist for it. */
export async function emitDeliveryUpdated(deps: DeliveryEventDeps, d: ExpressDeliveryRow, certificateId: string | null): Promise<number> {
  const at = deps.clock().toISOString();
  const hooks = (await deps.store.webhooks.subscribedTo('delivery.updated')).filter((h) => h.createdAt <= at);
  if (hooks.length === 0) return 0;
  const eventId = `delivery.updated/${d.applicationId}/${d.status}`;
  const payload = JSON.stringify({
    specversion: '1.0',
    id: eventId,
    source: `${deps.publicUrl}/v1/applications`,
    type: 'delivery.updated',
    subject: d.applicationId,
    time: at,
    datacontenttype: 'application/json',
    data: {
      applicationId: d.applicationId,
      certificateId,
      method: d.method,
      status: d.status,
      waybillNo: d.waybillNo,
      track: d.track,
      links: { application: `${deps.publicUrl}/v1/applications/${d.applicationId}` },
    },
  });
  const ids = await deps.store.webhooks.addDeliveries(hooks.map((h) => ({ id: deps.newId(), webhookId: h.id, eventId, eventType: 'delivery.updated' as const, payload, createdAt: at })));
  await deps.webhookQueue.enqueue(ids);
  return ids.length;
}
