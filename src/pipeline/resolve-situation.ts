import { isAsked } from '../catalog/load-catalog.js';
import type { MatterDef, Question, Situation } from '../catalog/types.js';

export type SituationResult =
  | { ok: true; situation: Situation }
  /** Not enough answers: the questions still open. */
  | { ok: false; open: Question[] };

/** The one situation (情形) the answers select; the catalog loader guarantees uniqueness for complete answers. */
export function resolveSituation(def: Pick<MatterDef, 'situations' | 'questions'>, answers: Record<string, unknown>): SituationResult {
  const hits = def.situations.filter((s) => Object.entries(s.when).every(([q, v]) => answers[q] === v));
  if (hits.length === 1) return { ok: true, situation: hits[0]! };
  // Open questions: those some remaining candidate depends on and the applicant has not answered.
  const candidates = def.situations.filter((s) =>
    Object.entries(s.when).every(([q, v]) => answers[q] === undefined || answers[q] === v),
  );
  // A question whose askWhen is not met does not apply (e.g. 人防 only for an underground lot).
  const unanswered = def.questions.filter((q) => answers[q.id] === undefined && isAsked(q, answers));
  const open = unanswered.filter((q) => candidates.some((s) => q.id in s.when));
  return { ok: false, open: open.length > 0 ? open : unanswered };
}
