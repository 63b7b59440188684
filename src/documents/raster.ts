/**
 * A small anti-aliased rasterizer for the seal picture (印章图片) that GB/T 38540 seals carry as a PNG: nonzero
 * winding fill of polygons with 4×4 supersampling, and TrueType glyph outlines (simple and composite glyphs,
 * quadratic curves flattened) from the same Noto Sans SC the documents embed. It draws through the same calls as
 * the PDF canvas (`strokeCircle`, `fillPolygon`, `text`, `rotatedText`), so `drawSeal` paints one design in both.
 * Runs once per seal (at seal making), never per certificate.
 */
import type { LoadedFont } from './fonts.js';
import { encodePng } from './png.js';
import type { Rgb } from './pdf/pdf-writer.js';

type Point = readonly [number, number];
type Contour = Point[];

const SS = 4; // sub-scanlines per pixel row
const CURVE_STEPS = 6;
const CIRCLE_STEPS = 180;

// --- TrueType outlines ---------------------------------------------------------------------------------------

const ON_CURVE = 1;
const X_SHORT = 2;
const Y_SHORT = 4;
const REPEAT = 8;
const X_SAME_OR_POSITIVE = 16;
const Y_SAME_OR_POSITIVE = 32;
const ARG_1_AND_2_ARE_WORDS = 1;
const ARGS_ARE_XY_VALUES = 2;
const WE_HAVE_A_SCALE = 8;
const MORE_COMPONENTS = 0x20;
const WE_HAVE_AN_X_AND_Y_SCALE = 0x40;
const WE_HAVE_A_TWO_BY_TWO = 0x80;

interface RawPoint {
  x: number;
  y: number;
  on: boolean;
}

/** Contours of glyph `gid` in font units (y up), curves flattened to line segments. */
export function glyphContours(font: LoadedFont, gid: number, depth = 0): Contour[] {
  const g = font.ttf.glyph(gid);
  if (g.length < 10 || depth > 8) return [];
  const n = g.readInt16BE(0);
  if (n < 0) return compositeContours(font, g, depth);
  let p = 10;
  const ends: number[] = [];
  for (let i = 0; i < n; i++, p += 2) ends.push(g.readUInt16BE(p));
  const count = n === 0 ? 0 : (ends[n - 1] as number) + 1;
  p += 2 + g.readUInt16BE(p); // instructions
  const flags: number[] = [];
  while (flags.length < count) {
    const f = g[p++] as number;
    flags.push(f);
    if (f & REPEAT) for (let r = g[p++] as number; r > 0; r--) flags.push(f);
  }
  const read = (short: number, same: number) => {
    const out: number[] = [];
    let v = 0;
    for (const f of flags) {
      if (f & short) v += f & same ? (g[p++] as number) : -(g[p++] as number);
      else if (!(f & same)) {
        v += g.readInt16BE(p);
        p += 2;
      }
      out.push(v);
    }
    return out;
  };
  const xs = read(X_SHORT, X_SAME_OR_POSITIVE);
  const ys = read(Y_SHORT, Y_SAME_OR_POSITIVE);
  const contours: Contour[] = [];
  let start = 0;
  for (const end of ends) {
    const pts: RawPoint[] = [];
    for (let i = start; i <= end; i++) pts.push({ x: xs[i] as number, y: ys[i] as number, on: ((flags[i] as number) & ON_CURVE) !== 0 });
    start = end + 1;
    if (pts.length > 1) contours.push(flatten(pts));
  }
  return contours;
}

function compositeContours(font: LoadedFont, g: Buffer, depth: number): Contour[] {
  const out: Contour[] = [];
  let p = 10;
  for (;;) {
    const flags = g.readUInt16BE(p);
    const gid = g.readUInt16BE(p + 2);
    p += 4;
    let dx = 0;
    let dy = 0;
    if (flags & ARG_1_AND_2_ARE_WORDS) {
      dx = g.readInt16BE(p);
      dy = g.readInt16BE(p + 2);
      p += 4;
    } else {
      dx = g.readInt8(p);
      dy = g.readInt8(p + 1);
      p += 2;
    }
    if (!(flags & ARGS_ARE_XY_VALUES)) dx = dy = 0; // point matching: not used by this font
    let [a, b, c, d] = [1, 0, 0, 1];
    const f2 = (at: number) => g.readInt16BE(at) / 16384;
    if (flags & WE_HAVE_A_SCALE) {
      a = d = f2(p);
      p += 2;
    } else if (flags & WE_HAVE_AN_X_AND_Y_SCALE) {
      a = f2(p);
      d = f2(p + 2);
      p += 4;
    } else if (flags & WE_HAVE_A_TWO_BY_TWO) {
      [a, b, c, d] = [f2(p), f2(p + 2), f2(p + 4), f2(p + 6)];
      p += 8;
    }
    for (const contour of glyphContours(font, gid, depth + 1)) out.push(contour.map(([x, y]) => [a * x + c * y + dx, b * x + d * y + dy] as const));
    if (!(flags & MORE_COMPONENTS)) return out;
  }
}

/** On/off-curve points → polyline: implied on-points between consecutive off-points, quadratics in CURVE_STEPS. */
function flatten(pts: RawPoint[]): Contour {
  const n = pts.length;
  const firstOn = pts.findIndex((q) => q.on);
  const rot = firstOn >= 0 ? [...pts.slice(firstOn), ...pts.slice(0, firstOn)] : pts;
  const startPt: RawPoint = firstOn >= 0 ? (rot[0] as RawPoint) : { x: ((pts[0] as RawPoint).x + (pts[n - 1] as RawPoint).x) / 2, y: ((pts[0] as RawPoint).y + (pts[n - 1] as RawPoint).y) / 2, on: true };
  const out: Point[] = [[startPt.x, startPt.y]];
  let cur = startPt;
  let ctrl: RawPoint | null = null;
  const seq = firstOn >= 0 ? rot.slice(1) : rot;
  const quad = (c: RawPoint, to: RawPoint) => {
    for (let s = 1; s <= CURVE_STEPS; s++) {
      const t = s / CURVE_STEPS;
      const u = 1 - t;
      out.push([u * u * cur.x + 2 * u * t * c.x + t * t * to.x, u * u * cur.y + 2 * u * t * c.y + t * t * to.y]);
    }
    cur = to;
  };
  for (const q of [...seq, startPt]) {
    if (q.on) {
      if (ctrl) quad(ctrl, q);
      else {
        out.push([q.x, q.y]);
        cur = q;
      }
      ctrl = null;
    } else if (ctrl) {
      quad(ctrl, { x: (ctrl.x + q.x) / 2, y: (ctrl.y + q.y) / 2, on: true });
      ctrl = q;
    } else {
      ctrl = q;
    }
  }
  return out;
}

// --- the raster ----------------------------------------------------------------------------------------------

/**
 * An RGBA canvas addressed in points with the origin at the bottom left (like a PDF page), `pxPerPt` pixels per
 * point; transparent until painted.
 */
export class RasterCanvas {
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;

  constructor(
    readonly widthPt: number,
    readonly heightPt: number,
    readonly pxPerPt: number,
    readonly font: LoadedFont,
  ) {
    this.width = Math.ceil(widthPt * pxPerPt);
    this.height = Math.ceil(heightPt * pxPerPt);
    this.pixels = new Uint8Array(this.width * this.height * 4);
  }

  private toPx = ([x, y]: Point): Point => [x * this.pxPerPt, (this.heightPt - y) * this.pxPerPt];

  /** Fills `contours` (points, y up) with the nonzero rule. */
  fill(contours: Contour[], color: Rgb): void {
    const polys = contours.map((c) => c.map(this.toPx));
    const edges: Array<[number, number, number, number, number]> = []; // x0, y0, x1, y1, dir (y0 < y1)
    for (const poly of polys) {
      for (let i = 0; i < poly.length; i++) {
        const a = poly[i] as Point;
        const b = poly[(i + 1) % poly.length] as Point;
        if (a[1] === b[1]) continue;
        edges.push(a[1] < b[1] ? [a[0], a[1], b[0], b[1], 1] : [b[0], b[1], a[0], a[1], -1]);
      }
    }
    if (edges.length === 0) return;
    const yMin = Math.max(0, Math.floor(Math.min(...edges.map((e) => e[1]))));
    const yMax = Math.min(this.height - 1, Math.ceil(Math.max(...edges.map((e) => e[3]))));
    const cov = new Float32Array(this.width + 1);
    const xs: Array<[number, number]> = [];
    for (let py = yMin; py <= yMax; py++) {
      cov.fill(0);
      for (let s = 0; s < SS; s++) {
        const sy = py + (s + 0.5) / SS;
        xs.length = 0;
        for (const [x0, y0, x1, y1, dir] of edges) {
          if (sy < y0 || sy >= y1) continue;
          xs.push([x0 + ((sy - y0) / (y1 - y0)) * (x1 - x0), dir]);
        }
        xs.sort((p, q) => p[0] - q[0]);
        let wind = 0;
        for (let i = 0; i < xs.length - 1; i++) {
          wind += (xs[i] as [number, number])[1];
          if (wind !== 0) this.span(cov, (xs[i] as [number, number])[0], (xs[i + 1] as [number, number])[0]);
        }
      }
      for (let px = 0; px < this.width; px++) {
        const a = Math.min(1, (cov[px] as number) / SS);
        if (a > 0) this.blend(px, py, color, a);
      }
    }
  }

  private span(cov: Float32Array, xa: number, xb: number): void {
    const a = Math.max(0, xa);
    const b = Math.min(this.width, xb);
    if (b <= a) return;
    const ia = Math.floor(a);
    const ib = Math.floor(b);
    if (ia === ib) {
      cov[ia] = (cov[ia] as number) + (b - a);
      return;
    }
    cov[ia] = (cov[ia] as number) + (ia + 1 - a);
    for (let i = ia + 1; i < ib; i++) cov[i] = (cov[i] as number) + 1;
    if (ib < this.width) cov[ib] = (cov[ib] as number) + (b - ib);
  }

  private blend(px: number, py: number, [r, g, b]: Rgb, a: number): void {
    const o = (py * this.width + px) * 4;
    const p = this.pixels;
    const da = (p[o + 3] as number) / 255;
    const oa = a + da * (1 - a);
    const mix = (src: number, dst: number) => Math.round((src * 255 * a + dst * da * (1 - a)) / oa);
    p[o] = mix(r, p[o] as number);
    p[o + 1] = mix(g, p[o + 1] as number);
    p[o + 2] = mix(b, p[o + 2] as number);
    p[o + 3] = Math.round(oa * 255);
  }

  strokeCircle(cx: number, cy: number, r: number, width: number, color: Rgb): void {
    const ring = (radius: number, reverse: boolean): Contour => {
      const out: Point[] = [];
      for (let i = 0; i < CIRCLE_STEPS; i++) {
        const t = ((reverse ? -i : i) * 2 * Math.PI) / CIRCLE_STEPS;
        out.push([cx + radius * Math.cos(t), cy + radius * Math.sin(t)]);
      }
      return out;
    };
    this.fill([ring(r + width / 2, false), ring(r - width / 2, true)], color);
  }

  fillPolygon(points: ReadonlyArray<readonly [number, number]>, color: Rgb): void {
    this.fill([points.map(([x, y]) => [x, y] as const)], color);
  }

  text(s: string, x: number, y: number, style: { size: number; color?: Rgb }): void {
    this.rotatedText(s, x, y, 0, style.size, style.color ?? [0, 0, 0]);
  }

  /** Glyph outlines of `s` from (x, y), rotated by `angle` (radians, counter-clockwise), as the PDF canvas draws text. */
  rotatedText(s: string, x: number, y: number, angle: number, size: number, color: Rgb): void {
    const scale = size / this.font.ttf.unitsPerEm;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    let pen = 0;
    const contours: Contour[] = [];
    for (const ch of s) {
      const gid = this.font.glyphOf(ch.codePointAt(0) as number);
      for (const c of glyphContours(this.font, gid)) {
        contours.push(c.map(([gx, gy]) => {
          const u = pen + gx * scale;
          const v = gy * scale;
          return [x + u * cos - v * sin, y + u * sin + v * cos] as const;
        }));
      }
      pen += this.font.ttf.advance(gid) * scale;
    }
    this.fill(contours, color);
  }

  png(): Buffer {
    return encodePng({ width: this.width, height: this.height, channels: 4, pixels: this.pixels });
  }
}
