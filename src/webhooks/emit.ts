/**
 * Emitting an event: one delivery row per subscribed webhook (idempotent — the CloudEvents id is derived from the
 * certificate, so a retried worker job adds nothing), then the delivery jobs. If Redis is away the rows stay
 * pending and the delivery sweeper enqueues them later.
 */
import type { CertificateRow, Store } from '../store/types.js';
import type { WebhookQueue } from './webhook-queue.js';
import { certificateSummary } from '../pipeline/certificate-view.js';

export interface EmitDeps {
  /** `applications` (when given) adds the filing's 申请编号 to the event. */
  store: Pick<Store, 'webhooks' | 'certificates'> & Partial<Pick<Store, 'applications'>>;
  webhookQueue: Pick<WebhookQueue, 'enqueue'>;
  publicUrl: string;
  clock: () => Date;
  newId: () => string;
  /** To tell proofs (证明, issue 16) apart: they reach consumers only under their holder's consent, never by webhook. */
  catalog?: { get(code: string): { def: { kind: string } } | undefined };
}

/** The certificate as downstream systems see it (same fields as GET /v1/certificates/{id}, plus links). */
export function certificateEventData(publicUrl: string, c: CertificateRow, applicationNumber?: string | null) {
  return {
    ...certificateSummary(c),
    ...(applicationNumber ? { applicationNumber } : {}),
    links: { self: `${publicUrl}/v1/certificates/${c.id}`, pdf: `${publicUrl}/v1/certificates/${c.id}/pdf` },
  };
}

/** Emits `certificate.issued` for a certificate; returns how many deliveries exist for it. */
export async function emitCertificateIssued(deps: EmitDeps, certificateId: string): Promise<number> {
  // Most filings have no subscriber: ask that first, and read the certificate only when someone listens.
  const subscribed = await deps.store.webhooks.subscribedTo('certificate.issued');
  if (subscribed.length === 0) return 0;
  const cert = await deps.store.certificates.get(certificateId);
  if (!cert) return 0;
  if (deps.catalog?.get(cert.matter)?.def.kind === '证明') return 0;
  // A webhook receives what happens after it was registered, not the history.
  const hooks = subscribed.filter((h) => h.createdAt <= cert.issuedAt);
  if (hooks.length === 0) return 0;
  const eventId = `certificate.issued/${cert.id}`;
  const number = deps.store.applications ? ((await deps.store.applications.get(cert.applicationId))?.number ?? null) : null;
  const payload = JSON.stringify({
    specversion: '1.0',
    id: eventId,
    source: `${deps.publicUrl}/v1/certificates`,
    type: 'certificate.issued',
    subject: cert.id,
    time: cert.issuedAt,
    datacontenttype: 'application/json',
    data: certificateEventData(deps.publicUrl, cert, number),
  });
  const at = deps.clock().toISOString();
  const ids = await deps.store.webhooks.addDeliveries(
    hooks.map((h) => ({ id: deps.newId(), webhookId: h.id, eventId, eventType: 'certificate.issued' as const, payload, createdAt: at })),
  );
  await deps.webhookQueue.enqueue(ids);
  return ids.length;
}

/**
 * Emits `certificate.revoked` (issue 17) once a revocation is recorded: the certificate as it now stands (status
 * revoked) and when and why. One event per certificate (a certificate is revoked at most once). Returns how many
 * deliveries exist for it.
 */
export async function emitCertificateRevoked(deps: EmitDeps, certificateId: string, revocation: { revokedAt: string; reason: string }): Promise<number> {
  const subscribed = await deps.store.webhooks.subscribedTo('certificate.revoked');
  if (subscribed.length === 0) return 0;
  const cert = await deps.store.certificates.get(certificateId);
  if (!cert) return 0;
  if (deps.catalog?.get(cert.matter)?.def.kind === '证明') return 0;
  const hooks = subscribed.filter((h) => h.createdAt <= revocation.revokedAt);
  if (hooks.length === 0) return 0;
  const eventId = `certificate.revoked/${cert.id}`;
  const number = deps.store.applications ? ((await deps.store.applications.get(cert.applicationId))?.number ?? null) : null;
  const payload = JSON.stringify({
    specversion: '1.0',
    id: eventId,
    source: `${deps.publicUrl}/v1/certificates`,
    type: 'certificate.revoked',
    subject: cert.id,
    time: revocation.revokedAt,
    datacontenttype: 'application/json',
    data: { ...certificateEventData(deps.publicUrl, cert, number), revokedAt: revocation.revokedAt, reason: revocation.reason },
  });
  const at = deps.clock().toISOString();
  const ids = await deps.store.webhooks.addDeliveries(
    hooks.map((h) => ({ id: deps.newId(), webhookId: h.id, eventId, eventType: 'certificate.revoked' as const, payload, createdAt: at })),
  );
  await deps.webhookQueue.enqueue(ids);
  return ids.length;
}

/**
 * The outbox step of `certificate.revoked`: writes the revocation's deliveries (idempotent by the event id), queues
 * them, and only then takes the revocation out of the outbox. Called by the API right after a revocation commits
 * and by the worker's revocation feed for any the API did not finish (it died, or the database or Redis failed).
 */
export async function announceRevocation(
  deps: EmitDeps & { store: EmitDeps['store'] & Pick<Store, 'revocations'> },
  revocation: { certificateId: string; revokedAt: string; reason: string },
): Promise<number> {
  const n = await emitCertificateRevoked(deps, revocation.certificateId, revocation);
  await deps.store.revocations.markAnnounced(revocation.certificateId, deps.clock().toISOString());
  return n;
}
