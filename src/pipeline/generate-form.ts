/**
 * The filled e-form (申请表): generated from the answers, the typed fields and the pre-filled ones, signed with the
 * applicant's seal from the e-seal platform (./applicant-seal.ts) under its seal authorisation, and kept with the
 * application whatever the decision.
 */
import { createHash } from 'node:crypto';
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { FormTemplates } from '../catalog/form-templates.js';
import { inProcessRenderer, type PdfRenderer } from '../documents/pdf/render-pool.js';
import { renderTemplateForm } from '../documents/pdf/template-form.js';
import { beijingDate, formatChineseDate } from '../documents/layout.js';
import { reserveFor, signPdf } from '../signing/sign-pdf.js';
import type { Party } from '../documents/types.js';
import type { Signer } from '../signing/types.js';
import type { Situation } from '../catalog/types.js';
import type { ApplicationRow, StoredDocument } from '../store/types.js';
import type { FieldValue } from './prefill-fields.js';
import type { MaterialPlan } from './resolve-materials.js';
import { templateValues } from './template-values.js';
import { PermanentFailure } from '../errors.js';

export interface FormDeps {
  sourceNames: ReadonlyMap<string, string>;
  /** Departments' official e-form templates (rules/templates/): needed only for a matter that names one. */
  templates?: FormTemplates;
  /** Where unsigned PDFs are laid out (render threads in a worker process); default this thread. */
  renderer?: PdfRenderer;
}

export async function generateForm(
  deps: FormDeps,
  matter: LoadedMatter,
  app: ApplicationRow,
  situation: Situation,
  fields: FieldValue[],
  applicant: Party,
  at: Date,
  /** How each material was obtained: only commitments actually made are printed, reused archive items are named. */
  plans: readonly MaterialPlan[] | undefined,
  /** The applicant's seal (enterprise e-seal or personal e-signature) from the e-seal platform. */
  signer: Signer,
  kind: 'organisation' | 'person' = 'organisation',
): Promise<StoredDocument> {
  const def = matter.def;
  const materials = def.materials.filter((m) => !m.situations || m.situations.includes(situation.id));
  const statements = [
    `办理情形：${situation.name}。`,
    kind === 'person'
      ? `申请人已同意本事项依法查询共享数据（用途：${def.consent.purpose}），并授权以本人个人电子签名签署本表。`
      : `申请人已同意本事项依法查询共享数据（用途：${def.consent.purpose}），并授权系统以本单位电子印章签章生成本表。`,
    ...(plans
      ? plans.flatMap((p) => [
          ...(p.status === 'commitment' && p.commitment ? [`告知承诺（${p.name}）：${p.commitment}`] : []),
          ...(p.status === 'reused' ? [`材料复用（${p.name}）：调取申请人档案材料${p.validUntil ? `，有效期至${/^\d{4}-\d{2}-\d{2}$/.test(p.validUntil) ? formatChineseDate(p.validUntil) : p.validUntil}` : ''}。`] : []),
        ])
      : materials.filter((m) => m.commitment).map((m) => `告知承诺（${m.name}）：${m.commitment}`)),
  ];
  const rows = fields.map((f) => ({
    label: f.label,
    value: f.value,
    ...(f.prefilledFrom ? { prefilled: { sourceName: deps.sourceNames.get(f.prefilledFrom) ?? f.prefilledFrom } } : {}),
  }));
  const sig = {
    signerName: applicant.name,
    reason: `${def.name}申请表 ${kind === 'person' ? '个人电子签名' : '企业电子印章签章'}`,
    location: '沈阳',
    signingTime: at,
    reserveBytes: reserveFor(signer),
  };
  const template = def.output.form.template;
  let unsigned: Uint8Array;
  if (template) {
    // The department's own 样表, filled as it is; sealed below exactly like a generated e-form.
    if (!deps.templates) throw new Error(`matter ${def.code} names the form template ${template.file} but no template library was given`);
    // The version names the template's bytes: a file replaced since it was loaded would fill another form.
    if (template.sha256 !== undefined && (await deps.templates.sha256(template.file)) !== template.sha256) {
      throw new PermanentFailure(`${template.file} is not the template version ${matter.version} was made with (sha256 ${template.sha256}): restore that file, or name the new one in a new version`, 'FORM_TEMPLATE_INVALID');
    }
    const values = templateValues(template, {
      fields,
      form: app.form,
      answers: app.answers,
      applicant,
      application: {
        ...(app.number ? { number: app.number } : {}),
        submittedOn: formatChineseDate(beijingDate(app.createdAt)),
        statements: statements.map((s, i) => `${i + 1}. ${s}`).join('\n'),
      },
      situation,
    });
    unsigned = await renderTemplateForm(
      { template: await deps.templates.get(template.file), values, title: def.output.form.title, applicant, applicantKind: kind, ...(app.number ? { applicationNumber: app.number } : {}) },
      sig,
    );
  } else {
    unsigned = await (deps.renderer ?? inProcessRenderer).form(
      { title: def.output.form.title, applicant, applicantKind: kind, submittedAt: app.createdAt, ...(app.number ? { applicationNumber: app.number } : {}), rows, statements },
      sig,
    );
  }
  const bytes = await signPdf(unsigned, signer);
  return {
    applicationId: app.id,
    kind: 'form',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes,
    createdAt: at.toISOString(),
  };
}
