/**
 * Reads the matter's data sources (数源) for one filing, in parallel. Every read is returned for the audit log
 * and the decision receipt; a source problem is an UNKNOWN read, never an exception.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { Lookup, LookupSelect } from '../catalog/types.js';
import type { DataSource, ReadContext } from '../data-sources/types.js';
import { getPath, matchesWhere } from '../domain/paths.js';
import type { SourceRead } from '../domain/types.js';
import type { LookupFact } from './evaluate-rules.js';

export interface LookupResults {
  top: Record<string, LookupFact>;
  itemLookups: Record<string, Array<LookupFact | null>>;
  reads: SourceRead[];
  /** Sources not read because no consent covers them (their lookups are UNKNOWN, nothing was asked or logged). */
  withheld: string[];
}

/** Options of {@link fetchLookups}. */
export interface FetchOptions {
  /** Selects the lookups to read (default: all). */
  only?: (l: Lookup) => boolean;
  /** Whether a source may be read (consent). A source not allowed answers UNKNOWN without a read. */
  allowed?: (sourceId: string) => boolean;
}

function keyOf(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * One item of a list record (see {@link LookupSelect}): the applicant's choice, else the only candidate. Several
 * candidates and no choice is UNKNOWN — the filing is about one of them and guessing would decide on the wrong one;
 * the candidates are kept so guidance can offer them. A choice that is not among them is not found.
 */
export function selectItem(fact: LookupFact, select: LookupSelect, scope: Record<string, unknown>): LookupFact {
  if (fact.status !== 'found') return fact;
  const list = getPath(fact, select.items);
  const candidates = (Array.isArray(list) ? list : []).filter(
    (item): item is Record<string, unknown> => typeof item === 'object' && item !== null && !Array.isArray(item) && matchesWhere(item, select.where),
  );
  const choice = select.choice ? keyOf(getPath(scope, select.choice)) : null;
  if (choice !== null) {
    const hit = candidates.find((c) => keyOf(getPath(c, select.by)) === choice);
    return hit ? { status: 'found', key: fact.key, record: hit } : { status: 'not_found', key: fact.key, record: null };
  }
  if (candidates.length === 1) return { status: 'found', key: fact.key, record: candidates[0]! };
  if (candidates.length === 0) return { status: 'not_found', key: fact.key, record: null };
  return { status: 'unknown', key: fact.key, record: null, candidates };
}

/**
 * Reads every lookup of the matter (or those `only` selects). A lookup keyed from another lookup's record
 * (e.g. the legal representative's ID from the entity record) runs once that one has answered; when that one
 * is UNKNOWN, so is it, without a read.
 */
export async function fetchLookups(
  matter: LoadedMatter,
  base: Record<string, unknown>,
  sources: ReadonlyMap<string, DataSource>,
  ctx: ReadContext,
  opts: FetchOptions | ((l: Lookup) => boolean) = {},
): Promise<LookupResults> {
  const { only, allowed } = typeof opts === 'function' ? { only: opts, allowed: undefined } : opts;
  const reads: SourceRead[] = [];
  const withheld = new Set<string>();
  const read = async (sourceId: string, key: string | null): Promise<LookupFact> => {
    // No key (an optional field left empty) means there is nothing to look up, which is not an outage.
    if (key === null) return { status: 'not_found', key: null, record: null };
    if (allowed && !allowed(sourceId)) {
      withheld.add(sourceId);
      return { status: 'unknown', key, record: null };
    }
    const source = sources.get(sourceId);
    if (!source) throw new Error(`data source ${sourceId} is not configured`);
    const r = await source.read(key, ctx);
    reads.push(r);
    return { status: r.status, key, record: r.record };
  };

  const top: Record<string, LookupFact> = {};
  const itemLookups: Record<string, Array<LookupFact | null>> = {};
  const topIds = new Set(matter.def.lookups.filter((l) => !l.forEach).map((l) => l.id));
  const dependsOn = (l: Lookup): string | null => {
    const root = (l.forEach ?? l.key).split('.')[0]!;
    return topIds.has(root) && root !== l.id ? root : null;
  };
  let pending = matter.def.lookups.filter((l) => !only || only(l));
  // Waves: the loader refuses cycles, so each wave resolves at least one lookup.
  while (pending.length > 0) {
    const ready = pending.filter((l) => {
      const dep = dependsOn(l);
      return dep === null || top[dep] !== undefined || !pending.some((p) => p.id === dep);
    });
    if (ready.length === 0) throw new Error(`lookups of ${matter.def.code} depend on each other in a cycle`);
    pending = pending.filter((l) => !ready.includes(l));
    const scope = { ...base, ...top };
    const tasks: Array<Promise<void>> = [];
    for (const l of ready) {
      const dep = dependsOn(l);
      const upstreamUnknown = dep !== null && top[dep]?.status === 'unknown';
      if (!l.forEach) {
        if (upstreamUnknown) top[l.id] = { status: 'unknown', key: null, record: null };
        else tasks.push(read(l.source, keyOf(getPath(scope, l.key))).then((f) => void (top[l.id] = l.select ? selectItem(f, l.select, scope) : f)));
        continue;
      }
      const items = getPath(scope, l.forEach);
      const list: Array<LookupFact | null> = Array.isArray(items) ? items.map(() => null) : [];
      itemLookups[l.id] = list;
      if (!Array.isArray(items)) continue;
      items.forEach((item: unknown, i) => {
        if (!matchesWhere(item, l.where)) return;
        tasks.push(read(l.source, keyOf(getPath(item, l.key))).then((f) => void (list[i] = f)));
      });
    }
    await Promise.all(tasks);
  }
  // Deterministic order for receipts regardless of which answer came first.
  reads.sort((a, b) => (a.source + a.key < b.source + b.key ? -1 : a.source + a.key > b.source + b.key ? 1 : 0));
  return { top, itemLookups, reads, withheld: [...withheld].sort() };
}
