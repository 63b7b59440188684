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

/** "和平区（210102）" for a known code, the bare code otherwise. */
export function regionLabel(code: string): string {
  const name = SHENYANG[code];
  return name ? `沈阳市${name === '沈阳市' ? '' : name}（${code}）` : code;
}
