/**
 * 表单检查 (issue 18): public/assets/form-check.js, the portal's per-field messages. A wrong phone gets the catalog's
 * own message (errorMessage in the matter YAML), other failures a plain-Chinese message per keyword — never a regex,
 * a JSON path or English — and the portal's check finds the same failing fields as the service's own validation
 * (the real ajv of src/catalog with its formats) over every matter's form and each of their test cases broken.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createFormAjv, loadCatalog } from '../../src/catalog/load-catalog.js';
import { loadSourceRegistry } from '../../src/data-sources/registry.js';
import { fieldErrors } from '../../src/errors.js';
import { RULES_DIR } from '../support/datasource-server.js';
import { REPO_ROOT } from '../support/stack.js';

interface Problem { path: string; keyword: string; message: string }
interface FormCheck {
  checkForm(schema: unknown, value: unknown, opts?: { today?: string }): Problem[];
  plainMessage(schema: unknown, e: { path: string; message: string }): string;
  chineseOnly(m: string): string;
  isIdNumber(s: string, today?: string): boolean;
  isUscc(s: string): boolean;
  beijingTime(iso: string, opts?: { dateOnly?: boolean }): string;
  beijingToday(now?: Date): string;
}
const fc = (await import(pathToFileURL(path.join(REPO_ROOT, 'public/assets/form-check.js')).href)) as FormCheck;

const registry = loadSourceRegistry(RULES_DIR);
const catalog = loadCatalog(RULES_DIR, new Set(registry.map((s) => s.id)));
const grain = catalog.get('grain-purchase-filing')!.def;
const schema = grain.form as Record<string, any>;
const good = () => structuredClone(grain.tests[0]!.form) as Record<string, any>;
const TODAY = '2026-12-05';
/** Text a citizen should never read: regex syntax, JSON pointers, ajv's English. */
const TECHNICAL = /[\^$\\[\]{}]|\/form|must|pattern|property|items|required/i;

describe('portal form check', () => {
  it('gives a wrong phone the catalog’s own message, and none once it is fixed', () => {
    const form = good();
    form.contactPhone = '1380000000'; // ten digits
    const problems = fc.checkForm(schema, form, { today: TODAY });
    expect(problems).toEqual([{ path: '/contactPhone', keyword: 'pattern', message: schema.properties.contactPhone.errorMessage }]);
    expect(problems[0]!.message).toContain('11位手机号码');
    form.contactPhone = '13800000000';
    expect(fc.checkForm(schema, form, { today: TODAY })).toEqual([]);
  });

  it('asks for missing fields by name, in the form’s order, and knows conditional requirements', () => {
    const form = good();
    delete form.responsiblePerson.name;
    form.grainTypes = [];
    form.storageFacilities = [{ address: '沈阳市和平区1号', capacityTonnes: 100, ownership: '自有' }];
    const problems = fc.checkForm(schema, form, { today: TODAY });
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      ['/responsiblePerson/name', '请填写“负责人姓名”'],
      ['/grainTypes', '请至少选择或添加一项“收购品种”'],
      ['/storageFacilities/0/realEstateCertNo', '请填写“不动产权证号”'],
    ]);
    form.storageFacilities[0].ownership = '租赁';
    expect(fc.checkForm(schema, form, { today: TODAY }).map((p) => p.path)).toContain('/storageFacilities/0/leaseEndsOn');
  });

  it('checks ID numbers and credit codes as the service does (check character, birth date)', () => {
    expect(fc.isIdNumber('210102199001011237', TODAY)).toBe(true);
    expect(fc.isIdNumber('210102199001011238', TODAY)).toBe(false);
    expect(fc.isIdNumber('210102199002301237', TODAY)).toBe(false);
    expect(fc.isIdNumber('21010220300101123X', TODAY)).toBe(false);
    expect(fc.isUscc('91210100MA0Q1A2B6L')).toBe(true);
    expect(fc.isUscc('91210100MA0Q1A2B6M')).toBe(false);
    const form = good();
    form.responsiblePerson.idNumber = '210102199001011238';
    const [p] = fc.checkForm(schema, form, { today: TODAY });
    expect(p!.path).toBe('/responsiblePerson/idNumber');
    expect(p!.message).toBe('“负责人公民身份号码”不是有效的公民身份号码：应为18位，最后一位可以是X，请逐位核对');
  });

  it('words every API validation error of every matter in plain Chinese, and finds the same fields as the service', () => {
    const ajv = createFormAjv();
    let compared = 0;
    for (const m of catalog.matters.values()) {
      const s = m.def.form as Record<string, any>;
      const validate = ajv.compile(s);
      for (const t of m.def.tests) {
        // Break each case in the ways people do: every top-level field left out, every string field typed as "x".
        const variants: Array<Record<string, unknown>> = [t.form];
        for (const k of Object.keys(s.properties ?? {})) {
          const gone = structuredClone(t.form);
          delete gone[k];
          variants.push(gone);
          if (s.properties[k].type === 'string') variants.push({ ...(structuredClone(t.form) as object), [k]: 'x' });
        }
        for (const v of variants) {
          const ok = validate(v);
          const api = ok ? [] : fieldErrors(validate.errors ?? [], '/form');
          const mine = fc.checkForm(s, v, { today: TODAY });
          // The service reports if/then failures twice (the `then` and the `if`); compare the fields only.
          const apiPaths = new Set(api.filter((e) => !e.message.startsWith('must match "then"')).map((e) => e.path.slice('/form'.length) || '/'));
          expect([...new Set(mine.map((p) => p.path))].sort(), `${m.def.code} ${JSON.stringify(v)}`).toEqual([...apiPaths].sort());
          for (const e of api) {
            const text = fc.plainMessage(s, e);
            if (e.message.startsWith('must match "then"')) continue;
            expect(text, `${m.def.code} ${e.path}: ${e.message}`).not.toMatch(TECHNICAL);
            expect(text).toMatch(/[\u4e00-\u9fff]/);
          }
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('keeps the Chinese of a service message and cuts its English', () => {
    expect(fc.chineseOnly('格式不正确 must match pattern "^(1[3-9][0-9]{9})$"')).toBe('格式不正确');
    expect(fc.chineseOnly('须授权以本单位电子印章签章生成申请表 Seal authorisation is required')).toBe('须授权以本单位电子印章签章生成申请表');
    expect(fc.chineseOnly('Only English here')).toBe('Only English here');
  });

  it('shows times in Beijing time, also between 00:00 and 08:00 Beijing', () => {
    expect(fc.beijingTime('2026-12-04T17:30:00Z')).toBe('2026年12月5日 01:30');
    expect(fc.beijingTime('2026-12-04T17:30:00Z', { dateOnly: true })).toBe('2026年12月5日');
    expect(fc.beijingToday(new Date('2026-12-04T23:59:00Z'))).toBe('2026-12-05');
  });
});
