/**
 * Bundles as data: the reference bundle loads and meets the shape; a broken bundle file is refused with the
 * file and the JSON Pointer of every problem.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { checkBundle, loadBundles } from '../../../src/bundles/load-bundles.js';
import { loadCatalog } from '../../../src/catalog/load-catalog.js';
import { loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const sourceIds = new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id));
const matters = loadCatalog(RULES_DIR, sourceIds);
const schemaValidator = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(path.join(RULES_DIR, 'schema', 'bundle.schema.json'), 'utf8')) as object);
const reference = readFileSync(path.join(RULES_DIR, 'bundles', 'disability-services.yaml'), 'utf8');
const check = (text: string) => checkBundle(text, 'rules/bundles/x.yaml', { matters, sourceIds, schemaValidator }).problems;

describe('the reference bundle 残疾人服务一件事', () => {
  const b = loadBundles(RULES_DIR, matters, sourceIds).get('disability-services')!;

  it('has ≥ 10 members of ≥ 3 departments at ≥ 2 levels, led by the 残联', () => {
    expect(b.def.name).toContain('残疾人服务一件事');
    expect(b.def.members.length).toBeGreaterThanOrEqual(10);
    expect(new Set(b.def.members.map((m) => matters.get(m.matter)!.def.department.code)).size).toBeGreaterThanOrEqual(3);
    expect(new Set(b.def.members.map((m) => m.level)).size).toBeGreaterThanOrEqual(2);
    expect(b.def.owner.code).toBe('11210100MB0E45674L');
  });

  it('names the services by their usual names, each an ordinary matter with rules, legal basis, tests and output', () => {
    const names = b.def.members.map((m) => matters.get(m.matter)!.def.name).join('|');
    for (const n of ['残疾人证', '生活补贴', '护理补贴', '养老保险', '医保']) expect(names).toContain(n);
    for (const m of b.def.members) {
      const def = matters.get(m.matter)!.def;
      expect(def.rules.length, m.matter).toBeGreaterThan(0);
      expect(def.rules.every((r) => r.basis.length > 0), m.matter).toBe(true);
      expect(def.tests.length, m.matter).toBeGreaterThan(0);
      expect(def.output.certificate.title.length, m.matter).toBeGreaterThan(0);
    }
  });

  it('lists the 残疾人证 as what the 残疾人证管理系统 reports once issued here', () => {
    expect(loadBundles(RULES_DIR, matters, sourceIds).publishedRecords.get('disability-card')).toBe('disability-certificate');
  });
});

describe('a broken bundle file', () => {
  const edit = (from: string, to: string) => {
    expect(reference).toContain(from);
    return reference.replace(from, to);
  };

  it.each([
    ['an unknown property', edit('applicantTypes: [person]', 'applicantTypes: [person]\ncolour: red'), '/: must NOT have additional properties "colour"'],
    ['an unknown member matter', edit('  - matter: disability-rehabilitation-service', '  - matter: no-such-matter'), '/members/9/matter: unknown matter "no-such-matter"'],
    ['a dependency that is not a member', edit('    dependsOn: [disability-certificate]\n  - matter: disability-care-allowance', '    dependsOn: [grain-purchase-filing]\n  - matter: disability-care-allowance'), '/members/1/dependsOn/0: "grain-purchase-filing" is not a member of this bundle'],
    ['a dependency listed after its dependant', edit('    mode: request\n    publishesTo: disability-card', '    mode: request\n    publishesTo: disability-card\n    dependsOn: [disability-living-allowance]'), '/members/0/dependsOn/0: "disability-living-allowance" must be listed before'],
    ['an appliesWhen option that does not exist', edit('appliesWhen: { relation: 本人 }', 'appliesWhen: { relation: 本人自己 }'), '/members/4/appliesWhen/relation: "本人自己" is not an option of relation'],
    ['an unknown data source', edit('publishesTo: disability-card', 'publishesTo: card-registry'), '/members/0/publishesTo: unknown data source "card-registry"'],
    ['an owner that is no member’s department', edit('  code: 11210100MB0E45674L\nlegalBasis', '  code: 11210100MB0E12346R\nlegalBasis'), '/owner/code: the owner 11210100MB0E12346R is not the department of any member'],
    ['a shared question whose options differ from a member’s', edit('    options: [本人, 监护人代办]', '    options: [本人, 监护人代办, 委托代办]'), 'question "relation" has options'],
    ['a form property a member does not accept', edit('    contactPhone: { type: string, maxLength: 13, title: 联系电话', '    email: { type: string, maxLength: 100 }\n    contactPhone: { type: string, maxLength: 13, title: 联系电话'), 'does not accept the bundle\'s form property "email"'],
    ['the code of a matter', edit('code: disability-services', 'code: disability-certificate'), '/code: "disability-certificate" is the code of a matter'],
    ['a form string without maxLength (issue 17)', edit('    contactPhone: { type: string, maxLength: 13, title: 联系电话', '    contactPhone: { type: string, title: 联系电话'), '/form/properties/contactPhone: 字符串须设 maxLength'],
  ])('is refused with file and pointer: %s', (_what, text, message) => {
    const problems = check(text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.startsWith('rules/bundles/x.yaml: '))).toBe(true);
    expect(problems.join('\n')).toContain(message);
  });

  it('stops the load, naming every problem', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bundles-'));
    try {
      mkdirSync(path.join(dir, 'schema'));
      mkdirSync(path.join(dir, 'bundles'));
      writeFileSync(path.join(dir, 'schema', 'bundle.schema.json'), readFileSync(path.join(RULES_DIR, 'schema', 'bundle.schema.json')));
      writeFileSync(path.join(dir, 'bundles', 'bad.yaml'), edit('  - matter: disability-rehabilitation-service', '  - matter: no-such-matter'));
      expect(() => loadBundles(dir, matters, sourceIds)).toThrow(/bundles\/bad\.yaml: \/members\/9\/matter: unknown matter/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
