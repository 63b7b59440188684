/** Reads a dotted path (`a.b.0.c`) from plain data; undefined when any step is missing. */
export function getPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const step of path.replace(/^\$\.?/, '').split('.')) {
    if (step === '') continue;
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[step];
  }
  return cur;
}

/** True when every key of `where` equals the same key of `item`. */
export function matchesWhere(item: unknown, where: Record<string, unknown> | undefined): boolean {
  if (!where) return true;
  return Object.entries(where).every(([k, v]) => getPath(item, k) === v);
}
