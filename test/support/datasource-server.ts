/**
 * A real HTTP data-source server for tests (DESIGN.md §4 contract): `GET /<sourceId>/<encoded key>` →
 * 200 `JSON.stringify(record)` | 404 (empty body). Per-source failure modes let tests exercise UNKNOWN paths
 * over a genuine socket instead of a mocked fetch.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDemoRecords, loadSourceRegistry } from '../../src/data-sources/registry.js';

/** `records[sourceId][key] = record`. */
export type SourceRecords = Record<string, Record<string, object>>;

/**
 * ok: per contract; 503: service unavailable; hang: accept and never answer; stall: send 200 headers and part
 * of the body, then nothing; garbage: 200 with an HTML body;
 * redirect: 302 to another path; huge: 200 with a 2 MiB chunked JSON object; array: 200 with a JSON array.
 */
export type ServerMode = 'ok' | '503' | 'hang' | 'stall' | 'garbage' | 'redirect' | 'huge' | 'array';

export interface DataSourceServer {
  /** Base URL for `DATASOURCE_<ID>_URL` of `sourceId` (no trailing slash). */
  url(sourceId: string): string;
  setMode(sourceId: string, mode: ServerMode): void;
  /** Every request received, key URL-decoded, in arrival order. */
  requests: Array<{ source: string; key: string }>;
  /** The records served, live: a test may add one (another department's result arriving through 业务协同). */
  records: SourceRecords;
  close(): Promise<void>;
}

/** The repository's `rules/` folder. */
export const RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));

/** Loads every registered source's demo data (`rules/demo-data/<id>.yaml`) in the server's records shape. */
export function loadDemoDataRecords(rulesDir: string = RULES_DIR): SourceRecords {
  const out: SourceRecords = {};
  for (const def of loadSourceRegistry(rulesDir)) out[def.id] = loadDemoRecords(rulesDir, def.id);
  return out;
}

/** Starts the server on 127.0.0.1, on `port` (to restart a stopped one at the same address) or one chosen by the OS. */
export async function startDataSourceServer(options: { records: SourceRecords; port?: number }): Promise<DataSourceServer> {
  const modes = new Map<string, ServerMode>();
  const requests: Array<{ source: string; key: string }> = [];
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const match = /^\/([^/?]+)\/([^?]*)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !match) return send(res, 400, 'bad request');
    const source = decodeURIComponent(match[1] ?? '');
    let key: string;
    try {
      key = decodeURIComponent(match[2] ?? '');
    } catch {
      return send(res, 400, 'bad key encoding');
    }
    requests.push({ source, key });
    const records = options.records[source];
    // Unknown source is a misconfiguration, not "record absent": never answer 404 for it.
    if (records === undefined) return send(res, 400, `unknown source ${source}`);

    switch (modes.get(source) ?? 'ok') {
      case 'hang':
        return; // keep the socket open without answering
      case 'stall':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.write('{"uscc":"');
      case '503':
        return send(res, 503, JSON.stringify({ error: 'service unavailable' }), 'application/json');
      case 'garbage':
        return send(res, 200, '<html><body>502 Bad Gateway</body></html>', 'text/html');
      case 'array':
        return send(res, 200, '[1,2,3]', 'application/json');
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
        if (record === undefined) return send(res, 404, '');
        return send(res, 200, JSON.stringify(record), 'application/json; charset=utf-8');
      }
    }
  };

  const server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: (sourceId) => `http://127.0.0.1:${port}/${encodeURIComponent(sourceId)}`,
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

/** Convenience for tests that only need the path. */
export const DEMO_DATA_DIR = join(RULES_DIR, 'demo-data');
