/**
 * Synthetic subjects for load tests and benchmarks: as a city loads the service, every filing comes from a new
 * enterprise with a new responsible person. Subject `i` of a `seed` is always the same (deterministic), every code
 * carries valid check characters (USCC GB 32100 + GB 11714 org code, 公民身份号码 GB 11643), and the records have
 * exactly the DESIGN.md §4 shapes of `market-entity`, `population`, `credit` and `real-estate`.
 * ALL DATA IS SYNTHETIC.
 */
import { idNumberCheckChar, usccCheckChar } from '../domain/identifiers.js';

export interface SyntheticEnterprise {
  uscc: string;
  name: string;
  person: { name: string; idNumber: string };
  /** 不动产权证号 of the warehouse the enterprise owns. */
  realEstateCertNo: string;
  address: string;
}

export interface SyntheticRecords {
  'market-entity': Record<string, object>;
  population: Record<string, object>;
  credit: Record<string, object>;
  'real-estate': Record<string, object>;
}

const ORG_CHARSET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];
/** Letters allowed in both GB 11714 and GB 32100 (no I, O, S, V, Z). */
const BODY = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const SURNAMES = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子轩梓涵一诺欣怡晨曦雨桐思远博文嘉怡俊杰';
const TRADE = ['丰', '禾', '盛', '源', '粮', '谷', '仓', '农', '泰', '和', '鑫', '瑞', '恒', '达', '兴', '隆', '裕', '安', '德', '昌'];
/** County-level codes of 沈阳市 that the grain rules accept. */
export const SHENYANG_COUNTIES = ['210102', '210103', '210104', '210105', '210106', '210111', '210112', '210113', '210114', '210115', '210123', '210124', '210181'];

function orgCheck(body8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += ORG_CHARSET.indexOf(body8.charAt(i)) * (ORG_WEIGHTS[i] ?? 0);
  const r = 11 - (sum % 11);
  return r === 10 ? 'X' : r === 11 ? '0' : String(r);
}

/** A small, fast, seedable PRNG (mulberry32): the same subject for the same (seed, index). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Enterprise number `index` (0 … 2^31) of a `seed`. The org-code body spells the index in base 31 after a
 * seed-derived prefix, so two indexes (or two seeds) never share a USCC; the person's number varies birth date
 * and sequence with the index the same way.
 */
export function syntheticEnterprise(index: number, seed = 1): SyntheticEnterprise {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** 31) throw new RangeError('index must be an integer in [0, 2^31)');
  const r = rng((seed * 0x9e3779b1) ^ index);
  let n = index;
  let body = '';
  for (let i = 0; i < 7; i++) {
    body = BODY.charAt(n % 31) + body;
    n = Math.floor(n / 31);
  }
  // One prefix character from the seed: 7 base-31 digits cover 27 billion indexes per seed.
  const body8 = BODY.charAt(10 + (seed % 21)) + body;
  const code17 = `91210100${body8}${orgCheck(body8)}`;
  const uscc = code17 + (usccCheckChar(code17) as string);

  const county = SHENYANG_COUNTIES[index % SHENYANG_COUNTIES.length] as string;
  // Birth dates 1960-01-01 … over 40 years; sequence 3 digits: 14,600 days × 1000 sequences per county.
  const day = Math.floor(index / SHENYANG_COUNTIES.length) % 14_600;
  const seq = Math.floor(index / SHENYANG_COUNTIES.length / 14_600) % 1000;
  const birth = new Date(Date.UTC(1960, 0, 1) + day * 86_400_000);
  const ymd = birth.toISOString().slice(0, 10).replace(/-/g, '');
  const d17 = `${county}${ymd}${String(seq).padStart(3, '0')}`;
  const idNumber = d17 + (idNumberCheckChar(d17) as string);

  const pick = (s: string | string[]) => {
    const list = typeof s === 'string' ? [...s] : s;
    return list[Math.floor(r() * list.length)] as string;
  };
  const personName = pick(SURNAMES) + pick(GIVEN) + (r() < 0.5 ? pick(GIVEN) : '');
  const name = `沈阳${pick(TRADE)}${pick(TRADE)}粮食购销有限公司${index}号`;
  const realEstateCertNo = `辽(2025)沈阳市不动产权第${String(index).padStart(7, '0')}号`;
  const address = `辽宁省沈阳市于洪区沙岭街道粮库路${(index % 900) + 1}号`;
  return { uscc, name, person: { name: personName, idNumber }, realEstateCertNo, address };
}

/** The four sources' records of `count` synthetic enterprises (index `from` …), in DESIGN.md §4 shapes. */
export function syntheticRecords(count: number, seed = 1, from = 0): SyntheticRecords {
  const out: SyntheticRecords = { 'market-entity': {}, population: {}, credit: {}, 'real-estate': {} };
  for (let i = from; i < from + count; i++) {
    const e = syntheticEnterprise(i, seed);
    out['market-entity'][e.uscc] = {
      uscc: e.uscc,
      name: e.name,
      entityType: '企业',
      status: '存续',
      legalRepresentative: e.person,
      address: e.address,
      regionCode: '210114',
      businessScope: '粮食收购；粮食销售；粮油仓储服务',
      establishedOn: '2020-06-01',
    };
    const id = e.person.idNumber;
    out.population[id] = {
      idNumber: id,
      name: e.person.name,
      gender: Number(id.charAt(16)) % 2 === 1 ? '男' : '女',
      birthDate: `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`,
      address: `辽宁省沈阳市和平区三好街${(i % 500) + 1}号`,
      regionCode: id.slice(0, 6),
      status: '正常',
    };
    out.credit[e.uscc] = { subject: e.uscc, seriousDishonest: false, abnormalOperation: false };
    out['real-estate'][e.realEstateCertNo] = {
      certNo: e.realEstateCertNo,
      owner: e.name,
      ownerId: e.uscc,
      address: `沈阳市于洪区沙岭街道粮库路${(i % 900) + 1}号仓库`,
      use: '仓储',
      area: 2000 + (i % 3000),
    };
  }
  return out;
}

/** An approvable first (首次) grain filing of enterprise `e` (DESIGN.md §5), purchase region by index. */
export function grainFilingOf(e: SyntheticEnterprise, region: string, filingType: '首次' | '变更' = '首次'): Record<string, unknown> {
  return {
    matter: 'grain-purchase-filing',
    answers: { filingType, storageSource: '自有' },
    form: {
      responsiblePerson: e.person,
      contactPhone: '13800000000',
      purchaseRegionCode: region,
      grainTypes: ['玉米', '稻谷'],
      storageFacilities: [{ address: '沈阳市于洪区沙岭街道粮库路18号1号仓库', capacityTonnes: 5000, ownership: '自有', realEstateCertNo: e.realEstateCertNo }],
    },
    consent: { dataSharing: true, sealAuthorization: true },
  };
}
