/**
 * The bundle's two documents: the one e-form (sealed once, through the pipeline's own `generateForm`, so a change in
 * how forms are sealed reaches bundles too) and the signed result notice (一次告知) listing every member's outcome.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, type Catalog, type LoadedMatter } from '../catalog/load-catalog.js';
import type { FieldDef, Lookup, MatterDef } from '../catalog/types.js';
import type { DataSource } from '../data-sources/types.js';
import { renderNotice } from '../documents/pdf/notice-pdf.js';
import type { Party } from '../documents/types.js';
import { printable } from '../pipeline/prefill-fields.js';
import { fetchLookups } from '../pipeline/fetch-lookups.js';
import { generateForm, type FormDeps } from '../pipeline/generate-form.js';
import { chinaDay } from '../pipeline/issue-certificate.js';
import { auditEntries } from '../pipeline/once-only.js';
import { prefillFields } from '../pipeline/prefill-fields.js';
import { applicantKind } from '../pipeline/process-application.js';
import { signPdf } from '../signing/sign-pdf.js';
import type { Signer, Timestamper } from '../signing/types.js';
import type { ApplicationRow, BundleApplicationRow, BundleDocument, ESealSignEntry, Store } from '../store/types.js';
import { applicantSeal, type SealDeps } from '../pipeline/applicant-seal.js';
import { ESealSignError } from '../signing/eseal/seal-signer.js';
import type { LoadedBundle } from './load-bundles.js';
import { memberAnswers } from './load-bundles.js';
import type { MemberPlan } from './plan.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * The bundle as a matter for `generateForm`: the members' lookups (one read per source and key) and fields (one row
 * per label), the bundle's name, owner, purpose and form title. It is never evaluated, so it has no rules.
 */
export function bundleFormMatter(bundle: LoadedBundle, members: LoadedMatter[]): LoadedMatter {
  const lookups: Lookup[] = [];
  const fields: FieldDef[] = [];
  const labels = new Set<string>();
  for (const m of members) {
    const renamed = new Map<string, string>();
    for (const l of m.def.lookups.filter((x) => !x.forEach)) {
      // Keys from another lookup would need that one renamed too; bundle members key from the form and applicant.
      if (!/^(form|applicant|answers)\./.test(l.key)) continue;
      const same = lookups.find((x) => x.source === l.source && x.key === l.key);
      const id = same?.id ?? `l${lookups.length}`;
      if (!same) lookups.push({ id, source: l.source, key: l.key });
      renamed.set(l.id, id);
    }
    for (const f of m.def.fields) {
      if (labels.has(f.label)) continue;
      const lookup = f.prefill ? renamed.get(f.prefill.lookup) : undefined;
      if (f.prefill && !lookup) continue;
      labels.add(f.label);
      const { material: _material, ...rest } = f;
      fields.push(f.prefill ? { ...rest, prefill: { lookup: lookup!, path: f.prefill.path } } : rest);
    }
  }
  const d = bundle.def;
  const def: MatterDef = {
    code: d.code,
    name: d.name,
    kind: '一件事',
    department: d.owner,
    legalBasis: d.legalBasis,
    nationalCodes: {},
    autoApprove: true,
    applicantTypes: d.applicantTypes,
    consent: { dataSharing: true, sealAuthorization: true, purpose: d.consent.purpose },
    questions: d.questions,
    situations: [],
    materials: [],
    lookups,
    form: d.form,
    fields,
    rules: [],
    subjectKey: [],
    output: {
      form: d.output.form,
      certificate: { title: d.output.notice.title, numberPrefix: d.output.notice.numberPrefix, licenseTypeCode: d.owner.code, validity: null, lines: [] },
    },
    tests: [],
  };
  return { def, version: bundle.version, file: bundle.file, validateForm: bundle.validateForm, validateAnswers: bundle.validateAnswers };
}

export interface BundleFormDeps extends FormDeps, SealDeps {
  store: Pick<Store, 'dataAccess' | 'eseals'>;
  sources: ReadonlyMap<string, DataSource>;
}

/** Who signs the e-form: the applicant by their registered name (the person, or the guardian filing for them). */
function signerParty(row: BundleApplicationRow, top: Record<string, { status: string; record: Record<string, unknown> | null }>, matter: LoadedMatter): Party {
  const byKey = (key: string) => matter.def.lookups.find((l) => l.source === 'population' && l.key === key);
  const self = byKey('applicant.code') ?? (printable((row.form.disabledPerson as { idNumber?: unknown } | undefined)?.idNumber) === row.applicant ? byKey('form.disabledPerson.idNumber') : undefined);
  const name = self ? top[self.id]?.record?.name : undefined;
  return { code: row.applicant, name: typeof name === 'string' && name !== '' ? name : row.applicant };
}

/**
 * Reads the members' sources once (audited under the bundle id), fills the one e-form and signs it with the
 * applicant's seal from the e-seal platform; null when that seal cannot be used (each member then says why).
 */
export async function makeBundleForm(
  deps: BundleFormDeps,
  bundle: LoadedBundle,
  catalog: Pick<Catalog, 'get'>,
  row: BundleApplicationRow,
  at: Date,
): Promise<Omit<BundleDocument, 'seq'> | null> {
  const members = row.members.map((m) => catalog.get(m.matter)).filter((m): m is LoadedMatter => m !== undefined);
  const matter = bundleFormMatter(bundle, members);
  const base = { applicant: { code: row.applicant, kind: applicantKind(row.applicant) }, answers: row.answers, form: row.form };
  const purpose = bundle.def.consent.purpose;
  const lookups = await fetchLookups(matter, base, deps.sources, { requester: row.applicant, applicationId: row.id, purpose });
  await deps.store.dataAccess.record(auditEntries(lookups.reads, { requester: row.applicant, applicationId: row.id, purpose, matter: bundle.def.code, consentId: null }));
  const fields = prefillFields(matter, base, lookups.top);
  const names = members.map((m) => m.def.name).join('、');
  const answered = bundle.def.questions.map((q) => row.answers[q.id]).filter(Boolean).join('，');
  const app: ApplicationRow = {
    id: row.id,
    matter: bundle.def.code,
    matterVersion: row.bundleVersion,
    applicant: row.applicant,
    status: 'processing',
    answers: row.answers,
    form: row.form,
    consent: row.consent,
    bodyHash: row.bodyHash,
    decision: null,
    receipt: null,
    attempts: 0,
    lastError: null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    decidedAt: null,
    number: null,
  };
  const holder = signerParty(row, lookups.top, matter);
  const signLog: ESealSignEntry[] = [];
  const seal = await applicantSeal(
    deps,
    await deps.eseal.lookup(row.applicant).catch((err: unknown) => ({ kind: 'unavailable' as const, error: String(err) })),
    holder,
    base.applicant.kind,
    { applicationId: row.id, purpose: `${bundle.def.name}申请表签章` },
    chinaDay(at),
    (e) => signLog.push(e),
  );
  if (!seal.ok) return null;
  let doc;
  try {
    doc = await generateForm(deps, matter, app, { id: 'bundle', name: `${answered}；一次申请：${names}`, when: {} }, fields, holder, at, [], seal.signer, base.applicant.kind);
  } catch (err) {
    if (err instanceof ESealSignError) return null;
    throw err;
  } finally {
    await deps.store.eseals.recordSigns(signLog);
  }
  return { bundleId: row.id, kind: 'form', number: null, digest: 'form', sha256: doc.sha256, bytes: doc.bytes, createdAt: doc.createdAt };
}

const OUTCOME_TEXT: Record<string, string> = {
  approved: '准予办理',
  rejected: '不予办理',
  manual_review: '转人工审核',
  failed: '办理异常',
  processing: '办理中',
  queued: '待办理',
};

export interface NoticeRow {
  matter: string;
  service: string;
  department: string;
  outcome: string;
  details: string[];
}

/** What the notice says about each member (also the digest: a new notice only when this changes). */
export function noticeRows(bundle: LoadedBundle, catalog: Pick<Catalog, 'get'>, row: BundleApplicationRow, plan: readonly MemberPlan[]): NoticeRow[] {
  return plan.map((p) => {
    const member = row.members.find((m) => m.matter === p.matter)!;
    const def = catalog.get(p.matter)?.def;
    const level = bundle.def.members.find((m) => m.matter === p.matter)?.level ?? '';
    const reasons = member.application?.decision?.reasons.map((r) => r.message) ?? [];
    const details =
      p.status === 'approved'
        ? [member.certificate ? `已核发：${member.certificate.number}` : '已办结']
        : p.status === 'manual_review'
          ? [...reasons, '由办理部门工作人员审核，结论将另行告知']
          : p.status === 'failed'
            ? ['系统办理异常，请联系办理部门']
            : reasons;
    return {
      matter: p.matter,
      service: def?.name ?? p.matter,
      department: `${def?.department.name ?? ''}·${level}`,
      outcome: OUTCOME_TEXT[p.status] ?? p.status,
      details,
    };
  });
}

export function noticeDigest(rows: readonly NoticeRow[]): string {
  return sha256(canonicalJson(rows));
}

export interface NoticeDeps {
  store: Pick<Store, 'certificates'>;
  departmentSigner(code: string): Signer;
  timestamper?: Timestamper | null;
}

/** Numbers, lays out and signs the notice with the lead department's seal. */
export async function makeNotice(deps: NoticeDeps, bundle: LoadedBundle, row: BundleApplicationRow, rows: NoticeRow[], at: Date): Promise<Omit<BundleDocument, 'seq'>> {
  const d = bundle.def;
  const issuedOn = chinaDay(at);
  const year = issuedOn.slice(0, 4);
  const serial = await deps.store.certificates.nextSerial(`notice:${d.code}:${year}`);
  const number = `${d.output.notice.numberPrefix}〔${year}〕${String(serial).padStart(6, '0')}号`;
  const person = (row.form.disabledPerson ?? {}) as { name?: unknown; idNumber?: unknown };
  const guardian = row.form.guardian as { name?: unknown } | undefined;
  const subject: Party = { name: printable(person.name) || '—', code: printable(person.idNumber) || '—' };
  const applicant: Party = { code: row.applicant, name: row.applicant === subject.code ? subject.name : printable(guardian?.name) || row.applicant };
  const unsigned = await renderNotice(
    {
      title: d.output.notice.title,
      number,
      applicant,
      subject,
      submittedOn: chinaDay(new Date(row.createdAt)),
      rows: rows.map(({ service, department, outcome, details }) => ({ service, department, outcome, details })),
      statements: [
        '一、准予办理的事项已核发电子证照或核定通知，可在“我的电子证照”中查看下载，并可凭编号在线核验。',
        '二、转人工审核的事项，由办理部门审核后更新办理结果并重新出具本告知书。',
        '三、对办理结果有异议的，可以自知道之日起六十日内依法申请行政复议，或者六个月内依法提起行政诉讼。',
      ],
      issuer: { name: d.owner.name, code: d.owner.code },
      issuedOn,
      registerId: row.id,
    },
    { signerName: d.owner.name, reason: `${d.output.notice.title} 一次告知`, location: '沈阳', signingTime: at },
  );
  const bytes = await signPdf(unsigned, deps.departmentSigner(d.owner.code), { timestamper: deps.timestamper ?? null });
  return { bundleId: row.id, kind: 'notice', number, digest: noticeDigest(rows), sha256: sha256(bytes), bytes, createdAt: at.toISOString() };
}

/** The member's answers for its own matter (re-exported for the orchestration). */
export { memberAnswers };
