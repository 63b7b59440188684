/**
 * Shared fast-check pieces for the fuzzers: the number of runs, the paths of a JSON document, and mutations of
 * a document at one of those paths (delete, replace with arbitrary JSON or hostile strings, wrap, duplicate, add
 * an unknown or `__proto__` key).
 */
import fc from 'fast-check';

/** Generated inputs per fuzzed surface; FUZZ_RUNS overrides (e.g. 100000 for a long local run). */
export const FUZZ_RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);

export type JsonPath = Array<string | number>;

/** Every path in `value` (the root included), parents before children. */
export function jsonPaths(value: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => jsonPaths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) jsonPaths(v, [...prefix, k], out);
  return out;
}

/** Strings that break naive code: huge, control characters, full-width digits, RTL marks, lone surrogates, SQL/JSON-ish. */
export const hostileString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\u202e91210100MA0Q1A2B6L',
    '９１２１０１００ＭＡ０Ｑ１Ａ２Ｂ６Ｌ',
    '２１０１０２１９９００１０１１２３７',
    "'; drop table applications; --",
    '{"$ne": null}',
    '__proto__',
    'constructor',
    '𬌗䶮'.repeat(50),
    'x'.repeat(5000),
    '2099-02-30',
    '-0',
    'NaN',
  ),
);

const replacement = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1e308, -1e-308, 0.1, 2 ** 53 + 1, [], {}) },
);

function parentOf(doc: unknown, path: JsonPath): { parent: Record<string | number, unknown> | unknown[]; key: string | number } | null {
  if (path.length === 0) return null;
  let node: unknown = doc;
  for (const seg of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return null;
    node = (node as Record<string | number, unknown>)[seg];
  }
  if (node === null || typeof node !== 'object') return null;
  return { parent: node as Record<string | number, unknown>, key: path[path.length - 1]! };
}

/** One mutation at one of `paths`, as a function of the (already cloned) document. */
export function mutateAt(paths: readonly JsonPath[]): fc.Arbitrary<(doc: unknown) => unknown> {
  const at = fc.constantFrom(...paths);
  return fc.oneof(
    at.map((p) => (doc: unknown) => {
      const loc = parentOf(doc, p);
      if (!loc) return doc;
      if (Array.isArray(loc.parent)) loc.parent.splice(Number(loc.key), 1);
      else delete loc.parent[loc.key];
      return doc;
    }),
    fc.tuple(at, replacement).map(([p, v]) => (doc: unknown) => {
      const loc = parentOf(doc, p);
      if (!loc) return v;
      (loc.parent as Record<string | number, unknown>)[loc.key] = v;
      return doc;
    }),
    at.map((p) => (doc: unknown) => {
      const loc = parentOf(doc, p);
      if (!loc) return [doc];
      const parent = loc.parent as Record<string | number, unknown>;
      parent[loc.key] = [parent[loc.key]];
      return doc;
    }),
    at.map((p) => (doc: unknown) => {
      const loc = parentOf(doc, p);
      if (!loc || !Array.isArray(loc.parent)) return doc;
      loc.parent.splice(Number(loc.key), 0, structuredClone(loc.parent[Number(loc.key)]));
      return doc;
    }),
    fc.tuple(at, fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'unknownField'), fc.string({ maxLength: 8 })), replacement).map(
      ([p, k, v]) =>
        (doc: unknown) => {
          const loc = parentOf(doc, p);
          const target = loc ? (loc.parent as Record<string | number, unknown>)[loc.key] : doc;
          if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
            Object.defineProperty(target, k, { value: v, enumerable: true, configurable: true, writable: true });
          }
          return doc;
        },
    ),
  );
}
