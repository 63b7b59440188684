/**
 * Text layout helpers shared by the certificate and the e-form: line wrapping by summed per-character widths
 * (linear; re-measuring growing prefixes was O(n²) and cost ~20 ms a document) and synthetic bold.
 */
import { TextRenderingMode, popGraphicsState, pushGraphicsState, rgb, setLineWidth, setStrokingRgbColor, setTextRenderingMode } from 'pdf-lib';
import type { PDFPage, RGB } from 'pdf-lib';
import type { EmbeddedFont } from './fonts.js';

export const BLACK: RGB = rgb(0, 0, 0);

// Characters that must not start a line (行首禁则); they stay on the previous line even if it overflows a little.
const NO_LINE_START = new Set([...'，。、；：？！）》」』】〕〉”’,.;:?!)]}%…—～·']);

/**
 * Splits `text` into lines no wider than `maxWidth` at `size`, breaking between any two characters (CJK has no
 * spaces) and honouring '\n'. Runs in O(n).
 */
export function wrapText(text: string, maxWidth: number, size: number, font: EmbeddedFont): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    let width = 0;
    for (const ch of para) {
      const w = font.loaded.advance(ch.codePointAt(0) as number) * size;
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
  font: EmbeddedFont;
  color?: RGB;
  bold?: boolean;
}

/**
 * Draws one line of text. `bold` fills and strokes the glyph outlines (synthetic bold): embedding the real bold
 * face would add a second CFF subset, ~20 ms and ~70 KB per document.
 */
export function drawLine(page: PDFPage, text: string, o: TextOpts): void {
  if (text === '') return;
  const color = o.color ?? BLACK;
  if (o.bold) {
    page.pushOperators(
      pushGraphicsState(),
      setTextRenderingMode(TextRenderingMode.FillAndOutline),
      setLineWidth(o.size * 0.035),
      setStrokingRgbColor(color.red, color.green, color.blue),
    );
  }
  page.drawText(text, { x: o.x, y: o.y, size: o.size, font: o.font.pdfFont, color });
  if (o.bold) page.pushOperators(popGraphicsState());
}

/** Draws `text` centred on `cx`. */
export function drawCentered(page: PDFPage, text: string, cx: number, o: Omit<TextOpts, 'x'>): void {
  drawLine(page, text, { ...o, x: cx - o.font.widthOf(text, o.size) / 2 });
}

/** `2024-05-01` → `2024年05月01日`; throws on anything that is not a YYYY-MM-DD date. */
export function formatChineseDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`date ${JSON.stringify(iso)} is not YYYY-MM-DD`);
  return `${m[1]}年${m[2]}月${m[3]}日`;
}
