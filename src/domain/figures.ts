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
  /** Ascending. */
  decisionMs: number[];
  materials: Record<'exempted' | 'reused' | 'uploaded' | 'committed' | 'generated' | 'missing', number>;
  fieldsPrefilled: number;
  fieldsTyped: number;
  fallout: Record<string, number>;
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
}

/** Nearest-rank percentile of an ascending list: the smallest value with at least p of the values at or below it. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
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
    timeToDecisionMs: { count: a.decisionMs.length, median: percentile(a.decisionMs, 0.5), p95: percentile(a.decisionMs, 0.95) },
    materials: { ...a.materials },
    fields: { prefilled: a.fieldsPrefilled, typed: a.fieldsTyped },
    topFalloutReasons: Object.entries(a.fallout)
      .map(([rule, count]) => ({ rule, count }))
      .sort((x, y) => y.count - x.count || (x.rule < y.rule ? -1 : 1))
      .slice(0, topReasons),
  };
}
