import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CatalogError, checkMatter, createFormAjv, loadCatalog } from '../../../src/catalog/load-catalog.js';
import { loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const sourceIds = new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id));
const matterText = (code: string) => readFileSync(path.join(RULES_DIR, 'matters', `${code}.yaml`), 'utf8');
const grainText = matterText('grain-purchase-filing');
const parkingText = matterText('public-parking-filing');
const rentalText = matterText('public-rental-housing');
const disabilityText = matterText('disability-certificate');
const presaleText = matterText('commercial-housing-presale');
const schemaValidator = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(path.join(RULES_DIR, 'schema', 'matter.schema.json'), 'utf8')) as object,
);
const check = (text: string) => checkMatter(text, 'rules/matters/broken.yaml', { sourceIds, schemaValidator, formAjv: createFormAjv() });

describe('catalog loader', () => {
  it('loads the grain matter with a content-hash version', () => {
    const catalog = loadCatalog(RULES_DIR, sourceIds);
    const grain = catalog.get('grain-purchase-filing')!;
    expect(grain.def.department.code).toBe('11210100MB0E12346R');
    expect(grain.version).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same version when only comments or key order change', () => {
    const a = check(grainText).matter!.version;
    const b = check(`# another comment\n${grainText}`).matter!.version;
    expect(b).toBe(a);
    const c = check(grainText.replace('message: 企业登记状态不是存续', 'message: 企业登记状态并非存续')).matter!.version;
    expect(c).not.toBe(a);
  });

  it.each([
    ['an unknown top-level property', grainText.replace('autoApprove: true', 'autoApprove: true\nautoApporve: false'), '/: must NOT have additional properties "autoApporve"'],
    ['a wrong type', grainText.replace('autoApprove: true', 'autoApprove: yes please'), '/autoApprove: must be boolean'],
    ['an unknown operator', grainText.replace('operator: regionWithin', 'operator: regionInside'), 'unknown operator "regionInside"'],
    ['an unknown fact', grainText.replace('{ fact: form, path: purchaseRegionCode', '{ fact: forms, path: purchaseRegionCode'), 'unknown fact "forms"'],
    ['an unknown data source', grainText.replace('source: credit', 'source: credit-bureau'), '/lookups/2/source: unknown data source "credit-bureau"'],
    ['an unknown lookup in requires', grainText.replace('requires: [credit]', 'requires: [credits]'), 'unknown lookup "credits"'],
    ['an unknown situation on a material', grainText.replace('situations: [S2, S3, S4]', 'situations: [S2, S3, S9]'), '/materials/4/situations/2: unknown situation "S9"'],
    ['two situations for the same answers', grainText.replace('when: { filingType: 变更 }', 'when: { filingType: 首次, storageSource: 自有 }'), '/situations/3/when: duplicate situation: "S4" has the same answers as "S1"'],
    ['answers that select two situations', grainText.replace('when: { filingType: 变更 }', 'when: { storageSource: 自有 }'), 'select more than one situation: S1, S4'],
    ['answers no situation covers', grainText.replace("  - id: S4\n    name: 变更备案\n    when: { filingType: 变更 }\n", ''), 'no situation covers the answers filingType=变更'],
    ['an option that does not exist', grainText.replace('when: { filingType: 变更 }', 'when: { filingType: 注销 }'), '"注销" is not an option of filingType'],
    // A key holding "~" or "/" is escaped in the pointer (RFC 6901: ~0, ~1), found by test/fuzz/catalog-loader.test.ts.
    ['an unknown question named with ~ and /', grainText.replace('when: { filingType: 变更 }', "when: { 'a/b~c': 变更 }"), '/situations/3/when/a~1b~0c: unknown question "a/b~c"'],
    ['a duplicate rule id', grainText.replace('- id: entity-active', '- id: entity-registered'), 'duplicate id "entity-registered"'],
    ['a form schema that does not compile', grainText.replace('format: id-number', 'format: id-numbr'), '/form: form schema does not compile'],
    ['a test case whose form breaks the schema', grainText.replace("contactPhone: '13800000000'", 'contactPhone: 12'), '/tests/0/form'],
    ['invalid YAML', `${grainText}\n  bad: [`, 'YAML'],
    ['a duplicate key', grainText.replace('kind: 行政备案', 'kind: 行政备案\nkind: 行政许可'), 'YAML'],
    // Issue 17: a form that lets a body grow without limit is refused at load.
    ['a form array without maxItems', grainText.replace('      maxItems: 6\n', ''), '/form/properties/grainTypes: 数组须设 maxItems an array needs maxItems'],
    ['a nested form array without maxItems', grainText.replace('      maxItems: 50\n', ''), '/form/properties/storageFacilities: 数组须设 maxItems'],
    ['a form string without maxLength', grainText.replace('{ type: string, minLength: 1, maxLength: 200, title: 仓房地址 }', '{ type: string, minLength: 1, title: 仓房地址 }'), '/form/properties/storageFacilities/items/properties/address: 字符串须设 maxLength a string needs maxLength'],
    ['a form string with only a pattern', grainText.replace('      maxLength: 6\n      title: 收购地区县', '      title: 收购地区县'), '/form/properties/purchaseRegionCode: 字符串须设 maxLength'],
  ])('rejects %s, naming the file and the path', (_what, text, expected) => {
    const { matter, problems } = check(text);
    expect(matter).toBeUndefined();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.startsWith('rules/matters/broken.yaml: /'))).toBe(true);
    expect(problems.join('\n')).toContain(expected);
  });

  it.each([
    ['a situation no answers reach (its question is not asked then)', parkingText.replace('when: { temporary: 否, lotForm: 地下, civilDefence: 是 }', 'when: { temporary: 是, lotForm: 地下, civilDefence: 是 }'), '/situations/6: situation "S7" cannot be reached by any answers'],
    ['answer combinations no situation covers', parkingText.replace(/ {2}- \{ id: S10, .*\n/, ''), '/situations: no situation covers the answers temporary=是'],
    ['an askWhen naming a later question', parkingText.replace('askWhen: { lotForm: 地下 }', 'askWhen: { tenure: 自有产权 }'), '/questions/2/askWhen/tenure: askWhen must name an earlier question'],
    ['an unknown material on a field', parkingText.replace('material: M7, prefill:', 'material: M77, prefill:'), '/fields/14/material: unknown material "M77"'],
    ['an unknown field in the certificate', parkingText.replace('from: fields.lotForm', 'from: fields.lotShape'), '/output/certificate/lines/3/from: unknown field "lotShape"'],
    ['an unknown field as holder name', parkingText.replace('holderName: fields.operatorName', 'holderName: fields.operator'), '/holderName: unknown field "operator"'],
    ['an unknown data source', parkingText.replace('source: special-equipment', 'source: special-equipments'), '/lookups/5/source: unknown data source "special-equipments"'],
    ['a lookup keyed from nothing known', parkingText.replace('key: entity.record.legalRepresentative.idNumber', 'key: entities.record.legalRepresentative.idNumber'), '/lookups/1/key: "entities" is neither'],
    ['lookups keyed from each other in a cycle', parkingText.replace('{ id: entity, source: market-entity, key: applicant.code }', '{ id: entity, source: market-entity, key: legalRep.record.idNumber }'), '/lookups: lookups depend on each other in a cycle'],
    ['a material verified from data with no lookup', parkingText.replace('    lookup: equipment\n    situations: [S8, S9]', '    situations: [S8, S9]'), '/materials/8/lookup: a material obtained by 数据核验 needs the lookup'],
    ['an unknown operator inside an array test', parkingText.replace('operator: anyItem, value: { where: { category: 机械式停车设备, status: 在用 } }', 'operator: anyItem, value: { where: { category: 机械式停车设备 }, path: status, operator: sameWord, value: 在用 }'), 'value/operator: unknown operator "sameWord"'],
    ['an unknown fact in forEach', parkingText.replace('items: equipment.record.equipment', 'items: equipments.record.equipment'), '/rules/14/forEach/items: unknown fact "equipments"'],
    ['an unknown situation on a rule', parkingText.replace('situations: [S8, S9]\n    requires: [equipment]\n    message: 特种设备管理系统', 'situations: [S8, S11]\n    requires: [equipment]\n    message: 特种设备管理系统'), '/rules/13/situations/1: unknown situation "S11"'],
    ['a certificate type code of another department', parkingText.replace('licenseTypeCode: 11210100MB0E23459Q001', 'licenseTypeCode: 11210100MB0E12346R002'), '/output/certificate/licenseTypeCode: must start with the department code'],
    ['an unknown config key', rentalText.replace('value: { config: perCapitaAreaLimit }', 'value: { config: areaLimit }'), 'value/config: unknown config key "areaLimit"'],
    ['a follow-up with an unknown option', rentalText.replace('answers: { preference: [租赁补贴, 均可] }', 'answers: { preference: [租赁补贴, 随便] }'), '/followUps/1/answers/preference/1: "随便" is not an option'],
    ['a question answered from a lookup keyed by the form', disabilityText.replace('      lookup: self\n', '      lookup: person\n'), '/questions/1/answerFrom/lookup: lookup "person" must be keyed from the applicant alone'],
    ['a data answer that is not an option', disabilityText.replace('answer: 居住证持有人 }', 'answer: 居住证 }'), '/questions/1/answerFrom/cases/1/answer: "居住证" is not an option'],
    ['a fallback on a field that is not pre-filled', parkingText.replace('from: form.contactPhone, personal: true }', 'from: form.contactPhone, fallback: form.lotName, personal: true }'), '/fields/4/fallback: a fallback is for a pre-filled field'],
    ['a fallback the form requires (an outage would block the filing)', presaleText.replace('required: [contactPhone]', 'required: [contactPhone, buildings]'), '/fields/11/fallback: "form.buildings" is required in the form schema'],
    ['a fallback that is not in the form', presaleText.replace('fallback: form.buildings', 'fallback: form.building'), '/fields/11/fallback: "form.building" is not a property of the form schema'],
    ['a selection choice outside the form', presaleText.replace('choice: form.projectCode', 'choice: answers.phase'), '/lookups/2/select/choice: the choice is a form property'],
    ['a lookup named like a base fact', parkingText.replace('{ id: site, source: real-estate', '{ id: form, source: real-estate'), '/lookups/3/id: "form" is a base fact name'],
    ['a rejecting rule in a matter a person decides', presaleText.replace('    onFail: MANUAL\n    conditions:\n      all:\n        - { fact: form, path: presaleArea', '    onFail: REJECT\n    conditions:\n      all:\n        - { fact: form, path: presaleArea'), '/rules/9/onFail: a matter that is not auto-approvable'],
  ])('rejects %s, naming the file and the path', (_what, text, expected) => {
    expect(text).not.toBe('');
    const { matter, problems } = check(text);
    expect(matter).toBeUndefined();
    expect(problems.every((p) => p.startsWith('rules/matters/broken.yaml: /'))).toBe(true);
    expect(problems.join('\n')).toContain(expected);
  });

  it('refuses two matters sharing a certificate series, naming the second file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'catalog-'));
    mkdirSync(path.join(dir, 'schema'));
    mkdirSync(path.join(dir, 'matters'));
    copyFileSync(path.join(RULES_DIR, 'schema', 'matter.schema.json'), path.join(dir, 'schema', 'matter.schema.json'));
    writeFileSync(path.join(dir, 'matters', 'a.yaml'), grainText);
    writeFileSync(path.join(dir, 'matters', 'b.yaml'), grainText.replace('code: grain-purchase-filing', 'code: grain-purchase-filing-2'));
    try {
      expect(() => loadCatalog(dir, sourceIds)).toThrow(/matters\/b\.yaml: \/output\/certificate\/licenseTypeCode: "11210100MB0E12346R001" is already used by .*a\.yaml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a whole catalog folder with a broken file (the service does not start)', () => {
    expect(() => loadCatalog(path.join(RULES_DIR, '..', 'test', 'fixtures', 'no-such-rules'), sourceIds)).toThrow();
    expect(CatalogError.name).toBe('CatalogError');
  });
});
