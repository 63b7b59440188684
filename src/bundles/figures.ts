/**
 * Supervision figures of a 一件事 (issue 14, pure): filings and completions, time from receipt to every member decided,
 * per member how many were decided by the rules or by a person, and why members fell out of automatic approval.
 */
import { percentile } from '../domain/figures.js';

/** What the store aggregates per bundle (store `bundles.aggregate`). */
export interface BundleFigureInputs {
  bundle: string;
  filings: number;
  completed: number;
  /** Ascending. */
  completionMs: number[];
  members: Array<{ matter: string; filed: number; byStatus: Record<string, number>; autoDecided: number; manualDecided: number; fallout: Record<string, number> }>;
}

export interface BundleFigures {
  bundle: string;
  name: string;
  filings: number;
  completed: number;
  inProgress: number;
  /** Receipt → every member decided (ms, nearest-rank). */
  timeToAllDecidedMs: { count: number; median: number | null; p95: number | null };
  /** Members decided by the rules vs by a person, and still with a person. */
  members: { autoDecided: number; manualDecided: number; awaitingPerson: number };
  perMember: Array<{
    matter: string;
    name: string;
    department: string;
    filed: number;
    approved: number;
    rejected: number;
    manualReview: number;
    inProgress: number;
    autoDecided: number;
    manualDecided: number;
    topFalloutReasons: Array<{ rule: string; count: number }>;
  }>;
}

export function bundleFigures(a: BundleFigureInputs, names: (matter: string) => { name: string; department: string }, bundleName: string): BundleFigures {
  const perMember = a.members.map((m) => ({
    matter: m.matter,
    ...names(m.matter),
    filed: m.filed,
    approved: m.byStatus['approved'] ?? 0,
    rejected: m.byStatus['rejected'] ?? 0,
    manualReview: m.byStatus['manual_review'] ?? 0,
    inProgress: (m.byStatus['pending'] ?? 0) + (m.byStatus['queued'] ?? 0) + (m.byStatus['processing'] ?? 0),
    autoDecided: m.autoDecided,
    manualDecided: m.manualDecided,
    topFalloutReasons: Object.entries(m.fallout)
      .map(([rule, count]) => ({ rule, count }))
      .sort((x, y) => y.count - x.count || (x.rule < y.rule ? -1 : 1))
      .slice(0, 5),
  }));
  return {
    bundle: a.bundle,
    name: bundleName,
    filings: a.filings,
    completed: a.completed,
    inProgress: a.filings - a.completed,
    timeToAllDecidedMs: { count: a.completionMs.length, median: percentile(a.completionMs, 0.5), p95: percentile(a.completionMs, 0.95) },
    members: {
      autoDecided: perMember.reduce((n, m) => n + m.autoDecided, 0),
      manualDecided: perMember.reduce((n, m) => n + m.manualDecided, 0),
      awaitingPerson: perMember.reduce((n, m) => n + m.manualReview, 0),
    },
    perMember,
  };
}
