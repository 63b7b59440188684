/**
 * A department's AcroForm template filled with pdf-lib: values in the project's CJK subset font, the form
 * flattened, the applicant's seal where the template's signature field was, and sealed by signPdf like every e-form.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument, PDFTextField } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplateForm, templateFields, TemplateFillError } from '../../../src/documents/pdf/template-form.js';
import { ensureDevPki, type DevPki } from '../../../src/signing/pki.js';
import { reserveFor, signPdf } from '../../../src/signing/sign-pdf.js';
import { pdfText, pdfToPng, run, tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';
import { applicantSealSigner } from '../../support/seals.js';
import { DEPT, HOLDER, META } from './sample.js';

const TEMPLATES = path.resolve(import.meta.dirname, '../../../rules/templates');
const presale = readFileSync(path.join(TEMPLATES, 'commercial-housing-presale.pdf'));

const values = new Map([
  ['开发企业名称', HOLDER.name],
  ['统一社会信用代码', HOLDER.code],
  ['项目坐落', '沈阳市和平区南京南街1号（含生僻字𬌗）'],
  ['预售套数', '410'],
  ['声明与承诺', '1. 办理情形：首次申请。 2. 申请人已同意本事项依法查询共享数据，并授权系统以本单位电子印章签章生成本表。'.repeat(2)],
]);

let tmp: ReturnType<typeof tempDir>;
let pki: DevPki;
beforeAll(async () => {
  tmp = tempDir('template-form-');
  pki = await ensureDevPki(`${tmp.dir}/pki`, [DEPT]);
});
afterAll(() => tmp?.cleanup());

describe('templateFields', () => {
  it('lists the text fields and the signature field of a committed template', async () => {
    const fields = await templateFields(presale);
    expect(fields.filter((f) => f.kind === 'text').map((f) => f.name)).toEqual(expect.arrayContaining(['开发企业名称', '项目坐落', '声明与承诺']));
    expect(fields.find((f) => f.name === '声明与承诺')?.multiline).toBe(true);
    expect(fields.filter((f) => f.kind === 'signature').map((f) => f.name)).toEqual(['申请人签章']);
  });

  it('refuses bytes that are not a PDF with form fields', async () => {
    await expect(templateFields(Buffer.from('not a pdf'))).rejects.toThrow();
    const blank = await PDFDocument.create();
    blank.addPage();
    await expect(templateFields(await blank.save())).rejects.toThrow(/no AcroForm fields/);
  });
});

describe('renderTemplateForm', () => {
  it('fills the fields in the CJK subset font, flattens the form and leaves one signature field', async () => {
    const pdf = await renderTemplateForm({ template: presale, values, title: '商品房预售许可申请表', applicant: HOLDER, applicationNumber: '沈2026120400017' }, META);
    const doc = await PDFDocument.load(pdf);
    const fields = doc.getForm().getFields();
    expect(fields.map((f) => f.getName())).toEqual(['申请人签章']);
    expect(fields.some((f) => f instanceof PDFTextField)).toBe(false);
    const file = writeTemp(tmp.dir, 'filled.pdf', pdf);
    const text = (await pdfText(file)).replace(/\s+/g, '');
    for (const v of [HOLDER.name, HOLDER.code, '（含生僻字𬌗）', '410', '申请编号：沈2026120400017', '商品房预售许可申请表']) expect(text).toContain(v);
    const fonts = await run('pdffonts', [file]);
    expect(fonts.stdout).toMatch(/[A-Z]{6}\+NotoSansSC-Regular\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/);
    const { stderr } = await pdfToPng(file, 72);
    expect(stderr).not.toMatch(/font|error/i);
  });

  it('is sealed by signPdf and passes the shared verifier with the applicant’s values in its text', async () => {
    const signer = await applicantSealSigner(pki, HOLDER);
    const unsigned = await renderTemplateForm(
      { template: presale, values, title: '商品房预售许可申请表', applicant: HOLDER },
      { ...META, signerName: HOLDER.name, reason: '申请人电子签章', reserveBytes: reserveFor(signer) },
    );
    const file = writeTemp(tmp.dir, 'sealed.pdf', await signPdf(unsigned, signer));
    const r = await verifyCertificate(file, writeTemp(tmp.dir, 'roots.pem', pki.rootsPem), [HOLDER.name, '沈阳市和平区南京南街1号']);
    expect(r.stdout).toContain('ALL PASS');
    expect(r.code).toBe(0);
  });

  it('refuses a value for a field the template does not have', async () => {
    const wrong = new Map([['没有的字段', 'x']]);
    await expect(renderTemplateForm({ template: presale, values: wrong, title: 't', applicant: HOLDER }, META)).rejects.toThrow(TemplateFillError);
  });
});
