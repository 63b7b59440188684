/**
 * A matter naming a department's AcroForm template: the loader refuses a missing or non-PDF file, a mapped value
 * the matter does not have, and (opening the PDF) a field the template does not have or that is not a text field,
 * each problem naming the matter file and the JSON Pointer inside it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFormTemplates, createFormTemplates } from '../../../src/catalog/form-templates.js';
import { checkMatter, createFormAjv, loadCatalog } from '../../../src/catalog/load-catalog.js';
import { loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const sourceIds = new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id));
const parkingText = readFileSync(path.join(RULES_DIR, 'matters', 'public-parking-filing.yaml'), 'utf8');
const schemaValidator = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(path.join(RULES_DIR, 'schema', 'matter.schema.json'), 'utf8')) as object,
);
const FILE = 'rules/matters/public-parking-filing.yaml';
const check = (text: string, rulesDir = RULES_DIR) => checkMatter(text, FILE, { sourceIds, schemaValidator, formAjv: createFormAjv(), rulesDir });

const scratch = mkdtempSync(path.join(tmpdir(), 'form-templates-'));
mkdirSync(path.join(scratch, 'templates'));
writeFileSync(path.join(scratch, 'templates', 'public-parking-filing.pdf'), 'this is not a PDF');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('a matter naming an official form template', () => {
  it('loads: the two reference matters map every field of their committed templates', async () => {
    const catalog = loadCatalog(RULES_DIR, sourceIds);
    const templated = [...catalog.matters.values()].filter((m) => m.def.output.form.template).map((m) => m.def.code).sort();
    expect(templated).toEqual(['commercial-housing-presale', 'public-parking-filing']);
    expect(await checkFormTemplates(catalog.matters.values(), createFormTemplates(RULES_DIR))).toEqual([]);
  });

  it.each([
    ['a file that does not exist', parkingText.replace('file: templates/public-parking-filing.pdf', 'file: templates/no-such.pdf'), RULES_DIR, `${FILE}: /output/form/template/file: templates/no-such.pdf does not exist`],
    ['a file that is not a PDF', parkingText, scratch, `${FILE}: /output/form/template/file: templates/public-parking-filing.pdf is not a PDF`],
    ['a file outside rules/templates', parkingText.replace('file: templates/public-parking-filing.pdf', 'file: ../secrets.pdf'), RULES_DIR, `${FILE}: /output/form/template/file: must match pattern`],
    ['a form path the schema lacks', parkingText.replace('lotName: fields.lotName', 'lotName: form.lotNmae'), RULES_DIR, `${FILE}: /output/form/template/fields/lotName: "form.lotNmae" is not a property of the form schema`],
    ['an unknown field', parkingText.replace('uscc: fields.uscc', 'uscc: fields.creditCode'), RULES_DIR, `${FILE}: /output/form/template/fields/uscc: "fields.creditCode" is not a field of this matter`],
    ['an unknown derived value', parkingText.replace('submittedOn: application.submittedOn', 'submittedOn: application.filedAt'), RULES_DIR, `${FILE}: /output/form/template/fields/submittedOn: "application.filedAt" must be fields.<id>, form.<path>, answers.<id> or one of`],
    ['an unknown answer', parkingText.replace('lotForm: fields.lotForm', 'lotForm: { from: answers.lotShape }'), RULES_DIR, `${FILE}: /output/form/template/fields/lotForm/from: "answers.lotShape" is not a question of this matter`],
  ])('refuses %s, naming the file and the pointer', (_what, text, rulesDir, expected) => {
    const { matter, problems } = check(text, rulesDir);
    expect(matter).toBeUndefined();
    expect(problems.join('\n')).toContain(expected);
  });

  it('accepts a nested form path through an array and a formatted value', () => {
    const text = parkingText.replace('lotName: fields.lotName', 'lotName: { from: form.spaces.total, format: list }');
    expect(check(text).problems).toEqual([]);
  });

  it('refuses, once the PDF is opened, a field the template lacks and a field that is not a text field', async () => {
    const { matter } = check(parkingText.replace('lotName: fields.lotName', 'lotNameX: fields.lotName').replace('statements: application.statements', 'applicantSeal: application.statements'));
    expect(matter).toBeDefined();
    const problems = await checkFormTemplates([matter!], createFormTemplates(RULES_DIR));
    expect(problems).toEqual([
      expect.stringMatching(/^rules\/matters\/public-parking-filing\.yaml: \/output\/form\/template\/fields\/lotNameX: templates\/public-parking-filing\.pdf has no field "lotNameX" \(text fields: .*lotName/),
      `${FILE}: /output/form/template/fields/applicantSeal: field "applicantSeal" of templates/public-parking-filing.pdf is a signature field, not a text field`,
    ]);
  });

  it('refuses a template file that is not an AcroForm PDF when it is opened', async () => {
    const { matter } = check(parkingText, RULES_DIR);
    const problems = await checkFormTemplates([matter!], createFormTemplates(scratch));
    expect(problems).toEqual([expect.stringMatching(/^rules\/matters\/public-parking-filing\.yaml: \/output\/form\/template\/file: templates\/public-parking-filing\.pdf is not an AcroForm PDF/)]);
  });
});
