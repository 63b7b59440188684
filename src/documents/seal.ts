/**
 * Red round official seal (公章 style) drawn with vectors: ring, five-pointed star, name on the upper arc and a
 * short horizontal line under the star. Drawn, not an image, so it is crisp at any zoom and costs ~no bytes.
 */
import type { LoadedFont } from './fonts.js';
import type { Canvas, Rgb } from './pdf/pdf-writer.js';

/** Seal red (close to the vermilion used on printed seals). */
export const SEAL_RED: Rgb = [0.86, 0.08, 0.08];

/** What the seal is drawn with: the PDF page canvas, or the raster of the seal picture (raster.ts). */
export type SealSurface = Pick<Canvas, 'strokeCircle' | 'fillPolygon' | 'rotatedText' | 'text'>;

export interface SealOptions {
  page: SealSurface;
  /** Centre of the seal in PDF user space. */
  center: { x: number; y: number };
  /** Outer radius in points (a 42 mm seal is ≈ 60 pt; 40–50 pt reads well on A4). */
  radius: number;
  /** Laid out clockwise along the upper arc, each character rotated to face outwards. */
  name: string;
  /** Horizontal line under the star, e.g. 电子证照专用章; empty for none. */
  bottomText?: string;
  font: LoadedFont;
  color?: Rgb;
}

/** Draws the seal onto `page` (vector paths plus the name and bottom text in the document font). */
export function drawSeal(opts: SealOptions): void {
  const { page, center, radius: r, font } = opts;
  const color = opts.color ?? SEAL_RED;
  const ring = r * 0.06;

  page.strokeCircle(center.x, center.y, r - ring / 2, ring, color);
  drawStar(page, center.x, center.y, r * 0.3, color);

  const chars = [...opts.name];
  if (chars.length > 0) {
    // Longer names get a smaller size so they still fit in at most ~250° of arc.
    const maxSpan = (250 * Math.PI) / 180;
    let size = r * 0.24;
    let textR = r - ring - size * 0.72;
    const pitch = () => (size * 1.08) / textR;
    while (chars.length * pitch() > maxSpan && size > r * 0.1) {
      size *= 0.94;
      textR = r - ring - size * 0.72;
    }
    const step = pitch();
    const span = step * (chars.length - 1);
    // Ideographs in Noto sit between descent -0.12 em and ascent 0.88 em; 0.38 em is their visual middle.
    const midY = size * 0.38;
    chars.forEach((ch, i) => {
      const phi = Math.PI / 2 + span / 2 - i * step;
      const w = font.widthOf(ch, size);
      // Glyph x axis is the clockwise tangent, y axis points outwards.
      const ux = Math.sin(phi);
      const uy = -Math.cos(phi);
      const vx = Math.cos(phi);
      const vy = Math.sin(phi);
      const px = center.x + textR * vx;
      const py = center.y + textR * vy;
      page.rotatedText(ch, px - (w / 2) * ux - midY * vx, py - (w / 2) * uy - midY * vy, phi - Math.PI / 2, size, color);
    });
  }

  const bottom = opts.bottomText ?? '';
  if (bottom) {
    let size = r * 0.15;
    const maxW = r * 1.15;
    const w1 = font.widthOf(bottom, 1);
    if (w1 * size > maxW) size = maxW / w1;
    page.text(bottom, center.x - (w1 * size) / 2, center.y - r * 0.55, { size, color });
  }
}

function drawStar(page: SealSurface, cx: number, cy: number, outer: number, color: Rgb): void {
  // Regular pentagram: inner radius = outer · sin18°/sin54° ≈ 0.382 outer.
  const inner = outer * 0.381966;
  const points: Array<[number, number]> = [];
  for (let k = 0; k < 10; k++) {
    const a = Math.PI / 2 + (k * Math.PI) / 5;
    const rr = k % 2 === 0 ? outer : inner;
    points.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
  }
  page.fillPolygon(points, color);
}
