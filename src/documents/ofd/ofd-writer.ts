/**
 * OFD (GB/T 33190-2016) writer for one-document packages: `OFD.xml`, `Doc_0/Document.xml`, `PublicRes.xml` (the
 * embedded font), `DocumentRes.xml` (images), one `Content.xml` per page. Pages are drawn with the PDF canvas's
 * conventions (points, origin at the bottom left) and written in OFD's (millimetres, origin at the top left), so a
 * layout ports from the PDF certificate line by line. Text is one TextObject per line with per-character DeltaX;
 * the font is a TrueType subset of Noto Sans SC (ttf.ts) with a cmap, because OFD readers map TextCode characters
 * through the font's cmap.
 */
import type { LoadedFont } from '../fonts.js';
import type { Rgb } from '../pdf/pdf-writer.js';
import { subsetTrueType } from '../ttf.js';

export const OFD_NS = 'http://www.ofdspec.org/2016';
/** A4 in millimetres and in points (the layout's units). */
export const A4_MM: readonly [number, number] = [210, 297];
export const A4_PT: readonly [number, number] = [595.28, 841.89];
const MM_PER_PT = 25.4 / 72;

const XML_ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/** Escapes text and attribute values; refuses characters XML 1.0 cannot carry. */
export function xmlEscape(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s)) throw new Error('text holds characters XML cannot carry');
  return s.replace(/[&<>"']/g, (c) => XML_ESC[c] as string);
}

/** Millimetres with at most 3 decimals (0.001 mm ≈ 0.003 pt), no exponent. */
export function mm(n: number): string {
  const v = Math.round(n * 1000) / 1000;
  return Object.is(v, -0) ? '0' : String(v);
}

const color = ([r, g, b]: Rgb) => `${Math.round(r * 255)} ${Math.round(g * 255)} ${Math.round(b * 255)}`;

/** Hands out the document-wide unique object IDs (ST_ID) and remembers the largest (MaxUnitID). */
export class IdAllocator {
  private last = 0;
  next(): number {
    return ++this.last;
  }
  get max(): number {
    return this.last;
  }
}

export interface OfdImage {
  id: number;
  png: Uint8Array;
}

export interface OfdTextStyle {
  size: number;
  color?: Rgb;
  bold?: boolean;
}

/** One page's content, drawn in points with the origin at the bottom left (as the PDF canvas). */
export class OfdCanvas {
  readonly pageId: number;
  private objects: string[] = [];
  /** Characters drawn, for the font subset. */
  readonly used = new Set<number>();

  constructor(
    private readonly ids: IdAllocator,
    readonly font: LoadedFont,
    private readonly images: OfdImage[],
    readonly sizePt: readonly [number, number] = A4_PT,
  ) {
    this.pageId = ids.next();
  }

  private x = (pt: number) => pt * MM_PER_PT;
  private y = (pt: number) => (this.sizePt[1] - pt) * MM_PER_PT;

  /** One line of text with its baseline starting at (x, y). */
  text(s: string, x: number, y: number, style: OfdTextStyle): void {
    if (s === '') return;
    const size = style.size * MM_PER_PT;
    const chars = [...s];
    const advances = chars.map((ch) => {
      const cp = ch.codePointAt(0) as number;
      this.used.add(cp);
      return this.font.advance(cp) * size;
    });
    const width = advances.reduce((a, b) => a + b, 0);
    const top = this.y(y) - size;
    const fill = color(style.color ?? [0, 0, 0]);
    // Synthetic bold as in the PDF: outlines filled and stroked, 3.5 % of the size.
    const bold = style.bold ? ` Stroke="true" LineWidth="${mm(size * 0.035)}"` : '';
    const strokeColor = style.bold ? `<ofd:StrokeColor Value="${fill}"/>` : '';
    const delta = advances.slice(0, -1).map(mm).join(' ');
    this.objects.push(
      `<ofd:TextObject ID="${this.ids.next()}" Boundary="${mm(this.x(x))} ${mm(top)} ${mm(width + size * 0.1)} ${mm(size * 1.3)}" Font="${FONT_ID_PLACEHOLDER}" Size="${mm(size)}"${bold}>` +
        `<ofd:FillColor Value="${fill}"/>${strokeColor}` +
        `<ofd:TextCode X="0" Y="${mm(size)}"${delta ? ` DeltaX="${delta}"` : ''}>${xmlEscape(s)}</ofd:TextCode></ofd:TextObject>`,
    );
  }

  private path(data: string, o: { stroke?: { width: number; color: Rgb }; fill?: Rgb }): void {
    const [w, h] = this.sizePt;
    const attrs = [
      `ID="${this.ids.next()}"`,
      `Boundary="0 0 ${mm(w * MM_PER_PT)} ${mm(h * MM_PER_PT)}"`,
      o.stroke ? `LineWidth="${mm(o.stroke.width * MM_PER_PT)}"` : 'Stroke="false"',
      o.fill ? 'Fill="true"' : '',
    ].filter(Boolean);
    const colors = `${o.fill ? `<ofd:FillColor Value="${color(o.fill)}"/>` : ''}${o.stroke ? `<ofd:StrokeColor Value="${color(o.stroke.color)}"/>` : ''}`;
    this.objects.push(`<ofd:PathObject ${attrs.join(' ')}>${colors}<ofd:AbbreviatedData>${data}</ofd:AbbreviatedData></ofd:PathObject>`);
  }

  private p = (x: number, y: number) => `${mm(this.x(x))} ${mm(this.y(y))}`;

  strokeRect(x: number, y: number, w: number, h: number, width: number, c: Rgb): void {
    this.path(`M ${this.p(x, y)} L ${this.p(x + w, y)} L ${this.p(x + w, y + h)} L ${this.p(x, y + h)} C`, { stroke: { width, color: c } });
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    this.path(`M ${this.p(x, y)} L ${this.p(x + w, y)} L ${this.p(x + w, y + h)} L ${this.p(x, y + h)} C`, { fill: c });
  }

  line(x1: number, y1: number, x2: number, y2: number, width: number, c: Rgb): void {
    this.path(`M ${this.p(x1, y1)} L ${this.p(x2, y2)}`, { stroke: { width, color: c } });
  }

  /** A PNG drawn into the box whose lower-left corner is (x, y), `w` × `h` points. */
  image(png: Uint8Array, x: number, y: number, w: number, h: number): number {
    const id = this.ids.next();
    this.images.push({ id, png });
    const wm = w * MM_PER_PT;
    const hm = h * MM_PER_PT;
    this.objects.push(`<ofd:ImageObject ID="${this.ids.next()}" Boundary="${mm(this.x(x))} ${mm(this.y(y + h))} ${mm(wm)} ${mm(hm)}" CTM="${mm(wm)} 0 0 ${mm(hm)} 0 0" ResourceID="${id}"/>`);
    return id;
  }

  /** The page's Content.xml (the font id is the document's). */
  contentXml(fontId: number): string {
    const layer = this.ids.next();
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Page xmlns:ofd="${OFD_NS}"><ofd:Content><ofd:Layer ID="${layer}" Type="Body">` +
      this.objects.join('').replaceAll(FONT_ID_PLACEHOLDER, String(fontId)) +
      '</ofd:Layer></ofd:Content></ofd:Page>\n'
    );
  }
}

// Objects are written before the font's id is known (it comes after the pages' objects).
const FONT_ID_PLACEHOLDER = '\u0000font\u0000';

/** cmap with a (3,1) format 4 subtable for BMP characters and a (3,10) format 12 one for all of them. */
export function buildCmap(map: ReadonlyArray<readonly [number, number]>): Buffer {
  const sorted = [...map].sort((a, b) => a[0] - b[0]);
  const bmp = sorted.filter(([cp]) => cp <= 0xfffe);
  const segs = [...bmp, [0xffff, 0] as const];
  const segX2 = segs.length * 2;
  let p2 = 1;
  let log2 = 0;
  while (p2 * 2 <= segs.length) {
    p2 *= 2;
    log2++;
  }
  const f4 = Buffer.alloc(16 + segs.length * 8);
  f4.writeUInt16BE(4, 0);
  f4.writeUInt16BE(f4.length, 2);
  f4.writeUInt16BE(segX2, 6);
  f4.writeUInt16BE(p2 * 2, 8);
  f4.writeUInt16BE(log2, 10);
  f4.writeUInt16BE(segX2 - p2 * 2, 12);
  segs.forEach(([cp, gid], i) => {
    f4.writeUInt16BE(cp, 14 + 2 * i); // endCode
    f4.writeUInt16BE(cp, 16 + segX2 + 2 * i); // startCode
    f4.writeUInt16BE(cp === 0xffff ? 1 : (gid - cp + 0x10000) & 0xffff, 16 + 2 * segX2 + 2 * i); // idDelta
    // idRangeOffset stays 0
  });
  const f12 = Buffer.alloc(16 + sorted.length * 12);
  f12.writeUInt16BE(12, 0);
  f12.writeUInt32BE(f12.length, 4);
  f12.writeUInt32BE(sorted.length, 12);
  sorted.forEach(([cp, gid], i) => {
    f12.writeUInt32BE(cp, 16 + 12 * i);
    f12.writeUInt32BE(cp, 20 + 12 * i);
    f12.writeUInt32BE(gid, 24 + 12 * i);
  });
  const head = Buffer.alloc(4 + 2 * 8);
  head.writeUInt16BE(2, 2);
  head.writeUInt16BE(3, 4);
  head.writeUInt16BE(1, 6);
  head.writeUInt32BE(head.length, 8);
  head.writeUInt16BE(3, 12);
  head.writeUInt16BE(10, 14);
  head.writeUInt32BE(head.length + f4.length, 16);
  return Buffer.concat([head, f4, f12]);
}

/** TrueType subset of the characters `used`, renumbered, with a cmap and the source's name table (OFL notices). */
export function fontSubset(font: LoadedFont, used: ReadonlySet<number>): Buffer {
  const cps = [...used].sort((a, b) => a - b);
  const gids = [0];
  const map: Array<[number, number]> = [];
  const index = new Map<number, number>();
  for (const cp of cps) {
    const gid = font.glyphOf(cp);
    let at = index.get(gid);
    if (at === undefined) {
      at = gids.length;
      gids.push(gid);
      index.set(gid, at);
    }
    map.push([cp, at]);
  }
  const extra: Array<[string, Buffer]> = [['cmap', buildCmap(map)]];
  const name = font.ttf.table('name');
  if (name) extra.push(['name', name]);
  return subsetTrueType(font.ttf, gids, extra).bytes();
}

export interface OfdDocInfo {
  /** 32 hex digits, unique per document. */
  docId: string;
  title: string;
  author: string;
  creator: string;
  /** YYYY-MM-DD. */
  creationDate: string;
  /** Name → value, written as DocInfo/CustomDatas (e.g. the register id). */
  custom: Record<string, string>;
}

/** The whole unsigned document: files by package path (no leading slash). */
export function ofdFiles(o: { info: OfdDocInfo; pages: OfdCanvas[]; ids: IdAllocator; images: OfdImage[]; font: LoadedFont; signed: boolean }): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const used = new Set<number>();
  for (const p of o.pages) for (const cp of p.used) used.add(cp);
  const fontId = o.ids.next();
  const contents = o.pages.map((p) => p.contentXml(fontId));
  const xml = (s: string) => Buffer.from(s, 'utf8');
  const i = o.info;
  const custom = Object.entries(i.custom)
    .map(([k, v]) => `<ofd:CustomData Name="${xmlEscape(k)}">${xmlEscape(v)}</ofd:CustomData>`)
    .join('');
  files.set(
    'OFD.xml',
    xml(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ofd:OFD xmlns:ofd="${OFD_NS}" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>` +
        `<ofd:DocID>${xmlEscape(i.docId)}</ofd:DocID><ofd:Title>${xmlEscape(i.title)}</ofd:Title><ofd:Author>${xmlEscape(i.author)}</ofd:Author>` +
        `<ofd:CreationDate>${xmlEscape(i.creationDate)}</ofd:CreationDate><ofd:Creator>${xmlEscape(i.creator)}</ofd:Creator>` +
        (custom ? `<ofd:CustomDatas>${custom}</ofd:CustomDatas>` : '') +
        `</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>${o.signed ? '<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>' : ''}</ofd:DocBody></ofd:OFD>\n`,
    ),
  );
  const fontFile = `font_${fontId}.ttf`;
  files.set(
    'Doc_0/PublicRes.xml',
    xml(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="${OFD_NS}" BaseLoc="Res"><ofd:Fonts>` +
        `<ofd:Font ID="${fontId}" FontName="${xmlEscape(o.font.postscriptName)}" FamilyName="Noto Sans SC"><ofd:FontFile>${fontFile}</ofd:FontFile></ofd:Font>` +
        '</ofd:Fonts></ofd:Res>\n',
    ),
  );
  files.set(
    'Doc_0/DocumentRes.xml',
    xml(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="${OFD_NS}" BaseLoc="Res"><ofd:MultiMedias>` +
        o.images.map((im) => `<ofd:MultiMedia ID="${im.id}" Type="Image" Format="PNG"><ofd:MediaFile>image_${im.id}.png</ofd:MediaFile></ofd:MultiMedia>`).join('') +
        '</ofd:MultiMedias></ofd:Res>\n',
    ),
  );
  const [w, h] = A4_MM;
  const pageRefs = o.pages.map((p, n) => `<ofd:Page ID="${p.pageId}" BaseLoc="Pages/Page_${n}/Content.xml"/>`).join('');
  files.set(
    'Doc_0/Document.xml',
    xml(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Document xmlns:ofd="${OFD_NS}"><ofd:CommonData><ofd:MaxUnitID>${o.ids.max}</ofd:MaxUnitID>` +
        `<ofd:PageArea><ofd:PhysicalBox>0 0 ${w} ${h}</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes></ofd:CommonData>` +
        `<ofd:Pages>${pageRefs}</ofd:Pages></ofd:Document>\n`,
    ),
  );
  contents.forEach((c, n) => files.set(`Doc_0/Pages/Page_${n}/Content.xml`, xml(c)));
  files.set(`Doc_0/Res/${fontFile}`, fontSubset(o.font, used));
  for (const im of o.images) files.set(`Doc_0/Res/image_${im.id}.png`, Buffer.from(im.png));
  return files;
}
