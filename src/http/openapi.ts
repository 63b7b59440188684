/**
 * The OpenAPI document at /docs (issue 18): the error-code table generated from src/errors.ts, each matter's form
 * schema linked, every response described (no "Default Response"), error responses named, and schemas that carry a
 * `title` hoisted into components.schemas so integrators read named types. Only the published document changes;
 * the route schemas that validate and serialise stay as they are.
 */
import { ERRORS, type ErrorDef } from '../errors.js';
import type { Catalog } from '../catalog/load-catalog.js';
import { ErrorResponse } from './schemas.js';

type Json = Record<string, unknown>;

const CJK = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/;

/**
 * A registry message "中文 English" split into its two languages: the English starts at the first capitalised word
 * after some Chinese that starts a sentence (the English may quote a Chinese term, the Chinese may name PDF or a header).
 */
export function splitMessage(message: string): { zh: string; en: string } {
  for (let i = 1; i < message.length; i++) {
    if (message[i - 1] !== ' ' || !/[A-Z]/.test(message[i]!) || !CJK.test(message.slice(0, i))) continue;
    // A sentence, not a quoted term: three words before the next Chinese character, or the rest of the message.
    const run = message.slice(i).split(CJK)[0]!;
    if (run.length === message.length - i || run.trim().split(/\s+/).length >= 3) {
      return { zh: message.slice(0, i - 1).trim(), en: message.slice(i).trim() };
    }
  }
  return { zh: message, en: '' };
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Markdown table of every error code: code, HTTP status, 中文, English. */
export function errorCodeTable(errors: Record<string, ErrorDef> = ERRORS): string {
  const rows = Object.entries(errors).map(([code, d]) => {
    const { zh, en } = splitMessage(d.message);
    return `| \`${code}\` | ${d.status} | ${cell(zh)} | ${cell(en)} |`;
  });
  return ['| 错误码 Code | HTTP | 中文说明 | English |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

const STATUS: Record<string, string> = {
  200: '成功 OK',
  201: '已创建 Created',
  202: '已受理，异步办理 Accepted: processing continues in the background',
  204: '成功，无内容 No content',
  302: '重定向 Redirect',
  304: '未修改 Not modified',
  400: '请求无效 Bad request',
  401: '未认证：缺少或无效的访问令牌 Not authenticated: missing or invalid token',
  403: '无权访问 Forbidden',
  404: '不存在（或无权查看） Not found (or not yours to see)',
  405: '不支持该方法 Method not allowed',
  409: '状态冲突 Conflict with the current state',
  413: '请求体过大 Body too large',
  415: '不支持的内容类型 Unsupported media type',
  422: '无法处理 Unprocessable',
  429: '请求过于频繁 Too many requests',
  500: '服务内部错误 Internal error',
  502: '上游服务错误 Bad gateway',
  503: '服务暂不可用 Service unavailable',
  '2XX': '成功 Success',
  '4XX': '请求错误 Client error',
  '5XX': '服务错误 Server error',
};

const ERROR_NOTE = '；响应体 {code, message, requestId, errors?}，code 见错误码表 body {code, message, requestId, errors?}; codes in the error-code table';

function describe(status: string, summary: string | undefined): string {
  const base = STATUS[status] ?? (status.startsWith('2') ? STATUS['2XX']! : status.startsWith('4') ? STATUS['4XX']! : STATUS['5XX']!);
  if (/^[45]/.test(status)) return `${base}${ERROR_NOTE}`;
  return summary ? `${base}：${summary}` : base;
}

/** Replaces every inline schema with a `title` by a $ref to components.schemas[title] (first definition wins). */
function hoist(node: unknown, schemas: Json): unknown {
  if (Array.isArray(node)) return node.map((n) => hoist(n, schemas));
  if (!node || typeof node !== 'object') return node;
  const obj = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) out[k] = k === 'example' || k === 'examples' ? v : hoist(v, schemas);
  const title = out.title;
  if (typeof title === 'string' && /^[A-Za-z][A-Za-z0-9]*$/.test(title) && (out.type === 'object' || out.properties)) {
    if (!schemas[title]) schemas[title] = out;
    return { $ref: `#/components/schemas/${title}` };
  }
  return out;
}

function matterList(catalog: Catalog): string {
  const lines = [...catalog.matters.values()].map((m) => `- \`${m.def.code}\` ${m.def.name}：[GET /v1/matters/${m.def.code}/schema](/v1/matters/${m.def.code}/schema)`);
  return lines.join('\n');
}

/** Turns the generated document into the published one (see the module comment). */
export function finishOpenApi<D extends object>(doc: D, catalog: Catalog): D {
  const d = JSON.parse(JSON.stringify(doc)) as Json & { info: { description?: string } & Json; components?: Json; paths?: Record<string, Record<string, Json>> };
  const components = (d.components ??= {});
  const schemas = (components.schemas ??= {}) as Json;
  d.info.description = [
    d.info.description ?? '',
    '',
    '## 申请表结构 Form schemas',
    '`POST /v1/applications` 的 `form` 按事项的 JSON Schema 填写 (the `form` of a filing follows its matter’s JSON Schema):',
    '',
    matterList(catalog),
    '',
    '## 错误码 Error codes',
    '出错时响应体为 `{code, message, requestId, errors?}`；状态码 ≥ 500 不透露内部细节。Errors answer `{code, message, requestId, errors?}`; codes are public API and never renamed.',
    '',
    errorCodeTable(),
  ].join('\n');

  for (const [, item] of Object.entries(d.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      const summary = typeof op.summary === 'string' ? op.summary : undefined;
      const responses = op.responses as Record<string, Json>;
      for (const [status, r] of Object.entries(responses)) {
        if (!r.description || r.description === 'Default Response') r.description = describe(status, summary);
      }
      if (method !== 'parameters' && !Object.keys(responses).some((s) => s.startsWith('4'))) {
        responses['4XX'] = { description: describe('4XX', summary), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      }
      if (!Object.keys(responses).some((s) => s.startsWith('5'))) {
        responses['5XX'] = { description: describe('5XX', summary), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      }
    }
  }
  const paths = hoist(d.paths ?? {}, schemas);
  d.paths = paths as typeof d.paths;
  schemas.Error ??= JSON.parse(JSON.stringify(ErrorResponse)) as Json;
  return d as unknown as D;
}
