/**
 * Intake checks of a filing against its matter: answers select exactly one situation, the form matches the
 * matter's JSON Schema (identifiers by their check algorithms), consent is given, the applicant may file.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { MatterDef } from '../catalog/types.js';
import { AppError, fieldErrors, type FieldError } from '../errors.js';
import type { Consent } from '../domain/types.js';
import { applicantKind } from './process-application.js';
import { resolveSituation } from './resolve-situation.js';

export interface FilingBody {
  matter: string;
  answers: Record<string, unknown>;
  form: Record<string, unknown>;
  consent: Consent;
}

/** What intake checks a filing against: a matter of this node's catalog, or a peer's (都市圈通办, issue 16). */
export interface FilingMatter extends Pick<LoadedMatter, 'validateForm' | 'validateAnswers'> {
  def: Pick<MatterDef, 'consent' | 'applicantTypes' | 'questions' | 'situations'>;
}

/**
 * Throws AppError (4xx) naming every problem; returns the situation id when the filing may be accepted.
 * `standingConsent`: the applicant holds a data-sharing consent for this matter still in force (given with an
 * earlier filing, not revoked, not expired), so `consent.dataSharing: false` is not a refusal.
 */
export function validateFiling(matter: FilingMatter, body: FilingBody, applicant: string, standingConsent = false): string {
  const def = matter.def;
  const errors: FieldError[] = [];
  if (!matter.validateAnswers(body.answers)) errors.push(...fieldErrors(matter.validateAnswers.errors ?? [], '/answers'));
  if (!matter.validateForm(body.form)) errors.push(...fieldErrors(matter.validateForm.errors ?? [], '/form'));
  let situation: string | null = null;
  if (errors.length === 0) {
    const sit = resolveSituation(def, body.answers);
    if (sit.ok) situation = sit.situation.id;
    else for (const q of sit.open) errors.push({ path: `/answers/${q.id}`, message: `请回答：${q.text}（${q.options.join('/')}） Answer required` });
  }
  if (errors.length > 0) throw new AppError('REQUEST_VALIDATION', { errors });

  const missing: FieldError[] = [];
  if (def.consent.dataSharing && body.consent.dataSharing !== true && !standingConsent) {
    missing.push({
      path: '/consent/dataSharing',
      message: `须同意为「${def.consent.purpose}」查询共享数据（无有效授权：未曾授权、已撤回或已过期） Consent to data sharing is required: no consent in force`,
    });
  }
  if (def.consent.sealAuthorization && body.consent.sealAuthorization !== true) {
    missing.push({ path: '/consent/sealAuthorization', message: '须授权以本单位电子印章签章生成申请表 Seal authorisation is required' });
  }
  if (missing.length > 0) throw new AppError('CONSENT_REQUIRED', { errors: missing });

  if (!def.applicantTypes.includes(applicantKind(applicant))) throw new AppError('APPLICANT_NOT_ACCEPTED');
  return situation!;
}
