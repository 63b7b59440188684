/**
 * The reform's figures per matter (supervision, DESIGN.md §1): filings, outcomes of the automatic decision,
 * auto-approval rate, time to decision, how materials were obtained, pre-filled vs typed fields, and why filings
 * fell out of automatic approval. Pure: computed from the store's aggregates.
 */

/** What the store aggregates per matter (see store `figures.aggregate`). */
export interface FigureInputs {
  matter: string;
  filings: number;
  byStatus: Record<string, number>;
  byOutcome: Record<'APPROVE' | 'REJECT' | 'MANUAL', number>;
  /** Time from receipt to the automatic decision: how many, and the nearest-rank median and 95th percentile. */
  decisionMs: DecisionTimes;
  materials: Record<'exempted' | 'reused' | 'uploaded' | 'committed' | 'generated' | 'missing', number>;
  fieldsPrefilled: number;
  fieldsTyped: number;
  fallout: Record<string, number>;
  /** Pre-filled fields that took the applicant's typed value because their source could not answer. */
  fieldsFallback: number;
  /** Over filings that recorded how many fields they printed: that total and, of it, typed. */
  fieldsCounted: { total: number; typed: number };
  /** Decided filings with no uploaded material. */
  zeroUploadFilings: number;
  /** Materials by how they were actually obtained (证照共享 … upload, missing). */
  materialsByAcquisition: Record<string, number>;
}

/** Decision times as the store reads them: the count and two nearest-rank percentiles (null when none). */
export interface DecisionTimes {
  count: number;
  median: number | null;
  p95: number | null;
}

/** The once-only figures measured on real filings (the catalog says what should happen; these, what did). */
export interface MeasuredOnceOnly {
  /** Filings with an automatic decision. */
  decided: number;
  /** Of those, filings that uploaded nothing (零上传), and their share. */
  zeroUploadFilings: number;
  zeroUploadRate: number | null;
  fields: {
    /** Fields printed on filings that recorded it, and of them typed by the applicant; 免填 share = 1 − typed/total. */
    total: number;
    typed: number;
    prefilledRate: number | null;
    /** Pre-filled fields whose source could not answer, so the applicant's typed value stood in. */
    typedFallback: number;
  };
  materialsByAcquisition: Record<string, number>;
}

export interface MatterFigures {
  matter: string;
  /** Filings received (any status). */
  filings: number;
  /** Automatic decisions (a reviewer's later decision does not change them), failures and filings still in progress. */
  outcomes: { approved: number; rejected: number; manualReview: number; failed: number; inProgress: number };
  /** approved / automatically decided; null before any decision. */
  autoApprovalRate: number | null;
  /** Receipt of the filing → automatic decision, nearest-rank percentiles in ms. */
  timeToDecisionMs: { count: number; median: number | null; p95: number | null };
  materials: { exempted: number; reused: number; uploaded: number; committed: number; generated: number; missing: number };
  fields: { prefilled: number; typed: number };
  /** Rules that most often kept filings from automatic approval, most frequent first (ties by rule id). */
  topFalloutReasons: Array<{ rule: string; count: number }>;
  onceOnly: MeasuredOnceOnly;
}

/** An empty aggregate: a matter nobody has filed yet. */
export function emptyFigureInputs(matter: string): FigureInputs {
  return {
    matter,
    filings: 0,
    byStatus: {},
    byOutcome: { APPROVE: 0, REJECT: 0, MANUAL: 0 },
    decisionMs: { count: 0, median: null, p95: null },
    materials: { exempted: 0, reused: 0, uploaded: 0, committed: 0, generated: 0, missing: 0 },
    fieldsPrefilled: 0,
    fieldsTyped: 0,
    fallout: {},
    fieldsFallback: 0,
    fieldsCounted: { total: 0, typed: 0 },
    zeroUploadFilings: 0,
    materialsByAcquisition: {},
  };
}

/** The nearest rank (1-based) of percentile p among n values: the smallest value with at least p of them at or below it. */
export function nearestRank(n: number, p: number): number {
  return Math.min(n, Math.max(1, Math.ceil(p * n)));
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[nearestRank(sorted.length, p) - 1]!;
}

export function matterFigures(a: FigureInputs, topReasons = 5): MatterFigures {
  const decided = a.byOutcome.APPROVE + a.byOutcome.REJECT + a.byOutcome.MANUAL;
  return {
    matter: a.matter,
    filings: a.filings,
    outcomes: {
      approved: a.byOutcome.APPROVE,
      rejected: a.byOutcome.REJECT,
      manualReview: a.byOutcome.MANUAL,
      failed: a.byStatus['failed'] ?? 0,
      inProgress: (a.byStatus['queued'] ?? 0) + (a.byStatus['processing'] ?? 0),
    },
    autoApprovalRate: decided === 0 ? null : a.byOutcome.APPROVE / decided,
    timeToDecisionMs: { ...a.decisionMs },
    materials: { ...a.materials },
    fields: { prefilled: a.fieldsPrefilled, typed: a.fieldsTyped },
    topFalloutReasons: Object.entries(a.fallout)
      .map(([rule, count]) => ({ rule, count }))
      .sort((x, y) => y.count - x.count || (x.rule < y.rule ? -1 : 1))
      .slice(0, topReasons),
    onceOnly: measuredOnceOnly(a),
  };
}

export function measuredOnceOnly(a: FigureInputs): MeasuredOnceOnly {
  const decided = a.byOutcome.APPROVE + a.byOutcome.REJECT + a.byOutcome.MANUAL;
  const { total, typed } = a.fieldsCounted;
  return {
    decided,
    zeroUploadFilings: a.zeroUploadFilings,
    zeroUploadRate: decided === 0 ? null : a.zeroUploadFilings / decided,
    fields: { total, typed, prefilledRate: total === 0 ? null : (total - typed) / total, typedFallback: a.fieldsFallback },
    materialsByAcquisition: { ...a.materialsByAcquisition },
  };
}

/** Measured figures summed over matters (city-wide). */
export function sumMeasured(list: readonly MeasuredOnceOnly[]): MeasuredOnceOnly {
  const acc = { decided: 0, zeroUploadFilings: 0, total: 0, typed: 0, typedFallback: 0, materials: {} as Record<string, number> };
  for (const m of list) {
    acc.decided += m.decided;
    acc.zeroUploadFilings += m.zeroUploadFilings;
    acc.total += m.fields.total;
    acc.typed += m.fields.typed;
    acc.typedFallback += m.fields.typedFallback;
    for (const [k, n] of Object.entries(m.materialsByAcquisition)) acc.materials[k] = (acc.materials[k] ?? 0) + n;
  }
  return {
    decided: acc.decided,
    zeroUploadFilings: acc.zeroUploadFilings,
    zeroUploadRate: acc.decided === 0 ? null : acc.zeroUploadFilings / acc.decided,
    fields: { total: acc.total, typed: acc.typed, prefilledRate: acc.total === 0 ? null : (acc.total - acc.typed) / acc.total, typedFallback: acc.typedFallback },
    materialsByAcquisition: acc.materials,
  };
}
