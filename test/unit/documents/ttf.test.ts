import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadFont } from '../../../src/documents/fonts.js';
import { DocumentFont, hexText, num, pdfDate } from '../../../src/documents/pdf/pdf-writer.js';
import { subsetTrueType } from '../../../src/documents/ttf.js';
import type { TrueTypeFont } from '../../../src/documents/ttf.js';

// Upstream fontkit (an independent TrueType reader) judges the subsets.
interface FkGlyph {
  path: { toSVG(): string };
  advanceWidth: number;
}
interface FkFont {
  numGlyphs: number;
  unitsPerEm: number;
  getGlyph(id: number): FkGlyph;
}
const require = createRequire(import.meta.url);
const fontkit = require('fontkit') as { create(b: Buffer): FkFont };

const cp = (ch: string) => ch.codePointAt(0) as number;

/** Sum of the file as big-endian uint32 words: 0xB1B0AFBA for a font whose head.checkSumAdjustment is right. */
function fileChecksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 4) {
    const word = Buffer.alloc(4);
    b.copy(word, 0, i, Math.min(i + 4, b.length));
    sum = (sum + word.readUInt32BE(0)) >>> 0;
  }
  return sum;
}

function tableOf(font: Buffer, tag: string): Buffer {
  const n = font.readUInt16BE(4);
  for (let i = 0; i < n; i++) {
    const o = 12 + 16 * i;
    if (font.toString('latin1', o, o + 4) === tag) {
      const off = font.readUInt32BE(o + 8);
      return font.subarray(off, off + font.readUInt32BE(o + 12));
    }
  }
  throw new Error(`no ${tag}`);
}

describe('TrueType reader', () => {
  const { ttf } = loadFont();

  it('reads Noto Sans SC: metrics, and cmap format 12 for astral characters', () => {
    expect(ttf.unitsPerEm).toBe(1000);
    expect(ttf.numGlyphs).toBeGreaterThan(30_000);
    for (const ch of '中䶮㵘𬌗A') expect(ttf.glyphId(cp(ch)), ch).toBeGreaterThan(0);
    expect(ttf.glyphId(0x13000)).toBe(0);
    expect(ttf.advance(ttf.glyphId(cp('中')))).toBe(1000);
    expect(ttf.advance(ttf.glyphId(cp('A')))).toBeLessThan(1000);
  });

  it('subsets to a valid TrueType whose glyph i is the requested source glyph (fontkit reads it back)', () => {
    const gids = [0, ...[...'沈阳䶮𬌗 A1，'].map((ch) => ttf.glyphId(cp(ch))), ttf.glyphId(cp('沈'))];
    const sub = subsetTrueType(ttf, gids);
    const bytes = sub.bytes();
    expect(bytes.length).toBe(sub.length);
    expect(sub.numGlyphs).toBe(gids.length);
    expect(fileChecksum(bytes)).toBe(0xb1b0afba);

    const source = fontkit.create(readFileSync(require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf')));
    const font = fontkit.create(bytes);
    expect(font.numGlyphs).toBe(gids.length);
    expect(font.unitsPerEm).toBe(1000);
    gids.forEach((g, i) => {
      expect(font.getGlyph(i).path.toSVG(), `glyph ${i}`).toBe(source.getGlyph(g).path.toSVG());
      expect(font.getGlyph(i).advanceWidth).toBe(ttf.advance(g));
    });
  });

  it('renumbers the components of composite glyphs and appends them', () => {
    // A font with one composite glyph (2 = glyph 1 + glyph 3), built over Noto's head/hhea/maxp.
    const simple = (tag: number) => {
      const b = Buffer.alloc(12);
      b.writeInt16BE(0, 0); // zero contours: a valid, empty simple glyph
      b.writeInt16BE(tag, 2);
      return b;
    };
    const composite = Buffer.alloc(10 + 2 * 6);
    composite.writeInt16BE(-1, 0);
    composite.writeUInt16BE(0x0020 | 0x0002, 10); // MORE_COMPONENTS | ARGS_ARE_XY_VALUES, byte args
    composite.writeUInt16BE(1, 12);
    composite.writeUInt16BE(0x0002, 16);
    composite.writeUInt16BE(3, 18);
    const glyphs = [Buffer.alloc(0), simple(1), composite, simple(3)];
    const fake: TrueTypeFont = { ...ttf, numGlyphs: 4, glyph: (g) => glyphs[g] ?? Buffer.alloc(0), advance: () => 500, leftSideBearing: () => 0 };
    const sub = subsetTrueType(fake, [0, 2]);
    expect(sub.numGlyphs).toBe(4); // 0, 2, then its components 1 and 3
    const out = sub.bytes();
    const loca = tableOf(out, 'loca');
    const glyf = tableOf(out, 'glyf');
    const at = (i: number) => glyf.subarray(loca.readUInt32BE(4 * i), loca.readUInt32BE(4 * i + 4));
    expect(at(1).readUInt16BE(12)).toBe(2); // glyph 1 → subset index 2
    expect(at(1).readUInt16BE(18)).toBe(3); // glyph 3 → subset index 3
    expect(at(2).readInt16BE(2)).toBe(1);
    expect(at(3).readInt16BE(2)).toBe(3);
    expect(fileChecksum(out)).toBe(0xb1b0afba);

    // Simple glyphs are cached per font after a first subset; a composite never is: it is renumbered per subset.
    expect(subsetTrueType(fake, [0, 2]).bytes().equals(out)).toBe(true);
    const again = subsetTrueType(fake, [0, 3, 2]).bytes();
    const [loca2, glyf2] = [tableOf(again, 'loca'), tableOf(again, 'glyf')];
    const at2 = (i: number) => glyf2.subarray(loca2.readUInt32BE(4 * i), loca2.readUInt32BE(4 * i + 4));
    expect(at2(1).readInt16BE(2)).toBe(3); // glyph 3 asked for first: subset index 1
    // The composite's components are appended after the requested glyphs (glyph 1 at 3, glyph 3 again at 4).
    expect([at2(2).readUInt16BE(12), at2(2).readUInt16BE(18)]).toEqual([3, 4]);
    expect(at2(4).readInt16BE(2)).toBe(3);
  });

  it('gives the same file when every glyph comes from the cache', () => {
    const gids = [0, ...[...'沈阳市粮食收购备案'].map((ch) => ttf.glyphId(cp(ch)))];
    const first = subsetTrueType(ttf, gids).bytes();
    expect(subsetTrueType(ttf, gids).bytes().equals(first)).toBe(true);
  });
});

describe('PDF writer syntax', () => {
  it('writes numbers without exponents or float noise', () => {
    expect(num(400.65999999999997)).toBe('400.66');
    expect(num(-0.0000001)).toBe('0');
    expect(num(12)).toBe('12');
    expect(num(1e-7)).toBe('0');
  });

  it('encodes text strings as UTF-16BE with a byte order mark, dates in UTC', () => {
    expect(hexText('印A')).toBe('<FEFF53700041>');
    expect(pdfDate(new Date('2024-05-01T02:00:00Z'))).toBe('(D:20240501020000Z)');
  });

  it('gives each distinct character one CID in order of first use, astral ones included', () => {
    const f = new DocumentFont(loadFont());
    expect(f.encode('沈𬌗沈')).toBe('000100020001');
    expect(f.encode('A')).toBe('0003');
    expect(f.codePoints).toEqual([0, cp('沈'), 0x2c317, cp('A')]);
  });
});
