/**
 * What goes into each field of a department's e-form template (`output.form.template.fields`): the printed value
 * of a matter field, a form property or answer formatted like the generated e-form prints it, or a value derived
 * from the filing (applicant, application number and date, the statements, the situation).
 */
import type { FormTemplateDef } from '../catalog/types.js';
import { mappingPath } from '../catalog/form-templates.js';
import type { Party } from '../documents/types.js';
import { formatValue, type FieldValue } from './prefill-fields.js';

export interface TemplateSources {
  fields: readonly FieldValue[];
  form: Record<string, unknown>;
  answers: Record<string, unknown>;
  applicant: Party;
  application: { number?: string; submittedOn: string; statements: string };
  situation: { name: string };
}

/** Values at `steps` under `value`, stepping into every item of an array on the way. */
function collect(value: unknown, steps: readonly string[]): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v) => collect(v, steps));
  if (steps.length === 0) return value === undefined ? [] : [value];
  if (!value || typeof value !== 'object') return [];
  return collect((value as Record<string, unknown>)[steps[0]!], steps.slice(1));
}

/** PDF field name → text, in the order the template definition lists them. */
export function templateValues(def: FormTemplateDef, src: TemplateSources): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, mapping] of Object.entries(def.fields)) {
    const ref = mappingPath(mapping);
    const format = typeof mapping === 'string' ? undefined : mapping.format;
    const [root, ...rest] = ref.split('.');
    let text: string;
    if (root === 'fields') {
      text = src.fields.find((f) => f.id === rest[0])?.value ?? '—';
    } else if (root === 'form' || root === 'answers') {
      const found = collect(root === 'form' ? src.form : src.answers, rest);
      // One value prints as the e-form prints it; several (a property of every item of a list) are joined.
      text = found.length <= 1 ? formatValue(found[0], format) : found.length > 1 && format ? formatValue(found, format) : found.map((v) => formatValue(v, undefined)).join('、');
    } else {
      const derived: Record<string, string | undefined> = {
        'applicant.name': src.applicant.name,
        'applicant.code': src.applicant.code,
        'application.number': src.application.number,
        'application.submittedOn': src.application.submittedOn,
        'application.statements': src.application.statements,
        'situation.name': src.situation.name,
      };
      text = derived[ref] ?? '';
    }
    out.set(name, text);
  }
  return out;
}
