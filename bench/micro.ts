/**
 * Micro benchmarks of the building blocks, fed exactly what the worker feeds them: the grain matter's own YAML
 * test case, its lookups read once over the stack's (HTTP) data sources, Facts built as in process-application,
 * and certificate / form content built as issue-certificate / generate-form build it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { LoadedMatter } from '../src/catalog/load-catalog.js';
import type { Deps } from '../src/deps.js';
import { renderCertificate, renderForm } from '../src/documents/pdf/certificate-pdf.js';
import { makeLicenseId } from '../src/documents/license-id.js';
import { buildCms, signPdf } from '../src/signing/sign-pdf.js';
import { trustAnchors, verifyPdf } from '../src/verification/verify-pdf.js';
import { verifyOfd } from '../src/verification/ofd/verify-ofd.js';
import { buildOfdCertificate } from '../src/pipeline/certificate-ofd.js';
import type { Party } from '../src/documents/types.js';
import { getPath } from '../src/domain/paths.js';
import { evaluateRules, type Facts } from '../src/pipeline/evaluate-rules.js';
import { fetchLookups } from '../src/pipeline/fetch-lookups.js';
import { chinaDay, verifyUrl } from '../src/pipeline/issue-certificate.js';
import { applicantKind } from '../src/pipeline/process-application.js';
import { outputLine, prefillFields } from '../src/pipeline/prefill-fields.js';
import { resolveSituation } from '../src/pipeline/resolve-situation.js';
import { now, summarize, type Summary } from './stats.js';
import { runTemplateBench, type TemplateFigure } from './templates.js';

export interface MicroResult {
  rulesPerSec: number;
  rulesDecisions: number;
  rulesOutcome: string;
  renderCertificate: Summary;
  renderForm: Summary;
  /** Official e-form templates filled with pdf-lib (bench/templates.ts), one per matter that names one. */
  templates: TemplateFigure[];
  signPdf: Summary;
  buildCms: Summary;
  /** verifyPdf on a signed certificate (signature, chain, coverage; no register look-up). */
  verifyPdf: Summary;
  verifyIndication: string;
  certificateBytes: number;
  formBytes: number;
  /** 国密 (issue 15): OFD certificate build (layout, font subset, QR, SM3 check values, SM2 SES signature, ZIP). */
  buildOfd: Summary;
  /** One SM2 signature (SM3 with Z, sm-crypto-v2). */
  sm2Sign: Summary;
  verifyOfd: Summary;
  ofdIndication: string;
  ofdBytes: number;
}

/** Runs `fn` `warmup` times, then up to `iterations` times within `budgetMs`; returns per-call ms. */
async function timeIt(fn: () => Promise<unknown>, iterations: number, budgetMs: number, warmup = 5): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const until = now() + budgetMs;
  for (let i = 0; i < iterations && now() < until; i++) {
    const t = now();
    await fn();
    samples.push(now() - t);
  }
  return summarize(samples);
}

export async function runMicro(deps: Deps, opts: { iterations: number; rulesMs: number }): Promise<MicroResult> {
  const matter: LoadedMatter | undefined = deps.catalog.get('grain-purchase-filing');
  if (!matter) throw new Error('grain-purchase-filing is not in the catalog');
  const def = matter.def;
  const tc = def.tests.find((t) => t.expect.outcome === 'APPROVE');
  if (!tc) throw new Error('the grain matter has no APPROVE test case to benchmark');

  // --- Facts exactly as process-application builds them.
  const started = new Date();
  const sit = resolveSituation(def, tc.answers);
  if (!sit.ok) throw new Error('the test case answers select no situation');
  const base: Record<string, unknown> = {
    applicant: { code: tc.applicant, kind: applicantKind(tc.applicant) },
    answers: tc.answers,
    form: tc.form,
  };
  const lookups = await fetchLookups(matter, base, deps.sources, {
    requester: tc.applicant,
    applicationId: randomUUID(),
    purpose: def.consent.purpose,
  });
  const facts: Facts = {
    ...lookups.top,
    applicant: base.applicant as Facts['applicant'],
    answers: tc.answers,
    form: tc.form,
    today: chinaDay(started),
    register: { activeFiling: false },
    itemLookups: lookups.itemLookups,
  };
  const first = await evaluateRules(matter, sit.situation.id, facts);
  if (first.decision.outcome !== tc.expect.outcome) {
    throw new Error(`rules decided ${first.decision.outcome} for the YAML test case, expected ${tc.expect.outcome}: ${JSON.stringify(first.decision.reasons)}`);
  }

  // --- Rule decisions per second (warm, sequential, bounded in time and count).
  for (let i = 0; i < 200; i++) await evaluateRules(matter, sit.situation.id, facts);
  let decisions = 0;
  const t0 = now();
  const until = t0 + opts.rulesMs;
  while (decisions < 1_000_000 && now() < until) {
    for (let i = 0; i < 50; i++) await evaluateRules(matter, sit.situation.id, facts);
    decisions += 50;
  }
  const rulesPerSec = decisions / ((now() - t0) / 1000);

  // --- Content as issue-certificate and generate-form build it.
  const fields = prefillFields(matter, base, lookups.top);
  const withFields = { ...base, fields: Object.fromEntries(fields.map((f) => [f.id, f.prefilledFrom || !f.value.startsWith('—') ? f.value : undefined])) };
  const holderNameRaw = def.holderName ? getPath(withFields, def.holderName) : undefined;
  const holder: Party = { code: tc.applicant, name: typeof holderNameRaw === 'string' && holderNameRaw !== '—' ? holderNameRaw : tc.applicant };
  const out = def.output.certificate;
  const issuedOn = chinaDay(started);
  const year = issuedOn.slice(0, 4);
  const issuer: Party = { name: def.department.name, code: def.department.code };
  const lines = out.lines.map((l) => outputLine(l, withFields, fields));
  if (out.note) lines.push({ label: '说明', value: out.note });
  let serial = 0;
  const certContent = () => {
    const serialText = String(++serial).padStart(6, '0');
    return {
      title: out.title,
      number: `${out.numberPrefix}〔${year}〕${serialText}号`,
      licenseId: makeLicenseId({ typeCode: out.licenseTypeCode, issuerCode: def.department.code, serial: `${year}${serialText}`, version: '001' }),
      holder,
      issuer,
      lines,
      issuedOn,
      validUntil: null,
      verifyUrl: verifyUrl(deps.publicUrl, randomUUID(), randomBytes(12).toString('base64url')),
    };
  };
  const certSig = { signerName: issuer.name, reason: `${out.title} 电子证照签发`, location: '沈阳', signingTime: new Date() };

  const materials = def.materials.filter((m) => !m.situations || m.situations.includes(sit.situation.id));
  const formContent = {
    title: def.output.form.title,
    applicant: holder,
    submittedAt: started.toISOString(),
    rows: fields.map((f) => ({
      label: f.label,
      value: f.value,
      ...(f.prefilledFrom ? { prefilled: { sourceName: deps.sourceNames.get(f.prefilledFrom) ?? f.prefilledFrom } } : {}),
    })),
    statements: [
      `办理情形：${sit.situation.name}。`,
      `申请人已同意本事项依法查询共享数据（用途：${def.consent.purpose}），并授权系统以本单位电子印章签章生成本表。`,
      ...materials.filter((m) => m.commitment).map((m) => `告知承诺（${m.name}）：${m.commitment}`),
    ],
  };
  const formSig = { signerName: holder.name, reason: `${def.name}申请表 企业电子印章签章`, location: '沈阳', signingTime: new Date() };

  const budget = 20_000;
  let certificateBytes = 0;
  const certStats = await timeIt(async () => {
    certificateBytes = (await renderCertificate(certContent(), certSig)).length;
  }, opts.iterations, budget);
  let formBytes = 0;
  const formStats = await timeIt(async () => {
    formBytes = (await renderForm(formContent, formSig)).length;
  }, opts.iterations, budget);
  const templates = await runTemplateBench(deps, { iterations: opts.iterations });

  const unsigned = await renderCertificate(certContent(), certSig);
  const deptSigner = deps.departmentSigner(def.department.code);
  const signStats = await timeIt(() => signPdf(unsigned, deptSigner), opts.iterations * 2, budget);
  const digest = randomBytes(32);
  const cmsStats = await timeIt(() => buildCms(digest, deptSigner), opts.iterations * 2, budget);
  const signed = await signPdf(unsigned, deptSigner);
  const roots = trustAnchors(deps.trustAnchorsPem);
  let verifyIndication = '';
  const verifyStats = await timeIt(async () => {
    verifyIndication = verifyPdf(signed, { roots }).indication;
  }, opts.iterations * 2, budget);

  const gmSeal = deps.gm!.departmentSeal(def.department.code);
  let ofd: Uint8Array = new Uint8Array(0);
  const ofdStats = await timeIt(async () => {
    ofd = await buildOfdCertificate({ ...certContent(), registerId: randomUUID() }, gmSeal, new Date());
  }, opts.iterations, budget);
  const sm2Stats = await timeIt(() => gmSeal.signer.sign(digest), opts.iterations * 2, budget);
  const gmRoots = trustAnchors(deps.gm!.rootsPem);
  let ofdIndication = '';
  const verifyOfdStats = await timeIt(async () => {
    ofdIndication = verifyOfd(ofd, { roots: gmRoots }).indication;
  }, opts.iterations, budget);

  return {
    rulesPerSec,
    rulesDecisions: decisions,
    rulesOutcome: first.decision.outcome,
    renderCertificate: certStats,
    renderForm: formStats,
    templates,
    signPdf: signStats,
    buildCms: cmsStats,
    verifyPdf: verifyStats,
    verifyIndication,
    certificateBytes,
    formBytes,
    buildOfd: ofdStats,
    sm2Sign: sm2Stats,
    verifyOfd: verifyOfdStats,
    ofdIndication,
    ofdBytes: ofd.length,
  };
}
