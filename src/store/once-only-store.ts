/**
 * Repositories of issue 4 (once-only): consents, the applicant's archive, per-filing figures and the queries of
 * the data-access log. Portable SQL for SQLite and PostgreSQL, like ./kysely-store.ts.
 */
import { rawSql, valueRows } from './raw.js';
import { withTransaction } from './tx.js';
import { nearestRank } from '../domain/figures.js';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { ArchiveMaterialsTable, ConsentsTable, Database, DataAccessLogTable } from './schema.js';
import type {
  ArchiveMaterialRow,
  ConsentRow,
  DataAccessEntry,
  DataAccessQuery,
  FilingMaterial,
  MatterAggregates,
  Store,
} from './types.js';

const ARCHIVE_COLUMNS = ['id', 'subject', 'matter', 'material', 'name', 'media_type', 'size', 'sha256', 'file_name', 'valid_until', 'uploaded_at'] as const;
type ArchiveSelection = Pick<Selectable<ArchiveMaterialsTable>, (typeof ARCHIVE_COLUMNS)[number]>;
const CATEGORIES: ReadonlyArray<FilingMaterial['category']> = ['exempted', 'reused', 'uploaded', 'committed', 'generated', 'missing'];

function toConsent(row: Selectable<ConsentsTable>): ConsentRow {
  return {
    id: row.id,
    subject: row.subject,
    matter: row.matter,
    purpose: row.purpose,
    sources: JSON.parse(row.sources) as string[],
    applicationId: row.application_id,
    grantedAt: row.granted_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    endedReason: row.ended_reason,
  };
}

function toArchive(row: ArchiveSelection): ArchiveMaterialRow {
  return {
    id: row.id,
    subject: row.subject,
    matter: row.matter,
    material: row.material,
    name: row.name,
    mediaType: row.media_type as ArchiveMaterialRow['mediaType'],
    size: Number(row.size),
    sha256: row.sha256,
    fileName: row.file_name,
    validUntil: row.valid_until,
    uploadedAt: row.uploaded_at,
  };
}

/**
 * A data-access row as the contract sees it (shared with ./kysely-store.ts). The columns added by 0003 appear only
 * when set, and the row id only for paged queries, so rows written before keep their exact earlier shape.
 */
export function toDataAccessEntry(row: Selectable<DataAccessLogTable>, withId = false): DataAccessEntry {
  return {
    ...(withId ? { id: Number(row.id) } : {}),
    requester: row.requester,
    applicationId: row.application_id,
    source: row.source,
    key: row.key,
    purpose: row.purpose,
    status: row.status,
    responseHash: row.response_hash,
    at: row.at,
    ...(row.matter !== null ? { matter: row.matter } : {}),
    ...(row.consent_id !== null ? { consentId: row.consent_id } : {}),
    ...(row.origin !== null ? { origin: row.origin as 'source' | 'cache' } : {}),
  };
}

export function onceOnlyRepositories(db: Kysely<Database>, dialect: Store['dialect'] = 'sqlite'): Pick<Store, 'consents' | 'archive' | 'figures'> & {
  dataAccessQueries: Pick<Store['dataAccess'], 'forSubject' | 'forMatters'>;
} {
  const raw = rawSql(db, dialect);
  const consents: Store['consents'] = {
    async active(subject, matter, at) {
      const rows = await raw.rows<Selectable<ConsentsTable>>(
        `select * from "consents" where "subject" = ? and "matter" = ? and "ended_at" is null and "expires_at" > ? order by "granted_at" desc limit 1`,
        [subject, matter, at],
      );
      return rows[0] === undefined ? null : toConsent(rows[0]);
    },
    async latest(subject, matter) {
      const row = await db
        .selectFrom('consents')
        .selectAll()
        .where('subject', '=', subject)
        .where('matter', '=', matter)
        .orderBy('granted_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? null : toConsent(row);
    },
    async get(id) {
      const row = await db.selectFrom('consents').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toConsent(row);
    },
    async list(subject) {
      const rows = await db.selectFrom('consents').selectAll().where('subject', '=', subject).orderBy('granted_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(toConsent);
    },
    async revoke(id, subject, at) {
      await db
        .updateTable('consents')
        .set({ ended_at: at, ended_reason: 'revoked' })
        .where('id', '=', id)
        .where('subject', '=', subject)
        .where('ended_at', 'is', null)
        .execute();
      const row = await db.selectFrom('consents').selectAll().where('id', '=', id).where('subject', '=', subject).executeTakeFirst();
      return row === undefined ? null : toConsent(row);
    },
  };

  const archive: Store['archive'] = {
    async put(m) {
      const inserted = await db
        .insertInto('archive_materials')
        .values({
          id: m.id,
          subject: m.subject,
          matter: m.matter,
          material: m.material,
          name: m.name,
          media_type: m.mediaType,
          size: m.bytes.byteLength,
          sha256: m.sha256,
          file_name: m.fileName,
          valid_until: m.validUntil,
          uploaded_at: m.uploadedAt,
          bytes: Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength),
        })
        .onConflict((oc) => oc.columns(['subject', 'matter', 'material', 'sha256']).doNothing())
        .executeTakeFirst();
      const row = await db
        .selectFrom('archive_materials')
        .select(ARCHIVE_COLUMNS)
        .where('subject', '=', m.subject)
        .where('matter', '=', m.matter)
        .where('material', '=', m.material)
        .where('sha256', '=', m.sha256)
        .executeTakeFirstOrThrow();
      return { created: Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0, item: toArchive(row) };
    },
    async list(subject) {
      const rows = await raw.rows<ArchiveSelection>(
        `select ${ARCHIVE_COLUMNS.map((c) => `"${c}"`).join(', ')} from "archive_materials" where "subject" = ? order by "uploaded_at" desc, "id"`,
        [subject],
      );
      return rows.map(toArchive);
    },
    async get(id) {
      const row = await db.selectFrom('archive_materials').select(ARCHIVE_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toArchive(row);
    },
    async read(id) {
      const row = await db.selectFrom('archive_materials').select([...ARCHIVE_COLUMNS, 'bytes']).where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : { item: toArchive(row), bytes: new Uint8Array(row.bytes) };
    },
    async usedBefore(ids, exceptApplication) {
      if (ids.length === 0) return new Set();
      const rows = await db
        .selectFrom('application_materials')
        .select('archive_id')
        .distinct()
        .where('archive_id', 'in', ids)
        .where('application_id', '!=', exceptApplication)
        .execute();
      return new Set(rows.map((r) => r.archive_id!));
    },
  };

  const figures: Store['figures'] = {
    async record(f, materials) {
      // Upserts, not delete + insert: two runs of the same job at once must both succeed (the last one wins).
      await withTransaction(db, async (trx) => {
        const r = trx === db ? raw : rawSql(trx, dialect);
        await r.run(
          `insert into "application_figures" ("application_id", "matter", "outcome", "created_at", "decided_at", "decision_ms", "fields_prefilled", "fields_typed", "fields_fallback", "fields_total", "fallout_rules") values ${valueRows(1, 11)}
           on conflict ("application_id") do update set "matter" = excluded."matter", "outcome" = excluded."outcome", "created_at" = excluded."created_at", "decided_at" = excluded."decided_at", "decision_ms" = excluded."decision_ms", "fields_prefilled" = excluded."fields_prefilled", "fields_typed" = excluded."fields_typed", "fields_fallback" = excluded."fields_fallback", "fields_total" = excluded."fields_total", "fallout_rules" = excluded."fallout_rules"`,
          [f.applicationId, f.matter, f.outcome, f.createdAt, f.decidedAt, f.decisionMs, f.fieldsPrefilled, f.fieldsTyped, f.fieldsFallback, f.fieldsTotal, JSON.stringify(f.falloutRules)],
        );
        if (materials.length > 0) {
          await r.run(
            `insert into "application_materials" ("application_id", "material", "matter", "name", "how", "status", "category", "archive_id", "commitment") values ${valueRows(materials.length, 9)}
             on conflict ("application_id", "material") do update set "name" = excluded."name", "how" = excluded."how", "status" = excluded."status", "category" = excluded."category", "archive_id" = excluded."archive_id", "commitment" = excluded."commitment"`,
            materials.flatMap((m) => [f.applicationId, m.material, f.matter, m.name, m.how, m.status, m.category, m.archiveId, m.commitment]),
          );
        }
      });
    },

    async materials(applicationId) {
      const rows = await db
        .selectFrom('application_materials')
        .select(['material', 'name', 'how', 'status', 'category', 'archive_id', 'commitment'])
        .where('application_id', '=', applicationId)
        .orderBy('material')
        .execute();
      return rows.map((r) => ({
        material: r.material,
        name: r.name,
        how: r.how,
        status: r.status,
        category: r.category as FilingMaterial['category'],
        archiveId: r.archive_id,
        commitment: r.commitment,
      }));
    },

    async aggregate({ matters, from, to }) {
      if (matters !== undefined && matters.length === 0) return [];
      let apps = db.selectFrom('applications').select(['matter', 'status']).select((eb) => eb.fn.countAll<number | string>().as('n'));
      if (matters) apps = apps.where('matter', 'in', matters);
      if (from) apps = apps.where('created_at', '>=', from);
      if (to) apps = apps.where('created_at', '<', to);
      const statusRows = await apps.groupBy(['matter', 'status']).execute();

      // The decided filings' figures are summed by the database (they were read row by row into the process on every
      // /v1/stats and /metrics call: every filing of the period). Fall-out rules are read only from filings that fell
      // out, and the decision times' median and 95th percentile are two seeks per matter (decisionTimes below).
      let figs = db
        .selectFrom('application_figures')
        .select(['matter', 'outcome'])
        .select((eb) => [
          eb.fn.countAll<number | string>().as('n'),
          eb.fn.sum<number | string>('fields_prefilled').as('prefilled'),
          eb.fn.sum<number | string>('fields_typed').as('typed'),
          eb.fn.sum<number | string>('fields_fallback').as('fallback'),
          eb.fn.sum<number | string | null>(eb.fn.coalesce('fields_total', sql.lit(0))).as('counted_total'),
          eb.fn.sum<number | string | null>(eb.case().when('fields_total', 'is not', null).then(eb.ref('fields_typed')).else(0).end()).as('counted_typed'),
        ]);
      if (matters) figs = figs.where('matter', 'in', matters);
      if (from) figs = figs.where('created_at', '>=', from);
      if (to) figs = figs.where('created_at', '<', to);
      const figureRows = await figs.groupBy(['matter', 'outcome']).execute();

      let falls = db.selectFrom('application_figures').select(['matter', 'fallout_rules']).where('outcome', '!=', 'APPROVE');
      if (matters) falls = falls.where('matter', 'in', matters);
      if (from) falls = falls.where('created_at', '>=', from);
      if (to) falls = falls.where('created_at', '<', to);
      const falloutRows = await falls.execute();

      let mats = db
        .selectFrom('application_materials as m')
        .innerJoin('application_figures as f', 'f.application_id', 'm.application_id')
        .select(['m.matter as matter', 'm.category as category'])
        .select((eb) => eb.fn.countAll<number | string>().as('n'));
      if (matters) mats = mats.where('m.matter', 'in', matters);
      if (from) mats = mats.where('f.created_at', '>=', from);
      if (to) mats = mats.where('f.created_at', '<', to);
      const materialRows = await mats.groupBy(['m.matter', 'm.category']).execute();

      // How materials were actually obtained: the category says whether the acquisition held (exempted, reused,
      // committed, generated) or fell back (uploaded, missing); for an exemption, `how` names the way.
      let hows = db
        .selectFrom('application_materials as m')
        .innerJoin('application_figures as f', 'f.application_id', 'm.application_id')
        .select(['m.matter as matter', 'm.category as category', 'm.how as how'])
        .select((eb) => eb.fn.countAll<number | string>().as('n'));
      if (matters) hows = hows.where('m.matter', 'in', matters);
      if (from) hows = hows.where('f.created_at', '>=', from);
      if (to) hows = hows.where('f.created_at', '<', to);
      const howRows = await hows.groupBy(['m.matter', 'm.category', 'm.how']).execute();

      // Decided filings that uploaded something; the rest of the decided filings uploaded nothing.
      let uploads = db
        .selectFrom('application_materials as m')
        .innerJoin('application_figures as f', 'f.application_id', 'm.application_id')
        .select('m.matter as matter')
        .select((eb) => eb.fn.count<number | string>('m.application_id').distinct().as('n'))
        .where('m.category', '=', 'uploaded');
      if (matters) uploads = uploads.where('m.matter', 'in', matters);
      if (from) uploads = uploads.where('f.created_at', '>=', from);
      if (to) uploads = uploads.where('f.created_at', '<', to);
      const uploadRows = await uploads.groupBy('m.matter').execute();

      const byMatter = new Map<string, MatterAggregates>();
      const get = (matter: string): MatterAggregates => {
        let a = byMatter.get(matter);
        if (!a) {
          a = {
            matter,
            filings: 0,
            byStatus: {},
            byOutcome: { APPROVE: 0, REJECT: 0, MANUAL: 0 },
            decisionMs: { count: 0, median: null, p95: null },
            materials: Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as MatterAggregates['materials'],
            fieldsPrefilled: 0,
            fieldsTyped: 0,
            fallout: {},
            fieldsFallback: 0,
            fieldsCounted: { total: 0, typed: 0 },
            zeroUploadFilings: 0,
            materialsByAcquisition: {},
          };
          byMatter.set(matter, a);
        }
        return a;
      };
      for (const r of statusRows) {
        const a = get(r.matter);
        a.filings += Number(r.n);
        a.byStatus[r.status] = (a.byStatus[r.status] ?? 0) + Number(r.n);
      }
      for (const r of figureRows) {
        const a = get(r.matter);
        const n = Number(r.n);
        a.byOutcome[r.outcome] += n;
        a.fieldsPrefilled += Number(r.prefilled ?? 0);
        a.fieldsTyped += Number(r.typed ?? 0);
        a.fieldsFallback += Number(r.fallback ?? 0);
        a.fieldsCounted.total += Number(r.counted_total ?? 0);
        a.fieldsCounted.typed += Number(r.counted_typed ?? 0);
        a.zeroUploadFilings += n;
      }
      for (const r of falloutRows) {
        const a = get(r.matter);
        for (const rule of JSON.parse(r.fallout_rules) as string[]) a.fallout[rule] = (a.fallout[rule] ?? 0) + 1;
      }
      for (const r of materialRows) {
        const a = get(r.matter);
        const c = r.category as FilingMaterial['category'];
        if (c in a.materials) a.materials[c] += Number(r.n);
      }
      for (const r of uploadRows) get(r.matter).zeroUploadFilings -= Number(r.n);
      for (const r of howRows) {
        const a = get(r.matter);
        const key = acquisitionOf(r.category as FilingMaterial['category'], r.how);
        a.materialsByAcquisition[key] = (a.materialsByAcquisition[key] ?? 0) + Number(r.n);
      }
      for (const a of byMatter.values()) {
        const count = a.byOutcome.APPROVE + a.byOutcome.REJECT + a.byOutcome.MANUAL;
        a.decisionMs = count === 0 ? { count, median: null, p95: null } : { count, median: await decisionTime(a.matter, count, 0.5), p95: await decisionTime(a.matter, count, 0.95) };
      }
      return [...byMatter.values()].sort((x, y) => (x.matter < y.matter ? -1 : 1));

      /** The nearest-rank percentile p of a matter's `count` decision times: one seek of (matter, decision_ms, created_at). */
      async function decisionTime(matter: string, count: number, p: number): Promise<number | null> {
        let q = db.selectFrom('application_figures').select('decision_ms').where('matter', '=', matter);
        if (from) q = q.where('created_at', '>=', from);
        if (to) q = q.where('created_at', '<', to);
        const row = await q.orderBy('decision_ms').limit(1).offset(nearestRank(count, p) - 1).executeTakeFirst();
        return row === undefined ? null : Number(row.decision_ms);
      }
    },
  };

  /** The acquisition a material row counts under, by what actually happened in the filing. */
  function acquisitionOf(category: FilingMaterial['category'], how: string): string {
    switch (category) {
      case 'uploaded':
        return 'upload';
      case 'reused':
        return '材料复用';
      case 'committed':
        return '告知承诺';
      case 'generated':
        return '系统生成';
      case 'missing':
        return 'missing';
      default:
        return how;
    }
  }

  function paged(q: DataAccessQuery) {
    let query = db.selectFrom('data_access_log').selectAll();
    if (q.beforeId !== undefined) query = query.where('id', '<', q.beforeId);
    if (q.source !== undefined) query = query.where('source', '=', q.source);
    if (q.key !== undefined) query = query.where('key', '=', q.key);
    if (q.applicationId !== undefined) query = query.where('application_id', '=', q.applicationId);
    return query;
  }

  const dataAccessQueries: Pick<Store['dataAccess'], 'forSubject' | 'forMatters'> = {
    async forSubject(subject, q) {
      const rows = await paged(q)
        .where((eb) => eb.or([eb('requester', '=', subject), eb('key', '=', subject)]))
        .orderBy('id', 'desc')
        .limit(q.limit)
        .execute();
      return rows.map((r) => toDataAccessEntry(r, true));
    },
    async forMatters(matters, q) {
      if (matters.length === 0) return [];
      const rows = await paged(q).where('matter', 'in', matters).orderBy('id', 'desc').limit(q.limit).execute();
      return rows.map((r) => toDataAccessEntry(r, true));
    },
  };

  return { consents, archive, figures, dataAccessQueries };
}
