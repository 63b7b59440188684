/**
 * What issuing needs from a filing, derived the same way by the worker and by a reviewer's manual approval:
 * the printed fields, the holder (the registered name, never a typed one) and the subject key (one valid
 * certificate per matter and subject).
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { Party } from '../documents/types.js';
import { getPath } from '../domain/paths.js';
import type { LookupFact } from './evaluate-rules.js';
import { fillForm } from './fill-form.js';
import { prefillFields, printable, type FieldValue } from './prefill-fields.js';

export interface CertificateInputs {
  fields: FieldValue[];
  /** The facts plus `fields.<id>` (values known from data or typed), for output lines and the holder path. */
  withFields: Record<string, unknown>;
  holder: Party;
  subjectKey: string;
}

export function certificateInputs(
  matter: LoadedMatter,
  base: Record<string, unknown> & { applicant: { code: string } },
  lookups: Record<string, LookupFact>,
): CertificateInputs {
  const def = matter.def;
  // Output lines and the subject key read the filled form: the sources' values, the applicant's where none came.
  const typed = base.form;
  if (typed && typeof typed === 'object' && !Array.isArray(typed)) base = { ...base, form: fillForm(def, typed as Record<string, unknown>, lookups) };
  const fields = prefillFields(matter, base, lookups);
  const withFields = { ...base, fields: Object.fromEntries(fields.map((f) => [f.id, f.prefilledFrom || !f.value.startsWith('—') ? f.value : undefined])) };
  const code = base.applicant.code;
  const holderNameRaw = def.holderName ? getPath(withFields, def.holderName) : undefined;
  const holder: Party = { code, name: typeof holderNameRaw === 'string' && holderNameRaw !== '—' ? holderNameRaw : code };
  const subjectKey = def.subjectKey.map((p) => printable(getPath(base, p))).join('|');
  return { fields, withFields, holder, subjectKey };
}
