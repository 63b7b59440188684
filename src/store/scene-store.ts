/**
 * Issue 16 repositories beside federation: 快递取送 deliveries, 授权查验 proof consents, and the 零材料 figure
 * (filings that needed no upload). Portable SQL for SQLite and PostgreSQL, like ./kysely-store.ts.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, DeliveriesTable, ProofConsentsTable } from './schema.js';
import type { ExpressDeliveryPatch, ExpressDeliveryRepository, ExpressDeliveryRow, ProofConsentRepository, ProofConsentRow, Store, TrackEvent } from './types.js';

function toDelivery(r: Selectable<DeliveriesTable>): ExpressDeliveryRow {
  return {
    applicationId: r.application_id,
    method: 'express',
    recipient: r.recipient,
    phone: r.phone,
    address: r.address,
    addressSource: r.address_source as ExpressDeliveryRow['addressSource'],
    status: r.status as ExpressDeliveryRow['status'],
    waybillNo: r.waybill_no,
    track: JSON.parse(r.track) as TrackEvent[],
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    settled: Number(r.settled) === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    bookedAt: r.booked_at,
  };
}

function toProofConsent(r: Selectable<ProofConsentsTable>): ProofConsentRow {
  return {
    id: r.id,
    certificateId: r.certificate_id,
    holder: r.holder,
    consumer: r.consumer,
    purpose: r.purpose,
    grantedAt: r.granted_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

export function deliveryRepository(db: Kysely<Database>): ExpressDeliveryRepository {
  return {
    async get(applicationId) {
      const r = await db.selectFrom('deliveries').selectAll().where('application_id', '=', applicationId).executeTakeFirst();
      return r === undefined ? null : toDelivery(r);
    },

    async claimDue(at, leaseMs, limit) {
      const until = new Date(Date.parse(at) + leaseMs).toISOString();
      const candidates = await db
        .selectFrom('deliveries')
        .select('application_id')
        .where('settled', '=', 0)
        .where('next_attempt_at', '<=', at)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute();
      const claimed: ExpressDeliveryRow[] = [];
      for (const { application_id } of candidates) {
        const row = await db
          .updateTable('deliveries')
          .set({ lease_until: until })
          .where('application_id', '=', application_id)
          .where('settled', '=', 0)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
          .returningAll()
          .executeTakeFirst();
        if (row) claimed.push(toDelivery(row));
      }
      return claimed;
    },

    async update(applicationId, p: ExpressDeliveryPatch) {
      await db
        .updateTable('deliveries')
        .set({
          lease_until: null,
          updated_at: p.updatedAt,
          ...(p.recipient !== undefined ? { recipient: p.recipient } : {}),
          ...(p.phone !== undefined ? { phone: p.phone } : {}),
          ...(p.address !== undefined ? { address: p.address } : {}),
          ...(p.addressSource !== undefined ? { address_source: p.addressSource } : {}),
          ...(p.status !== undefined ? { status: p.status } : {}),
          ...(p.waybillNo !== undefined ? { waybill_no: p.waybillNo } : {}),
          ...(p.track !== undefined ? { track: JSON.stringify(p.track) } : {}),
          ...(p.attempts !== undefined ? { attempts: p.attempts } : {}),
          ...(p.nextAttemptAt !== undefined ? { next_attempt_at: p.nextAttemptAt } : {}),
          ...(p.lastError !== undefined ? { last_error: p.lastError } : {}),
          ...(p.settled !== undefined ? { settled: p.settled ? 1 : 0 } : {}),
          ...(p.bookedAt !== undefined ? { booked_at: p.bookedAt } : {}),
        })
        .where('application_id', '=', applicationId)
        .execute();
    },
  };
}

export function proofConsentRepository(db: Kysely<Database>): ProofConsentRepository {
  return {
    async grant(c) {
      await db
        .insertInto('proof_consents')
        .values({ id: c.id, certificate_id: c.certificateId, holder: c.holder, consumer: c.consumer, purpose: c.purpose, granted_at: c.grantedAt, expires_at: c.expiresAt, revoked_at: null })
        .execute();
      return { ...c, revokedAt: null };
    },

    async get(id) {
      const r = await db.selectFrom('proof_consents').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? null : toProofConsent(r);
    },

    async list(holder) {
      const rows = await db.selectFrom('proof_consents').selectAll().where('holder', '=', holder).orderBy('granted_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(toProofConsent);
    },

    async revoke(id, holder, at) {
      await db.updateTable('proof_consents').set({ revoked_at: at }).where('id', '=', id).where('holder', '=', holder).where('revoked_at', 'is', null).execute();
      const r = await db.selectFrom('proof_consents').selectAll().where('id', '=', id).where('holder', '=', holder).executeTakeFirst();
      return r === undefined ? null : toProofConsent(r);
    },

    async standing(certificateId, consumer, at) {
      const r = await db
        .selectFrom('proof_consents')
        .selectAll()
        .where('certificate_id', '=', certificateId)
        .where('consumer', '=', consumer)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .orderBy('granted_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r === undefined ? null : toProofConsent(r);
    },
  };
}

/**
 * 零材料 in practice: automatically decided filings none of whose materials was to be uploaded for them (each was
 * verified or shared from data, reused from the archive, committed to, generated — or could not be verified, which
 * sends the filing to a person but asks the applicant for no file).
 */
export function withoutUploads(db: Kysely<Database>): Store['zeroUploads']['count'] {
  return async ({ matters, from, to }) => {
    if (matters !== undefined && matters.length === 0) return {};
    let q = db
      .selectFrom('application_figures as f')
      .select('f.matter')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('application_materials as m')
              .select('m.application_id')
              .whereRef('m.application_id', '=', 'f.application_id')
              .where('m.category', '=', 'uploaded'),
          ),
        ),
      );
    if (matters) q = q.where('f.matter', 'in', matters);
    if (from) q = q.where('f.created_at', '>=', from);
    if (to) q = q.where('f.created_at', '<', to);
    const rows = await q.groupBy('f.matter').execute();
    return Object.fromEntries(rows.map((r) => [r.matter, Number(r.n)]));
  };
}
