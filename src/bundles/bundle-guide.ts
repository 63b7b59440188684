/**
 * One guide for a whole 一件事 (DESIGN.md §10): the members that apply, the materials and fields of all of them once,
 * the questions still open — built from each member's own guidance (pipeline/guide.ts). With an applicant and the
 * disabled person named, each member is also pre-checked (a dry run, reads audited, nothing stored) and pre-ticked
 * when it may be granted; a rule that the bundle's own dependency will satisfy (the card it issues first) does not
 * untick a member.
 */
import type { Catalog, LoadedMatter } from '../catalog/load-catalog.js';
import type { Question } from '../catalog/types.js';
import type { Decision } from '../domain/types.js';
import { guideMatter, precheckFiling, type GuideDeps, type GuideResult } from '../pipeline/guide.js';
import { memberAnswers, memberApplies, type LoadedBundle } from './load-bundles.js';

export interface BundleGuideMember {
  matter: string;
  name: string;
  department: string;
  departmentCode: string;
  level: string;
  mode: string;
  dependsOn: string[];
  /** Applies under the answers given (its `appliesWhen`; unanswered counts as may apply). */
  applies: boolean;
  /** Ticked in the form: it applies and, when pre-checked, may be granted. */
  preselected: boolean;
  /** The dry run's outcome and reasons (only with an applicant and the disabled person named). */
  eligibility?: Decision;
  situation: { id: string; name: string } | null;
}

export interface BundleGuide {
  bundle: string;
  version: string;
  answers: Record<string, string>;
  answeredFromData: GuideResult['answeredFromData'];
  openQuestions: Array<Pick<Question, 'id' | 'text' | 'options'>>;
  members: BundleGuideMember[];
  /** Each material once (by name), with how it is obtained and the members that need it. */
  materials: Array<GuideResult['materials'][number] & { members: string[] }>;
  /** Each field once (by label), with the members that use it. */
  fields: Array<GuideResult['fields'][number] & { members: string[] }>;
}

export interface BundleGuideInput {
  answers: Record<string, string>;
  applicant: string | null;
  /** The disabled person, for the pre-check (the applicant themself when filing as 本人). */
  person?: { name: string; idNumber: string };
}

export async function guideBundle(deps: GuideDeps, catalog: Pick<Catalog, 'get'>, bundle: LoadedBundle, input: BundleGuideInput): Promise<BundleGuide> {
  const def = bundle.def;
  const members = def.members.map((m) => ({ entry: m, matter: catalog.get(m.matter) })).filter((x): x is { entry: typeof x.entry; matter: LoadedMatter } => x.matter !== undefined);
  const answers = { ...input.answers };
  const answeredFromData: GuideResult['answeredFromData'] = [];
  const guides = new Map<string, GuideResult>();
  // Members whose questions a data source can answer go first: their answers then hold for every member.
  for (const { entry, matter } of members.filter((x) => x.matter.def.questions.some((q) => q.answerFrom))) {
    if (!mayApply(entry.appliesWhen, answers)) continue;
    const g = await guideMatter(deps, matter, { answers: memberAnswers(matter, answers), applicant: input.applicant });
    guides.set(matter.def.code, g);
    for (const a of g.answeredFromData) {
      if (answers[a.question] !== undefined) continue;
      answers[a.question] = a.answer;
      answeredFromData.push(a);
    }
  }
  for (const { entry, matter } of members) {
    if (guides.has(matter.def.code) || !mayApply(entry.appliesWhen, answers)) continue;
    guides.set(matter.def.code, await guideMatter(deps, matter, { answers: memberAnswers(matter, answers), applicant: input.applicant }));
  }

  const open = new Map<string, Pick<Question, 'id' | 'text' | 'options'>>();
  for (const g of guides.values()) for (const q of g.openQuestions) open.set(q.id, def.questions.find((x) => x.id === q.id) ?? q);
  for (const m of def.members) for (const k of Object.keys(m.appliesWhen ?? {})) {
    const q = def.questions.find((x) => x.id === k);
    if (q && answers[k] === undefined) open.set(k, { id: q.id, text: q.text, options: q.options });
  }

  const person = input.person;
  const preselected = new Set<string>();
  const out: BundleGuideMember[] = [];
  for (const { entry, matter } of members) {
    const g = guides.get(matter.def.code);
    const applies = g !== undefined && mayApply(entry.appliesWhen, answers);
    const definite = applies && memberApplies(entry, answers);
    let eligibility: Decision | undefined;
    if (definite && g?.situation && input.applicant && person && deps.sources) {
      const pre = await precheckFiling({ ...deps, sources: deps.sources }, matter, {
        applicant: input.applicant,
        situation: g.situation.id,
        answers: memberAnswers(matter, answers),
        form: { disabledPerson: person, contactPhone: '00000000000' },
      });
      eligibility = pre.decision;
      // Rules on a source that a preselected dependency of this bundle publishes to are met by that dependency.
      const met = new Set(
        (entry.dependsOn ?? [])
          .filter((d) => preselected.has(d))
          .map((d) => def.members.find((x) => x.matter === d)?.publishesTo)
          .filter((s): s is string => s !== undefined),
      );
      const metRules = new Set(matter.def.rules.filter((r) => (r.requires ?? []).some((l) => met.has(matter.def.lookups.find((x) => x.id === l)?.source ?? ''))).map((r) => r.id));
      const blocking = pre.decision.reasons.filter((r) => !metRules.has(r.rule));
      if (pre.decision.outcome !== 'REJECT' || blocking.length === 0) preselected.add(matter.def.code);
    } else if (definite) {
      preselected.add(matter.def.code);
    }
    const sit = g?.situation ?? null;
    out.push({
      matter: matter.def.code,
      name: matter.def.name,
      department: matter.def.department.name,
      departmentCode: matter.def.department.code,
      level: entry.level,
      mode: entry.mode,
      dependsOn: entry.dependsOn ?? [],
      applies,
      preselected: preselected.has(matter.def.code),
      ...(eligibility ? { eligibility } : {}),
      situation: sit,
    });
  }

  const materials = new Map<string, BundleGuide['materials'][number]>();
  const fields = new Map<string, BundleGuide['fields'][number]>();
  for (const [code, g] of guides) {
    if (!out.find((m) => m.matter === code)?.applies) continue;
    for (const m of g.materials) {
      const have = materials.get(m.name);
      if (have) have.members.push(code);
      else materials.set(m.name, { ...m, members: [code] });
    }
    for (const f of g.fields) {
      const have = fields.get(f.label);
      if (have) have.members.push(code);
      else fields.set(f.label, { ...f, members: [code] });
    }
  }
  return {
    bundle: def.code,
    version: bundle.version,
    answers,
    answeredFromData,
    openQuestions: [...open.values()],
    members: out,
    materials: [...materials.values()],
    fields: [...fields.values()],
  };
}

/** A member may apply while the questions its `appliesWhen` names are unanswered. */
function mayApply(when: Record<string, string> | undefined, answers: Record<string, string>): boolean {
  return Object.entries(when ?? {}).every(([k, v]) => answers[k] === undefined || answers[k] === v);
}
