/**
 * Loads rules/matters/*.yaml strictly: JSON Schema (rules/schema/matter.schema.json), then cross-references.
 * Every error names the file and the JSON Pointer inside it; the service refuses to start on any.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseDocument } from 'yaml';
import { isValidIdNumber, isValidUscc } from '../domain/identifiers.js';
import { operators } from '../domain/operators.js';
import type { Condition, ConditionTree, MatterDef } from './types.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface LoadedMatter {
  def: MatterDef;
  /** sha256 of the canonical definition: the rule-set version recorded with every decision. */
  version: string;
  file: string;
  validateForm: ValidateFunction;
  validateAnswers: ValidateFunction;
}

export interface Catalog {
  matters: Map<string, LoadedMatter>;
  get(code: string): LoadedMatter | undefined;
}

export class CatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`事项目录无效 Invalid catalog:\n  ${problems.join('\n  ')}`);
    this.name = 'CatalogError';
  }
}

const BUILTIN_OPERATORS = new Set([
  'equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain',
  'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive',
]);
export const KNOWN_OPERATORS = new Set([...BUILTIN_OPERATORS, ...Object.keys(operators)]);
const BASE_FACTS = ['applicant', 'answers', 'form', 'today', 'register'];

function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The ajv used for matter form schemas: no coercion, no silent removal, identifier formats. */
export function createFormAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, coerceTypes: false, removeAdditional: false, useDefaults: false });
  addFormats(ajv);
  ajv.addFormat('uscc', { type: 'string', validate: (s: string) => isValidUscc(s) });
  ajv.addFormat('id-number', { type: 'string', validate: (s: string) => isValidIdNumber(s, todayUtc()) });
  return ajv;
}

/** Canonical JSON: object keys sorted, so a version hash does not depend on key order or YAML comments. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function pointer(err: ErrorObject): string {
  return err.instancePath === '' ? '/' : err.instancePath;
}

/** Parses one matter definition (YAML or JSON text) and checks it; returns problems prefixed with `file`. */
export function checkMatter(
  text: string,
  file: string,
  opts: { sourceIds: ReadonlySet<string>; schemaValidator: ValidateFunction; formAjv: Ajv },
): { matter?: LoadedMatter; problems: string[] } {
  const problems: string[] = [];
  const say = (p: string, msg: string) => problems.push(`${file}: ${p}: ${msg}`);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) say('/', `YAML: ${e.message.split('\n')[0]}`);
    return { problems };
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 50 });
  if (!opts.schemaValidator(raw)) {
    for (const e of opts.schemaValidator.errors ?? []) {
      const extra = e.keyword === 'additionalProperties' ? ` "${String((e.params as { additionalProperty?: string }).additionalProperty)}"` : '';
      say(pointer(e), `${e.message ?? 'invalid'}${extra}`);
    }
    return { problems };
  }
  const def = raw as MatterDef;

  const dupes = (ids: string[], where: string) => {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) say(`/${where}/${i}/id`, `duplicate id "${id}"`);
      seen.add(id);
    });
    return seen;
  };
  dupes(def.questions.map((q) => q.id), 'questions');
  const situationIds = dupes(def.situations.map((s) => s.id), 'situations');
  const lookupIds = dupes(def.lookups.map((l) => l.id), 'lookups');
  dupes(def.materials.map((m) => m.id), 'materials');
  dupes(def.fields.map((f) => f.id), 'fields');
  dupes(def.rules.map((r) => r.id), 'rules');

  // Situations: answers must exist, and every complete answer combination must select exactly one situation.
  def.situations.forEach((s, i) => {
    for (const [q, v] of Object.entries(s.when)) {
      const question = def.questions.find((x) => x.id === q);
      if (!question) say(`/situations/${i}/when/${q}`, `unknown question "${q}"`);
      else if (!question.options.includes(v)) say(`/situations/${i}/when/${q}`, `"${v}" is not an option of ${q} (${question.options.join('/')})`);
    }
  });
  if (problems.length === 0) {
    const combos = def.questions.reduce<Array<Record<string, string>>>(
      (acc, q) => acc.flatMap((a) => q.options.map((o) => ({ ...a, [q.id]: o }))),
      [{}],
    );
    const reached = new Set<string>();
    for (const combo of combos.slice(0, 10_000)) {
      const hits = def.situations.filter((s) => Object.entries(s.when).every(([q, v]) => combo[q] === v));
      const label = Object.entries(combo).map(([q, v]) => `${q}=${v}`).join(', ') || '(no questions)';
      if (hits.length === 0) say('/situations', `no situation covers the answers ${label}`);
      if (hits.length > 1) say('/situations', `answers ${label} select more than one situation: ${hits.map((h) => h.id).join(', ')}`);
      for (const h of hits) reached.add(h.id);
    }
    def.situations.forEach((s, i) => {
      if (!reached.has(s.id)) say(`/situations/${i}`, `situation "${s.id}" cannot be reached by any answers`);
    });
  }

  def.materials.forEach((m, i) => {
    if (m.lookup && !lookupIds.has(m.lookup)) say(`/materials/${i}/lookup`, `unknown lookup "${m.lookup}"`);
    m.situations?.forEach((s, j) => {
      if (!situationIds.has(s)) say(`/materials/${i}/situations/${j}`, `unknown situation "${s}"`);
    });
    if (m.acquisition.includes('告知承诺') && !m.commitment) say(`/materials/${i}/commitment`, 'a 告知承诺 material needs the commitment text');
  });
  def.lookups.forEach((l, i) => {
    if (!opts.sourceIds.has(l.source)) say(`/lookups/${i}/source`, `unknown data source "${l.source}" (not in rules/data-sources.yaml)`);
  });
  def.fields.forEach((f, i) => {
    if (f.prefill && !lookupIds.has(f.prefill.lookup)) say(`/fields/${i}/prefill/lookup`, `unknown lookup "${f.prefill.lookup}"`);
  });

  const topLookups = new Set(def.lookups.filter((l) => !l.forEach).map((l) => l.id));
  def.rules.forEach((r, i) => {
    r.requires?.forEach((l, j) => {
      if (!lookupIds.has(l)) say(`/rules/${i}/requires/${j}`, `unknown lookup "${l}"`);
    });
    r.situations?.forEach((s, j) => {
      if (!situationIds.has(s)) say(`/rules/${i}/situations/${j}`, `unknown situation "${s}"`);
    });
    const facts = new Set([...BASE_FACTS, ...topLookups, ...(r.forEach ? ['item', 'lookup'] : [])]);
    walkConditions(r.conditions, `/rules/${i}/conditions`, (c, p) => {
      if (!facts.has(c.fact)) say(`${p}/fact`, `unknown fact "${c.fact}" (known: ${[...facts].join(', ')})`);
      if (!KNOWN_OPERATORS.has(c.operator)) say(`${p}/operator`, `unknown operator "${c.operator}"`);
      const ref = c.value as { fact?: unknown } | null;
      if (ref && typeof ref === 'object' && !Array.isArray(ref) && typeof ref.fact === 'string' && !facts.has(ref.fact)) {
        say(`${p}/value/fact`, `unknown fact "${ref.fact}"`);
      }
    });
  });

  let validateForm: ValidateFunction | undefined;
  try {
    validateForm = opts.formAjv.compile(def.form);
  } catch (err) {
    say('/form', `form schema does not compile: ${(err as Error).message}`);
  }
  const answersSchema = {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(def.questions.map((q) => [q.id, { enum: q.options }])),
  };
  const validateAnswers = opts.formAjv.compile(answersSchema);

  def.tests.forEach((t, i) => {
    if (!isValidUscc(t.applicant) && !isValidIdNumber(t.applicant, todayUtc())) say(`/tests/${i}/applicant`, 'not a valid 统一社会信用代码 or 公民身份号码');
    if (!validateAnswers(t.answers)) say(`/tests/${i}/answers`, opts.formAjv.errorsText(validateAnswers.errors));
    if (validateForm && !validateForm(t.form)) say(`/tests/${i}/form`, opts.formAjv.errorsText(validateForm.errors));
    t.expect.failing.forEach((id, j) => {
      if (!def.rules.some((r) => r.id === id)) say(`/tests/${i}/expect/failing/${j}`, `unknown rule "${id}"`);
    });
  });

  if (problems.length > 0 || !validateForm) return { problems };
  const version = createHash('sha256').update(canonicalJson(def)).digest('hex');
  return { matter: { def, version, file, validateForm, validateAnswers }, problems };
}

function walkConditions(t: ConditionTree | Condition, p: string, visit: (c: Condition, p: string) => void): void {
  if ('fact' in t) {
    visit(t, p);
    return;
  }
  t.all?.forEach((c, i) => walkConditions(c, `${p}/all/${i}`, visit));
  t.any?.forEach((c, i) => walkConditions(c, `${p}/any/${i}`, visit));
  if (t.not) walkConditions(t.not, `${p}/not`, visit);
}

/** Loads every matter file under `rulesDir/matters`. Throws CatalogError listing every problem. */
export function loadCatalog(rulesDir: string, sourceIds: ReadonlySet<string>): Catalog {
  const schemaFile = path.join(rulesDir, 'schema', 'matter.schema.json');
  const schemaAjv = new Ajv({ allErrors: true, strict: false });
  const schemaValidator = schemaAjv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  const formAjv = createFormAjv();
  const dir = path.join(rulesDir, 'matters');
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  const problems: string[] = [];
  const matters = new Map<string, LoadedMatter>();
  for (const f of files) {
    const rel = path.relative(path.dirname(rulesDir), path.join(dir, f));
    const res = checkMatter(readFileSync(path.join(dir, f), 'utf8'), rel, { sourceIds, schemaValidator, formAjv });
    problems.push(...res.problems);
    if (res.matter) {
      if (matters.has(res.matter.def.code)) problems.push(`${rel}: /code: matter code "${res.matter.def.code}" is defined twice`);
      matters.set(res.matter.def.code, res.matter);
    }
  }
  if (files.length === 0) problems.push(`${dir}: no matter files`);
  if (problems.length > 0) throw new CatalogError(problems);
  return { matters, get: (code) => matters.get(code) };
}
