/**
 * The two PDFs the service issues: the e-certificate (证照 / 回执) and the filled e-form (申请表). Each is built in
 * one pass with its signature placeholder already in place, ready for `signPdf`.
 */
import { PermanentFailure } from '../../errors.js';
import { assertPrintable, loadFont } from '../fonts.js';
import type { LoadedFont } from '../fonts.js';
import { beijingDate, drawCentered, drawLine, formatBeijingDateTime, formatChineseDate, wrapText } from '../layout.js';
import { A4, Canvas, DocumentFont, writeDocument } from './pdf-writer.js';
import type { Rgb } from './pdf-writer.js';
import { drawQr } from '../qr.js';
import { drawSeal, SEAL_RED } from '../seal.js';
import { BODY_BOTTOM, ISSUER_LINE_Y, ISSUER_Y, SEAL_RISE, issuanceSentence } from '../certificate-layout.js';
import type { CertificateContent, FormContent, SignatureMeta } from '../types.js';

export type { SignatureMeta } from '../types.js';

const MARGIN = 56;
const FRAME: Rgb = [0.62, 0.1, 0.1];
const GREY: Rgb = [0.35, 0.35, 0.35];
const PREFILL: Rgb = [0.1, 0.3, 0.65];
const PREFILL_SHADE: Rgb = [0.93, 0.95, 0.99];
const SEAL_RADIUS = 46;
const CREATOR = '秒批秒办';
const PRODUCER = '秒批秒办 documents';

interface Row {
  label: string;
  value: string;
}

/** Lays out label/value rows with a hanging indent; returns the y below the last line, or null if it would pass `minY`. */
function drawRows(
  page: Canvas | null,
  rows: Row[],
  o: { x: number; y: number; width: number; size: number; font: LoadedFont; minY: number },
): number | null {
  const { font, size } = o;
  const labelW = Math.min(o.width * 0.4, Math.max(...rows.map((r) => font.widthOf(`${r.label}：`, size))));
  const lh = size * 1.75;
  let y = o.y;
  for (const r of rows) {
    const lines = wrapText(r.value, o.width - labelW, size, font);
    if (y - lh * (lines.length - 1) < o.minY) return null;
    if (page) {
      const label = `${r.label}：`;
      drawLine(page, label, { x: o.x + labelW - font.widthOf(label, size), y, size, font, color: GREY });
      lines.forEach((ln, i) => drawLine(page, ln, { x: o.x + labelW, y: y - i * lh, size, font }));
    }
    y -= lh * lines.length + size * 0.35;
  }
  return y;
}

/**
 * Renders the e-certificate: one A4 page with title, 编号 and 证照标识, holder, the label/value lines (wrapped),
 * issuer with its red seal, issue date, validity (有效期至 or 长期) and a QR code of `verifyUrl` (printed under it).
 * The result carries a DocMDP certification placeholder for {@link signPdf}; the body shrinks its type size to stay
 * on one page and throws when even the smallest size does not fit.
 */
export async function renderCertificate(content: CertificateContent, sig: SignatureMeta): Promise<Uint8Array> {
  // Refuse before drawing anything: a character without a glyph would print as a blank or a box.
  assertPrintable([
    { where: '标题 title', text: content.title },
    { where: '编号 number', text: content.number },
    { where: '持证主体 holder', text: content.holder.name },
    { where: '持证主体代码 holder code', text: content.holder.code },
    { where: '发证机关 issuer', text: content.issuer.name },
    { where: '印章 seal', text: content.sealText ?? '' },
    ...content.lines.flatMap((l) => [
      { where: `${l.label} (label)`, text: l.label },
      { where: l.label, text: l.value },
    ]),
    { where: '核验地址 verify URL', text: content.verifyUrl },
  ]);
  if (content.registerId !== undefined && !/^[0-9A-Za-z._-]{1,64}$/.test(content.registerId)) {
    throw new Error('registerId must be 1-64 letters, digits, ".", "_" or "-"');
  }
  const font = loadFont();
  const docFont = new DocumentFont(font);
  const page = new Canvas(docFont);
  const [W, H] = A4;

  page.strokeRect(24, 24, W - 48, H - 48, 2.2, FRAME);
  page.strokeRect(31, 31, W - 62, H - 62, 0.6, FRAME);

  drawCentered(page, content.title, W / 2, { y: H - 118, size: 26, font, bold: true });
  page.line(MARGIN, H - 138, W - MARGIN, H - 138, 0.6, FRAME);

  let y = H - 162;
  drawLine(page, `编号：${content.number}`, { x: MARGIN, y, size: 11, font });
  if (content.applicationNumber) {
    const t = `申请编号：${content.applicationNumber}`;
    drawLine(page, t, { x: W - MARGIN - font.widthOf(t, 9), y, size: 9, font, color: GREY });
  }
  y -= 16;
  for (const ln of wrapText(`证照标识：${content.licenseId}`, W - 2 * MARGIN, 9, font)) {
    drawLine(page, ln, { x: MARGIN, y, size: 9, font, color: GREY });
    y -= 12;
  }

  const rows: Row[] = [
    { label: '持证主体', value: content.holder.name },
    { label: content.holderCodeLabel ?? '统一社会信用代码', value: content.holder.code },
    ...content.lines,
  ];
  // Issuer block, seal and QR occupy the bottom 300 pt.
  const bodyTop = y - 30;
  const bodyBottom = BODY_BOTTOM;
  const box = { x: MARGIN + 10, y: bodyTop, width: W - 2 * MARGIN - 20, font, minY: bodyBottom };
  let size = 13;
  while (drawRows(null, rows, { ...box, size }) === null) {
    size -= 0.5;
    if (size < 7) throw new PermanentFailure('certificate content does not fit on one A4 page', 'CERTIFICATE_TOO_LONG');
  }
  drawRows(page, rows, { ...box, size });

  // Issuer block, right-aligned; the seal sits over the issuer name as on a paper certificate.
  const right = W - MARGIN - 10;
  const issuerLines = [
    `发证机关：${content.issuer.name}`,
    `发证日期：${formatChineseDate(content.issuedOn)}`,
    content.validUntil ? `有效期至：${formatChineseDate(content.validUntil)}` : '有效期：长期',
  ];
  const blockW = Math.max(...issuerLines.map((t) => font.widthOf(t, 12)));
  const blockX = right - blockW;
  const issuerY = ISSUER_Y;
  issuerLines.forEach((t, i) => drawLine(page, t, { x: blockX, y: ISSUER_LINE_Y[i]!, size: 12, font }));
  const nameW = font.widthOf(content.issuer.name, 12);
  const seal = { x: right - Math.max(nameW, blockW - font.widthOf('发证机关：', 12)) / 2, y: issuerY + SEAL_RISE };
  seal.x = Math.min(seal.x, right - SEAL_RADIUS + 6);
  drawSeal({
    page,
    center: seal,
    radius: SEAL_RADIUS,
    name: content.issuer.name,
    bottomText: content.sealText ?? '电子证照专用章',
    font,
  });

  const qrSize = 104;
  const qrX = right - qrSize + 8; // the quiet zone is white, let it overlap the margin slightly
  const qrY = 74;
  drawQr({ page, text: content.verifyUrl, x: qrX, y: qrY, size: qrSize });
  const urlSize = 7;
  const urlLines = wrapText(content.verifyUrl, W - 2 * MARGIN, urlSize, font);
  urlLines.forEach((ln, i) =>
    drawLine(page, ln, { x: right - font.widthOf(ln, urlSize), y: qrY - 4 - i * 9, size: urlSize, font, color: GREY }),
  );
  drawLine(page, '扫描二维码或访问下方地址核验本证照', { x: MARGIN + 10, y: qrY + 30, size: 9, font, color: GREY });
  drawLine(page, issuanceSentence(content), {
    x: MARGIN + 10,
    y: qrY + 16,
    size: 9,
    font,
    color: GREY,
  });

  return writeDocument({
    info: {
      title: content.title,
      author: content.issuer.name,
      creator: CREATOR,
      producer: PRODUCER,
      date: sig.signingTime,
      ...(content.registerId !== undefined ? { certificateId: content.registerId } : {}),
    },
    font: docFont,
    pages: [page],
    signature: {
      meta: sig,
      page: 0,
      rect: [seal.x - SEAL_RADIUS, seal.y - SEAL_RADIUS, seal.x + SEAL_RADIUS, seal.y + SEAL_RADIUS],
      fieldName: '电子印章',
    },
  });
}

/**
 * Renders the filled e-form (申请表): title, applicant (公民身份号码 for a person, 统一社会信用代码 for an
 * organisation), 申请编号 and submission time in Beijing time, a ruled table whose prefilled rows are shaded and
 * marked （免填：<sourceName>）, the statements, and the signature: an organisation's red seal, or a person's
 * personal e-signature appearance (name in a red frame, no star seal). Fits on one A4 page when the content allows
 * (the type shrinks down to 9 pt); otherwise it flows onto further pages with the statements kept together with the
 * signature block. Every page carries "第 i 页 共 N 页" and the application number.
 */
export async function renderForm(content: FormContent, sig: SignatureMeta): Promise<Uint8Array> {
  assertPrintable([
    { where: '标题 title', text: content.title },
    { where: '申请人 applicant', text: content.applicant.name },
    { where: '申请人代码 applicant code', text: content.applicant.code },
    { where: '申请编号 application number', text: content.applicationNumber ?? '' },
    ...content.rows.flatMap((r) => [
      { where: `${r.label} (label)`, text: r.label },
      { where: r.label, text: r.value },
      { where: `${r.label} (source)`, text: r.prefilled?.sourceName ?? '' },
    ]),
    ...content.statements.map((text, i) => ({ where: `声明 statement ${i + 1}`, text })),
  ]);
  const font = loadFont();
  let laid: FormLayout | null = null;
  for (const size of [11, 10.5, 10, 9.5, 9]) {
    // A measuring pass (the same layout, nothing drawn) finds the size that fits; only that one is drawn. The
    // reference matter's form (粮食收购企业备案, as the bench files it) fits at 10 pt: two drawn passes were thrown away.
    if (layoutForm(content, font, size, false, true).pages.length !== 1) continue;
    const attempt = layoutForm(content, font, size, false);
    if (attempt.pages.length === 1) {
      laid = attempt;
      break;
    }
  }
  laid ??= layoutForm(content, font, 11, true);
  const { docFont, pages, seal } = laid;
  const [W] = A4;
  pages.forEach((p, i) => {
    const footer = `第 ${i + 1} 页 共 ${pages.length} 页`;
    drawLine(p, footer, { x: W / 2 - font.widthOf(footer, 9) / 2, y: 36, size: 9, font, color: GREY });
    if (content.applicationNumber) drawLine(p, `申请编号：${content.applicationNumber}`, { x: MARGIN, y: 36, size: 9, font, color: GREY });
  });

  return writeDocument({
    info: { title: content.title, author: content.applicant.name, creator: CREATOR, producer: PRODUCER, date: sig.signingTime },
    font: docFont,
    pages,
    signature: {
      meta: sig,
      page: pages.length - 1,
      rect: seal.rect,
      fieldName: content.applicantKind === 'person' ? '申请人签名' : '申请人签章',
    },
  });
}

interface FormLayout {
  docFont: DocumentFont;
  pages: Canvas[];
  seal: { rect: [number, number, number, number] };
}

/**
 * A page that keeps nothing: a layout pass on it measures (every position and page break as when drawing, from the
 * same code) without encoding text or writing operators.
 */
class MeasuringCanvas extends Canvas {
  override raw(): void {}
  override text(): void {}
  override rotatedText(): void {}
  override strokeRect(): void {}
  override fillRect(): void {}
  override line(): void {}
  override strokeCircle(): void {}
  override fillPolygon(): void {}
}

/**
 * One layout pass at type size `size`; `flow` allows more than one page (otherwise it stops at the first overflow);
 * `measureOnly` lays out on pages that keep nothing (only the page count and positions are of use).
 */
function layoutForm(content: FormContent, font: LoadedFont, size: number, flow: boolean, measureOnly = false): FormLayout {
  const person = content.applicantKind === 'person';
  const docFont = new DocumentFont(font);
  const newCanvas = () => (measureOnly ? new MeasuringCanvas(docFont) : new Canvas(docFont));
  const pages = [newCanvas()];
  const [W, H] = A4;
  const left = MARGIN;
  const width = W - 2 * MARGIN;
  const bottom = MARGIN + 10;
  let page = pages[0] as Canvas;
  let y = H - 80;
  const k = size / 11;

  drawCentered(page, content.title, W / 2, { y, size: 22, font, bold: true });
  y -= 36;
  const header = [
    `申请人：${content.applicant.name}`,
    `${person ? '公民身份号码' : '统一社会信用代码'}：${content.applicant.code}`,
    ...(content.applicationNumber ? [`申请编号：${content.applicationNumber}`] : []),
    `提交时间：${formatBeijingDateTime(content.submittedAt)}`,
  ];
  for (const t of header) {
    drawLine(page, t, { x: left, y, size: 11 * k, font });
    y -= 17 * k;
  }
  y -= 4;

  const lh = size * 1.45;
  const pad = 5 * k;
  const labelW = 130;
  const valueW = width - labelW;
  const newPage = (): boolean => {
    if (!flow) return false;
    page = newCanvas();
    pages.push(page);
    y = H - MARGIN;
    return true;
  };
  const overflow = (): FormLayout => ({ docFont, pages: [...pages, newCanvas()], seal: { rect: [0, 0, 0, 0] } });

  for (const r of content.rows) {
    const labelLines = wrapText(r.label, labelW - 2 * pad, size, font);
    const valueLines = wrapText(r.value, valueW - 2 * pad, size, font);
    const markSize = 9 * k;
    const mark = r.prefilled ? wrapText(`（免填：${r.prefilled.sourceName}）`, valueW - 2 * pad, markSize, font) : [];
    const h = Math.max(labelLines.length, valueLines.length) * lh + mark.length * markSize * 1.4 + 2 * pad - (lh - size);
    if (y - h < bottom && !newPage()) return overflow();
    const top = y;
    if (r.prefilled) page.fillRect(left, top - h, width, h, PREFILL_SHADE);
    page.strokeRect(left, top - h, labelW, h, 0.5, GREY);
    page.strokeRect(left + labelW, top - h, valueW, h, 0.5, GREY);
    labelLines.forEach((ln, i) => drawLine(page, ln, { x: left + pad, y: top - pad - size * 0.88 - i * lh, size, font }));
    valueLines.forEach((ln, i) => drawLine(page, ln, { x: left + labelW + pad, y: top - pad - size * 0.88 - i * lh, size, font }));
    const markTop = top - pad - size * 0.88 - valueLines.length * lh;
    mark.forEach((ln, i) => drawLine(page, ln, { x: left + labelW + pad, y: markTop - i * markSize * 1.4 + 2, size: markSize, font, color: PREFILL }));
    y = top - h;
  }

  // Statements and the signature block stay together: when they do not fit under the table, both move on.
  const stSize = 10.5 * k;
  const stLh = stSize * 1.5;
  const stLines = content.statements.map((s, i) => wrapText(`${i + 1}. ${s}`, width - 12, stSize, font));
  const signH = 2 * SEAL_RADIUS + 20;
  const stH = content.statements.length > 0 ? 18 + 20 * k + stLines.reduce((n, l) => n + l.length * stLh + 2, 0) : 0;
  if (y - stH - signH < bottom && !newPage()) return overflow();
  y -= 18;
  if (content.statements.length > 0) {
    drawLine(page, '申请人声明与承诺', { x: left, y, size: 12 * k, font, bold: true });
    y -= 20 * k;
    for (const lines of stLines) {
      for (const ln of lines) {
        if (y < bottom && !newPage()) return overflow();
        drawLine(page, ln, { x: left + 6, y, size: stSize, font });
        y -= stLh;
      }
      y -= 2;
    }
  }

  y -= SEAL_RADIUS - 4;
  if (y - SEAL_RADIUS < bottom) {
    if (!newPage()) return overflow();
    y -= 40;
  }
  // Nothing below starts a page: a measuring pass has its answer.
  if (measureOnly) return { docFont, pages, seal: { rect: [0, 0, 0, 0] } };
  const signLabel = person ? '申请人（签名）：' : '申请人（盖章）：';
  const dateText = `日期：${formatChineseDate(beijingDate(content.submittedAt))}`;
  const nameX = W - MARGIN - Math.max(font.widthOf(content.applicant.name, 12), font.widthOf(dateText, 11), 2 * SEAL_RADIUS);
  drawLine(page, signLabel, { x: nameX - font.widthOf(signLabel, 12), y, size: 12, font });
  drawLine(page, dateText, { x: nameX, y: y - 22, size: 11, font });
  if (person) {
    // A person's e-signature: the name in a red frame with 电子签名 under it — no star, no organisation seal text.
    const nameSize = 16;
    const w = Math.max(font.widthOf(content.applicant.name, nameSize), font.widthOf('电子签名', 7)) + 16;
    const h = 34;
    const x0 = nameX - 4;
    const y0 = y - 10;
    page.strokeRect(x0, y0, w, h, 1.2, SEAL_RED);
    drawLine(page, content.applicant.name, { x: x0 + (w - font.widthOf(content.applicant.name, nameSize)) / 2, y: y0 + 13, size: nameSize, font, color: SEAL_RED });
    drawLine(page, '电子签名', { x: x0 + (w - font.widthOf('电子签名', 7)) / 2, y: y0 + 3.5, size: 7, font, color: SEAL_RED });
    return { docFont, pages, seal: { rect: [x0, y0, x0 + w, y0 + h] } };
  }
  drawLine(page, content.applicant.name, { x: nameX, y, size: 12, font });
  const seal = { x: nameX + Math.min(font.widthOf(content.applicant.name, 12), 2 * SEAL_RADIUS) / 2, y: y + 4 };
  drawSeal({ page, center: seal, radius: SEAL_RADIUS, name: content.applicant.name, font });
  return { docFont, pages, seal: { rect: [seal.x - SEAL_RADIUS, seal.y - SEAL_RADIUS, seal.x + SEAL_RADIUS, seal.y + SEAL_RADIUS] } };
}
