/**
 * TrueType (glyf outlines) reader and subsetter, written for one job: embed a few hundred CJK glyphs of a 10 MB
 * font into a PDF in well under a millisecond.
 *
 * `parseTrueType` reads the table directory, head, hhea, maxp, hmtx, loca and cmap (format 12, else format 4) once
 * into flat typed arrays; glyph outlines stay in the file's buffer and are sliced on demand. `subsetTrueType`
 * writes a minimal TrueType (head, hhea, maxp, OS/2, hmtx, loca, glyf, post and the hinting tables the source has)
 * whose glyph i is the source glyph `gids[i]`, plus the components of composite glyphs, appended and renumbered.
 * Padded glyph bytes and their checksums are cached per process, so a subset is mostly one Buffer.concat.
 */
export interface TrueTypeFont {
  readonly unitsPerEm: number;
  readonly numGlyphs: number;
  /** hhea ascender / descender (font units). */
  readonly ascent: number;
  readonly descent: number;
  /** OS/2 sCapHeight / sxHeight when present, else estimates (font units). */
  readonly capHeight: number;
  readonly xHeight: number;
  /** head xMin, yMin, xMax, yMax (font units). */
  readonly bbox: readonly [number, number, number, number];
  /** Glyph id of a code point; 0 (.notdef) when the font has none. */
  glyphId(cp: number): number;
  /** Advance width of a glyph (font units). */
  advance(gid: number): number;
  /** Left side bearing of a glyph (font units). */
  leftSideBearing(gid: number): number;
  /** Raw glyf bytes of one glyph (empty for glyphs without outline, e.g. the space). */
  glyph(gid: number): Buffer;
  /** The source file's raw table, or undefined. */
  table(tag: string): Buffer | undefined;
}

class FontFormatError extends Error {}

interface TableEntry {
  offset: number;
  length: number;
}

/** Parses a TrueType font (sfnt version 0x00010000 or 'true'); throws on CFF fonts or a malformed file. */
export function parseTrueType(data: Buffer): TrueTypeFont {
  const version = data.readUInt32BE(0);
  if (version !== 0x00010000 && version !== 0x74727565) throw new FontFormatError('not a TrueType (glyf) font');
  const numTables = data.readUInt16BE(4);
  const tables = new Map<string, TableEntry>();
  for (let i = 0; i < numTables; i++) {
    const o = 12 + 16 * i;
    const tag = data.toString('latin1', o, o + 4);
    const offset = data.readUInt32BE(o + 8);
    const length = data.readUInt32BE(o + 12);
    if (offset + length > data.length) throw new FontFormatError(`table ${tag} runs past the end of the file`);
    tables.set(tag, { offset, length });
  }
  const need = (tag: string): TableEntry => {
    const t = tables.get(tag);
    if (!t) throw new FontFormatError(`font has no ${tag} table`);
    return t;
  };

  const head = need('head').offset;
  const unitsPerEm = data.readUInt16BE(head + 18);
  const bbox: [number, number, number, number] = [
    data.readInt16BE(head + 36),
    data.readInt16BE(head + 38),
    data.readInt16BE(head + 40),
    data.readInt16BE(head + 42),
  ];
  const longLoca = data.readInt16BE(head + 50) === 1;

  const maxp = need('maxp').offset;
  const numGlyphs = data.readUInt16BE(maxp + 4);

  const hhea = need('hhea').offset;
  const ascent = data.readInt16BE(hhea + 4);
  const descent = data.readInt16BE(hhea + 6);
  const numberOfHMetrics = data.readUInt16BE(hhea + 34);
  if (numberOfHMetrics < 1 || numberOfHMetrics > numGlyphs) throw new FontFormatError('bad hhea.numberOfHMetrics');

  const hmtx = need('hmtx');
  if (hmtx.length < numberOfHMetrics * 4 + (numGlyphs - numberOfHMetrics) * 2) throw new FontFormatError('hmtx too short');
  const advances = new Uint16Array(numGlyphs);
  const lsbs = new Int16Array(numGlyphs);
  for (let g = 0; g < numGlyphs; g++) {
    if (g < numberOfHMetrics) {
      advances[g] = data.readUInt16BE(hmtx.offset + 4 * g);
      lsbs[g] = data.readInt16BE(hmtx.offset + 4 * g + 2);
    } else {
      advances[g] = advances[numberOfHMetrics - 1] as number;
      lsbs[g] = data.readInt16BE(hmtx.offset + 4 * numberOfHMetrics + 2 * (g - numberOfHMetrics));
    }
  }

  const loca = need('loca');
  const glyf = need('glyf');
  const offsets = new Uint32Array(numGlyphs + 1);
  if (loca.length < (numGlyphs + 1) * (longLoca ? 4 : 2)) throw new FontFormatError('loca too short');
  for (let g = 0; g <= numGlyphs; g++) {
    const off = longLoca ? data.readUInt32BE(loca.offset + 4 * g) : data.readUInt16BE(loca.offset + 2 * g) * 2;
    if (off > glyf.length) throw new FontFormatError(`loca entry ${g} points past glyf`);
    offsets[g] = glyf.offset + off;
  }

  const { bmp, astral } = readCmap(data, need('cmap'), numGlyphs);

  const os2 = tables.get('OS/2');
  let capHeight = Math.round(ascent * 0.8);
  let xHeight = Math.round(ascent * 0.55);
  if (os2 && data.readUInt16BE(os2.offset) >= 2 && os2.length >= 96) {
    xHeight = data.readInt16BE(os2.offset + 86);
    capHeight = data.readInt16BE(os2.offset + 88);
  }

  return {
    unitsPerEm,
    numGlyphs,
    ascent,
    descent,
    capHeight,
    xHeight,
    bbox,
    glyphId: (cp) => (cp < 0x10000 ? (bmp[cp] ?? 0) : (astral.get(cp) ?? 0)),
    advance: (gid) => advances[gid] ?? 0,
    leftSideBearing: (gid) => lsbs[gid] ?? 0,
    glyph: (gid) => data.subarray(offsets[gid] ?? 0, offsets[gid + 1] ?? 0),
    table(tag) {
      const t = tables.get(tag);
      return t ? data.subarray(t.offset, t.offset + t.length) : undefined;
    },
  };
}

/** cmap → a flat BMP table and a map for the astral planes (format 12 preferred, it covers both). */
function readCmap(data: Buffer, cmap: TableEntry, numGlyphs: number): { bmp: Uint16Array; astral: Map<number, number> } {
  const base = cmap.offset;
  const n = data.readUInt16BE(base + 2);
  let f12 = -1;
  let f4 = -1;
  for (let i = 0; i < n; i++) {
    const platform = data.readUInt16BE(base + 4 + 8 * i);
    const encoding = data.readUInt16BE(base + 6 + 8 * i);
    const sub = base + data.readUInt32BE(base + 8 + 8 * i);
    const format = data.readUInt16BE(sub);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    if (format === 12 && f12 < 0) f12 = sub;
    if (format === 4 && f4 < 0) f4 = sub;
  }
  const bmp = new Uint16Array(0x10000);
  const astral = new Map<number, number>();
  const put = (cp: number, gid: number) => {
    if (gid <= 0 || gid >= numGlyphs) return;
    if (cp < 0x10000) bmp[cp] = gid;
    else if (cp <= 0x10ffff) astral.set(cp, gid);
  };
  if (f12 >= 0) {
    const groups = data.readUInt32BE(f12 + 12);
    for (let i = 0; i < groups; i++) {
      const o = f12 + 16 + 12 * i;
      const start = data.readUInt32BE(o);
      const end = Math.min(data.readUInt32BE(o + 4), 0x10ffff);
      const gid = data.readUInt32BE(o + 8);
      for (let cp = start; cp <= end; cp++) put(cp, gid + cp - start);
    }
  } else if (f4 >= 0) {
    const segX2 = data.readUInt16BE(f4 + 6);
    const ends = f4 + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const rangeOffsets = deltas + segX2;
    for (let s = 0; s < segX2; s += 2) {
      const end = data.readUInt16BE(ends + s);
      const start = data.readUInt16BE(starts + s);
      const delta = data.readInt16BE(deltas + s);
      const ro = data.readUInt16BE(rangeOffsets + s);
      for (let cp = start; cp <= end && cp !== 0xffff; cp++) {
        if (ro === 0) put(cp, (cp + delta) & 0xffff);
        else {
          const at = rangeOffsets + s + ro + 2 * (cp - start);
          const g = data.readUInt16BE(at);
          if (g !== 0) put(cp, (g + delta) & 0xffff);
        }
      }
    }
  } else {
    throw new FontFormatError('font has no Unicode cmap (format 4 or 12)');
  }
  return { bmp, astral };
}

// --- subsetting ----------------------------------------------------------------------------------------------

const ARG_1_AND_2_ARE_WORDS = 0x0001;
const WE_HAVE_A_SCALE = 0x0008;
const MORE_COMPONENTS = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE = 0x0040;
const WE_HAVE_A_TWO_BY_TWO = 0x0080;

/** Offsets (within the glyph) of each component's glyphIndex field of a composite glyph; [] for a simple one. */
function componentOffsets(g: Buffer): number[] {
  if (g.length < 10 || g.readInt16BE(0) >= 0) return [];
  const out: number[] = [];
  let p = 10;
  for (;;) {
    if (p + 4 > g.length) throw new FontFormatError('truncated composite glyph');
    const flags = g.readUInt16BE(p);
    out.push(p + 2);
    p += 4 + (flags & ARG_1_AND_2_ARE_WORDS ? 4 : 2);
    if (flags & WE_HAVE_A_SCALE) p += 2;
    else if (flags & WE_HAVE_AN_X_AND_Y_SCALE) p += 4;
    else if (flags & WE_HAVE_A_TWO_BY_TWO) p += 8;
    if (!(flags & MORE_COMPONENTS)) return out;
  }
}

/** One glyph as it goes into the subset: its bytes padded to 4 and their checksum (cached per process). */
export interface GlyphBlock {
  /** The glyph's outline bytes, padded to 4. */
  bytes: Buffer;
  sum: number;
  /** Its raw-deflate segment (sync-flushed, so segments concatenate) and Adler-32, made once per glyph by the PDF writer. */
  z?: { data: Buffer; adler: number };
}

const blockCache = new WeakMap<TrueTypeFont, Map<number, GlyphBlock>>();

function pad4(b: Buffer): Buffer {
  const rem = b.length & 3;
  if (rem === 0) return b;
  const out = Buffer.alloc(b.length + 4 - rem);
  b.copy(out);
  return out;
}

function checksum(b: Buffer): number {
  let sum = 0;
  const whole = b.length & ~3;
  for (let i = 0; i < whole; i += 4) sum = (sum + b.readUInt32BE(i)) >>> 0;
  if (whole < b.length) {
    const tail = Buffer.alloc(4);
    b.copy(tail, 0, whole);
    sum = (sum + tail.readUInt32BE(0)) >>> 0;
  }
  return sum;
}

/** Padded bytes of a simple (or componentless) glyph, cached per process. */
function simpleBlock(font: TrueTypeFont, gid: number): GlyphBlock {
  let cache = blockCache.get(font);
  if (!cache) {
    cache = new Map();
    blockCache.set(font, cache);
  }
  let b = cache.get(gid);
  if (!b) {
    const bytes = pad4(font.glyph(gid));
    b = { bytes, sum: checksum(bytes) };
    cache.set(gid, b);
  }
  return b;
}

export interface TrueTypeSubset {
  /** Number of glyphs in the subset (the requested ones, then composite components). */
  numGlyphs: number;
  /** Uncompressed length of the font file (PDF /Length1). */
  length: number;
  /** The font file, uncompressed. */
  bytes(): Buffer;
  /** The same bytes in two parts: the table directory and small tables, then the glyph outlines in order. */
  readonly prefix: Buffer;
  readonly glyphs: readonly GlyphBlock[];
}

/**
 * Subset of `font` whose glyph i is source glyph `gids[i]` (`gids[0]` should be 0, .notdef). A glyph id may appear
 * more than once. Components of composite glyphs are appended after the requested glyphs and the references are
 * rewritten. Tables: head, hhea, maxp, OS/2, hmtx, loca (long), glyf, post, and cvt/fpgm/prep when the source has
 * them — what FreeType, poppler and the PDF spec (CIDFontType2 FontFile2) need; no cmap (the PDF maps CIDs to GIDs).
 */
export function subsetTrueType(
  font: TrueTypeFont,
  gids: readonly number[],
  /** More tables to write as given, e.g. a `cmap` for formats that map characters through the font (OFD). */
  extraTables: ReadonlyArray<readonly [string, Buffer]> = [],
): TrueTypeSubset {
  const order = [...gids];
  const blocks: GlyphBlock[] = [];
  const componentIndex = new Map<number, number>();
  // Only simple glyphs are cached, so a glyph met before needs neither its bytes read again nor a look for components.
  const simple = blockCache.get(font);
  for (let i = 0; i < order.length; i++) {
    const gid = order[i] as number;
    const known = simple?.get(gid);
    if (known) {
      blocks.push(known);
      continue;
    }
    const raw = font.glyph(gid);
    const comps = componentOffsets(raw);
    if (comps.length === 0) {
      blocks.push(simpleBlock(font, gid));
      continue;
    }
    // Composite: copy, renumber each component (appending unseen ones to `order`, handled by this same loop).
    const bytes = pad4(Buffer.from(raw));
    for (const at of comps) {
      const src = bytes.readUInt16BE(at);
      let idx = componentIndex.get(src);
      if (idx === undefined) {
        idx = order.length;
        order.push(src);
        componentIndex.set(src, idx);
        if (order.length > 0xffff) throw new FontFormatError('subset exceeds 65535 glyphs');
      }
      bytes.writeUInt16BE(idx, at);
    }
    blocks.push({ bytes, sum: checksum(bytes) });
  }
  const n = order.length;

  let glyfLength = 0;
  let glyfSum = 0;
  const loca = Buffer.allocUnsafe(4 * (n + 1));
  for (let i = 0; i < n; i++) {
    const b = blocks[i] as GlyphBlock;
    loca.writeUInt32BE(glyfLength, 4 * i);
    glyfLength += b.bytes.length;
    glyfSum = (glyfSum + b.sum) >>> 0;
  }
  loca.writeUInt32BE(glyfLength, 4 * n);

  const hmtx = Buffer.allocUnsafe(4 * n);
  for (let i = 0; i < n; i++) {
    const g = order[i] as number;
    hmtx.writeUInt16BE(font.advance(g), 4 * i);
    hmtx.writeInt16BE(font.leftSideBearing(g), 4 * i + 2);
  }

  const head = Buffer.from(font.table('head') as Buffer);
  head.writeUInt32BE(0, 8); // checkSumAdjustment, set below
  head.writeInt16BE(1, 50); // indexToLocFormat: long
  const hhea = Buffer.from(font.table('hhea') as Buffer);
  hhea.writeUInt16BE(n, 34);
  const maxp = Buffer.from(font.table('maxp') as Buffer);
  maxp.writeUInt16BE(n, 4);

  // Directory entries sorted by tag; in the file glyf comes last, after the small tables.
  const small: Array<[string, Buffer]> = [
    ['head', head],
    ['hhea', hhea],
    ['hmtx', hmtx],
    ['loca', loca],
    ['maxp', maxp],
  ];
  for (const tag of ['OS/2', 'cvt ', 'fpgm', 'post', 'prep']) {
    const t = font.table(tag);
    if (t) small.push([tag, t]);
  }
  for (const [tag, body] of extraTables) {
    if (small.some(([t]) => t === tag) || tag === 'glyf') throw new FontFormatError(`table ${tag} is written by the subsetter itself`);
    small.push([tag, body]);
  }
  const tags = [...small.map(([t]) => t), 'glyf'].sort();
  const numTables = tags.length;
  let pos = 12 + 16 * numTables;
  const dir = Buffer.alloc(pos);
  dir.writeUInt32BE(0x00010000, 0);
  dir.writeUInt16BE(numTables, 4);
  let p2 = 1;
  let log2 = 0;
  while (p2 * 2 <= numTables) {
    p2 *= 2;
    log2++;
  }
  dir.writeUInt16BE(p2 * 16, 6);
  dir.writeUInt16BE(log2, 8);
  dir.writeUInt16BE(numTables * 16 - p2 * 16, 10);

  const where = new Map<string, { offset: number; length: number; sum: number }>();
  const bodies: Buffer[] = [];
  for (const [tag, body] of small) {
    const padded = pad4(body);
    where.set(tag, { offset: pos, length: body.length, sum: checksum(padded) });
    bodies.push(padded);
    pos += padded.length;
  }
  where.set('glyf', { offset: pos, length: glyfLength, sum: glyfSum });
  const total = pos + glyfLength;
  let fontSum = 0;
  tags.forEach((tag, i) => {
    const w = where.get(tag) as { offset: number; length: number; sum: number };
    const o = 12 + 16 * i;
    dir.write(tag, o, 4, 'latin1');
    dir.writeUInt32BE(w.sum, o + 4);
    dir.writeUInt32BE(w.offset, o + 8);
    dir.writeUInt32BE(w.length, o + 12);
    fontSum = (fontSum + w.sum) >>> 0;
  });
  fontSum = (fontSum + checksum(dir)) >>> 0;
  // head went into `bodies` as a padded copy (54 → 56 bytes): set checkSumAdjustment there.
  (bodies[0] as Buffer).writeUInt32BE((0xb1b0afba - fontSum) >>> 0, 8);

  const prefix = Buffer.concat([dir, ...bodies], pos);
  return {
    numGlyphs: n,
    length: total,
    bytes: () => Buffer.concat([prefix, ...blocks.map((b) => b.bytes)], total),
    prefix,
    glyphs: blocks,
  };
}
