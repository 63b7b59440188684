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
}

export interface MaterialContext {
  /** Top-level lookups already read (guidance with an authenticated applicant, or the filing's own reads). */
  lookups?: Readonly<Record<string, { status: SourceReadStatus } | undefined>>;
  /** Materials the applicant's archive (一人一档/一企一档) holds and may reuse. */
  archive?: ReadonlySet<string>;
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
      for (const how of m.acquisition) {
        if (how === '系统生成') return { ...base, how, exempt: false, status: 'generated' };
        if (how === '告知承诺') return { ...base, how, exempt: false, status: 'commitment', ...(m.commitment ? { commitment: m.commitment } : {}) };
        if (how === 'upload') return { ...base, how, exempt: false, status: 'upload' };
        if (how === '材料复用') {
          if (ctx.archive?.has(m.id)) return { ...base, how, exempt: true, status: 'reused' };
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
      message: p.status === 'upload' ? `「${p.name}」须由申请人上传，需人工核验` : `「${p.name}」待相关部门业务协同送达后办理`,
      basis: '上传材料或待协同材料无法自动核验，转人工审核（不作自动退回）',
      onFail: 'MANUAL',
    }));
}
