/**
 * 一件事 follow-ups: steps the department takes on its own after an approval, with no second application
 * (公租房: 公示 → 轮候登记, and the monthly 租赁补贴 for households not allocated a unit). Scheduled when the filing is
 * approved, run by the worker when due, shown with the application.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { FollowUp } from '../catalog/types.js';
import { getPath } from '../domain/paths.js';
import type { ApplicationRow, FollowUpRow, Store } from '../store/types.js';

function configNumber(matter: LoadedMatter, key: string): number {
  const v = matter.def.config?.[key];
  if (typeof v !== 'number') throw new Error(`follow-up of ${matter.def.code}: config ${key} is not a number`);
  return v;
}

function applies(f: FollowUp, answers: Record<string, unknown>): boolean {
  return Object.entries(f.answers ?? {}).every(([q, allowed]) => allowed.includes(String(answers[q])));
}

/** The rows to schedule for an approved filing. */
export function plannedFollowUps(matter: LoadedMatter, app: Pick<ApplicationRow, 'id' | 'answers'>, decidedAt: Date): FollowUpRow[] {
  return (matter.def.followUps ?? [])
    .filter((f) => f.after === 'APPROVE' && applies(f, app.answers))
    .map((f) => {
      const days = f.afterDays === undefined ? 0 : typeof f.afterDays === 'number' ? f.afterDays : configNumber(matter, f.afterDays.config);
      return {
        applicationId: app.id,
        step: f.id,
        matter: matter.def.code,
        name: f.name,
        status: 'scheduled' as const,
        dueAt: new Date(decidedAt.getTime() + days * 86_400_000).toISOString(),
        doneAt: null,
        detail: null,
      };
    });
}

/** What a step records when it runs: its note, and the monthly amount it grants when it has one. */
export function followUpDetail(matter: LoadedMatter, step: FollowUp, app: Pick<ApplicationRow, 'form'>): string {
  if (!step.monthlyAmount) return step.note;
  const amount = step.monthlyAmount.multiply.reduce<number>((acc, term) => {
    if (typeof term === 'number') return acc * term;
    if ('config' in term) return acc * configNumber(matter, term.config);
    const items = getPath({ form: app.form }, term.count);
    return acc * (Array.isArray(items) ? items.length : 0);
  }, 1);
  return `每月发放 ${amount.toFixed(2)} 元 Monthly amount granted: ${amount.toFixed(2)} CNY — ${step.note}`;
}

export interface FollowUpDeps {
  store: Pick<Store, 'followUps' | 'applications'>;
  catalog: { get(code: string): LoadedMatter | undefined };
  clock: () => Date;
}

/** Runs every step that is due; returns how many ran. */
export async function runDueFollowUps(deps: FollowUpDeps, limit = 200): Promise<number> {
  const now = deps.clock().toISOString();
  let ran = 0;
  for (const row of await deps.store.followUps.due(now, limit)) {
    const matter = deps.catalog.get(row.matter);
    const step = matter?.def.followUps?.find((f) => f.id === row.step);
    const app = await deps.store.applications.get(row.applicationId);
    if (!matter || !step || !app) continue;
    // A filing no longer approved (e.g. revoked by a reviewer) gets nothing.
    const detail = app.status === 'approved' ? followUpDetail(matter, step, app) : '申请状态已变更，未执行 Not run: the filing is no longer approved';
    if (await deps.store.followUps.complete(row.applicationId, row.step, now, detail)) ran++;
  }
  return ran;
}
