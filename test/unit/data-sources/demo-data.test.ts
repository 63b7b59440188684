/**
 * The bundled demo records (rules/demo-data) must be internally consistent and match the record shapes of
 * DESIGN.md §4: the demo, the end-to-end tests and the matter test cases all depend on them.
 */
import { describe, expect, it } from 'vitest';
import {
  birthDateOf,
  genderOf,
  isValidIdNumber,
  isValidUscc,
  isWithinRegion,
  orgCodeValid,
} from '../../../src/domain/identifiers.js';
import { loadDemoDataRecords } from '../../support/datasource-server.js';

const TODAY = '2026-11-26';
const data = loadDemoDataRecords();
type Rec = Record<string, unknown>;
const recs = (id: string): Array<[string, Rec]> => Object.entries(data[id] ?? {}) as Array<[string, Rec]>;
const get = (id: string, key: string): Rec | undefined => data[id]?.[key] as Rec | undefined;

/** The one registered entity whose USCC deliberately fails its check character (see market-entity.yaml). */
const BAD_CHECKSUM_USCC = '91210102MA0L6Q7R5A';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function hasShape(record: Rec, keys: string[]): void {
  for (const k of keys) expect(record, `missing ${k}`).toHaveProperty(k);
}

describe('demo data', () => {
  it('has records for every registered source', () => {
    for (const id of ['market-entity', 'population', 'credit', 'real-estate', 'e-license', 'special-equipment']) {
      expect(recs(id).length, id).toBeGreaterThan(0);
    }
  });

  it('market-entity: shape, valid codes (except the deliberate one), Shenyang regions, known people', () => {
    for (const [key, r] of recs('market-entity')) {
      hasShape(r, ['uscc', 'name', 'entityType', 'status', 'legalRepresentative', 'address', 'regionCode', 'businessScope', 'establishedOn']);
      expect(r['uscc']).toBe(key);
      expect(orgCodeValid(key), key).toBe(true);
      expect(isValidUscc(key), key).toBe(key !== BAD_CHECKSUM_USCC);
      expect(['企业', '个体工商户', '农民专业合作社']).toContain(r['entityType']);
      expect(['存续', '在业', '开业', '吊销', '注销', '迁出']).toContain(r['status']);
      expect({ 企业: '91', 个体工商户: '92', 农民专业合作社: '93' }[r['entityType'] as string]).toBe(key.slice(0, 2));
      expect(isWithinRegion(r['regionCode'] as string, '2101')).toBe(true);
      expect(r['establishedOn']).toMatch(DATE);
      const rep = r['legalRepresentative'] as { name: string; idNumber: string };
      expect(get('population', rep.idNumber)?.['name'], `${key} legal rep`).toBe(rep.name);
    }
  });

  it('market-entity: covers the required cases', () => {
    const me = (k: string): Rec | undefined => get('market-entity', k);
    expect(me('91210100MA0Q1A2B6L')).toMatchObject({ name: '沈阳丰禾粮食购销有限公司', entityType: '企业', status: '存续', regionCode: '210102' });
    expect(me('91210100MA0Q1A2B6L')?.['businessScope']).toContain('粮食收购');
    expect(me('91210100MA0Q1A2B6L')?.['legalRepresentative']).toEqual({ name: '张伟', idNumber: '210102199001011237' });
    expect(me('91210102123456788E')).toMatchObject({ name: '沈阳䶮盛粮贸有限公司', entityType: '企业', status: '在业' });
    expect(me('91210102123456788E')?.['legalRepresentative']).toEqual({ name: '王芳', idNumber: '21011219850615002X' });
    expect(me('92210106L0A9B8C750')).toMatchObject({ entityType: '个体工商户', status: '开业' });
    expect(me('93210124MA10K2X388')).toMatchObject({ entityType: '农民专业合作社', status: '存续' });
    const statuses = recs('market-entity').filter(([, r]) => r['entityType'] === '企业').map(([, r]) => r['status']);
    expect(statuses).toEqual(expect.arrayContaining(['吊销', '注销']));
    expect(recs('credit').some(([, r]) => r['seriousDishonest'] === true)).toBe(true);
  });

  it('population: shape, valid numbers, gender and birth date agree with the number', () => {
    for (const [key, r] of recs('population')) {
      hasShape(r, ['idNumber', 'name', 'gender', 'birthDate', 'address', 'regionCode', 'status']);
      expect(r['idNumber']).toBe(key);
      expect(isValidIdNumber(key, TODAY), key).toBe(true);
      expect(r['gender']).toBe(genderOf(key));
      expect(r['birthDate']).toBe(birthDateOf(key));
      expect(['正常', '死亡', '注销']).toContain(r['status']);
      expect(isWithinRegion(r['regionCode'] as string, '2101')).toBe(true);
    }
    const status = (k: string): unknown => get('population', k)?.['status'];
    expect([status('210102199001011237'), status('21011219850615002X'), status('210103200002290049'), status('210106199912315675')]).toEqual(['正常', '正常', '正常', '正常']);
    expect(status('21011519700303331X')).toBe('死亡');
  });

  it('credit: shape, subjects exist', () => {
    for (const [key, r] of recs('credit')) {
      expect(r['subject']).toBe(key);
      expect(typeof r['seriousDishonest']).toBe('boolean');
      expect(typeof r['abnormalOperation']).toBe('boolean');
      expect(get('market-entity', key) ?? get('population', key), key).toBeDefined();
    }
    expect(get('credit', '91210100MA0Q1A2B6L')).toMatchObject({ seriousDishonest: false });
    expect(get('credit', '91210102123456788E')).toMatchObject({ seriousDishonest: false });
  });

  it('real-estate: shape, owners match their registry record, required certificates present', () => {
    for (const [key, r] of recs('real-estate')) {
      hasShape(r, ['certNo', 'owner', 'ownerId', 'address', 'use', 'area']);
      expect(r['certNo']).toBe(key);
      expect(typeof r['area']).toBe('number');
      const owner = get('market-entity', r['ownerId'] as string) ?? get('population', r['ownerId'] as string);
      expect(owner?.['name'], key).toBe(r['owner']);
    }
    expect(get('real-estate', '辽(2024)沈阳市不动产权第0012345号')).toMatchObject({ owner: '沈阳丰禾粮食购销有限公司', ownerId: '91210100MA0Q1A2B6L', use: '仓储' });
    expect(get('real-estate', '辽(2023)沈阳市不动产权第0100001号')).toMatchObject({ owner: '沈阳䶮盛粮贸有限公司', ownerId: '91210102123456788E' });
    const grainFilers = new Set(['91210100MA0Q1A2B6L', '91210102123456788E']);
    expect(recs('real-estate').some(([, r]) => r['use'] === '仓储' && !grainFilers.has(r['ownerId'] as string))).toBe(true);
  });

  it('e-license: shape, 证照标识 check characters, holders match market-entity', () => {
    for (const [key, r] of recs('e-license')) {
      const licenses = r['licenses'] as Rec[];
      expect(Array.isArray(licenses) && licenses.length > 0).toBe(true);
      for (const l of licenses) {
        hasShape(l, ['id', 'typeCode', 'typeName', 'number', 'holder', 'holderId', 'issuer', 'issuedOn', 'validUntil', 'status']);
        expect(l['holderId']).toBe(key);
        expect(l['holder']).toBe(get('market-entity', key)?.['name']);
        expect(l['issuedOn']).toMatch(DATE);
        if (l['validUntil'] !== null) expect(l['validUntil']).toMatch(DATE);
        expect(certIdValid(l['id'] as string), l['id'] as string).toBe(true);
        expect((l['id'] as string).split('.')[5]).toBe(l['typeCode']);
      }
    }
    for (const [uscc] of recs('market-entity')) expect(get('e-license', uscc), uscc).toBeDefined();
  });

  it('the 证照标识 checker agrees with REFERENCE.md §1.4 vectors', () => {
    expect(certIdValid('1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S')).toBe(true);
    expect(certIdValid('1.2.156.3005.2.11210100001234562T001.112101020076543227.2024000123.001.G')).toBe(true);
    expect(certIdValid('1.2.156.3005.2.11210100001234562T001.112101020076543227.2024000123.002.G')).toBe(false);
  });

  it('special-equipment: one in-date and one overdue 机械式停车设备 in use', () => {
    const parking = recs('special-equipment').flatMap(([, r]) =>
      (r['equipment'] as Rec[]).filter((e) => e['category'] === '机械式停车设备' && e['status'] === '在用'),
    );
    for (const [key, r] of recs('special-equipment')) {
      expect(get('market-entity', key)).toBeDefined();
      for (const e of r['equipment'] as Rec[]) hasShape(e, ['regNo', 'category', 'status', 'nextInspection']);
    }
    expect(parking.some((e) => (e['nextInspection'] as string) > TODAY)).toBe(true);
    expect(parking.some((e) => (e['nextInspection'] as string) < TODAY)).toBe(true);
  });
});

describe('demo data of the once-only sources (issue 19)', () => {
  it('project-permits: each 建设单位 is registered, its projects name land on record and a well-formed 项目代码', () => {
    for (const [key, r] of recs('project-permits')) {
      expect(r['uscc']).toBe(key);
      expect(get('market-entity', key), key).toBeDefined();
      for (const p of r['projects'] as Rec[]) {
        hasShape(p, ['projectCode', 'projectName', 'landCertNo', 'planningPermitNo', 'constructionPermitNo', 'plannedCompletionDate', 'status']);
        expect(p['projectCode']).toMatch(/^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$/);
        expect(['在建', '停工', '竣工']).toContain(p['status']);
        expect(p['plannedCompletionDate']).toMatch(DATE);
        if (p['status'] === '在建') expect(get('real-estate', p['landCertNo'] as string)?.['ownerId'], p['projectCode'] as string).toBe(key);
      }
    }
    // One developer with a single project under construction, one with several (the choice).
    const underway = (k: string) => (get('project-permits', k)?.['projects'] as Rec[]).filter((p) => p['status'] === '在建').length;
    expect(underway('91210112MA0P3H5JX0')).toBe(1);
    expect(underway('91210104MA0Y1B2C40')).toBeGreaterThan(1);
  });

  it('housing-survey and presale-escrow: keyed by a 项目代码 that project-permits knows; survey totals add up', () => {
    const codes = new Set(recs('project-permits').flatMap(([, r]) => (r['projects'] as Rec[]).map((p) => p['projectCode'])));
    for (const [key, r] of recs('housing-survey')) {
      expect(r['projectCode']).toBe(key);
      expect(codes.has(key), key).toBe(true);
      const byBuilding = r['byBuilding'] as Rec[];
      expect(byBuilding.reduce((n, b) => n + (b['units'] as number), 0)).toBe(r['unitCount']);
      expect(byBuilding.reduce((n, b) => n + (b['area'] as number), 0)).toBeCloseTo(r['presaleArea'] as number, 6);
    }
    for (const [key, r] of recs('presale-escrow')) {
      expect(r['projectCode']).toBe(key);
      expect(codes.has(key), key).toBe(true);
      expect(r['accountNo']).toMatch(/^[0-9]{8,32}$/);
    }
  });

  it('construction-project parking records: Shenyang districts, spaces by kind that add up', () => {
    const lots = recs('construction-project').filter(([, r]) => r['parking']);
    expect(lots.length).toBeGreaterThanOrEqual(3);
    for (const [key, r] of lots) {
      const p = r['parking'] as { regionCode: string; lotForm: string; spaces: Record<string, number> };
      expect(isWithinRegion(p.regionCode, '2101'), key).toBe(true);
      expect(['地面露天', '室内地面', '地下', '机械式立体']).toContain(p.lotForm);
      expect(p.spaces['small']! + p.spaces['large']!, key).toBe(p.spaces['total']);
      expect(p.spaces['mechanical']! > 0, key).toBe(p.lotForm === '机械式立体');
      expect(get('real-estate', key), key).toBeDefined();
    }
  });
});

/** GB/T 36904 证照标识 check: ISO/IEC 7064 MOD 37,36 over segments 2–5 without dots (REFERENCE.md §1.4). */
function certIdValid(id: string): boolean {
  const A = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const m = /^1\.2\.156\.3005\.2\.([^.]+)\.([^.]+)\.([^.]+)\.(\d{3})\.([0-9A-Z])$/.exec(id);
  if (!m) return false;
  let p = 36;
  for (const ch of `${m[1]}${m[2]}${m[3]}${m[4]}`) {
    const v = A.indexOf(ch);
    if (v < 0) return false;
    let t = (p + v) % 36;
    if (t === 0) t = 36;
    p = (2 * t) % 37;
  }
  return A.charAt((37 - p) % 36) === m[5];
}
