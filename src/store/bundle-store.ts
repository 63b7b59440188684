/**
 * The bundle repository (issue 14) over SQLite and PostgreSQL: bundle applications, their members (each an ordinary
 * application once started), the e-form and result notices, and the index of filings awaiting another department's
 * record. Every write that must happen together happens in one transaction; every insert is idempotent.
 */
import { withTransaction } from './tx.js';
import { claimApplicationNumber } from './application-number-store.js';
import type { Kysely, Selectable } from 'kysely';
import type { ApplicationStatus, Consent, Decision } from '../domain/types.js';
import type { BundleApplicationsTable, BundleDocumentsTable, Database } from './schema.js';
import type { BundleApplicationRow, BundleDocument, BundleMemberRow, BundleStore, CreateBundleResult } from './types.js';

/** The manual_decisions table of 0004 (typed in authoring-store.ts), read here for the figures. */
interface ManualDecisionsRow {
  application_id: string;
  outcome: string;
}
type Db = Database & { manual_decisions: ManualDecisionsRow };

/** Every status a filing can have (a status added to the type fails to compile here until it is placed). */
const STATUS_IS_FINAL: Record<ApplicationStatus, boolean> = {
  queued: false,
  processing: false,
  manual_review: false,
  approved: true,
  rejected: true,
  failed: true,
};

/**
 * The member statuses that can still change: `pending` (no filing yet) and every status that is not final (approved,
 * rejected and failed never change again). Listed (`in`), not excluded (`not in`), so the orchestrator's pass reads
 * them through the `bundle_members_seen` index — `not in` read every member there ever was, on every pass, a cost
 * that grew with every bundle filed.
 */
const OPEN_SEEN = ['pending', ...Object.entries(STATUS_IS_FINAL).filter(([, final]) => !final).map(([s]) => s)];

/** Bundles with a member whose filing moved since the orchestrator last looked (exported for its plan's test). */
export function changedBundlesQuery(db: Kysely<Database>, limit: number) {
  return db
    .selectFrom('bundle_members as m')
    .innerJoin('applications as a', 'a.id', 'm.application_id')
    .select('m.bundle_id')
    .where('m.seen_status', 'in', OPEN_SEEN)
    .whereRef('a.status', '!=', 'm.seen_status')
    .groupBy('m.bundle_id')
    .limit(limit);
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toDocument(r: Selectable<BundleDocumentsTable>): BundleDocument {
  return {
    bundleId: r.bundle_id,
    kind: r.kind,
    seq: Number(r.seq),
    number: r.number,
    digest: r.digest,
    sha256: r.sha256,
    bytes: new Uint8Array(r.bytes),
    createdAt: r.created_at,
  };
}

/** An (applicant, key) seen before: its bundle and the answer stored with the key (null before migration 0055). */
function replayOf(r: { id: string; body_hash: string; idempotency_response: string | null }): CreateBundleResult {
  return { created: false, id: r.id, bodyHash: r.body_hash, response: r.idempotency_response === null ? null : (JSON.parse(r.idempotency_response) as { status: number; body: unknown }) };
}

export function bundleRepository(kdb: Kysely<Database>): BundleStore {
  const db = kdb as unknown as Kysely<Db>;

  /** Rows with their members, each joined with its application and certificate (one query for all rows). */
  async function withMembers(rows: Array<Selectable<BundleApplicationsTable>>): Promise<BundleApplicationRow[]> {
    if (rows.length === 0) return [];
    const members = await db
      .selectFrom('bundle_members as m')
      .leftJoin('applications as a', 'a.id', 'm.application_id')
      .leftJoin('certificates as c', 'c.application_id', 'm.application_id')
      .select([
        'm.bundle_id', 'm.matter', 'm.position', 'm.application_id', 'm.seen_status', 'm.decided_at',
        'a.status as app_status', 'a.decision as app_decision', 'a.created_at as app_created_at', 'a.decided_at as app_decided_at',
        'c.id as cert_id', 'c.number as cert_number',
      ])
      .where('m.bundle_id', 'in', rows.map((r) => r.id))
      .orderBy('m.bundle_id')
      .orderBy('m.position')
      .execute();
    const byBundle = new Map<string, BundleMemberRow[]>();
    for (const m of members) {
      const list = byBundle.get(m.bundle_id) ?? [];
      list.push({
        matter: m.matter,
        position: Number(m.position),
        applicationId: m.application_id,
        seenStatus: m.seen_status,
        decidedAt: m.decided_at,
        application:
          m.app_status === null || m.app_created_at === null
            ? null
            : {
                status: m.app_status,
                decision: m.app_decision === null ? null : (JSON.parse(m.app_decision) as Decision),
                createdAt: m.app_created_at,
                decidedAt: m.app_decided_at,
              },
        certificate: m.cert_id === null || m.cert_number === null ? null : { id: m.cert_id, number: m.cert_number },
      });
      byBundle.set(m.bundle_id, list);
    }
    return rows.map((r) => ({
      id: r.id,
      bundle: r.bundle,
      bundleVersion: r.bundle_version,
      applicant: r.applicant,
      status: r.status,
      answers: JSON.parse(r.answers) as Record<string, string>,
      form: JSON.parse(r.form) as Record<string, unknown>,
      consent: JSON.parse(r.consent) as Consent,
      bodyHash: r.body_hash,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      completedAt: r.completed_at,
      nextCheckAt: r.next_check_at,
      checks: Number(r.checks),
      members: byBundle.get(r.id) ?? [],
    }));
  }

  return {
    async create(b) {
      return withTransaction(db, async (trx) => {
        if (b.idempotencyKey !== null) {
          // A key past its expiry (not purged yet) is released, then taken over as if it were new (issue 17).
          await trx
            .updateTable('bundle_applications')
            .set({ idempotency_key: null, idempotency_expires_at: null, idempotency_response: null })
            .where('applicant', '=', b.applicant)
            .where('idempotency_key', '=', b.idempotencyKey)
            .where('idempotency_expires_at', 'is not', null)
            .where('idempotency_expires_at', '<=', b.createdAt)
            .execute();
          const existing = await trx
            .selectFrom('bundle_applications')
            .select(['id', 'body_hash', 'idempotency_response'])
            .where('applicant', '=', b.applicant)
            .where('idempotency_key', '=', b.idempotencyKey)
            .executeTakeFirst();
          if (existing) return replayOf(existing);
        }
        // On PostgreSQL a concurrent duplicate key waits here on the unique index and then conflicts: nothing is written.
        const inserted = await trx
          .insertInto('bundle_applications')
          .values({
            id: b.id,
            bundle: b.bundle,
            bundle_version: b.bundleVersion,
            applicant: b.applicant,
            answers: JSON.stringify(b.answers),
            form: JSON.stringify(b.form),
            consent: JSON.stringify(b.consent),
            body_hash: b.bodyHash,
            idempotency_key: b.idempotencyKey,
            idempotency_expires_at: b.idempotencyKey === null ? null : (b.idempotencyExpiresAt ?? null),
            idempotency_response: b.idempotencyKey === null || b.response === undefined ? null : JSON.stringify(b.response),
            created_at: b.createdAt,
            updated_at: b.createdAt,
            completed_at: null,
            next_check_at: b.createdAt,
          })
          .onConflict((oc) => oc.columns(['applicant', 'idempotency_key']).doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted === undefined) {
          const winner = await trx
            .selectFrom('bundle_applications')
            .select(['id', 'body_hash', 'idempotency_response'])
            .where('applicant', '=', b.applicant)
            .where('idempotency_key', '=', b.idempotencyKey)
            .executeTakeFirstOrThrow();
          return replayOf(winner);
        }
        await trx
          .insertInto('bundle_members')
          .values(b.members.map((matter, position) => ({ bundle_id: b.id, matter, position, application_id: null, decided_at: null })))
          .execute();
        for (const c of b.consents) {
          // The consent given now supersedes the subject's earlier one for the same matter (as a single filing's does).
          await trx
            .updateTable('consents')
            .set({ ended_at: c.grantedAt, ended_reason: 'superseded' })
            .where('subject', '=', c.subject)
            .where('matter', '=', c.matter)
            .where('ended_at', 'is', null)
            .execute();
          await trx
            .insertInto('consents')
            .values({
              id: c.id,
              subject: c.subject,
              matter: c.matter,
              purpose: c.purpose,
              sources: JSON.stringify(c.sources),
              application_id: null,
              granted_at: c.grantedAt,
              expires_at: c.expiresAt,
              ended_at: null,
              ended_reason: null,
            })
            .execute();
        }
        return { created: true as const, id: b.id };
      });
    },

    async get(id) {
      const row = await db.selectFrom('bundle_applications').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : ((await withMembers([row]))[0] ?? null);
    },

    async forApplicant(applicant, limit) {
      const rows = await db
        .selectFrom('bundle_applications')
        .selectAll()
        .where('applicant', '=', applicant)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return withMembers(rows);
    },

    async forMatters(matters, opts) {
      if (matters.length === 0) return [];
      let q = db
        .selectFrom('bundle_applications')
        .selectAll()
        .where('id', 'in', db.selectFrom('bundle_members').select('bundle_id').where('matter', 'in', matters));
      if (opts.status) q = q.where('status', '=', opts.status);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
      return withMembers(rows);
    },

    async startMember(m) {
      return withTransaction(db, async (trx) => {
        const member = await trx
          .selectFrom('bundle_members')
          .select('application_id')
          .where('bundle_id', '=', m.bundleId)
          .where('matter', '=', m.matter)
          .executeTakeFirst();
        if (!member) throw new Error(`bundle ${m.bundleId} has no member ${m.matter}`);
        if (member.application_id !== null) return member.application_id;
        const a = m.application;
        const inserted = await trx
          .insertInto('applications')
          .values({
            id: a.id,
            number: await claimApplicationNumber(trx as unknown as Kysely<Database>, a.createdAt, a.numberPrefix),
            matter: a.matter,
            matter_version: a.matterVersion,
            applicant: a.applicant,
            status: 'queued',
            answers: JSON.stringify(a.answers),
            form: JSON.stringify(a.form),
            consent: JSON.stringify(a.consent),
            body_hash: a.bodyHash,
            decision: null,
            receipt: null,
            attempts: 0,
            last_error: null,
            created_at: a.createdAt,
            updated_at: a.createdAt,
            decided_at: null,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted !== undefined) {
          await trx.insertInto('outbox').values({ application_id: a.id, created_at: a.createdAt, enqueued_at: null }).execute();
          // The one e-form of the bundle is the member's form: the worker finds it and does not make another. Without
          // one (the applicant's seal was not usable) each member asks the e-seal platform itself and says why not.
          if (m.form !== null) {
            await trx
              .insertInto('documents')
              .values({ application_id: a.id, kind: 'form', sha256: m.form.sha256, bytes: toBuffer(m.form.bytes), created_at: m.form.createdAt })
              .onConflict((oc) => oc.columns(['application_id', 'kind']).doNothing())
              .execute();
          }
          if (m.consentId !== null) {
            await trx
              .insertInto('application_consents')
              .values({ application_id: a.id, consent_id: m.consentId, granted: 1 })
              .onConflict((oc) => oc.column('application_id').doNothing())
              .execute();
          }
        }
        await trx
          .updateTable('bundle_members')
          .set({ application_id: a.id, seen_status: 'queued' })
          .where('bundle_id', '=', m.bundleId)
          .where('matter', '=', m.matter)
          .where('application_id', 'is', null)
          .execute();
        return a.id;
      });
    },

    async markSeen(bundleId, seen, at) {
      if (seen.length === 0) return;
      await withTransaction(db, async (trx) => {
        for (const s of seen) {
          await trx
            .updateTable('bundle_members')
            .set({ seen_status: s.status, decided_at: s.decidedAt })
            .where('bundle_id', '=', bundleId)
            .where('matter', '=', s.matter)
            .execute();
        }
        await trx.updateTable('bundle_applications').set({ updated_at: at }).where('id', '=', bundleId).execute();
      });
    },

    async complete(bundleId, at) {
      const row = await db
        .updateTable('bundle_applications')
        .set({ status: 'completed', completed_at: at, updated_at: at })
        .where('id', '=', bundleId)
        .where('status', '=', 'processing')
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },

    async scheduleCheck(bundleId, at, checks) {
      await db.updateTable('bundle_applications').set({ next_check_at: at, checks }).where('id', '=', bundleId).execute();
    },

    async needingAttention(now, limit) {
      const due = await db
        .selectFrom('bundle_applications')
        .select('id')
        .where('status', '=', 'processing')
        .where('next_check_at', '<=', now)
        .orderBy('next_check_at')
        .limit(limit)
        .execute();
      // Only members that can still change are compared (approved/rejected/failed never change again).
      const changed = await changedBundlesQuery(kdb, limit).execute();
      return [...new Set([...due.map((r) => r.id), ...changed.map((r) => r.bundle_id)])];
    },

    async putDocument(d) {
      return withTransaction(db, async (trx) => {
        const same = await trx
          .selectFrom('bundle_documents')
          .selectAll()
          .where('bundle_id', '=', d.bundleId)
          .where('kind', '=', d.kind)
          .where('digest', '=', d.digest)
          .executeTakeFirst();
        if (same) return toDocument(same);
        const last = await trx
          .selectFrom('bundle_documents')
          .select((eb) => eb.fn.max('seq').as('seq'))
          .where('bundle_id', '=', d.bundleId)
          .where('kind', '=', d.kind)
          .executeTakeFirst();
        const seq = Number(last?.seq ?? 0) + 1;
        await trx
          .insertInto('bundle_documents')
          .values({ bundle_id: d.bundleId, kind: d.kind, seq, number: d.number, digest: d.digest, sha256: d.sha256, bytes: toBuffer(d.bytes), created_at: d.createdAt })
          .execute();
        return { ...d, seq };
      });
    },

    async latestDocument(bundleId, kind) {
      const row = await db
        .selectFrom('bundle_documents')
        .selectAll()
        .where('bundle_id', '=', bundleId)
        .where('kind', '=', kind)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? null : toDocument(row);
    },

    async documentBySha256(sha256) {
      const row = await db
        .selectFrom('bundle_documents')
        .select(['bundle_id', 'kind', 'seq', 'number', 'digest', 'sha256', 'created_at'])
        .where('sha256', '=', sha256)
        .limit(1)
        .executeTakeFirst();
      return row === undefined
        ? null
        : { bundleId: row.bundle_id, kind: row.kind, seq: Number(row.seq), number: row.number, digest: row.digest, sha256: row.sha256, createdAt: row.created_at };
    },

    async aggregate(bundle, filter) {
      let q = db.selectFrom('bundle_applications').select(['id', 'status', 'created_at', 'completed_at']).where('bundle', '=', bundle);
      if (filter.from !== undefined) q = q.where('created_at', '>=', filter.from);
      if (filter.to !== undefined) q = q.where('created_at', '<', filter.to);
      const rows = await q.execute();
      const completionMs = rows
        .filter((r) => r.completed_at !== null)
        .map((r) => Math.max(0, Date.parse(r.completed_at!) - Date.parse(r.created_at)))
        .sort((a, b) => a - b);
      // The members of the same bundle applications, by a join with the same filter: a list of their ids as
      // parameters stopped working past PostgreSQL's 65,535 parameters (a popular 一件事 over a long period).
      let mq = db
        .selectFrom('bundle_members as m')
        .innerJoin('bundle_applications as b', 'b.id', 'm.bundle_id')
        .leftJoin('applications as a', 'a.id', 'm.application_id')
        .leftJoin('application_figures as f', 'f.application_id', 'm.application_id')
        .leftJoin('manual_decisions as d', 'd.application_id', 'm.application_id')
        .select(['m.matter', 'm.application_id', 'a.status', 'f.outcome', 'f.fallout_rules', 'd.outcome as manual_outcome'])
        .where('b.bundle', '=', bundle);
      if (filter.from !== undefined) mq = mq.where('b.created_at', '>=', filter.from);
      if (filter.to !== undefined) mq = mq.where('b.created_at', '<', filter.to);
      const members = rows.length === 0 ? [] : await mq.execute();
      const byMatter = new Map<string, BundleAggregatesMember>();
      for (const m of members) {
        const agg = byMatter.get(m.matter) ?? { matter: m.matter, filed: 0, byStatus: {}, autoDecided: 0, manualDecided: 0, fallout: {} };
        const status: string = m.status ?? 'pending';
        agg.byStatus[status] = (agg.byStatus[status] ?? 0) + 1;
        if (m.application_id !== null) agg.filed += 1;
        if (m.manual_outcome !== null) agg.manualDecided += 1;
        else if (m.outcome === 'APPROVE' || m.outcome === 'REJECT') agg.autoDecided += 1;
        if (m.outcome !== null && m.outcome !== 'APPROVE' && m.fallout_rules) {
          for (const rule of JSON.parse(m.fallout_rules) as string[]) agg.fallout[rule] = (agg.fallout[rule] ?? 0) + 1;
        }
        byMatter.set(m.matter, agg);
      }
      return {
        bundle,
        filings: rows.length,
        completed: rows.filter((r) => r.status === 'completed').length,
        completionMs,
        members: [...byMatter.values()],
      };
    },

    awaited: {
      async record(applicationId, waits, at) {
        await withTransaction(db, async (trx) => {
          await trx.deleteFrom('awaited_results').where('application_id', '=', applicationId).execute();
          if (waits.length === 0) return;
          await trx
            .insertInto('awaited_results')
            .values(waits.map((w) => ({ application_id: applicationId, source: w.source, key_hash: w.keyHash, created_at: at })))
            .onConflict((oc) => oc.columns(['application_id', 'source']).doNothing())
            .execute();
        });
      },
      async find(source, keyHash) {
        const rows = await db
          .selectFrom('awaited_results as w')
          .innerJoin('applications as a', 'a.id', 'w.application_id')
          .select('w.application_id')
          .where('w.source', '=', source)
          .where('w.key_hash', '=', keyHash)
          .where('a.status', '=', 'manual_review' satisfies ApplicationStatus)
          .execute();
        return rows.map((r) => r.application_id);
      },
    },
  };
}

type BundleAggregatesMember = Awaited<ReturnType<BundleStore['aggregate']>>['members'][number];
