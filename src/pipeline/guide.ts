/**
 * 办事指南 / 预检: answers an applicant's first question — "what exactly do I need to provide?" — and, with a form,
 * runs the filing's decision as a dry run. Nothing is stored except the audit of data-source reads (DESIGN.md §4:
 * every read is logged, with applicationId null and a 指南/预检 purpose).
 */
import { isAsked, type LoadedMatter } from '../catalog/load-catalog.js';
import type { FollowUp, Lookup, MatterDef, Question } from '../catalog/types.js';
import type { DataSource } from '../data-sources/types.js';
import { applyOperator } from '../domain/operators.js';
import { getPath } from '../domain/paths.js';
import type { Decision, RuleEvaluation, SourceRead } from '../domain/types.js';
import type { Store } from '../store/types.js';
import { fieldOrigin, type FieldOrigin } from '../catalog/once-only-figures.js';
import { evaluateRules, type Facts, type LookupFact } from './evaluate-rules.js';
import { fillForm } from './fill-form.js';
import { fetchLookups } from './fetch-lookups.js';
import { chinaDay } from './issue-certificate.js';
import { prefillFields, printable, type FieldValue } from './prefill-fields.js';
import { applicantKind } from './process-application.js';
import { archivedFor, planMaterials, type MaterialPlan } from './resolve-materials.js';
import { auditEntries } from './once-only.js';
import { AppError } from '../errors.js';
import { resolveSituation } from './resolve-situation.js';

export interface GuideDeps {
  sources?: ReadonlyMap<string, DataSource>;
  sourceNames?: ReadonlyMap<string, string>;
  store: Pick<Store, 'dataAccess' | 'certificates'> & Partial<Pick<Store, 'consents' | 'archive'>>;
  clock: () => Date;
}

export interface GuideField {
  id: string;
  label: string;
  material: string | null;
  /** 免填: filled from this source (name in sourceName) rather than typed. */
  prefill: { source: string; sourceName: string } | null;
  /**
   * Where the value comes from: a data source, the signed-in identity, an answer given in this guide, or typed.
   * Only `typed` fields are filled in by the applicant (`typed: true`); the catalog figures count the same way.
   */
  origin: FieldOrigin;
  typed: boolean;
  /**
   * A pre-filled field the applicant may fill in at `path` (e.g. `form.buildings`) only when its source cannot
   * give the value: the filing is never blocked by a source that is down.
   */
  fallback?: { path: string };
  /**
   * For an authenticated applicant: `prefilled` — the source gave the value now; `at-filing` — it is read when the
   * filing comes in (its key comes from the form); `unavailable` — the source cannot give it now (down, no record,
   * or several records to choose from): fill in `fallback.path`, or choose. `note` says which.
   */
  status?: 'prefilled' | 'at-filing' | 'unavailable';
  note?: string;
  /** The pre-filled value, for an authenticated applicant and non-personal fields only. */
  value?: string;
}

/** A record listing several items, one of which the filing is about: put the chosen `value` at `path`. */
export interface GuideChoice {
  lookup: string;
  source: string;
  path: string;
  options: Array<{ value: string; label: string }>;
}

export interface GuideResult {
  matter: string;
  version: string;
  situation: { id: string; name: string } | null;
  answers: Record<string, string>;
  /** Questions a data source answered for this applicant. */
  answeredFromData: Array<{ question: string; answer: string; source: string }>;
  openQuestions: Array<Pick<Question, 'id' | 'text' | 'options'>>;
  materials: Array<MaterialPlan & { sourceName?: string }>;
  fields: GuideField[];
  /** The fields above counted: 免填 (not typed) and typed, as `npm run rules -- stats` counts them. */
  fieldSummary: { total: number; prefilled: number; typed: number; fromDataSources: number };
  /** Choices the applicant has to make among their own records (e.g. which project) before the rest is known. */
  choices: GuideChoice[];
  followUps: FollowUp[];
  /**
   * The applicant's data-sharing consent for this matter: `revoked` means guidance read nothing (the applicant
   * withdrew it; a filing with consent.dataSharing true grants a new one). Absent without an applicant.
   */
  consent?: { status: 'active' | 'none' | 'revoked' | 'expired'; id: string | null };
}

/** The state of the applicant's consent for a matter; guidance and pre-check read unless it was revoked. */
export async function consentState(store: GuideDeps['store'], applicant: string, matter: string, at: Date): Promise<NonNullable<GuideResult['consent']>> {
  if (!store.consents) return { status: 'none', id: null };
  const latest = await store.consents.latest(applicant, matter);
  if (!latest) return { status: 'none', id: null };
  if (latest.endedReason === 'revoked') return { status: 'revoked', id: latest.id };
  if (latest.endedAt !== null || latest.expiresAt <= at.toISOString()) return { status: 'expired', id: latest.id };
  return { status: 'active', id: latest.id };
}

const lookupRootOf = (def: MatterDef, l: Lookup): string => {
  let cur: Lookup | undefined = l;
  const seen = new Set<string>();
  while (cur && !seen.has(cur.id)) {
    seen.add(cur.id);
    const root: string = cur.key.split('.')[0]!;
    const next = def.lookups.find((x) => x.id === root && !x.forEach);
    if (!next) return root;
    cur = next;
  }
  return '';
};

async function audit(deps: GuideDeps, requester: string, purpose: string, reads: SourceRead[], matter: string, consentId: string | null): Promise<void> {
  if (reads.length === 0) return;
  await deps.store.dataAccess.record(auditEntries(reads, { requester, applicationId: null, purpose, matter, consentId }));
}

function answerFromData(q: Question, answers: Record<string, string>, top: Record<string, LookupFact>): string | null {
  const af = q.answerFrom;
  if (!af || !Object.entries(af.when ?? {}).every(([k, v]) => answers[k] === v)) return null;
  const fact = top[af.lookup];
  if (!fact || fact.status !== 'found') return null;
  const hit = af.cases.find((c) => applyOperator(c.operator, getPath(fact, c.path), c.value));
  return hit?.answer ?? af.otherwise ?? null;
}

/**
 * The situation (or the questions still open), each material with how it is obtained for this applicant, the
 * fields with which are pre-filled. With an `applicant`, the sources keyed from the applicant alone are read
 * (audited) to answer questions and to confirm exemptions.
 */
export async function guideMatter(deps: GuideDeps, matter: LoadedMatter, input: { answers: Record<string, string>; applicant: string | null }): Promise<GuideResult> {
  const def = matter.def;
  const answers = { ...input.answers };
  let top: Record<string, LookupFact> = {};
  const consent = input.applicant ? await consentState(deps.store, input.applicant, def.code, deps.clock()) : undefined;
  // Read at the applicant's own request to show them their own records — unless they withdrew their consent.
  if (input.applicant && deps.sources && consent?.status !== 'revoked') {
    const base = { applicant: { code: input.applicant, kind: applicantKind(input.applicant) } };
    const purpose = `${def.consent.purpose}（办事指南）`;
    const res = await fetchLookups(matter, base, deps.sources, { requester: input.applicant, applicationId: null, purpose }, (l) => !l.forEach && lookupRootOf(def, l) === 'applicant');
    await audit(deps, input.applicant, purpose, res.reads, def.code, consent?.status === 'active' ? consent.id : null);
    top = res.top;
  }
  const archive = input.applicant && deps.store.archive ? archivedFor(def, await deps.store.archive.list(input.applicant), chinaDay(deps.clock())) : undefined;
  const answeredFromData: GuideResult['answeredFromData'] = [];
  for (const q of def.questions) {
    if (answers[q.id] !== undefined || !isAsked(q, answers)) continue;
    const a = answerFromData(q, answers, top);
    if (a !== null) {
      answers[q.id] = a;
      answeredFromData.push({ question: q.id, answer: a, source: def.lookups.find((l) => l.id === q.answerFrom!.lookup)!.source });
    }
  }
  const sit = resolveSituation(def, answers);
  const sourceName = (id: string) => deps.sourceNames?.get(id) ?? id;
  const result: GuideResult = {
    matter: def.code,
    version: matter.version,
    situation: null,
    answers,
    answeredFromData,
    openQuestions: [],
    materials: [],
    fields: [],
    fieldSummary: { total: 0, prefilled: 0, typed: 0, fromDataSources: 0 },
    choices: [],
    followUps: (def.followUps ?? []).filter((f) => Object.entries(f.answers ?? {}).every(([k, vs]) => answers[k] === undefined || vs.includes(answers[k]))),
    ...(consent ? { consent } : {}),
  };
  if (!sit.ok) {
    result.openQuestions = sit.open.map(({ id, text, options }) => ({ id, text, options }));
    return result;
  }
  result.situation = { id: sit.situation.id, name: sit.situation.name };
  result.materials = planMaterials(def, sit.situation.id, { lookups: top, ...(archive ? { archive } : {}) }).map((m) => {
    const withNote = m.archiveId ? { ...m, note: m.status === 'reused' ? `将复用您档案中的材料，无需再次提交${m.validUntil ? `（有效期至 ${m.validUntil}）` : ''}` : '您档案中已有此材料，无需再次上传（仍需人工核验）' } : m;
    return m.source ? { ...withNote, sourceName: sourceName(m.source) } : withNote;
  });
  const needed = new Set(result.materials.map((m) => m.id));
  const values = input.applicant ? prefillFields(matter, { applicant: { code: input.applicant }, answers }, top) : [];
  result.fields = def.fields
    .filter((f) => !f.material || needed.has(f.material))
    .map((f): GuideField => {
      const lookup = f.prefill ? def.lookups.find((l) => l.id === f.prefill!.lookup) : undefined;
      const origin = fieldOrigin(def, f);
      const v = values.find((x) => x.id === f.id);
      // Without an applicant nothing was read; with one, only the lookups keyed from the applicant alone were.
      const status = !input.applicant || !lookup ? undefined : v?.prefilledFrom ? 'prefilled' : top[lookup.id] ? 'unavailable' : 'at-filing';
      return {
        id: f.id,
        label: f.label,
        material: f.material ?? null,
        prefill: lookup ? { source: lookup.source, sourceName: sourceName(lookup.source) } : null,
        origin,
        typed: origin === 'typed',
        ...(f.fallback ? { fallback: { path: f.fallback } } : {}),
        ...(status ? { status } : {}),
        ...(status === 'unavailable' && v?.fallback ? { note: v.fallback.note } : {}),
        ...(v?.prefilledFrom && !f.personal ? { value: v.value } : {}),
      };
    });
  const typed = result.fields.filter((f) => f.typed).length;
  result.fieldSummary = {
    total: result.fields.length,
    prefilled: result.fields.length - typed,
    typed,
    fromDataSources: result.fields.filter((f) => f.origin === 'data-source').length,
  };
  result.choices = def.lookups.flatMap((l) => {
    const fact = top[l.id];
    if (!l.select?.choice || !fact?.candidates) return [];
    const { by, label } = l.select;
    const options = fact.candidates.map((c) => ({ value: printable(getPath(c, by)), label: label ? printable(getPath(c, label)) : printable(getPath(c, by)) }));
    return [{ lookup: l.id, source: l.source, path: l.select.choice, options }];
  });
  return result;
}

export interface PrecheckResult {
  matter: string;
  version: string;
  situation: { id: string; name: string };
  decision: Decision;
  rules: RuleEvaluation[];
  materials: MaterialPlan[];
  /** The filled form as it would be printed: pre-filled values carry their source. */
  form: FieldValue[];
  sources: Array<Omit<SourceRead, 'record'>>;
}

/**
 * The decision a filing would get now, with reasons and the pre-filled form; the situation must already be
 * resolved (intake validation). No application, form or certificate is stored.
 */
export async function precheckFiling(
  deps: GuideDeps & { sources: ReadonlyMap<string, DataSource> },
  matter: LoadedMatter,
  input: { applicant: string; situation: string; answers: Record<string, unknown>; form: Record<string, unknown>; dataSharing?: boolean },
): Promise<PrecheckResult> {
  const def = matter.def;
  const now = deps.clock();
  const purpose = `${def.consent.purpose}（预检）`;
  const consent = await consentState(deps.store, input.applicant, def.code, now);
  // A withdrawn consent is honoured here too, unless this request gives it (consent.dataSharing: true).
  if (consent.status === 'revoked' && !input.dataSharing) {
    throw new AppError('CONSENT_REQUIRED', { errors: [{ path: '/consent/dataSharing', message: '您已撤回本事项的数据共享授权，预检须重新同意 Data-sharing consent was revoked: send consent.dataSharing true' }] });
  }
  const typedBase = { applicant: { code: input.applicant, kind: applicantKind(input.applicant) }, answers: input.answers, form: input.form };
  const lookups = await fetchLookups(matter, typedBase, deps.sources, { requester: input.applicant, applicationId: null, purpose });
  // As the worker does: the rules, the subject key and the printed form use the filled form (免填).
  const base = { ...typedBase, form: fillForm(def, input.form, lookups.top) };
  await audit(deps, input.applicant, purpose, lookups.reads, def.code, consent.status === 'active' ? consent.id : null);
  const archive = deps.store.archive ? archivedFor(def, await deps.store.archive.list(input.applicant), chinaDay(now)) : undefined;
  const subjectKey = def.subjectKey.map((p) => printable(getPath(base, p))).join('|');
  const active = await deps.store.certificates.findValid(def.code, subjectKey);
  const facts: Facts = { ...lookups.top, ...base, today: chinaDay(now), register: { activeFiling: active !== null }, itemLookups: lookups.itemLookups };
  const evaluation = await evaluateRules(matter, input.situation, facts, archive ? { archive } : {});
  const situation = def.situations.find((s) => s.id === input.situation)!;
  return {
    matter: def.code,
    version: matter.version,
    situation: { id: situation.id, name: situation.name },
    decision: evaluation.decision,
    rules: evaluation.rules,
    materials: planMaterials(def, situation.id, { lookups: lookups.top, ...(archive ? { archive } : {}) }),
    form: prefillFields(matter, base, lookups.top),
    sources: lookups.reads.map(({ record: _r, ...rest }) => rest),
  };
}
