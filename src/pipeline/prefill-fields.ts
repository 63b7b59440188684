/**
 * 免填: the form's fields, each either taken from a data source (prefilled, with its source) or from what the
 * applicant typed. Values are formatted for printing.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { FieldDef, OutputLine } from '../catalog/types.js';
import { sourcedValue } from './fill-form.js';
import { getPath } from '../domain/paths.js';
import { regionLabel } from '../domain/regions.js';
import { formatChineseDate, formatGrade } from '../documents/layout.js';
import type { LookupFact } from './evaluate-rules.js';

export interface FieldValue {
  id: string;
  label: string;
  value: string;
  /** Source id when the value was pre-filled from shared data. */
  prefilledFrom?: string;
  /**
   * A pre-filled field whose source could not give the value: `typed` — the applicant's own value stands in;
   * `missing` — they gave none either. `note` says which and why.
   */
  fallback?: { source: string; status: 'typed' | 'identity' | 'missing'; note: string };
  personal?: boolean;
}

function fallbackNote(fact: LookupFact | undefined, given: 'typed' | 'identity' | 'missing'): string {
  const status = fact?.status;
  const [zh, en] = fact?.candidates
    ? ['数源中有多项记录而未选择其一', 'the source lists several and none was chosen']
    : status === 'not_found' ? ['数源中没有该记录', 'the source has no record'] : status === 'found' ? ['数源记录中没有该项', 'the source record lacks it'] : ['数源暂未答复', 'the source did not answer'];
  if (given === 'identity') return `${zh}，采用申请人登录身份（${en}; the signed-in identity is used）`;
  return given === 'typed' ? `${zh}，采用申请人填写的内容（${en}; the applicant’s value is used）` : `${zh}，申请人也未填写（${en}; the applicant gave none either）`;
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
  if (format === 'grade') return formatGrade(value);
  if (format === 'list' && Array.isArray(value)) return value.map(printable).join('、');
  if (format === 'facilities' && Array.isArray(value)) {
    return value
      .map((f: Record<string, unknown>, i) => {
        const tenure =
          f.ownership === '自有'
            ? `自有，不动产权证号 ${printable(f.realEstateCertNo) || '—'}`
            : `租赁，租期至${formatValue(f.leaseEndsOn, undefined)}`;
        return `${i + 1}. ${printable(f.address)}，仓容 ${printable(f.capacityTonnes)} 吨，${tenure}`;
      })
      .join('；');
  }
  if (format === 'members' && Array.isArray(value)) {
    return value.map((m: Record<string, unknown>) => `${printable(m.name)}（${printable(m.relation) || '成员'}）`).join('、');
  }
  if (Array.isArray(value)) return value.map(printable).join('、');
  if (typeof value === 'object') return JSON.stringify(value);
  // Dates print the Chinese way (2026年12月4日), never as ISO.
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return formatChineseDate(value);
  return printable(value);
}

export function prefillFields(
  matter: LoadedMatter,
  base: Record<string, unknown>,
  lookups: Record<string, LookupFact>,
): FieldValue[] {
  return matter.def.fields.map((f) => {
    if (f.prefill) {
      const source = matter.def.lookups.find((l) => l.id === f.prefill!.lookup)?.source;
      const value = sourcedValue(f, lookups);
      if (value === undefined && f.fallback && source) {
        const typed = getPath(base, f.fallback);
        const status = typed === undefined || typed === null || typed === '' ? 'missing' : f.fallback.startsWith('applicant.') ? 'identity' : 'typed';
        const given = status !== 'missing';
        return {
          id: f.id,
          label: f.label,
          value: formatValue(given ? typed : undefined, f.format),
          fallback: { source, status, note: fallbackNote(lookups[f.prefill.lookup], status) },
          ...(f.personal ? { personal: true } : {}),
        };
      }
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
