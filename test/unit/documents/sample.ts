import { makeLicenseId } from '../../../src/documents/license-id.js';
import type { CertificateContent, FormContent, Party, SignatureMeta } from '../../../src/documents/types.js';

/** Synthetic issuer from REFERENCE.md §1.1 (和平区 机关). */
export const DEPT: Party = { name: '沈阳市和平区粮食和物资储备局', code: '112101020076543227' };
export const OTHER_DEPT: Party = { name: '沈阳市铁西区住房和城乡建设局', code: '11210100001234562T' };
/** 䶮 is outside GB2312 (and outside the BMP's common CJK block): proves the font subset covers it. */
export const HOLDER: Party = { name: '沈阳䶮盛粮贸有限公司', code: '91210100MA0Q1A2B6L' };

export const VERIFY_URL =
  'https://zwfw.shenyang.gov.cn/v/1.2.156.3005.2.11210100001234562T001.112101020076543227.2024000123.001.G';

export function certificateContent(overrides: Partial<CertificateContent> = {}): CertificateContent {
  return {
    title: '粮食收购企业备案回执',
    number: '沈和粮备〔2024〕000123号',
    licenseId: makeLicenseId({
      typeCode: '11210100001234562T001',
      issuerCode: DEPT.code,
      serial: '2024000123',
      version: '001',
    }),
    holder: HOLDER,
    issuer: DEPT,
    lines: [
      { label: '法定代表人', value: '王㵘' },
      { label: '收购地址', value: '辽宁省沈阳市和平区南京南街一段123号及铁西区北二路工业园区第七号库房（租赁）'.repeat(3) },
      { label: '仓容(吨)', value: '12000' },
      { label: '备注', value: '含生僻字𬌗的测试行' },
    ],
    issuedOn: '2024-05-01',
    validUntil: null,
    verifyUrl: VERIFY_URL,
    ...overrides,
  };
}

export function formContent(): FormContent {
  return {
    title: '粮食收购企业备案表',
    applicant: HOLDER,
    submittedAt: '2024-05-01 10:00:00',
    rows: [
      { label: '企业名称', value: HOLDER.name, prefilled: { sourceName: '市场主体登记' } },
      { label: '统一社会信用代码', value: HOLDER.code, prefilled: { sourceName: '市场主体登记' } },
      { label: '收购地区县', value: '和平区' },
      { label: '仓容(吨)', value: '12000' },
    ],
    statements: ['本企业承诺所填信息真实、准确、完整。', '同意通过政务数据共享获取本事项所需信息。'],
  };
}

export const META: SignatureMeta = {
  signerName: DEPT.name,
  reason: '粮食收购企业备案 秒批',
  location: '沈阳市',
  signingTime: new Date('2024-05-01T02:00:00Z'),
};
