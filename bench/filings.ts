/**
 * Approvable grain filings from the demo data. The matter allows one active filing per (USCC, purchase region):
 * the bench first files 首次 once per key (seeding, all must approve), then measures with 变更 filings on the
 * seeded keys, which the rules approve any number of times (change-has-filing needs the active filing).
 */

export interface DemoEnterprise {
  uscc: string;
  name: string;
  /** Responsible person: the registered legal representative (population record, status 正常). */
  person: { name: string; idNumber: string };
  /** 自有 with the enterprise's own 不动产权证 (checked against real-estate), or 租赁 with a current lease. */
  storage: '自有' | '租赁';
  realEstateCertNo?: string;
}

/**
 * Every demo enterprise the rules approve (rules/demo-data): 91…, 企业, 存续/在业, clean credit, valid USCC
 * checksum, a responsible person who is on record. The two with owned storage exercise the per-item real-estate
 * lookup; the two with leased storage have no 不动产 of their own.
 */
export const ENTERPRISES: DemoEnterprise[] = [
  { uscc: '91210100MA0Q1A2B6L', name: '沈阳丰禾粮食购销有限公司', person: { name: '张伟', idNumber: '210102199001011237' }, storage: '自有', realEstateCertNo: '辽(2024)沈阳市不动产权第0012345号' },
  { uscc: '91210102123456788E', name: '沈阳䶮盛粮贸有限公司', person: { name: '王芳', idNumber: '21011219850615002X' }, storage: '自有', realEstateCertNo: '辽(2023)沈阳市不动产权第0100001号' },
  { uscc: '91210103MA0W9J1K7P', name: '沈阳盛京智慧停车管理有限公司', person: { name: '吴静', idNumber: '210113199207074427' }, storage: '租赁' },
  { uscc: '91210102MA0X2L3M48', name: '沈阳和平立体停车场有限公司', person: { name: '孙丽', idNumber: '210105198211233027' }, storage: '租赁' },
];

/** County-level codes of 沈阳市 (src/domain/regions.ts, without the abolished 210122). */
export const SHENYANG_REGIONS = [
  '210102', '210103', '210104', '210105', '210106', '210111', '210112',
  '210113', '210114', '210115', '210123', '210124', '210181',
];

export interface FilingKey {
  enterprise: DemoEnterprise;
  region: string;
}

export function filingKeys(regionsPerEnterprise: number): FilingKey[] {
  const regions = SHENYANG_REGIONS.slice(0, Math.max(1, Math.min(SHENYANG_REGIONS.length, regionsPerEnterprise)));
  return ENTERPRISES.flatMap((enterprise) => regions.map((region) => ({ enterprise, region })));
}

export function filingBody(key: FilingKey, filingType: '首次' | '变更'): Record<string, unknown> {
  const e = key.enterprise;
  const facility =
    e.storage === '自有'
      ? { address: '沈阳市于洪区沙岭街道粮库路18号1号仓库', capacityTonnes: 5000, ownership: '自有', realEstateCertNo: e.realEstateCertNo }
      : { address: '沈阳市铁西区北二西路9号2号库', capacityTonnes: 3000, ownership: '租赁', leaseEndsOn: '2035-12-31' };
  return {
    matter: 'grain-purchase-filing',
    answers: { filingType, storageSource: e.storage },
    form: {
      responsiblePerson: e.person,
      contactPhone: '13800000000',
      purchaseRegionCode: key.region,
      grainTypes: ['玉米', '稻谷'],
      storageFacilities: [facility],
    },
    consent: { dataSharing: true, sealAuthorization: true },
  };
}
