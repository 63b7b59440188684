import type { SourceRead } from '../domain/types.js';
import { isJsonObject, sha256Hex } from './hash.js';
import { httpRequest } from '../net/http-request.js';
import { recordProblem, type RecordShape } from './record-shape.js';
import type { DataSource, ReadContext } from './types.js';

/** Default cap on a response body: records are small; a huge body is a fault, not data. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Options of {@link createHttpSource}. */
export interface HttpSourceOptions {
  /** Source id, e.g. `market-entity`. */
  id: string;
  /** Base URL (from `DATASOURCE_<ID>_URL`); a trailing `/` is optional. */
  baseUrl: string;
  /** Whole-read deadline (connect + headers + body); slower answers are UNKNOWN. */
  timeoutMs: number;
  /** Largest accepted body in bytes (default 1 MiB); a larger body is UNKNOWN. */
  maxBodyBytes?: number;
  /** Clock for `fetchedAt` (tests). Defaults to the system clock. */
  now?: () => Date;
  /**
   * Extra attempts after a transient failure (connection refused/reset, 502/503/504), each after a jittered
   * back-off; every attempt shares the one `timeoutMs` deadline, so retrying never makes a read slower than
   * the timeout. Default 0. A timeout is never retried: the budget is spent.
   */
  retries?: number;
  /** Base of the exponential back-off in ms (full jitter: a random wait in [0, base·2^attempt]). Default 50. */
  retryBaseMs?: number;
  /**
   * What a record of this source must look like (registry `record`): a 200 whose body lacks a required property,
   * or names another key, is not the record asked for (a gateway envelope, a proxy's page) → UNKNOWN.
   */
  record?: RecordShape;
}


/**
 * HTTP backend of the data-source contract (DESIGN.md §4): `GET {baseUrl}/{encodeURIComponent(key)}`.
 * 200 + a JSON object of the source's record shape → found; not found ONLY when the source says so: `404` with a
 * JSON body whose `found` is `false`. Everything else fails closed to unknown with an `error`: a bare or HTML 404
 * (a misrouted proxy must never read as "no such enterprise" and auto-reject a filing), any other status, a
 * redirect (not followed), a body that is not JSON or not the record, an oversize body, a network error or a
 * timeout. Never throws, because an unreachable source must route a filing to manual review, not crash the
 * worker.
 * @throws TypeError at creation only, when `baseUrl` is not an absolute http(s) URL or `timeoutMs` ≤ 0.
 */
export function createHttpSource(options: HttpSourceOptions): DataSource {
  const { id, timeoutMs } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const now = options.now ?? (() => new Date());
  const parsed = new URL(options.baseUrl); // throws TypeError on garbage: fail at start-up, not per read
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`data source ${id}: base URL must be http(s), got ${parsed.protocol}`);
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`data source ${id}: timeoutMs must be > 0, got ${timeoutMs}`);
  }
  const base = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;

  const retries = Math.max(0, Math.floor(options.retries ?? 0));
  const retryBaseMs = Math.max(1, options.retryBaseMs ?? 50);

  async function read(key: string, _ctx: ReadContext): Promise<SourceRead> {
    // One deadline for the whole read, retries included.
    const deadline = Date.now() + timeoutMs;
    let result = await attempt(key, deadline);
    for (let i = 0; i < retries && result.transient && Date.now() < deadline; i++) {
      if (!(await backOff(retryBaseMs * 2 ** i, deadline))) break;
      result = await attempt(key, deadline);
    }
    return result.read;
  }

  async function attempt(key: string, deadline: number): Promise<{ read: SourceRead; transient: boolean }> {
    const fetchedAt = now().toISOString();
    const unknown = (error: string, responseHash = '', transient = false) => ({
      read: { source: id, key, status: 'unknown', record: null, responseHash, fetchedAt, error } satisfies SourceRead,
      transient,
    });
    const refused = (error: string, responseHash = '') => ({
      read: { source: id, key, status: 'unknown', record: null, responseHash, fetchedAt, error, fault: 'request' } satisfies SourceRead,
      transient: false,
    });
    const answer = (r: SourceRead) => ({ read: r, transient: false });
    // An empty key would GET the collection root: never a meaningful look-up.
    if (key === '') return refused('empty key');
    let url: URL;
    try {
      url = new URL(base + encodeURIComponent(key));
    } catch {
      return refused('key is not well-formed Unicode');
    }
    const left = deadline - Date.now();
    if (left <= 0) return unknown(`timeout after ${timeoutMs} ms`);
    const res = await httpRequest(url, { method: 'GET', headers: { accept: 'application/json' }, timeoutMs: left, maxBytes: maxBodyBytes });
    if (!res.ok) return unknown(res.timedOut ? `timeout after ${timeoutMs} ms` : res.error, '', res.transient && Date.now() < deadline);
    const { status, body } = res.response;
    const responseHash = sha256Hex(body);

    if (status === 404) {
      const said = parseJson(body);
      if (isJsonObject(said) && said['found'] === false) {
        return answer({ source: id, key, status: 'not_found', record: null, responseHash, fetchedAt });
      }
      return unknown('HTTP 404 without {"found": false}: not an answer of the source (misrouted proxy?)', responseHash);
    }
    // A 4xx that refuses this key (400, 413, 414, 422…) is about the request; auth, routing and throttling are not.
    if (status >= 400 && status < 500 && !SOURCE_SIDE_4XX.has(status)) return refused(`HTTP ${status}`, responseHash);
    if (status !== 200) {
      const what = status >= 300 && status < 400 ? ' (redirect not followed)' : '';
      return unknown(`HTTP ${status}${what}`, responseHash, TRANSIENT_STATUSES.has(status));
    }
    const value = parseJson(body);
    if (value === INVALID) return unknown('response body is not valid UTF-8 JSON', responseHash);
    if (!isJsonObject(value)) {
      return unknown(`response body is JSON ${Array.isArray(value) ? 'array' : typeof value}, not an object`, responseHash);
    }
    const problem = options.record ? recordProblem(value, key, options.record) : null;
    if (problem !== null) return unknown(`response is not a ${id} record: ${problem}`, responseHash);
    return answer({ source: id, key, status: 'found', record: value, responseHash, fetchedAt });
  }

  return { id, backend: 'http', read };
}

const INVALID = Symbol('invalid JSON');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** 4xx answers that say the source (or the way to it) is not working for anyone: the breaker counts them. */
const SOURCE_SIDE_4XX = new Set([401, 403, 404, 405, 407, 408, 421, 425, 429]);

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes)) as unknown;
  } catch {
    return INVALID;
  }
}

/** Statuses worth another attempt: the gateway or the source is momentarily unable to answer. */
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

/** Waits a random time in [0, maxMs] (full jitter); false when that would pass the deadline. */
async function backOff(maxMs: number, deadline: number): Promise<boolean> {
  const wait = Math.random() * maxMs;
  if (Date.now() + wait >= deadline) return false;
  await new Promise((r) => setTimeout(r, wait));
  return true;
}
