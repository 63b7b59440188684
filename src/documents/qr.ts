/**
 * QR code drawn as vector rectangles (one `re` per horizontal run of dark modules, one fill): ~5× cheaper than
 * rendering a PNG and embedding it, and sharp at any resolution.
 */
import QRCode from 'qrcode';
import {
  fill,
  popGraphicsState,
  pushGraphicsState,
  rectangle,
  setFillingRgbColor,
} from 'pdf-lib';
import type { PDFOperator, PDFPage } from 'pdf-lib';

/** Quiet zone the QR specification requires around the symbol, in modules. */
export const QR_QUIET_MODULES = 4;

export interface QrOptions {
  page: PDFPage;
  text: string;
  /** Lower-left corner of the whole drawn square, quiet zone included. */
  x: number;
  y: number;
  /** Side of the whole drawn square, quiet zone included, in points. */
  size: number;
}

/**
 * Draws the QR code of `text` (error correction M) with a white quiet zone of {@link QR_QUIET_MODULES} modules.
 * Returns the module size in points so callers can check legibility.
 */
export function drawQr(opts: QrOptions): { moduleSize: number; modules: number } {
  const qr = QRCode.create(opts.text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const data = qr.modules.data;
  const m = opts.size / (n + 2 * QR_QUIET_MODULES);
  const x0 = opts.x + QR_QUIET_MODULES * m;
  const top = opts.y + opts.size - QR_QUIET_MODULES * m;

  const ops: PDFOperator[] = [
    pushGraphicsState(),
    setFillingRgbColor(1, 1, 1),
    rectangle(opts.x, opts.y, opts.size, opts.size),
    fill(),
    setFillingRgbColor(0, 0, 0),
  ];
  for (let row = 0; row < n; row++) {
    let col = 0;
    while (col < n) {
      if (!data[row * n + col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && data[row * n + col]) col++;
      // A hair of overlap hides anti-aliasing seams between adjacent runs in viewers.
      ops.push(rectangle(x0 + start * m, top - (row + 1) * m, (col - start) * m, m * 1.02));
    }
  }
  ops.push(fill(), popGraphicsState());
  opts.page.pushOperators(...ops);
  return { moduleSize: m, modules: n };
}
