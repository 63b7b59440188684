/**
 * A department's official e-form (样表): an AcroForm PDF filled with pdf-lib as it is. The values are drawn in the
 * project's CJK font (the same Noto Sans SC TrueType subset as every other document, embedded as a Type0 font
 * through {@link fontParts}: pdf-lib's own `embedFont` would need fontkit and writes WinAnsi appearances), the form
 * is flattened (each widget's appearance becomes page content, the fields are gone), the applicant's seal or
 * personal e-signature is drawn where the template's signature field was, and the result carries the same
 * signature placeholder as `writeDocument`, so `signPdf` seals it exactly like a generated e-form.
 */
import {
  drawObject,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFRef,
  PDFSignature,
  PDFString,
  PDFTextField,
  popGraphicsState,
  pushGraphicsState,
  translate,
  type PDFField,
  type PDFPage,
} from 'pdf-lib';
import { PermanentFailure } from '../../errors.js';
import { assertPrintable, loadFont, type LoadedFont } from '../fonts.js';
import { wrapText } from '../layout.js';
import { drawSeal, SEAL_RED } from '../seal.js';
import type { Party, SignatureMeta } from '../types.js';
import { BYTE_RANGE_PLACEHOLDER, SIGNATURE_CONTENTS_BYTES } from '../../signing/sign-pdf.js';
import { Canvas, DocumentFont, fontParts, type Rgb } from './pdf-writer.js';

const GREY: Rgb = [0.35, 0.35, 0.35];
const BLACK: Rgb = [0, 0, 0];
const CREATOR = '秒批秒办';
const PRODUCER = '秒批秒办 documents (pdf-lib template fill)';
/** Largest and smallest type size of a filled value (pt). */
const MAX_SIZE = 10.5;
const MIN_SIZE = 6;
const PAD = 2.5;
/**
 * pdf-lib yields to the event loop with setTimeout(0) (≥ 1 ms each) every 50 objects when parsing and writing; a
 * template is ~100–200 objects and the fill runs in the worker, so it parses and writes in one go.
 */
const NO_YIELD = { objectsPerTick: Number.POSITIVE_INFINITY };

/** One field of a template as the catalog loader sees it. */
export interface TemplateField {
  name: string;
  kind: 'text' | 'signature' | 'other';
  multiline: boolean;
}

/** The fields of an AcroForm template; throws when the bytes are not a PDF or hold no AcroForm fields. */
export async function templateFields(bytes: Uint8Array): Promise<TemplateField[]> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false, ...NO_YIELD });
  const fields = doc.getForm().getFields();
  if (fields.length === 0) throw new Error('the PDF has no AcroForm fields');
  return fields.map((f) => ({
    name: f.getName(),
    kind: f instanceof PDFTextField ? 'text' : f instanceof PDFSignature ? 'signature' : 'other',
    multiline: f instanceof PDFTextField && f.isMultiline(),
  }));
}

export interface TemplateFormContent {
  /** The template's bytes (rules/templates/…pdf), unchanged. */
  template: Uint8Array;
  /** PDF field name → text to print (already formatted). */
  values: ReadonlyMap<string, string>;
  title: string;
  applicant: Party;
  applicantKind?: 'person' | 'organisation';
  /** 申请编号, printed small under each page's content. */
  applicationNumber?: string;
}

/** A template that cannot be filled as the catalog promised (a field missing or of another kind). */
export class TemplateFillError extends PermanentFailure {
  override name = 'TemplateFillError';
  constructor(message: string) {
    super(message, 'FORM_TEMPLATE_INVALID');
  }
}

interface Placed {
  page: number;
  rect: { x: number; y: number; width: number; height: number };
}

/** Where each widget of `field` sits: its page (by /P or by the pages' /Annots) and rectangle. */
function placements(field: PDFField, pageOf: Map<PDFDict, number>, pages: PDFPage[]): Placed[] {
  return field.acroField.getWidgets().map((w) => {
    const byP = w.P();
    const page = byP ? pages.findIndex((p) => p.ref === byP) : -1;
    const at = page >= 0 ? page : pageOf.get(w.dict);
    if (at === undefined) throw new TemplateFillError(`模板字段 "${field.getName()}" 不在任何页面上 (widget on no page)`);
    return { page: at, rect: w.getRectangle() };
  });
}

/** Draws `text` into the widget rectangle: one line shrunk to fit, else wrapped lines shrunk to fit the height. */
function drawValue(canvas: Canvas, text: string, rect: Placed['rect'], multiline: boolean, font: LoadedFont): void {
  const width = rect.width - 2 * PAD;
  const height = rect.height - 2 * PAD;
  if (text === '' || width <= 0 || height <= 0) return;
  const oneLine = !text.includes('\n');
  if (oneLine) {
    let size = Math.min(MAX_SIZE, height * 0.8);
    while (size > MIN_SIZE && font.widthOf(text, size) > width) size = Math.max(MIN_SIZE, size - 0.5);
    if (font.widthOf(text, size) <= width || (!multiline && height < MIN_SIZE * 2.4)) {
      canvas.text(text, rect.x + PAD, rect.y + rect.height / 2 - size * 0.38, { size, color: BLACK });
      return;
    }
  }
  let size = Math.min(MAX_SIZE, height);
  let lines = wrapText(text, width, size, font);
  while (size > MIN_SIZE && lines.length * size * 1.3 > height) {
    size = Math.max(MIN_SIZE, size - 0.5);
    lines = wrapText(text, width, size, font);
  }
  const lh = size * 1.3;
  const top = rect.y + rect.height - PAD - size * 0.88;
  // Lines that still do not fit at the smallest size are not drawn outside the box: the last one ends with …
  const fit = Math.max(1, Math.floor((height + lh - size) / lh));
  const shown = lines.length > fit ? [...lines.slice(0, fit - 1), `${(lines[fit - 1] ?? '').slice(0, -1)}…`] : lines;
  shown.forEach((ln, i) => canvas.text(ln, rect.x + PAD, top - i * lh, { size, color: BLACK }));
}

/** The applicant's mark inside `rect`: an organisation's round seal, or a person's framed e-signature. */
function drawSignature(canvas: Canvas, rect: Placed['rect'], applicant: Party, person: boolean, font: LoadedFont): void {
  const cx = rect.x + rect.width / 2;
  const cy = rect.y + rect.height / 2;
  if (!person) {
    const radius = Math.max(20, Math.min(46, Math.min(rect.width, rect.height) / 2 - 2));
    drawSeal({ page: canvas, center: { x: cx, y: cy }, radius, name: applicant.name, font });
    return;
  }
  const nameSize = 16;
  const w = Math.max(font.widthOf(applicant.name, nameSize), font.widthOf('电子签名', 7)) + 16;
  const h = 34;
  const x0 = cx - w / 2;
  const y0 = cy - h / 2;
  canvas.strokeRect(x0, y0, w, h, 1.2, SEAL_RED);
  canvas.text(applicant.name, x0 + (w - font.widthOf(applicant.name, nameSize)) / 2, y0 + 13, { size: nameSize, color: SEAL_RED });
  canvas.text('电子签名', x0 + (w - font.widthOf('电子签名', 7)) / 2, y0 + 3.5, { size: 7, color: SEAL_RED });
}

/** Adds `font` (every text already encoded) to `doc` as a Type0/Identity-H font; returns its reference. */
export function embedDocumentFont(doc: PDFDocument, font: DocumentFont): PDFRef {
  const ctx = doc.context;
  const f = fontParts(font);
  const fontFile = ctx.register(ctx.stream(f.fontFile, { Length1: f.length1, Filter: 'FlateDecode' }));
  const toUnicode = ctx.register(ctx.stream(f.toUnicode));
  const descriptor = ctx.register(
    ctx.obj({
      Type: 'FontDescriptor',
      FontName: f.baseFont,
      Flags: 4,
      FontBBox: f.bbox,
      ItalicAngle: 0,
      Ascent: f.ascent,
      Descent: f.descent,
      CapHeight: f.capHeight,
      XHeight: f.xHeight,
      StemV: 80,
      FontFile2: fontFile,
    }),
  );
  const cidFont = ctx.register(
    ctx.obj({
      Type: 'Font',
      Subtype: 'CIDFontType2',
      BaseFont: f.baseFont,
      CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
      FontDescriptor: descriptor,
      DW: f.dw,
      ...(f.widths.length > 0 ? { W: [1, f.widths] } : {}),
      CIDToGIDMap: 'Identity',
    }),
  );
  return ctx.register(
    ctx.obj({ Type: 'Font', Subtype: 'Type0', BaseFont: f.baseFont, Encoding: 'Identity-H', DescendantFonts: [cidFont], ToUnicode: toUnicode }),
  );
}

/**
 * Puts a canvas on a page as one form XObject with its own resources (/F1 → the document font), so the canvas's
 * font name can never clash with a font of the template's page.
 */
export function stampCanvas(doc: PDFDocument, page: PDFPage, canvas: Canvas, fontRef: PDFRef): void {
  if (canvas.content === '') return;
  const { width, height } = page.getSize();
  const box = page.getMediaBox();
  const xobject = doc.context.register(
    doc.context.flateStream(Buffer.from(canvas.content, 'latin1'), {
      Type: 'XObject',
      Subtype: 'Form',
      BBox: [box.x, box.y, box.x + width, box.y + height],
      Resources: { Font: { [DocumentFont.resource.slice(1)]: fontRef }, ProcSet: ['PDF', 'Text'] },
    }),
  );
  const name = page.node.newXObject('MiaopiFill', xobject);
  page.pushOperators(pushGraphicsState(), drawObject(name), popGraphicsState());
}

/** Removes a field and its widgets from the form, the pages and the file (pdf-lib's removeField needs an /AP). */
function removeField(doc: PDFDocument, field: PDFField, pages: PDFPage[]): void {
  const ctx = doc.context;
  const dicts = new Set<PDFDict>([field.acroField.dict, ...field.acroField.getWidgets().map((w) => w.dict)]);
  for (const page of pages) {
    const annots = page.node.Annots();
    if (!annots) continue;
    for (let i = annots.size() - 1; i >= 0; i--) {
      const d = ctx.lookup(annots.get(i));
      if (d instanceof PDFDict && dicts.has(d)) annots.remove(i);
    }
  }
  doc.catalog.getOrCreateAcroForm().removeField(field.acroField);
  for (const d of dicts) {
    const ref = ctx.getObjectRef(d);
    if (ref) ctx.delete(ref);
  }
}

/** Turns each widget's appearance into page content and removes every field (pdf-lib's flatten, tolerant of no /AP). */
function flatten(doc: PDFDocument, pageOf: Map<PDFDict, number>, pages: PDFPage[]): void {
  for (const field of doc.getForm().getFields()) {
    const widgets = field.acroField.getWidgets();
    placements(field, pageOf, pages).forEach((placed, i) => {
      const ap = widgets[i]?.getAppearances()?.normal;
      if (!(ap instanceof PDFRef)) return;
      const page = pages[placed.page]!;
      const name = page.node.newXObject('FlatWidget', ap);
      page.pushOperators(pushGraphicsState(), translate(placed.rect.x, placed.rect.y), drawObject(name), popGraphicsState());
    });
    removeField(doc, field, pages);
  }
}

/**
 * Fills the template: every value into its field (CJK subset font, shrunk or wrapped to the widget), flattens the
 * form, draws the applicant's seal at the template's signature field (or at the foot of the last page when it has
 * none) and adds the signature dictionary with the placeholder `signPdf` patches. Throws {@link TemplateFillError}
 * for a field that is missing or not a text field, and `UnprintableTextError` before drawing anything the font lacks.
 */
export async function renderTemplateForm(content: TemplateFormContent, sig: SignatureMeta): Promise<Uint8Array> {
  assertPrintable([
    { where: '申请人 applicant', text: content.applicant.name },
    { where: '申请编号 application number', text: content.applicationNumber ?? '' },
    ...[...content.values].map(([name, text]) => ({ where: name, text })),
  ]);
  const font = loadFont();
  const docFont = new DocumentFont(font);
  const doc = await PDFDocument.load(content.template, { updateMetadata: false, ...NO_YIELD });
  const pages = doc.getPages();
  const pageOf = new Map<PDFDict, number>();
  pages.forEach((p, i) => {
    for (const a of p.node.Annots()?.asArray() ?? []) {
      const d = doc.context.lookup(a);
      if (d instanceof PDFDict) pageOf.set(d, i);
    }
  });
  const canvases = pages.map(() => new Canvas(docFont));
  const form = doc.getForm();

  for (const [name, text] of content.values) {
    const field = form.getFieldMaybe(name);
    if (!(field instanceof PDFTextField)) throw new TemplateFillError(`模板没有文本字段 "${name}" (no text field "${name}" in the template)`);
    for (const p of placements(field, pageOf, pages)) drawValue(canvases[p.page]!, text, p.rect, field.isMultiline(), font);
  }

  // The seal goes where the department put its signature field; that field is replaced by ours.
  const person = content.applicantKind === 'person';
  const sigField = form.getFields().find((f) => f instanceof PDFSignature);
  const last = pages.length - 1;
  const { width: lastW } = pages[last]!.getSize();
  const sealAt: Placed = (sigField && placements(sigField, pageOf, pages)[0]) || { page: last, rect: { x: lastW - 160, y: 60, width: 100, height: 100 } };
  drawSignature(canvases[sealAt.page]!, sealAt.rect, content.applicant, person, font);
  if (content.applicationNumber) {
    canvases.forEach((c) => c.text(`申请编号：${content.applicationNumber}`, 40, 18, { size: 8, color: GREY }));
  }

  flatten(doc, pageOf, pages);
  const fontRef = embedDocumentFont(doc, docFont);
  pages.forEach((p, i) => stampCanvas(doc, p, canvases[i]!, fontRef));
  addSignaturePlaceholder(doc, pages[sealAt.page]!, sealAt.rect, sig, person ? '申请人签名' : '申请人签章');

  doc.setTitle(content.title);
  doc.setAuthor(content.applicant.name);
  doc.setCreator(CREATOR);
  doc.setProducer(PRODUCER);
  doc.setCreationDate(sig.signingTime);
  doc.setModificationDate(sig.signingTime);
  // No object streams: a classic xref table, like writeDocument's, so the placeholder is found and patched in place.
  return doc.save({ useObjectStreams: false, updateFieldAppearances: false, ...NO_YIELD });
}

/** The /Sig dictionary (DocMDP certification, placeholder as writeDocument writes it), its widget and /AcroForm. */
function addSignaturePlaceholder(doc: PDFDocument, page: PDFPage, rect: Placed['rect'], sig: SignatureMeta, fieldName: string): void {
  const ctx = doc.context;
  const token = PDFName.of('**********');
  const sigDict = ctx.obj({
    Type: 'Sig',
    Filter: 'Adobe.PPKLite',
    SubFilter: 'ETSI.CAdES.detached',
    ByteRange: [0, token, token, token],
    Contents: PDFHexString.of('0'.repeat((sig.reserveBytes ?? SIGNATURE_CONTENTS_BYTES) * 2)),
    M: PDFString.fromDate(sig.signingTime),
    Name: PDFHexString.fromText(sig.signerName),
    Reason: PDFHexString.fromText(sig.reason),
    Location: PDFHexString.fromText(sig.location),
    Reference: [{ Type: 'SigRef', TransformMethod: 'DocMDP', TransformParams: { Type: 'TransformParams', P: 1, V: '1.2' } }],
  });
  if (!sigDict.toString().includes(BYTE_RANGE_PLACEHOLDER)) throw new Error('pdf-lib no longer writes the /ByteRange placeholder as signPdf expects');
  const sigRef = ctx.register(sigDict);
  const ap = ctx.register(ctx.stream('', { Type: 'XObject', Subtype: 'Form', BBox: [0, 0, rect.width, rect.height] }));
  const widget = ctx.register(
    ctx.obj({
      Type: 'Annot',
      Subtype: 'Widget',
      FT: 'Sig',
      Rect: [rect.x, rect.y, rect.x + rect.width, rect.y + rect.height],
      V: sigRef,
      T: PDFHexString.fromText(fieldName),
      F: 132,
      P: page.ref,
      AP: { N: ap },
    }),
  );
  page.node.addAnnot(widget);
  const acroForm = doc.catalog.getOrCreateAcroForm();
  acroForm.dict.delete(PDFName.of('NeedAppearances'));
  acroForm.dict.set(PDFName.of('SigFlags'), PDFNumber.of(3));
  acroForm.dict.set(PDFName.of('Fields'), ctx.obj([widget]));
  doc.catalog.set(PDFName.of('Perms'), ctx.obj({ DocMDP: sigRef }));
}
