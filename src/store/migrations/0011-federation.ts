import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Issue 16: 都市圈通办 across city nodes, 证明在线开具 (授权查验) and 快递取送.
 *
 * - `federation_peers`: a peer city's trust anchors, pinned on first contact (or from FEDERATION_TRUST_DIR).
 * - `federation_matters`: the peer's matter definitions as last fetched, so a filing for a peer's matter is checked
 *   against the owner's schema even while the owner is down.
 * - `federated_filings`: filings received here for another city's matter; the row is the outbox to the owner
 *   (forward_status) and the mirror of the owner's status, decision, certificate and delivery.
 * - `federated_certificates`: the owner's signed PDF, byte for byte, served to the applicant here.
 * - `federation_inbound`: at the owner, which local application a peer's filing became (one per origin id).
 * - `proof_consents`: a holder's consent that one consumer may fetch one proof (证明), until revoked or expired.
 * - `deliveries`: 快递取送 of a filing's paper certificate: the request at filing, the booking with the courier
 *   (retried with back-off) and the track.
 */
export function federation(ctx: MigrationContext): Migration {
  const binary = ctx.dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('federation_peers')
        .addColumn('city', 'text', (c) => c.primaryKey())
        .addColumn('base_url', 'text', (c) => c.notNull())
        .addColumn('anchors_pem', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('pinned_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('federation_matters')
        .addColumn('city', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('fetched_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('federation_matters_pk', ['city', 'code'])
        .execute();

      await db.schema
        .createTable('federated_filings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('city', 'text', (c) => c.notNull())
        .addColumn('matter', 'text', (c) => c.notNull())
        .addColumn('matter_version', 'text', (c) => c.notNull())
        .addColumn('applicant', 'text', (c) => c.notNull())
        .addColumn('answers', 'text', (c) => c.notNull())
        .addColumn('form', 'text', (c) => c.notNull())
        .addColumn('consent', 'text', (c) => c.notNull())
        .addColumn('delivery', 'text')
        .addColumn('body_hash', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text')
        .addColumn('forward_status', 'text', (c) => c.notNull().defaultTo('pending'))
        .addColumn('remote_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued'))
        .addColumn('decision', 'text')
        .addColumn('certificate', 'text')
        .addColumn('delivery_view', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('lease_until', 'text')
        .addColumn('last_error', 'text')
        .addColumn('settled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text')
        .execute();
      await db.schema.createIndex('federated_filings_due').on('federated_filings').columns(['settled', 'next_attempt_at']).execute();
      await db.schema.createIndex('federated_filings_applicant').on('federated_filings').columns(['applicant', 'created_at']).execute();
      // Idempotency-Key of a filing for another city (idempotency_keys references local applications only).
      await db.schema.createIndex('federated_filings_idempotency').on('federated_filings').columns(['applicant', 'idempotency_key']).unique().execute();

      await db.schema
        .createTable('federated_certificates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('application_id', 'text', (c) => c.notNull().unique().references('federated_filings.id'))
        .addColumn('city', 'text', (c) => c.notNull())
        .addColumn('holder_code', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('pdf', binary, (c) => c.notNull())
        .addColumn('fetched_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('federated_certificates_sha256').on('federated_certificates').column('sha256').execute();

      await db.schema
        .createTable('federation_inbound')
        .addColumn('application_id', 'text', (c) => c.primaryKey().references('applications.id'))
        .addColumn('origin_city', 'text', (c) => c.notNull())
        .addColumn('origin_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('federation_inbound_origin', ['origin_city', 'origin_id'])
        .execute();

      await db.schema
        .createTable('proof_consents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('certificate_id', 'text', (c) => c.notNull().references('certificates.id'))
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('consumer', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('proof_consents_certificate_consumer').on('proof_consents').columns(['certificate_id', 'consumer']).execute();
      await db.schema.createIndex('proof_consents_holder').on('proof_consents').columns(['holder', 'granted_at']).execute();

      await db.schema
        .createTable('deliveries')
        .addColumn('application_id', 'text', (c) => c.primaryKey().references('applications.id'))
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text')
        .addColumn('phone', 'text')
        .addColumn('address', 'text')
        .addColumn('address_source', 'text')
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
        .addColumn('waybill_no', 'text')
        .addColumn('track', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('lease_until', 'text')
        .addColumn('last_error', 'text')
        .addColumn('settled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('booked_at', 'text')
        .execute();
      await db.schema.createIndex('deliveries_due').on('deliveries').columns(['settled', 'next_attempt_at']).execute();
    },
  };
}
