/**
 * Departments' official e-form templates (rules/templates/*.pdf) named by a matter's `output.form.template`.
 * Checked in two steps, both naming the matter file and the JSON Pointer of the problem: `templateRefProblems`
 * (synchronous, inside the matter loader) — the file is a PDF under rules/templates/ and every mapped value exists in
 * the matter (form schema, fields, questions, derived values); `checkFormTemplates` (at start-up and in
 * `npm run rules -- check`) — the PDF opens and has each mapped field as a text field.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { templateFields } from '../documents/pdf/template-form.js';
import { pointerSegment } from '../domain/text.js';
import type { MatterDef } from './types.js';

/** Values a template field may take besides fields/form/answers: derived from the filing itself. */
export const DERIVED_VALUES: readonly string[] = [
  'applicant.name',
  'applicant.code',
  'application.number',
  'application.submittedOn',
  'application.statements',
  'situation.name',
];

/** The `from` path of one mapping. */
export function mappingPath(v: string | { from: string }): string {
  return typeof v === 'string' ? v : v.from;
}

/** Whether `form.a.b` names a property of the form schema (through array items). */
function inFormSchema(schema: unknown, steps: string[]): boolean {
  let node = schema as { properties?: Record<string, unknown>; items?: unknown } | undefined;
  for (const step of steps) {
    while (node && node.items && typeof node.items === 'object' && !node.properties) node = node.items;
    const next = node?.properties?.[step];
    if (next === undefined || next === null || typeof next !== 'object') return false;
    node = next;
  }
  return true;
}

function startsLikePdf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(1024);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).includes('%PDF-');
  } finally {
    closeSync(fd);
  }
}

/**
 * Problems of `def.output.form.template` as [JSON Pointer, message]: the file (when `rulesDir` is known) must exist
 * under rules/templates/ and look like a PDF; every mapped path must exist in this matter.
 */
export function templateRefProblems(def: MatterDef, rulesDir: string | undefined): Array<[string, string]> {
  const t = def.output.form.template;
  if (!t) return [];
  const out: Array<[string, string]> = [];
  const base = '/output/form/template';
  if (rulesDir !== undefined) {
    const file = path.join(rulesDir, t.file);
    try {
      if (!startsLikePdf(file)) out.push([`${base}/file`, `${t.file} is not a PDF`]);
    } catch {
      out.push([`${base}/file`, `${t.file} does not exist under ${rulesDir}`]);
    }
  }
  const fieldIds = new Set(def.fields.map((f) => f.id));
  const questionIds = new Set(def.questions.map((q) => q.id));
  for (const [name, v] of Object.entries(t.fields)) {
    const at = `${base}/fields/${pointerSegment(name)}${typeof v === 'string' ? '' : '/from'}`;
    const ref = mappingPath(v);
    const [root, ...rest] = ref.split('.');
    if (root === 'fields') {
      if (rest.length !== 1 || !fieldIds.has(rest[0]!)) out.push([at, `"${ref}" is not a field of this matter (fields: ${[...fieldIds].join(', ')})`]);
    } else if (root === 'form') {
      if (rest.length === 0 || !inFormSchema(def.form, rest)) out.push([at, `"${ref}" is not a property of the form schema`]);
    } else if (root === 'answers') {
      if (rest.length !== 1 || !questionIds.has(rest[0]!)) out.push([at, `"${ref}" is not a question of this matter`]);
    } else if (!DERIVED_VALUES.includes(ref)) {
      out.push([at, `"${ref}" must be fields.<id>, form.<path>, answers.<id> or one of ${DERIVED_VALUES.join(', ')}`]);
    }
  }
  return out;
}

/** sha256 (hex) of a template file under `rulesDir`; null when it cannot be read. */
export function templateFileSha256(rulesDir: string, file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path.join(rulesDir, file))).digest('hex');
  } catch {
    return null;
  }
}

/**
 * The template's bytes are part of the matter version (issue 18): records their sha256 in `def` (so the canonical
 * definition, and with it the version hash, covers them), or — when the definition states one already, as a stored
 * version does — reports a file that is no longer the one it was made with. Call after {@link templateRefProblems}
 * found the file. Returns [JSON Pointer, message].
 */
export function pinTemplateDigest(def: MatterDef, rulesDir: string): Array<[string, string]> {
  const t = def.output.form.template;
  if (!t) return [];
  const actual = templateFileSha256(rulesDir, t.file);
  if (actual === null) return [['/output/form/template/file', `${t.file} cannot be read under ${rulesDir}`]];
  if (t.sha256 !== undefined && t.sha256 !== actual) {
    return [
      [
        '/output/form/template/sha256',
        `模板文件已更换，与该事项版本所用的不同 ${t.file} has sha256 ${actual}, not ${t.sha256} this definition was made with: restore that file, or put the new template under a new file name and publish a new version naming it`,
      ],
    ];
  }
  t.sha256 = actual;
  return [];
}

/** Template bytes by file (relative to rules/), read once per process. */
export interface FormTemplates {
  get(file: string): Promise<Uint8Array>;
  /** sha256 of the template bytes, hex: the loader records it in the definition, so the matter version covers it. */
  sha256(file: string): Promise<string>;
}

export function createFormTemplates(rulesDir: string): FormTemplates {
  const cache = new Map<string, Promise<Uint8Array>>();
  const get = (file: string): Promise<Uint8Array> => {
    let hit = cache.get(file);
    if (!hit) {
      const full = path.resolve(rulesDir, file);
      if (!full.startsWith(path.resolve(rulesDir, 'templates') + path.sep)) return Promise.reject(new Error(`template ${file} is outside rules/templates`));
      hit = readFile(full).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
      hit.catch(() => cache.delete(file));
      cache.set(file, hit);
    }
    return hit;
  };
  return { get, sha256: async (file) => createHash('sha256').update(await get(file)).digest('hex') };
}

/** Opens every template the matters name and checks its fields; returns every problem (file: pointer: message). */
export async function checkFormTemplates(matters: Iterable<{ def: MatterDef; file: string }>, templates: FormTemplates): Promise<string[]> {
  const problems: string[] = [];
  for (const m of matters) {
    const t = m.def.output.form.template;
    if (!t) continue;
    const base = `${m.file}: /output/form/template`;
    let fields;
    try {
      fields = await templateFields(await templates.get(t.file));
    } catch (err) {
      problems.push(`${base}/file: ${t.file} is not an AcroForm PDF: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const byName = new Map(fields.map((f) => [f.name, f]));
    for (const name of Object.keys(t.fields)) {
      const f = byName.get(name);
      const at = `${base}/fields/${pointerSegment(name)}`;
      if (!f) problems.push(`${at}: ${t.file} has no field "${name}" (text fields: ${fields.filter((x) => x.kind === 'text').map((x) => x.name).join(', ')})`);
      else if (f.kind !== 'text') problems.push(`${at}: field "${name}" of ${t.file} is a ${f.kind} field, not a text field`);
    }
  }
  return problems;
}
