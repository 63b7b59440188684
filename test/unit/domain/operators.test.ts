import { describe, expect, it } from 'vitest';
import { normaliseText, operators } from '../../../src/domain/operators.js';

const op = (name: string) => operators[name]!;

describe('custom operators', () => {
  it('identifiers: USCC category, checksum, ID numbers, codes equal across full-width input', () => {
    expect(op('usccCategory')('91210100MA0Q1A2B6L', '91')).toBe(true);
    expect(op('usccCategory')('92210106L0A9B8C750', '91')).toBe(false);
    expect(op('validUscc')('91210100MA0Q1A2B6L', true)).toBe(true);
    expect(op('validUscc')('91210102MA0L6Q7R5A', true)).toBe(false);
    expect(op('validIdNumber')('210102199001011237', { today: '2026-11-26' })).toBe(true);
    expect(op('validIdNumber')('210103199902290049', { today: '2026-11-26' })).toBe(false);
    expect(op('sameCode')('９１２１０１００ma0q1a2b6l', '91210100MA0Q1A2B6L')).toBe(true);
    expect(op('sameCode')(undefined, '91210100MA0Q1A2B6L')).toBe(false);
  });

  it('dates: on or after, before, valid on (null = 长期), within N days', () => {
    expect(op('dateOnOrAfter')('2026-11-26', '2026-11-26')).toBe(true);
    expect(op('dateOnOrAfter')('2026-02-30', '2026-01-01')).toBe(false);
    expect(op('dateBefore')('2025-01-01', '2026-11-26')).toBe(true);
    expect(op('validOn')(null, '2026-11-26')).toBe(true);
    expect(op('validOn')('2031-04-19', '2026-11-26')).toBe(true);
    expect(op('validOn')('2026-11-25', '2026-11-26')).toBe(false);
    expect(op('validOn')('2031-04-19', 'today')).toBe(false);
    expect(op('withinDays')('2026-11-20', { today: '2026-11-26', days: 10 })).toBe(true);
    expect(op('withinDays')('2026-10-01', { today: '2026-11-26', days: 10 })).toBe(false);
    expect(op('withinDays')('2026-12-01', { today: '2026-11-26', days: 10 })).toBe(false);
  });

  it('regions: within a prefix, within any of several', () => {
    expect(op('regionWithin')('210102', '2101')).toBe(true);
    expect(op('regionWithin')('110101', '2101')).toBe(false);
    expect(op('regionWithin')('2101', '2101')).toBe(false);
    expect(op('regionWithinAny')('210112', ['210102', '2101'])).toBe(true);
    expect(op('regionWithinAny')('110101', ['210102'])).toBe(false);
  });

  it('arrays: any item / all items satisfy, with a selection and a minimum', () => {
    const eq = [
      { category: '机械式停车设备', status: '在用', nextInspection: '2027-09-30' },
      { category: '机械式停车设备', status: '停用', nextInspection: '2025-10-31' },
    ];
    expect(op('anyItem')(eq, { where: { status: '在用' } })).toBe(true);
    expect(op('anyItem')(eq, { where: { status: '报废' } })).toBe(false);
    expect(op('anyItem')(eq, { path: 'nextInspection', operator: 'dateBefore', value: '2026-01-01' })).toBe(true);
    expect(op('allItems')(eq, { where: { status: '在用' }, path: 'nextInspection', operator: 'dateOnOrAfter', value: '2026-11-26' })).toBe(true);
    expect(op('allItems')(eq, { path: 'nextInspection', operator: 'dateOnOrAfter', value: '2026-11-26' })).toBe(false);
    expect(op('allItems')([], { min: 1 })).toBe(false);
    expect(op('allItems')(eq, { operator: 'noSuchOperator' })).toBe(false);
    expect(op('anyItem')('not a list', {})).toBe(false);
  });

  it('numbers: parts add up to a total; a ratio reaches a minimum', () => {
    expect(op('sumEquals')({ total: 60, small: 58, large: 2 }, { of: ['small', 'large'], path: 'total' })).toBe(true);
    expect(op('sumEquals')({ total: 70, small: 58, large: 2 }, { of: ['small', 'large'], path: 'total' })).toBe(false);
    expect(op('sumEquals')({ total: 60, small: '58', large: 2 }, { of: ['small', 'large'], path: 'total' })).toBe(false);
    expect(op('ratioAtLeast')({ investedFunds: 20000, totalInvestment: 50000 }, { numerator: 'investedFunds', denominator: 'totalInvestment', min: 0.25 })).toBe(true);
    expect(op('ratioAtLeast')({ investedFunds: 12000, totalInvestment: 80000 }, { numerator: 'investedFunds', denominator: 'totalInvestment', min: 0.25 })).toBe(false);
    expect(op('ratioAtLeast')({ investedFunds: 1, totalInvestment: 0 }, { numerator: 'investedFunds', denominator: 'totalInvestment', min: 0.25 })).toBe(false);
  });

  it('text: normalised equality and containment (full-width, spaces); presence', () => {
    expect(normaliseText('张　伟 ')).toBe('张伟');
    expect(op('sameText')('张 伟', '张伟')).toBe(true);
    expect(op('sameText')('ＡＢＣ', 'ABC')).toBe(true);
    expect(op('sameText')('张伟', '张三')).toBe(false);
    expect(op('containsText')('停车场服务；物业管理', '停车')).toBe(true);
    expect(op('containsText')('粮食收购', '停车')).toBe(false);
    expect(op('present')('辽沈居字1号', true)).toBe(true);
    expect(op('present')(undefined, true)).toBe(false);
    expect(op('present')('  ', false)).toBe(true);
    expect(op('present')([], true)).toBe(false);
  });
});

describe('operators outside the engine', () => {
  it('apply built-ins by name like json-rules-engine, and unknown names never match', async () => {
    const { applyOperator } = await import('../../../src/domain/operators.js');
    expect(applyOperator('equal', '低保', '低保')).toBe(true);
    expect(applyOperator('in', 2, [1, 2])).toBe(true);
    expect(applyOperator('lessThan', '1', 2)).toBe(false);
    expect(applyOperator('regionWithin', '210102', '2101')).toBe(true);
    expect(applyOperator('nope', 1, 1)).toBe(false);
  });
});
