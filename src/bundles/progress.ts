/**
 * From a stored bundle application to its plan and to what the API, the events and the admin views show of each
 * member. The member's own application is the record of its decision; this only reads it.
 */
import type { Catalog } from '../catalog/load-catalog.js';
import type { BundleApplicationRow } from '../store/types.js';
import type { LoadedBundle } from './load-bundles.js';
import { awaitedSources, planBundle, type BundlePlan, type MemberProgress } from './plan.js';
import type { MemberLevel, MemberMode, MemberStatus } from './types.js';

export function progressOf(row: BundleApplicationRow, catalog: Pick<Catalog, 'get'>): MemberProgress[] {
  return row.members.map((m) => {
    const def = catalog.get(m.matter)?.def;
    const app = m.application;
    return {
      matter: m.matter,
      status: app?.status ?? null,
      decision: app?.decision ?? null,
      awaiting: app?.status === 'manual_review' && def ? awaitedSources(app.decision, def.rules, def.lookups) : [],
    };
  });
}

export function planOf(bundle: LoadedBundle, row: BundleApplicationRow, catalog: Pick<Catalog, 'get'>): BundlePlan {
  return planBundle(bundle.def, progressOf(row, catalog));
}

export interface MemberView {
  matter: string;
  name: string;
  department: string;
  departmentCode: string;
  level: MemberLevel;
  mode: MemberMode;
  status: MemberStatus;
  decision: { outcome: string; reasons: Array<{ rule: string; message: string; basis: string; result: string }> } | null;
  certificate?: { id: string; number: string };
  waitingFor?: string[];
  /** The member's own application (readable by the applicant and the member's department). */
  applicationId?: string;
  decidedAt?: string;
}

export function memberViews(bundle: LoadedBundle, row: BundleApplicationRow, catalog: Pick<Catalog, 'get'>, plan: BundlePlan = planOf(bundle, row, catalog)): MemberView[] {
  return plan.members.map((p) => {
    const member = row.members.find((m) => m.matter === p.matter)!;
    const def = catalog.get(p.matter)?.def;
    const entry = bundle.def.members.find((m) => m.matter === p.matter);
    const app = member.application;
    const decision = p.decided && app?.decision
      ? { outcome: app.decision.outcome, reasons: app.decision.reasons.map(({ rule, message, basis, result }) => ({ rule, message, basis, result })) }
      : null;
    return {
      matter: p.matter,
      name: def?.name ?? p.matter,
      department: def?.department.name ?? '',
      departmentCode: def?.department.code ?? '',
      level: entry?.level ?? '市',
      mode: entry?.mode ?? 'request',
      status: p.status,
      decision,
      ...(member.certificate && p.status === 'approved' ? { certificate: member.certificate } : {}),
      ...(p.waitingFor.length > 0 ? { waitingFor: p.waitingFor } : {}),
      ...(member.applicationId ? { applicationId: member.applicationId } : {}),
      ...(p.decided && app?.decidedAt ? { decidedAt: app.decidedAt } : {}),
    };
  });
}
