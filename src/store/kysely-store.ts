import { rawSql, valueRows } from './raw.js';
import { createApplications } from './intake-store.js';
import { withTransaction } from './tx.js';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ApplicationStatus, Consent, Decision, DecisionReceipt } from '../domain/types.js';
import type { ApplicationsTable, CertificatesTable, Database, FollowUpsTable } from './schema.js';
import { appendAudit, authoringStore, type AuthoringDatabase } from './authoring-store.js';
import { ofdRepository } from './ofd-store.js';
import { webhookRepository } from './webhook-store.js';
import type { SecretBox } from './secret-box.js';
import { esealRepository } from './eseal-store.js';
import { bundleRepository } from './bundle-store.js';
import { onceOnlyRepositories, toDataAccessEntry } from './once-only-store.js';
import { federationRepository } from './federation-store.js';
import { leaseRepository } from './lease-store.js';
import { auditCheckpointRepository, signingRevocationRepository } from './audit-checkpoint-store.js';
import { deliveryRepository, proofConsentRepository, withoutUploads } from './scene-store.js';
import type {
  ApplicationRow,
  CertificateFilter,
  CertificateRow,
  CreateResult,
  DataAccessEntry,
  DocumentKind,
  FollowUpRow,
  NewApplication,
  NewCertificate,
  OutboxEntry,
  Revocation,
  RevokeResult,
  Store,
  StoredDocument,
} from './types.js';

/** Statuses after which an application never changes again. */
export const TERMINAL_STATUSES: readonly ApplicationStatus[] = ['approved', 'rejected', 'manual_review', 'failed'];
const UNFINISHED_STATUSES: readonly ApplicationStatus[] = ['queued', 'processing'];

/** Insert a Uint8Array as a Buffer: pg and better-sqlite3 both bind Buffers as binary. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Return a plain Uint8Array copy, so callers get the same type from both drivers. */
function fromBuffer(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes);
}

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

function toApplication(row: Selectable<ApplicationsTable>): ApplicationRow {
  return {
    id: row.id,
    matter: row.matter,
    matterVersion: row.matter_version,
    applicant: row.applicant,
    status: row.status,
    answers: parseJson<Record<string, unknown>>(row.answers),
    form: parseJson<Record<string, unknown>>(row.form),
    consent: parseJson<Consent>(row.consent),
    bodyHash: row.body_hash,
    decision: row.decision === null ? null : parseJson<Decision>(row.decision),
    receipt: row.receipt === null ? null : parseJson<DecisionReceipt>(row.receipt),
    attempts: Number(row.attempts),
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    decidedAt: row.decided_at,
    number: row.number ?? null,
  };
}


const CERTIFICATE_COLUMNS = [
  'id',
  'application_id',
  'matter',
  'number',
  'license_id',
  'holder_code',
  'holder_name',
  'issuer_code',
  'issuer_name',
  'subject_key',
  'issued_at',
  'valid_until',
  'verify_code',
  'sha256',
  'status',
] as const;

type CertificateSelection = Pick<Selectable<CertificatesTable>, (typeof CERTIFICATE_COLUMNS)[number]>;

function toCertificate(row: CertificateSelection): CertificateRow {
  return {
    id: row.id,
    applicationId: row.application_id,
    matter: row.matter,
    number: row.number,
    licenseId: row.license_id,
    holderCode: row.holder_code,
    holderName: row.holder_name,
    issuerCode: row.issuer_code,
    issuerName: row.issuer_name,
    subjectKey: row.subject_key,
    issuedAt: row.issued_at,
    validUntil: row.valid_until,
    verifyCode: row.verify_code,
    sha256: row.sha256,
    status: row.status,
  };
}


/**
 * The one Store implementation; the SQL is portable between SQLite (≥3.35: RETURNING, upsert) and PostgreSQL.
 * Connection setup and migrations are done by `createStore` in ./index.ts.
 */
function toFollowUp(r: Selectable<FollowUpsTable>): FollowUpRow {
  return { applicationId: r.application_id, step: r.step, matter: r.matter, name: r.name, status: r.status, dueAt: r.due_at, doneAt: r.done_at, detail: r.detail };
}

const CERT_COLS = CERTIFICATE_COLUMNS.map((c) => `"${c}"`).join(', ');
const TERMINAL_LIST = TERMINAL_STATUSES.map((s) => `'${s}'`).join(', ');

/** The counter's next value, created at 1: one atomic statement on both engines (it locks the row until commit). */
const NEXT_SERIAL = `insert into "serials" ("name", "value") values (?, 1) on conflict ("name") do update set "value" = "serials"."value" + 1 returning "value"`;

/**
 * PostgreSQL's certificate number claim (see claimSerial): the number the claimant holds, or the next one, claimed.
 * $1 counter name, $2 claimant, $3 time (written with $n: PostgreSQL only, no `?` to rewrite).
 */
const CLAIM_IN_ONE_STATEMENT = `with "held" as (
  select "value" from "serial_claims" where "name" = $1::text and "claimant" = $2::text
), "next" as (
  insert into "serials" ("name", "value") select $1, 1 where not exists (select 1 from "held")
  on conflict ("name") do update set "value" = "serials"."value" + 1 returning "value"
), "claimed" as (
  insert into "serial_claims" ("name", "value", "claimant", "claimed_at") select $1, "value", $2, $3::text from "next" returning "value"
)
select "value" from "held" union all select "value" from "claimed"`;

export function kyselyStore(db: Kysely<Database>, dialect: Store['dialect'], secretBox: SecretBox | null = null): Store {
  const raw = rawSql(db, dialect);
  const applications: Store['applications'] = {
    async create(app: NewApplication): Promise<CreateResult> {
      return (await createApplications(db, dialect, [app]))[0]!;
    },

    createMany: (apps: readonly NewApplication[]) => createApplications(db, dialect, apps),

    async get(id: string): Promise<ApplicationRow | null> {
      const row = await db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toApplication(row);
    },

    async startProcessing(id: string, at: string): Promise<ApplicationRow | null> {
      const rows = await raw.rows<Selectable<ApplicationsTable>>(
        `update "applications" set "status" = 'processing', "attempts" = "attempts" + 1, "updated_at" = ? where "id" = ? and "status" in ('queued', 'processing') returning *`,
        [at, id],
      );
      return rows[0] === undefined ? null : toApplication(rows[0]);
    },

    async complete(id, result): Promise<boolean> {
      if (!TERMINAL_STATUSES.includes(result.status)) {
        throw new Error(`complete() needs a terminal status, got ${result.status}`);
      }
      const changed = await raw.run(
        `update "applications" set "status" = ?, "decision" = ?, "receipt" = ?, "updated_at" = ?, "decided_at" = ? where "id" = ? and "status" not in (${TERMINAL_LIST})`,
        [result.status, JSON.stringify(result.decision), JSON.stringify(result.receipt), result.at, result.at, id],
      );
      return changed > 0;
    },

    async recordError(id: string, error: string, at: string, terminal: boolean): Promise<void> {
      // A late retry must not touch a row another attempt already finished.
      await db
        .updateTable('applications')
        .set({ last_error: error, updated_at: at, ...(terminal ? { status: 'failed' as const } : {}) })
        .where('id', '=', id)
        .where('status', 'not in', TERMINAL_STATUSES)
        .execute();
    },

    async listInStatus(status: ApplicationStatus, before: string, limit: number): Promise<ApplicationRow[]> {
      const rows = await db
        .selectFrom('applications')
        .selectAll()
        .where('status', '=', status)
        .where('updated_at', '<', before)
        .orderBy('updated_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toApplication);
    },

    async reopen(id: string, at: string): Promise<boolean> {
      const res = await db
        .updateTable('applications')
        .set({ status: 'queued', updated_at: at })
        .where('id', '=', id)
        .where('status', '=', 'manual_review')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    },

    async listByApplicant(applicant, opts): Promise<ApplicationRow[]> {
      let q = db.selectFrom('applications').selectAll().where('applicant', '=', applicant);
      const b = opts.before;
      if (b !== undefined) q = q.where((eb) => eb.or([eb('created_at', '<', b.createdAt), eb.and([eb('created_at', '=', b.createdAt), eb('id', '<', b.id)])]));
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
      return rows.map(toApplication);
    },

    async listUnfinished(before: string, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('applications')
        .select('id')
        .where('status', 'in', UNFINISHED_STATUSES)
        .where('updated_at', '<', before)
        .orderBy('updated_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },
  };

  const outbox: Store['outbox'] = {
    async pending(limit: number, createdBefore?: string): Promise<OutboxEntry[]> {
      let q = db
        .selectFrom('outbox')
        .innerJoin('applications', 'applications.id', 'outbox.application_id')
        .select(['outbox.id as id', 'outbox.application_id as application_id', 'applications.status as status'])
        .where('outbox.enqueued_at', 'is', null);
      if (createdBefore !== undefined) q = q.where('outbox.created_at', '<', createdBefore);
      const rows = await q.orderBy('outbox.id').limit(limit).execute();
      return rows.map((r) => ({ id: Number(r.id), applicationId: r.application_id, status: r.status }));
    },

    async markEnqueued(ids: number[], at: string): Promise<void> {
      if (ids.length === 0) return;
      await db.updateTable('outbox').set({ enqueued_at: at }).where('id', 'in', ids).where('enqueued_at', 'is', null).execute();
    },
  };

  const documents: Store['documents'] = {
    async put(doc: StoredDocument): Promise<void> {
      await raw.run(
        `insert into "documents" ("application_id", "kind", "sha256", "bytes", "created_at") values (?, ?, ?, ?, ?) on conflict ("application_id", "kind") do nothing`,
        [doc.applicationId, doc.kind, doc.sha256, toBuffer(doc.bytes), doc.createdAt],
      );
    },

    async get(applicationId: string, kind: DocumentKind): Promise<StoredDocument | null> {
      const rows = await raw.rows<Selectable<Database['documents']>>(`select * from "documents" where "application_id" = ? and "kind" = ?`, [applicationId, kind]);
      const row = rows[0];
      if (row === undefined) return null;
      return {
        applicationId: row.application_id,
        kind: row.kind as DocumentKind,
        sha256: row.sha256,
        bytes: fromBuffer(row.bytes),
        createdAt: row.created_at,
      };
    },
  };

  const certificates: Store['certificates'] = {
    async insert(cert: NewCertificate): Promise<CertificateRow> {
      // One valid certificate per (matter, subject): a newly issued one supersedes the earlier (变更),
      // in the same transaction as the insert.
      return withTransaction(db, async (trx) => {
        const r = trx === db ? raw : rawSql(trx, dialect);
        // Conflict target is application_id only: a clash on number, license_id or id is a real error.
        const inserted = await r.run(
          `insert into "certificates" ("id", "application_id", "matter", "number", "license_id", "holder_code", "holder_name", "issuer_code", "issuer_name", "subject_key", "issued_at", "valid_until", "verify_code", "sha256", "pdf") values ${valueRows(1, 15)} on conflict ("application_id") do nothing`,
          [cert.id, cert.applicationId, cert.matter, cert.number, cert.licenseId, cert.holderCode, cert.holderName, cert.issuerCode, cert.issuerName, cert.subjectKey, cert.issuedAt, cert.validUntil, cert.verifyCode, cert.sha256, toBuffer(cert.pdf)],
        );
        if (inserted > 0) {
          await r.run(`update "certificates" set "status" = 'superseded' where "matter" = ? and "subject_key" = ? and "status" = 'valid' and "id" != ?`, [cert.matter, cert.subjectKey, cert.id]);
          // The row just written, as written: no read back on the filing's path.
          const { pdf: _pdf, ...fields } = cert;
          return { ...fields, status: 'valid' };
        }
        const rows = await r.rows<CertificateSelection>(`select ${CERT_COLS} from "certificates" where "application_id" = ?`, [cert.applicationId]);
        return toCertificate(rows[0]!);
      });
    },

    async get(id: string): Promise<CertificateRow | null> {
      const row = await db.selectFrom('certificates').select(CERTIFICATE_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toCertificate(row);
    },

    async getPdf(id: string): Promise<Uint8Array | null> {
      const row = await db.selectFrom('certificates').select('pdf').where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : fromBuffer(row.pdf);
    },

    async byApplication(applicationId: string): Promise<CertificateRow | null> {
      const rows = await raw.rows<CertificateSelection>(`select ${CERT_COLS} from "certificates" where "application_id" = ?`, [applicationId]);
      return rows[0] === undefined ? null : toCertificate(rows[0]);
    },

    async findValid(matter: string, subjectKey: string): Promise<CertificateRow | null> {
      const rows = await raw.rows<CertificateSelection>(
        `select ${CERT_COLS} from "certificates" where "matter" = ? and "subject_key" = ? and "status" = 'valid' order by "issued_at" desc, "id" desc limit 1`,
        [matter, subjectKey],
      );
      return rows[0] === undefined ? null : toCertificate(rows[0]);
    },

    async bySha256(sha256: string): Promise<CertificateRow | null> {
      const row = await db.selectFrom('certificates').select(CERTIFICATE_COLUMNS).where('sha256', '=', sha256).limit(1).executeTakeFirst();
      return row === undefined ? null : toCertificate(row);
    },

    async list(f: CertificateFilter): Promise<CertificateRow[]> {
      let q = db.selectFrom('certificates').select(CERTIFICATE_COLUMNS);
      if (f.holderCode !== undefined) q = q.where('holder_code', '=', f.holderCode);
      if (f.issuerCode !== undefined) q = q.where('issuer_code', '=', f.issuerCode);
      if (f.matter !== undefined) q = q.where('matter', '=', f.matter);
      if (f.issuedSince !== undefined) q = q.where('issued_at', '>=', f.issuedSince);
      const after = f.after;
      if (after) {
        // A row-value comparison: both engines seek the (issued_at, id) index to the cursor instead of reading from
        // the start of the range and filtering.
        q = q.where((eb) => eb(eb.refTuple('issued_at', 'id'), '>', eb.tuple(after.issuedAt, after.id)));
      }
      const rows = await q.orderBy('issued_at').orderBy('id').limit(f.limit).execute();
      return rows.map(toCertificate);
    },

    async issuedAfter(after: { issuedAt: string; id: string }, limit: number): Promise<Array<{ id: string; issuedAt: string }>> {
      // A row-value comparison, so both engines seek the (issued_at, id) index to `after` and read only what follows
      // (an OR of the two conditions made SQLite read every row from the start of the window on each poll).
      const rows = await raw.rows<{ id: string; issued_at: string }>(
        `select "id", "issued_at" from "certificates" where ("issued_at", "id") > (?, ?) order by "issued_at", "id" limit ?`,
        [after.issuedAt, after.id, limit],
      );
      return rows.map((r) => ({ id: r.id, issuedAt: r.issued_at }));
    },

    async nextSerial(name: string): Promise<number> {
      // One statement, atomic on both engines; no read-modify-write race.
      const rows = await raw.rows<{ value: number | string }>(NEXT_SERIAL, [name]);
      return Number(rows[0]!.value);
    },

    async claimSerial(name: string, claimant: string, at: string): Promise<number> {
      if (dialect === 'postgres' && !db.isTransaction) {
        // One statement, so one round trip and no BEGIN/COMMIT: a claimant that holds a number gets it; otherwise the
        // counter is incremented (locking its row: claims of one counter run one after another) and the claim
        // inserted, atomically — no number is taken without its claim. Two attempts of one filing racing each other
        // both see no claim; the second then fails on the (name, claimant) key as a whole, increment included, and
        // reads the first's claim when tried again.
        for (let attempt = 1; ; attempt++) {
          try {
            const rows = await raw.rows<{ value: number | string }>(CLAIM_IN_ONE_STATEMENT, [name, claimant, at]);
            return Number(rows[0]!.value);
          } catch (err) {
            if ((err as { code?: unknown }).code !== '23505' || attempt >= 3) throw err;
          }
        }
      }
      return withTransaction(db, async (trx) => {
        const t = rawSql(trx, dialect);
        // Take the next number, which also locks the counter row: claims of one counter run one after another, and
        // the claim below sees any claim another transaction committed while we waited. Two statements for a new
        // claimant (the common case: once per approved filing); a claimant that holds a number already — a retried
        // job — gives the one just taken back (nobody else can have taken it: we hold the row) and gets its own.
        const next = await t.rows<{ value: number | string }>(NEXT_SERIAL, [name]);
        const value = Number(next[0]!.value);
        const claimed = await t.rows<{ value: number | string }>(
          `insert into "serial_claims" ("name", "value", "claimant", "claimed_at") values (?, ?, ?, ?) on conflict ("name", "claimant") do nothing returning "value"`,
          [name, value, claimant, at],
        );
        if (claimed[0] !== undefined) return value;
        await t.run(`update "serials" set "value" = "value" - 1 where "name" = ?`, [name]);
        const held = await t.rows<{ value: number | string }>(`select "value" from "serial_claims" where "name" = ? and "claimant" = ?`, [name, claimant]);
        return Number(held[0]!.value);
      });
    },
  };

  const revocationColumns = [
    'r.certificate_id',
    'r.issuer_code',
    'r.reason',
    'r.revoked_by',
    'r.revoked_at',
    'c.number',
    'c.license_id',
    'c.sha256',
  ] as const;
  const toRevocation = (row: {
    certificate_id: string;
    issuer_code: string;
    reason: string;
    revoked_by: string;
    revoked_at: string;
    number: string;
    license_id: string;
    sha256: string;
  }): Revocation => ({
    certificateId: row.certificate_id,
    number: row.number,
    licenseId: row.license_id,
    sha256: row.sha256,
    issuerCode: row.issuer_code,
    reason: row.reason,
    revokedBy: row.revoked_by,
    revokedAt: row.revoked_at,
  });

  const revocations: Store['revocations'] = {
    async revoke({ certificateId, reason, revokedBy, at }): Promise<RevokeResult> {
      return withTransaction(db, async (trx): Promise<RevokeResult> => {
        // The status flip is the guard: of two concurrent revocations exactly one updates a row.
        const updated = await trx
          .updateTable('certificates')
          .set({ status: 'revoked' })
          .where('id', '=', certificateId)
          .where('status', '!=', 'revoked')
          .returning(['issuer_code'])
          .executeTakeFirst();
        if (updated === undefined) {
          const current = await trx.selectFrom('certificates').select(CERTIFICATE_COLUMNS).where('id', '=', certificateId).executeTakeFirst();
          return { revoked: false, current: current === undefined ? null : toCertificate(current) };
        }
        await trx
          .insertInto('certificate_revocations')
          .values({ certificate_id: certificateId, issuer_code: updated.issuer_code, reason, revoked_by: revokedBy, revoked_at: at })
          .execute();
        // The revocation joins the authoring audit chain in the same transaction (issue 6).
        await appendAudit(trx as unknown as Transaction<AuthoringDatabase>, dialect, {
          at,
          actor: revokedBy,
          dept: updated.issuer_code,
          action: 'certificate.revoke',
          subject: certificateId,
          details: { reason },
        });
        const row = await trx
          .selectFrom('certificate_revocations as r')
          .innerJoin('certificates as c', 'c.id', 'r.certificate_id')
          .select(revocationColumns)
          .where('r.certificate_id', '=', certificateId)
          .executeTakeFirstOrThrow();
        return { revoked: true, revocation: toRevocation(row) };
      });
    },

    async get(certificateId: string): Promise<Revocation | null> {
      const row = await db
        .selectFrom('certificate_revocations as r')
        .innerJoin('certificates as c', 'c.id', 'r.certificate_id')
        .select(revocationColumns)
        .where('r.certificate_id', '=', certificateId)
        .executeTakeFirst();
      return row === undefined ? null : toRevocation(row);
    },

    async list(issuerCode: string): Promise<Revocation[]> {
      const rows = await db
        .selectFrom('certificate_revocations as r')
        .innerJoin('certificates as c', 'c.id', 'r.certificate_id')
        .select(revocationColumns)
        .where('r.issuer_code', '=', issuerCode)
        .orderBy('r.revoked_at')
        .orderBy('r.certificate_id')
        .execute();
      return rows.map(toRevocation);
    },

    async unannounced(before, limit) {
      const rows = await db
        .selectFrom('certificate_revocations')
        .select(['certificate_id', 'revoked_at', 'reason'])
        .where('announced_at', 'is', null)
        .where('revoked_at', '<=', before)
        .orderBy('revoked_at')
        .orderBy('certificate_id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ certificateId: r.certificate_id, revokedAt: r.revoked_at, reason: r.reason }));
    },

    async markAnnounced(certificateId, at) {
      await db.updateTable('certificate_revocations').set({ announced_at: at }).where('certificate_id', '=', certificateId).where('announced_at', 'is', null).execute();
    },
  };

  const onceOnly = onceOnlyRepositories(db, dialect);
  const dataAccess: Pick<Store['dataAccess'], 'record' | 'forApplication'> = {
    async record(entries: DataAccessEntry[]): Promise<void> {
      if (entries.length === 0) return;
      await raw.run(
        `insert into "data_access_log" ("requester", "application_id", "source", "key", "purpose", "status", "response_hash", "at", "matter", "consent_id", "origin") values ${valueRows(entries.length, 11)}`,
        entries.flatMap((e) => [e.requester, e.applicationId, e.source, e.key, e.purpose, e.status, e.responseHash, e.at, e.matter ?? null, e.consentId ?? null, e.origin ?? null]),
      );
    },

    async forApplication(applicationId: string): Promise<DataAccessEntry[]> {
      const rows = await db
        .selectFrom('data_access_log')
        .selectAll()
        .where('application_id', '=', applicationId)
        .orderBy('id')
        .execute();
      return rows.map((r) => toDataAccessEntry(r));
    },
  };

  return {
    dialect,
    leases: leaseRepository(db, dialect),
    idempotency: {
      async purgeExpired(at, limit) {
        // Bounded batches, so one pass never holds a long lock on a busy table.
        const keys = await raw.run(
          `delete from "idempotency_keys" where ("applicant", "key") in
             (select "applicant", "key" from "idempotency_keys" where "expires_at" is not null and "expires_at" <= ? limit ?)`,
          [at, limit],
        );
        // 一件事 bundles and filings for another city keep their key on the filing row: the row stays, the key goes.
        let onRows = 0;
        for (const table of ['bundle_applications', 'federated_filings']) {
          onRows += await raw.run(
            `update "${table}" set "idempotency_key" = null, "idempotency_expires_at" = null, "idempotency_response" = null where "id" in
               (select "id" from "${table}" where "idempotency_expires_at" is not null and "idempotency_expires_at" <= ? limit ?)`,
            [at, limit],
          );
        }
        return keys + onRows;
      },
    },
    applications,
    outbox,
    documents,
    certificates,
    revocations,
    dataAccess: { ...dataAccess, ...onceOnly.dataAccessQueries },
    consents: onceOnly.consents,
    archive: onceOnly.archive,
    figures: onceOnly.figures,
    authoring: authoringStore(db, dialect),
    auditCheckpoints: auditCheckpointRepository(db),
    signingRevocations: signingRevocationRepository(db),
    eseals: esealRepository(db, dialect),
    followUps: {
      async schedule(rows) {
        if (rows.length === 0) return;
        await db
          .insertInto('follow_ups')
          .values(rows.map((r) => ({ application_id: r.applicationId, step: r.step, matter: r.matter, name: r.name, status: r.status, due_at: r.dueAt, done_at: r.doneAt, detail: r.detail })))
          .onConflict((oc) => oc.columns(['application_id', 'step']).doNothing())
          .execute();
      },
      async due(at, limit) {
        const rows = await db.selectFrom('follow_ups').selectAll().where('status', '=', 'scheduled').where('due_at', '<=', at).orderBy('due_at').limit(limit).execute();
        return rows.map(toFollowUp);
      },
      async complete(applicationId, step, at, detail) {
        const res = await db
          .updateTable('follow_ups')
          .set({ status: 'done', done_at: at, detail })
          .where('application_id', '=', applicationId)
          .where('step', '=', step)
          .where('status', '=', 'scheduled')
          .executeTakeFirst();
        return Number(res.numUpdatedRows) > 0;
      },
      async forApplication(applicationId) {
        const rows = await db.selectFrom('follow_ups').selectAll().where('application_id', '=', applicationId).orderBy('due_at').orderBy('step').execute();
        return rows.map(toFollowUp);
      },
    },
    webhooks: webhookRepository(db, secretBox),
    ofd: ofdRepository(db),
    bundles: bundleRepository(db),
    federation: federationRepository(db),
    proofConsents: proofConsentRepository(db),
    deliveries: deliveryRepository(db),
    zeroUploads: { count: withoutUploads(db) },
    transaction: (fn) => withTransaction(db, (trx) => fn(kyselyStore(trx, dialect, secretBox))),
    async ping(): Promise<void> {
      await sql`select 1`.execute(db);
    },
    async close(): Promise<void> {
      await db.destroy();
    },
  };
}
