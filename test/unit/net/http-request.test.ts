/**
 * The outside-party HTTP client over real sockets: a request that meets a kept-alive connection the server is
 * closing goes out once more on a new connection; nothing else is repeated; idle connections are closed on this
 * side before the server's announced keep-alive timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeIdleConnections, httpRequest } from '../../../src/net/http-request.js';

interface Bed {
  url: URL;
  connections: () => number;
  requests: () => number;
  close: () => Promise<void>;
}

async function serve(handle: (req: IncomingMessage, res: ServerResponse, nthOnSocket: number) => void, keepAliveTimeout = 30_000): Promise<Bed> {
  const perSocket = new WeakMap<Socket, number>();
  let connections = 0;
  let requests = 0;
  const server: Server = createServer({ keepAliveTimeout }, (req, res) => {
    requests++;
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    handle(req, res, n);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/x`),
    connections: () => connections,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const opts = { timeoutMs: 5_000, maxBytes: 1 << 16 };
let bed: Bed | null = null;

afterEach(async () => {
  closeIdleConnections();
  await bed?.close();
  bed = null;
});

describe('httpRequest on kept-alive connections', () => {
  it('sends a request again on a new connection when the kept-alive one it was written on is dropped unanswered', async () => {
    // The second request on any connection meets a server that drops it: what a server closing an idle
    // connection at the moment the request arrives looks like to the client.
    bed = await serve((req, res, n) => (n >= 2 ? req.socket.destroy() : res.end(`answer ${n}`)));
    const first = await httpRequest(bed.url, opts);
    expect(first.ok && first.response.body.toString()).toBe('answer 1');
    const second = await httpRequest(bed.url, { ...opts, method: 'POST', body: '{"a":1}' });
    expect(second.ok, JSON.stringify(second)).toBe(true);
    expect(second.ok && second.response.body.toString()).toBe('answer 1');
    expect(bed.requests()).toBe(3);
    expect(bed.connections()).toBe(2);
  });

  it('does not repeat a request whose new connection is dropped', async () => {
    bed = await serve((req) => req.socket.destroy());
    const r = await httpRequest(bed.url, opts);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.transient).toBe(true);
    expect(!r.ok && r.error).toMatch(/ECONNRESET/);
    expect(bed.requests()).toBe(1);
  });

  it('does not repeat a request that was answered in part', async () => {
    bed = await serve((req, res, n) => {
      if (n === 1) return res.end('ok');
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
    });
    expect((await httpRequest(bed.url, opts)).ok).toBe(true);
    const r = await httpRequest(bed.url, opts);
    expect(r.ok).toBe(false);
    expect(bed.requests()).toBe(2);
  });

  it("closes an idle connection before the server's announced keep-alive timeout (timeout=2 → after 1 s)", async () => {
    bed = await serve((_req, res) => res.end('ok'), 2_000);
    expect((await httpRequest(bed.url, opts)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 1_500));
    // Still open on the server's side (it closes at 2 s); reusing it now would race the server's close.
    const r = await httpRequest(bed.url, opts);
    expect(r.ok).toBe(true);
    expect(bed.connections()).toBe(2);
    expect(bed.requests()).toBe(2);
  });

  it('reuses a connection idle for less than that', async () => {
    bed = await serve((_req, res) => res.end('ok'), 2_000);
    expect((await httpRequest(bed.url, opts)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect((await httpRequest(bed.url, opts)).ok).toBe(true);
    expect(bed.connections()).toBe(1);
  });
});
