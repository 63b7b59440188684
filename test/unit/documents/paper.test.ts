/** What documents print (issue 18): Chinese dates in Beijing time, grades, calendar validity, no breaks inside numbers. */
import { describe, expect, it } from 'vitest';
import { loadFont } from '../../../src/documents/fonts.js';
import { beijingDate, formatBeijingDateTime, formatChineseDate, formatGrade, wrapText } from '../../../src/documents/layout.js';
import { validUntilOf } from '../../../src/pipeline/issue-certificate.js';
import { formatValue } from '../../../src/pipeline/prefill-fields.js';

describe('dates', () => {
  it('prints 2026年12月4日 without zero padding', () => {
    expect(formatChineseDate('2026-12-04')).toBe('2026年12月4日');
    expect(formatChineseDate('2024-05-01')).toBe('2024年5月1日');
    expect(() => formatChineseDate('2026-12-04T00:00:00Z')).toThrow(RangeError);
  });

  it('uses the Beijing day between 00:00 and 08:00 Beijing time (16:00–24:00 UTC the day before)', () => {
    expect(beijingDate('2026-12-03T16:30:00.000Z')).toBe('2026-12-04');
    expect(beijingDate('2026-12-03T15:59:59.999Z')).toBe('2026-12-03');
    expect(formatBeijingDateTime('2026-12-04T14:24:26.348Z')).toBe('2026年12月4日 22:24');
    expect(formatBeijingDateTime('2026-12-03T23:05:00.000Z')).toBe('2026年12月4日 07:05');
  });
});

describe('grades and validity', () => {
  it('prints 残疾等级 3 as 三级', () => {
    expect(formatGrade(3)).toBe('三级');
    expect(formatGrade('1')).toBe('一级');
    expect(formatGrade(7)).toBe('7');
    expect(formatValue(4, 'grade')).toBe('四级');
    expect(formatValue(undefined, 'grade')).toBe('—');
  });

  it('counts {years: N} in calendar years: to the day before the same date N years on', () => {
    expect(validUntilOf('2026-12-04', { years: 10 })).toBe('2036-12-03');
    expect(validUntilOf('2026-01-01', { years: 1 })).toBe('2026-12-31');
    expect(validUntilOf('2024-02-29', { years: 1 })).toBe('2025-02-28');
    expect(validUntilOf('2024-03-01', { years: 5 })).toBe('2029-02-28');
    expect(validUntilOf('2026-12-04', 30)).toBe('2027-01-03');
  });
});

describe('line wrapping', () => {
  const font = loadFont();
  it('never breaks inside a number, a code or a date', () => {
    const text = '有效期至2030年12月31日，统一社会信用代码91210100MA0Q1A2B6L，仓容12000吨，申请编号沈2026120400017。';
    for (let width = 130; width <= 400; width += 7) {
      const lines = wrapText(text, width, 11, font);
      expect(lines.join('')).toBe(text);
      const joined = lines.join('|');
      for (const piece of ['2030年12月31日', '91210100MA0Q1A2B6L', '12000', '2026120400017']) expect(joined).toContain(piece);
    }
  });

  it('still breaks a piece longer than a whole line (a URL) so nothing runs off the page', () => {
    const url = 'https://zwfw.shenyang.gov.cn/v/1.2.156.3005.2.11210100001234562T001.112101020076543227.2024000123.001.G';
    const lines = wrapText(url, 200, 7, font);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join('')).toBe(url);
    for (const ln of lines) expect(font.widthOf(ln, 7)).toBeLessThanOrEqual(200 + 7);
  });
});
