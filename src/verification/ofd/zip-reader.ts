/**
 * A strict, bounded ZIP reader for untrusted OFD packages. It reads the central directory only, checks every local
 * header against it, and refuses — before inflating anything — what a package of ours never holds: more than
 * `maxEntries` files, a declared size above the limits (a "1 GB" bomb is refused from its 46-byte directory entry),
 * names that are absolute, contain `..`, `\`, `:` or control characters, duplicates (also after case folding),
 * encryption, ZIP64, data descriptors, methods other than stored/deflate, overlapping entries. Inflation is capped
 * at the declared size (zlib's maxOutputLength), so a liar stops after that many bytes; CRC-32 is checked.
 */
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipLimits {
  maxEntries: number;
  /** Largest declared uncompressed size of one entry. */
  maxEntryBytes: number;
  /** Largest sum of declared uncompressed sizes. */
  maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 64, maxEntryBytes: 8 * 1024 * 1024, maxTotalBytes: 24 * 1024 * 1024 };

export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

interface Entry {
  name: string;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
}

export interface ZipArchive {
  /** Entry names in directory order. */
  readonly names: readonly string[];
  /** The entry's bytes, inflated and CRC-checked (throws ZipFormatError otherwise); undefined when absent. */
  read(name: string): Buffer | undefined;
}

// eslint-disable-next-line no-control-regex
const BAD_NAME = /(^\/)|\\|:|[\u0000-\u001f\u007f]|(^|\/)\.\.?(\/|$)|\/\/|\/$/;

export function readZip(buf: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipArchive {
  const bad = (why: string) => new ZipFormatError(why);
  if (buf.length < 22) throw bad('too short to be a ZIP file');
  // End of central directory: the comment may be up to 65535 bytes, so search at most that far back.
  let eocd = -1;
  for (let p = buf.length - 22; p >= Math.max(0, buf.length - 22 - 0xffff); p--) {
    if (buf.readUInt32LE(p) === 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record');
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (buf.readUInt16LE(eocd + 4) !== 0 || buf.readUInt16LE(eocd + 6) !== 0 || buf.readUInt16LE(eocd + 8) !== count) throw bad('multi-disk archives are not accepted');
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) throw bad('ZIP64 archives are not accepted');
  if (count > limits.maxEntries) throw bad(`${count} entries; at most ${limits.maxEntries} are accepted`);
  if (cdOffset + cdSize > eocd) throw bad('the central directory runs past its end record');

  const entries = new Map<string, Entry>();
  const folded = new Set<string>();
  let total = 0;
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOffset + cdSize || buf.readUInt32LE(p) !== 0x02014b50) throw bad(`central directory entry ${i} is malformed`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20);
    const usize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const offset = buf.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cdOffset + cdSize) throw bad(`central directory entry ${i} runs past the directory`);
    const rawName = buf.subarray(p + 46, p + 46 + nameLen);
    const name = rawName.toString('utf8');
    if (!Buffer.from(name, 'utf8').equals(rawName)) throw bad(`entry ${i} has a name that is not UTF-8`);
    p += 46 + nameLen + extraLen + commentLen;
    if (name === '' || BAD_NAME.test(name)) throw bad(`unsafe entry name ${JSON.stringify(name.slice(0, 200))} (absolute, "..", "\\", ":" or control characters)`);
    if (flags & 0x0001) throw bad(`${name}: encrypted entries are not accepted`);
    if (flags & 0x0008) throw bad(`${name}: data descriptors are not accepted`);
    if (method !== 0 && method !== 8) throw bad(`${name}: compression method ${method} is not accepted`);
    if (csize === 0xffffffff || usize === 0xffffffff || offset === 0xffffffff) throw bad(`${name}: ZIP64 sizes are not accepted`);
    if (usize > limits.maxEntryBytes) throw bad(`${name} inflates to ${usize} bytes; at most ${limits.maxEntryBytes} are accepted`);
    total += usize;
    if (total > limits.maxTotalBytes) throw bad(`the package inflates to more than ${limits.maxTotalBytes} bytes`);
    if (method === 0 && csize !== usize) throw bad(`${name}: stored entry with different sizes`);
    if (entries.has(name) || folded.has(name.toLowerCase())) throw bad(`duplicate entry ${name}`);
    folded.add(name.toLowerCase());
    entries.set(name, { name, method, crc, csize, usize, offset });
  }

  // Local headers must agree with the directory, and entries must not overlap each other or the directory.
  const spans: Array<[number, number]> = [];
  for (const e of entries.values()) {
    const o = e.offset;
    if (o + 30 > cdOffset || buf.readUInt32LE(o) !== 0x04034b50) throw bad(`${e.name}: no local header at ${o}`);
    const nameLen = buf.readUInt16LE(o + 26);
    const extraLen = buf.readUInt16LE(o + 28);
    const localName = buf.subarray(o + 30, o + 30 + nameLen).toString('utf8');
    if (localName !== e.name || buf.readUInt16LE(o + 8) !== e.method) throw bad(`${e.name}: local header does not match the directory`);
    if (buf.readUInt32LE(o + 18) !== e.csize || buf.readUInt32LE(o + 22) !== e.usize || buf.readUInt32LE(o + 14) !== e.crc) throw bad(`${e.name}: local sizes do not match the directory`);
    const start = o + 30 + nameLen + extraLen;
    const end = start + e.csize;
    if (end > cdOffset) throw bad(`${e.name}: data runs into the central directory`);
    spans.push([o, end]);
    e.offset = start;
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if ((spans[i] as [number, number])[0] < (spans[i - 1] as [number, number])[1]) throw bad('entries overlap');

  return {
    names: [...entries.keys()],
    read(name) {
      const e = entries.get(name);
      if (!e) return undefined;
      const raw = buf.subarray(e.offset, e.offset + e.csize);
      let data: Buffer;
      if (e.method === 0) data = Buffer.from(raw);
      else {
        try {
          // One byte over the declared size is enough to catch a liar; zlib stops there.
          data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.usize + 1) });
        } catch (err) {
          throw bad(`${name} does not inflate within its declared ${e.usize} bytes: ${(err as Error).message}`);
        }
      }
      if (data.length !== e.usize) throw bad(`${name} inflates to ${data.length} bytes, not the declared ${e.usize}`);
      if (crc32(data) !== e.crc) throw bad(`${name}: CRC-32 mismatch`);
      return data;
    },
  };
}
