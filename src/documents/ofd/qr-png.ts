/**
 * The QR code of the OFD certificate as a greyscale PNG (error correction M, 4-module quiet zone, whole pixels per
 * module so that scanners and `zbarimg` read it unscaled). OFD draws images, not PDF operators.
 */
import { encodePng } from '../png.js';
import { QR_QUIET_MODULES, qrCode } from '../qr.js';

export function qrPng(text: string, modulePx = 4): Buffer {
  const qr = qrCode(text);
  const n = qr.modules.size;
  const side = (n + 2 * QR_QUIET_MODULES) * modulePx;
  const pixels = new Uint8Array(side * side).fill(255);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (!qr.modules.data[row * n + col]) continue;
      for (let dy = 0; dy < modulePx; dy++) {
        const y = (row + QR_QUIET_MODULES) * modulePx + dy;
        pixels.fill(0, y * side + (col + QR_QUIET_MODULES) * modulePx, y * side + (col + QR_QUIET_MODULES + 1) * modulePx);
      }
    }
  }
  return encodePng({ width: side, height: side, channels: 1, pixels });
}
