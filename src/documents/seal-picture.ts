/**
 * A seal picture as PNG (the e-seal platform contract's `picture`, GB/T 38540's seal image): a red ring with a
 * five-pointed star on a transparent ground, rasterised with 4×4 supersampling and encoded with zlib. The name
 * around the ring is not drawn (no text rasteriser here); pages draw the full seal as vectors (./seal.ts).
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function inStar(x: number, y: number, r: number): boolean {
  // Point-in-polygon on the ten-point star (outer r, inner 0.382 r), pointing up.
  const pts: Array<[number, number]> = [];
  for (let k = 0; k < 10; k++) {
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    const rr = k % 2 === 0 ? r : r * 0.381966;
    pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
  }
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i] as [number, number];
    const [xj, yj] = pts[j] as [number, number];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const cache = new Map<number, Buffer>();

/** PNG bytes of a `size`×`size` seal picture (cached per size). */
export function sealPicturePng(size = 160): Buffer {
  const hit = cache.get(size);
  if (hit) return hit;
  const raw = Buffer.alloc((size * 4 + 1) * size);
  const c = size / 2;
  const outer = size * 0.48;
  const ring = size * 0.045;
  const S = 4;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const px = x + (sx + 0.5) / S - c;
          const py = y + (sy + 0.5) / S - c;
          const d = Math.hypot(px, py);
          if ((d <= outer && d >= outer - ring) || inStar(px, py, size * 0.15)) hits++;
        }
      }
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = 0xdc;
      raw[o + 1] = 0x14;
      raw[o + 2] = 0x14;
      raw[o + 3] = Math.round((255 * hits) / (S * S));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  cache.set(size, png);
  return png;
}
