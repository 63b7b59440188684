/**
 * Loads rules/bundles/*.yaml strictly: JSON Schema (rules/schema/bundle.schema.json), then cross-references against
 * the matter catalog and the data-source registry. Every error names the file and the JSON Pointer inside it; the
 * service refuses to start on any.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import { answerCombinations, answersValidator, canonicalJson, createFormAjv, type AnswersValidator, type Catalog, type LoadedMatter } from '../catalog/load-catalog.js';
import { boundedValidator, unboundedPlaces } from '../catalog/bounded-schema.js';
import { pointerSegment } from '../domain/text.js';
import { resolveSituation } from '../pipeline/resolve-situation.js';
import type { BundleDef, BundleMemberDef } from './types.js';

export interface LoadedBundle {
  def: BundleDef;
  /** sha256 of the canonical definition, recorded with every bundle application. */
  version: string;
  file: string;
  validateForm: ValidateFunction;
  validateAnswers: AnswersValidator;
}

export interface BundleCatalog {
  bundles: ReadonlyMap<string, LoadedBundle>;
  get(code: string): LoadedBundle | undefined;
  /** Source id → the matter whose certificates that source lists (members' `publishesTo`). */
  publishedRecords: ReadonlyMap<string, string>;
}

export class BundleCatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`一件事目录无效 Invalid bundle catalog:\n  ${problems.join('\n  ')}`);
    this.name = 'BundleCatalogError';
  }
}

/** The answers a member matter gets: the bundle's answers to the questions that matter asks. */
export function memberAnswers(matter: LoadedMatter, answers: Record<string, string>): Record<string, string> {
  const ids = new Set(matter.def.questions.map((q) => q.id));
  return Object.fromEntries(Object.entries(answers).filter(([k]) => ids.has(k)));
}

/** Whether a member applies under these answers (its `appliesWhen`). */
export function memberApplies(m: BundleMemberDef, answers: Record<string, string>): boolean {
  return Object.entries(m.appliesWhen ?? {}).every(([k, v]) => answers[k] === v);
}

/** Checks one bundle definition (YAML text) against the schema, the catalog and the sources; problems name `file`. */
export function checkBundle(
  text: string,
  file: string,
  opts: { matters: Pick<Catalog, 'get'>; sourceIds: ReadonlySet<string>; schemaValidator: ValidateFunction },
): { bundle?: LoadedBundle; problems: string[] } {
  const problems: string[] = [];
  const say = (p: string, msg: string) => problems.push(`${file}: ${p}: ${msg}`);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) say('/', `YAML: ${e.message.split('\n')[0]}`);
    return { problems };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    say('/', `YAML: ${(err as Error).message.split('\n')[0]}`);
    return { problems };
  }
  if (!opts.schemaValidator(raw)) {
    for (const e of opts.schemaValidator.errors ?? []) {
      const extra = e.keyword === 'additionalProperties' ? ` "${String((e.params as { additionalProperty?: string }).additionalProperty)}"` : '';
      say(e.instancePath === '' ? '/' : e.instancePath, `${e.message ?? 'invalid'}${extra}`);
    }
    return { problems };
  }
  const def = raw as BundleDef;
  if (opts.matters.get(def.code)) say('/code', `"${def.code}" is the code of a matter; a bundle needs its own code`);

  const questions = new Map(def.questions.map((q) => [q.id, q]));
  def.questions.forEach((q, i) => {
    if (def.questions.findIndex((x) => x.id === q.id) < i) say(`/questions/${i}/id`, `duplicate question "${q.id}"`);
  });
  const codes = def.members.map((m) => m.matter);
  const resolved = new Map<string, LoadedMatter>();
  def.members.forEach((m, i) => {
    const at = `/members/${i}`;
    if (codes.indexOf(m.matter) < i) say(`${at}/matter`, `"${m.matter}" is a member twice`);
    const matter = opts.matters.get(m.matter);
    if (!matter) {
      say(`${at}/matter`, `unknown matter "${m.matter}" (not in rules/matters/)`);
      return;
    }
    resolved.set(m.matter, matter);
    for (const t of def.applicantTypes) {
      if (!matter.def.applicantTypes.includes(t)) say(`${at}/matter`, `matter "${m.matter}" does not accept applicants of type ${t}`);
    }
    for (const q of matter.def.questions) {
      const shared = questions.get(q.id);
      if (!shared) say(`${at}/matter`, `question "${q.id}" of matter "${m.matter}" is not a question of the bundle`);
      else if (canonicalJson([...shared.options].sort()) !== canonicalJson([...q.options].sort())) {
        say(`${at}/matter`, `question "${q.id}" has options ${q.options.join('/')} in "${m.matter}" but ${shared.options.join('/')} in the bundle`);
      }
    }
    m.dependsOn?.forEach((d, j) => {
      if (d === m.matter) say(`${at}/dependsOn/${j}`, 'a member cannot depend on itself');
      else if (!codes.includes(d)) say(`${at}/dependsOn/${j}`, `"${d}" is not a member of this bundle`);
      // Listed in dependency order, so guidance and the notice read top-down like the order of work.
      else if (codes.indexOf(d) > i) say(`${at}/dependsOn/${j}`, `"${d}" must be listed before "${m.matter}", which depends on it`);
    });
    for (const [k, v] of Object.entries(m.appliesWhen ?? {})) {
      const q = questions.get(k);
      if (!q) say(`${at}/appliesWhen/${pointerSegment(k)}`, `unknown question "${k}"`);
      else if (!q.options.includes(v)) say(`${at}/appliesWhen/${pointerSegment(k)}`, `"${v}" is not an option of ${k} (${q.options.join('/')})`);
    }
    if (m.publishesTo !== undefined) {
      if (!opts.sourceIds.has(m.publishesTo)) say(`${at}/publishesTo`, `unknown data source "${m.publishesTo}" (not in rules/data-sources.yaml)`);
      const other = def.members.findIndex((x) => x.publishesTo === m.publishesTo);
      if (other < i) say(`${at}/publishesTo`, `source "${m.publishesTo}" already lists the certificates of "${def.members[other]!.matter}"`);
    }
  });
  const cycle = dependencyCycle(def.members);
  if (cycle) say('/members', `members depend on each other in a cycle: ${cycle.join(' → ')}`);
  if (problems.length === 0 && ![...resolved.values()].some((m) => m.def.department.code === def.owner.code)) {
    say('/owner/code', `the owner ${def.owner.code} is not the department of any member`);
  }

  for (const place of unboundedPlaces(def.form, '/form')) problems.push(`${file}: ${place}`);
  let validateForm: ValidateFunction | undefined;
  try {
    validateForm = boundedValidator(def.form, createFormAjv().compile(def.form));
  } catch (err) {
    say('/form', `form schema does not compile: ${(err as Error).message}`);
  }
  // One form for every member: each member's form must accept every property of the bundle's.
  const bundleProps = Object.keys((def.form.properties as Record<string, unknown> | undefined) ?? {});
  def.members.forEach((m, i) => {
    const f = resolved.get(m.matter)?.def.form as { properties?: Record<string, unknown>; additionalProperties?: unknown } | undefined;
    if (!f || f.additionalProperties !== false) return;
    for (const p of bundleProps) if (!(p in (f.properties ?? {}))) say(`/members/${i}/matter`, `the form of "${m.matter}" does not accept the bundle's form property "${p}"`);
  });
  // Every complete set of bundle answers selects exactly one situation of each member it applies to.
  if (problems.length === 0) {
    for (const combo of answerCombinations(def.questions).slice(0, 10_000)) {
      def.members.forEach((m, i) => {
        const matter = resolved.get(m.matter)!;
        if (!memberApplies(m, combo)) return;
        const sit = resolveSituation(matter.def, memberAnswers(matter, combo));
        if (!sit.ok) say(`/members/${i}/matter`, `answers ${Object.entries(combo).map(([k, v]) => `${k}=${v}`).join(', ')} select no situation of "${m.matter}"`);
      });
    }
  }
  if (problems.length > 0 || !validateForm) return { problems };
  const version = createHash('sha256').update(canonicalJson(def)).digest('hex');
  return { bundle: { def, version, file, validateForm, validateAnswers: answersValidator(def.questions) }, problems };
}

function dependencyCycle(members: BundleMemberDef[]): string[] | null {
  const deps = new Map(members.map((m) => [m.matter, m.dependsOn ?? []]));
  const state = new Map<string, 'visiting' | 'done'>();
  const walk = (code: string, trail: string[]): string[] | null => {
    if (state.get(code) === 'done') return null;
    if (state.get(code) === 'visiting') return [...trail.slice(trail.indexOf(code)), code];
    state.set(code, 'visiting');
    for (const d of deps.get(code) ?? []) {
      if (!deps.has(d)) continue;
      const c = walk(d, [...trail, code]);
      if (c) return c;
    }
    state.set(code, 'done');
    return null;
  };
  for (const m of members) {
    const c = walk(m.matter, []);
    if (c) return c;
  }
  return null;
}

/** Loads every bundle under `rulesDir/bundles` (none is fine). Throws BundleCatalogError listing every problem. */
export function loadBundles(rulesDir: string, matters: Pick<Catalog, 'get'>, sourceIds: ReadonlySet<string>): BundleCatalog {
  const dir = path.join(rulesDir, 'bundles');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  const bundles = new Map<string, LoadedBundle>();
  const publishedRecords = new Map<string, string>();
  const problems: string[] = [];
  if (files.length > 0) {
    const schema = JSON.parse(readFileSync(path.join(rulesDir, 'schema', 'bundle.schema.json'), 'utf8')) as object;
    const schemaValidator = new Ajv({ allErrors: true, strict: false }).compile(schema);
    for (const f of files) {
      const rel = path.relative(path.dirname(rulesDir), path.join(dir, f));
      const res = checkBundle(readFileSync(path.join(dir, f), 'utf8'), rel, { matters, sourceIds, schemaValidator });
      problems.push(...res.problems);
      const b = res.bundle;
      if (!b) continue;
      if (bundles.has(b.def.code)) problems.push(`${rel}: /code: bundle code "${b.def.code}" is defined twice`);
      for (const [i, m] of b.def.members.entries()) {
        if (!m.publishesTo) continue;
        const other = publishedRecords.get(m.publishesTo);
        if (other !== undefined && other !== m.matter) problems.push(`${rel}: /members/${i}/publishesTo: source "${m.publishesTo}" already lists the certificates of "${other}"`);
        publishedRecords.set(m.publishesTo, m.matter);
      }
      bundles.set(b.def.code, b);
    }
  }
  if (problems.length > 0) throw new BundleCatalogError(problems);
  return { bundles, get: (code) => bundles.get(code), publishedRecords };
}
