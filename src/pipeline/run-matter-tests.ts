/**
 * Rules as code: runs a matter's `tests:` cases through the same steps as a filing (situation → data sources →
 * rules → decision) against the given sources — the fixture backend over rules/demo-data in `npm test` and
 * `npm run rules -- test`. Nothing is stored.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { TestCase } from '../catalog/types.js';
import type { DataSource } from '../data-sources/types.js';
import type { Outcome, RuleEvaluation } from '../domain/types.js';
import { evaluateRules, type Facts } from './evaluate-rules.js';
import { fetchLookups } from './fetch-lookups.js';
import { chinaDay } from './issue-certificate.js';
import { applicantKind } from './process-application.js';
import { resolveSituation } from './resolve-situation.js';

export interface MatterTestResult {
  matter: string;
  index: number;
  name: string;
  ok: boolean;
  situation: string | null;
  outcome: Outcome | null;
  /** Rules that did not PASS (FAIL or UNKNOWN), sorted. Material reasons (`material:…`) are not rules. */
  failing: string[];
  rules: RuleEvaluation[];
  /** Why the case failed, in words. */
  problems: string[];
}

const sorted = (xs: readonly string[]) => [...xs].sort();

export async function runMatterTest(
  matter: LoadedMatter,
  t: TestCase,
  index: number,
  sources: ReadonlyMap<string, DataSource>,
  now: Date = new Date(),
): Promise<MatterTestResult> {
  const base = { matter: matter.def.code, index, name: t.name };
  const sit = resolveSituation(matter.def, t.answers);
  if (!sit.ok) {
    return { ...base, ok: false, situation: null, outcome: null, failing: [], rules: [], problems: [`answers select no situation (open: ${sit.open.map((q) => q.id).join(', ')})`] };
  }
  const facts0 = { applicant: { code: t.applicant, kind: applicantKind(t.applicant) }, answers: t.answers, form: t.form };
  const lookups = await fetchLookups(matter, facts0, sources, { requester: t.applicant, applicationId: null, purpose: `规则测试 ${matter.def.code}` });
  const facts: Facts = {
    ...lookups.top,
    ...facts0,
    today: t.today ?? chinaDay(now),
    register: t.register ?? { activeFiling: false },
    itemLookups: lookups.itemLookups,
  };
  const evaluation = await evaluateRules(matter, sit.situation.id, facts);
  const failing = sorted(evaluation.rules.filter((r) => r.result !== 'PASS' && !r.id.startsWith('material:')).map((r) => r.id));
  const problems: string[] = [];
  if (evaluation.decision.outcome !== t.expect.outcome) problems.push(`outcome ${evaluation.decision.outcome}, expected ${t.expect.outcome}`);
  if (failing.join(',') !== sorted(t.expect.failing).join(',')) problems.push(`failing [${failing.join(', ')}], expected [${sorted(t.expect.failing).join(', ')}]`);
  return { ...base, ok: problems.length === 0, situation: sit.situation.id, outcome: evaluation.decision.outcome, failing, rules: evaluation.rules, problems };
}

export async function runMatterTests(matter: LoadedMatter, sources: ReadonlyMap<string, DataSource>, now?: Date): Promise<MatterTestResult[]> {
  const out: MatterTestResult[] = [];
  for (const [i, t] of matter.def.tests.entries()) out.push(await runMatterTest(matter, t, i, sources, now));
  return out;
}

/** Each rule with the test cases in which it PASSed and FAILed: every rule needs at least one of each. */
export function ruleCoverage(matter: LoadedMatter, results: MatterTestResult[]): Array<{ rule: string; pass: number; fail: number }> {
  return matter.def.rules.map((r) => {
    const seen = results.map((res) => res.rules.find((e) => e.id === r.id)?.result);
    return { rule: r.id, pass: seen.filter((x) => x === 'PASS').length, fail: seen.filter((x) => x === 'FAIL').length };
  });
}
