import type { ColumnType, Generated } from 'kysely';
import type { ApplicationStatus, SourceReadStatus } from '../domain/types.js';

/*
 * Row shapes as the database sees them (snake_case, JSON as text, binary as Buffer).
 * The mapping to the camelCase contract in ./types.ts lives in ./kysely-store.ts.
 */

/** `bigserial`/`bigint` come back from pg as strings; SQLite gives numbers. Normalise with Number(). */
type Int64 = ColumnType<number | string, number, number>;
type AutoId = ColumnType<number | string, never, never>;
type Binary = ColumnType<Buffer, Buffer, never>;

export interface ApplicationsTable {
  id: string;
  matter: string;
  matter_version: string;
  applicant: string;
  status: ApplicationStatus;
  answers: string;
  form: string;
  consent: string;
  body_hash: string;
  decision: string | null;
  receipt: string | null;
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  decided_at: string | null;
  /** 申请编号 沈YYYYMMDDnnnnn (migration 0040); null for rows filed before it. */
  number: string | null;
}

export interface ApplicationNumberDaysTable {
  day: string;
  last: number;
}

export interface IdempotencyKeysTable {
  applicant: string;
  key: string;
  application_id: string;
  body_hash: string;
  created_at: string;
  /** Migration 0052: when the key may be used again (null: kept). */
  expires_at: string | null;
  response_status: number | null;
  response_body: string | null;
}

export interface OutboxTable {
  id: AutoId;
  application_id: string;
  created_at: string;
  enqueued_at: string | null;
}

export interface DocumentsTable {
  application_id: string;
  kind: string;
  sha256: string;
  bytes: Binary;
  created_at: string;
}

export interface CertificatesTable {
  id: string;
  application_id: string;
  matter: string;
  number: string;
  license_id: string;
  holder_code: string;
  holder_name: string;
  issuer_code: string;
  issuer_name: string;
  subject_key: string;
  issued_at: string;
  valid_until: string | null;
  verify_code: string;
  sha256: string;
  status: Generated<'valid' | 'revoked' | 'superseded'>;
  pdf: Binary;
}

export interface SerialsTable {
  name: string;
  value: Int64;
}

export interface DataAccessLogTable {
  id: AutoId;
  requester: string;
  application_id: string | null;
  source: string;
  key: string;
  purpose: string;
  status: SourceReadStatus;
  response_hash: string;
  at: string;
  /** Added by 0003: the matter read for, the consent relied on, `source` or `cache`. */
  matter: ColumnType<string | null, string | null | undefined, never>;
  consent_id: ColumnType<string | null, string | null | undefined, never>;
  origin: ColumnType<string | null, string | null | undefined, never>;
}

export interface CertificateRevocationsTable {
  certificate_id: string;
  issuer_code: string;
  reason: string;
  revoked_by: string;
  revoked_at: string;
  /** When its `certificate.revoked` deliveries were written (migration 0054); null: still to announce. */
  announced_at: string | null;
}

export interface WebhooksTable {
  id: string;
  owner: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  secret: string;
  status: Generated<'active' | 'disabled'>;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: Generated<'pending' | 'delivered' | 'failed'>;
  /** JSON array of DeliveryAttempt. */
  attempts: Generated<string>;
  created_at: string;
  delivered_at: string | null;
}

export interface ConsentsTable {
  id: string;
  subject: string;
  matter: string;
  purpose: string;
  /** JSON array of source ids. */
  sources: string;
  application_id: string | null;
  granted_at: string;
  expires_at: string;
  ended_at: string | null;
  ended_reason: 'revoked' | 'superseded' | null;
}

export interface ApplicationConsentsTable {
  application_id: string;
  consent_id: string;
  granted: number;
}

export interface ArchiveMaterialsTable {
  id: string;
  subject: string;
  matter: string;
  material: string;
  name: string;
  media_type: string;
  size: number;
  sha256: string;
  file_name: string | null;
  valid_until: string | null;
  uploaded_at: string;
  bytes: Binary;
}

export interface ApplicationMaterialsTable {
  application_id: string;
  material: string;
  matter: string;
  name: string;
  how: string;
  status: string;
  category: string;
  archive_id: string | null;
  commitment: string | null;
}

export interface ApplicationFiguresTable {
  application_id: string;
  matter: string;
  outcome: 'APPROVE' | 'REJECT' | 'MANUAL';
  created_at: string;
  decided_at: string;
  decision_ms: number;
  fields_prefilled: number;
  fields_typed: number;
  fallout_rules: string;
  /** Pre-filled fields whose source could not answer, filled from what the applicant typed (0014). */
  fields_fallback: Generated<number>;
  /** Fields the filing printed (0014; NULL for filings decided before). */
  fields_total: number | null;
}

/** The Kysely database type of the store. */
export interface FollowUpsTable {
  application_id: string;
  step: string;
  matter: string;
  name: string;
  status: 'scheduled' | 'done';
  due_at: string;
  done_at: string | null;
  detail: string | null;
}

export interface ESealSignLogTable {
  id: string;
  application_id: string;
  subject: string;
  seal_id: string;
  platform: string;
  purpose: string;
  digest_algorithm: string;
  digest: string;
  result: 'signed' | 'failed';
  error: string | null;
  signature_sha256: string | null;
  at: string;
}

export interface DevESealsTable {
  code: string;
  seal_id: string;
  name: string;
  status: string;
  valid_until: string;
  certificate: Binary;
  private_key: Binary;
  created_at: string;
}

export interface CertificateOfdTable {
  certificate_id: string;
  sha256: string;
  bytes: Binary;
  suite: string;
  created_at: string;
}

/** 一件事 bundles (0009): the bundle application, its members, its e-form and notices. */
export interface BundleApplicationsTable {
  id: string;
  bundle: string;
  bundle_version: string;
  applicant: string;
  status: Generated<'processing' | 'completed'>;
  answers: string;
  form: string;
  consent: string;
  body_hash: string;
  idempotency_key: string | null;
  /** When the key stops deduplicating (migration 0055); null: kept. */
  idempotency_expires_at: string | null;
  /** JSON {status, body} a replay answers; null: the default answer. */
  idempotency_response: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  next_check_at: string | null;
  checks: Generated<number>;
}

export interface BundleMembersTable {
  bundle_id: string;
  matter: string;
  position: number;
  application_id: string | null;
  seen_status: Generated<string>;
  decided_at: string | null;
}

export interface BundleDocumentsTable {
  bundle_id: string;
  kind: 'form' | 'notice';
  seq: number;
  number: string | null;
  digest: string;
  sha256: string;
  bytes: Binary;
  created_at: string;
}

export interface AwaitedResultsTable {
  application_id: string;
  source: string;
  key_hash: string;
  created_at: string;
}

/** Issue 16 (0011-federation): peers' pinned anchors and catalogs, filings forwarded to owners, proofs' consents, deliveries. */
export interface FederationPeersTable {
  city: string;
  base_url: string;
  anchors_pem: string;
  origin: 'tofu' | 'file';
  pinned_at: string;
}

export interface FederationMattersTable {
  city: string;
  code: string;
  version: string;
  definition: string;
  fetched_at: string;
}

export interface FederatedFilingsTable {
  id: string;
  city: string;
  matter: string;
  matter_version: string;
  applicant: string;
  answers: string;
  form: string;
  consent: string;
  delivery: string | null;
  body_hash: string;
  idempotency_key: string | null;
  /** When the key stops deduplicating (migration 0055); null: kept. */
  idempotency_expires_at: string | null;
  /** JSON {status, body} a replay answers; null: the default answer. */
  idempotency_response: string | null;
  forward_status: 'pending' | 'forwarded' | 'refused';
  remote_id: string | null;
  status: ApplicationStatus;
  decision: string | null;
  certificate: string | null;
  delivery_view: string | null;
  attempts: number;
  next_attempt_at: string;
  lease_until: string | null;
  last_error: string | null;
  settled: number;
  created_at: string;
  updated_at: string;
  decided_at: string | null;
}

export interface FederatedCertificatesTable {
  id: string;
  application_id: string;
  city: string;
  holder_code: string;
  summary: string;
  sha256: string;
  pdf: Binary;
  fetched_at: string;
}

export interface FederationInboundTable {
  application_id: string;
  origin_city: string;
  origin_id: string;
  received_at: string;
}

export interface ProofConsentsTable {
  id: string;
  certificate_id: string;
  holder: string;
  consumer: string;
  purpose: string;
  granted_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface DeliveriesTable {
  application_id: string;
  method: string;
  recipient: string | null;
  phone: string | null;
  address: string | null;
  address_source: string | null;
  status: string;
  waybill_no: string | null;
  track: string;
  attempts: number;
  next_attempt_at: string;
  lease_until: string | null;
  last_error: string | null;
  settled: number;
  created_at: string;
  updated_at: string;
  booked_at: string | null;
}

export interface Database {
  applications: ApplicationsTable;
  application_number_days: ApplicationNumberDaysTable;
  idempotency_keys: IdempotencyKeysTable;
  outbox: OutboxTable;
  documents: DocumentsTable;
  certificates: CertificatesTable;
  serials: SerialsTable;
  data_access_log: DataAccessLogTable;
  certificate_revocations: CertificateRevocationsTable;
  consents: ConsentsTable;
  application_consents: ApplicationConsentsTable;
  archive_materials: ArchiveMaterialsTable;
  application_materials: ApplicationMaterialsTable;
  application_figures: ApplicationFiguresTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  follow_ups: FollowUpsTable;
  eseal_sign_log: ESealSignLogTable;
  dev_eseals: DevESealsTable;
  certificate_ofd: CertificateOfdTable;
  bundle_applications: BundleApplicationsTable;
  bundle_members: BundleMembersTable;
  bundle_documents: BundleDocumentsTable;
  awaited_results: AwaitedResultsTable;
  federation_peers: FederationPeersTable;
  federation_matters: FederationMattersTable;
  federated_filings: FederatedFilingsTable;
  federated_certificates: FederatedCertificatesTable;
  federation_inbound: FederationInboundTable;
  proof_consents: ProofConsentsTable;
  deliveries: DeliveriesTable;
  leases: LeasesTable;
  serial_claims: SerialClaimsTable;
}

export interface LeasesTable {
  name: string;
  holder: string;
  until: string;
}

export interface SerialClaimsTable {
  name: string;
  value: number | string;
  claimant: string;
  claimed_at: string;
}
