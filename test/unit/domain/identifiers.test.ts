import { describe, expect, it } from 'vitest';
import {
  birthDateOf,
  genderOf,
  idNumber15To18,
  idNumberCheckChar,
  isRegionCode,
  isValidIdNumber,
  isValidUscc,
  isWithinRegion,
  normaliseCode,
  orgCodeValid,
  usccCheckChar,
  usccEntityCategory,
} from '../../../src/domain/identifiers.js';

const TODAY = '2026-11-26';

// REFERENCE.md §1.1: every vector passes both the USCC check and the GB 11714 org-code check.
const VALID_USCC = [
  // real companies
  '91520000214434146R',
  '91440300100012316L',
  '91440300708461136T',
  '91330100799655058B',
  '914403001922038216',
  '91110000710925462X',
  '91100000100003962T',
  '91440300192317458F',
  '91110108551385082Q',
  '91110000802100433B',
  // government bodies seen in real 电子证照标识
  '11100000000013338W',
  '11100000000013661B',
  '11430000006122244L',
  '11220000013544541J',
  '113700000045046442',
  '11370800MB28559184',
  '11330105002500287C',
  // synthetic Shenyang
  '91210100MA0Q1A2B6L',
  '91210102123456788E',
  '92210106L0A9B8C750',
  '93210124MA10K2X388',
  '11210100001234562T',
  '12210100412345670F',
  '52210100MJ0000018Q',
  '112101020076543227',
  // DESIGN.md §5 reference departments
  '11210100MB0E12346R',
  '11210100MB0E23459Q',
  '11210100MB0E34561M',
  '11210100MB0E45674L',
  '11210100MB0E56787K',
];

describe('normaliseCode', () => {
  it('maps full-width to half-width, trims and upper-cases', () => {
    expect(normaliseCode('  ９１２１０１００ｍａ０ｑ１ａ２ｂ６ｌ　')).toBe('91210100MA0Q1A2B6L');
    expect(normaliseCode('21011219850615002ｘ')).toBe('21011219850615002X');
    expect(normaliseCode('abc')).toBe('ABC');
  });
});

describe('USCC (GB 32100)', () => {
  it.each(VALID_USCC)('%s is valid and passes the org-code check', (code) => {
    expect(isValidUscc(code)).toBe(true);
    expect(orgCodeValid(code)).toBe(true);
    expect(usccCheckChar(code.slice(0, 17))).toBe(code.charAt(17));
  });

  it('rejects a wrong check character (91520000214434146A, expected R)', () => {
    expect(isValidUscc('91520000214434146A')).toBe(false);
    expect(usccCheckChar('91520000214434146')).toBe('R');
  });

  it('rejects the forbidden letter I (9152000021443414IR)', () => {
    expect(isValidUscc('9152000021443414IR')).toBe(false);
    expect(usccCheckChar('9152000021443414I')).toBeNull();
  });

  it('91350203M0001QAY9B fails the USCC check (expected 9) but passes the org-code check', () => {
    expect(isValidUscc('91350203M0001QAY9B')).toBe(false);
    expect(usccCheckChar('91350203M0001QAY9')).toBe('9');
    expect(orgCodeValid('91350203M0001QAY9B')).toBe(true);
  });

  it('accepts full-width, lower-case and padded input', () => {
    expect(isValidUscc('９１２１０１００ＭＡ０Ｑ１Ａ２Ｂ６Ｌ')).toBe(true);
    expect(isValidUscc(' 91210100ma0q1a2b6l ')).toBe(true);
    expect(usccEntityCategory('９２２１０１０６Ｌ０Ａ９Ｂ８Ｃ７５０')).toBe('92');
  });

  it('rejects wrong lengths and shapes', () => {
    expect(isValidUscc('')).toBe(false);
    expect(isValidUscc('91210100MA0Q1A2B6')).toBe(false);
    expect(isValidUscc('91210100MA0Q1A2B6LL')).toBe(false);
    expect(isValidUscc('91A10100MA0Q1A2B6L')).toBe(false); // positions 3–8 must be digits
    expect(usccCheckChar('9121010')).toBeNull();
    expect(orgCodeValid('91210100')).toBe(false);
  });

  it('reports the org-code check independently of the USCC check', () => {
    // Change position 16 and recompute position 18: USCC valid, org code broken.
    const d17 = '91210100MA0Q1A2C6';
    const code = d17 + usccCheckChar(d17);
    expect(isValidUscc(code)).toBe(true);
    expect(orgCodeValid(code)).toBe(false);
  });

  it('gives the entity category from the first two characters', () => {
    expect(usccEntityCategory('91210100MA0Q1A2B6L')).toBe('91');
    expect(usccEntityCategory('92210106L0A9B8C750')).toBe('92');
    expect(usccEntityCategory('93210124MA10K2X388')).toBe('93');
    expect(usccEntityCategory('11210100001234562T')).toBe('11');
    // shape is enough: a registered entity with a bad checksum still has a category
    expect(usccEntityCategory('91350203M0001QAY9B')).toBe('91');
    expect(usccEntityCategory('not a code')).toBeNull();
  });
});

describe('公民身份号码 (GB 11643)', () => {
  const VALID = [
    ['11010519491231002X', '1949-12-31', '女'],
    ['440524188001010014', '1880-01-01', '男'],
    ['210102199001011237', '1990-01-01', '男'],
    ['21011219850615002X', '1985-06-15', '女'],
    ['21011519700303331X', '1970-03-03', '男'],
    ['210103200002290049', '2000-02-29', '女'],
    ['210106199912315675', '1999-12-31', '男'],
  ] as const;

  it.each(VALID)('%s is valid (born %s, %s)', (id, birth, gender) => {
    expect(isValidIdNumber(id, TODAY)).toBe(true);
    expect(idNumberCheckChar(id.slice(0, 17))).toBe(id.charAt(17));
    expect(birthDateOf(id)).toBe(birth);
    expect(genderOf(id)).toBe(gender);
  });

  it('rejects a wrong check character (210102199001011236, expected 7)', () => {
    expect(isValidIdNumber('210102199001011236', TODAY)).toBe(false);
    expect(idNumberCheckChar('21010219900101123')).toBe('7');
  });

  it('rejects 210103199902290049: checksum OK but 1999-02-29 does not exist', () => {
    expect(idNumberCheckChar('21010319990229004')).toBe('9');
    expect(isValidIdNumber('210103199902290049', TODAY)).toBe(false);
    expect(birthDateOf('210103199902290049')).toBeNull();
  });

  it('accepts lower-case x and full-width input', () => {
    expect(isValidIdNumber('21011219850615002x', TODAY)).toBe(true);
    expect(isValidIdNumber('２１０１１２１９８５０６１５００２Ｘ', TODAY)).toBe(true);
    expect(isValidIdNumber('２１０１０２１９９００１０１１２３７', TODAY)).toBe(true);
    expect(isValidIdNumber(' 11010519491231002ｘ ', TODAY)).toBe(true);
  });

  it('rejects a birth date after today, whatever the checksum', () => {
    const d17 = '21010220261127123';
    const id = d17 + idNumberCheckChar(d17);
    expect(isValidIdNumber(id, '2026-11-26')).toBe(false);
    expect(isValidIdNumber(id, '2026-11-27')).toBe(true);
  });

  it('rejects impossible months/days and bad shapes', () => {
    for (const d17 of ['21010219901301123', '21010219900132123', '21010219900100123', '21010217990101123']) {
      expect(isValidIdNumber(d17 + idNumberCheckChar(d17), TODAY)).toBe(false);
    }
    expect(isValidIdNumber('', TODAY)).toBe(false);
    expect(isValidIdNumber('21010219900101123', TODAY)).toBe(false);
    expect(isValidIdNumber('2101021990010112X7', TODAY)).toBe(false);
    expect(idNumberCheckChar('2101021990010112X')).toBeNull();
  });

  it('throws on a malformed today (programming error)', () => {
    expect(() => isValidIdNumber('210102199001011237', '2026-02-30')).toThrow(RangeError);
    expect(() => isValidIdNumber('210102199001011237', '20261126')).toThrow(RangeError);
  });

  it('converts 15 → 18 digits (210102800101123 → 210102198001011232)', () => {
    expect(idNumber15To18('210102800101123')).toBe('210102198001011232');
    expect(isValidIdNumber(idNumber15To18('210102800101123') ?? '', TODAY)).toBe(true);
    expect(idNumber15To18('２１０１０２８００１０１１２３')).toBe('210102198001011232');
    expect(birthDateOf('210102800101123')).toBe('1980-01-01');
    expect(genderOf('210102800101123')).toBe('男');
    expect(idNumber15To18('210102990229123')).toBeNull(); // 1999-02-29
    expect(idNumber15To18('21010280010112')).toBeNull();
  });

  it('birthDateOf / genderOf reject malformed input', () => {
    expect(birthDateOf('abc')).toBeNull();
    expect(genderOf('abc')).toBeNull();
  });
});

describe('行政区划代码 (GB/T 2260)', () => {
  it('isRegionCode: exactly 6 ASCII digits', () => {
    expect(isRegionCode('210102')).toBe(true);
    expect(isRegionCode('210122')).toBe(true); // historical 辽中县 stays acceptable
    expect(isRegionCode('21010')).toBe(false);
    expect(isRegionCode('2101020')).toBe(false);
    expect(isRegionCode('21010A')).toBe(false);
    expect(isRegionCode('')).toBe(false);
  });

  it('isWithinRegion: Shenyang is 2101xx', () => {
    for (const c of ['210100', '210102', '210112', '210115', '210124', '210181']) expect(isWithinRegion(c, '2101')).toBe(true);
    expect(isWithinRegion('210202', '2101')).toBe(false); // 大连
    expect(isWithinRegion('110101', '2101')).toBe(false);
    expect(isWithinRegion('210102', '21')).toBe(true);
    expect(isWithinRegion('210102', '210102')).toBe(true);
    expect(isWithinRegion('21010', '2101')).toBe(false);
    expect(isWithinRegion('210102', '210')).toBe(false); // prefix must be 2, 4 or 6 digits
    expect(isWithinRegion('210102', '')).toBe(false);
  });
});
