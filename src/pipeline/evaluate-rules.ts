/**
 * Evaluates a matter's rules with json-rules-engine and turns the results into a Decision.
 * PASS/FAIL come from the engine; UNKNOWN comes from a required lookup that could not be read, and a
 * rule that is UNKNOWN never rejects (DESIGN.md §2).
 */
import { Engine, type RuleProperties, type TopLevelCondition } from 'json-rules-engine';
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { Condition, ConditionTree, RuleDef } from '../catalog/types.js';
import { operators } from '../domain/operators.js';
import { getPath, matchesWhere } from '../domain/paths.js';
import type { Decision, Reason, RuleEvaluation, RuleResult, SourceReadStatus } from '../domain/types.js';
import { fillForm, missingFormValues } from './fill-form.js';
import { materialEvaluations, planMaterials, type MaterialContext } from './resolve-materials.js';

export interface LookupFact {
  status: SourceReadStatus;
  key: string | null;
  record: Record<string, unknown> | null;
  /** A `select` lookup whose record lists several items and no choice was made: the items to choose from. */
  candidates?: Array<Record<string, unknown>>;
}

/**
 * Everything the rules see. Top-level lookups are facts by their id; per-item lookups (forEach) live in
 * `itemLookups[lookupId][index]`, aligned with the array they iterate.
 */
export interface Facts {
  applicant: { code: string; kind: 'organisation' | 'person' };
  answers: Record<string, unknown>;
  form: Record<string, unknown>;
  today: string;
  register: { activeFiling: boolean };
  itemLookups: Record<string, Array<LookupFact | null>>;
  [lookupId: string]: unknown;
}

export interface Evaluation {
  rules: RuleEvaluation[];
  decision: Decision;
}

/**
 * Engines for one rule set, each used by one run at a time. json-rules-engine keeps its run status on the Engine:
 * when a run finishes while another run on the same engine has not started evaluating yet, the engine reads
 * FINISHED and the second run skips every rule — which would read as FAIL and reject an approvable filing.
 */
class EnginePool {
  private readonly idle: Engine[] = [];

  constructor(
    private readonly build: () => Engine,
    private readonly ruleIds: readonly string[],
  ) {}

  /** Runs the rules on an engine of its own; every rule has a result or this throws (a fault, retried). */
  async run(facts: Record<string, unknown>): Promise<Map<string, boolean>> {
    const engine = this.idle.pop() ?? this.build();
    try {
      const out = await engine.run(facts);
      const results = new Map<string, boolean>();
      for (const r of out.results) results.set(r.name, true);
      for (const r of out.failureResults) results.set(r.name, false);
      const missing = this.ruleIds.filter((id) => !results.has(id));
      if (missing.length > 0) throw new Error(`rules engine returned no result for ${missing.join(', ')}`);
      return results;
    } finally {
      if (this.idle.length < 32) this.idle.push(engine);
    }
  }
}

interface CompiledMatter {
  main: EnginePool;
  perItem: Map<string, EnginePool>;
  /** Form paths each rule reads ('' = the whole form): a rule reading a value nobody gave is UNKNOWN. */
  formPaths: Map<string, string[]>;
}

/** Every form path a rule's conditions (and forEach items) read, as written in the rule. */
export function formPathsOf(rule: RuleDef): string[] {
  const out = new Set<string>();
  const ref = (fact: unknown, path: unknown) => {
    if (fact === 'form') out.add(typeof path === 'string' ? path.replace(/^\$\.?/, '') : '');
  };
  const walk = (t: ConditionTree | Condition) => {
    if ('fact' in t) {
      ref(t.fact, t.path);
      const v = t.value as { fact?: unknown; path?: unknown } | null;
      if (v && typeof v === 'object' && !Array.isArray(v)) ref(v.fact, v.path);
      return;
    }
    for (const c of [...(t.all ?? []), ...(t.any ?? []), ...(t.not ? [t.not] : [])]) walk(c);
  };
  walk(rule.conditions);
  if (rule.forEach?.items.startsWith('form.')) out.add(rule.forEach.items.slice('form.'.length));
  return [...out];
}

/** Whether reading `read` touches the value at `missing` (one contains the other). */
function overlaps(read: string, missing: string): boolean {
  return read === '' || read === missing || missing.startsWith(`${read}.`) || read.startsWith(`${missing}.`);
}

const compiled = new WeakMap<LoadedMatter, CompiledMatter>();

function newEngine(): Engine {
  // allowUndefinedFacts: false — a fact the rule names but the pipeline did not provide is a fault, not a PASS.
  const engine = new Engine([], { allowUndefinedFacts: false, pathResolver: (value, path) => getPath(value, path) });
  for (const [name, fn] of Object.entries(operators)) engine.addOperator(name, fn);
  return engine;
}

/** Replaces `{config: key}` placeholders with the matter's configured values (thresholds stay out of conditions). */
export function withConfig(value: unknown, config: Readonly<Record<string, unknown>>): unknown {
  if (Array.isArray(value)) return value.map((v) => withConfig(v, config));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'config' && typeof o.config === 'string') {
      if (!(o.config in config)) throw new Error(`unknown config key ${o.config}`);
      return config[o.config];
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, withConfig(v, config)]));
  }
  return value;
}

function ruleProps(r: RuleDef, config: Readonly<Record<string, unknown>>): RuleProperties {
  return { name: r.id, conditions: withConfig(r.conditions, config) as TopLevelCondition, event: { type: r.id } };
}

/** One engine per rule-set version (building one costs ~70 µs; MEASURED.md). */
function compile(matter: LoadedMatter): CompiledMatter {
  let c = compiled.get(matter);
  if (c) return c;
  const config = matter.def.config ?? {};
  const engineFor = (rules: RuleDef[]) => () => {
    const e = newEngine();
    for (const r of rules) e.addRule(ruleProps(r, config));
    return e;
  };
  const mainRules = matter.def.rules.filter((r) => !r.forEach);
  const main = new EnginePool(engineFor(mainRules), mainRules.map((r) => r.id));
  const perItem = new Map<string, EnginePool>();
  for (const r of matter.def.rules.filter((x) => x.forEach)) perItem.set(r.id, new EnginePool(engineFor([r]), [r.id]));
  c = { main, perItem, formPaths: new Map(matter.def.rules.map((r) => [r.id, formPathsOf(r)])) };
  compiled.set(matter, c);
  return c;
}

function applies(r: RuleDef, situation: string): boolean {
  return !r.situations || r.situations.includes(situation);
}

function lookupStatus(facts: Facts, id: string): SourceReadStatus | undefined {
  return (facts[id] as LookupFact | undefined)?.status;
}

/** Evaluates every rule that applies to the situation; the decision follows DESIGN.md §2. */
export async function evaluateRules(
  matter: LoadedMatter,
  situation: string,
  facts: Facts,
  materials: Pick<MaterialContext, 'archive'> = {},
): Promise<Evaluation> {
  const { main, perItem, formPaths } = compile(matter);
  const forEachLookups = new Map(matter.def.lookups.filter((l) => l.forEach).map((l) => [l.id, l.forEach!]));
  const top = Object.fromEntries(matter.def.lookups.filter((l) => !l.forEach).map((l) => [l.id, facts[l.id] as LookupFact | undefined]));

  // Rules read the filled form (免填): sources' values where they gave them, the applicant's where they could not.
  // Filling an already filled form changes nothing, so receipts re-evaluate to the same decision.
  const form = fillForm(matter.def, facts.form, top);
  const missing = missingFormValues(matter.def, form);
  const run: Facts = form === facts.form ? facts : { ...facts, form };
  const mainResult = await main.run(run);

  const evaluations: RuleEvaluation[] = [];
  for (const rule of matter.def.rules) {
    if (!applies(rule, situation)) continue;
    const lacking = missing.filter((m) => (formPaths.get(rule.id) ?? []).some((r) => overlaps(r, m)));
    let result: RuleResult;
    if (lacking.length > 0) {
      result = 'UNKNOWN';
    } else if (!rule.forEach) {
      const unknown = (rule.requires ?? []).some((id) =>
        forEachLookups.has(id)
          ? (run.itemLookups[id] ?? []).some((l) => l?.status === 'unknown')
          : lookupStatus(run, id) === 'unknown',
      );
      result = unknown ? 'UNKNOWN' : mainResult.get(rule.id) ? 'PASS' : 'FAIL';
    } else {
      result = await evaluateForEach(rule, run, perItem.get(rule.id)!, forEachLookups);
    }
    const message = lacking.length === 0 ? rule.message : `${rule.message}（缺少${lackingLabels(matter, lacking)}：数源未能提供，申请人也未填写 missing data, neither source nor applicant gave it）`;
    evaluations.push({ id: rule.id, result, message, basis: rule.basis, onFail: rule.onFail });
  }
  evaluations.push(...materialEvaluations(planMaterials(matter.def, situation, { lookups: top, ...materials })));
  return { rules: evaluations, decision: decide(evaluations, matter.def.autoApprove) };
}

function lackingLabels(matter: LoadedMatter, paths: readonly string[]): string {
  return paths.map((p) => matter.def.fields.find((f) => f.fallback === `form.${p}`)?.label ?? p).join('、');
}

async function evaluateForEach(
  rule: RuleDef,
  facts: Facts,
  engine: EnginePool,
  forEachLookups: Map<string, string>,
): Promise<RuleResult> {
  // A top-level source that did not answer makes the rule UNKNOWN before its items are even known.
  if ((rule.requires ?? []).some((id) => !forEachLookups.has(id) && lookupStatus(facts, id) === 'unknown')) return 'UNKNOWN';
  const itemsPath = rule.forEach!.items;
  const items = getPath(facts, itemsPath);
  if (!Array.isArray(items)) return 'FAIL';
  const results: RuleResult[] = [];
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    if (!matchesWhere(item, rule.forEach!.where)) continue;
    const lookup: Record<string, LookupFact | null> = {};
    for (const [id, path] of forEachLookups) {
      if (path === itemsPath) lookup[id] = facts.itemLookups[id]?.[i] ?? null;
    }
    const unknown = (rule.requires ?? []).some((id) =>
      forEachLookups.has(id) ? lookup[id]?.status === 'unknown' : lookupStatus(facts, id) === 'unknown',
    );
    if (unknown) {
      results.push('UNKNOWN');
      continue;
    }
    const run = await engine.run({ ...facts, item, lookup });
    results.push(run.get(rule.id) ? 'PASS' : 'FAIL');
  }
  // A FAIL on data we hold is authoritative even if another item is UNKNOWN.
  if (results.includes('FAIL')) return 'FAIL';
  if (results.includes('UNKNOWN')) return 'UNKNOWN';
  return 'PASS';
}

/**
 * Any UNKNOWN → MANUAL (never auto-reject on missing knowledge); else a FAIL whose onFail is REJECT → REJECT;
 * else any other FAIL → MANUAL; else APPROVE (MANUAL when the matter is not auto-approvable).
 */
export function decide(evaluations: RuleEvaluation[], autoApprove: boolean): Decision {
  const notPassed = evaluations.filter((e) => e.result !== 'PASS');
  const reasons: Reason[] = notPassed.map((e) => ({ rule: e.id, message: e.message, basis: e.basis, result: e.result }));
  if (notPassed.some((e) => e.result === 'UNKNOWN')) {
    return { outcome: 'MANUAL', reasons };
  }
  if (notPassed.some((e) => e.onFail === 'REJECT')) {
    return { outcome: 'REJECT', reasons: reasons.filter((r) => notPassed.find((e) => e.id === r.rule)?.onFail === 'REJECT') };
  }
  if (notPassed.length > 0) return { outcome: 'MANUAL', reasons };
  if (!autoApprove) {
    return {
      outcome: 'MANUAL',
      reasons: [{ rule: 'manual-matter', message: '本事项依法须人工审核', basis: '事项目录（非自动审批事项）', result: 'UNKNOWN' }],
    };
  }
  return { outcome: 'APPROVE', reasons: [] };
}
