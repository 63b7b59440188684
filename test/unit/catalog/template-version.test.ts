/**
 * A matter's version covers its official e-form template's bytes (issue 18): the same YAML with another template
 * PDF is another version, the same bytes the same version; a stored version states the template digest it was made
 * with and is refused when the file is no longer that one; the catalog snapshot does not keep a version whose
 * template changed; a version stored before the digest was part of it still loads under its name; and the e-form is
 * not filled from a file other than the one the version names.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFormTemplates, createFormTemplates } from '../../../src/catalog/form-templates.js';
import { canonicalJson, checkMatter, createFormAjv, loadCatalog, type LoadedMatter } from '../../../src/catalog/load-catalog.js';
import { createMatterChecker, openVersionedCatalog, versionOf } from '../../../src/catalog/versioned-catalog.js';
import { loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { PermanentFailure } from '../../../src/errors.js';
import { generateForm } from '../../../src/pipeline/generate-form.js';
import type { ApplicationRow } from '../../../src/store/types.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const sourceIds = new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id));
const schemaValidator = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(path.join(RULES_DIR, 'schema', 'matter.schema.json'), 'utf8')) as object);
const FILE = 'rules/matters/public-parking-filing.yaml';
const TEMPLATE = 'templates/public-parking-filing.pdf';
const parkingText = readFileSync(path.join(RULES_DIR, 'matters', 'public-parking-filing.yaml'), 'utf8');
const committed = readFileSync(path.join(RULES_DIR, TEMPLATE));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const check = (text: string, rulesDir: string) => checkMatter(text, FILE, { sourceIds, schemaValidator, formAjv: createFormAjv(), rulesDir });

const scratch = mkdtempSync(path.join(tmpdir(), 'template-version-'));
/** A rules/ holding only the matter schema and a template file. */
function rulesWith(name: string, bytes: Uint8Array): string {
  const dir = path.join(scratch, name);
  mkdirSync(path.join(dir, 'templates'), { recursive: true });
  mkdirSync(path.join(dir, 'schema'));
  cpSync(path.join(RULES_DIR, 'schema', 'matter.schema.json'), path.join(dir, 'schema', 'matter.schema.json'));
  writeFileSync(path.join(dir, TEMPLATE), bytes);
  return dir;
}

let revised: Uint8Array;
let sameBytes: string;
let otherBytes: string;
beforeAll(async () => {
  // The department's revised 样表: the same fields, another PDF.
  const doc = await PDFDocument.load(committed);
  doc.setTitle('经营性公共停车场备案表（2025年修订）');
  revised = await doc.save();
  sameBytes = rulesWith('same', committed);
  otherBytes = rulesWith('other', revised);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the version of a matter with a form template', () => {
  it('is another version for the same YAML with another template file, and the same version for the same bytes', async () => {
    const original = check(parkingText, RULES_DIR).matter!;
    const copy = check(parkingText, sameBytes).matter!;
    const other = check(parkingText, otherBytes);
    expect(other.problems).toEqual([]);
    // The revised template is a usable one: only its bytes differ.
    expect(await checkFormTemplates([other.matter!], createFormTemplates(otherBytes))).toEqual([]);
    expect(copy.version).toBe(original.version);
    expect(other.matter!.version).not.toBe(original.version);
    expect(original.def.output.form.template!.sha256).toBe(sha256(committed));
    expect(other.matter!.def.output.form.template!.sha256).toBe(sha256(revised));
    // The digest is in the definition the version is the hash of.
    expect(versionOf(original.def)).toBe(original.version);
    expect(canonicalJson(original.def)).toContain(sha256(committed));
  });

  it('leaves matters without a template as they were: the version is the hash of the YAML alone', () => {
    const grain = loadCatalog(RULES_DIR, sourceIds).get('grain-purchase-filing')!;
    expect(grain.def.output.form.template).toBeUndefined();
    expect(grain.version).toBe(versionOf(grain.def));
  });

  it('re-checks a stored version to its name with its template, and refuses it when the file was replaced', () => {
    const original = check(parkingText, RULES_DIR).matter!;
    const stored = canonicalJson(original.def);
    expect(check(stored, sameBytes).matter!.version).toBe(original.version);
    const replaced = check(stored, otherBytes);
    expect(replaced.matter).toBeUndefined();
    expect(replaced.problems).toEqual([expect.stringContaining(`${FILE}: /output/form/template/sha256: 模板文件已更换`)]);
    expect(replaced.problems[0]).toContain(`${TEMPLATE} has sha256 ${sha256(revised)}, not ${sha256(committed)}`);
  });

  it('does not take a version from the catalog snapshot when the template changed since', () => {
    const dir = mkdtempSync(path.join(scratch, 'snap-'));
    const rules = path.join(dir, 'rules');
    cpSync(RULES_DIR, rules, { recursive: true });
    const snapshotFile = path.join(dir, 'data', 'catalog-snapshot.json');
    const cold = loadCatalog(rules, sourceIds, { snapshotFile });
    writeFileSync(path.join(rules, TEMPLATE), revised);
    const warm = loadCatalog(rules, sourceIds, { snapshotFile });
    expect(warm.get('public-parking-filing')!.version).not.toBe(cold.get('public-parking-filing')!.version);
    expect(warm.get('public-parking-filing')!.version).toBe(check(parkingText, otherBytes).matter!.version);
    expect(warm.get('public-parking-filing')!.def.output.form.template!.sha256).toBe(sha256(revised));
    expect(warm.get('grain-purchase-filing')!.version).toBe(cold.get('grain-purchase-filing')!.version);
  });
});

describe('stored versions of a matter with a form template', () => {
  const code = 'public-parking-filing';
  const open = async (rows: Map<string, string>, current: string, rulesDir: string) =>
    openVersionedCatalog({
      files: { matters: new Map(), get: () => undefined },
      store: {
        generation: async () => 1,
        currentVersions: async () => [{ matter: code, version: current }],
        getVersion: async (_matter, version) => (rows.has(version) ? { definition: rows.get(version)! } : null),
      },
      check: createMatterChecker(rulesDir, sourceIds),
      pollMs: 0,
    });

  it('loads a version stored before the template digest was part of it under its own name, claiming no digest', async () => {
    const withDigest = check(parkingText, RULES_DIR).matter!;
    const { sha256: _digest, ...template } = withDigest.def.output.form.template!;
    const legacyDef = { ...withDigest.def, output: { ...withDigest.def.output, form: { ...withDigest.def.output.form, template } } };
    const legacy = versionOf(legacyDef);
    const rows = new Map([
      [withDigest.version, canonicalJson(withDigest.def)],
      [legacy, canonicalJson(legacyDef)],
    ]);
    const catalog = await open(rows, withDigest.version, RULES_DIR);
    try {
      expect(catalog.get(code)!.version).toBe(withDigest.version);
      const old = (await catalog.getVersion(code, legacy))!;
      expect(old.version).toBe(legacy);
      expect(old.def.output.form.template).toEqual(template);
      // A version whose template was replaced is no longer valid.
      const replaced = await open(rows, legacy, otherBytes);
      try {
        expect(await replaced.getVersion(code, withDigest.version)).toBeUndefined();
      } finally {
        replaced.close();
      }
    } finally {
      catalog.close();
    }
  });

  it('refuses to open when the current version’s template was replaced, saying which file and what to do', async () => {
    const current = check(parkingText, RULES_DIR).matter!;
    await expect(open(new Map([[current.version, canonicalJson(current.def)]]), current.version, otherBytes)).rejects.toThrow(/template\/sha256: 模板文件已更换.*restore that file, or put the new template under a new file name/);
  });
});

describe('filling the e-form', () => {
  it('refuses a template whose bytes are not the ones the version names (FORM_TEMPLATE_INVALID)', async () => {
    const matter: LoadedMatter = check(parkingText, RULES_DIR).matter!;
    const t = matter.def.tests[0]!;
    const app = { id: 'app-1', matter: matter.def.code, answers: t.answers, form: t.form, createdAt: '2026-01-05T02:00:00.000Z', number: null } as unknown as ApplicationRow;
    const situation = matter.def.situations[0]!;
    const signer = { chain: [], keyType: 'ec' as const, sign: async () => new Uint8Array() };
    const fill = (rulesDir: string) =>
      generateForm({ sourceNames: new Map(), templates: createFormTemplates(rulesDir) }, matter, app, situation, [], { name: '沈阳某停车管理有限公司', code: t.applicant }, new Date(), undefined, signer);
    const err = await fill(otherBytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentFailure);
    expect((err as PermanentFailure).code).toBe('FORM_TEMPLATE_INVALID');
    expect((err as Error).message).toContain(`is not the template version ${matter.version} was made with`);
  });
});
