/**
 * Text layout helpers shared by the certificate and the e-form: line wrapping by summed per-character widths
 * (linear; re-measuring growing prefixes was O(n²) and cost ~20 ms a document), and drawing a line of text.
 */
import type { LoadedFont } from './fonts.js';
import type { Canvas, Rgb } from './pdf/pdf-writer.js';

export const BLACK: Rgb = [0, 0, 0];

// Characters that must not start a line (行首禁则); they stay on the previous line even if it overflows a little.
const NO_LINE_START = new Set([...'，。、；：？！）》」』】〕〉”’,.;:?!)]}%…—～·']);

/**
 * Pieces that must not be split across lines: a Chinese date (2030年12月31日), an ISO date, and runs of Latin
 * letters and digits (numbers, codes, 沈2026120400017's digits). Anything else breaks between any two characters.
 */
const KEEP_TOGETHER = /\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{2}-\d{2}|[0-9A-Za-z][0-9A-Za-z.,:_%/-]*[0-9A-Za-z%]|[\s\S]/gu;

/**
 * Splits `text` into lines no wider than `maxWidth` at `size`, breaking between any two CJK characters (CJK has
 * no spaces) and honouring '\n', but never inside a number, code or date (a piece wider than a whole line, such as
 * a long URL, is still broken by character). Runs in O(n).
 */
export function wrapText(text: string, maxWidth: number, size: number, font: LoadedFont): readonly string[] {
  // Most wrapped text of a filing's two PDFs is the same in every filing (statements, labels, notes), so the lines
  // are remembered per font and width; values that vary take a slot until the map is full, then it starts again.
  let cache = wrapped.get(font);
  if (!cache) wrapped.set(font, (cache = new Map<string, readonly string[]>()));
  const key = `${size} ${maxWidth} ${text}`;
  const known = cache.get(key);
  if (known) return known;
  const lines = Object.freeze(wrapUncached(text, maxWidth, size, font));
  if (cache.size >= WRAP_CACHE_SIZE) cache.clear();
  cache.set(key, lines);
  return lines;
}

const WRAP_CACHE_SIZE = 2000;
const wrapped = new WeakMap<LoadedFont, Map<string, readonly string[]>>();

function wrapUncached(text: string, maxWidth: number, size: number, font: LoadedFont): string[] {
  const lines: string[] = [];
  const widthOf = (piece: string): number => {
    let w = 0;
    for (const ch of piece) w += font.advance(ch.codePointAt(0) as number) * size;
    return w;
  };
  for (const para of text.split('\n')) {
    let line = '';
    let width = 0;
    const pushChar = (ch: string, w: number): void => {
      if (width + w > maxWidth && line !== '' && !NO_LINE_START.has(ch)) {
        lines.push(line);
        line = '';
        width = 0;
      }
      line += ch;
      width += w;
    };
    for (const piece of para.match(KEEP_TOGETHER) ?? []) {
      const first = piece[0] as string;
      const w = piece.length === 1 ? font.advance(first.codePointAt(0) as number) * size : widthOf(piece);
      if (piece.length === 1 || [...piece].length === 1) {
        pushChar(piece, w);
        continue;
      }
      if (w > maxWidth) {
        // Longer than a line on its own (a URL): break it by character.
        for (const ch of piece) pushChar(ch, font.advance(ch.codePointAt(0) as number) * size);
        continue;
      }
      if (width + w > maxWidth && line !== '') {
        lines.push(line);
        line = '';
        width = 0;
      }
      line += piece;
      width += w;
    }
    lines.push(line);
  }
  return lines;
}

export interface TextOpts {
  x: number;
  y: number;
  size: number;
  font: LoadedFont;
  color?: Rgb;
  /** Synthetic bold (fill + stroke of the outlines): one font subset per document, not two. */
  bold?: boolean;
}

/** Draws one line of text with its baseline starting at (x, y). */
export function drawLine(page: Canvas, text: string, o: TextOpts): void {
  page.text(text, o.x, o.y, { size: o.size, color: o.color ?? BLACK, bold: o.bold ?? false });
}

/** Draws `text` centred on `cx`. */
export function drawCentered(page: Canvas, text: string, cx: number, o: Omit<TextOpts, 'x'>): void {
  drawLine(page, text, { ...o, x: cx - o.font.widthOf(text, o.size) / 2 });
}

/** `2024-05-01` → `2024年5月1日` (how Chinese official documents print dates); throws on anything not YYYY-MM-DD. */
export function formatChineseDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`date ${JSON.stringify(iso)} is not YYYY-MM-DD`);
  return `${m[1]}年${Number(m[2])}月${Number(m[3])}日`;
}

/** The Beijing (UTC+8) calendar day of an instant, YYYY-MM-DD, whatever the server's zone. */
export function beijingDate(at: Date | string): string {
  const t = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(t)) throw new RangeError(`not a time: ${JSON.stringify(at)}`);
  return new Date(t + 8 * 3600_000).toISOString().slice(0, 10);
}

/** An instant as printed on a document: `2026年12月4日 22:24` in Beijing time. */
export function formatBeijingDateTime(at: Date | string): string {
  const t = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(t)) throw new RangeError(`not a time: ${JSON.stringify(at)}`);
  const b = new Date(t + 8 * 3600_000).toISOString();
  return `${formatChineseDate(b.slice(0, 10))} ${b.slice(11, 16)}`;
}

const GRADES = ['', '一级', '二级', '三级', '四级'] as const;

/** 残疾等级 as printed: 3 → 三级 (1–4; GB/T 26341); anything else is printed as given. */
export function formatGrade(v: unknown): string {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[1-4]$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 4 ? GRADES[n]! : typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}
