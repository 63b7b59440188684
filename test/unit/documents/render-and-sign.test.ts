import { inflateSync } from 'node:zlib';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCertificate, renderForm } from '../../../src/documents/pdf/certificate-pdf.js';
import { loadFont, missingGlyphs } from '../../../src/documents/fonts.js';
import { formatChineseDate, wrapText } from '../../../src/documents/layout.js';
import { ensureDevPki } from '../../../src/signing/pki.js';
import type { DevPki } from '../../../src/signing/pki.js';
import { BYTE_RANGE_PLACEHOLDER, SIGNATURE_CONTENTS_BYTES, signPdf } from '../../../src/signing/sign-pdf.js';
import { pdfText, tempDir, writeTemp } from '../../support/pdf-tools.js';
import { DEPT, META, certificateContent, formContent } from './sample.js';
import { applicantSealSigner } from '../../support/seals.js';

let tmp: ReturnType<typeof tempDir>;
let pki: DevPki;
beforeAll(async () => {
  tmp = tempDir('render-');
  pki = await ensureDevPki(`${tmp.dir}/pki`, [DEPT]);
});
afterAll(() => tmp?.cleanup());

describe('renderCertificate', () => {
  it('produces a single A4 page with an unsigned placeholder of 16384 bytes', async () => {
    const pdf = await renderCertificate(certificateContent(), META);
    const doc = await PDFDocument.load(pdf);
    expect(doc.getPageCount()).toBe(1);
    const { width, height } = doc.getPage(0).getSize();
    expect([Math.round(width), Math.round(height)]).toEqual([595, 842]);
    const s = Buffer.from(pdf).toString('latin1');
    expect(s).toContain(`/Contents <${'0'.repeat(SIGNATURE_CONTENTS_BYTES * 2)}>`);
    expect(s.match(/\/ByteRange/g)).toHaveLength(1);
  });

  it('prints 长期 when there is no end of validity, and the end date otherwise', async () => {
    const dir = tmp.dir;
    const open = await pdfText(writeTemp(dir, 'open.pdf', await renderCertificate(certificateContent(), META)));
    expect(open).toContain('有效期：长期');
    const dated = certificateContent({ validUntil: '2029-04-30' });
    const until = await pdfText(writeTemp(dir, 'dated.pdf', await renderCertificate(dated, META)));
    expect(until).toContain('有效期至：2029年4月30日');
    expect(until).toContain('发证日期：2024年5月1日');
  });

  it('keeps many long lines on one page by shrinking the type', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => ({ label: `事项${i + 1}`, value: '很长的内容'.repeat(8) }));
    const doc = await PDFDocument.load(await renderCertificate(certificateContent({ lines }), META));
    expect(doc.getPageCount()).toBe(1);
  });

  it('refuses content that cannot fit on one page instead of overflowing it', async () => {
    const lines = Array.from({ length: 60 }, (_, i) => ({ label: `事项${i + 1}`, value: '很长的内容'.repeat(60) }));
    await expect(renderCertificate(certificateContent({ lines }), META)).rejects.toThrow(/does not fit/);
  });

  it('rejects a malformed issue date', async () => {
    await expect(renderCertificate(certificateContent({ issuedOn: '2024/5/1' }), META)).rejects.toThrow(/YYYY-MM-DD/);
  });
});

describe('renderForm', () => {
  it('flows a long table onto further pages and still carries exactly one signature placeholder', async () => {
    const content = formContent();
    content.rows = Array.from({ length: 60 }, (_, i) => ({ label: `字段${i + 1}`, value: `值${i + 1}` }));
    const pdf = await renderForm(content, META);
    expect((await PDFDocument.load(pdf)).getPageCount()).toBeGreaterThan(1);
    expect(Buffer.from(pdf).toString('latin1').match(/\/ByteRange/g)).toHaveLength(1);
    const text = await pdfText(writeTemp(tmp.dir, 'long-form.pdf', await signPdf(pdf, await applicantSealSigner(pki, content.applicant))));
    expect(text).toContain('字段60');
  });

  it('sets a table at the largest type size that keeps it on one page, size by size, and flows it at 11 pt when none does', async () => {
    // renderForm measures each size (a pass that draws nothing) before it draws the one that fits: this pins that
    // the measured and the drawn layouts agree — a disagreement skips a size or lets the size grow with the rows.
    const forms: Array<{ rows: number; pages: number; size: number }> = [];
    for (let rows = 12; rows <= 30; rows++) {
      const content = formContent();
      content.rows = Array.from({ length: rows }, (_, i) => ({ label: `字段${i + 1}`, value: `值${i + 1}` }));
      const pdf = await renderForm(content, META);
      forms.push({ rows, pages: (await PDFDocument.load(pdf)).getPageCount(), size: bodyTypeSize(pdf) });
    }
    const onePage = forms.filter((f) => f.pages === 1);
    const flowed = forms.filter((f) => f.pages > 1);
    expect(new Set(onePage.map((f) => f.size))).toEqual(new Set([11, 10.5, 10, 9.5, 9]));
    const order = [11, 10.5, 10, 9.5, 9];
    for (let i = 1; i < onePage.length; i++) {
      const step = order.indexOf(onePage[i]!.size) - order.indexOf(onePage[i - 1]!.size);
      expect(step, `${onePage[i - 1]!.rows} → ${onePage[i]!.rows} rows: ${onePage[i - 1]!.size} → ${onePage[i]!.size} pt`).toBeGreaterThanOrEqual(0);
      expect(step).toBeLessThanOrEqual(1);
    }
    expect(flowed.length).toBeGreaterThan(0);
    expect(Math.min(...flowed.map((f) => f.rows))).toBe(Math.max(...onePage.map((f) => f.rows)) + 1);
    for (const f of flowed) expect(f.size).toBe(11);
  });
});

/** The type size a form's rows are set in: the size its pages' content streams select most often. */
function bodyTypeSize(pdf: Uint8Array): number {
  const bytes = Buffer.from(pdf);
  const s = bytes.toString('latin1');
  const count = new Map<number, number>();
  for (const m of s.matchAll(/\/Filter \/FlateDecode \/Length (\d+)|\/Length (\d+) \/Filter \/FlateDecode/g)) {
    const start = s.indexOf('stream\n', m.index) + 'stream\n'.length;
    let text: string;
    try {
      text = inflateSync(bytes.subarray(start, start + Number(m[1] ?? m[2]))).toString('latin1');
    } catch {
      continue;
    }
    for (const t of text.matchAll(/\/F1 ([\d.]+) Tf/g)) count.set(Number(t[1]), (count.get(Number(t[1])) ?? 0) + 1);
  }
  return [...count].sort((a, b) => b[1] - a[1])[0]![0];
}

describe('signPdf', () => {
  it('leaves its input untouched and returns a file of the same length', async () => {
    const pdf = await renderCertificate(certificateContent(), META);
    const before = Buffer.from(pdf);
    const signed = await signPdf(pdf, pki.departmentSigner(DEPT.code));
    expect(Buffer.from(pdf).equals(before)).toBe(true);
    expect(signed.length).toBe(pdf.length);
    expect(Buffer.from(signed).equals(before)).toBe(false);
  });

  it('writes a /ByteRange that covers the whole file except the /Contents hex string', async () => {
    const signed = await signPdf(await renderCertificate(certificateContent(), META), pki.departmentSigner(DEPT.code));
    const s = Buffer.from(signed).toString('latin1');
    const m = /\/ByteRange \[ 0 (\d+) (\d+) (\d+) *\]/.exec(s);
    expect(m).not.toBeNull();
    const [b, c, d] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
    expect(s[b]).toBe('<');
    expect(s[c - 1]).toBe('>');
    expect(c - b).toBe(SIGNATURE_CONTENTS_BYTES * 2 + 2);
    expect(c + d).toBe(signed.length);
  });

  it('refuses to sign a file that is already signed or has no placeholder', async () => {
    const signer = pki.departmentSigner(DEPT.code);
    const signed = await signPdf(await renderCertificate(certificateContent(), META), signer);
    await expect(signPdf(signed, signer)).rejects.toThrow(/placeholder/);
    const plain = await PDFDocument.create();
    plain.addPage();
    await expect(signPdf(await plain.save(), signer)).rejects.toThrow(/placeholder/);
    // A second /ByteRange anywhere (here a second placeholder, then any other) is refused too: which one to sign?
    const unsigned = await renderCertificate(certificateContent(), META);
    const twice = Buffer.concat([Buffer.from(unsigned), Buffer.from(`\n% ${BYTE_RANGE_PLACEHOLDER}\n`, 'latin1')]);
    await expect(signPdf(twice, signer)).rejects.toThrow(/exactly one unsigned signature placeholder, found 2/);
    const other = Buffer.concat([Buffer.from(unsigned), Buffer.from('\n% /ByteRange [ 0 1 2 3 ]\n', 'latin1')]);
    await expect(signPdf(other, signer)).rejects.toThrow(/exactly one unsigned signature placeholder, found 1/);
    expect((await signPdf(unsigned, signer)).length).toBe(unsigned.length);
  });
});

describe('layout helpers', () => {
  it('wraps text into lines that fit the width and together give back the text', () => {
    const font = loadFont();
    const text = '辽宁省沈阳市和平区南京南街一段123号，附属仓储设施（租赁）。'.repeat(20);
    const lines = wrapText(text, 200, 12, font);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.join('')).toBe(text);
    for (const l of lines) expect(font.widthOf(l, 12)).toBeLessThanOrEqual(200 + 12);
    for (const l of lines.slice(1)) expect(l[0]).not.toMatch(/[，。）]/);
    // Remembered per font, width and size: the same lines again (and not to be changed by a caller); another width
    // or size is wrapped anew.
    expect(wrapText(text, 200, 12, font)).toBe(lines);
    expect(Object.isFrozen(lines)).toBe(true);
    expect(wrapText(text, 300, 12, font).length).toBeLessThan(lines.length);
    expect(wrapText(text, 200, 9, font).length).toBeLessThan(lines.length);
  });

  it('formats ISO dates the Chinese way', () => {
    expect(formatChineseDate('2024-05-01')).toBe('2024年5月1日');
  });

  it('has glyphs for the rare characters in the sample names', () => {
    expect(missingGlyphs('沈阳䶮盛粮贸有限公司 王㵘 𬌗')).toEqual([]);
  });
});
