/**
 * Repository of rule authoring (issue 6): matter versions, the current version per matter, drafts, manual
 * review decisions and the hash-chained audit log. Every state change appends its audit entry in the same
 * transaction, so the log cannot miss an action that happened.
 */
import { withTransaction } from './tx.js';
import { sql, type ColumnType, type Kysely, type Selectable, type Transaction } from 'kysely';
import { auditHash, chainVerifier, GENESIS_HASH, type AuditRecord, type ChainReport } from '../authoring/audit-chain.js';
import type { Decision, DecisionReceipt } from '../domain/types.js';
import type { Database } from './schema.js';

type Int64 = ColumnType<number | string, number, number>;

interface MatterVersionsTable {
  matter: string;
  version: string;
  department: string;
  definition: string;
  source: string;
  source_format: 'yaml' | 'json';
  origin: 'seed' | 'draft';
  draft_id: string | null;
  created_by: string;
  created_at: string;
}

interface MatterCurrentTable {
  matter: string;
  version: string;
  origin: string;
  changed_by: string;
  changed_at: string;
}

interface MatterDraftsTable {
  id: string;
  matter: string;
  department: string;
  version: string;
  base_version: string | null;
  definition: string;
  source: string;
  source_format: 'yaml' | 'json';
  author: string;
  created_at: string;
  status: ColumnType<'open' | 'published', 'open' | 'published' | undefined, 'open' | 'published'>;
  tests_passed: number | null;
  tested_at: string | null;
  approved_by: string | null;
  approved_at: string | null;
  published_by: string | null;
  published_at: string | null;
}

interface ManualDecisionsTable {
  application_id: string;
  outcome: 'APPROVE' | 'REJECT';
  reason: string;
  decided_by: string;
  department: string;
  decided_at: string;
}

interface AuditLogTable {
  seq: Int64;
  at: string;
  actor: string;
  dept: string | null;
  action: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
}

interface RollbackRequestsTable {
  id: string;
  matter: string;
  department: string;
  version: string;
  expected: string;
  reason: string;
  requested_by: string;
  requested_at: string;
  status: 'pending' | 'done' | 'stale';
  approved_by: string | null;
  approved_at: string | null;
}

/** The store's database plus the authoring tables (migrations 0004, 0051). */
export interface AuthoringDatabase extends Database {
  rollback_requests: RollbackRequestsTable;
  matter_versions: MatterVersionsTable;
  matter_current: MatterCurrentTable;
  matter_drafts: MatterDraftsTable;
  manual_decisions: ManualDecisionsTable;
  audit_log: AuditLogTable;
}

export interface MatterVersion {
  matter: string;
  version: string;
  department: string;
  /** Canonical JSON of the definition. */
  definition: string;
  /** The text as authored. */
  source: string;
  sourceFormat: 'yaml' | 'json';
  origin: 'seed' | 'draft';
  draftId: string | null;
  createdBy: string;
  createdAt: string;
}

export interface Draft {
  id: string;
  matter: string;
  department: string;
  version: string;
  baseVersion: string | null;
  definition: string;
  source: string;
  sourceFormat: 'yaml' | 'json';
  author: string;
  createdAt: string;
  status: 'open' | 'published';
  testsPassed: boolean | null;
  testedAt: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  publishedBy: string | null;
  publishedAt: string | null;
}

export interface NewAuditEntry {
  at: string;
  actor: string;
  dept: string | null;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

export interface AuditEntry extends Omit<AuditRecord, 'details'> {
  details: Record<string, unknown>;
}

export interface DecidedFiling {
  id: string;
  decidedAt: string | null;
  receipt: DecisionReceipt;
}

export interface ReviewItem {
  id: string;
  matter: string;
  applicant: string;
  createdAt: string;
  decidedAt: string | null;
  decision: Decision | null;
  rulesetVersion: string | null;
}

export type PublishResult = 'published' | 'not-open' | 'not-approved' | 'stale';

/** A requested rollback (issue 17): carried out when a second admin of the department approves it. */
export interface RollbackRequest {
  id: string;
  matter: string;
  department: string;
  /** The version to make current again. */
  version: string;
  /** The version that was current when requested; the rollback happens only if it still is. */
  expected: string;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  /** pending → done (approved and carried out) or stale (the matter changed before approval). */
  status: 'pending' | 'done' | 'stale';
  approvedBy: string | null;
  approvedAt: string | null;
}

export type RollbackApproval = 'done' | 'not-pending' | 'self-approval' | 'stale';

export interface AuthoringStore {
  /** Increases with every change of a current version (cheap to poll). */
  generation(): Promise<number>;
  currentVersions(): Promise<Array<{ matter: string; version: string; origin: string }>>;
  getVersion(matter: string, version: string): Promise<MatterVersion | null>;
  listVersions(matter: string): Promise<MatterVersion[]>;
  /**
   * Seeds a matter from rules/: the version is stored; it becomes current when the matter has none yet, or when
   * the current one is itself an (older) seed. A version published through the admin API is never overridden.
   */
  seed(v: Omit<MatterVersion, 'origin' | 'draftId'>): Promise<'created' | 'updated' | 'unchanged' | 'kept'>;
  createDraft(d: Omit<Draft, 'status' | 'testsPassed' | 'testedAt' | 'approvedBy' | 'approvedAt' | 'publishedBy' | 'publishedAt'>): Promise<void>;
  getDraft(id: string): Promise<Draft | null>;
  /** Drafts of a department, newest first; `open` only the ones not yet published (issue 18: the drafts list). */
  listDrafts(dept: string, opts: { openOnly: boolean; limit: number }): Promise<Draft[]>;
  recordTests(id: string, passed: boolean, at: string): Promise<void>;
  /** Open, not yet approved, approver ≠ author; false otherwise. */
  approveDraft(id: string, approver: string, dept: string, at: string): Promise<boolean>;
  /** Makes the draft's version current if the matter is still at the draft's base version. */
  publishDraft(id: string, publisher: string, dept: string, at: string): Promise<PublishResult>;
  /** Records a rollback request (and its audit entry); nothing changes until `approveRollback`. */
  requestRollback(r: Omit<RollbackRequest, 'status' | 'approvedBy' | 'approvedAt'>): Promise<void>;
  getRollbackRequest(id: string): Promise<RollbackRequest | null>;
  /** A department's rollback requests, newest first. */
  listRollbackRequests(dept: string, opts: { pendingOnly: boolean; limit: number }): Promise<RollbackRequest[]>;
  /**
   * A second admin (≠ requester) approves: in one transaction the request becomes done, the matter's current
   * version becomes the requested one (if it is still at `expected`; else the request becomes stale), and the audit
   * entry names both admins.
   */
  approveRollback(id: string, approver: string, dept: string, at: string): Promise<RollbackApproval>;
  /** Makes an earlier version current again if the matter is still at `expected`. */
  rollback(r: { matter: string; version: string; expected: string; by: string; dept: string; at: string }): Promise<boolean>;
  /** The last `limit` decided filings of a matter that have a receipt, newest first. */
  decidedFilings(matter: string, limit: number): Promise<DecidedFiling[]>;
  reviewQueue(matters: readonly string[], limit: number): Promise<ReviewItem[]>;
  /**
   * Records an admin's decision on a manual_review filing; false when another decision exists. With `resume`,
   * an identical decision that did not finish yet is accepted again (a retried approval).
   */
  claimManualDecision(d: { applicationId: string; outcome: 'APPROVE' | 'REJECT'; reason: string; by: string; dept: string; at: string }): Promise<'claimed' | 'resume' | 'taken'>;
  /** Drops an unfinished claim (its certificate could not be issued), so the filing can be decided again. */
  releaseManualDecision(applicationId: string, outcome: 'APPROVE' | 'REJECT'): Promise<void>;
  /** manual_review → approved/rejected with the decision, plus its audit entry, in one transaction. */
  finishManualDecision(d: { applicationId: string; status: 'approved' | 'rejected'; decision: Decision; at: string; audit: NewAuditEntry }): Promise<boolean>;
  audit: {
    append(e: NewAuditEntry): Promise<AuditEntry>;
    list(opts: { dept?: string | null; limit: number; afterSeq?: number }): Promise<AuditEntry[]>;
    verify(): Promise<ChainReport>;
  };
}

/** Arbitrary constant: serialises audit appends across PostgreSQL connections and processes. */
const AUDIT_LOCK = 7_263_950_061;
const GENERATION = 'catalog:generation';

function toVersion(r: Selectable<MatterVersionsTable>): MatterVersion {
  return {
    matter: r.matter,
    version: r.version,
    department: r.department,
    definition: r.definition,
    source: r.source,
    sourceFormat: r.source_format,
    origin: r.origin,
    draftId: r.draft_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

function toDraft(r: Selectable<MatterDraftsTable>): Draft {
  return {
    id: r.id,
    matter: r.matter,
    department: r.department,
    version: r.version,
    baseVersion: r.base_version,
    definition: r.definition,
    source: r.source,
    sourceFormat: r.source_format,
    author: r.author,
    createdAt: r.created_at,
    status: r.status,
    testsPassed: r.tests_passed === null ? null : Number(r.tests_passed) === 1,
    testedAt: r.tested_at,
    approvedBy: r.approved_by,
    approvedAt: r.approved_at,
    publishedBy: r.published_by,
    publishedAt: r.published_at,
  };
}

function toRecord(r: Selectable<AuditLogTable>): AuditRecord {
  return {
    seq: Number(r.seq),
    at: r.at,
    actor: r.actor,
    dept: r.dept,
    action: r.action,
    subject: r.subject,
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function toRollbackRequest(r: Selectable<RollbackRequestsTable>): RollbackRequest {
  return {
    id: r.id,
    matter: r.matter,
    department: r.department,
    version: r.version,
    expected: r.expected,
    reason: r.reason,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    status: r.status,
    approvedBy: r.approved_by,
    approvedAt: r.approved_at,
  };
}

function toEntry(r: Selectable<AuditLogTable>): AuditEntry {
  const rec = toRecord(r);
  return { ...rec, details: JSON.parse(rec.details) as Record<string, unknown> };
}

/**
 * Appends one audit entry inside the caller's transaction (use it from any repository so the entry commits
 * with the change it records). PostgreSQL: an advisory transaction lock orders concurrent appenders; SQLite:
 * transactions start with BEGIN IMMEDIATE and are serial already.
 */
export async function appendAudit(trx: Transaction<AuthoringDatabase>, dialect: 'sqlite' | 'postgres', e: NewAuditEntry): Promise<AuditEntry> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(trx);
  const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const body = {
    seq: last ? Number(last.seq) + 1 : 1,
    at: e.at,
    actor: e.actor,
    dept: e.dept,
    action: e.action,
    subject: e.subject,
    details: JSON.stringify(e.details),
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  const hash = auditHash(body);
  await trx
    .insertInto('audit_log')
    .values({ seq: body.seq, at: body.at, actor: body.actor, dept: body.dept, action: body.action, subject: body.subject, details: body.details, prev_hash: body.prevHash, hash })
    .execute();
  return { ...body, details: e.details, hash };
}

async function bumpGeneration(trx: Transaction<AuthoringDatabase>): Promise<void> {
  await trx
    .insertInto('serials')
    .values({ name: GENERATION, value: 1 })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql<number>`serials.value + 1` }))
    .execute();
}

export function authoringStore(database: Kysely<Database>, dialect: 'sqlite' | 'postgres'): AuthoringStore {
  const db = database as unknown as Kysely<AuthoringDatabase>;
  const tx = <T>(fn: (trx: Transaction<AuthoringDatabase>) => Promise<T>): Promise<T> => withTransaction(db, fn);

  return {
    async generation() {
      const row = await db.selectFrom('serials').select('value').where('name', '=', GENERATION).executeTakeFirst();
      return row ? Number(row.value) : 0;
    },

    async currentVersions() {
      return db.selectFrom('matter_current').select(['matter', 'version', 'origin']).orderBy('matter').execute();
    },

    async getVersion(matter, version) {
      const row = await db.selectFrom('matter_versions').selectAll().where('matter', '=', matter).where('version', '=', version).executeTakeFirst();
      return row ? toVersion(row) : null;
    },

    async listVersions(matter) {
      const rows = await db.selectFrom('matter_versions').selectAll().where('matter', '=', matter).orderBy('created_at').orderBy('version').execute();
      return rows.map(toVersion);
    },

    async seed(v) {
      return tx(async (trx) => {
        await trx
          .insertInto('matter_versions')
          .values({
            matter: v.matter,
            version: v.version,
            department: v.department,
            definition: v.definition,
            source: v.source,
            source_format: v.sourceFormat,
            origin: 'seed',
            draft_id: null,
            created_by: v.createdBy,
            created_at: v.createdAt,
          })
          .onConflict((oc) => oc.columns(['matter', 'version']).doNothing())
          .execute();
        const current = await trx.selectFrom('matter_current').selectAll().where('matter', '=', v.matter).executeTakeFirst();
        if (current?.version === v.version) return 'unchanged';
        if (current && current.origin !== 'seed') return 'kept';
        if (current) {
          await trx
            .updateTable('matter_current')
            .set({ version: v.version, origin: 'seed', changed_by: v.createdBy, changed_at: v.createdAt })
            .where('matter', '=', v.matter)
            .execute();
        } else {
          await trx
            .insertInto('matter_current')
            .values({ matter: v.matter, version: v.version, origin: 'seed', changed_by: v.createdBy, changed_at: v.createdAt })
            .execute();
        }
        await bumpGeneration(trx);
        await appendAudit(trx, dialect, {
          at: v.createdAt,
          actor: v.createdBy,
          dept: v.department,
          action: 'version.seed',
          subject: v.matter,
          details: { version: v.version, previous: current?.version ?? null },
        });
        return current ? 'updated' : 'created';
      });
    },

    async createDraft(d) {
      await tx(async (trx) => {
        await trx
          .insertInto('matter_drafts')
          .values({
            id: d.id,
            matter: d.matter,
            department: d.department,
            version: d.version,
            base_version: d.baseVersion,
            definition: d.definition,
            source: d.source,
            source_format: d.sourceFormat,
            author: d.author,
            created_at: d.createdAt,
            tests_passed: null,
            tested_at: null,
            approved_by: null,
            approved_at: null,
            published_by: null,
            published_at: null,
          })
          .execute();
        await appendAudit(trx, dialect, {
          at: d.createdAt,
          actor: d.author,
          dept: d.department,
          action: 'draft.create',
          subject: d.matter,
          details: { draft: d.id, version: d.version, baseVersion: d.baseVersion },
        });
      });
    },

    async getDraft(id) {
      const row = await db.selectFrom('matter_drafts').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toDraft(row) : null;
    },

    async listDrafts(dept, opts) {
      let q = db.selectFrom('matter_drafts').selectAll().where('department', '=', dept);
      if (opts.openOnly) q = q.where('status', '=', 'open');
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
      return rows.map(toDraft);
    },

    async recordTests(id, passed, at) {
      await db.updateTable('matter_drafts').set({ tests_passed: passed ? 1 : 0, tested_at: at }).where('id', '=', id).execute();
    },

    async approveDraft(id, approver, dept, at) {
      return tx(async (trx) => {
        const row = await trx
          .updateTable('matter_drafts')
          .set({ approved_by: approver, approved_at: at })
          .where('id', '=', id)
          .where('status', '=', 'open')
          .where('approved_by', 'is', null)
          .where('author', '!=', approver)
          .returning(['matter', 'version'])
          .executeTakeFirst();
        if (!row) return false;
        await appendAudit(trx, dialect, { at, actor: approver, dept, action: 'draft.approve', subject: row.matter, details: { draft: id, version: row.version } });
        return true;
      });
    },

    async publishDraft(id, publisher, dept, at) {
      return tx(async (trx): Promise<PublishResult> => {
        const d = await trx.selectFrom('matter_drafts').selectAll().where('id', '=', id).executeTakeFirst();
        if (!d || d.status !== 'open') return 'not-open';
        if (d.approved_by === null || d.approved_by === d.author) return 'not-approved';
        const current = await trx.selectFrom('matter_current').selectAll().where('matter', '=', d.matter).executeTakeFirst();
        if ((current?.version ?? null) !== d.base_version) return 'stale';
        await trx
          .insertInto('matter_versions')
          .values({
            matter: d.matter,
            version: d.version,
            department: d.department,
            definition: d.definition,
            source: d.source,
            source_format: d.source_format,
            origin: 'draft',
            draft_id: d.id,
            created_by: publisher,
            created_at: at,
          })
          .onConflict((oc) => oc.columns(['matter', 'version']).doNothing())
          .execute();
        if (current) {
          await trx.updateTable('matter_current').set({ version: d.version, origin: 'draft', changed_by: publisher, changed_at: at }).where('matter', '=', d.matter).execute();
        } else {
          await trx.insertInto('matter_current').values({ matter: d.matter, version: d.version, origin: 'draft', changed_by: publisher, changed_at: at }).execute();
        }
        await trx.updateTable('matter_drafts').set({ status: 'published', published_by: publisher, published_at: at }).where('id', '=', id).execute();
        await bumpGeneration(trx);
        await appendAudit(trx, dialect, {
          at,
          actor: publisher,
          dept,
          action: 'version.publish',
          subject: d.matter,
          details: { draft: d.id, version: d.version, previous: current?.version ?? null, author: d.author, approvedBy: d.approved_by },
        });
        return 'published';
      });
    },

    async rollback(r) {
      return tx(async (trx) => {
        const updated = await trx
          .updateTable('matter_current')
          .set({ version: r.version, origin: 'rollback', changed_by: r.by, changed_at: r.at })
          .where('matter', '=', r.matter)
          .where('version', '=', r.expected)
          .returning('matter')
          .executeTakeFirst();
        if (!updated) return false;
        await bumpGeneration(trx);
        await appendAudit(trx, dialect, {
          at: r.at,
          actor: r.by,
          dept: r.dept,
          action: 'version.rollback',
          subject: r.matter,
          details: { version: r.version, previous: r.expected },
        });
        return true;
      });
    },

    async requestRollback(r) {
      await tx(async (trx) => {
        await trx
          .insertInto('rollback_requests')
          .values({
            id: r.id,
            matter: r.matter,
            department: r.department,
            version: r.version,
            expected: r.expected,
            reason: r.reason,
            requested_by: r.requestedBy,
            requested_at: r.requestedAt,
            status: 'pending',
            approved_by: null,
            approved_at: null,
          })
          .execute();
        await appendAudit(trx, dialect, {
          at: r.requestedAt,
          actor: r.requestedBy,
          dept: r.department,
          action: 'version.rollback-request',
          subject: r.matter,
          details: { request: r.id, version: r.version, previous: r.expected, reason: r.reason },
        });
      });
    },

    async getRollbackRequest(id) {
      const row = await db.selectFrom('rollback_requests').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRollbackRequest(row) : null;
    },

    async listRollbackRequests(dept, { pendingOnly, limit }) {
      let q = db.selectFrom('rollback_requests').selectAll().where('department', '=', dept);
      if (pendingOnly) q = q.where('status', '=', 'pending');
      const rows = await q.orderBy('requested_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toRollbackRequest);
    },

    async approveRollback(id, approver, dept, at) {
      return tx(async (trx): Promise<RollbackApproval> => {
        const req = await trx.selectFrom('rollback_requests').selectAll().where('id', '=', id).where('department', '=', dept).executeTakeFirst();
        if (!req || req.status !== 'pending') return 'not-pending';
        if (req.requested_by === approver) return 'self-approval';
        // Only a pending request moves on: of two approvers at once, one wins (the other waits on the row, then finds it done).
        const claimed = await trx
          .updateTable('rollback_requests')
          .set({ status: 'done', approved_by: approver, approved_at: at })
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .returning('id')
          .executeTakeFirst();
        if (!claimed) return 'not-pending';
        const updated = await trx
          .updateTable('matter_current')
          .set({ version: req.version, origin: 'rollback', changed_by: approver, changed_at: at })
          .where('matter', '=', req.matter)
          .where('version', '=', req.expected)
          .returning('matter')
          .executeTakeFirst();
        if (!updated) {
          await trx.updateTable('rollback_requests').set({ status: 'stale' }).where('id', '=', id).execute();
          return 'stale';
        }
        await bumpGeneration(trx);
        await appendAudit(trx, dialect, {
          at,
          actor: approver,
          dept,
          action: 'version.rollback',
          subject: req.matter,
          details: { version: req.version, previous: req.expected, request: id, requestedBy: req.requested_by, approvedBy: approver, reason: req.reason },
        });
        return 'done';
      });
    },

    async decidedFilings(matter, limit) {
      const rows = await db
        .selectFrom('applications')
        .select(['id', 'decided_at', 'receipt'])
        .where('matter', '=', matter)
        .where('status', 'in', ['approved', 'rejected', 'manual_review'])
        .where('receipt', 'is not', null)
        .orderBy('decided_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, decidedAt: r.decided_at, receipt: JSON.parse(r.receipt!) as DecisionReceipt }));
    },

    async reviewQueue(matters, limit) {
      if (matters.length === 0) return [];
      const rows = await db
        .selectFrom('applications')
        .select(['id', 'matter', 'applicant', 'created_at', 'decided_at', 'decision', 'receipt'])
        .where('matter', 'in', matters)
        .where('status', '=', 'manual_review')
        .orderBy('decided_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        matter: r.matter,
        applicant: r.applicant,
        createdAt: r.created_at,
        decidedAt: r.decided_at,
        decision: r.decision === null ? null : (JSON.parse(r.decision) as Decision),
        rulesetVersion: r.receipt === null ? null : (JSON.parse(r.receipt) as DecisionReceipt).rulesetVersion,
      }));
    },

    async claimManualDecision(d) {
      return tx(async (trx) => {
        const inserted = await trx
          .insertInto('manual_decisions')
          .values({ application_id: d.applicationId, outcome: d.outcome, reason: d.reason, decided_by: d.by, department: d.dept, decided_at: d.at })
          .onConflict((oc) => oc.column('application_id').doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return 'claimed';
        const existing = await trx.selectFrom('manual_decisions').select(['outcome']).where('application_id', '=', d.applicationId).executeTakeFirstOrThrow();
        const app = await trx.selectFrom('applications').select('status').where('id', '=', d.applicationId).executeTakeFirst();
        return existing.outcome === d.outcome && app?.status === 'manual_review' ? 'resume' : 'taken';
      });
    },

    async releaseManualDecision(applicationId, outcome) {
      await db
        .deleteFrom('manual_decisions')
        .where('application_id', '=', applicationId)
        .where('outcome', '=', outcome)
        .where((eb) => eb.exists(eb.selectFrom('applications').select('id').where('id', '=', applicationId).where('status', '=', 'manual_review')))
        .execute();
    },

    async finishManualDecision(d) {
      return tx(async (trx) => {
        const row = await trx
          .updateTable('applications')
          .set({ status: d.status, decision: JSON.stringify(d.decision), updated_at: d.at, decided_at: d.at })
          .where('id', '=', d.applicationId)
          .where('status', '=', 'manual_review')
          .returning('id')
          .executeTakeFirst();
        if (!row) return false;
        await appendAudit(trx, dialect, d.audit);
        return true;
      });
    },

    audit: {
      async append(e) {
        return tx((trx) => appendAudit(trx, dialect, e));
      },

      async list({ dept, limit, afterSeq }) {
        let q = db.selectFrom('audit_log').selectAll();
        if (dept !== undefined) q = dept === null ? q.where('dept', 'is', null) : q.where('dept', '=', dept);
        if (afterSeq !== undefined) q = q.where('seq', '>', afterSeq);
        const rows = await q.orderBy('seq').limit(limit).execute();
        return rows.map(toEntry);
      },

      async verify() {
        const v = chainVerifier();
        let after = 0;
        for (;;) {
          const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(1000).execute();
          for (const r of rows) v.add(toRecord(r));
          if (rows.length < 1000) break;
          after = Number(rows[rows.length - 1]!.seq);
        }
        return v.report();
      },
    },
  };
}
