/* global document, sessionStorage, fetch, atob, URL, Node, TextDecoderStream, setTimeout */
// Shared by the portal and the admin console: DOM building without innerHTML, the API client, downloads and the
// status stream. Tokens live in sessionStorage (per tab, gone when the tab closes).
import { chineseOnly } from './form-check.js';

/** el('p', {class: 'hint'}, 'text', child…) — text is always set as text, never parsed as HTML. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

export const $ = (sel, root) => (root || document).querySelector(sel);

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.errors = (body && body.errors) || [];
    this.requestId = body && body.requestId;
  }
}

export function session(key) {
  return {
    get: () => {
      try { return JSON.parse(sessionStorage.getItem(key) || 'null'); } catch { return null; }
    },
    set: (v) => sessionStorage.setItem(key, JSON.stringify(v)),
    clear: () => sessionStorage.removeItem(key),
  };
}

/** Claims of a JWT, for display only (the server verifies). */
export function claims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(decodeURIComponent(escape(atob(part))));
  } catch {
    return null;
  }
}

export async function api(token, method, path, body, headers) {
  const h = Object.assign({ accept: 'application/json' }, headers || {});
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Fetches a file with the token and hands it to the browser as a download. */
export async function download(token, path, filename) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { data = null; }
    throw new ApiError(res.status, data);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: filename, class: 'hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

/**
 * Reads server-sent events with fetch (EventSource cannot send the Authorization header). Calls onEvent(name, data)
 * per event; resolves when the server ends the stream.
 */
export async function stream(token, path, onEvent, signal) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal });
  if (!res.ok || !res.body) throw new ApiError(res.status, null);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) onEvent(name, JSON.parse(data.join('\n')));
    }
  }
}

/**
 * An API error as a box, in plain Chinese: the message and each field error without their English halves (and
 * without JSON paths unless `opts.paths`, for the admin console); the request id for the help desk.
 */
export function errorBox(err, opts) {
  const items = (err && err.errors) || [];
  const generic = err && (err.code === 'REQUEST_VALIDATION' || err.code === 'FORM_INVALID');
  return el('div', { class: 'errors', role: 'alert' },
    el('strong', {}, generic && items.length ? '填写的内容需要修改：' : chineseOnly((err && err.message) || String(err))),
    items.length ? el('ul', {}, items.map((e) => el('li', {}, opts && opts.paths ? `${e.path}：${chineseOnly(e.message)}` : chineseOnly(e.message)))) : null,
    err && err.requestId ? el('div', { class: 'hint' }, `查询编号 ${err.requestId}`) : null);
}

export const STATUS_TEXT = {
  queued: '已受理，排队中',
  processing: '系统办理中',
  approved: '已办结：审核通过',
  rejected: '未通过',
  manual_review: '转人工审核',
  failed: '办理失败，请联系窗口',
};

export const OUTCOME_TEXT = { APPROVE: '准予', REJECT: '不予通过', MANUAL: '转人工审核' };
