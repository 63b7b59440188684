/**
 * 免填 into the form itself: where a pre-filled field names a `form.` fallback, the source's value is written at
 * that path, so the rules read one filled form whether a value came from a source or, when the source could not
 * give it, from the applicant. Pure, and free of the rules engine so both the engine and printing can use it.
 */
import type { FieldDef, MatterDef } from '../catalog/types.js';
import { getPath, withPath } from '../domain/paths.js';

/** What this module needs of a lookup's answer (structurally a LookupFact). */
type Answer = { status: string; record: Record<string, unknown> | null } | undefined;

/** The raw value a source gives a pre-filled field, or undefined when it cannot (down, no record, no such property). */
export function sourcedValue(f: FieldDef, lookups: Readonly<Record<string, Answer>>): unknown {
  if (!f.prefill) return undefined;
  const lookup = lookups[f.prefill.lookup];
  const v = lookup?.status === 'found' ? getPath(lookup, f.prefill.path) : undefined;
  return v === null ? undefined : v;
}

/**
 * The form as filled (免填): every pre-filled field with a `form.` fallback gets the source's value at that path,
 * over whatever the applicant typed there; where the source cannot answer, the typed value stays. Rules read this
 * form, so they use the authoritative value whenever there is one. Pure; the typed form is not changed.
 */
export function fillForm(def: MatterDef, form: Record<string, unknown>, lookups: Readonly<Record<string, Answer>>): Record<string, unknown> {
  let filled = form;
  for (const f of def.fields) {
    if (!f.fallback?.startsWith('form.')) continue;
    const v = sourcedValue(f, lookups);
    if (v !== undefined) filled = withPath(filled, f.fallback.slice('form.'.length), v);
  }
  return filled;
}

/** Form paths (without `form.`) of fallback fields that have no value from the source nor from the applicant. */
export function missingFormValues(def: MatterDef, filledForm: Record<string, unknown>): string[] {
  return def.fields.flatMap((f) => {
    if (!f.fallback?.startsWith('form.')) return [];
    const path = f.fallback.slice('form.'.length);
    const v = getPath(filledForm, path);
    return v === undefined || v === null || v === '' ? [path] : [];
  });
}
