/**
 * The worker's job, in the order of DESIGN.md §2: load → situation → shared data → prefill → sealed e-form →
 * rules → decision → certificate → record. Idempotent: a second run of the same job finds the form and the
 * certificate already stored and yields the same single certificate.
 */
import type { Catalog } from '../catalog/load-catalog.js';
import type { DataSource } from '../data-sources/types.js';
import type { Party, Signer } from '../documents/types.js';
import { isValidIdNumber } from '../domain/identifiers.js';
import { PermanentFailure } from '../errors.js';
import { getPath } from '../domain/paths.js';
import type { ApplicationStatus, DecisionReceipt, Outcome } from '../domain/types.js';
import type { Store } from '../store/types.js';
import { evaluateRules, type Facts } from './evaluate-rules.js';
import { fetchLookups } from './fetch-lookups.js';
import { generateForm } from './generate-form.js';
import { chinaDay, issueCertificate } from './issue-certificate.js';
import { prefillFields, printable } from './prefill-fields.js';
import { resolveSituation } from './resolve-situation.js';

export interface PipelineDeps {
  store: Store;
  catalog: Catalog;
  sources: ReadonlyMap<string, DataSource>;
  sourceNames: ReadonlyMap<string, string>;
  enterpriseSigner(party: Party): Promise<Signer>;
  departmentSigner(code: string): Signer;
  publicUrl: string;
  clock: () => Date;
  newId: () => string;
}

// Defined in errors.ts so lower layers (documents/) can raise it too; re-exported for existing importers.
export { PermanentFailure };

export type ProcessResult =
  | { done: false; reason: 'missing-or-finished' }
  | { done: true; status: ApplicationStatus; outcome: Outcome; certificateId: string | null };

const STATUS: Record<Outcome, ApplicationStatus> = { APPROVE: 'approved', REJECT: 'rejected', MANUAL: 'manual_review' };

export function applicantKind(code: string): 'organisation' | 'person' {
  return /^\d{17}[\dXx]$/.test(code) && isValidIdNumber(code, '9999-12-31') ? 'person' : 'organisation';
}

export async function processApplication(deps: PipelineDeps, applicationId: string): Promise<ProcessResult> {
  const started = deps.clock();
  const app = await deps.store.applications.startProcessing(applicationId, started.toISOString());
  if (!app) return { done: false, reason: 'missing-or-finished' };

  const matter = deps.catalog.get(app.matter);
  if (!matter) throw new PermanentFailure(`matter ${app.matter} is not in the catalog`);
  const def = matter.def;
  const sit = resolveSituation(def, app.answers);
  if (!sit.ok) throw new PermanentFailure(`answers select no situation of ${def.code}`);

  const base: Record<string, unknown> = {
    applicant: { code: app.applicant, kind: applicantKind(app.applicant) },
    answers: app.answers,
    form: app.form,
  };
  const lookups = await fetchLookups(matter, base, deps.sources, {
    requester: app.applicant,
    applicationId: app.id,
    purpose: def.consent.purpose,
  });
  await deps.store.dataAccess.record(
    lookups.reads.map((r) => ({
      requester: app.applicant,
      applicationId: app.id,
      source: r.source,
      key: r.key,
      purpose: def.consent.purpose,
      status: r.status,
      responseHash: r.responseHash,
      at: r.fetchedAt,
    })),
  );

  const fields = prefillFields(matter, base, lookups.top);
  const withFields = { ...base, fields: Object.fromEntries(fields.map((f) => [f.id, f.prefilledFrom || !f.value.startsWith('—') ? f.value : undefined])) };
  const holderNameRaw = def.holderName ? getPath(withFields, def.holderName) : undefined;
  const holder: Party = {
    code: app.applicant,
    name: typeof holderNameRaw === 'string' && holderNameRaw !== '—' ? holderNameRaw : app.applicant,
  };

  // The sealed e-form is kept whatever the decision; a retried job keeps the first one.
  if (!(await deps.store.documents.get(app.id, 'form'))) {
    await deps.store.documents.put(await generateForm(deps, matter, app, sit.situation, fields, holder, deps.clock()));
  }

  const subjectKey = def.subjectKey.map((p) => printable(getPath(base, p))).join('|');
  const active = await deps.store.certificates.findValid(def.code, subjectKey);
  const facts: Facts = {
    ...lookups.top,
    applicant: base.applicant as Facts['applicant'],
    answers: app.answers,
    form: app.form,
    today: chinaDay(started),
    // The filing's own certificate (from an earlier run of this job) is not a competing filing.
    register: { activeFiling: active !== null && active.applicationId !== app.id },
    itemLookups: lookups.itemLookups,
  };
  const evaluation = await evaluateRules(matter, sit.situation.id, facts);

  let certificateId: string | null = null;
  if (evaluation.decision.outcome === 'APPROVE') {
    const cert = await issueCertificate(deps, matter, app, holder, subjectKey, withFields, fields, deps.clock());
    certificateId = cert.id;
  }

  const receipt: DecisionReceipt = {
    matter: def.code,
    rulesetVersion: matter.version,
    situation: sit.situation.id,
    evaluatedAt: started.toISOString(),
    facts,
    sources: lookups.reads.map(({ record: _record, ...rest }) => rest),
    rules: evaluation.rules,
    decision: evaluation.decision,
  };
  const status = STATUS[evaluation.decision.outcome];
  await deps.store.applications.complete(app.id, {
    status,
    decision: evaluation.decision,
    receipt,
    at: deps.clock().toISOString(),
  });
  return { done: true, status, outcome: evaluation.decision.outcome, certificateId };
}
