/**
 * People for 一件事 tests, written into the data-source server's live records in the exact DESIGN.md §4 shapes (no
 * extra properties): each test files for its own person, as the held-out checks do.
 */
import { idNumberCheckChar } from '../../src/domain/identifiers.js';
import type { SourceRecords } from './datasource-server.js';

export interface PersonSpec {
  name: string;
  /** 6-digit 区划 of the 户籍 (regionCode). */
  region?: string;
  /** Assessment written back by the 评定机构; null = not arrived yet. */
  assessment?: { category: string; categoryCode: number; grade: number; signed?: boolean } | null;
  assistance?: '低保' | '低保边缘' | '低收入' | '特困' | '无' | null;
  residentPension?: { enrolled: boolean; paidThisYear: boolean } | null;
  employment?: '就业' | '失业登记' | '未就业';
  scheme?: '职工医保' | '城乡居民医保' | '未参保' | null;
  card?: { cardNo?: string; validUntil: string } | null;
}

let seq = 0;

/** A valid 公民身份号码 that no demo record uses (birth year 1961–1969, sequence from a counter). */
export function newIdNumber(region = '210102'): string {
  seq += 1;
  const n = (process.pid * 7 + seq * 13) % 900;
  const d17 = `${region}196${(seq % 9) + 1}0${(seq % 9) + 1}1${seq % 10}${String(100 + n).padStart(3, '0')}`.slice(0, 17);
  return d17 + idNumberCheckChar(d17)!;
}

/** Writes the person's records; returns the filing's `disabledPerson`. */
export function addPerson(records: SourceRecords, spec: PersonSpec): { name: string; idNumber: string } {
  const region = spec.region ?? '210102';
  const idNumber = newIdNumber(region);
  const birth = `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`;
  records['population']![idNumber] = {
    idNumber,
    name: spec.name,
    gender: Number(idNumber[16]) % 2 === 1 ? '男' : '女',
    birthDate: birth,
    address: `辽宁省沈阳市测试路${seq}号`,
    regionCode: region,
    status: '正常',
  };
  const a = spec.assessment === undefined ? { category: '肢体', categoryCode: 4, grade: 1 } : spec.assessment;
  if (a) records['disability-assessment']![idNumber] = { idNumber, category: a.category, categoryCode: a.categoryCode, grade: a.grade, institution: '沈阳市第一人民医院残疾评定中心', assessedOn: '2026-11-20', signed: a.signed ?? true };
  const assistance = spec.assistance === undefined ? '低保' : spec.assistance;
  if (assistance) records['civil-affairs']![idNumber] = { idNumber, assistance, maritalStatus: '未婚', householdSize: 1 };
  const pension = spec.residentPension === undefined ? { enrolled: true, paidThisYear: false } : spec.residentPension;
  records['social-insurance']![idNumber] = {
    idNumber,
    currentlyInsured: spec.employment === '就业',
    contributionMonthsInCity: spec.employment === '就业' ? 60 : 0,
    ...(pension ? { residentPension: pension } : {}),
    employment: spec.employment ?? '未就业',
  };
  const scheme = spec.scheme === undefined ? '城乡居民医保' : spec.scheme;
  if (scheme) records['medical-insurance']![idNumber] = { idNumber, scheme, paidThisYear: false };
  if (spec.card) records['disability-card']![idNumber] = { idNumber, cardNo: spec.card.cardNo ?? `${idNumber}42`, status: '有效', validUntil: spec.card.validUntil };
  return { name: spec.name, idNumber };
}
