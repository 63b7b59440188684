/**
 * 材料: how each material of a situation is obtained for this applicant, in the matter's order of preference
 * (证照共享 / 数据核验 / 材料复用 / 业务协同 / 告知承诺 / upload). Used by guidance (before filing) and by the
 * decision (an uploaded material, or one another department has yet to deliver, is UNKNOWN → MANUAL).
 */
import type { Acquisition, MatterDef, MaterialType } from '../catalog/types.js';
import type { RuleEvaluation, SourceReadStatus } from '../domain/types.js';

/**
 * verified: the source answered with a record (免交); at-filing: the source is read when the filing comes in
 * (its key comes from the form); pending: another department delivers it (业务协同); not_found / unknown: the
 * source has no record / did not answer; commitment: signed 告知承诺; reused: from the applicant's archive;
 * upload: the applicant provides it; generated: the system fills it from the form.
 */
export type MaterialStatus = 'verified' | 'at-filing' | 'pending' | 'not_found' | 'unknown' | 'commitment' | 'reused' | 'upload' | 'generated';

export interface MaterialPlan {
  id: string;
  name: string;
  type: MaterialType;
  how: Acquisition;
  /** 免交: the applicant submits nothing for it (shared, verified or delivered by another department). */
  exempt: boolean;
  status: MaterialStatus;
  /** The data source that exempts it, when one does. */
  source?: string;
  commitment?: string;
  note?: string;
  /** The archive item (一人一档/一企一档) that supplies it: reused, or an upload already on file. */
  archiveId?: string;
  /** Last day the archived item may be reused (null = no end). */
  validUntil?: string | null;
}

/** A material the applicant's archive holds and may reuse on the filing day. */
export interface ArchivedMaterial {
  archiveId: string;
  validUntil: string | null;
  sha256: string;
}

/** What {@link archivedFor} needs of an archive item. */
export interface ArchiveItem {
  id: string;
  matter: string;
  material: string;
  name: string;
  sha256: string;
  validUntil: string | null;
  uploadedAt: string;
}

/**
 * The archive items usable by a filing of `def` on `day` (YYYY-MM-DD), by material id: uploaded for this
 * matter's material, or for a material of the same name in another matter (材料 are shared across matters).
 * An item past its validity is never offered; the newest usable item wins.
 */
export function archivedFor(def: MatterDef, items: readonly ArchiveItem[], day: string): Map<string, ArchivedMaterial> {
  const usable = items.filter((i) => i.validUntil === null || i.validUntil >= day).sort((a, b) => (a.uploadedAt < b.uploadedAt ? 1 : -1));
  const out = new Map<string, ArchivedMaterial>();
  for (const m of def.materials) {
    const hit = usable.find((i) => i.matter === def.code && i.material === m.id) ?? usable.find((i) => i.name === m.name);
    if (hit) out.set(m.id, { archiveId: hit.id, validUntil: hit.validUntil, sha256: hit.sha256 });
  }
  return out;
}

export interface MaterialContext {
  /** Top-level lookups already read (guidance with an authenticated applicant, or the filing's own reads). */
  lookups?: Readonly<Record<string, { status: SourceReadStatus } | undefined>>;
  /** Materials the applicant's archive (一人一档/一企一档) holds and may reuse, by material id (see {@link archivedFor}). */
  archive?: ReadonlyMap<string, ArchivedMaterial>;
}

/** The material plan for one situation. 证照共享 means the 电子证照库 (`e-license`); any other source verifies. */
export function planMaterials(def: MatterDef, situationId: string, ctx: MaterialContext = {}): MaterialPlan[] {
  const sourceOf = new Map(def.lookups.map((l) => [l.id, { source: l.source, perItem: l.forEach !== undefined }]));
  return def.materials
    .filter((m) => !m.situations || m.situations.includes(situationId))
    .map((m): MaterialPlan => {
      const base = { id: m.id, name: m.name, type: m.type, ...(m.note ? { note: m.note } : {}) };
      const lk = m.lookup ? sourceOf.get(m.lookup) : undefined;
      const read = m.lookup && !lk?.perItem ? ctx.lookups?.[m.lookup] : undefined;
      let fallback: MaterialPlan | null = null;
      const held = ctx.archive?.get(m.id);
      const fromArchive = held ? { archiveId: held.archiveId, validUntil: held.validUntil } : {};
      for (const [i, how] of m.acquisition.entries()) {
        if (how === '系统生成') return { ...base, how, exempt: false, status: 'generated' };
        if (how === '告知承诺') return { ...base, how, exempt: false, status: 'commitment', ...(m.commitment ? { commitment: m.commitment } : {}) };
        if (how === 'upload') {
          // A file already in the archive is not asked for again; without one, a 告知承诺 the matter allows beats an upload.
          if (!held && m.acquisition.slice(i + 1).includes('告知承诺')) continue;
          return { ...base, how, exempt: false, status: 'upload', ...fromArchive };
        }
        if (how === '材料复用') {
          if (held) return { ...base, how, exempt: true, status: 'reused', ...fromArchive };
          continue;
        }
        if (how === '证照共享' && lk?.source !== 'e-license') continue;
        if (!lk) {
          if (how === '业务协同') return { ...base, how, exempt: true, status: 'pending' };
          continue;
        }
        const withSource = { ...base, how, exempt: true, source: lk.source };
        if (!read) return { ...withSource, status: how === '业务协同' ? 'pending' : 'at-filing' };
        if (read.status === 'found') return { ...withSource, status: 'verified' };
        if (read.status === 'unknown') return { ...withSource, status: 'unknown' };
        // Not found: 业务协同 is still to come; otherwise try the next way and remember this one.
        if (how === '业务协同') return { ...withSource, status: 'pending' };
        fallback ??= { ...withSource, exempt: false, status: 'not_found' };
      }
      return fallback ?? { ...base, how: m.acquisition[m.acquisition.length - 1]!, exempt: false, status: 'upload' };
    });
}

/**
 * Materials no machine can check for this filing: uploads, and 业务协同 results that no source delivers.
 * Each is an UNKNOWN evaluation `material:<id>` (→ MANUAL, never REJECT). Materials read from a source are
 * judged by the matter's rules instead.
 */
export function materialEvaluations(plans: MaterialPlan[]): RuleEvaluation[] {
  return plans
    .filter((p) => p.status === 'upload' || (p.status === 'pending' && !p.source))
    .map((p) => ({
      id: `material:${p.id}`,
      result: 'UNKNOWN',
      message:
        p.status !== 'upload'
          ? `「${p.name}」待相关部门业务协同送达后办理`
          : p.archiveId
            ? `「${p.name}」已从申请人档案调取，需人工核验`
            : `「${p.name}」须由申请人上传，需人工核验`,
      basis: '上传材料或待协同材料无法自动核验，转人工审核（不作自动退回）',
      onFail: 'MANUAL',
    }));
}

/**
 * The supervision figure a material counts in. An archive item counts as uploaded the first time a filing uses
 * it and as reused afterwards (`usedBefore`: archive ids an earlier filing used).
 */
export function materialCategory(p: MaterialPlan, usedBefore: ReadonlySet<string>): 'exempted' | 'reused' | 'uploaded' | 'committed' | 'generated' | 'missing' {
  if (p.archiveId) return usedBefore.has(p.archiveId) ? 'reused' : 'uploaded';
  switch (p.status) {
    case 'generated':
      return 'generated';
    case 'commitment':
      return 'committed';
    case 'upload':
      return 'uploaded';
    case 'verified':
      return 'exempted';
    case 'pending':
      return p.source ? 'exempted' : 'missing';
    default:
      return 'missing';
  }
}
