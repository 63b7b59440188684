/**
 * The worker's job, in the order of DESIGN.md §2: load → situation → shared data → prefill → sealed e-form →
 * rules → decision → certificate → record. Idempotent: a second run of the same job finds the form and the
 * certificate already stored and yields the same single certificate.
 */
import type { Catalog } from '../catalog/load-catalog.js';
import type { DataSource } from '../data-sources/types.js';
import type { ESealPlatform, SealLookup } from '../signing/eseal/contract.js';
import type { DevelopmentAuthority } from '../signing/eseal/development-authority.js';
import { ESealSignError } from '../signing/eseal/seal-signer.js';
import type { Signer } from '../signing/types.js';
import { isValidIdNumber } from '../domain/identifiers.js';
import { PermanentFailure } from '../errors.js';
import type { ApplicationStatus, DecisionReceipt, Outcome, RuleEvaluation } from '../domain/types.js';
import type { DataAccessEntry, ESealSignEntry, Store, StoredDocument } from '../store/types.js';
import { applicantSeal, sealSignFailed } from './applicant-seal.js';
import { decide, evaluateRules, type Facts } from './evaluate-rules.js';
import { fetchLookups } from './fetch-lookups.js';
import type { FormTemplates } from '../catalog/form-templates.js';
import { generateForm } from './generate-form.js';
import { chinaDay, makeCertificate, type IssueDeps, type MadeCertificate } from './issue-certificate.js';
import { certificateInputs } from './certificate-inputs.js';
import { plannedFollowUps } from './follow-ups.js';
import { resolveSituation } from './resolve-situation.js';
import { archiveFor, auditEntries, consentEvaluations, fieldProvenance, freshnessEvaluations, readPermission, recordFigures } from './once-only.js';
import { planMaterials } from './resolve-materials.js';

export interface PipelineDeps {
  store: Store;
  catalog: Catalog;
  sources: ReadonlyMap<string, DataSource>;
  sourceNames: ReadonlyMap<string, string>;
  /** Departments' official e-form templates (rules/templates/), for matters that name one. */
  templates?: FormTemplates;
  /** The e-seal platform (ESEAL_URL) or the in-process development authority: the applicant's seal. */
  eseal: ESealPlatform | DevelopmentAuthority;
  departmentSigner(code: string): Signer;
  publicUrl: string;
  clock: () => Date;
  newId: () => string;
  /** Cache TTL (s) by source id from the registry: an answer older than that never decides an approval. */
  sourceTtls?: ReadonlyMap<string, number | undefined>;
  /** After a new certificate (issue 15: the OFD of `gm` departments). */
  onIssued?: IssueDeps['onIssued'];
  /** Where unsigned PDFs are laid out: render threads in a worker process (RENDER_THREADS), else this thread. */
  renderer?: IssueDeps['renderer'];
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
  const unrecorded: Unrecorded = { reads: null };
  try {
    return await processOnce(deps, applicationId, unrecorded);
  } catch (err) {
    // The reads are audited in the decision's transaction; a job that fails before it commits records them on its
    // way out (the retry reads again and is audited again, as every read is). Only a killed process loses them,
    // and with them the data, which went nowhere.
    if (unrecorded.reads) await deps.store.dataAccess.record(unrecorded.reads).catch(() => undefined);
    throw err;
  }
}

interface Unrecorded {
  reads: DataAccessEntry[] | null;
}

async function processOnce(deps: PipelineDeps, applicationId: string, unrecorded: Unrecorded): Promise<ProcessResult> {
  const started = deps.clock();
  const app = await deps.store.applications.startProcessing(applicationId, started.toISOString());
  if (!app) return { done: false, reason: 'missing-or-finished' };

  const matter = deps.catalog.get(app.matter);
  if (!matter) throw new PermanentFailure(`matter ${app.matter} is not in the catalog`);
  const def = matter.def;
  const sit = resolveSituation(def, app.answers);
  if (!sit.ok) throw new PermanentFailure(`answers select no situation of ${def.code}`);

  const base = {
    applicant: { code: app.applicant, kind: applicantKind(app.applicant) },
    answers: app.answers,
    form: app.form,
  };
  // No read without the consent in force now (a revoked one stops the reads of a queued filing too).
  const permission = await readPermission(deps.store, matter, app, started);
  // A retried or reopened filing keeps the e-form it has. Otherwise the applicant's seal is asked for while the data
  // sources are read (the form is only signed after prefill).
  const formStored = (await deps.store.documents.get(app.id, 'form')) !== null;
  const sealLookup: Promise<SealLookup> | null = formStored
    ? null
    : deps.eseal.lookup(app.applicant).catch((err: unknown) => ({ kind: 'unavailable', error: String(err) }) as const);
  const lookups = await fetchLookups(
    matter,
    base,
    deps.sources,
    { requester: app.applicant, applicationId: app.id, purpose: def.consent.purpose },
    permission.allowed ? { allowed: permission.allowed } : {},
  );
  const accessLog = auditEntries(lookups.reads, { requester: app.applicant, applicationId: app.id, purpose: def.consent.purpose, matter: def.code, consentId: permission.consent?.id ?? null });
  unrecorded.reads = accessLog;

  const { fields, withFields, holder, subjectKey } = certificateInputs(matter, base, lookups.top);

  // 材料: 免交 by data, 复用 from the applicant's archive (valid on the filing day), 承诺, or upload.
  const archive = await archiveFor(deps.store, matter, app.applicant, chinaDay(started));
  const plans = planMaterials(def, sit.situation.id, { lookups: lookups.top, archive });

  // The sealed e-form is kept whatever the decision; a retried job keeps the first one. Without a usable seal the
  // filing goes to manual review with the reason, and no unsigned form is passed off as the applicant's.
  const sealEvaluations: RuleEvaluation[] = [];
  const signLog: ESealSignEntry[] = [];
  let form: StoredDocument | null = null;
  if (sealLookup) {
    const seal = await applicantSeal(
      deps,
      await sealLookup,
      holder,
      base.applicant.kind,
      { applicationId: app.id, purpose: `${def.name}申请表签章` },
      chinaDay(started),
      (e) => signLog.push(e),
    );
    if (!seal.ok) sealEvaluations.push(seal.evaluation);
    else {
      try {
        form = await generateForm(deps, matter, app, sit.situation, fields, holder, deps.clock(), plans, seal.signer, base.applicant.kind);
      } catch (err) {
        if (!(err instanceof ESealSignError)) throw err;
        sealEvaluations.push(sealSignFailed(err));
      }
    }
  }

  const active = await deps.store.certificates.findValid(def.code, subjectKey);
  const facts: Facts = {
    ...lookups.top,
    applicant: base.applicant,
    answers: app.answers,
    form: app.form,
    today: chinaDay(started),
    // The filing's own certificate (from an earlier run of this job) is not a competing filing.
    register: { activeFiling: active !== null && active.applicationId !== app.id },
    itemLookups: lookups.itemLookups,
  };
  const evaluated = await evaluateRules(matter, sit.situation.id, facts, { archive });
  const extra = [...consentEvaluations(permission, lookups.withheld), ...freshnessEvaluations(lookups.reads, deps.sourceTtls, started), ...sealEvaluations];
  let evaluation =
    extra.length === 0 ? evaluated : { rules: [...evaluated.rules, ...extra], decision: decide([...evaluated.rules, ...extra], def.autoApprove) };

  let made: MadeCertificate | null = null;
  if (evaluation.decision.outcome === 'APPROVE') {
    try {
      made = await makeCertificate(deps, matter, app, holder, subjectKey, withFields, fields, deps.clock());
    } catch (err) {
      // Approved, but the certificate cannot be laid out on its page (e.g. very many long facility lines): a person
      // issues it, rather than the filing failing.
      if (!(err instanceof PermanentFailure) || err.code !== 'CERTIFICATE_TOO_LONG') throw err;
      const layout = { id: 'certificate-layout', result: 'UNKNOWN' as const, onFail: 'MANUAL' as const, basis: '证照版式',
        message: '审核通过，但证照内容超出版面，转人工出证 Approved, but the certificate content does not fit its page; a person will issue it' };
      const rules = [...evaluation.rules, layout];
      evaluation = { rules, decision: decide(rules, def.autoApprove) };
    }
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
    provenance: fieldProvenance(matter, fields, lookups),
    materials: plans.map((p) => ({
      id: p.id,
      how: p.how,
      status: p.status,
      ...(p.archiveId ? { archiveId: p.archiveId, sha256: archive.get(p.id)?.sha256 ?? '' } : {}),
      ...(p.status === 'commitment' && p.commitment ? { commitment: p.commitment } : {}),
    })),
    consentId: permission.consent?.id ?? null,
    ...(def.output.form.template?.sha256 ? { formTemplate: { file: def.output.form.template.file, sha256: def.output.form.template.sha256 } } : {}),
  };
  const status = STATUS[evaluation.decision.outcome];
  const decidedAt = deps.clock();
  // Everything the filing produced commits together, in one transaction: the audit of its reads, the sealed form
  // and the audit of its signing, the certificate, the figures, the follow-ups and the decision. A crash before the
  // commit leaves the filing `processing` with nothing half-written, and the retried job does it all again.
  const cert = await deps.store.transaction(async (tx) => {
    await tx.dataAccess.record(accessLog);
    if (form) await tx.documents.put(form);
    await tx.eseals.recordSigns(signLog);
    const row = made ? await tx.certificates.insert(made.row) : null;
    await recordFigures(tx, matter, app, plans, fields, evaluation.decision, decidedAt);
    if (evaluation.decision.outcome === 'APPROVE') await tx.followUps.schedule(plannedFollowUps(matter, app, decidedAt));
    await tx.applications.complete(app.id, { status, decision: evaluation.decision, receipt, at: decidedAt.toISOString() });
    return row;
  });
  unrecorded.reads = null;
  // Issue 15: a `gm` department's OFD, made once the certificate is recorded (a request makes it if this fails).
  if (cert && made && deps.onIssued && cert.id === made.row.id) await deps.onIssued(cert, made.content);
  return { done: true, status, outcome: evaluation.decision.outcome, certificateId: cert?.id ?? null };
}
