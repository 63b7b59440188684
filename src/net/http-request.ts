/**
 * One HTTP exchange with an outside party (data sources, the e-seal platform), on node:http with keep-alive
 * connections: a deadline for the whole exchange (connect + headers + body), a cap on the body held in memory,
 * redirects never followed, and every failure returned as a value rather than thrown — an outside party that is
 * down must turn into an UNKNOWN or a manual review, never into a crashed job. node:http costs about a third of
 * the CPU of fetch (undici) per request here, which matters at four reads per filing.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

export type HttpResult =
  | { ok: true; response: HttpResponse }
  /** `transient`: worth another attempt (connection refused/reset); a timeout is not (the budget is spent). */
  | { ok: false; error: string; transient: boolean; timedOut: boolean };

export interface HttpRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Deadline of the whole exchange. */
  timeoutMs: number;
  /** Largest body kept; larger is a failure. */
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * How long a kept-alive connection may sit idle before this side closes it; a server's `Keep-Alive: timeout=N` hint
 * lowers it to N − 1 s (Node's agent applies the hint only when a timeout is set). Closing first is what keeps a
 * request from being written onto a connection the server is closing at that moment.
 */
const IDLE_SOCKET_MS = 10_000;

const agents = new Map<string, http.Agent>();

function agentFor(url: URL): http.Agent {
  const key = url.protocol;
  let a = agents.get(key);
  if (!a) {
    const opts = { keepAlive: true, keepAliveMsecs: 10_000, timeout: IDLE_SOCKET_MS, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    a = url.protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
    agents.set(key, a);
  }
  return a;
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);

/**
 * The exchange, at most twice: a request written onto a kept-alive connection that the server closed meanwhile
 * (reset or closed before any byte of an answer: the server closed an idle connection as the request went out —
 * the race Node's documentation describes under `request.reusedSocket`) is sent once more on a new connection.
 * Nothing else is repeated: a reset on a new connection, a timeout, a partial answer are results. The callers'
 * requests may be repeated safely: reads, and the e-seal platform's sign (a signature over the same digest) — and
 * a client that POSTs a filing sends an Idempotency-Key with it.
 */
export function httpRequest(url: URL, opts: HttpRequestOptions): Promise<HttpResult> {
  return new Promise((resolve) => {
    let settled = false;
    let req: http.ClientRequest | null = null;
    const finish = (r: HttpResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish({ ok: false, error: `timeout after ${opts.timeoutMs} ms`, transient: false, timedOut: true });
      req?.destroy();
    }, opts.timeoutMs);
    const onAbort = (): void => {
      finish({ ok: false, error: 'aborted', transient: false, timedOut: true });
      req?.destroy();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const lib = url.protocol === 'https:' ? https : http;
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;

    const send = (retry: boolean): void => {
      let answered = false;
      const r = lib.request(url, {
        method: opts.method ?? 'GET',
        // The retry takes a connection of its own rather than the next idle one, which may be as stale.
        agent: retry ? false : agentFor(url),
        headers: { ...(opts.headers ?? {}), ...(body ? { 'content-length': String(body.length) } : {}) },
      });
      req = r;
      r.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? '';
        if (!retry && !settled && !answered && r.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
          send(true);
          return;
        }
        finish({ ok: false, error: code ? `${err.message} (${code})` : err.message, transient: TRANSIENT_CODES.has(code), timedOut: false });
      });
      r.on('response', (res) => {
        answered = true;
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (Number.isFinite(declared) && declared > opts.maxBytes) {
          finish({ ok: false, error: `response body too large (${declared} > ${opts.maxBytes} bytes)`, transient: false, timedOut: false });
          res.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (c: Buffer) => {
          total += c.length;
          if (total > opts.maxBytes) {
            finish({ ok: false, error: `response body too large (> ${opts.maxBytes} bytes)`, transient: false, timedOut: false });
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          finish({
            ok: true,
            response: { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total) },
          }),
        );
        res.on('error', (err) => finish({ ok: false, error: err.message, transient: false, timedOut: false }));
        res.on('aborted', () => finish({ ok: false, error: 'response aborted', transient: false, timedOut: false }));
      });
      if (body) r.end(body);
      else r.end();
    };
    send(false);
  });
}

/** Closes idle keep-alive sockets (shutdown, tests). */
export function closeIdleConnections(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}
