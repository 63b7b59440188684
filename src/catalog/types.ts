/**
 * A matter (事项) as authored in rules/matters/*.yaml, after loading. See rules/schema/matter.schema.json.
 */
import type { Outcome } from '../domain/types.js';

export type MaterialType = '政府核发' | '申请人自备' | '第三方出具';
export type Acquisition = '系统生成' | '证照共享' | '数据核验' | '材料复用' | '业务协同' | '告知承诺' | 'upload';

/** One case of {@link AnswerFrom}: `operator(getPath(lookupFact, path), value)` → `answer`. */
export interface AnswerCase {
  path: string;
  operator: string;
  value: unknown;
  answer: string;
}

/** How a data source answers a question for an authenticated applicant (guidance asks only what no source can). */
export interface AnswerFrom {
  /** A top-level lookup keyed from the applicant alone (loader-checked). */
  lookup: string;
  /** Only when these answers were given (e.g. the applicant files for themself). */
  when?: Record<string, string>;
  cases: AnswerCase[];
  /** Answer when the record was read and no case holds; absent = leave the question open. */
  otherwise?: string;
}

export interface Question {
  id: string;
  text: string;
  options: string[];
  /** Asked only when these earlier answers were given; otherwise the question does not apply. */
  askWhen?: Record<string, string>;
  answerFrom?: AnswerFrom;
  note?: string;
}

export interface Situation {
  id: string;
  name: string;
  /** Answers that select this situation; a question not listed may have any answer. */
  when: Record<string, string>;
  note?: string;
}

export interface Material {
  id: string;
  name: string;
  type: MaterialType;
  acquisition: Acquisition[];
  /** Lookup whose successful read exempts this material (免交). */
  lookup?: string;
  /** Text the applicant commits to under 告知承诺; printed on the filled form. */
  commitment?: string;
  note?: string;
  /** Situations that need it; absent = every situation. */
  situations?: string[];
}

export interface Lookup {
  id: string;
  source: string;
  /** Path into the facts (or into each item with forEach) giving the key. */
  key: string;
  forEach?: string;
  where?: Record<string, unknown>;
  /**
   * The record holds a list (e.g. a 建设单位's projects) and the filing is about one item of it: the item whose `by`
   * equals the value at `choice` (the applicant picks it from the list the guide shows), or, with no choice, the only
   * item `where` selects. Several items and no choice → UNKNOWN (which one is not known), never a guess.
   */
  select?: LookupSelect;
}

export interface LookupSelect {
  /** Path of the list inside the record, e.g. `record.projects`. */
  items: string;
  /** Property of an item that identifies it, e.g. `projectCode`. */
  by: string;
  /** Path of the applicant's choice (a `form.` path), read when they have several. */
  choice?: string;
  /** Items considered at all (exact matches), e.g. `{status: 在建}`. */
  where?: Record<string, unknown>;
  /** Property of an item shown beside its `by` value when guidance offers the choice, e.g. `projectName`. */
  label?: string;
}

export interface FieldDef {
  id: string;
  label: string;
  prefill?: { lookup: string; path: string };
  /**
   * With prefill: where the applicant's own value is, used only when the source cannot give one (down, or no
   * record). A `form.` path is an optional form property, so a source outage never blocks a filing; rules read the
   * filled form, and a rule that needs a value neither gave is UNKNOWN (→ MANUAL).
   */
  fallback?: string;
  from?: string;
  /** The material (材料) this field belongs to: the 材料 → 字段 level of the graph. */
  material?: string;
  format?: 'region' | 'list' | 'facilities' | 'members' | 'grade';
  /** Personal data: masked where the reader is not entitled to it. */
  personal?: boolean;
}

export interface Condition {
  fact: string;
  path?: string;
  operator: string;
  value: unknown;
}

export interface ConditionTree {
  all?: Array<Condition | ConditionTree>;
  any?: Array<Condition | ConditionTree>;
  not?: Condition | ConditionTree;
}

export interface RuleDef {
  id: string;
  message: string;
  basis: string;
  onFail: 'REJECT' | 'MANUAL';
  /** A FAIL means waiting for another department's result (业务协同): re-evaluated automatically while it waits. */
  awaits?: boolean;
  /** Lookups whose UNKNOWN makes this rule UNKNOWN. */
  requires?: string[];
  /** Only in these situations; absent = every situation. */
  situations?: string[];
  /** Evaluate once per item (facts `item` and `lookup`); PASS when every selected item passes. */
  forEach?: { items: string; where?: Record<string, unknown> };
  conditions: ConditionTree;
}

export interface OutputLine {
  label: string;
  from: string;
  format?: FieldDef['format'];
}

export interface TestCase {
  name: string;
  applicant: string;
  answers: Record<string, string>;
  form: Record<string, unknown>;
  /** Day the case is evaluated on (default: today in China); pins date rules against dated demo data. */
  today?: string;
  register?: { activeFiling: boolean };
  expect: { outcome: Outcome; failing: string[] };
}

/** A step the department takes on its own after the decision, e.g. 公租房 租赁补贴 (no second application). */
export interface FollowUp {
  id: string;
  name: string;
  after: 'APPROVE';
  /** Only when the answers are among these. */
  answers?: Record<string, string[]>;
  /** Config keys the step uses. */
  config?: string[];
  note: string;
  /** Days after the decision when the step runs: a number or `{config: key}`; absent = at once. */
  afterDays?: number | { config: string };
  /** Monthly amount the step grants (元): the product of numbers, config values and counts of form arrays. */
  monthlyAmount?: { multiply: Array<number | { config: string } | { count: string }> };
}

export type ConfigValue = number | string | boolean | unknown[];

/**
 * A department's official e-form (AcroForm PDF under rules/templates/) and what goes into each of its fields: a path
 * (`fields.<id>`, `form.<path>`, `answers.<id>`, `applicant.name|code`, `application.number|submittedOn|statements`,
 * `situation.name`) or `{from, format}`.
 */
export interface FormTemplateDef {
  file: string;
  fields: Record<string, string | { from: string; format?: FieldDef['format'] }>;
  /**
   * sha256 (hex) of the template file's bytes, set by the loader so that the matter's version covers the PDF too (a
   * stored version carries it; a definition that states it must match the file).
   */
  sha256?: string;
}

export interface MatterDef {
  code: string;
  name: string;
  kind: string;
  department: { name: string; code: string };
  legalBasis: string[];
  nationalCodes: Record<string, string>;
  autoApprove: boolean;
  applicantTypes: Array<'organisation' | 'person'>;
  consent: { dataSharing: boolean; sealAuthorization: boolean; purpose: string };
  questions: Question[];
  situations: Situation[];
  materials: Material[];
  lookups: Lookup[];
  form: Record<string, unknown>;
  fields: FieldDef[];
  rules: RuleDef[];
  /** Thresholds and tunables; conditions refer to them as `{ config: key }`. */
  config?: Record<string, ConfigValue>;
  followUps?: FollowUp[];
  /** Path of the holder's name (`fields.<id>` or a fact path); defaults to the applicant code. */
  holderName?: string;
  subjectKey: string[];
  output: {
    form: { title: string; template?: FormTemplateDef };
    certificate: {
      title: string;
      numberPrefix: string;
      licenseTypeCode: string;
      /** Validity in days from issue, or `{years: N}` calendar years (to the day before the same date N years on); null = 长期. */
      validity: number | { years: number } | null;
      lines: OutputLine[];
      note?: string;
    };
  };
  tests: TestCase[];
}

export interface DataSourceInfo {
  id: string;
  name: string;
  owner: string;
}
