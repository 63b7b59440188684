/**
 * QR code drawn as vector rectangles (one `re` per horizontal run of dark modules, one fill) in a module-unit
 * coordinate system, so every rectangle is a few small integers: ~5× cheaper than rendering a PNG and embedding it,
 * and sharp at any resolution.
 */
import QRCode from 'qrcode';
import { num } from './pdf/pdf-writer.js';
import type { Canvas } from './pdf/pdf-writer.js';

/** Quiet zone the QR specification requires around the symbol, in modules. */
export const QR_QUIET_MODULES = 4;

export interface QrOptions {
  page: Canvas;
  text: string;
  /** Lower-left corner of the whole drawn square, quiet zone included. */
  x: number;
  y: number;
  /** Side of the whole drawn square, quiet zone included, in points. */
  size: number;
}

/**
 * Version and mask pattern per byte length, chosen by the library's full penalty evaluation the first time a length
 * is met. Evaluating all eight masks was ~90 % of a QR's cost (~0.5 ms); every verify link of a node has the same
 * shape (base URL + id + code) and length, so the choice the first one earns is reused: any mask decodes, the
 * evaluation only picks the most legible one, and links of one shape score alike.
 */
const chosen = new Map<number, { version: number; maskPattern: QRCode.QRCodeMaskPattern }>();

/** The QR code of `text` as one byte-mode segment (links are bytes anyway), error correction M. */
export function qrCode(text: string): QRCode.QRCode {
  const data = Buffer.from(text, 'utf8');
  const segments: QRCode.QRCodeSegment[] = [{ data, mode: 'byte' }];
  const known = chosen.get(data.length);
  if (known) return QRCode.create(segments, { errorCorrectionLevel: 'M', version: known.version, maskPattern: known.maskPattern });
  const qr = QRCode.create(segments, { errorCorrectionLevel: 'M' });
  if (chosen.size < 1024) chosen.set(data.length, { version: qr.version, maskPattern: qr.maskPattern as QRCode.QRCodeMaskPattern });
  return qr;
}

/**
 * Draws the QR code of `text` (error correction M) with a white quiet zone of {@link QR_QUIET_MODULES} modules.
 * Returns the module size in points so callers can check legibility.
 */
export function drawQr(opts: QrOptions): { moduleSize: number; modules: number } {
  const qr = qrCode(opts.text);
  const n = qr.modules.size;
  const data = qr.modules.data;
  const m = opts.size / (n + 2 * QR_QUIET_MODULES);
  // White square (quiet zone included), then the dark runs in module units: row 0 is the top row.
  let ops = `q 1 1 1 rg ${num(opts.x)} ${num(opts.y)} ${num(opts.size)} ${num(opts.size)} re f 0 0 0 rg `;
  ops += `${num(m)} 0 0 ${num(m)} ${num(opts.x + QR_QUIET_MODULES * m)} ${num(opts.y + QR_QUIET_MODULES * m)} cm\n`;
  for (let row = 0; row < n; row++) {
    const y = n - row - 1;
    let col = 0;
    while (col < n) {
      if (!data[row * n + col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && data[row * n + col]) col++;
      // A hair of overlap (1.02 module high) hides anti-aliasing seams between adjacent rows in viewers.
      ops += `${start} ${y} ${col - start} 1.02 re\n`;
    }
  }
  opts.page.raw(`${ops}f Q\n`);
  return { moduleSize: m, modules: n };
}
