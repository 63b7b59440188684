/**
 * The seal picture (印章图片) a GB/T 38540 seal carries: the same red round seal `drawSeal` puts on the PDF,
 * rasterized to a transparent PNG (the OFD reader draws it at the stamp annotation). Made once per seal.
 */
import { loadFont } from './fonts.js';
import { RasterCanvas } from './raster.js';
import { drawSeal } from './seal.js';

/** Seal diameter on paper (a common size for an official seal) and in the picture. */
export const SEAL_PICTURE_MM = 40;
const PIXELS = 472; // 40 mm at 300 dpi

/** PNG of the seal of `name` with `bottomText` under the star (default 电子证照专用章). */
export function sealPicture(name: string, bottomText = '电子证照专用章'): Buffer {
  const sizePt = (SEAL_PICTURE_MM / 25.4) * 72;
  const canvas = new RasterCanvas(sizePt, sizePt, PIXELS / sizePt, loadFont());
  const r = sizePt / 2;
  drawSeal({ page: canvas, center: { x: r, y: r }, radius: r * 0.98, name, bottomText, font: loadFont() });
  return canvas.png();
}
