/**
 * Intake checks of a 一件事 filing (DESIGN.md §10): the shared answers and the one form against the bundle's schema and
 * against every member it applies to, the members asked for, one consent. Throws AppError (4xx) naming every problem
 * with its path; returns the members of the application in the bundle's order.
 */
import type { Catalog } from '../catalog/load-catalog.js';
import { AppError, fieldErrors, type FieldError } from '../errors.js';
import type { Consent } from '../domain/types.js';
import { applicantKind } from '../pipeline/process-application.js';
import { resolveSituation } from '../pipeline/resolve-situation.js';
import { memberAnswers, memberApplies, type LoadedBundle } from './load-bundles.js';

export interface BundleFilingBody {
  bundle: string;
  answers: Record<string, unknown>;
  form: Record<string, unknown>;
  consent: Consent;
  /** Member matter codes asked for (依申请); proactive members (免申即享) are decided whenever they apply. */
  members?: string[];
}

export function validateBundleFiling(bundle: LoadedBundle, catalog: Pick<Catalog, 'get'>, body: BundleFilingBody, applicant: string): string[] {
  const def = bundle.def;
  const errors: FieldError[] = [];
  if (!bundle.validateAnswers(body.answers)) errors.push(...fieldErrors(bundle.validateAnswers.errors ?? [], '/answers'));
  if (!bundle.validateForm(body.form)) errors.push(...fieldErrors(bundle.validateForm.errors ?? [], '/form'));
  const answers = body.answers as Record<string, string>;
  const codes = def.members.map((m) => m.matter);
  body.members?.forEach((code, i) => {
    const m = def.members.find((x) => x.matter === code);
    if (!m) errors.push({ path: `/members/${i}`, message: `「${code}」不是本“一件事”的服务，可选：${codes.join('、')} Not a member of this bundle` });
    else if (errors.length === 0 && !memberApplies(m, answers)) {
      errors.push({ path: `/members/${i}`, message: `「${catalog.get(code)?.def.name ?? code}」不适用于当前情形（${Object.entries(m.appliesWhen ?? {}).map(([k, v]) => `${k}=${v}`).join('，')}） Does not apply to these answers` });
    }
  });
  if (errors.length > 0) throw new AppError('REQUEST_VALIDATION', { errors });

  const selected = def.members.filter((m) => memberApplies(m, answers) && (m.mode === 'proactive' || body.members === undefined || body.members.includes(m.matter)));
  if (selected.length === 0) throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/members', message: '请至少选择一项适用的服务 Ask for at least one member that applies' }] });

  const seen = new Set<string>();
  const add = (list: FieldError[]) => {
    for (const e of list) {
      const k = `${e.path}\u0000${e.message}`;
      if (!seen.has(k)) errors.push(e);
      seen.add(k);
    }
  };
  for (const m of selected) {
    const matter = catalog.get(m.matter);
    if (!matter) throw new AppError('SERVICE_UNAVAILABLE');
    if (!matter.validateForm(body.form)) add(fieldErrors(matter.validateForm.errors ?? [], '/form'));
    const sit = resolveSituation(matter.def, memberAnswers(matter, answers));
    if (!sit.ok) add(sit.open.map((q) => ({ path: `/answers/${q.id}`, message: `请回答：${q.text}（${q.options.join('/')}） Answer required` })));
  }
  if (errors.length > 0) throw new AppError('REQUEST_VALIDATION', { errors });

  const missing: FieldError[] = [];
  if (body.consent.dataSharing !== true) {
    missing.push({ path: '/consent/dataSharing', message: `须同意为「${def.consent.purpose}」查询各部门共享数据 Consent to data sharing is required` });
  }
  if (body.consent.sealAuthorization !== true) missing.push({ path: '/consent/sealAuthorization', message: '须授权以电子签名签署联办申请表 Seal authorisation is required' });
  if (missing.length > 0) throw new AppError('CONSENT_REQUIRED', { errors: missing });
  if (!def.applicantTypes.includes(applicantKind(applicant))) throw new AppError('APPLICANT_NOT_ACCEPTED');
  return selected.map((m) => m.matter);
}
