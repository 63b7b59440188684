/**
 * 都市圈通办 repositories (issue 16): pinned peers, peers' catalogs, filings forwarded to their owner (the outbox
 * and the mirror of the owner's answer), the owner's certificate copies, and — at the owner — which application a
 * peer's filing became. Portable SQL for SQLite and PostgreSQL, like ./kysely-store.ts.
 */
import { withTransaction } from './tx.js';
import type { Kysely, Selectable } from 'kysely';
import type { Consent, Decision } from '../domain/types.js';
import type { Database, FederatedCertificatesTable, FederatedFilingsTable } from './schema.js';
import type {
  CreateResult,
  DeliveryRequest,
  DeliveryView,
  FederatedCertificateRow,
  FederatedFilingPatch,
  FederatedFilingRow,
  FederationRepository,
  RemoteCertificate,
} from './types.js';

function json<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toFiling(r: Selectable<FederatedFilingsTable>): FederatedFilingRow {
  return {
    id: r.id,
    city: r.city,
    matter: r.matter,
    matterVersion: r.matter_version,
    applicant: r.applicant,
    answers: JSON.parse(r.answers) as Record<string, unknown>,
    form: JSON.parse(r.form) as Record<string, unknown>,
    consent: JSON.parse(r.consent) as Consent,
    delivery: json<DeliveryRequest>(r.delivery),
    bodyHash: r.body_hash,
    forwardStatus: r.forward_status,
    remoteId: r.remote_id,
    status: r.status,
    decision: json<Decision>(r.decision),
    certificate: json<RemoteCertificate>(r.certificate),
    deliveryView: json<DeliveryView>(r.delivery_view),
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    settled: Number(r.settled) === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    decidedAt: r.decided_at,
  };
}

type CertificateSelection = Omit<Selectable<FederatedCertificatesTable>, 'pdf'>;
const CERTIFICATE_COLUMNS = ['id', 'application_id', 'city', 'holder_code', 'summary', 'sha256', 'fetched_at'] as const;

function toCertificate(r: CertificateSelection): FederatedCertificateRow {
  return {
    id: r.id,
    applicationId: r.application_id,
    city: r.city,
    holderCode: r.holder_code,
    summary: JSON.parse(r.summary) as RemoteCertificate,
    sha256: r.sha256,
    fetchedAt: r.fetched_at,
  };
}

/** An (applicant, key) seen before: its filing and the answer stored with the key (null before migration 0055). */
function replayOf(r: { id: string; body_hash: string; idempotency_response: string | null }): CreateResult {
  return {
    created: false,
    applicationId: r.id,
    bodyHash: r.body_hash,
    response: r.idempotency_response === null ? null : (JSON.parse(r.idempotency_response) as { status: number; body: unknown }),
  };
}

export function federationRepository(db: Kysely<Database>): FederationRepository {
  return {
    async createFiling(f): Promise<CreateResult> {
      return withTransaction(db, async (trx): Promise<CreateResult> => {
        if (f.idempotencyKey !== null) {
          // One key namespace per applicant: a key used before for a filing of this node's own matters, or for
          // another city's, answers that filing (and 422 for another body at the route).
          // A key past its expiry counts as new (issue 17).
          const local = await trx
            .selectFrom('idempotency_keys')
            .select(['application_id', 'body_hash', 'response_status', 'response_body'])
            .where('applicant', '=', f.applicant)
            .where('key', '=', f.idempotencyKey)
            .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', f.createdAt)]))
            .executeTakeFirst();
          if (local) {
            const response = local.response_status === null || local.response_body === null ? null : { status: local.response_status, body: JSON.parse(local.response_body) as unknown };
            return { created: false, applicationId: local.application_id, bodyHash: local.body_hash, response };
          }
          // Released first when past its expiry (not purged yet), so the insert below takes it over.
          await trx
            .updateTable('federated_filings')
            .set({ idempotency_key: null, idempotency_expires_at: null, idempotency_response: null })
            .where('applicant', '=', f.applicant)
            .where('idempotency_key', '=', f.idempotencyKey)
            .where('idempotency_expires_at', 'is not', null)
            .where('idempotency_expires_at', '<=', f.createdAt)
            .execute();
          const earlier = await trx
            .selectFrom('federated_filings')
            .select(['id', 'body_hash', 'idempotency_response'])
            .where('applicant', '=', f.applicant)
            .where('idempotency_key', '=', f.idempotencyKey)
            .executeTakeFirst();
          if (earlier) return replayOf(earlier);
        }
        await trx
          .insertInto('federated_filings')
          .values({
            id: f.id,
            city: f.city,
            matter: f.matter,
            matter_version: f.matterVersion,
            applicant: f.applicant,
            answers: JSON.stringify(f.answers),
            form: JSON.stringify(f.form),
            consent: JSON.stringify(f.consent),
            delivery: f.delivery === null ? null : JSON.stringify(f.delivery),
            body_hash: f.bodyHash,
            idempotency_key: f.idempotencyKey,
            idempotency_expires_at: f.idempotencyKey === null ? null : (f.idempotencyExpiresAt ?? null),
            idempotency_response: f.idempotencyKey === null || f.response === undefined ? null : JSON.stringify(f.response),
            forward_status: 'pending',
            remote_id: null,
            status: 'queued',
            decision: null,
            certificate: null,
            delivery_view: null,
            attempts: 0,
            next_attempt_at: f.createdAt,
            lease_until: null,
            last_error: null,
            settled: 0,
            created_at: f.createdAt,
            updated_at: f.createdAt,
            decided_at: null,
          })
          .onConflict((oc) => oc.columns(['applicant', 'idempotency_key']).doNothing())
          .execute();
        if (f.idempotencyKey !== null) {
          // A concurrent twin with the same key won: answer with its filing.
          const winner = await trx
            .selectFrom('federated_filings')
            .select(['id', 'body_hash', 'idempotency_response'])
            .where('applicant', '=', f.applicant)
            .where('idempotency_key', '=', f.idempotencyKey)
            .executeTakeFirstOrThrow();
          if (winner.id !== f.id) return replayOf(winner);
        }
        return { created: true, applicationId: f.id, number: null };
      });
    },

    async getFiling(id) {
      const r = await db.selectFrom('federated_filings').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? null : toFiling(r);
    },

    async claimDue(at, leaseMs, limit) {
      const until = new Date(Date.parse(at) + leaseMs).toISOString();
      const candidates = await db
        .selectFrom('federated_filings')
        .select('id')
        .where('settled', '=', 0)
        .where('next_attempt_at', '<=', at)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute();
      const claimed: FederatedFilingRow[] = [];
      for (const { id } of candidates) {
        // The conditional update is the lease: of two processes exactly one changes the row.
        const row = await db
          .updateTable('federated_filings')
          .set({ lease_until: until })
          .where('id', '=', id)
          .where('settled', '=', 0)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
          .returningAll()
          .executeTakeFirst();
        if (row) claimed.push(toFiling(row));
      }
      return claimed;
    },

    async updateFiling(id, p: FederatedFilingPatch) {
      await db
        .updateTable('federated_filings')
        .set({
          lease_until: null,
          updated_at: p.updatedAt,
          ...(p.forwardStatus !== undefined ? { forward_status: p.forwardStatus } : {}),
          ...(p.remoteId !== undefined ? { remote_id: p.remoteId } : {}),
          ...(p.status !== undefined ? { status: p.status } : {}),
          ...(p.decision !== undefined ? { decision: p.decision === null ? null : JSON.stringify(p.decision) } : {}),
          ...(p.certificate !== undefined ? { certificate: p.certificate === null ? null : JSON.stringify(p.certificate) } : {}),
          ...(p.deliveryView !== undefined ? { delivery_view: p.deliveryView === null ? null : JSON.stringify(p.deliveryView) } : {}),
          ...(p.attempts !== undefined ? { attempts: p.attempts } : {}),
          ...(p.nextAttemptAt !== undefined ? { next_attempt_at: p.nextAttemptAt } : {}),
          ...(p.lastError !== undefined ? { last_error: p.lastError } : {}),
          ...(p.settled !== undefined ? { settled: p.settled ? 1 : 0 } : {}),
          ...(p.decidedAt !== undefined ? { decided_at: p.decidedAt } : {}),
        })
        .where('id', '=', id)
        .execute();
    },

    async putCertificate(c) {
      await db
        .insertInto('federated_certificates')
        .values({
          id: c.id,
          application_id: c.applicationId,
          city: c.city,
          holder_code: c.holderCode,
          summary: JSON.stringify(c.summary),
          sha256: c.sha256,
          pdf: toBuffer(c.pdf),
          fetched_at: c.fetchedAt,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },

    async getCertificate(id) {
      const r = await db.selectFrom('federated_certificates').select(CERTIFICATE_COLUMNS).where('id', '=', id).executeTakeFirst();
      return r === undefined ? null : toCertificate(r);
    },

    async getCertificatePdf(id) {
      const r = await db.selectFrom('federated_certificates').select('pdf').where('id', '=', id).executeTakeFirst();
      return r === undefined ? null : new Uint8Array(r.pdf);
    },

    async pinPeer(p) {
      await db
        .insertInto('federation_peers')
        .values({ city: p.city, base_url: p.baseUrl, anchors_pem: p.anchorsPem, origin: p.origin, pinned_at: p.pinnedAt })
        .onConflict((oc) => oc.column('city').doNothing())
        .execute();
      const r = await db.selectFrom('federation_peers').selectAll().where('city', '=', p.city).executeTakeFirstOrThrow();
      return { city: r.city, baseUrl: r.base_url, anchorsPem: r.anchors_pem, origin: r.origin, pinnedAt: r.pinned_at };
    },

    async getPeer(city) {
      const r = await db.selectFrom('federation_peers').selectAll().where('city', '=', city).executeTakeFirst();
      return r === undefined ? null : { city: r.city, baseUrl: r.base_url, anchorsPem: r.anchors_pem, origin: r.origin, pinnedAt: r.pinned_at };
    },

    async putMatter(m) {
      await db
        .insertInto('federation_matters')
        .values({ city: m.city, code: m.code, version: m.version, definition: m.definition, fetched_at: m.fetchedAt })
        .onConflict((oc) => oc.columns(['city', 'code']).doUpdateSet({ version: m.version, definition: m.definition, fetched_at: m.fetchedAt }))
        .execute();
    },

    async getMatter(city, code) {
      const r = await db.selectFrom('federation_matters').select(['version', 'definition', 'fetched_at']).where('city', '=', city).where('code', '=', code).executeTakeFirst();
      return r === undefined ? null : { version: r.version, definition: r.definition, fetchedAt: r.fetched_at };
    },

    async recordInbound(r) {
      await db
        .insertInto('federation_inbound')
        .values({ application_id: r.applicationId, origin_city: r.originCity, origin_id: r.originId, received_at: r.receivedAt })
        .onConflict((oc) => oc.column('application_id').doNothing())
        .execute();
    },

    async inbound(applicationId) {
      const r = await db.selectFrom('federation_inbound').select(['origin_city', 'origin_id']).where('application_id', '=', applicationId).executeTakeFirst();
      return r === undefined ? null : { originCity: r.origin_city, originId: r.origin_id };
    },
  };
}
