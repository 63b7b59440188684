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

/**
 * A copy of `value` with `path` set to `v`: objects along the path are copied (created when missing), nothing else
 * is; the input is never changed. A step through a non-object replaces it with an object.
 */
export function withPath(value: Record<string, unknown>, path: string, v: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.').filter((s) => s !== '');
  if (head === undefined) return value;
  if (rest.length === 0) return { ...value, [head]: v };
  const child = value[head];
  const inner = child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : {};
  return { ...value, [head]: withPath(inner, rest.join('.'), v) };
}
