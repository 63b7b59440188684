/**
 * The shape a source's record must have (registry `record`, DESIGN.md §4 table): which property carries the key
 * the record was asked for, and which properties every record has. Checked on every HTTP answer and on the demo
 * records at start-up, so that a body that merely parses as JSON (a gateway's `{"code":0,"data":null}`, another
 * subject's record) is never taken for the record.
 */
import { normaliseCode } from '../domain/identifiers.js';

export interface RecordShape {
  /** Property whose value is the look-up key (compared after code normalisation: full-width, case). */
  keyProperty?: string;
  /** Properties every record has (present and not null). */
  required?: readonly string[];
}

/** What is wrong with `record` as the answer for `key`, or null when it has the shape. */
export function recordProblem(record: Record<string, unknown>, key: string, shape: RecordShape): string | null {
  const missing = (shape.required ?? []).filter((p) => record[p] === undefined || record[p] === null);
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  if (shape.keyProperty !== undefined) {
    const v = record[shape.keyProperty];
    if (typeof v !== 'string' || normaliseCode(v) !== normaliseCode(key)) {
      return `${shape.keyProperty} is not the key asked for`;
    }
  }
  return null;
}
