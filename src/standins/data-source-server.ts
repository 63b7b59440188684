/**
 * A stand-in for the government data sources (DESIGN.md §4 contract) over real HTTP: `GET /<sourceId>/<encoded
 * key>` → `200 JSON.stringify(record)` | `404 {"found": false}`. Tests, the benchmark and `npm run standin --
 * data-sources` use it; per-source failure modes exercise the UNKNOWN paths over a genuine socket, including the
 * answers of a misrouted proxy (a bare or HTML 404, a 200 that is not the record).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { loadDemoRecords, loadSourceRegistry } from '../data-sources/registry.js';

/** `records[sourceId][key] = record`. */
export type SourceRecords = Record<string, Record<string, object>>;

/**
 * ok: per contract; 503: service unavailable; hang: accept and never answer; stall: send 200 headers and part
 * of the body, then nothing; garbage: 200 with an HTML body; redirect: 302 to another path; huge: 200 with a
 * 2 MiB chunked JSON object; array: 200 with a JSON array; bare-404: 404 with an empty body for every key;
 * html-404: a proxy's HTML "404 Not Found" page for every key; not-record: 200 with a JSON object that is not a
 * record (a gateway's error envelope).
 */
export type ServerMode =
  | 'ok'
  | '503'
  /** The source refuses the key (issue 17: counts against the request, not the source). */
  | '400'
  | 'hang'
  | 'stall'
  | 'garbage'
  | 'redirect'
  | 'huge'
  | 'array'
  | 'bare-404'
  | 'html-404'
  | 'not-record';

export interface DataSourceServer {
  /** Base URL for `DATASOURCE_<ID>_URL` of `sourceId` (no trailing slash). */
  url(sourceId: string): string;
  /** Origin (`http://127.0.0.1:PORT`) of the server. */
  readonly origin: string;
  setMode(sourceId: string, mode: ServerMode): void;
  /** Every request received, key URL-decoded, in arrival order (only when `recordRequests` is on). */
  requests: Array<{ source: string; key: string }>;
  /** The records served, live: a test may add one (another department's result arriving through 业务协同). */
  records: SourceRecords;
  close(): Promise<void>;
}

/** The body of a contract-conforming "no such record" answer. */
export const NOT_FOUND_BODY = JSON.stringify({ found: false });

/** Every registered source's demo data (`<rulesDir>/demo-data/<id>.yaml`) in the server's records shape. */
export function loadDemoDataRecords(rulesDir: string): SourceRecords {
  const out: SourceRecords = {};
  for (const def of loadSourceRegistry(rulesDir)) out[def.id] = loadDemoRecords(rulesDir, def.id);
  return out;
}

/**
 * Starts the server on `host` (default 127.0.0.1), on `port` (to restart a stopped one at the same address) or
 * one chosen by the OS. `recordRequests: false` keeps memory flat under a long load.
 */
export async function startDataSourceServer(options: {
  records: SourceRecords;
  port?: number;
  host?: string;
  recordRequests?: boolean;
}): Promise<DataSourceServer> {
  const modes = new Map<string, ServerMode>();
  const requests: Array<{ source: string; key: string }> = [];
  const recordRequests = options.recordRequests ?? true;
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const match = /^\/([^/?]+)\/([^?]*)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !match) return send(res, 400, 'bad request');
    let source: string;
    let key: string;
    try {
      source = decodeURIComponent(match[1] ?? '');
      key = decodeURIComponent(match[2] ?? '');
    } catch {
      return send(res, 400, 'bad key encoding');
    }
    if (recordRequests) requests.push({ source, key });
    const records = options.records[source];
    // Unknown source is a misconfiguration, not "record absent": never answer 404 for it.
    if (records === undefined) return send(res, 400, `unknown source ${source}`);

    switch (modes.get(source) ?? 'ok') {
      case 'hang':
        return; // keep the socket open without answering
      case 'stall':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.write('{"uscc":"');
      case '400':
        return send(res, 400, JSON.stringify({ error: 'malformed key' }), 'application/json');
      case '503':
        return send(res, 503, JSON.stringify({ error: 'service unavailable' }), 'application/json');
      case 'garbage':
        return send(res, 200, '<html><body>502 Bad Gateway</body></html>', 'text/html');
      case 'array':
        return send(res, 200, '[1,2,3]', 'application/json');
      case 'bare-404':
        return send(res, 404, '');
      case 'html-404':
        return send(res, 404, '<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>', 'text/html');
      case 'not-record':
        return send(res, 200, JSON.stringify({ code: 0, msg: 'success', data: null }), 'application/json');
      case 'huge': {
        // Chunked, no content-length: the client must enforce its cap while streaming.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"blob":"');
        for (let i = 0; i < 32; i++) res.write('x'.repeat(64 * 1024));
        return void res.end('"}');
      }
      case 'redirect':
        res.writeHead(302, { location: `/${source}/elsewhere` });
        return void res.end();
      case 'ok': {
        const record = Object.hasOwn(records, key) ? records[key] : undefined;
        if (record === undefined) return send(res, 404, NOT_FOUND_BODY, 'application/json');
        return send(res, 200, JSON.stringify(record), 'application/json; charset=utf-8');
      }
    }
  };

  const server = createServer({ keepAliveTimeout: 30_000 }, handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: (sourceId) => `${origin}/${encodeURIComponent(sourceId)}`,
    origin,
    setMode: (sourceId, mode) => void modes.set(sourceId, mode),
    requests,
    records: options.records,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Hanging requests would keep close() waiting forever: destroy their sockets.
        for (const s of sockets) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.byteLength });
  res.end(bytes);
}
