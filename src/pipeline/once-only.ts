/**
 * The once-only steps of a filing (issue 4), kept out of the orchestration so it still reads like DESIGN.md §2:
 * the consent that allows the reads, the archive items a filing may reuse, per-field provenance for the receipt,
 * the freshness guard before an approval, and the figures supervisors see.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import { staleReads } from '../data-sources/resilient.js';
import type { FieldProvenance, RuleEvaluation, SourceRead } from '../domain/types.js';
import type { ApplicationRow, ConsentRow, DataAccessEntry, FilingMaterial, Store } from '../store/types.js';
import { fieldOrigin } from '../catalog/once-only-figures.js';
import type { LookupResults } from './fetch-lookups.js';
import type { FieldValue } from './prefill-fields.js';
import { archivedFor, materialCategory, type ArchivedMaterial, type MaterialPlan } from './resolve-materials.js';

/** What a filing may read: the consent in force for its subject and matter, and the sources it covers. */
export interface ReadPermission {
  consent: ConsentRow | null;
  /** Undefined when the matter reads without consent (it does not ask for data sharing). */
  allowed?: (sourceId: string) => boolean;
}

/**
 * The consent in force now for (applicant, matter), covering only its sources. A consent revoked after intake
 * stops the reads of a filing still in the queue: nothing is read. A filing that carries `dataSharing: true` but
 * has no consent row (written before consents were recorded) reads on its own consent unless the subject's latest
 * consent for the matter was revoked.
 */
export async function readPermission(store: Pick<Store, 'consents'>, matter: LoadedMatter, app: Pick<ApplicationRow, 'applicant' | 'consent'>, at: Date): Promise<ReadPermission> {
  if (!matter.def.consent.dataSharing) return { consent: null };
  const consent = await store.consents.active(app.applicant, matter.def.code, at.toISOString());
  if (consent) {
    const covered = new Set(consent.sources);
    return { consent, allowed: (id) => covered.has(id) };
  }
  const latest = await store.consents.latest(app.applicant, matter.def.code);
  const ownConsent = app.consent.dataSharing === true && latest?.endedReason !== 'revoked';
  return { consent: null, allowed: () => ownConsent };
}

/** An UNKNOWN (→ MANUAL) evaluation for a filing whose reads were withheld for want of consent. */
export function consentEvaluations(permission: ReadPermission, withheld: readonly string[]): RuleEvaluation[] {
  if (withheld.length === 0) return [];
  return [
    {
      id: 'consent-missing',
      result: 'UNKNOWN',
      message: permission.consent
        ? `数据共享授权未覆盖数源 ${withheld.join('、')}，未查询，转人工审核`
        : '数据共享授权已撤回或失效，未查询任何共享数据，转人工审核',
      basis: '未经申请人授权不得查询共享数据（数据共享授权）',
      onFail: 'MANUAL',
    },
  ];
}

/** The audit rows of a filing's (or a guide's) reads. */
export function auditEntries(
  reads: readonly SourceRead[],
  ctx: { requester: string; applicationId: string | null; purpose: string; matter: string; consentId: string | null },
): DataAccessEntry[] {
  return reads.map((r) => ({
    requester: ctx.requester,
    applicationId: ctx.applicationId,
    source: r.source,
    key: r.key,
    purpose: ctx.purpose,
    status: r.status,
    responseHash: r.responseHash,
    at: r.fetchedAt,
    matter: ctx.matter,
    consentId: ctx.consentId,
    origin: r.cached ? 'cache' : 'source',
  }));
}

/** The applicant's archive items that a filing of this matter may use on `day`. */
export async function archiveFor(store: Pick<Store, 'archive'>, matter: LoadedMatter, applicant: string, day: string): Promise<Map<string, ArchivedMaterial>> {
  return archivedFor(matter.def, await store.archive.list(applicant), day);
}

/**
 * 免填 provenance: for each pre-filled field, the read its value came from. A pre-filled field whose source could
 * not give the value is listed too, with `fallback` (the applicant's typed value stood in, or none was given) and
 * the read that failed, if a read was made.
 */
export function fieldProvenance(matter: LoadedMatter, fields: readonly FieldValue[], lookups: LookupResults): FieldProvenance[] {
  const out: FieldProvenance[] = [];
  for (const f of fields) {
    const source = f.prefilledFrom ?? f.fallback?.source;
    if (!source) continue;
    const def = matter.def.fields.find((d) => d.id === f.id);
    const key = def?.prefill ? lookups.top[def.prefill.lookup]?.key : null;
    const read = lookups.reads.find((r) => r.source === source && r.key === key);
    if (f.prefilledFrom) {
      if (!read) continue;
      out.push({ field: f.id, source: read.source, key: read.key, fetchedAt: read.fetchedAt, responseHash: read.responseHash, cached: read.cached === true });
    } else if (f.fallback) {
      out.push({
        field: f.id,
        source,
        key: read?.key ?? key ?? '',
        fetchedAt: read?.fetchedAt ?? '',
        responseHash: read?.responseHash ?? '',
        cached: read?.cached === true,
        fallback: { value: f.fallback.status, note: f.fallback.note },
      });
    }
  }
  return out;
}

/** UNKNOWN evaluations for answers older than their source's TTL: stale data never decides an approval. */
export function freshnessEvaluations(reads: readonly SourceRead[], ttls: ReadonlyMap<string, number | undefined> | undefined, at: Date): RuleEvaluation[] {
  if (!ttls) return [];
  return staleReads(reads, ttls, at).map((source) => ({
    id: `source-stale:${source}`,
    result: 'UNKNOWN' as const,
    message: `数源 ${source} 的数据已超过有效期，需重新核验，转人工审核`,
    basis: '共享数据超过数源规定的缓存有效期，不得作为审批依据',
    onFail: 'MANUAL' as const,
  }));
}

/** Writes the filing's figures and how it obtained each material (idempotent: a retried job replaces them). */
export async function recordFigures(
  store: Pick<Store, 'figures' | 'archive'>,
  matter: LoadedMatter,
  app: ApplicationRow,
  plans: readonly MaterialPlan[],
  fields: readonly FieldValue[],
  decision: { outcome: 'APPROVE' | 'REJECT' | 'MANUAL'; reasons: ReadonlyArray<{ rule: string }> },
  decidedAt: Date,
): Promise<FilingMaterial[]> {
  const archiveIds = plans.flatMap((p) => (p.archiveId ? [p.archiveId] : []));
  const usedBefore = await store.archive.usedBefore(archiveIds, app.id);
  const materials: FilingMaterial[] = plans.map((p) => ({
    material: p.id,
    name: p.name,
    how: p.how,
    status: p.status,
    category: materialCategory(p, usedBefore),
    archiveId: p.archiveId ?? null,
    commitment: p.status === 'commitment' ? (p.commitment ?? null) : null,
  }));
  // Typed: the form's own fields, and pre-filled ones whose source could not answer and took the typed value.
  const typed = new Set(matter.def.fields.filter((f) => fieldOrigin(matter.def, f) === 'typed').map((f) => f.id));
  const fallback = fields.filter((f) => f.fallback?.status === 'typed').length;
  await store.figures.record(
    {
      applicationId: app.id,
      matter: matter.def.code,
      outcome: decision.outcome,
      createdAt: app.createdAt,
      decidedAt: decidedAt.toISOString(),
      decisionMs: Math.max(0, decidedAt.getTime() - Date.parse(app.createdAt)),
      fieldsPrefilled: fields.filter((f) => f.prefilledFrom).length,
      fieldsTyped: fields.filter((f) => typed.has(f.id)).length + fallback,
      fieldsFallback: fallback,
      fieldsTotal: fields.length,
      falloutRules: decision.outcome === 'APPROVE' ? [] : [...new Set(decision.reasons.map((r) => r.rule))],
    },
    materials,
  );
  return materials;
}
