/**
 * 一件事 events (issue 14): `bundle.member.decided` when a member of a bundle application is decided (again, when a
 * person later decides a manual review) and `bundle.completed` when every member is decided. Ids and outcomes only:
 * no names or ID numbers leave in an event. Idempotent like certificate events: the CloudEvents id names the bundle,
 * the member and its status, so a retried advance adds no delivery.
 */
import type { Store, WebhookEventType } from '../store/types.js';
import type { WebhookQueue } from './webhook-queue.js';

export interface BundleEventDeps {
  store: Pick<Store, 'webhooks'>;
  webhookQueue: Pick<WebhookQueue, 'enqueue'>;
  publicUrl: string;
  clock: () => Date;
  newId: () => string;
}

export interface BundleEvent {
  type: Extract<WebhookEventType, 'bundle.member.decided' | 'bundle.completed'>;
  bundleApplicationId: string;
  bundle: string;
  /** For member events: the member's matter code. */
  matter?: string;
  /** What distinguishes this event from an earlier one of the same member (its status). */
  status: string;
  time: string;
  data: Record<string, unknown>;
}

/** Adds one delivery per subscribed webhook (registered before the event) and enqueues them; returns how many. */
export async function emitBundleEvent(deps: BundleEventDeps, e: BundleEvent): Promise<number> {
  const hooks = (await deps.store.webhooks.subscribedTo(e.type)).filter((h) => h.createdAt <= e.time);
  if (hooks.length === 0) return 0;
  const eventId = e.matter ? `${e.type}/${e.bundleApplicationId}/${e.matter}/${e.status}` : `${e.type}/${e.bundleApplicationId}`;
  const payload = JSON.stringify({
    specversion: '1.0',
    id: eventId,
    source: `${deps.publicUrl}/v1/applications`,
    type: e.type,
    subject: e.matter ? `${e.bundleApplicationId}/${e.matter}` : e.bundleApplicationId,
    time: e.time,
    datacontenttype: 'application/json',
    data: { ...e.data, links: { self: `${deps.publicUrl}/v1/applications/${e.bundleApplicationId}` } },
  });
  const at = deps.clock().toISOString();
  const ids = await deps.store.webhooks.addDeliveries(hooks.map((h) => ({ id: deps.newId(), webhookId: h.id, eventId, eventType: e.type, payload, createdAt: at })));
  await deps.webhookQueue.enqueue(ids);
  return ids.length;
}
