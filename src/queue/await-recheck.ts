/**
 * 业务协同: a filing whose only open reasons are rules that *await* another department's result (e.g. the
 * disability assessment written back by the 评定机构) waits in manual review and is decided again automatically:
 * this pass reopens such filings (manual_review → queued) and enqueues them; the worker reads the sources again and
 * issues at once when the result has arrived.
 */
import type { Catalog } from '../catalog/load-catalog.js';
import type { Store } from '../store/types.js';
import type { ApplicationQueue } from './application-queue.js';

export interface AwaitRecheckDeps {
  store: Pick<Store, 'applications'>;
  catalog: Pick<Catalog, 'get'>;
  queue: Pick<ApplicationQueue, 'enqueue'>;
  clock: () => Date;
  log: { info(obj: object, msg: string): void };
}

/**
 * One pass; returns the ids reopened. A filing waits `minWaitMs` after its decision, doubling with each run it had
 * (its `attempts`) up to `maxWaitMs`: a result that takes days is not asked for every minute. The department's push
 * (bundles/awaited.ts) reopens a filing at once whatever its back-off.
 */
export async function recheckAwaiting(deps: AwaitRecheckDeps, opts: { minWaitMs: number; maxWaitMs?: number; limit?: number }): Promise<string[]> {
  const now = deps.clock();
  const before = new Date(now.getTime() - opts.minWaitMs).toISOString();
  const rows = await deps.store.applications.listInStatus('manual_review', before, opts.limit ?? 200);
  const reopened: string[] = [];
  for (const row of rows) {
    const waitMs = Math.min(opts.minWaitMs * 2 ** Math.max(0, row.attempts - 1), opts.maxWaitMs ?? Number.POSITIVE_INFINITY);
    if (Date.parse(row.updatedAt) > now.getTime() - waitMs) continue;
    const awaits = new Set(deps.catalog.get(row.matter)?.def.rules.filter((r) => r.awaits).map((r) => r.id) ?? []);
    const reasons = row.decision?.reasons ?? [];
    if (awaits.size === 0 || reasons.length === 0 || !reasons.every((r) => awaits.has(r.rule))) continue;
    if (await deps.store.applications.reopen(row.id, now.toISOString())) reopened.push(row.id);
  }
  // Reopened rows are `queued`: if this enqueue is lost, the reconciler enqueues them again.
  await deps.queue.enqueue(reopened);
  if (reopened.length > 0) deps.log.info({ count: reopened.length }, 'awaited results: filings decided again');
  return reopened;
}
