/**
 * 业务协同 waits, for every filing (bundle member or not): after the worker decides a filing, the sources its manual
 * review waits for are indexed by a hash of the key; when the other department says a record has arrived (the push
 * endpoint), the filings waiting for it are reopened and decided again at once — no person, no new filing. The
 * scheduled re-check (queue/await-recheck.ts, with back-off) remains the fallback when no push comes.
 */
import { createHash } from 'node:crypto';
import type { Catalog } from '../catalog/load-catalog.js';
import type { ApplicationQueue } from '../queue/application-queue.js';
import type { Store } from '../store/types.js';
import { awaitedSources } from './plan.js';

/** The index key of one awaited record: sha256 over source and key (the key is a personal identifier). */
export function awaitKeyHash(source: string, key: string): string {
  return createHash('sha256').update(`${source}\u0000${key.trim().toUpperCase()}`).digest('hex');
}

export interface AwaitIndexDeps {
  store: Pick<Store, 'applications' | 'bundles'>;
  catalog: Pick<Catalog, 'get'>;
  clock: () => Date;
}

/** Indexes what a filing decided as manual review waits for (nothing, when it waits for a person). */
export async function indexAwaited(deps: AwaitIndexDeps, applicationId: string): Promise<number> {
  const app = await deps.store.applications.get(applicationId);
  if (!app || app.status !== 'manual_review' || !app.receipt) return 0;
  const def = deps.catalog.get(app.matter)?.def;
  if (!def) return 0;
  const sources = new Set(awaitedSources(app.decision, def.rules, def.lookups));
  const waits: Array<{ source: string; keyHash: string }> = [];
  for (const l of def.lookups) {
    if (!sources.has(l.source)) continue;
    const fact = app.receipt.facts[l.id] as { key?: unknown } | undefined;
    if (typeof fact?.key === 'string') waits.push({ source: l.source, keyHash: awaitKeyHash(l.source, fact.key) });
  }
  const unique = [...new Map(waits.map((w) => [w.source, w])).values()];
  await deps.store.bundles.awaited.record(applicationId, unique, deps.clock().toISOString());
  return unique.length;
}

export interface ArrivalDeps {
  store: Pick<Store, 'applications' | 'bundles'>;
  queue: Pick<ApplicationQueue, 'enqueue'>;
  clock: () => Date;
}

/** A record of `source` for `key` has arrived: reopens the filings waiting for it; returns how many. */
export async function recordArrived(deps: ArrivalDeps, source: string, key: string): Promise<number> {
  const ids = await deps.store.bundles.awaited.find(source, awaitKeyHash(source, key));
  const at = deps.clock().toISOString();
  const reopened: string[] = [];
  for (const id of ids) if (await deps.store.applications.reopen(id, at)) reopened.push(id);
  // Reopened rows are `queued`: if this enqueue is lost, the reconciler enqueues them again.
  await deps.queue.enqueue(reopened);
  return reopened.length;
}
