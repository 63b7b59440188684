/**
 * A minimal PDF 1.7 writer for the two documents we issue: classic cross-reference table (no object streams, so
 * the signature placeholder stays patchable and `verify-pdf` can rule out hidden signatures), one Type0/Identity-H
 * font (CIDFontType2 subset of Noto Sans SC with a ToUnicode map), A4 pages whose content streams are built by
 * {@link Canvas}, the /Info dictionary and one DocMDP certification signature field with the placeholder that
 * `signPdf` patches.
 *
 * Everything is written as strings of PDF syntax (ASCII) and a few Buffers (font file, compressed contents, the
 * 32 KiB of zeros of /Contents); nothing is parsed back. CIDs are handed out per document in order of first use,
 * one per distinct code point, so the content streams are written in one pass and the font subset's glyph i is
 * CID i (CIDToGIDMap /Identity).
 */
import { constants, deflateRawSync, deflateSync } from 'node:zlib';
import type { LoadedFont } from '../fonts.js';
import { BYTE_RANGE_PLACEHOLDER, SIGNATURE_CONTENTS_BYTES } from '../../signing/sign-pdf.js';
import { subsetTrueType, type TrueTypeSubset } from '../ttf.js';
import type { SignatureMeta } from '../types.js';

export type Rgb = readonly [number, number, number];

export const A4: readonly [number, number] = [595.28, 841.89];

/**
 * zlib settings for content streams and the ToUnicode map: level 1 (the sample certificate's content deflated ~25 %
 * faster than at level 6 for ~3 % more bytes), and for streams of a few to ~25 KB a small window and hash table,
 * which make zlib's per-call set-up ~2× cheaper.
 */
const DEFLATE_SMALL = { level: 1, windowBits: 13, memLevel: 5 };

// --- the font file as concatenated deflate segments ----------------------------------------------------------

const ADLER_BASE = 65521;

function adler32(buf: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < buf.length; ) {
    const end = Math.min(buf.length, i + 3800); // no overflow of b before the modulo
    for (; i < end; i++) {
      a += buf[i] as number;
      b += a;
    }
    a %= ADLER_BASE;
    b %= ADLER_BASE;
  }
  return ((b << 16) | a) >>> 0;
}

/** Adler-32 of A‖B from adler(A), adler(B) and |B| (zlib's adler32_combine). */
function adlerCombine(a1: number, a2: number, len2: number): number {
  const rem = len2 % ADLER_BASE;
  let sum1 = a1 & 0xffff;
  let sum2 = (rem * sum1) % ADLER_BASE;
  sum1 += (a2 & 0xffff) + ADLER_BASE - 1;
  sum2 += ((a1 >>> 16) & 0xffff) + ((a2 >>> 16) & 0xffff) + ADLER_BASE - rem;
  if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
  if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
  if (sum2 >= ADLER_BASE * 2) sum2 -= ADLER_BASE * 2;
  if (sum2 >= ADLER_BASE) sum2 -= ADLER_BASE;
  return ((sum2 << 16) | sum1) >>> 0;
}

const SEGMENT = { level: 6, windowBits: 12, memLevel: 4, finishFlush: constants.Z_SYNC_FLUSH };
/** A final, empty fixed-Huffman block: ends a stream of sync-flushed segments. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);
const ZLIB_HEADER = Buffer.from([0x78, 0x01]);

/**
 * `data` as deflate stored (uncompressed) blocks, not final: a zlib call costs more set-up than the ~2 KB of
 * per-document font tables would save.
 */
function storedBlocks(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += 0xffff) {
    const chunk = data.subarray(at, Math.min(data.length, at + 0xffff));
    const h = Buffer.allocUnsafe(5);
    h[0] = 0x00; // BFINAL 0, BTYPE 00 (stored); the rest of the byte is padding
    h.writeUInt16LE(chunk.length, 1);
    h.writeUInt16LE(~chunk.length & 0xffff, 3);
    out.push(h, chunk);
  }
  return out;
}

/**
 * The subset font file as a zlib stream without compressing it again: each glyph's outline is raw-deflated once per
 * process and sync-flushed, so segments end on a byte boundary and concatenate into one valid deflate stream (each
 * refers only to its own bytes); the small per-document tables go in stored blocks, then a final empty block and the
 * Adler-32 of the whole, combined from the parts. A certificate's ~170 glyphs cost a Buffer.concat instead of
 * ~0.4 ms of zlib, for a file ~10 % larger than one deflate call would make.
 */
function deflateFontFile(subset: TrueTypeSubset): Buffer {
  const parts: Buffer[] = [ZLIB_HEADER, ...storedBlocks(subset.prefix)];
  let adler = adler32(subset.prefix);
  for (const g of subset.glyphs) {
    if (g.bytes.length === 0) continue;
    g.z ??= { data: deflateRawSync(g.bytes, SEGMENT), adler: adler32(g.bytes) };
    parts.push(g.z.data);
    adler = adlerCombine(adler, g.z.adler, g.bytes.length);
  }
  const trailer = Buffer.allocUnsafe(4);
  trailer.writeUInt32BE(adler, 0);
  parts.push(FINAL_BLOCK, trailer);
  return Buffer.concat(parts);
}

// --- PDF syntax helpers -------------------------------------------------------------------------------------

/** A number in PDF syntax: integers as is, others rounded to 3 decimals (1/1000 pt), never in exponent form. */
export function num(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const r = Math.round(n * 1000) / 1000;
  return String(r === 0 ? 0 : r);
}

/** Matrix coefficients (cos/sin): 5 decimals. */
function coef(n: number): string {
  const r = Math.round(n * 100000) / 100000;
  return String(r === 0 ? 0 : r);
}

/** A text string as UTF-16BE hex with byte order mark: `<FEFF…>` (how pdf-lib and Acrobat write non-ASCII text). */
export function hexText(s: string): string {
  let out = '<FEFF';
  for (let i = 0; i < s.length; i++) out += (s.charCodeAt(i) | 0x10000).toString(16).slice(1).toUpperCase();
  return `${out}>`;
}

/** `D:YYYYMMDDHHmmSSZ` (UTC), as a literal string. */
export function pdfDate(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `(D:${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z)`;
}

/** A literal string of printable ASCII (escapes \ ( and )). */
export function literal(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error('literal strings must be printable ASCII');
  return `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

const fillColor = (c: Rgb) => `${num(c[0])} ${num(c[1])} ${num(c[2])} rg`;
const strokeColor = (c: Rgb) => `${num(c[0])} ${num(c[1])} ${num(c[2])} RG`;

// --- the document font --------------------------------------------------------------------------------------

/** The font of one document: hands out CIDs (1, 2, …) in order of first use, one per distinct code point. */
export class DocumentFont {
  /** Resource name in the pages' /Font dictionary. */
  static readonly resource = '/F1';
  private readonly hex = new Map<number, string>();
  /** CID → code point; CID 0 is .notdef. */
  readonly codePoints: number[] = [0];

  constructor(readonly font: LoadedFont) {}

  /** `text` as the hex digits of an Identity-H string (two bytes per character). */
  encode(text: string): string {
    let out = '';
    for (let i = 0; i < text.length; i++) {
      let cp = text.charCodeAt(i);
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          i++;
        }
      }
      let h = this.hex.get(cp);
      if (h === undefined) {
        const cid = this.codePoints.length;
        if (cid > 0xffff) throw new Error('more than 65535 distinct characters in one document');
        this.codePoints.push(cp);
        h = (cid | 0x10000).toString(16).slice(1);
        this.hex.set(cp, h);
      }
      out += h;
    }
    return out;
  }
}

// --- page content -------------------------------------------------------------------------------------------

export interface TextStyle {
  size: number;
  color?: Rgb;
  /** Synthetic bold: fill and stroke the outlines (render mode 2), stroke width 3.5 % of the size. */
  bold?: boolean;
}

const BLACK: Rgb = [0, 0, 0];
/** Bézier circle constant (the same as pdf-lib's). */
const KAPPA = (4 * (Math.SQRT2 - 1)) / 3;

/** Content stream of one page, in PDF operators. */
export class Canvas {
  private ops = '';

  constructor(readonly font: DocumentFont) {}

  get content(): string {
    return this.ops;
  }

  /** Appends raw operators (one or more complete lines). */
  raw(ops: string): void {
    this.ops += ops;
  }

  /** One line of text with its baseline starting at (x, y). */
  text(s: string, x: number, y: number, style: TextStyle): void {
    if (s === '') return;
    const color = style.color ?? BLACK;
    const show = `BT ${DocumentFont.resource} ${num(style.size)} Tf ${fillColor(color)} ${num(x)} ${num(y)} Td <${this.font.encode(s)}> Tj ET\n`;
    if (style.bold) this.ops += `q 2 Tr ${num(style.size * 0.035)} w ${strokeColor(color)}\n${show}Q\n`;
    else this.ops += show;
  }

  /** Text rotated by `angle` (radians, counter-clockwise) about its start point (x, y). */
  rotatedText(s: string, x: number, y: number, angle: number, size: number, color: Rgb): void {
    if (s === '') return;
    const c = Math.cos(angle);
    const sn = Math.sin(angle);
    this.ops += `BT ${DocumentFont.resource} ${num(size)} Tf ${fillColor(color)} ${coef(c)} ${coef(sn)} ${coef(-sn)} ${coef(c)} ${num(x)} ${num(y)} Tm <${this.font.encode(s)}> Tj ET\n`;
  }

  strokeRect(x: number, y: number, w: number, h: number, width: number, color: Rgb): void {
    this.ops += `q ${strokeColor(color)} ${num(width)} w ${num(x)} ${num(y)} ${num(w)} ${num(h)} re S Q\n`;
  }

  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    this.ops += `q ${fillColor(color)} ${num(x)} ${num(y)} ${num(w)} ${num(h)} re f Q\n`;
  }

  line(x1: number, y1: number, x2: number, y2: number, width: number, color: Rgb): void {
    this.ops += `q ${strokeColor(color)} ${num(width)} w ${num(x1)} ${num(y1)} m ${num(x2)} ${num(y2)} l S Q\n`;
  }

  /** Circle outline of radius `r` (four Bézier arcs), stroked `width` wide. */
  strokeCircle(cx: number, cy: number, r: number, width: number, color: Rgb): void {
    const k = r * KAPPA;
    const p = (x: number, y: number) => `${num(x)} ${num(y)}`;
    this.ops +=
      `q ${strokeColor(color)} ${num(width)} w ${p(cx - r, cy)} m ` +
      `${p(cx - r, cy - k)} ${p(cx - k, cy - r)} ${p(cx, cy - r)} c ` +
      `${p(cx + k, cy - r)} ${p(cx + r, cy - k)} ${p(cx + r, cy)} c ` +
      `${p(cx + r, cy + k)} ${p(cx + k, cy + r)} ${p(cx, cy + r)} c ` +
      `${p(cx - k, cy + r)} ${p(cx - r, cy + k)} ${p(cx - r, cy)} c S Q\n`;
  }

  /** Filled closed polygon. */
  fillPolygon(points: ReadonlyArray<readonly [number, number]>, color: Rgb): void {
    let path = '';
    points.forEach(([x, y], i) => {
      path += `${num(x)} ${num(y)} ${i === 0 ? 'm' : 'l'} `;
    });
    this.ops += `q ${fillColor(color)} ${path}h f Q\n`;
  }
}

// --- the file -----------------------------------------------------------------------------------------------

export interface DocumentSpec {
  info: { title: string; author: string; creator: string; producer: string; date: Date; certificateId?: string };
  font: DocumentFont;
  /** One content stream per page (A4). */
  pages: Canvas[];
  signature: {
    meta: SignatureMeta;
    /** Page carrying the widget (0-based). */
    page: number;
    /** Widget rectangle [x1, y1, x2, y2]. */
    rect: readonly [number, number, number, number];
    fieldName: string;
  };
}

/** Tag of a subset font (`ABCDEF+`): derived from the glyph set, so the same text gives the same bytes. */
function subsetTag(codePoints: readonly number[]): string {
  let h = 0x811c9dc5;
  for (const cp of codePoints) {
    h ^= cp;
    h = Math.imul(h, 0x01000193);
  }
  let tag = '';
  for (let i = 0; i < 6; i++) {
    tag += String.fromCharCode(65 + ((h >>> 0) % 26));
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  }
  return tag;
}

function toUnicodeCMap(codePoints: readonly number[]): string {
  let out =
    '/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n' +
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n' +
    '/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n';
  for (let start = 1; start < codePoints.length; start += 100) {
    const end = Math.min(codePoints.length, start + 100);
    out += `${end - start} beginbfchar\n`;
    for (let cid = start; cid < end; cid++) {
      const cp = codePoints[cid] as number;
      let u: string;
      if (cp < 0x10000) u = (cp | 0x10000).toString(16).slice(1);
      else {
        const v = cp - 0x10000;
        u = (0xd800 + (v >> 10)).toString(16) + (0xdc00 + (v & 0x3ff)).toString(16);
      }
      out += `<${(cid | 0x10000).toString(16).slice(1)}> <${u}>\n`;
    }
    out += 'endbfchar\n';
  }
  return `${out}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n`;
}

const HEADER = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
const zeroContents = new Map<number, Buffer>();
/** The zeroed /Contents hex digits of a placeholder of `bytes` bytes (shared per size: it is never written to). */
function zeros(bytes: number): Buffer {
  if (!Number.isInteger(bytes) || bytes < 1024 || bytes > 262_144) throw new Error(`signature reserve must be 1 KiB … 256 KiB, got ${bytes}`);
  let z = zeroContents.get(bytes);
  if (!z) {
    z = Buffer.alloc(bytes * 2, 0x30);
    zeroContents.set(bytes, z);
  }
  return z;
}

/** Object numbers of the fixed part; pages and their contents follow from {@link FIRST_PAGE}. */
const OBJ = { catalog: 1, pages: 2, info: 3, sig: 4, widget: 5, appearance: 6, font: 7, cidFont: 8, descriptor: 9, toUnicode: 10, fontFile: 11 };
const FIRST_PAGE = 12;

class ObjectWriter {
  private readonly chunks: Array<string | Buffer> = [HEADER];
  private pos = HEADER.length;
  private readonly offsets: number[] = [];

  private push(c: string | Buffer): void {
    this.chunks.push(c);
    this.pos += c.length; // strings here are Latin-1: one byte per character
  }

  obj(n: number, body: string): void {
    this.offsets[n] = this.pos;
    this.push(`${n} 0 obj\n${body}\nendobj\n`);
  }

  /** An object whose body is several pieces (e.g. the signature dictionary around its 32 KiB of zeros). */
  objParts(n: number, parts: Array<string | Buffer>): void {
    this.offsets[n] = this.pos;
    this.push(`${n} 0 obj\n`);
    for (const p of parts) this.push(p);
    this.push('\nendobj\n');
  }

  stream(n: number, dict: string, data: Buffer | string): void {
    this.offsets[n] = this.pos;
    this.push(`${n} 0 obj\n<< ${dict} /Length ${data.length} >>\nstream\n`);
    this.push(data);
    this.push('\nendstream\nendobj\n');
  }

  finish(root: number, info: number): Buffer {
    const size = this.offsets.length;
    const xrefAt = this.pos;
    let xref = `xref\n0 ${size}\n0000000000 65535 f \n`;
    for (let n = 1; n < size; n++) {
      const off = this.offsets[n];
      if (off === undefined) throw new Error(`object ${n} was never written`);
      xref += `${String(off).padStart(10, '0')} 00000 n \n`;
    }
    this.push(`${xref}trailer\n<< /Size ${size} /Root ${root} 0 R /Info ${info} 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`);
    const out = Buffer.allocUnsafe(this.pos);
    let at = 0;
    for (const c of this.chunks) {
      at += typeof c === 'string' ? out.write(c, at, 'latin1') : c.copy(out, at);
    }
    return out;
  }
}

/** What a document's font objects hold once its text is drawn (metrics in 1/1000 em). */
export interface FontParts {
  /** `ABCDEF+NotoSansSC-Regular`, without the leading slash. */
  baseFont: string;
  /** Width of .notdef (/DW). */
  dw: number;
  /** Widths of CIDs 1, 2, … (/W [1 [...]]). */
  widths: number[];
  bbox: [number, number, number, number];
  ascent: number;
  descent: number;
  capHeight: number;
  xHeight: number;
  /** The ToUnicode CMap (uncompressed). */
  toUnicode: string;
  /** The subset TrueType file as a zlib stream (/Filter /FlateDecode) and its uncompressed length (/Length1). */
  fontFile: Buffer;
  length1: number;
}

/**
 * The Type0 font of `font` as it stands (call it after every text is encoded): the same objects whether this writer
 * or another (pdf-lib, filling a department's template) puts them in the file.
 */
export function fontParts(font: DocumentFont): FontParts {
  const lf = font.font;
  const ttf = lf.ttf;
  const cps = font.codePoints;
  const gids = cps.map((cp, cid) => (cid === 0 ? 0 : lf.glyphOf(cp)));
  const k = 1000 / ttf.unitsPerEm;
  const widths: number[] = [];
  for (let cid = 1; cid < gids.length; cid++) widths.push(Math.round(ttf.advance(gids[cid] as number) * k));
  const subset = subsetTrueType(ttf, gids);
  return {
    baseFont: `${subsetTag(cps)}+${lf.postscriptName}`,
    dw: Math.round(ttf.advance(0) * k),
    widths,
    bbox: ttf.bbox.map((v) => Math.round(v * k)) as [number, number, number, number],
    ascent: Math.round(ttf.ascent * k),
    descent: Math.round(ttf.descent * k),
    capHeight: Math.round(ttf.capHeight * k),
    xHeight: Math.round(ttf.xHeight * k),
    toUnicode: toUnicodeCMap(cps),
    fontFile: deflateFontFile(subset),
    length1: subset.length,
  };
}

/** Writes the whole unsigned document (with its signature placeholder). */
export function writeDocument(spec: DocumentSpec): Buffer {
  const { font, pages, info, signature } = spec;
  if (pages.length === 0) throw new Error('a document needs at least one page');
  const w = new ObjectWriter();
  const pageObj = (i: number) => FIRST_PAGE + 2 * i;
  const widgetPage = pageObj(signature.page);
  if (signature.page < 0 || signature.page >= pages.length) throw new Error('signature page out of range');

  w.obj(OBJ.catalog, `<< /Type /Catalog /Pages ${OBJ.pages} 0 R /AcroForm << /Fields [${OBJ.widget} 0 R] /SigFlags 3 >> /Perms << /DocMDP ${OBJ.sig} 0 R >> >>`);
  w.obj(OBJ.pages, `<< /Type /Pages /Kids [${pages.map((_, i) => `${pageObj(i)} 0 R`).join(' ')}] /Count ${pages.length} >>`);
  const date = pdfDate(info.date);
  // /Info before the signature dictionary: a changed /Title must fall inside the signed range.
  w.obj(
    OBJ.info,
    `<< /Title ${hexText(info.title)} /Author ${hexText(info.author)} /Creator ${hexText(info.creator)} /Producer ${hexText(info.producer)} ` +
      `/CreationDate ${date} /ModDate ${date}${info.certificateId !== undefined ? ` /CertificateId ${literal(info.certificateId)}` : ''} >>`,
  );
  // The signature: PPKLite, ETSI.CAdES.detached, /M, DocMDP P=1 certification (referenced from /Perms), a fixed-width
  // /ByteRange and zeroed /Contents — the placeholder signPdf patches in place.
  const m = signature.meta;
  w.objParts(OBJ.sig, [
    `<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached ${BYTE_RANGE_PLACEHOLDER} /Contents <`,
    zeros(m.reserveBytes ?? SIGNATURE_CONTENTS_BYTES),
    `> /M ${pdfDate(m.signingTime)} /Name ${hexText(m.signerName)} /Reason ${hexText(m.reason)} /Location ${hexText(m.location)} ` +
      '/Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P 1 /V /1.2 >> >>] >>',
  ]);
  const [x1, y1, x2, y2] = signature.rect;
  w.obj(
    OBJ.widget,
    `<< /Type /Annot /Subtype /Widget /FT /Sig /Rect [${num(x1)} ${num(y1)} ${num(x2)} ${num(y2)}] /V ${OBJ.sig} 0 R ` +
      `/T ${hexText(signature.fieldName)} /F 132 /P ${widgetPage} 0 R /AP << /N ${OBJ.appearance} 0 R >> >>`,
  );
  // The seal is page content; the widget only needs an (empty) appearance to be a well-formed visible field.
  w.stream(OBJ.appearance, `/Type /XObject /Subtype /Form /BBox [0 0 ${num(Math.max(0, x2 - x1))} ${num(Math.max(0, y2 - y1))}]`, '');

  // Font: Type0 → CIDFontType2 (CID i = subset glyph i) → descriptor → FontFile2; ToUnicode from the same CIDs.
  const f = fontParts(font);
  w.obj(OBJ.font, `<< /Type /Font /Subtype /Type0 /BaseFont /${f.baseFont} /Encoding /Identity-H /DescendantFonts [${OBJ.cidFont} 0 R] /ToUnicode ${OBJ.toUnicode} 0 R >>`);
  w.obj(
    OBJ.cidFont,
    `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /${f.baseFont} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> ` +
      `/FontDescriptor ${OBJ.descriptor} 0 R /DW ${f.dw}${f.widths.length > 0 ? ` /W [1 [${f.widths.join(' ')}]]` : ''} /CIDToGIDMap /Identity >>`,
  );
  const [bx1, by1, bx2, by2] = f.bbox;
  w.obj(
    OBJ.descriptor,
    `<< /Type /FontDescriptor /FontName /${f.baseFont} /Flags 4 /FontBBox [${bx1} ${by1} ${bx2} ${by2}] /ItalicAngle 0 ` +
      `/Ascent ${f.ascent} /Descent ${f.descent} /CapHeight ${f.capHeight} /XHeight ${f.xHeight} /StemV 80 /FontFile2 ${OBJ.fontFile} 0 R >>`,
  );
  // Left uncompressed: ~3 KB of text whose deflate set-up costs more than the 2 KB it would save.
  w.stream(OBJ.toUnicode, '', f.toUnicode);
  w.stream(OBJ.fontFile, `/Length1 ${f.length1} /Filter /FlateDecode`, f.fontFile);

  pages.forEach((canvas, i) => {
    const annots = i === signature.page ? ` /Annots [${OBJ.widget} 0 R]` : '';
    w.obj(
      pageObj(i),
      `<< /Type /Page /Parent ${OBJ.pages} 0 R /MediaBox [0 0 ${num(A4[0])} ${num(A4[1])}] ` +
        `/Resources << /Font << ${DocumentFont.resource} ${OBJ.font} 0 R >> /ProcSet [/PDF /Text] >> /Contents ${pageObj(i) + 1} 0 R${annots} >>`,
    );
    w.stream(pageObj(i) + 1, '/Filter /FlateDecode', deflateSync(Buffer.from(canvas.content, 'latin1'), DEFLATE_SMALL));
  });
  return w.finish(OBJ.catalog, OBJ.info);
}
