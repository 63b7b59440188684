/**
 * Back-testing and replay on stored decision receipts. A receipt keeps the facts exactly as evaluated (every
 * source's answer, the day, the register state), so a rule set can be run on them again with no source read:
 * replay with the receipt's own version must give the stored decision; a draft shows what it would change.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { Decision, DecisionReceipt, Outcome } from '../domain/types.js';
import { evaluateRules, type Facts } from '../pipeline/evaluate-rules.js';
import { resolveSituation } from '../pipeline/resolve-situation.js';
import type { DecidedFiling } from '../store/authoring-store.js';

/** A reason as compared: rule id and its result (a rule going from UNKNOWN to FAIL is a change). */
export function reasonKeys(d: Decision): string[] {
  return d.reasons.map((r) => `${r.rule}=${r.result}`).sort();
}

export type ReEvaluation = { ok: true; situation: string; decision: Decision } | { ok: false; reason: string };

/** Runs a rule set on a receipt's facts. Not possible when the rule set needs data the filing never read. */
export async function reEvaluate(matter: LoadedMatter, receipt: DecisionReceipt): Promise<ReEvaluation> {
  const facts = receipt.facts as Facts;
  const itemLookups = (facts.itemLookups ?? {}) as Record<string, unknown>;
  const missing = matter.def.lookups.filter((l) => (l.forEach ? !(l.id in itemLookups) : !(l.id in facts))).map((l) => l.id);
  if (missing.length > 0) return { ok: false, reason: `需要该申请未读取的数据 needs data the filing did not read: ${missing.join(', ')}` };
  const sit = resolveSituation(matter.def, facts.answers);
  if (!sit.ok) return { ok: false, reason: '回答无法确定情形 the answers select no situation of this version' };
  try {
    const ev = await evaluateRules(matter, sit.situation.id, facts);
    return { ok: true, situation: sit.situation.id, decision: ev.decision };
  } catch (err) {
    return { ok: false, reason: `规则无法在存档事实上运行 rules cannot run on the stored facts: ${(err as Error).message}` };
  }
}

export interface FlipExample {
  applicationId: string;
  decidedAt: string | null;
  rulesetVersion: string;
  before: { outcome: Outcome; reasons: string[] };
  after: { outcome: Outcome; reasons: string[] };
}

export interface BacktestReport {
  matter: string;
  version: string;
  /** Filings looked at (at most the limit). */
  filings: number;
  evaluated: number;
  unchanged: number;
  /** One group per (from → to), largest first. */
  outcomeChanges: Array<{ from: Outcome; to: Outcome; count: number; examples: FlipExample[] }>;
  /** Same outcome, different reasons. */
  reasonChanges: { count: number; examples: Array<FlipExample & { added: string[]; removed: string[] }> };
  skipped: { count: number; examples: Array<{ applicationId: string; reason: string }> };
}

export async function backtest(matter: LoadedMatter, filings: DecidedFiling[], examplesPerGroup = 5): Promise<BacktestReport> {
  const flips = new Map<string, BacktestReport['outcomeChanges'][number]>();
  const report: BacktestReport = {
    matter: matter.def.code,
    version: matter.version,
    filings: filings.length,
    evaluated: 0,
    unchanged: 0,
    outcomeChanges: [],
    reasonChanges: { count: 0, examples: [] },
    skipped: { count: 0, examples: [] },
  };
  for (const f of filings) {
    const res = await reEvaluate(matter, f.receipt);
    if (!res.ok) {
      report.skipped.count++;
      if (report.skipped.examples.length < examplesPerGroup) report.skipped.examples.push({ applicationId: f.id, reason: res.reason });
      continue;
    }
    report.evaluated++;
    const before = f.receipt.decision;
    const after = res.decision;
    const example: FlipExample = {
      applicationId: f.id,
      decidedAt: f.decidedAt,
      rulesetVersion: f.receipt.rulesetVersion,
      before: { outcome: before.outcome, reasons: reasonKeys(before) },
      after: { outcome: after.outcome, reasons: reasonKeys(after) },
    };
    if (before.outcome !== after.outcome) {
      const k = `${before.outcome}→${after.outcome}`;
      let g = flips.get(k);
      if (!g) flips.set(k, (g = { from: before.outcome, to: after.outcome, count: 0, examples: [] }));
      g.count++;
      if (g.examples.length < examplesPerGroup) g.examples.push(example);
      continue;
    }
    const b = new Set(example.before.reasons);
    const a = new Set(example.after.reasons);
    const added = [...a].filter((x) => !b.has(x));
    const removed = [...b].filter((x) => !a.has(x));
    if (added.length === 0 && removed.length === 0) {
      report.unchanged++;
      continue;
    }
    report.reasonChanges.count++;
    if (report.reasonChanges.examples.length < examplesPerGroup) report.reasonChanges.examples.push({ ...example, added, removed });
  }
  report.outcomeChanges = [...flips.values()].sort((x, y) => y.count - x.count || `${x.from}${x.to}`.localeCompare(`${y.from}${y.to}`));
  return report;
}
