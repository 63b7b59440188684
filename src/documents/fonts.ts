/**
 * CJK font for the documents: Noto Sans SC as TrueType (glyf outlines, from @expo-google-fonts/noto-sans-sc, OFL),
 * parsed once per process by `ttf.ts`. TrueType subsets are a concatenation of cached glyph bytes (well under a
 * millisecond) where the OTF/CFF subsetter of fontkit cost a fixed ~22 ms per document. The font covers the rare
 * characters of real names (䶮 U+4DAE, 㵘 U+3D58, 𬌗 U+2C317 through its format 12 cmap).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PermanentFailure } from '../errors.js';
import { parseTrueType } from './ttf.js';
import type { TrueTypeFont } from './ttf.js';

const require = createRequire(import.meta.url);

export type FontWeight = 'regular' | 'bold';

const FILES: Record<FontWeight, { file: string; postscriptName: string }> = {
  regular: { file: '@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf', postscriptName: 'NotoSansSC-Regular' },
  bold: { file: '@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf', postscriptName: 'NotoSansSC-Bold' },
};

const WHITESPACE = /\s/;

/** A parsed font with per-character measuring (per process). */
export interface LoadedFont {
  readonly weight: FontWeight;
  /** PostScript name, e.g. NotoSansSC-Regular (the PDF BaseFont after the subset tag). */
  readonly postscriptName: string;
  readonly ttf: TrueTypeFont;
  /**
   * Glyph drawn for a code point: the font's own, the space glyph for whitespace the font lacks, else 0 (.notdef,
   * which {@link assertPrintable} refuses before anything is drawn).
   */
  glyphOf(cp: number): number;
  /** Advance width of one code point at size 1 (em fraction). */
  advance(cp: number): number;
  /** Width of `text` at `size`, summing per-character advances (no shaping, no kerning). */
  widthOf(text: string, size: number): number;
}

const loaded = new Map<FontWeight, LoadedFont>();

/** Loads and parses one weight once per process (≈10 MB read, ~25 ms). */
export function loadFont(weight: FontWeight = 'regular'): LoadedFont {
  const hit = loaded.get(weight);
  if (hit) return hit;
  const { file, postscriptName } = FILES[weight];
  const ttf = parseTrueType(readFileSync(require.resolve(file)));
  const scale = 1 / ttf.unitsPerEm;
  const space = ttf.glyphId(0x20);
  const glyphOf = (cp: number): number => {
    const gid = ttf.glyphId(cp);
    return gid !== 0 || !WHITESPACE.test(String.fromCodePoint(cp)) ? gid : space;
  };
  const advance = (cp: number): number => ttf.advance(glyphOf(cp)) * scale;
  const entry: LoadedFont = {
    weight,
    postscriptName,
    ttf,
    glyphOf,
    advance,
    widthOf(text, size) {
      let w = 0;
      for (let i = 0; i < text.length; i++) {
        const cp = text.codePointAt(i) as number;
        if (cp > 0xffff) i++;
        w += advance(cp);
      }
      return w * size;
    },
  };
  loaded.set(weight, entry);
  return entry;
}

/** Characters of `text` that the font has no glyph for (they would print as .notdef boxes). */
export function missingGlyphs(text: string, weight: FontWeight = 'regular'): string[] {
  const { ttf } = loadFont(weight);
  const out = new Set<string>();
  for (const ch of text) if (ttf.glyphId(ch.codePointAt(0) as number) === 0 && !WHITESPACE.test(ch)) out.add(ch);
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
