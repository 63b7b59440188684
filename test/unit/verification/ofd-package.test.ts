/**
 * The untrusted-input readers under the OFD verifier (issue 15): the bounded ZIP reader refuses what a package of
 * ours never holds before inflating anything, and the XML reader refuses DTDs (no entity expansion). Our own
 * writer's packages read back with `unzip -t`, an independent reader, and the QR image decodes with zbarimg.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { writeZip } from '../../../src/documents/ofd/zip.js';
import { qrPng } from '../../../src/documents/ofd/qr-png.js';
import { buildCmap } from '../../../src/documents/ofd/ofd-writer.js';
import { parseXml } from '../../../src/verification/ofd/xml.js';
import { readZip } from '../../../src/verification/ofd/zip-reader.js';
import { tempDir, writeTemp, zbarDecode } from '../../support/pdf-tools.js';

const tmp = tempDir('ofd-pkg-');
afterAll(() => tmp.cleanup());

const zipOf = (names: string[]) => writeZip(names.map((name) => ({ name, data: Buffer.from(`file ${name}`) })), new Date('2026-01-01T00:00:00Z'));
/** Renames an entry in place (same length), as a hostile packer would: both local and central names change. */
const renamed = (zip: Buffer, from: string, to: string) => Buffer.from(zip.toString('latin1').replaceAll(from, to), 'latin1');

describe('bounded ZIP reader', () => {
  it('reads back what the writer wrote, and so does unzip -t (an independent reader)', () => {
    const zip = writeZip([{ name: 'OFD.xml', data: Buffer.from('<a/>') }, { name: 'Doc_0/中文.png', data: Buffer.alloc(1000, 1), store: true }], new Date());
    const z = readZip(zip);
    expect(z.names).toEqual(['OFD.xml', 'Doc_0/中文.png']);
    expect(z.read('OFD.xml')?.toString()).toBe('<a/>');
    expect(z.read('Doc_0/中文.png')?.length).toBe(1000);
    expect(execFileSync('unzip', ['-t', writeTemp(tmp.dir, 'ok.zip', zip)], { encoding: 'utf8' })).toContain('No errors detected');
  });

  it.each([
    ['../../evil.txt', 'ab/cd/evil.txt'],
    ['/etc/passwd.x', 'etc/passwd.xx'],
    ['a\\..\\b.txt', 'a/xx/b.txt'],
    ['C:/win.txt', 'CC/win.txt'],
    ['a/./b.txt', 'a/x/b.txt'],
  ])('refuses the unsafe name %s', (bad, placeholder) => {
    expect(bad.length).toBe(placeholder.length);
    expect(() => readZip(renamed(zipOf(['OFD.xml', placeholder]), placeholder, bad))).toThrow(/unsafe entry name/);
  });

  it('refuses duplicate names, also when they differ only in case', () => {
    expect(() => readZip(renamed(zipOf(['OFD.xml', 'ofd.xmm']), 'ofd.xmm', 'ofd.xml'))).toThrow(/duplicate entry/);
  });

  it('refuses too many entries, and sizes above the limits from the directory alone', () => {
    expect(() => readZip(zipOf(Array.from({ length: 65 }, (_, i) => `f${i}.xml`)))).toThrow(/65 entries/);
    const big = writeZip([{ name: 'a.bin', data: Buffer.alloc(2048) }], new Date());
    expect(() => readZip(big, { maxEntries: 10, maxEntryBytes: 1024, maxTotalBytes: 4096 })).toThrow(/inflates to 2048 bytes/);
  });

  it('refuses a CRC mismatch and a local header that disagrees with the directory', () => {
    const zip = writeZip([{ name: 'a.txt', data: Buffer.from('hello'), store: true }], new Date());
    const corrupt = Buffer.from(zip);
    corrupt[30 + 'a.txt'.length] = 0x48; // 'h' → 'H' in the stored data
    expect(() => readZip(corrupt).read('a.txt')).toThrow(/CRC-32/);
    const lying = Buffer.from(zip);
    lying.writeUInt32LE(4, 22); // local uncompressed size
    expect(() => readZip(lying)).toThrow(/local sizes do not match/);
  });

  it('refuses a truncated or non-ZIP body', () => {
    expect(() => readZip(Buffer.from('%PDF-1.7'))).toThrow(/too short|end-of-central-directory/);
    expect(() => readZip(zipOf(['a.xml']).subarray(0, 40))).toThrow();
  });
});

describe('strict XML reader', () => {
  it('reads elements, attributes, entities and CDATA', () => {
    const root = parseXml('<?xml version="1.0"?><ofd:A xmlns:ofd="u" x="1 &amp; 2"><ofd:B>&lt;中&#x6587;&gt;</ofd:B><![CDATA[<raw>]]><!-- c --></ofd:A>');
    expect(root.name).toBe('A');
    expect(root.attrs.x).toBe('1 & 2');
    expect(root.children[0]?.text).toBe('<中文>');
    expect(root.text).toBe('<raw>');
  });

  it('refuses DTDs (no entity expansion), undefined entities, mismatched tags, deep nesting', () => {
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')).toThrow(/DOCTYPE/);
    expect(() => parseXml('<a>&x;</a>')).toThrow(/undefined entity/);
    expect(() => parseXml('<a><b></a></b>')).toThrow(/does not close/);
    expect(() => parseXml(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`)).toThrow(/deeper/);
    expect(() => parseXml('<a/><b/>')).toThrow(/more than one root/);
  });
});

describe('OFD parts', () => {
  it('the QR PNG decodes with zbarimg to the verification link', async () => {
    const url = 'http://localhost:3000/verify/0b5e2c1e-6d0c-4b7e-9a57-3c1d2e4f5a6b/abcdefghijklmnop';
    expect(await zbarDecode(writeTemp(tmp.dir, 'qr.png', qrPng(url)))).toEqual([url]);
  });

  it('the cmap maps BMP characters (format 4) and 𬌗 beyond the BMP (format 12)', () => {
    const cmap = buildCmap([[0x6c88, 1], [0x2c317, 2], [0x41, 3]]);
    expect(cmap.readUInt16BE(2)).toBe(2); // two subtables
    const f12 = cmap.readUInt32BE(16);
    expect(cmap.readUInt16BE(f12)).toBe(12);
    expect(cmap.readUInt32BE(f12 + 12)).toBe(3); // three groups, 𬌗 among them
    expect([0, 1, 2].map((i) => cmap.readUInt32BE(f12 + 16 + 12 * i))).toEqual([0x41, 0x6c88, 0x2c317]);
  });
});
