/**
 * ZIP writer for OFD packages (GB/T 33190 §7: a ZIP container). Deflate (level 6) for XML and fonts, stored for
 * already-compressed PNGs; UTF-8 names (flag bit 11); no ZIP64, no extra fields, no data descriptors, so the
 * output is exactly what every reader expects. Deterministic: the entry times come from the caller.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** Path inside the package, `/`-separated, no leading slash. */
  name: string;
  data: Uint8Array;
  /** Store uncompressed (already compressed data such as PNG). */
  store?: boolean;
}

const UTF8_NAMES = 0x0800;

/** DOS date/time fields of `at` in China Standard Time (the package's files are dated like the certificate). */
function dosTime(at: Date): { time: number; date: number } {
  const d = new Date(at.getTime() + 8 * 3600_000);
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return { time, date };
}

export function writeZip(entries: ZipEntry[], at: Date): Buffer {
  const { time, date } = dosTime(at);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const e of entries) {
    if (!/^[^/\\][^\\]*$/.test(e.name) || e.name.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new Error(`bad package path ${JSON.stringify(e.name)}`);
    }
    if (seen.has(e.name)) throw new Error(`duplicate package path ${e.name}`);
    seen.add(e.name);
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    const body = e.store ? data : deflateRawSync(data, { level: 6 });
    const method = e.store ? 0 : 8;
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
