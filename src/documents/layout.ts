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
 * Splits `text` into lines no wider than `maxWidth` at `size`, breaking between any two characters (CJK has no
 * spaces) and honouring '\n'. Runs in O(n).
 */
export function wrapText(text: string, maxWidth: number, size: number, font: LoadedFont): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    let width = 0;
    for (const ch of para) {
      const w = font.advance(ch.codePointAt(0) as number) * size;
      if (width + w > maxWidth && line !== '' && !NO_LINE_START.has(ch)) {
        lines.push(line);
        line = '';
        width = 0;
      }
      line += ch;
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

/** `2024-05-01` → `2024年05月01日`; throws on anything that is not a YYYY-MM-DD date. */
export function formatChineseDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`date ${JSON.stringify(iso)} is not YYYY-MM-DD`);
  return `${m[1]}年${m[2]}月${m[3]}日`;
}
