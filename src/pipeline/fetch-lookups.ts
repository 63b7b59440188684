/**
 * Reads the matter's data sources (数源) for one filing, in parallel. Every read is returned for the audit log
 * and the decision receipt; a source problem is an UNKNOWN read, never an exception.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { DataSource, ReadContext } from '../data-sources/types.js';
import { getPath, matchesWhere } from '../domain/paths.js';
import type { SourceRead } from '../domain/types.js';
import type { LookupFact } from './evaluate-rules.js';

export interface LookupResults {
  top: Record<string, LookupFact>;
  itemLookups: Record<string, Array<LookupFact | null>>;
  reads: SourceRead[];
}

function keyOf(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

export async function fetchLookups(
  matter: LoadedMatter,
  base: Record<string, unknown>,
  sources: ReadonlyMap<string, DataSource>,
  ctx: ReadContext,
): Promise<LookupResults> {
  const reads: SourceRead[] = [];
  const read = async (sourceId: string, key: string | null): Promise<LookupFact> => {
    // No key (an optional field left empty) means there is nothing to look up, which is not an outage.
    if (key === null) return { status: 'not_found', key: null, record: null };
    const source = sources.get(sourceId);
    if (!source) throw new Error(`data source ${sourceId} is not configured`);
    const r = await source.read(key, ctx);
    reads.push(r);
    return { status: r.status, key, record: r.record };
  };

  const top: Record<string, LookupFact> = {};
  const itemLookups: Record<string, Array<LookupFact | null>> = {};
  const tasks: Array<Promise<void>> = [];
  for (const l of matter.def.lookups) {
    if (!l.forEach) {
      tasks.push(read(l.source, keyOf(getPath(base, l.key))).then((f) => void (top[l.id] = f)));
      continue;
    }
    const items = getPath(base, l.forEach);
    const list: Array<LookupFact | null> = Array.isArray(items) ? items.map(() => null) : [];
    itemLookups[l.id] = list;
    if (!Array.isArray(items)) continue;
    items.forEach((item: unknown, i) => {
      if (!matchesWhere(item, l.where)) return;
      tasks.push(read(l.source, keyOf(getPath(item, l.key))).then((f) => void (list[i] = f)));
    });
  }
  await Promise.all(tasks);
  // Deterministic order for receipts regardless of which answer came first.
  reads.sort((a, b) => (a.source + a.key < b.source + b.key ? -1 : a.source + a.key > b.source + b.key ? 1 : 0));
  return { top, itemLookups, reads };
}
