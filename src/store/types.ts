import type { AuditCheckpointStore, SigningRevocationStore } from './audit-checkpoint-store.js';
import type { AuthoringStore } from './authoring-store.js';
import type { ApplicationStatus, Consent, Decision, DecisionReceipt, SourceReadStatus } from '../domain/types.js';
import type { DecisionTimes } from '../domain/figures.js';

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
  /** When the Idempotency-Key stops deduplicating (issue 17); null or absent: kept. */
  idempotencyExpiresAt?: string | null;
  /** The answer a replay with the same key and body gets: stored with the key. */
  response?: { status: number; body: unknown };
  createdAt: string;
  /** Prefix of the 申请编号 (the city's abbreviation, 沈 for 210100); default 沈. The number is claimed by the store. */
  numberPrefix?: string;
  /**
   * The data-sharing consent this filing rests on (issue 4): one it gives now (`grant`, which supersedes the
   * subject's earlier consent for the matter) or one given before (`reuse`, its id). Written in the same transaction.
   */
  dataConsent?: { grant: NewConsent } | { reuse: string };
  /** 快递取送 asked for at filing (issue 16): written in the same transaction, booked after issuing. */
  delivery?: DeliveryRequest;
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
  /** 申请编号 `沈2026120400017` (Beijing day + that day's counter); null for filings older than migration 0040. */
  number: string | null;
}

export type CreateResult =
  /** `number`: the 申请编号 claimed (null for a filing held here for another city's node). */
  | { created: true; applicationId: string; number: string | null }
  /** The (applicant, idempotencyKey) pair exists already: nothing was written. */
  | { created: false; applicationId: string; bodyHash: string; response?: { status: number; body: unknown } | null };

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

/** The OFD of a certificate: `suite` says which signature suite asked for it (`gm` at issuance, `intl` on request). */
export interface OfdDocument {
  certificateId: string;
  sha256: string;
  bytes: Uint8Array;
  suite: 'intl' | 'gm';
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
  /** Row id (set when read back; a cursor for paging). */
  id?: number;
  /** The matter the read was for (also for guidance and pre-check, which have no application). */
  matter?: string | null;
  /** The consent the read relied on; null for reads made at the subject's own request (guide, pre-check). */
  consentId?: string | null;
  /** `source` (asked the data source) or `cache` (its answer within the source's TTL). */
  origin?: 'source' | 'cache' | null;
}

export interface NewConsent {
  id: string;
  subject: string;
  matter: string;
  /** 申请事由: what the data is read for. */
  purpose: string;
  /** Data-source ids the consent covers; no other source is read under it. */
  sources: string[];
  grantedAt: string;
  expiresAt: string;
}

export interface ConsentRow extends NewConsent {
  /** The filing that carried it. */
  applicationId: string | null;
  endedAt: string | null;
  endedReason: 'revoked' | 'superseded' | null;
}

export interface NewArchiveMaterial {
  id: string;
  subject: string;
  matter: string;
  material: string;
  name: string;
  mediaType: 'application/pdf' | 'image/jpeg' | 'image/png';
  sha256: string;
  fileName: string | null;
  /** Last day (YYYY-MM-DD, China time) it may be reused; null = no end. */
  validUntil: string | null;
  uploadedAt: string;
  bytes: Uint8Array;
}

export interface ArchiveMaterialRow extends Omit<NewArchiveMaterial, 'bytes'> {
  size: number;
}

/** How one filing obtained one material, and the supervision figure it counts in. */
export interface FilingMaterial {
  material: string;
  name: string;
  how: string;
  status: string;
  category: 'exempted' | 'reused' | 'uploaded' | 'committed' | 'generated' | 'missing';
  archiveId: string | null;
  commitment: string | null;
}

/** Per-filing figures written with the automatic decision. */
export interface FilingFigures {
  applicationId: string;
  matter: string;
  outcome: 'APPROVE' | 'REJECT' | 'MANUAL';
  createdAt: string;
  decidedAt: string;
  decisionMs: number;
  fieldsPrefilled: number;
  fieldsTyped: number;
  /** Pre-filled fields whose source could not answer and that took the applicant's typed value (counted in typed too). */
  fieldsFallback: number;
  /** Fields the filing printed. */
  fieldsTotal: number;
  /** Rule ids that kept the filing from automatic approval. */
  falloutRules: string[];
}

/** Raw per-matter aggregates over filings created in a window. */
export interface MatterAggregates {
  matter: string;
  filings: number;
  byStatus: Record<string, number>;
  byOutcome: Record<'APPROVE' | 'REJECT' | 'MANUAL', number>;
  /** Decision times in ms: how many, nearest-rank median and 95th percentile. */
  decisionMs: DecisionTimes;
  materials: Record<FilingMaterial['category'], number>;
  fieldsPrefilled: number;
  fieldsTyped: number;
  fallout: Record<string, number>;
  /** Sum of fields_fallback. */
  fieldsFallback: number;
  /** Over filings that recorded their field total: fields printed and, of them, typed. */
  fieldsCounted: { total: number; typed: number };
  /** Decided filings with no uploaded material (an archive item used for the first time counts as an upload). */
  zeroUploadFilings: number;
  /** Materials by how they were actually obtained: 证照共享 / 数据核验 / 材料复用 / 业务协同 / 告知承诺 / 系统生成 / upload / missing. */
  materialsByAcquisition: Record<string, number>;
}

/** Paging and filters of the data-access queries, newest first. */
export interface DataAccessQuery {
  limit: number;
  /** Only rows with a smaller id (the last id of the previous page). */
  beforeId?: number;
  source?: string;
  key?: string;
  applicationId?: string;
}

/** Filters of GET /v1/certificates; results come oldest first by (issuedAt, id), after the cursor. */
export interface CertificateFilter {
  holderCode?: string;
  issuerCode?: string;
  matter?: string;
  /** ISO-8601; certificates issued at or after it. */
  issuedSince?: string;
  /** Keyset cursor: the last row of the previous page. */
  after?: { issuedAt: string; id: string };
  limit: number;
}

/** `bundle.*` (issue 14): a member of a 一件事 decided, and every member decided; `delivery.updated` (issue 16): a waybill was
 * booked or its status changed (快递取送). */
export type WebhookEventType = 'certificate.issued' | 'certificate.revoked' | 'bundle.member.decided' | 'bundle.completed' | 'delivery.updated';

export interface NewWebhook {
  id: string;
  /** `sub` of the consumer that registered it; only it sees the webhook. */
  owner: string;
  url: string;
  events: WebhookEventType[];
  /** HMAC-SHA256 key; returned to the owner once, kept to sign every delivery. */
  secret: string;
  createdAt: string;
}

export interface WebhookRow extends NewWebhook {
  status: 'active' | 'disabled';
}

export interface NewDelivery {
  id: string;
  webhookId: string;
  /** CloudEvents id: one event reaches one webhook once (unique with webhookId). */
  eventId: string;
  eventType: WebhookEventType;
  /** The exact body sent on every attempt (CloudEvents JSON). */
  payload: string;
  createdAt: string;
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface DeliveryRow extends NewDelivery {
  status: 'pending' | 'delivered' | 'failed';
  attempts: DeliveryAttempt[];
  deliveredAt: string | null;
}

export interface FollowUpRow {
  applicationId: string;
  step: string;
  matter: string;
  name: string;
  status: 'scheduled' | 'done';
  dueAt: string;
  doneAt: string | null;
  detail: string | null;
}

/** One sign request sent to the e-seal platform for a filing (issue 12 audit). */
export interface ESealSignEntry {
  id: string;
  applicationId: string;
  /** USCC of the enterprise (or 身份号码 of the person) whose seal was used. */
  subject: string;
  sealId: string;
  /** `http` (the platform at ESEAL_URL) or `development` (the in-process authority). */
  platform: string;
  /** What the authorisation covered, e.g. 粮食收购企业备案申请表 签章. */
  purpose: string;
  digestAlgorithm: 'sha256' | 'sm3';
  /** Hex of the digest sent. */
  digest: string;
  result: 'signed' | 'failed';
  error: string | null;
  /** sha256 (hex) of the signature returned. */
  signatureSha256: string | null;
  at: string;
}

/** A seal of the in-process development e-seal authority (embedded default only). */
export interface DevSealRow {
  code: string;
  sealId: string;
  name: string;
  status: '有效' | '注销' | '挂失';
  validUntil: string;
  certificate: Uint8Array;
  privateKey: Uint8Array;
  createdAt: string;
}

/** A 一件事 filing as accepted (DESIGN.md §10): written with its members and consents in one transaction. */
export interface NewBundleApplication {
  id: string;
  bundle: string;
  bundleVersion: string;
  applicant: string;
  answers: Record<string, string>;
  form: Record<string, unknown>;
  consent: Consent;
  /** Member matter codes in the bundle's order: those that apply and were asked for, plus the proactive ones. */
  members: string[];
  bodyHash: string;
  idempotencyKey: string | null;
  /** When the Idempotency-Key stops deduplicating (issue 17); null or absent: kept. */
  idempotencyExpiresAt?: string | null;
  /** The answer a replay with the same key and body gets: stored with the key. */
  response?: { status: number; body: unknown };
  createdAt: string;
  /** One data-sharing consent per member matter (the one consent given, recorded per matter). */
  consents: NewConsent[];
}

/** What the orchestrator and the API need of a member's application. */
export interface BundleMemberApplication {
  status: ApplicationStatus;
  decision: Decision | null;
  createdAt: string;
  decidedAt: string | null;
}

export interface BundleMemberRow {
  matter: string;
  position: number;
  /** The member's own application, once its dependencies were decided and it was started. */
  applicationId: string | null;
  /** The status the orchestrator last acted on (`pending` before it started). */
  seenStatus: string;
  decidedAt: string | null;
  application: BundleMemberApplication | null;
  certificate: { id: string; number: string } | null;
}

export interface BundleApplicationRow {
  id: string;
  bundle: string;
  bundleVersion: string;
  applicant: string;
  status: 'processing' | 'completed';
  answers: Record<string, string>;
  form: Record<string, unknown>;
  consent: Consent;
  bodyHash: string;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  nextCheckAt: string | null;
  checks: number;
  members: BundleMemberRow[];
}

export type CreateBundleResult = { created: true; id: string } | { created: false; id: string; bodyHash: string; response: { status: number; body: unknown } | null };

export interface BundleDocument {
  bundleId: string;
  kind: 'form' | 'notice';
  seq: number;
  /** The notice's number (告知书编号); null for the e-form. */
  number: string | null;
  /** Hash of what the document says (a new notice only when an outcome changed). */
  digest: string;
  sha256: string;
  bytes: Uint8Array;
  createdAt: string;
}

/** A member application to start: the ordinary application row, the bundle's e-form as its form, the consent it uses. */
export interface StartMember {
  bundleId: string;
  matter: string;
  application: Omit<NewApplication, 'dataConsent' | 'idempotencyKey'>;
  /** The bundle's sealed e-form, or null when the applicant's seal could not be used. */
  form: { sha256: string; bytes: Uint8Array; createdAt: string } | null;
  consentId: string | null;
}

/** Per-bundle supervision figures over bundle filings created in a window. */
export interface BundleAggregates {
  bundle: string;
  filings: number;
  completed: number;
  /** ms from receipt to every member decided, ascending. */
  completionMs: number[];
  members: Array<{
    matter: string;
    filed: number;
    byStatus: Record<string, number>;
    /** Decided by the rules (no person): approved/rejected by the worker. */
    autoDecided: number;
    /** Decided by a person after manual review. */
    manualDecided: number;
    fallout: Record<string, number>;
  }>;
}

export interface BundleStore {
  /** Bundle row, member rows and consents in one transaction; an (applicant, key) seen before writes nothing. */
  create(b: NewBundleApplication): Promise<CreateBundleResult>;
  get(id: string): Promise<BundleApplicationRow | null>;
  /** The applicant's bundle filings, newest first. */
  forApplicant(applicant: string, limit: number): Promise<BundleApplicationRow[]>;
  /** Bundle filings with a member among `matters` (a department's), newest first. */
  forMatters(matters: string[], opts: { limit: number; status?: 'processing' | 'completed' }): Promise<BundleApplicationRow[]>;
  /**
   * Starts a member: its application (queued) + outbox row + the bundle's e-form as its form + its consent link, and
   * the member row points at it — in one transaction, once. Returns the member's application id.
   */
  startMember(m: StartMember): Promise<string>;
  /** Records the statuses the orchestrator acted on. */
  markSeen(bundleId: string, seen: Array<{ matter: string; status: string; decidedAt: string | null }>, at: string): Promise<void>;
  /** processing → completed, once; false when it was completed already. */
  complete(bundleId: string, at: string): Promise<boolean>;
  /** When the reconciler looks at the bundle next (null: not while nothing changes). */
  scheduleCheck(bundleId: string, at: string | null, checks: number): Promise<void>;
  /** Bundles to advance now: due checks, and members whose application status changed since last seen. */
  needingAttention(now: string, limit: number): Promise<string[]>;
  /** Inserts once per (bundle, kind, digest); returns the stored one (the earlier one when it existed). */
  putDocument(d: Omit<BundleDocument, 'seq'>): Promise<BundleDocument>;
  latestDocument(bundleId: string, kind: 'form' | 'notice'): Promise<BundleDocument | null>;
  documentBySha256(sha256: string): Promise<Omit<BundleDocument, 'bytes'> | null>;
  aggregate(bundle: string, filter: { from?: string; to?: string }): Promise<BundleAggregates>;
  /** Filings waiting for another department's record (业务协同), by source and key hash. */
  awaited: {
    /** Replaces the application's waits. */
    record(applicationId: string, waits: Array<{ source: string; keyHash: string }>, at: string): Promise<void>;
    /** Applications in manual_review waiting for `source` under this key hash. */
    find(source: string, keyHash: string): Promise<string[]>;
  };
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Named leases for periodic passes that one process at a time should run (issue 13). */
  leases: {
    /** Takes the lease `name` for `holder` until `at + ttlMs` when free, expired or already held by `holder`. */
    acquire(name: string, holder: string, at: string, ttlMs: number): Promise<boolean>;
    /** Gives the lease up (only if `holder` has it), so another process need not wait for it to expire. */
    release(name: string, holder: string): Promise<void>;
    /** Who holds the lease at `at`, or null. */
    holder(name: string, at: string): Promise<string | null>;
  };
  /** Idempotency-Keys past their expiry (issue 17): of filings, of 一件事 bundles, of filings for another city. */
  idempotency: {
    /**
     * Removes up to `limit` keys of each kind whose expiry is at or before `at` (the filings' rows drop their
     * bundle or federated key; the filings stay); returns how many.
     */
    purgeExpired(at: string, limit: number): Promise<number>;
  };
  applications: {
    /** Application row + outbox row (+ idempotency row when a key is given) in one transaction. */
    create(app: NewApplication): Promise<CreateResult>;
    /**
     * Several filings in one transaction (group commit at intake, issue 13); results in the order given. All or
     * nothing: on an error nothing of the batch is written.
     */
    createMany(apps: readonly NewApplication[]): Promise<CreateResult[]>;
    get(id: string): Promise<ApplicationRow | null>;
    /** queued|processing → processing, attempts+1. Null when the row is missing or already terminal. */
    startProcessing(id: string, at: string): Promise<ApplicationRow | null>;
    /** Sets a terminal status with its decision and receipt, only if the row is not terminal yet. */
    complete(id: string, result: { status: ApplicationStatus; decision: Decision; receipt: DecisionReceipt; at: string }): Promise<boolean>;
    /** Records the last error of a failed attempt; `terminal` moves the row to `failed`. */
    recordError(id: string, error: string, at: string, terminal: boolean): Promise<void>;
    /** Ids of rows still queued/processing whose updated_at is before `before` (for the reconciler). */
    listUnfinished(before: string, limit: number): Promise<string[]>;
    /** Rows in `status` last updated before `before`, oldest first. */
    listInStatus(status: ApplicationStatus, before: string, limit: number): Promise<ApplicationRow[]>;
    /** manual_review → queued (to decide again once awaited data arrived); false when the row moved on meanwhile. */
    reopen(id: string, at: string): Promise<boolean>;
    /** 我的办件 (issue 18): the applicant's own filings, newest first, after the cursor (createdAt, id) when given. */
    listByApplicant(applicant: string, opts: { limit: number; before?: { createdAt: string; id: string } }): Promise<ApplicationRow[]>;
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
    /**
     * The number of counter `name` that `claimant` (a filing) holds: claimed in one transaction with the counter the
     * first time, the same number on every later call. Concurrent claims never share or skip a number.
     */
    claimSerial(name: string, claimant: string, at: string): Promise<number>;
    /** The certificate whose stored file has this sha256 (hex), if any. */
    bySha256(sha256: string): Promise<CertificateRow | null>;
    /** One page of certificates matching the filter, oldest first (keyset pagination). */
    list(filter: CertificateFilter): Promise<CertificateRow[]>;
    /**
     * Ids and issue times of the certificates after `after` in (issuedAt, id) order, at most `limit`: what the
     * issued-certificate feed walks. Read from the (issued_at, id) index alone, starting at `after`.
     */
    issuedAfter(after: { issuedAt: string; id: string }, limit: number): Promise<Array<{ id: string; issuedAt: string }>>;
  };
  revocations: {
    /** Marks a not-yet-revoked certificate revoked and records who/when/why, in one transaction. */
    revoke(r: { certificateId: string; reason: string; revokedBy: string; at: string }): Promise<RevokeResult>;
    get(certificateId: string): Promise<Revocation | null>;
    /** Every revocation of the issuing department `issuerCode`, oldest first. */
    list(issuerCode: string): Promise<Revocation[]>;
    /**
     * The outbox of `certificate.revoked` (issue 17): revocations recorded at or before `before` whose deliveries
     * were not written yet, oldest first.
     */
    unannounced(before: string, limit: number): Promise<Array<Pick<Revocation, 'certificateId' | 'revokedAt' | 'reason'>>>;
    /** Its deliveries exist (or nobody was subscribed): the revocation leaves the outbox. */
    markAnnounced(certificateId: string, at: string): Promise<void>;
  };
  dataAccess: {
    record(entries: DataAccessEntry[]): Promise<void>;
    forApplication(applicationId: string): Promise<DataAccessEntry[]>;
    /** Reads of the subject's data: made for its filings or keyed by its code (数据访问记录, newest first). */
    forSubject(subject: string, q: DataAccessQuery): Promise<DataAccessEntry[]>;
    /** Reads made for these matters (a department's), newest first. */
    forMatters(matters: string[], q: DataAccessQuery): Promise<DataAccessEntry[]>;
  };
  consents: {
    /** The consent in force for (subject, matter) at `at`: neither ended nor expired. */
    active(subject: string, matter: string, at: string): Promise<ConsentRow | null>;
    /** The most recent consent for (subject, matter), whatever its state. */
    latest(subject: string, matter: string): Promise<ConsentRow | null>;
    get(id: string): Promise<ConsentRow | null>;
    list(subject: string): Promise<ConsentRow[]>;
    /** Ends a consent of `subject` (idempotent); null when it is not the subject's. */
    revoke(id: string, subject: string, at: string): Promise<ConsentRow | null>;
  };
  archive: {
    /** Keeps a material once per (subject, matter, material, sha256); a repeat returns the kept one. */
    put(m: NewArchiveMaterial): Promise<{ created: boolean; item: ArchiveMaterialRow }>;
    list(subject: string): Promise<ArchiveMaterialRow[]>;
    get(id: string): Promise<ArchiveMaterialRow | null>;
    /** An archive item with its file's bytes (the reviewer opens it, issue 18); null when there is none. */
    read(id: string): Promise<{ item: ArchiveMaterialRow; bytes: Uint8Array } | null>;
    /** Archive ids among `ids` that a filing other than `exceptApplication` used already. */
    usedBefore(ids: string[], exceptApplication: string): Promise<Set<string>>;
  };
  figures: {
    /** Replaces a filing's figures and material rows (a retried job writes the same again). */
    record(f: FilingFigures, materials: FilingMaterial[]): Promise<void>;
    /** How a decided filing obtained each of its materials (none before its decision), by material id. */
    materials(applicationId: string): Promise<FilingMaterial[]>;
    /** Aggregates per matter over filings created in [from, to). */
    aggregate(filter: { matters?: string[]; from?: string; to?: string }): Promise<MatterAggregates[]>;
  };
  /** Steps the department takes on its own after a decision (公示, 租赁补贴 …). */
  followUps: {
    /** Schedules steps once per (application, step); a second call keeps the first. */
    schedule(rows: FollowUpRow[]): Promise<void>;
    /** Scheduled steps due at or before `at`, oldest first. */
    due(at: string, limit: number): Promise<FollowUpRow[]>;
    /** scheduled → done with what was done; false when it was done already. */
    complete(applicationId: string, step: string, at: string, detail: string): Promise<boolean>;
    forApplication(applicationId: string): Promise<FollowUpRow[]>;
  };
  webhooks: {
    create(w: NewWebhook): Promise<WebhookRow>;
    get(id: string): Promise<WebhookRow | null>;
    list(owner: string): Promise<WebhookRow[]>;
    /** Stops deliveries to it; pending ones end as failed when their job next runs. */
    disable(id: string): Promise<void>;
    /** Active webhooks subscribed to the event type. */
    subscribedTo(eventType: WebhookEventType): Promise<WebhookRow[]>;
    /** Inserts the deliveries that do not exist yet (by webhookId + eventId); returns the ids of all given events. */
    addDeliveries(deliveries: NewDelivery[]): Promise<string[]>;
    getDelivery(id: string): Promise<DeliveryRow | null>;
    /** Appends an attempt and sets the status (pending while retries remain). */
    recordAttempt(deliveryId: string, attempt: DeliveryAttempt, status: DeliveryRow['status']): Promise<void>;
    /** Newest first, before the cursor (createdAt, id). */
    deliveries(webhookId: string, opts: { limit: number; before?: { createdAt: string; id: string } }): Promise<DeliveryRow[]>;
    /** Ids of deliveries still pending and created before `before` (re-enqueued by the sweeper). */
    pendingDeliveries(before: string, limit: number): Promise<string[]>;
    /** Seals every signing secret still stored in clear (written before issue 17); how many it sealed. */
    sealClearSecrets(): Promise<number>;
  };
  /** OFD certificates (issue 15): one per certificate, made once, found by the file's sha256. */
  ofd: {
    /** Keeps the first OFD of a certificate; a second put returns the kept one (`created: false`). */
    put(doc: OfdDocument): Promise<{ created: boolean; doc: OfdDocument }>;
    get(certificateId: string): Promise<OfdDocument | null>;
    /** The certificate whose stored OFD has this sha256 (hex), if any. */
    certificateIdBySha256(sha256: string): Promise<string | null>;
  };
  /** Rule authoring: matter versions, drafts, manual decisions, the hash-chained audit log (issue 6). */
  authoring: AuthoringStore;
  /** Signed checkpoints of the audit chain's head (issue 17). */
  auditCheckpoints: AuditCheckpointStore;
  /** Revoked signing certificates of departments (issue 17): verification fails documents they signed. */
  signingRevocations: SigningRevocationStore;
  /** E-seal use (issue 12): the audit of every sign request, and the development authority's seals. */
  eseals: {
    recordSigns(entries: ESealSignEntry[]): Promise<void>;
    signLog(applicationId: string): Promise<ESealSignEntry[]>;
    devGet(code: string): Promise<DevSealRow | null>;
    /** Inserts unless a seal exists for the code; returns the stored one (a concurrent enrolment wins once). */
    devPut(row: DevSealRow): Promise<DevSealRow>;
    /** Sets a development seal's status (注销/挂失 in tests and demos); false when there is none. */
    devSetStatus(code: string, status: DevSealRow['status']): Promise<boolean>;
  };
  /** 一件事 bundle applications (issue 14). */
  bundles: BundleStore;
  /** 都市圈通办 (issue 16): peers, their catalogs, filings forwarded to owners and received from peers. */
  federation: FederationRepository;
  /** 授权查验 (issue 16): a holder's consent that a consumer may fetch one proof (证明). */
  proofConsents: ProofConsentRepository;
  /** 快递取送 (issue 16): one delivery per filing that asked for one. */
  deliveries: ExpressDeliveryRepository;
  /** 零材料 in practice (issue 16): automatically decided filings per matter none of whose materials was an upload. */
  zeroUploads: { count(filter: { matters?: string[]; from?: string; to?: string }): Promise<Record<string, number>> };
  /**
   * Runs `fn` with a Store whose every call joins one transaction: a filing's results (its form, certificate,
   * figures, audit rows and status) commit together or not at all, in one commit instead of one per statement.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** Throws when the database is unreachable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// ---- Issue 16: 都市圈通办, 证明在线开具 (授权查验), 快递取送 ----------------------------------------------------

/** 快递取送 as asked for at filing (DESIGN.md §13); missing parts default from the applicant's registered record. */
export interface DeliveryRequest {
  method: 'express';
  address?: string;
  recipient?: string;
  phone?: string;
}

export type ExpressDeliveryStatus = 'pending' | 'booked' | 'picked_up' | 'in_transit' | 'delivering' | 'delivered' | 'returned' | 'cancelled';

export interface TrackEvent {
  at: string;
  event: string;
}

export interface ExpressDeliveryRow {
  applicationId: string;
  method: 'express';
  recipient: string | null;
  phone: string | null;
  address: string | null;
  /** `form`: typed at filing; `registered`: the applicant's registered address (免填). */
  addressSource: 'form' | 'registered' | null;
  status: ExpressDeliveryStatus;
  waybillNo: string | null;
  track: TrackEvent[];
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  /** Nothing more to do: delivered, returned or cancelled. */
  settled: boolean;
  createdAt: string;
  updatedAt: string;
  bookedAt: string | null;
}

export type ExpressDeliveryPatch = Partial<Pick<ExpressDeliveryRow, 'recipient' | 'phone' | 'address' | 'addressSource' | 'status' | 'waybillNo' | 'track' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'settled' | 'bookedAt'>> & { updatedAt: string };

export interface ExpressDeliveryRepository {
  get(applicationId: string): Promise<ExpressDeliveryRow | null>;
  /** Leases up to `limit` unsettled deliveries due at `at` for `leaseMs`; rows another process holds are skipped. */
  claimDue(at: string, leaseMs: number, limit: number): Promise<ExpressDeliveryRow[]>;
  /** Writes the patch and releases the lease. */
  update(applicationId: string, patch: ExpressDeliveryPatch): Promise<void>;
}

/** What a peer's certificate looks like to this node (the owner's certificate summary). */
export interface RemoteCertificate {
  id: string;
  number: string;
  licenseId: string;
  matter: string;
  status: string;
  holder: { name: string; code: string };
  issuer: { name: string; code: string };
  issuedAt: string;
  validUntil: string | null;
  sha256: string;
  kind?: string;
}

/** The owner's delivery, as shown with the filing. */
export interface DeliveryView {
  method: 'express';
  status: ExpressDeliveryStatus;
  waybillNo: string | null;
  track: TrackEvent[];
}

export interface NewFederatedFiling {
  id: string;
  /** The owning city (6-digit 区划). */
  city: string;
  matter: string;
  /** Version of the owner's matter the filing was checked against here. */
  matterVersion: string;
  applicant: string;
  answers: Record<string, unknown>;
  form: Record<string, unknown>;
  consent: Consent;
  delivery: DeliveryRequest | null;
  bodyHash: string;
  idempotencyKey: string | null;
  /** When the Idempotency-Key stops deduplicating (issue 17); null or absent: kept. */
  idempotencyExpiresAt?: string | null;
  /** The answer a replay with the same key and body gets: stored with the key. */
  response?: { status: number; body: unknown };
  createdAt: string;
}

export interface FederatedFilingRow extends Omit<NewFederatedFiling, 'idempotencyKey' | 'idempotencyExpiresAt' | 'response'> {
  /** pending: not yet accepted by the owner; forwarded: the owner holds it as `remoteId`; refused: the owner refused it. */
  forwardStatus: 'pending' | 'forwarded' | 'refused';
  remoteId: string | null;
  /** The owner's status (queued until the owner has it). */
  status: ApplicationStatus;
  decision: Decision | null;
  certificate: RemoteCertificate | null;
  deliveryView: DeliveryView | null;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  /** Nothing more to fetch from the owner. */
  settled: boolean;
  updatedAt: string;
  decidedAt: string | null;
}

export type FederatedFilingPatch = Partial<
  Pick<FederatedFilingRow, 'forwardStatus' | 'remoteId' | 'status' | 'decision' | 'certificate' | 'deliveryView' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'settled' | 'decidedAt'>
> & { updatedAt: string };

export interface FederatedCertificateRow {
  id: string;
  applicationId: string;
  city: string;
  holderCode: string;
  summary: RemoteCertificate;
  sha256: string;
  fetchedAt: string;
}

export interface PinnedPeer {
  city: string;
  baseUrl: string;
  anchorsPem: string;
  origin: 'tofu' | 'file';
  pinnedAt: string;
}

export interface FederationRepository {
  /** The filing + its idempotency row in one transaction; a repeated (applicant, key) writes nothing. */
  createFiling(f: NewFederatedFiling): Promise<CreateResult>;
  getFiling(id: string): Promise<FederatedFilingRow | null>;
  /** Leases up to `limit` unsettled filings due at `at` for `leaseMs`; rows another process holds are skipped. */
  claimDue(at: string, leaseMs: number, limit: number): Promise<FederatedFilingRow[]>;
  /** Writes the patch and releases the lease. */
  updateFiling(id: string, patch: FederatedFilingPatch): Promise<void>;
  /** Keeps the owner's signed file once per filing. */
  putCertificate(c: FederatedCertificateRow & { pdf: Uint8Array }): Promise<void>;
  getCertificate(id: string): Promise<FederatedCertificateRow | null>;
  getCertificatePdf(id: string): Promise<Uint8Array | null>;
  /** First pin wins: returns the pinned row (this one, or one pinned before by any process). */
  pinPeer(p: PinnedPeer): Promise<PinnedPeer>;
  getPeer(city: string): Promise<PinnedPeer | null>;
  putMatter(m: { city: string; code: string; version: string; definition: string; fetchedAt: string }): Promise<void>;
  getMatter(city: string, code: string): Promise<{ version: string; definition: string; fetchedAt: string } | null>;
  /** At the owner: the local application a peer's filing became (idempotent by origin). */
  recordInbound(r: { applicationId: string; originCity: string; originId: string; receivedAt: string }): Promise<void>;
  inbound(applicationId: string): Promise<{ originCity: string; originId: string } | null>;
}

export interface NewProofConsent {
  id: string;
  certificateId: string;
  holder: string;
  /** `sub` of the consumer (bank, tender office) allowed to fetch it. */
  consumer: string;
  purpose: string;
  grantedAt: string;
  expiresAt: string;
}

export interface ProofConsentRow extends NewProofConsent {
  revokedAt: string | null;
}

export interface ProofConsentRepository {
  grant(c: NewProofConsent): Promise<ProofConsentRow>;
  get(id: string): Promise<ProofConsentRow | null>;
  list(holder: string): Promise<ProofConsentRow[]>;
  /** Ends the holder's consent (idempotent); null when it is not the holder's. */
  revoke(id: string, holder: string, at: string): Promise<ProofConsentRow | null>;
  /** A consent in force at `at` for (certificate, consumer), if any. */
  standing(certificateId: string, consumer: string, at: string): Promise<ProofConsentRow | null>;
}
