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
}

export interface IdempotencyKeysTable {
  applicant: string;
  key: string;
  application_id: string;
  body_hash: string;
  created_at: string;
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
}

export interface CertificateRevocationsTable {
  certificate_id: string;
  issuer_code: string;
  reason: string;
  revoked_by: string;
  revoked_at: string;
}

/** The Kysely database type of the store. */
export interface Database {
  applications: ApplicationsTable;
  idempotency_keys: IdempotencyKeysTable;
  outbox: OutboxTable;
  documents: DocumentsTable;
  certificates: CertificatesTable;
  serials: SerialsTable;
  data_access_log: DataAccessLogTable;
  certificate_revocations: CertificateRevocationsTable;
}
