/**
 * 沈阳市 county-level divisions (GB/T 2260), for printing names next to codes. Historical codes stay
 * valid in identifiers; REFERENCE.md §1.3 marks this list [K]: confirm against the current 民政部 list.
 */
const SHENYANG: Record<string, string> = {
  '210100': '沈阳市',
  '210102': '和平区',
  '210103': '沈河区',
  '210104': '大东区',
  '210105': '皇姑区',
  '210106': '铁西区',
  '210111': '苏家屯区',
  '210112': '浑南区',
  '210113': '沈北新区',
  '210114': '于洪区',
  '210115': '辽中区',
  '210122': '辽中县（已撤销）',
  '210123': '康平县',
  '210124': '法库县',
  '210181': '新民市',
};

/** 抚顺市 (the 210400 node of the 都市圈, rules/cities/210400), same source and the same [K] caveat. */
const FUSHUN: Record<string, string> = {
  '210400': '抚顺市',
  '210402': '新抚区',
  '210403': '东洲区',
  '210404': '望花区',
  '210411': '顺城区',
  '210421': '抚顺县',
  '210422': '新宾满族自治县',
  '210423': '清原满族自治县',
};

const CITIES: Record<string, Record<string, string>> = { '210100': SHENYANG, '210400': FUSHUN };

export interface Region {
  code: string;
  name: string;
}

/**
 * The county-level divisions of a city a person may pick today (the portal's district picker, issue 18): current
 * codes only, in code order; revoked ones (marked 已撤销) stay printable by {@link regionLabel} but are not offered.
 */
export function cityDistricts(cityCode: string): Region[] {
  const table = CITIES[cityCode] ?? {};
  return Object.entries(table)
    .filter(([code, name]) => code !== cityCode && !name.includes('已撤销'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([code, name]) => ({ code, name }));
}

/** "和平区（210102）" for a known code, the bare code otherwise. */
export function regionLabel(code: string): string {
  const name = SHENYANG[code];
  return name ? `沈阳市${name === '沈阳市' ? '' : name}（${code}）` : code;
}
