import type { ApplicationStatus, Consent, Decision, DecisionReceipt, SourceReadStatus } from '../domain/types.js';

/**
 * The repository layer. One implementation (Kysely) over SQLite and PostgreSQL.
 * Timestamps are ISO-8601 UTC strings; JSON columns are (de)serialised by the store.
 */

export interface NewApplication {
  id: string;
  matter: string;
  matterVersion: string;
  applicant: string;
  answers: Record<string, unknown>;
  form: Record<string, unknown>;
  consent: Consent;
  /** sha256 of the canonical request body, for Idempotency-Key comparison. */
  bodyHash: string;
  idempotencyKey: string | null;
  createdAt: string;
}

export interface ApplicationRow {
  id: string;
  matter: string;
  matterVersion: string;
  applicant: string;
  status: ApplicationStatus;
  answers: Record<string, unknown>;
  form: Record<string, unknown>;
  consent: Consent;
  bodyHash: string;
  decision: Decision | null;
  receipt: DecisionReceipt | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  decidedAt: string | null;
}

export type CreateResult =
  | { created: true; applicationId: string }
  /** The (applicant, idempotencyKey) pair exists already: nothing was written. */
  | { created: false; applicationId: string; bodyHash: string };

export interface OutboxEntry {
  id: number;
  applicationId: string;
  /** The application's status now: only a still-queued one needs enqueueing. */
  status: ApplicationStatus;
}

export type DocumentKind = 'form';

export interface StoredDocument {
  applicationId: string;
  kind: DocumentKind;
  sha256: string;
  bytes: Uint8Array;
  createdAt: string;
}

export interface NewCertificate {
  id: string;
  applicationId: string;
  matter: string;
  number: string;
  /** 证照标识 per GB/T 36904. */
  licenseId: string;
  holderCode: string;
  holderName: string;
  issuerCode: string;
  issuerName: string;
  /** What an "active filing for the same thing" means for this matter, e.g. `USCC|regionCode`. */
  subjectKey: string;
  issuedAt: string;
  validUntil: string | null;
  /** Random code printed in the QR link; the id alone reveals nothing. */
  verifyCode: string;
  sha256: string;
  pdf: Uint8Array;
}

export interface CertificateRow extends Omit<NewCertificate, 'pdf'> {
  status: 'valid' | 'revoked' | 'superseded';
}

/** A revocation as recorded and published: who revoked which certificate, when and why. */
export interface Revocation {
  certificateId: string;
  number: string;
  licenseId: string;
  sha256: string;
  issuerCode: string;
  reason: string;
  /** `sub` of the admin who revoked it. */
  revokedBy: string;
  revokedAt: string;
}

export type RevokeResult =
  | { revoked: true; revocation: Revocation }
  /** Nothing changed: the certificate is missing (null) or revoked already. */
  | { revoked: false; current: CertificateRow | null };

export interface DataAccessEntry {
  requester: string;
  applicationId: string | null;
  source: string;
  key: string;
  purpose: string;
  status: SourceReadStatus;
  responseHash: string;
  at: string;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  applications: {
    /** Application row + outbox row (+ idempotency row when a key is given) in one transaction. */
    create(app: NewApplication): Promise<CreateResult>;
    get(id: string): Promise<ApplicationRow | null>;
    /** queued|processing → processing, attempts+1. Null when the row is missing or already terminal. */
    startProcessing(id: string, at: string): Promise<ApplicationRow | null>;
    /** Sets a terminal status with its decision and receipt, only if the row is not terminal yet. */
    complete(id: string, result: { status: ApplicationStatus; decision: Decision; receipt: DecisionReceipt; at: string }): Promise<boolean>;
    /** Records the last error of a failed attempt; `terminal` moves the row to `failed`. */
    recordError(id: string, error: string, at: string, terminal: boolean): Promise<void>;
    /** Ids of rows still queued/processing whose updated_at is before `before` (for the reconciler). */
    listUnfinished(before: string, limit: number): Promise<string[]>;
  };
  outbox: {
    /** Oldest rows not yet marked enqueued, optionally only those created before a time. */
    pending(limit: number, createdBefore?: string): Promise<OutboxEntry[]>;
    markEnqueued(ids: number[], at: string): Promise<void>;
  };
  documents: {
    /** Insert once; a second put for the same (applicationId, kind) keeps the first. */
    put(doc: StoredDocument): Promise<void>;
    get(applicationId: string, kind: DocumentKind): Promise<StoredDocument | null>;
  };
  certificates: {
    /**
     * Insert; if one exists for the application already, returns that one unchanged (one certificate per filing).
     * A new certificate supersedes the valid ones with the same (matter, subjectKey) in the same transaction.
     */
    insert(cert: NewCertificate): Promise<CertificateRow>;
    get(id: string): Promise<CertificateRow | null>;
    getPdf(id: string): Promise<Uint8Array | null>;
    byApplication(applicationId: string): Promise<CertificateRow | null>;
    findValid(matter: string, subjectKey: string): Promise<CertificateRow | null>;
    /** Atomically increments and returns a named counter (certificate serial numbers). */
    nextSerial(name: string): Promise<number>;
    /** The certificate whose stored file has this sha256 (hex), if any. */
    bySha256(sha256: string): Promise<CertificateRow | null>;
  };
  revocations: {
    /** Marks a not-yet-revoked certificate revoked and records who/when/why, in one transaction. */
    revoke(r: { certificateId: string; reason: string; revokedBy: string; at: string }): Promise<RevokeResult>;
    get(certificateId: string): Promise<Revocation | null>;
    /** Every revocation of the issuing department `issuerCode`, oldest first. */
    list(issuerCode: string): Promise<Revocation[]>;
  };
  dataAccess: {
    record(entries: DataAccessEntry[]): Promise<void>;
    forApplication(applicationId: string): Promise<DataAccessEntry[]>;
  };
  /** Throws when the database is unreachable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
