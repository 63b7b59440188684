// 表单检查 (issue 18): plain-Chinese messages for the applicant, per field. A field's own message comes from the
// catalog (`errorMessage` next to the field in the matter YAML); otherwise a message per JSON-Schema keyword, worded
// for people (no regexes, no JSON paths, no English). Runs in the browser before the pre-check and turns the API's
// validation answers into the same words; the server keeps validating against the matter's schema.
// No DOM here: test/unit/portal-form-check.test.ts imports this module in Node.

/** The schema node at a JSON pointer into the form ('/storageFacilities/0/address'), or null. */
export function nodeAt(schema, pointer) {
  let node = schema;
  for (const part of String(pointer || '').split('/').filter(Boolean)) {
    if (!node || typeof node !== 'object') return null;
    if (node.type === 'array' || node.items) node = node.items;
    else node = (node.properties || {})[decodeURIComponent(part)];
  }
  return node || null;
}

function titleOf(node, pointer) {
  if (node && node.title) return String(node.title).replace(/（[^）]*代码[^）]*）/, '');
  const last = String(pointer || '').split('/').filter(Boolean).pop();
  return last || '此项';
}

/** The message for one failed keyword at a field. `params` as ajv gives them (limit, format, …). */
export function messageFor(schema, pointer, keyword, params) {
  const node = nodeAt(schema, pointer);
  const p = params || {};
  const title = titleOf(node, pointer);
  // A required or empty field is asked for by its name; everything else uses the catalog's own message first.
  if (keyword === 'required' || (keyword === 'minLength' && Number(p.limit) <= 1)) return `请填写“${title}”`;
  if (node && typeof node.errorMessage === 'string' && node.errorMessage) return node.errorMessage;
  switch (keyword) {
    case 'format':
      if (p.format === 'id-number') return `“${title}”不是有效的公民身份号码：应为18位，最后一位可以是X，请逐位核对`;
      if (p.format === 'uscc') return `“${title}”不是有效的统一社会信用代码：应为18位，请对照营业执照逐位核对`;
      if (p.format === 'date') return `请按“年-月-日”填写“${title}”，例如 2026-12-31`;
      return `“${title}”的格式不对，请检查`;
    case 'pattern':
      return `“${title}”的格式不对，请检查`;
    case 'minLength':
      return `“${title}”至少要填 ${p.limit} 个字`;
    case 'maxLength':
      return `“${title}”最多填 ${p.limit} 个字`;
    case 'minItems':
      return Number(p.limit) <= 1 ? `请至少选择或添加一项“${title}”` : `“${title}”至少要有 ${p.limit} 项`;
    case 'maxItems':
      return `“${title}”最多 ${p.limit} 项`;
    case 'uniqueItems':
      return `“${title}”中有重复的项，请删除重复项`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `“${title}”不能小于 ${p.limit}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `“${title}”不能大于 ${p.limit}`;
    case 'type':
      return p.type === 'number' || p.type === 'integer' ? `“${title}”请填写数字` : `“${title}”填写有误，请检查`;
    case 'enum':
    case 'const':
      return `请从列表中选择“${title}”`;
    case 'additionalProperties':
      return '表单中有系统不认识的内容，请刷新页面后重新填写';
    default:
      return `“${title}”填写有误，请检查`;
  }
}

// ---- checking a value against the form schema (the keywords the catalog's forms use) ----

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** GB 11643 公民身份号码: 18 characters, a real birth date not after today, the check character right. */
export function isIdNumber(s, today) {
  if (typeof s !== 'string' || !/^[0-9]{17}[0-9X]$/.test(s)) return false;
  const y = Number(s.slice(6, 10)), m = Number(s.slice(10, 12)), d = Number(s.slice(12, 14));
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (birth.getUTCFullYear() !== y || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d || y < 1900) return false;
  if (today && s.slice(6, 14) > today.replace(/-/g, '')) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11] === s[17];
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100 统一社会信用代码: 18 characters and the check character right. */
export function isUscc(s) {
  if (typeof s !== 'string' || !/^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(s[i]) * USCC_WEIGHTS[i];
  return USCC_CHARS[(31 - (sum % 31)) % 31] === s[17];
}

function isDate(s) {
  if (typeof s !== 'string' || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s)) return false;
  const t = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === s;
}

function typeOk(type, v) {
  if (type === undefined) return true;
  if (Array.isArray(type)) return type.some((t) => typeOk(t, v));
  if (type === 'integer') return Number.isInteger(v);
  if (type === 'number') return typeof v === 'number' && Number.isFinite(v);
  if (type === 'array') return Array.isArray(v);
  if (type === 'object') return v !== null && typeof v === 'object' && !Array.isArray(v);
  if (type === 'null') return v === null;
  return typeof v === type;
}

function matchesIf(cond, value) {
  if (!cond || !value || typeof value !== 'object') return false;
  for (const [k, sub] of Object.entries(cond.properties || {})) {
    if (sub && 'const' in sub && value[k] !== sub.const) return false;
    if (sub && Array.isArray(sub.enum) && !sub.enum.includes(value[k])) return false;
  }
  for (const k of cond.required || []) if (value[k] === undefined) return false;
  return true;
}

/**
 * Checks `value` against the form `schema`; returns one problem per field ({path: '/a/0/b', keyword, message}),
 * the first that fails at each. `today` (YYYY-MM-DD, Beijing) bounds birth dates in ID numbers.
 */
export function checkForm(schema, value, opts) {
  const today = (opts && opts.today) || null;
  const out = [];
  const add = (path, keyword, params) => out.push({ path: path || '/', keyword, message: messageFor(schema, path, keyword, params) });

  (function walk(node, v, path) {
    if (!node || typeof node !== 'object') return;
    if (!typeOk(node.type, v)) {
      if (typeof v === 'string' && v === '' && (node.type === 'number' || node.type === 'integer')) return void add(path, 'required', {});
      return void add(path, 'type', { type: node.type });
    }
    if ('const' in node && v !== node.const) return void add(path, 'const', {});
    if (Array.isArray(node.enum) && !node.enum.includes(v)) return void add(path, 'enum', {});
    if (typeof v === 'string') {
      if (node.minLength !== undefined && [...v].length < node.minLength) return void add(path, 'minLength', { limit: node.minLength });
      if (node.maxLength !== undefined && [...v].length > node.maxLength) return void add(path, 'maxLength', { limit: node.maxLength });
      if (node.pattern && !new RegExp(node.pattern, 'u').test(v)) return void add(path, 'pattern', {});
      if (node.format === 'id-number' && !isIdNumber(v, today)) return void add(path, 'format', { format: 'id-number' });
      if (node.format === 'uscc' && !isUscc(v)) return void add(path, 'format', { format: 'uscc' });
      if (node.format === 'date' && !isDate(v)) return void add(path, 'format', { format: 'date' });
    }
    if (typeof v === 'number') {
      if (node.minimum !== undefined && v < node.minimum) return void add(path, 'minimum', { limit: node.minimum });
      if (node.maximum !== undefined && v > node.maximum) return void add(path, 'maximum', { limit: node.maximum });
      if (node.exclusiveMinimum !== undefined && v <= node.exclusiveMinimum) return void add(path, 'exclusiveMinimum', { limit: node.exclusiveMinimum });
      if (node.exclusiveMaximum !== undefined && v >= node.exclusiveMaximum) return void add(path, 'exclusiveMaximum', { limit: node.exclusiveMaximum });
    }
    if (Array.isArray(v)) {
      if (node.minItems !== undefined && v.length < node.minItems) return void add(path, 'minItems', { limit: node.minItems });
      if (node.maxItems !== undefined && v.length > node.maxItems) return void add(path, 'maxItems', { limit: node.maxItems });
      if (node.uniqueItems && new Set(v.map((x) => JSON.stringify(x))).size !== v.length) return void add(path, 'uniqueItems', {});
      v.forEach((item, i) => walk(node.items, item, `${path}/${i}`));
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const required = new Set(node.required || []);
      for (const part of node.allOf || []) if (matchesIf(part.if, v) && part.then) for (const k of part.then.required || []) required.add(k);
      const props = node.properties || {};
      // In the schema's own order, so the first problem listed is the first field on the screen.
      for (const k of Object.keys(props)) {
        const val = v[k];
        const empty = val === undefined || val === '' || val === null;
        if (empty) {
          if (required.has(k)) add(`${path}/${k}`, 'required', {});
          continue;
        }
        walk(props[k], val, `${path}/${k}`);
      }
      for (const k of required) if (!(k in props) && v[k] === undefined) add(`${path}/${k}`, 'required', {});
    }
  })(schema, value, '');
  return out;
}

/** Keyword an API field message stands for (the service's messages start with fixed Chinese words). */
function keywordOf(message) {
  const m = String(message || '');
  if (m.startsWith('缺少必填字段')) return ['required', {}];
  if (m.startsWith('不允许的字段')) return ['additionalProperties', {}];
  if (m.startsWith('公民身份号码无效')) return ['format', { format: 'id-number' }];
  if (m.startsWith('统一社会信用代码无效')) return ['format', { format: 'uscc' }];
  if (m.startsWith('日期格式')) return ['format', { format: 'date' }];
  if (m.startsWith('格式不正确')) return ['pattern', {}];
  if (m.startsWith('类型错误')) return ['type', { type: /number|integer/.test(m) ? 'number' : 'string' }];
  if (m.startsWith('取值不在允许范围内')) return ['enum', {}];
  let x = /must NOT have fewer than (\d+) items/.exec(m);
  if (x) return ['minItems', { limit: Number(x[1]) }];
  x = /must NOT have more than (\d+) items/.exec(m);
  if (x) return ['maxItems', { limit: Number(x[1]) }];
  x = /must NOT have fewer than (\d+) characters/.exec(m);
  if (x) return ['minLength', { limit: Number(x[1]) }];
  x = /must NOT have more than (\d+) characters/.exec(m);
  if (x) return ['maxLength', { limit: Number(x[1]) }];
  x = /must be >= (\S+)/.exec(m);
  if (x) return ['minimum', { limit: x[1] }];
  x = /must be <= (\S+)/.exec(m);
  if (x) return ['maximum', { limit: x[1] }];
  return [null, {}];
}

/**
 * An API field error ({path: '/form/contactPhone', message}) in plain Chinese: the catalog's message for the field,
 * or the keyword's; a message the service worded itself for people (a rule, a consent) is kept, its English cut off.
 */
export function plainMessage(schema, apiError) {
  const path = String(apiError.path || '');
  const [keyword, params] = keywordOf(apiError.message);
  if (path.startsWith('/form') && keyword) return messageFor(schema, path.slice('/form'.length), keyword, params);
  return chineseOnly(apiError.message);
}

/** "中文说明 English explanation" → "中文说明"; a message without Chinese is kept whole. */
export function chineseOnly(message) {
  const m = String(message || '');
  if (!/[\u3400-\u9fff]/.test(m)) return m;
  const cut = /^(.*[\u3400-\u9fff\u3000-\u303f\uff00-\uffef][^A-Za-z]*?)\s+[A-Za-z][\x20-\x7e\u2018-\u201d\u2013\u2014\u2026]*$/u.exec(m);
  return cut ? cut[1].trim() : m;
}

/** A JSON pointer into the form ('/a/0/b') as json-editor's path ('root.a.0.b'), and back. */
export function editorPath(pointer) {
  return ['root', ...String(pointer || '').split('/').filter(Boolean)].join('.');
}
export function pointerOf(editorPathText) {
  const parts = String(editorPathText || '').split('.').slice(1);
  return parts.length ? `/${parts.join('/')}` : '/';
}

/** The value at a JSON pointer in a plain object. */
export function valueAt(value, pointer) {
  let v = value;
  for (const part of String(pointer || '').split('/').filter(Boolean)) {
    if (v === null || v === undefined) return undefined;
    v = v[part];
  }
  return v;
}

/** Today in Beijing (UTC+8) as YYYY-MM-DD, whatever the device's zone. */
export function beijingToday(now) {
  return new Date((now ? now.getTime() : Date.now()) + 8 * 3600_000).toISOString().slice(0, 10);
}

/** An ISO time as Beijing wall time: "2026年12月4日 22:24" (or the date alone). */
export function beijingTime(iso, opts) {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return String(iso || '');
  const b = new Date(t.getTime() + 8 * 3600_000);
  const date = `${b.getUTCFullYear()}年${b.getUTCMonth() + 1}月${b.getUTCDate()}日`;
  if (opts && opts.dateOnly) return date;
  return `${date} ${String(b.getUTCHours()).padStart(2, '0')}:${String(b.getUTCMinutes()).padStart(2, '0')}`;
}
