/**
 * The 一次告知 result notice of a 一件事 bundle: one document listing every member service with its department and
 * level, its outcome and the reasons (or the certificate issued), sealed by the lead department. Flows onto further
 * A4 pages when long; the seal and the signature field are on the last page. Built in one pass with the signature
 * placeholder in place, ready for `signPdf`.
 */
import { assertPrintable, loadFont } from '../fonts.js';
import { drawCentered, drawLine, formatChineseDate, wrapText } from '../layout.js';
import { drawSeal } from '../seal.js';
import type { Party, SignatureMeta } from '../types.js';
import { A4, Canvas, DocumentFont, writeDocument, type Rgb } from './pdf-writer.js';

export interface NoticeContent {
  /** e.g. 残疾人服务“一件事”办理结果告知书 */
  title: string;
  /** 告知书编号. */
  number: string;
  /** Who filed (the person, or the guardian) and for whom. */
  applicant: Party;
  subject: Party;
  submittedOn: string;
  /** One row per member service, in the bundle's order. */
  rows: Array<{ service: string; department: string; outcome: string; details: string[] }>;
  /** Printed under the table (how to ask about a manual review, where certificates are). */
  statements: string[];
  issuer: Party;
  issuedOn: string;
  /** Bundle application id, written into the information dictionary. */
  registerId?: string;
}

const MARGIN = 50;
const GREY: Rgb = [0.35, 0.35, 0.35];
const HEAD_SHADE: Rgb = [0.95, 0.95, 0.95];
const SEAL_RADIUS = 46;

export async function renderNotice(content: NoticeContent, sig: SignatureMeta): Promise<Uint8Array> {
  assertPrintable([
    { where: '标题 title', text: content.title },
    { where: '编号 number', text: content.number },
    { where: '申请人 applicant', text: content.applicant.name },
    { where: '残疾人 subject', text: content.subject.name },
    { where: '告知机关 issuer', text: content.issuer.name },
    ...content.rows.flatMap((r) => [
      { where: `事项 ${r.service}`, text: `${r.service}${r.department}${r.outcome}` },
      ...r.details.map((d) => ({ where: `说明 ${r.service}`, text: d })),
    ]),
    ...content.statements.map((text, i) => ({ where: `告知 statement ${i + 1}`, text })),
  ]);
  const font = loadFont();
  const docFont = new DocumentFont(font);
  const pages = [new Canvas(docFont)];
  const [W, H] = A4;
  const left = MARGIN;
  const width = W - 2 * MARGIN;
  const bottom = MARGIN + 10;
  let page = pages[0]!;
  let y = H - 70;
  const newPage = () => {
    page = new Canvas(docFont);
    pages.push(page);
    y = H - MARGIN;
  };

  drawCentered(page, content.title, W / 2, { y, size: 19, font, bold: true });
  y -= 28;
  drawCentered(page, content.number, W / 2, { y, size: 11, font, color: GREY });
  y -= 30;
  for (const t of [
    `申请人：${content.applicant.name}（${content.applicant.code}）`,
    `残疾人：${content.subject.name}（${content.subject.code}）`,
    `申请日期：${formatChineseDate(content.submittedOn)}`,
  ]) {
    drawLine(page, t, { x: left, y, size: 11, font });
    y -= 16;
  }
  y -= 4;
  for (const ln of wrapText(`您申请的“一件事”共 ${content.rows.length} 项服务，各项办理结果告知如下：`, width, 11, font)) {
    drawLine(page, ln, { x: left, y, size: 11, font });
    y -= 18;
  }
  y -= 6;

  // Ten members with their reasons fit one page with the seal; more flow onto the next.
  const size = 10;
  const lh = size * 1.4;
  const pad = 4;
  const cols = [width * 0.42, width * 0.14, width * 0.44];
  const cell = (texts: string[], colWidth: number, s = size) => texts.flatMap((t) => wrapText(t, colWidth - 2 * pad, s, font));
  const drawRow = (parts: string[][], shade: boolean, bold: boolean) => {
    const lines = parts.map((p, i) => cell(p, cols[i]!));
    const h = Math.max(...lines.map((l) => l.length)) * lh + 2 * pad - (lh - size);
    if (y - h < bottom) newPage();
    const top = y;
    let x = left;
    if (shade) page.fillRect(left, top - h, width, h, HEAD_SHADE);
    lines.forEach((ls, i) => {
      page.strokeRect(x, top - h, cols[i]!, h, 0.5, GREY);
      ls.forEach((ln, j) => drawLine(page, ln, { x: x + pad, y: top - pad - size * 0.88 - j * lh, size, font, bold }));
      x += cols[i]!;
    });
    y = top - h;
  };
  drawRow([['服务事项（办理部门·层级）'], ['办理结果'], ['原因或结果说明']], true, true);
  content.rows.forEach((r, i) => drawRow([[`${i + 1}. ${r.service}`, r.department], [r.outcome], r.details.length > 0 ? r.details : ['—']], false, false));

  y -= 18;
  for (const s of content.statements) {
    for (const ln of wrapText(s, width, 9.5, font)) {
      if (y < bottom) newPage();
      drawLine(page, ln, { x: left, y, size: 9.5, font, color: GREY });
      y -= 14;
    }
    y -= 2;
  }

  // Issuer block with the seal over the name, as on a paper notice.
  y -= 36;
  if (y - SEAL_RADIUS - 10 < bottom) {
    newPage();
    y -= 50;
  }
  const issuerLines = [content.issuer.name, formatChineseDate(content.issuedOn)];
  const blockW = Math.max(...issuerLines.map((t) => font.widthOf(t, 12)));
  const right = W - MARGIN;
  issuerLines.forEach((t, i) => drawLine(page, t, { x: right - blockW, y: y - i * 20, size: 12, font }));
  const seal = { x: right - blockW / 2, y: y - 6 };
  seal.x = Math.min(seal.x, right - SEAL_RADIUS + 6);
  drawSeal({ page, center: seal, radius: SEAL_RADIUS, name: content.issuer.name, bottomText: '政务服务专用章', font });

  return writeDocument({
    info: {
      title: content.title,
      author: content.issuer.name,
      creator: '秒批秒办',
      producer: '秒批秒办 documents',
      date: sig.signingTime,
      ...(content.registerId !== undefined ? { certificateId: content.registerId } : {}),
    },
    font: docFont,
    pages,
    signature: {
      meta: sig,
      page: pages.length - 1,
      rect: [seal.x - SEAL_RADIUS, seal.y - SEAL_RADIUS, seal.x + SEAL_RADIUS, seal.y + SEAL_RADIUS],
      fieldName: '电子印章',
    },
  });
}
