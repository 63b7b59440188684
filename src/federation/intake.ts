/**
 * Intake of a filing for another city's matter (都市圈通办): checked here against the owning node's own matter
 * definition (fetched and cached), then stored with its idempotency key in one transaction. The row is the outbox
 * to the owner: the forwarder in the worker delivers it, retrying with back-off while the owner is down.
 */
import { AppError } from '../errors.js';
import { validateFiling, type FilingBody } from '../pipeline/validate-filing.js';
import type { CreateResult, DeliveryRequest, Store } from '../store/types.js';
import type { Federation } from './federation.js';
import { PeerUnavailableError } from './peers.js';

export interface FederatedIntakeDeps {
  store: Pick<Store, 'federation'>;
  federation: Pick<Federation, 'catalog'>;
  clock: () => Date;
  newId: () => string;
}

export async function acceptFederatedFiling(
  deps: FederatedIntakeDeps,
  input: {
    applicant: string;
    city: string;
    code: string;
    body: FilingBody & { delivery?: DeliveryRequest };
    bodyHash: string;
    idempotencyKey: string | null;
    /** How long the applicant's key deduplicates (IDEMPOTENCY_TTL_HOURS, issue 17); absent: kept. */
    idempotencyTtlHours?: number;
  },
): Promise<CreateResult> {
  let matter;
  try {
    matter = await deps.federation.catalog.get(input.city, input.code);
  } catch (err) {
    if (err instanceof PeerUnavailableError) throw new AppError('FEDERATION_PEER_UNAVAILABLE');
    throw err;
  }
  if (!matter) {
    throw new AppError('MATTER_UNKNOWN', { errors: [{ path: '/matter', message: `城市 ${input.city} 没有事项 "${input.code}" The city ${input.city} has no matter "${input.code}"` }] });
  }
  // A standing consent lives at the owning node: a filing from here states its consent explicitly.
  validateFiling(matter, input.body, input.applicant, false);
  const id = deps.newId();
  const now = deps.clock();
  const ttlHours = input.idempotencyTtlHours;
  return deps.store.federation.createFiling({
    id,
    city: input.city,
    matter: input.code,
    matterVersion: matter.version,
    applicant: input.applicant,
    answers: input.body.answers,
    form: input.body.form,
    consent: input.body.consent,
    delivery: input.body.delivery ?? null,
    bodyHash: input.bodyHash,
    idempotencyKey: input.idempotencyKey,
    idempotencyExpiresAt: input.idempotencyKey === null || ttlHours === undefined ? null : new Date(now.getTime() + ttlHours * 3_600_000).toISOString(),
    // What the applicant is answered now, and on a replay with the same key and body.
    response: { status: 202, body: { id, status: 'queued' } },
    createdAt: now.toISOString(),
  });
}
