/**
 * Bounded schemas (issue 17): every array in a form schema has `maxItems` and every free string `maxLength`, and a
 * body is measured against those bounds before ajv sees it. With `allErrors` ajv checks every item of an array
 * even when `maxItems` already failed, and `uniqueItems` compares items pairwise; a 42,000-item array froze the
 * event loop for seconds. Checking the bounds first, in one pass that stops at the first excess, keeps the cost of
 * any request proportional to what the schema allows.
 */
import type { ValidateFunction } from 'ajv';
import { pointerSegment } from '../domain/text.js';

type Schema = Record<string, unknown>;

const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;
const SUBSCHEMA_ONE = ['items', 'additionalProperties', 'if', 'then', 'else', 'not', 'contains', 'unevaluatedItems', 'unevaluatedProperties'] as const;
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'] as const;

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasType(s: Schema, t: string): boolean {
  return s.type === t || (Array.isArray(s.type) && s.type.includes(t));
}

/**
 * Where a schema lets a body grow without limit: an array schema without `maxItems`, a string schema without
 * `maxLength` (one fixed by `enum` or `const` is bounded already). Answers JSON Pointers into the schema.
 */
export function unboundedPlaces(schema: unknown, at = '', opts: { strings?: boolean } = {}): string[] {
  const strings = opts.strings ?? true;
  const out: string[] = [];
  const walk = (s: unknown, p: string) => {
    if (!isSchema(s)) return;
    const fixed = 'enum' in s || 'const' in s;
    if (hasType(s, 'array') && typeof s.maxItems !== 'number') out.push(`${p || '/'}: 数组须设 maxItems an array needs maxItems`);
    if (strings && hasType(s, 'string') && !fixed && typeof s.maxLength !== 'number') out.push(`${p || '/'}: 字符串须设 maxLength a string needs maxLength`);
    for (const k of SUBSCHEMA_ONE) if (k in s) walk(s[k], `${p}/${k}`);
    for (const k of SUBSCHEMA_LISTS) {
      const list = s[k];
      if (Array.isArray(list)) list.forEach((x, i) => walk(x, `${p}/${k}/${i}`));
    }
    for (const k of SUBSCHEMA_MAPS) {
      const map = s[k];
      if (isSchema(map)) for (const [name, x] of Object.entries(map)) walk(x, `${p}/${k}/${pointerSegment(name)}`);
    }
  };
  walk(schema, at);
  return out;
}

/** A value over one of its schema's bounds, as an ajv-shaped error (so `fieldErrors` words it like the others). */
export interface BoundsError {
  instancePath: string;
  keyword: 'maxItems' | 'maxLength' | 'maxProperties';
  message: string;
  params: { limit: number };
}

/** Unicode code points in `s`, counting no further than `limit + 1` (ajv's maxLength counts code points). */
function codePointsOver(s: string, limit: number): boolean {
  if (s.length <= limit) return false;
  let n = 0;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i += 1;
    }
    n += 1;
    if (n > limit) return true;
  }
  return false;
}

/**
 * The first place where `data` exceeds a `maxItems`, `maxLength` or `maxProperties` of `schema`, or null. Follows
 * `properties`, `items`, `prefixItems`, `additionalProperties` and `allOf`; branches of `anyOf`/`oneOf` are left
 * to ajv (their strings and arrays are still checked there, within the body limit). One pass, stopping early.
 */
export function boundsViolation(schema: unknown, data: unknown, at = ''): BoundsError | null {
  if (!isSchema(schema)) return null;
  if (typeof data === 'string') {
    const max = schema.maxLength;
    if (typeof max === 'number' && codePointsOver(data, max)) {
      return { instancePath: at, keyword: 'maxLength', message: `must NOT have more than ${max} characters`, params: { limit: max } };
    }
  } else if (Array.isArray(data)) {
    const max = schema.maxItems;
    if (typeof max === 'number' && data.length > max) {
      return { instancePath: at, keyword: 'maxItems', message: `must NOT have more than ${max} items`, params: { limit: max } };
    }
    const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as unknown[]) : [];
    for (let i = 0; i < data.length; i += 1) {
      const sub = i < prefix.length ? prefix[i] : schema.items;
      const v = boundsViolation(sub, data[i], `${at}/${i}`);
      if (v) return v;
    }
  } else if (isSchema(data)) {
    const max = schema.maxProperties;
    const keys = Object.keys(data);
    if (typeof max === 'number' && keys.length > max) {
      return { instancePath: at, keyword: 'maxProperties', message: `must NOT have more than ${max} properties`, params: { limit: max } };
    }
    const props = isSchema(schema.properties) ? schema.properties : {};
    for (const k of keys) {
      const sub = Object.hasOwn(props, k) ? props[k] : schema.additionalProperties;
      const v = boundsViolation(sub, data[k], `${at}/${pointerSegment(k)}`);
      if (v) return v;
    }
  }
  if (Array.isArray(schema.allOf)) {
    for (const sub of schema.allOf) {
      const v = boundsViolation(sub, data, at);
      if (v) return v;
    }
  }
  return null;
}

/**
 * Wraps a compiled form validator: the bounds are checked first (one error, no ajv run) and ajv only sees a body
 * of the size the schema allows. Keeps the ValidateFunction surface (`errors`, `schema`).
 */
export function boundedValidator(schema: unknown, validate: ValidateFunction): ValidateFunction {
  const fn = ((data: unknown) => {
    const over = boundsViolation(schema, data);
    if (over) {
      fn.errors = [{ ...over, schemaPath: `#/${over.keyword}` }];
      return false;
    }
    const ok = validate(data);
    fn.errors = validate.errors ?? null;
    return ok;
  }) as ValidateFunction;
  Object.assign(fn, { schema: validate.schema, schemaEnv: validate.schemaEnv, errors: null });
  return fn;
}
