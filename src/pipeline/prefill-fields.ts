/**
 * 免填: the form's fields, each either taken from a data source (prefilled, with its source) or from what the
 * applicant typed. Values are formatted for printing.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { FieldDef, OutputLine } from '../catalog/types.js';
import { getPath } from '../domain/paths.js';
import { regionLabel } from '../domain/regions.js';
import type { LookupFact } from './evaluate-rules.js';

export interface FieldValue {
  id: string;
  label: string;
  value: string;
  /** Source id when the value was pre-filled from shared data. */
  prefilledFrom?: string;
  personal?: boolean;
}

/** Text of a scalar; '' for anything else (objects are never printed as [object Object]). */
export function printable(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

/** Prints a value by the field's format: a region code with its name, a list, storage facilities. */
export function formatValue(value: unknown, format: FieldDef['format'] | undefined): string {
  if (value === undefined || value === null || value === '') return '—';
  if (format === 'region' && typeof value === 'string') return regionLabel(value);
  if (format === 'list' && Array.isArray(value)) return value.map(printable).join('、');
  if (format === 'facilities' && Array.isArray(value)) {
    return value
      .map((f: Record<string, unknown>, i) => {
        const tenure =
          f.ownership === '自有'
            ? `自有，不动产权证号 ${printable(f.realEstateCertNo) || '—'}`
            : `租赁，租期至 ${printable(f.leaseEndsOn) || '—'}`;
        return `${i + 1}. ${printable(f.address)}，仓容 ${printable(f.capacityTonnes)} 吨，${tenure}`;
      })
      .join('；');
  }
  if (format === 'members' && Array.isArray(value)) {
    return value.map((m: Record<string, unknown>) => `${printable(m.name)}（${printable(m.relation) || '成员'}）`).join('、');
  }
  if (Array.isArray(value)) return value.map(printable).join('、');
  if (typeof value === 'object') return JSON.stringify(value);
  return printable(value);
}

export function prefillFields(
  matter: LoadedMatter,
  base: Record<string, unknown>,
  lookups: Record<string, LookupFact>,
): FieldValue[] {
  return matter.def.fields.map((f) => {
    if (f.prefill) {
      const lookup = lookups[f.prefill.lookup];
      const source = matter.def.lookups.find((l) => l.id === f.prefill!.lookup)?.source;
      const value = lookup?.status === 'found' ? getPath(lookup, f.prefill.path) : undefined;
      return {
        id: f.id,
        label: f.label,
        value: formatValue(value, f.format),
        ...(value !== undefined && source ? { prefilledFrom: source } : {}),
        ...(f.personal ? { personal: true } : {}),
      };
    }
    return {
      id: f.id,
      label: f.label,
      value: formatValue(getPath(base, f.from!), f.format),
      ...(f.personal ? { personal: true } : {}),
    };
  });
}

/** Resolves an output line: `fields.<id>` reads a field value, anything else reads the facts. */
export function outputLine(line: OutputLine, base: Record<string, unknown>, fields: FieldValue[]): { label: string; value: string } {
  if (line.from.startsWith('fields.')) {
    const id = line.from.slice('fields.'.length);
    return { label: line.label, value: fields.find((f) => f.id === id)?.value ?? '—' };
  }
  return { label: line.label, value: formatValue(getPath(base, line.from), line.format) };
}
