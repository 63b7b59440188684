/**
 * The catalog loader on mutated versions of rules/matters/grain-purchase-filing.yaml: `checkMatter` never throws
 * and never hangs; it returns either a loaded matter (and no problems) or problems that each name the file and a
 * JSON Pointer inside it (DESIGN.md §3). Mutations are textual (lines dropped, duplicated, re-indented, YAML syntax
 * injected, aliases) and structural (a node deleted or replaced by arbitrary JSON, then dumped back to YAML).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { checkMatter, createFormAjv } from '../../src/catalog/load-catalog.js';
import { loadSourceRegistry } from '../../src/data-sources/registry.js';
import { RULES_DIR } from '../support/datasource-server.js';
import { FUZZ_RUNS, jsonPaths, mutateAt } from './mutations.js';

const FILE = 'rules/matters/grain-purchase-filing.yaml';
const TEXT = readFileSync(path.join(RULES_DIR, 'matters', 'grain-purchase-filing.yaml'), 'utf8');
const LINES = TEXT.split('\n');
const OPTS = {
  sourceIds: new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id)),
  schemaValidator: new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(path.join(RULES_DIR, 'schema', 'matter.schema.json'), 'utf8')) as object),
  formAjv: createFormAjv(),
};
const PARSED = parse(TEXT, { merge: true }) as unknown;
const PATHS = jsonPaths(PARSED);
/**
 * A run costs 10–30 ms (YAML parsing, compiling the form schema), so the default is 2,000 runs (~45 s on 2 cores),
 * not FUZZ_RUNS; `FUZZ_CATALOG_RUNS=10000` gives the issue's full count (~4 min). Split over the two properties.
 */
const RUNS = Math.ceil(Number(process.env['FUZZ_CATALOG_RUNS'] ?? Math.min(FUZZ_RUNS, 2_000)) / 2);
const PER_RUN_LIMIT_MS = 2_000;

const SNIPPETS = [
  '&a', '*a', '<<: *a', '!!binary', '!!js/function', '? ', '- ', ': ', '{', '}', '[', ']', "'", '"', '\t', '%YAML 1.1', '---', '...', '#',
  '~', 'null', 'true', '0x1F', '.inf', '1e999', '\u0000', '\ufeff', '\u2028', '䶮', '𬌗', 'code: other', 'id: entity-registered',
  'operator: noSuchOperator', 'source: no-such-source', 'fact: nowhere', '__proto__: {polluted: true}',
];

/** Line numbers are taken modulo the current length: earlier mutations may have dropped lines. */
const lineIndex = fc.nat();
const textMutation = fc.oneof(
  lineIndex.map((n) => (ls: string[]) => ls.filter((_, j) => j !== n % ls.length)),
  lineIndex.map((n) => (ls: string[]) => {
    const i = n % ls.length;
    return [...ls.slice(0, i + 1), ls[i]!, ...ls.slice(i + 1)];
  }),
  fc.tuple(lineIndex, lineIndex).map(([a, b]) => (ls: string[]) => {
    const out = [...ls];
    const [i, j] = [a % ls.length, b % ls.length];
    [out[i], out[j]] = [out[j]!, out[i]!];
    return out;
  }),
  fc.tuple(lineIndex, fc.integer({ min: -4, max: 4 })).map(([n, d]) => (ls: string[]) => {
    const out = [...ls];
    const i = n % ls.length;
    out[i] = d >= 0 ? ' '.repeat(d) + out[i]! : out[i]!.replace(new RegExp(`^ {0,${-d}}`), '');
    return out;
  }),
  fc.tuple(lineIndex, fc.nat(), fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ maxLength: 12 }))).map(([n, at, s]) => (ls: string[]) => {
    const out = [...ls];
    const i = n % ls.length;
    const l = out[i]!;
    const p = at % (l.length + 1);
    out[i] = l.slice(0, p) + s + l.slice(p);
    return out;
  }),
  fc.nat().map((at) => (ls: string[]) => {
    const text = ls.join('\n');
    return text.slice(0, at % (text.length + 1)).split('\n');
  }),
);

/** "Billion laughs": `depth` levels of 10 aliases each would expand to 10^depth nodes (toJS caps aliases at 50). */
function aliasBomb(depth: number): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i <= depth; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  return `${TEXT}\n${lines.join('\n')}\n`;
}

function checked(text: string): void {
  const started = Date.now();
  let result: ReturnType<typeof checkMatter>;
  try {
    result = checkMatter(text, FILE, OPTS);
  } catch (err) {
    tally.threw++;
    throw new Error(`checkMatter threw ${String(err)}`);
  }
  const ms = Date.now() - started;
  expect(ms, 'checkMatter took too long').toBeLessThan(PER_RUN_LIMIT_MS);
  if (result.matter) {
    expect(result.problems).toEqual([]);
  } else {
    expect(result.problems.length).toBeGreaterThan(0);
    for (const p of result.problems) {
      // `<file>: <JSON Pointer>: <message>`
      expect(p.startsWith(`${FILE}: /`), p).toBe(true);
      const pointer = p.slice(FILE.length + 2).split(': ')[0]!;
      expect(pointer, p).toMatch(/^\/([^/~]|~[01])*(\/([^/~]|~[01])*)*$|^\/$/);
    }
  }
  tally[result.matter ? 'loaded' : 'refused']++;
}

const tally = { loaded: 0, refused: 0, threw: 0 };

describe('catalog loader (checkMatter) on mutated grain-purchase-filing.yaml', () => {
  afterAll(() => {
    console.log(`FUZZ catalog-loader: ${tally.loaded + tally.refused + tally.threw} mutated matter files, ${tally.threw} throws, ${tally.loaded} loaded, ${tally.refused} refused with file + JSON Pointer`);
    expect(tally.threw).toBe(0);
  });

  it('loads the file itself', () => {
    const r = checkMatter(TEXT, FILE, OPTS);
    expect(r.problems).toEqual([]);
    expect(r.matter?.def.code).toBe('grain-purchase-filing');
  });

  it('never throws on textual mutations; every problem names the file and a pointer', () => {
    fc.assert(
      fc.property(fc.array(textMutation, { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce((ls, m) => m(ls.length === 0 ? [''] : ls), LINES).join('\n')), checked),
      { numRuns: RUNS },
    );
  }, 240_000);

  it('refuses an alias bomb with a problem naming the file, instead of throwing', () => {
    for (const depth of [2, 6, 12]) checked(aliasBomb(depth));
  });

  it('never throws on structural mutations dumped back to YAML', () => {
    fc.assert(
      fc.property(fc.array(mutateAt(PATHS), { minLength: 1, maxLength: 3 }), (mutations) => {
        let doc: unknown = structuredClone(PARSED);
        for (const m of mutations) doc = m(doc);
        let text: string;
        try {
          text = stringify(doc, { aliasDuplicateObjects: false });
        } catch {
          return; // not representable as YAML (e.g. a lone surrogate): nothing to load
        }
        checked(text);
      }),
      { numRuns: RUNS },
    );
  }, 240_000);
});
