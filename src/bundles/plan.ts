/**
 * The bundle's state machine, pure (no I/O): from each member's application status, which members start now, what
 * each member shows, and whether the bundle is complete. A member starts when every member it depends on (in the same
 * application) is settled — approved, rejected or failed; a member in manual review holds back only its dependants.
 */
import type { ApplicationStatus, Decision } from '../domain/types.js';
import type { BundleDef, MemberStatus } from './types.js';

/** What the orchestrator knows of one member of an application. */
export interface MemberProgress {
  matter: string;
  /** The member's application status, null before it started. */
  status: ApplicationStatus | null;
  decision: Decision | null;
  /** Sources whose record it waits for (业务协同): set when its manual review has no other reason. */
  awaiting: readonly string[];
}

export interface MemberPlan {
  matter: string;
  status: MemberStatus;
  /** Decided: approved, rejected, failed, or in manual review for a reason other than a wait. */
  decided: boolean;
  /** Settled: approved, rejected or failed — its dependants may start. */
  settled: boolean;
  /** Member codes (dependencies not settled yet) and source ids (业务协同) it waits for. */
  waitingFor: string[];
  /** Start it now (its application does not exist yet). */
  start: boolean;
}

export interface BundlePlan {
  members: MemberPlan[];
  /** Members to start now, in the bundle's order. */
  start: string[];
  /** Every member decided (DESIGN.md §10 `completed`). */
  complete: boolean;
}

const SETTLED: ReadonlySet<ApplicationStatus> = new Set(['approved', 'rejected', 'failed']);

/** Plans one application's members (`progress` in the bundle's order, only the members it holds). */
export function planBundle(def: Pick<BundleDef, 'members'>, progress: readonly MemberProgress[]): BundlePlan {
  const inApplication = new Set(progress.map((p) => p.matter));
  const settled = new Set(progress.filter((p) => p.status !== null && SETTLED.has(p.status)).map((p) => p.matter));
  const members = progress.map((p): MemberPlan => {
    if (p.status === null) {
      const deps = (def.members.find((m) => m.matter === p.matter)?.dependsOn ?? []).filter((d) => inApplication.has(d));
      const open = deps.filter((d) => !settled.has(d));
      return { matter: p.matter, status: 'queued', decided: false, settled: false, waitingFor: open, start: open.length === 0 };
    }
    if (p.status === 'manual_review' && p.awaiting.length > 0) {
      return { matter: p.matter, status: 'processing', decided: false, settled: false, waitingFor: [...p.awaiting], start: false };
    }
    const decided = SETTLED.has(p.status) || p.status === 'manual_review';
    return { matter: p.matter, status: p.status, decided, settled: SETTLED.has(p.status), waitingFor: [], start: false };
  });
  return { members, start: members.filter((m) => m.start).map((m) => m.matter), complete: members.every((m) => m.decided) };
}

/** The rules a member's manual review waits on: every reason is a rule that `awaits` (else it is a person's case). */
export function awaitedSources(
  decision: Decision | null,
  rules: ReadonlyArray<{ id: string; awaits?: boolean; requires?: string[] }>,
  lookups: ReadonlyArray<{ id: string; source: string }>,
): string[] {
  const reasons = decision?.reasons ?? [];
  if (decision?.outcome !== 'MANUAL' || reasons.length === 0) return [];
  const awaiting = new Map(rules.filter((r) => r.awaits).map((r) => [r.id, r.requires ?? []]));
  if (!reasons.every((r) => awaiting.has(r.rule))) return [];
  const sources = reasons.flatMap((r) => awaiting.get(r.rule)!).map((l) => lookups.find((x) => x.id === l)?.source);
  return [...new Set(sources.filter((s): s is string => s !== undefined))].sort();
}
