/**
 * Loads rules/matters/*.yaml strictly: JSON Schema (rules/schema/matter.schema.json), then cross-references.
 * Every error names the file and the JSON Pointer inside it; the service refuses to start on any.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseDocument } from 'yaml';
import { isValidIdNumber, isValidUscc } from '../domain/identifiers.js';
import { operators } from '../domain/operators.js';
import { pointerSegment } from '../domain/text.js';
import { boundedValidator, unboundedPlaces } from './bounded-schema.js';
import { pinTemplateDigest, templateFileSha256, templateRefProblems } from './form-templates.js';
import type { Condition, ConditionTree, Lookup, MatterDef, Question } from './types.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface LoadedMatter {
  def: MatterDef;
  /** sha256 of the canonical definition: the rule-set version recorded with every decision. */
  version: string;
  file: string;
  validateForm: ValidateFunction;
  validateAnswers: AnswersValidator;
}

/** Validates answers (question id → one of its options) with ajv-shaped errors, without an ajv compile per matter. */
export interface AnswersValidator {
  (data: unknown): boolean;
  errors: Array<{ instancePath: string; keyword: string; message: string; params: Record<string, unknown> }> | null;
}

/**
 * A hand-written validator: compiling one ajv schema per matter costs ~0.7 ms, which at the seed's 2851
 * matters is two seconds of start-up for a check this simple.
 */
export function answersValidator(questions: Question[]): AnswersValidator {
  const options = new Map(questions.map((q) => [q.id, q.options]));
  const fn = ((data: unknown) => {
    const errors: NonNullable<AnswersValidator['errors']> = [];
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      errors.push({ instancePath: '', keyword: 'type', message: 'must be object', params: { type: 'object' } });
    } else {
      for (const [k, v] of Object.entries(data)) {
        const allowed = options.get(k);
        if (!allowed) errors.push({ instancePath: '', keyword: 'additionalProperties', message: 'must NOT have additional properties', params: { additionalProperty: k } });
        else if (!allowed.includes(v as string)) errors.push({ instancePath: `/${pointerSegment(k)}`, keyword: 'enum', message: 'must be equal to one of the allowed values', params: { allowedValues: allowed } });
      }
    }
    fn.errors = errors.length > 0 ? errors : null;
    return errors.length === 0;
  }) as AnswersValidator;
  fn.errors = null;
  return fn;
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
const USCC_SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;
const BASE_FACTS = ['applicant', 'answers', 'form', 'today', 'register'];

function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The ajv used for matter form schemas: no coercion, no silent removal, identifier formats. */
export function createFormAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, coerceTypes: false, removeAdditional: false, useDefaults: false });
  addFormats(ajv);
  // 表单检查 (issue 18): a field's own plain-Chinese message for the portal; an annotation, never a check.
  ajv.addVocabulary(['errorMessage']);
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

/** Longest matter definition text accepted (six times the largest matter in rules/). */
export const MAX_MATTER_CHARS = 128 * 1024;
/** Most lines + commas + colons accepted: an upper bound on the YAML nodes, five times the largest matter's. */
export const MAX_MATTER_MARKS = 10_000;

/** Lines, commas and colons in `text`, counting no further than `limit + 1`. */
function structuralMarks(text: string, limit: number): number {
  let n = 0;
  for (let i = 0; i < text.length && n <= limit; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x2c || c === 0x3a) n += 1;
  }
  return n;
}

/** Parses one matter definition (YAML or JSON text) and checks it; returns problems prefixed with `file`. */
export function checkMatter(
  text: string,
  file: string,
  opts: {
    sourceIds: ReadonlySet<string>;
    schemaValidator: ValidateFunction;
    formAjv: Ajv;
    /** rules/: when known, a template the matter names must exist there (its fields are checked by checkFormTemplates). */
    rulesDir?: string;
  },
): { matter?: LoadedMatter; problems: string[] } {
  const problems: string[] = [];
  const say = (p: string, msg: string) => problems.push(`${file}: ${p}: ${msg}`);
  // Issue 17: the YAML parser costs ~40 µs a node and runs on the API's event loop for a draft; a 240 KB array of
  // 42,000 items blocked it for 2 s. The largest matter has 21 KB and ~1,800 lines, commas and colons.
  if (text.length > MAX_MATTER_CHARS) {
    say('/', `事项定义超过 ${MAX_MATTER_CHARS} 个字符 The definition is longer than ${MAX_MATTER_CHARS} characters`);
    return { problems };
  }
  if (structuralMarks(text, MAX_MATTER_MARKS) > MAX_MATTER_MARKS) {
    say('/', `事项定义的行、逗号和冒号超过 ${MAX_MATTER_MARKS} 个 The definition has more than ${MAX_MATTER_MARKS} lines, commas and colons`);
    return { problems };
  }
  // merge: authors reuse test forms with YAML anchors and `<<:` merge keys.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, merge: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) say('/', `YAML: ${e.message.split('\n')[0]}`);
    return { problems };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    // Alias bombs, unresolved aliases and bad merge keys surface only when the document is converted.
    say('/', `YAML: ${(err as Error).message.split('\n')[0]}`);
    return { problems };
  }
  if (!opts.schemaValidator(raw)) {
    for (const e of opts.schemaValidator.errors ?? []) {
      const extra = e.keyword === 'additionalProperties' ? ` "${String((e.params as { additionalProperty?: string }).additionalProperty)}"` : '';
      say(pointer(e), `${e.message ?? 'invalid'}${extra}`);
    }
    return { problems };
  }
  const def = raw as MatterDef;
  // Issue 17: a form that lets a body grow without limit is refused, so no filing can cost more than it allows.
  for (const place of unboundedPlaces(def.form, '/form')) problems.push(`${file}: ${place}`);

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

  // Questions: askWhen names earlier questions and their options.
  def.questions.forEach((q, i) => {
    for (const [k, v] of Object.entries(q.askWhen ?? {})) {
      const earlier = def.questions.slice(0, i).find((x) => x.id === k);
      if (!earlier) say(`/questions/${i}/askWhen/${pointerSegment(k)}`, `askWhen must name an earlier question, not "${k}"`);
      else if (!earlier.options.includes(v)) say(`/questions/${i}/askWhen/${pointerSegment(k)}`, `"${v}" is not an option of ${k} (${earlier.options.join('/')})`);
    }
  });

  // Situations: answers must exist, no two situations may share their answers, and every complete answer
  // combination must select exactly one situation.
  def.situations.forEach((s, i) => {
    for (const [q, v] of Object.entries(s.when)) {
      const question = def.questions.find((x) => x.id === q);
      if (!question) say(`/situations/${i}/when/${pointerSegment(q)}`, `unknown question "${q}"`);
      else if (!question.options.includes(v)) say(`/situations/${i}/when/${pointerSegment(q)}`, `"${v}" is not an option of ${q} (${question.options.join('/')})`);
    }
    const same = def.situations.findIndex((o) => canonicalJson(o.when) === canonicalJson(s.when));
    if (same < i) say(`/situations/${i}/when`, `duplicate situation: "${s.id}" has the same answers as "${def.situations[same]!.id}"`);
  });
  if (problems.length === 0) {
    const combos = answerCombinations(def.questions);
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
    const byData = m.acquisition.filter((a) => a === '证照共享' || a === '数据核验');
    if (byData.length > 0 && !m.lookup) say(`/materials/${i}/lookup`, `a material obtained by ${byData.join('/')} needs the lookup that reads it`);
  });
  /** An applicant value that may be absent: applicant/answers, or a form property no level of which is required. */
  const checkOptionalInput = (ref: string, at: string) => {
    const [root, ...rest] = ref.split('.');
    if (root === 'applicant' || root === 'answers') return;
    if (root !== 'form' || rest.length === 0) return say(at, `"${ref}" must be a form property (form.…), or applicant/answers`);
    let node: unknown = def.form;
    for (const [depth, step] of rest.entries()) {
      const o = node as { properties?: Record<string, unknown>; required?: string[] } | undefined;
      const next = o?.properties?.[step];
      if (next === undefined) return say(at, `"${ref}" is not a property of the form schema`);
      if (o?.required?.includes(step)) {
        return say(at, `"form.${rest.slice(0, depth + 1).join('.')}" is required in the form schema: a source outage would then block the filing; make it optional`);
      }
      node = next;
    }
  };
  const topLookups = new Set(def.lookups.filter((l) => !l.forEach).map((l) => l.id));
  const dataRoots = new Set([...BASE_FACTS.filter((f) => f !== 'today' && f !== 'register'), ...topLookups]);
  def.lookups.forEach((l, i) => {
    if (!opts.sourceIds.has(l.source)) say(`/lookups/${i}/source`, `unknown data source "${l.source}" (not in rules/data-sources.yaml)`);
    const root = (l.forEach ?? l.key).split('.')[0]!;
    const at = l.forEach ? `/lookups/${i}/forEach` : `/lookups/${i}/key`;
    if (!dataRoots.has(root) || root === l.id) say(at, `"${root}" is neither applicant/answers/form nor another top-level lookup`);
  });
  const cycle = lookupCycle(def.lookups);
  if (cycle) say('/lookups', `lookups depend on each other in a cycle: ${cycle.join(' → ')}`);
  const fieldIds = new Set(def.fields.map((f) => f.id));
  const materialIds = new Set(def.materials.map((m) => m.id));
  def.fields.forEach((f, i) => {
    if (f.prefill && !lookupIds.has(f.prefill.lookup)) say(`/fields/${i}/prefill/lookup`, `unknown lookup "${f.prefill.lookup}"`);
    if (f.material && !materialIds.has(f.material)) say(`/fields/${i}/material`, `unknown material "${f.material}"`);
    if (f.fallback !== undefined) {
      if (!f.prefill) say(`/fields/${i}/fallback`, 'a fallback is for a pre-filled field (prefill): it is what the applicant gives when the source cannot');
      else checkOptionalInput(f.fallback, `/fields/${i}/fallback`);
    }
  });
  def.lookups.forEach((l, i) => {
    if ((BASE_FACTS as readonly string[]).includes(l.id) || l.id === 'itemLookups') say(`/lookups/${i}/id`, `"${l.id}" is a base fact name; choose another lookup id`);
    if (!l.select) return;
    if (l.forEach) say(`/lookups/${i}/select`, 'select picks one item of a top-level lookup’s record; a forEach lookup cannot have it');
    if (l.select.choice !== undefined) {
      if (!l.select.choice.startsWith('form.')) say(`/lookups/${i}/select/choice`, 'the choice is a form property (form.…) the applicant sets when they have several');
      else checkOptionalInput(l.select.choice, `/lookups/${i}/select/choice`);
    }
  });
  const checkFieldRef = (ref: string | undefined, at: string) => {
    if (ref?.startsWith('fields.') && !fieldIds.has(ref.slice('fields.'.length))) say(at, `unknown field "${ref.slice('fields.'.length)}"`);
  };
  checkFieldRef(def.holderName, '/holderName');
  def.output.certificate.lines.forEach((l, i) => checkFieldRef(l.from, `/output/certificate/lines/${i}/from`));
  const templateProblems = templateRefProblems(def, opts.rulesDir);
  for (const [at, msg] of templateProblems) say(at, msg);
  if (opts.rulesDir !== undefined && !templateProblems.some(([at]) => at === '/output/form/template/file')) {
    for (const [at, msg] of pinTemplateDigest(def, opts.rulesDir)) say(at, msg);
  }
  if (!def.output.certificate.licenseTypeCode.startsWith(def.department.code)) {
    say('/output/certificate/licenseTypeCode', `must start with the department code ${def.department.code} (证照定义机构 + 3-digit type number)`);
  }
  if (!def.autoApprove) {
    (def.followUps ?? []).forEach((f, i) => {
    const keys = [
      ...(f.afterDays !== undefined && typeof f.afterDays === 'object' ? [f.afterDays.config] : []),
      ...(f.monthlyAmount?.multiply ?? []).flatMap((t) => (typeof t === 'object' && 'config' in t ? [t.config] : [])),
    ];
    for (const k of keys) if (typeof def.config?.[k] !== 'number') say(`/followUps/${i}`, `config "${k}" is not a number in /config`);
  });
  def.rules.forEach((r, i) => {
    if (r.awaits && r.onFail !== 'MANUAL') say(`/rules/${i}/awaits`, 'a rule that awaits another department’s result must have onFail MANUAL (never reject while waiting)');
      if (r.onFail === 'REJECT') say(`/rules/${i}/onFail`, 'a matter that is not auto-approvable is decided by a person: its rules are pre-review findings (onFail: MANUAL)');
    });
  }

  // Questions a data source answers: a lookup keyed from the applicant alone, known operators, real options.
  def.questions.forEach((q, i) => {
    const af = q.answerFrom;
    if (!af) return;
    const at = `/questions/${i}/answerFrom`;
    const l = def.lookups.find((x) => x.id === af.lookup);
    if (!l) say(`${at}/lookup`, `unknown lookup "${af.lookup}"`);
    else if (l.forEach || lookupRoot(def.lookups, l) !== 'applicant') say(`${at}/lookup`, `lookup "${af.lookup}" must be keyed from the applicant alone (guidance has no form yet)`);
    for (const [k, v] of Object.entries(af.when ?? {})) {
      const other = def.questions.find((x) => x.id === k);
      if (!other || !other.options.includes(v)) say(`${at}/when/${pointerSegment(k)}`, `unknown question or option "${k}=${v}"`);
    }
    af.cases.forEach((c, j) => {
      if (!KNOWN_OPERATORS.has(c.operator)) say(`${at}/cases/${j}/operator`, `unknown operator "${c.operator}"`);
      if (!q.options.includes(c.answer)) say(`${at}/cases/${j}/answer`, `"${c.answer}" is not an option of ${q.id}`);
    });
    if (af.otherwise !== undefined && !q.options.includes(af.otherwise)) say(`${at}/otherwise`, `"${af.otherwise}" is not an option of ${q.id}`);
  });

  const configKeys = new Set(Object.keys(def.config ?? {}));
  def.followUps?.forEach((f, i) => {
    for (const [k, vs] of Object.entries(f.answers ?? {})) {
      const q = def.questions.find((x) => x.id === k);
      if (!q) say(`/followUps/${i}/answers/${pointerSegment(k)}`, `unknown question "${k}"`);
      else vs.forEach((v, j) => !q.options.includes(v) && say(`/followUps/${i}/answers/${pointerSegment(k)}/${j}`, `"${v}" is not an option of ${k}`));
    }
    f.config?.forEach((k, j) => !configKeys.has(k) && say(`/followUps/${i}/config/${j}`, `unknown config key "${k}"`));
  });
  def.rules.forEach((r, i) => {
    r.requires?.forEach((l, j) => {
      if (!lookupIds.has(l)) say(`/rules/${i}/requires/${j}`, `unknown lookup "${l}"`);
    });
    r.situations?.forEach((s, j) => {
      if (!situationIds.has(s)) say(`/rules/${i}/situations/${j}`, `unknown situation "${s}"`);
    });
    const facts = new Set([...BASE_FACTS, ...topLookups, ...(r.forEach ? ['item', 'lookup'] : [])]);
    if (r.forEach) {
      const root = r.forEach.items.split('.')[0]!;
      if (!BASE_FACTS.includes(root) && !topLookups.has(root)) say(`/rules/${i}/forEach/items`, `unknown fact "${root}"`);
    }
    walkConditions(r.conditions, `/rules/${i}/conditions`, (c, p) => {
      for (const [key, at] of configRefs(c.value, `${p}/value`)) {
        if (!configKeys.has(key)) say(at, `unknown config key "${key}" (config: ${[...configKeys].join(', ') || 'none'})`);
      }
      const nested = (c.value as { operator?: unknown } | null)?.operator;
      if (typeof nested === 'string' && !KNOWN_OPERATORS.has(nested)) say(`${p}/value/operator`, `unknown operator "${nested}"`);
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
    validateForm = boundedValidator(def.form, opts.formAjv.compile(def.form));
  } catch (err) {
    say('/form', `form schema does not compile: ${(err as Error).message}`);
  }
  const validateAnswers = answersValidator(def.questions);

  def.tests.forEach((t, i) => {
    // Shape only for a USCC: a registered code with a bad check character is a case worth testing (→ MANUAL).
    if (!USCC_SHAPE.test(t.applicant) && !isValidIdNumber(t.applicant, todayUtc())) say(`/tests/${i}/applicant`, 'not a 统一社会信用代码 or a valid 公民身份号码');
    if (!validateAnswers(t.answers)) say(`/tests/${i}/answers`, (validateAnswers.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('; '));
    if (validateForm && !validateForm(t.form)) say(`/tests/${i}/form`, opts.formAjv.errorsText(validateForm.errors));
    if (t.today !== undefined && Number.isNaN(Date.parse(`${t.today}T00:00:00Z`))) say(`/tests/${i}/today`, `"${t.today}" is not a date`);
    t.expect.failing.forEach((id, j) => {
      if (!def.rules.some((r) => r.id === id)) say(`/tests/${i}/expect/failing/${j}`, `unknown rule "${id}"`);
    });
  });

  if (problems.length > 0 || !validateForm) return { problems };
  // With a form template, `def` carries the sha256 of its bytes by now: a new PDF is a new version.
  const version = createHash('sha256').update(canonicalJson(def)).digest('hex');
  return { matter: { def, version, file, validateForm, validateAnswers }, problems };
}

/** Every complete set of answers: a question whose askWhen is not met stays unanswered. */
export function answerCombinations(questions: Question[]): Array<Record<string, string>> {
  return questions.reduce<Array<Record<string, string>>>(
    (acc, q) => acc.flatMap((a) => (isAsked(q, a) ? q.options.map((o) => ({ ...a, [q.id]: o })) : [a])),
    [{}],
  );
}

/** Whether a question applies given the answers so far. */
export function isAsked(q: Question, answers: Record<string, unknown>): boolean {
  return Object.entries(q.askWhen ?? {}).every(([k, v]) => answers[k] === v);
}

/** `{config: key}` placeholders anywhere inside a condition value, with their JSON Pointers. */
export function configRefs(value: unknown, p: string): Array<[string, string]> {
  if (Array.isArray(value)) return value.flatMap((v, i) => configRefs(v, `${p}/${i}`));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'config' && typeof o.config === 'string') return [[o.config, `${p}/config`]];
    return Object.entries(o).flatMap(([k, v]) => configRefs(v, `${p}/${pointerSegment(k)}`));
  }
  return [];
}

/** The base fact (applicant/answers/form) a top-level lookup's key ultimately comes from. */
export function lookupRoot(lookups: Lookup[], l: Lookup, seen = new Set<string>()): string {
  const root = l.key.split('.')[0]!;
  const dep = lookups.find((x) => x.id === root && !x.forEach);
  if (!dep || seen.has(dep.id)) return root;
  seen.add(l.id);
  return lookupRoot(lookups, dep, seen);
}

function lookupCycle(lookups: Lookup[]): string[] | null {
  for (const start of lookups) {
    const path = [start.id];
    let cur: Lookup | undefined = start;
    while (cur) {
      const root: string = (cur.forEach ?? cur.key).split('.')[0]!;
      const next = lookups.find((x) => x.id === root && !x.forEach);
      if (!next) break;
      if (path.includes(next.id)) return [...path, next.id];
      path.push(next.id);
      cur = next;
    }
  }
  return null;
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

export interface LoadCatalogOptions {
  /**
   * A validated snapshot (JSON) of earlier loads: files whose bytes, schema, data-source ids and loader are
   * unchanged skip YAML parsing and the checks they already passed. Only a catalog that loaded without a single
   * problem is written back, so an invalid file never enters it.
   */
  snapshotFile?: string | null;
}

interface Snapshot {
  context: string;
  entries: Record<string, { def: MatterDef; version: string }>;
}

/** Bump when the checks change in a way the function sources below would not show. */
const CHECKS_REVISION = '4';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function readSnapshot(file: string, context: string): Snapshot['entries'] {
  try {
    const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    return snap.context === context && snap.entries && typeof snap.entries === 'object' ? snap.entries : {};
  } catch {
    return {};
  }
}

function writeSnapshot(file: string, snap: Snapshot): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(snap), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A snapshot is an optimisation: a read-only data folder only makes the next start slower.
  }
}

/** A matter from the snapshot: its form validator is compiled on first use, not at start-up. */
function fromSnapshot(def: MatterDef, version: string, file: string, formAjv: Ajv): LoadedMatter {
  let compiled: ValidateFunction | undefined;
  const matter = { def, version, file, validateAnswers: answersValidator(def.questions) } as LoadedMatter;
  Object.defineProperty(matter, 'validateForm', {
    enumerable: true,
    get: () => (compiled ??= boundedValidator(def.form, formAjv.compile(def.form))),
  });
  return matter;
}

/** Loads every matter file under `rulesDir/matters`. Throws CatalogError listing every problem. */
export function loadCatalog(rulesDir: string, sourceIds: ReadonlySet<string>, opts: LoadCatalogOptions = {}): Catalog {
  const schemaFile = path.join(rulesDir, 'schema', 'matter.schema.json');
  const schemaText = readFileSync(schemaFile, 'utf8');
  let schemaValidator: ValidateFunction | undefined;
  const validator = () => (schemaValidator ??= new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(schemaText) as object));
  const formAjv = createFormAjv();
  const context = sha256(
    [CHECKS_REVISION, schemaText, [...sourceIds].sort().join(','), checkMatter.toString(), answersValidator.toString()].join('\u0000'),
  );
  const cached = opts.snapshotFile ? readSnapshot(opts.snapshotFile, context) : {};
  const fresh: Snapshot['entries'] = {};
  const dir = path.join(rulesDir, 'matters');
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  const problems: string[] = [];
  const matters = new Map<string, LoadedMatter>();
  const certCodes = new Map<string, string>();
  for (const f of files) {
    const rel = path.relative(path.dirname(rulesDir), path.join(dir, f));
    const text = readFileSync(path.join(dir, f), 'utf8');
    const key = sha256(`${rel}\u0000${text}`);
    // A template's bytes are part of the version: an entry made with other bytes is checked again.
    const snapTemplate = cached[key]?.def.output.form.template;
    const hit = snapTemplate && templateFileSha256(rulesDir, snapTemplate.file) !== snapTemplate.sha256 ? undefined : cached[key];
    let matter: LoadedMatter | undefined;
    if (hit) {
      matter = fromSnapshot(hit.def, hit.version, rel, formAjv);
    } else {
      const res = checkMatter(text, rel, { sourceIds, schemaValidator: validator(), formAjv, rulesDir });
      problems.push(...res.problems);
      matter = res.matter;
    }
    if (!matter) continue;
    fresh[key] = { def: matter.def, version: matter.version };
    if (matters.has(matter.def.code)) problems.push(`${rel}: /code: matter code "${matter.def.code}" is defined twice`);
    // Certificates of two matters must never share a 证照类型代码 or a number series.
    const cert = matter.def.output.certificate;
    for (const [k, v] of [['licenseTypeCode', cert.licenseTypeCode], ['numberPrefix', cert.numberPrefix]] as const) {
      const other = certCodes.get(`${k}:${v}`);
      if (other) problems.push(`${rel}: /output/certificate/${k}: "${v}" is already used by ${other}`);
      certCodes.set(`${k}:${v}`, rel);
    }
    matters.set(matter.def.code, matter);
  }
  if (files.length === 0) problems.push(`${dir}: no matter files`);
  if (problems.length > 0) throw new CatalogError(problems);
  if (opts.snapshotFile && Object.keys(fresh).some((k) => !cached[k])) writeSnapshot(opts.snapshotFile, { context, entries: fresh });
  return { matters, get: (code) => matters.get(code) };
}
