/**
 * CJK font for the documents: Noto Sans Hans (OTF/CFF, from @embedpdf/fonts-sc) embedded as a subset through
 * upstream fontkit 2. `@pdf-lib/fontkit` 1.x writes CFF subsets that poppler renders as boxes, hence the adapter.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { PDFDocument, PDFFont } from 'pdf-lib';
import { PermanentFailure } from '../errors.js';

const require = createRequire(import.meta.url);

export type FontWeight = 'regular' | 'bold';

const FILES: Record<FontWeight, string> = {
  regular: 'NotoSansHans-Regular.otf',
  bold: 'NotoSansHans-Bold.otf',
};

/** The slice of a fontkit 2 font that this module and pdf-lib use. */
interface FontkitGlyph {
  id: number;
  advanceWidth: number;
}
interface FontkitSubset {
  cff?: unknown;
  includeGlyph(glyph: number | FontkitGlyph): number;
  encode(): Uint8Array;
  encodeStream?: () => unknown;
}
interface FontkitFont {
  unitsPerEm: number;
  ascent: number;
  descent: number;
  glyphForCodePoint(cp: number): FontkitGlyph;
  hasGlyphForCodePoint(cp: number): boolean;
  createSubset(): FontkitSubset;
}
interface Fontkit {
  create(bytes: Uint8Array): FontkitFont;
}

/** A parsed font plus a per-code-point width cache (per process). */
export interface LoadedFont {
  readonly weight: FontWeight;
  readonly bytes: Uint8Array;
  readonly font: FontkitFont;
  /** Advance width of one code point at size 1 (em fraction). */
  advance(cp: number): number;
}

// The package exports only its JS entry, so the .otf files are found relative to it.
function fontPath(weight: FontWeight): string {
  const entry = require.resolve('@embedpdf/fonts-sc');
  return path.join(path.dirname(entry), '..', 'fonts', FILES[weight]);
}

const loaded = new Map<FontWeight, LoadedFont>();
// pdf-lib hands the bytes back to fontkit.create on every embedFont; map them to the already-parsed font.
const byBytes = new WeakMap<Uint8Array, FontkitFont>();

let upstream: Fontkit | undefined;
function fontkit(): Fontkit {
  upstream ??= require('fontkit') as Fontkit;
  return upstream;
}

/** Loads and parses one weight once per process (≈8 MB read, lazy CFF parse). */
export function loadFont(weight: FontWeight = 'regular'): LoadedFont {
  const hit = loaded.get(weight);
  if (hit) return hit;
  const bytes = new Uint8Array(readFileSync(fontPath(weight)));
  const font = withStreamingSubsets(fontkit().create(bytes));
  byBytes.set(bytes, font);
  const widths = new Map<number, number>();
  const scale = 1 / font.unitsPerEm;
  const entry: LoadedFont = {
    weight,
    bytes,
    font,
    advance(cp) {
      let w = widths.get(cp);
      if (w === undefined) {
        w = font.glyphForCodePoint(cp).advanceWidth * scale;
        widths.set(cp, w);
      }
      return w;
    },
  };
  loaded.set(weight, entry);
  return entry;
}

/**
 * The object registered with `PDFDocument.registerFontkit`: upstream fontkit 2 behind the fontkit 1 shape pdf-lib
 * expects (cached parse; `subset.encodeStream()` served from `subset.encode()`).
 */
export const fontkitAdapter = {
  create(bytes: Uint8Array): unknown {
    return byBytes.get(bytes) ?? withStreamingSubsets(fontkit().create(bytes));
  },
};

function withStreamingSubsets(font: FontkitFont): FontkitFont {
  const createSubset = font.createSubset.bind(font);
  font.createSubset = () => {
    const subset = createSubset();
    subset.encodeStream = () => onceStream(subset.encode());
    return subset;
  };
  return font;
}

/** Just enough of a readable stream for pdf-lib: emits one chunk and ends. */
function onceStream(bytes: Uint8Array) {
  const handlers: Record<string, ((arg?: unknown) => void) | undefined> = {};
  const stream = {
    on(event: string, fn: (arg?: unknown) => void) {
      handlers[event] = fn;
      if (event === 'end') {
        // pdf-lib attaches 'data', then 'end', then 'error'; deliver after the chain is complete.
        queueMicrotask(() => {
          handlers.data?.(bytes);
          handlers.end?.();
        });
      }
      return stream;
    },
  };
  return stream;
}

/** `ABCDEF+` subset tag: without it pdffonts reports `sub no`. */
function subsetTag(): string {
  let tag = '';
  for (const b of randomBytes(6)) tag += String.fromCharCode(65 + (b % 26));
  return tag;
}

/** A font embedded in one document, with per-character width measuring that does not re-layout text. */
export interface EmbeddedFont {
  readonly pdfFont: PDFFont;
  readonly loaded: LoadedFont;
  /** Width of `text` at `size`, summing cached per-character advances (no shaping, no kerning). */
  widthOf(text: string, size: number): number;
}

/**
 * Embeds Noto Sans Hans as a subset (`ABCDEF+NotoSansHans-Regular`) with a ToUnicode map, so the text renders in
 * poppler and is extractable. Registers the fontkit adapter on `doc` as a side effect.
 */
export async function embedCjkFont(doc: PDFDocument, weight: FontWeight = 'regular'): Promise<EmbeddedFont> {
  const lf = loadFont(weight);
  doc.registerFontkit(fontkitAdapter as unknown as Parameters<PDFDocument['registerFontkit']>[0]);
  const name = FILES[weight].replace(/\.otf$/, '');
  const pdfFont = await doc.embedFont(lf.bytes, { subset: true, customName: `${subsetTag()}+${name}` });
  return {
    pdfFont,
    loaded: lf,
    widthOf(text, size) {
      let w = 0;
      for (const ch of text) w += lf.advance(ch.codePointAt(0) as number);
      return w * size;
    },
  };
}

/** Characters of `text` that the font has no glyph for (they would print as .notdef boxes). */
export function missingGlyphs(text: string, weight: FontWeight = 'regular'): string[] {
  const { font } = loadFont(weight);
  const out = new Set<string>();
  for (const ch of text) if (!/\s/.test(ch) && !font.hasGlyphForCodePoint(ch.codePointAt(0) as number)) out.add(ch);
  return [...out];
}

/** Text that would print as blanks or .notdef boxes: refused, never issued. */
export class UnprintableTextError extends PermanentFailure {
  override name = 'UnprintableTextError';
  /** Each missing character with where it occurs, e.g. `{char: '𓀀', codePoint: 'U+13000', where: '持证主体'}`. */
  readonly missing: Array<{ char: string; codePoint: string; where: string }>;

  constructor(missing: Array<{ char: string; codePoint: string; where: string }>) {
    const list = missing.map((m) => `"${m.char}" (${m.codePoint}) 见于 in ${m.where}`).join('; ');
    super(`字体缺少以下字符，无法签发 No embedded font has these characters: ${list}`, 'CERTIFICATE_UNPRINTABLE_TEXT');
    this.missing = missing;
  }
}

/** Throws {@link UnprintableTextError} when any text of `items` has a character the font lacks. */
export function assertPrintable(items: Array<{ where: string; text: string }>, weight: FontWeight = 'regular'): void {
  const missing: Array<{ char: string; codePoint: string; where: string }> = [];
  for (const { where, text } of items) {
    for (const char of missingGlyphs(text, weight)) {
      const cp = (char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
      missing.push({ char, codePoint: `U+${cp}`, where });
    }
  }
  if (missing.length > 0) throw new UnprintableTextError(missing);
}
