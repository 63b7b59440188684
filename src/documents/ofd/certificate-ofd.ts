/**
 * The e-certificate as an OFD document: the same page as the PDF of ../pdf/certificate-pdf.ts — frame, title,
 * 编号 and 证照标识, holder and the label/value lines (wrapped, shrinking to fit), issuer block, QR code of the
 * verification link with the link under it — laid out with the same coordinates. The red seal is not drawn on the
 * page: it is the seal picture of the GB/T 38540 seal, shown by the signature's stamp annotation at `stamp`.
 */
import { PermanentFailure } from '../../errors.js';
import { assertPrintable, loadFont } from '../fonts.js';
import type { LoadedFont } from '../fonts.js';
import { formatChineseDate, wrapText } from '../layout.js';
import { BODY_BOTTOM, ISSUER_LINE_Y, ISSUER_Y, SEAL_RISE, issuanceSentence } from '../certificate-layout.js';
import type { Rgb } from '../pdf/pdf-writer.js';
import type { CertificateContent } from '../types.js';
import { A4_PT, IdAllocator, OfdCanvas, ofdFiles, type OfdImage } from './ofd-writer.js';
import { OFD_PATHS } from './paths.js';
import { qrPng } from './qr-png.js';
import { writeZip } from './zip.js';

const MARGIN = 56;
const FRAME: Rgb = [0.62, 0.1, 0.1];
const GREY: Rgb = [0.35, 0.35, 0.35];
const SEAL_RADIUS = 46;
const MM_PER_PT = 25.4 / 72;

export interface UnsignedOfd {
  /** Package files by path (no leading slash). */
  files: Map<string, Buffer>;
  /** Where the seal goes: the page's object ID and the box in millimetres (x y w h from the top left). */
  stamp: { pageId: number; boundary: [number, number, number, number] };
}

interface Row {
  label: string;
  value: string;
}

function drawRows(page: OfdCanvas | null, rows: Row[], o: { x: number; y: number; width: number; size: number; font: LoadedFont; minY: number }): number | null {
  const { font, size } = o;
  const labelW = Math.min(o.width * 0.4, Math.max(...rows.map((r) => font.widthOf(`${r.label}：`, size))));
  const lh = size * 1.75;
  let y = o.y;
  for (const r of rows) {
    const lines = wrapText(r.value, o.width - labelW, size, font);
    if (y - lh * (lines.length - 1) < o.minY) return null;
    if (page) {
      const label = `${r.label}：`;
      page.text(label, o.x + labelW - font.widthOf(label, size), y, { size, color: GREY });
      lines.forEach((ln, i) => page.text(ln, o.x + labelW, y - i * lh, { size }));
    }
    y -= lh * lines.length + size * 0.35;
  }
  return y;
}

/** Lays out the certificate page; the result is signed by `signOfdFiles` and packed by {@link packOfd}. */
export function renderCertificateOfd(content: CertificateContent): UnsignedOfd {
  assertPrintable([
    { where: '标题 title', text: content.title },
    { where: '编号 number', text: content.number },
    { where: '持证主体 holder', text: content.holder.name },
    { where: '持证主体代码 holder code', text: content.holder.code },
    { where: '发证机关 issuer', text: content.issuer.name },
    ...content.lines.flatMap((l) => [
      { where: `${l.label} (label)`, text: l.label },
      { where: l.label, text: l.value },
    ]),
    { where: '核验地址 verify URL', text: content.verifyUrl },
  ]);
  const font = loadFont();
  const ids = new IdAllocator();
  const images: OfdImage[] = [];
  const page = new OfdCanvas(ids, font, images);
  const [W, H] = A4_PT;

  page.strokeRect(24, 24, W - 48, H - 48, 2.2, FRAME);
  page.strokeRect(31, 31, W - 62, H - 62, 0.6, FRAME);
  page.text(content.title, W / 2 - font.widthOf(content.title, 26) / 2, H - 118, { size: 26, bold: true });
  page.line(MARGIN, H - 138, W - MARGIN, H - 138, 0.6, FRAME);

  let y = H - 162;
  page.text(`编号：${content.number}`, MARGIN, y, { size: 11 });
  if (content.applicationNumber) {
    const t = `申请编号：${content.applicationNumber}`;
    page.text(t, W - MARGIN - font.widthOf(t, 9), y, { size: 9, color: GREY });
  }
  y -= 16;
  for (const ln of wrapText(`证照标识：${content.licenseId}`, W - 2 * MARGIN, 9, font)) {
    page.text(ln, MARGIN, y, { size: 9, color: GREY });
    y -= 12;
  }

  const rows: Row[] = [
    { label: '持证主体', value: content.holder.name },
    { label: content.holderCodeLabel ?? '统一社会信用代码', value: content.holder.code },
    ...content.lines,
  ];
  const box = { x: MARGIN + 10, y: y - 30, width: W - 2 * MARGIN - 20, font, minY: BODY_BOTTOM };
  let size = 13;
  while (drawRows(null, rows, { ...box, size }) === null) {
    size -= 0.5;
    if (size < 7) throw new PermanentFailure('certificate content does not fit on one A4 page', 'CERTIFICATE_TOO_LONG');
  }
  drawRows(page, rows, { ...box, size });

  const right = W - MARGIN - 10;
  const issuerLines = [
    `发证机关：${content.issuer.name}`,
    `发证日期：${formatChineseDate(content.issuedOn)}`,
    content.validUntil ? `有效期至：${formatChineseDate(content.validUntil)}` : '有效期：长期',
  ];
  const blockW = Math.max(...issuerLines.map((t) => font.widthOf(t, 12)));
  const issuerY = ISSUER_Y;
  issuerLines.forEach((t, i) => page.text(t, right - blockW, ISSUER_LINE_Y[i]!, { size: 12 }));
  const nameW = font.widthOf(content.issuer.name, 12);
  const seal = { x: right - Math.max(nameW, blockW - font.widthOf('发证机关：', 12)) / 2, y: issuerY + SEAL_RISE };
  seal.x = Math.min(seal.x, right - SEAL_RADIUS + 6);

  const qrSize = 104;
  const qrY = 74;
  page.image(qrPng(content.verifyUrl), right - qrSize + 8, qrY, qrSize, qrSize);
  const urlSize = 7;
  wrapText(content.verifyUrl, W - 2 * MARGIN, urlSize, font).forEach((ln, i) =>
    page.text(ln, right - font.widthOf(ln, urlSize), qrY - 4 - i * 9, { size: urlSize, color: GREY }),
  );
  page.text('扫描二维码或访问下方地址核验本证照', MARGIN + 10, qrY + 30, { size: 9, color: GREY });
  page.text(issuanceSentence(content), MARGIN + 10, qrY + 16, { size: 9, color: GREY });

  const custom: Record<string, string> = { Number: content.number, LicenseId: content.licenseId };
  if (content.registerId !== undefined) custom.CertificateId = content.registerId;
  const files = ofdFiles({
    info: {
      docId: (content.registerId ?? content.licenseId).replace(/[^0-9A-Za-z]/g, '').toLowerCase().padEnd(32, '0').slice(0, 32),
      title: content.title,
      author: content.issuer.name,
      creator: '秒批秒办',
      creationDate: content.issuedOn,
      custom,
    },
    pages: [page],
    ids,
    images,
    font,
    signed: true,
  });
  const d = 2 * SEAL_RADIUS * MM_PER_PT;
  return {
    files,
    stamp: { pageId: page.pageId, boundary: [(seal.x - SEAL_RADIUS) * MM_PER_PT, (H - seal.y - SEAL_RADIUS) * MM_PER_PT, d, d] },
  };
}

/**
 * The package as a ZIP: OFD.xml first (readers find the entry point without the central directory); PNGs and
 * SignedValue.dat (mostly the seal's PNG) stored, since deflating compressed data costs time and saves nothing.
 */
export function packOfd(files: ReadonlyMap<string, Uint8Array>, at: Date): Buffer {
  const names = [...files.keys()].sort((a, b) => (a === OFD_PATHS.root ? -1 : b === OFD_PATHS.root ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return writeZip(
    names.map((name) => ({ name, data: files.get(name) as Uint8Array, store: name.endsWith('.png') || name === OFD_PATHS.signedValue })),
    at,
  );
}
