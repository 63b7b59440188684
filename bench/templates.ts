/**
 * Official e-form template fill (issue 18): for each matter that names a department's AcroForm template, the cost of
 * filling it with pdf-lib (parse the template, draw the values in the CJK subset font, flatten, signature placeholder,
 * save) against the generated e-form of the same content — both unsigned, as `renderForm` is timed in micro.ts. The
 * values are those generate-form prints for the matter's first APPROVE test case, pre-filled from the data sources.
 * Alone: `npm run bench -- templates`.
 */
import { randomUUID } from 'node:crypto';
import type { Deps } from '../src/deps.js';
import { renderForm } from '../src/documents/pdf/certificate-pdf.js';
import { renderTemplateForm } from '../src/documents/pdf/template-form.js';
import { beijingDate, formatChineseDate } from '../src/documents/layout.js';
import type { Party } from '../src/documents/types.js';
import { fetchLookups } from '../src/pipeline/fetch-lookups.js';
import { prefillFields } from '../src/pipeline/prefill-fields.js';
import { applicantKind } from '../src/pipeline/process-application.js';
import { resolveSituation } from '../src/pipeline/resolve-situation.js';
import { templateValues } from '../src/pipeline/template-values.js';
import { now, summarize, type Summary } from './stats.js';

export interface TemplateFigure {
  matter: string;
  template: string;
  fields: number;
  /** renderTemplateForm, unsigned. */
  fill: Summary;
  fillBytes: number;
  /** renderForm of the same rows (the generated e-form), unsigned. */
  generated: Summary;
}

async function time(fn: () => Promise<unknown>, iterations: number, budgetMs: number): Promise<Summary> {
  for (let i = 0; i < 5; i++) await fn();
  const samples: number[] = [];
  const until = now() + budgetMs;
  for (let i = 0; i < iterations && now() < until; i++) {
    const t = now();
    await fn();
    samples.push(now() - t);
  }
  return summarize(samples);
}

export async function runTemplateBench(deps: Pick<Deps, 'catalog' | 'sources' | 'sourceNames' | 'templates'>, opts: { iterations: number }): Promise<TemplateFigure[]> {
  if (!deps.templates) throw new Error('the deps carry no template library');
  const out: TemplateFigure[] = [];
  for (const matter of deps.catalog.matters.values()) {
    const template = matter.def.output.form.template;
    if (!template) continue;
    const def = matter.def;
    const tc = def.tests.find((t) => t.expect.outcome === 'APPROVE') ?? def.tests[0];
    if (!tc) continue;
    const sit = resolveSituation(def, tc.answers);
    if (!sit.ok) throw new Error(`${def.code}: the test case answers select no situation`);
    const base = { applicant: { code: tc.applicant, kind: applicantKind(tc.applicant) }, answers: tc.answers, form: tc.form };
    const lookups = await fetchLookups(matter, base, deps.sources, { requester: tc.applicant, applicationId: randomUUID(), purpose: def.consent.purpose });
    const fields = prefillFields(matter, base, lookups.top);
    const nameField = fields.find((f) => f.prefilledFrom && /名称$/.test(f.label));
    const applicant: Party = { code: tc.applicant, name: nameField && nameField.value !== '—' ? nameField.value : tc.applicant };
    const submittedAt = new Date().toISOString();
    const statements = [`办理情形：${sit.situation.name}。`, `申请人已同意本事项依法查询共享数据（用途：${def.consent.purpose}），并授权系统以本单位电子印章签章生成本表。`];
    const values = templateValues(template, {
      fields,
      form: tc.form,
      answers: tc.answers,
      applicant,
      application: { number: '沈2026120400017', submittedOn: formatChineseDate(beijingDate(submittedAt)), statements: statements.map((s, i) => `${i + 1}. ${s}`).join('\n') },
      situation: sit.situation,
    });
    const bytes = await deps.templates.get(template.file);
    const sig = { signerName: applicant.name, reason: `${def.name}申请表 企业电子印章签章`, location: '沈阳', signingTime: new Date() };
    let fillBytes = 0;
    const fill = await time(async () => {
      fillBytes = (await renderTemplateForm({ template: bytes, values, title: def.output.form.title, applicant, applicationNumber: '沈2026120400017' }, sig)).length;
    }, opts.iterations, 20_000);
    const rows = fields.map((f) => ({ label: f.label, value: f.value }));
    const generated = await time(
      () => renderForm({ title: def.output.form.title, applicant, submittedAt, applicationNumber: '沈2026120400017', rows, statements }, sig),
      opts.iterations,
      20_000,
    );
    out.push({ matter: def.code, template: template.file, fields: values.size, fill, fillBytes, generated });
  }
  return out;
}
