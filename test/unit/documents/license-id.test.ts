import { describe, expect, it } from 'vitest';
import { isValidLicenseId, licenseCheckChar, makeLicenseId, parseLicenseId } from '../../../src/documents/license-id.js';

// REFERENCE.md §1.4: real identifiers whose MOD 37,36 check matches (✔).
const VALID = [
  '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S',
  '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U',
  '1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F',
  '1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3',
  '1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0',
  '1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9',
  '1.2.156.3005.2.11210100001234562T001.112101020076543227.2024000123.001.G',
  '1.2.156.3005.2.11210100001234562T001.112101020076543227.2024000123.002.E',
];

// REFERENCE.md §1.4 ✘ vectors: printed check character vs the one the algorithm computes.
const INVALID: Array<{ id: string; computed: string }> = [
  {
    id: '1.2.156.3005.2.11100000000013661B006.113700000045046442.209FA4E88F9E4C878F3E9BED2CE7EA49.001.M',
    computed: 'D',
  },
  { id: '1.2.156.3005.2.11100000000013338W050.91610800064834709T.2023000001.001.X', computed: '2' },
];

function body(id: string): string {
  const p = parseLicenseId(id);
  if (!p) throw new Error(`unparseable ${id}`);
  return p.typeCode + p.issuerCode + p.serial + p.version;
}

describe('证照标识 (GB/T 36904, MOD 37,36)', () => {
  it.each(VALID)('accepts the reference identifier %s', (id) => {
    expect(isValidLicenseId(id)).toBe(true);
    expect(licenseCheckChar(body(id))).toBe(id.slice(-1));
  });

  it.each(INVALID)('rejects $id and computes $computed as its check character', ({ id, computed }) => {
    expect(isValidLicenseId(id)).toBe(false);
    expect(licenseCheckChar(body(id))).toBe(computed);
    expect(isValidLicenseId(id.slice(0, -1) + computed)).toBe(true);
  });

  it('builds the synthetic Shenyang identifiers from their parts, version 1 → G and version 2 → E', () => {
    const parts = { typeCode: '11210100001234562T001', issuerCode: '112101020076543227', serial: '2024000123' };
    expect(makeLicenseId({ ...parts, version: '001' })).toBe(VALID[6]);
    expect(makeLicenseId({ ...parts, version: 2 })).toBe(VALID[7]);
  });

  it('rejects every single-character change of the check character', () => {
    const id = VALID[0] as string;
    for (const c of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ') {
      if (c !== id.slice(-1)) expect(isValidLicenseId(id.slice(0, -1) + c)).toBe(false);
    }
  });

  it('rejects identifiers with a wrong root, a missing segment or a non-3-digit version', () => {
    const id = VALID[2] as string;
    expect(isValidLicenseId(id.replace('1.2.156.3005.2', '1.2.156.3005.3'))).toBe(false);
    expect(isValidLicenseId(id.replace('.2430599', ''))).toBe(false);
    expect(isValidLicenseId(id.replace('.001.', '.01.'))).toBe(false);
    expect(isValidLicenseId('')).toBe(false);
  });

  it('refuses to build an identifier from a segment containing a dot or a non-alphanumeric character', () => {
    const good = { typeCode: '11210100001234562T001', issuerCode: '112101020076543227', serial: '1', version: '001' };
    expect(() => makeLicenseId({ ...good, serial: '2024.1' })).toThrow(RangeError);
    expect(() => makeLicenseId({ ...good, serial: '' })).toThrow(RangeError);
    expect(() => makeLicenseId({ ...good, version: '1' })).toThrow(RangeError);
    expect(() => licenseCheckChar('ABC-1')).toThrow(RangeError);
  });
});
