/**
 * A stand-in courier that speaks the courier contract (./courier-client.ts) over real HTTP, for development (the
 * worker starts one on loopback when COURIER_URL is unset; `npm run courier` starts one on its own) and tests.
 * Waybills live in memory; a parcel moves 已下单 → 已揽收 → 运输中 → 派送中 → 已签收, one step every `stepMs`.
 * `setMode` makes it fail the way real couriers do (503, or accept and never answer).
 */
import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type CourierMode = 'ok' | '503' | 'hang';

export interface StandInCourier {
  readonly url: string;
  readonly port: number;
  setMode(mode: CourierMode): void;
  /** Every booking received (including repeats), in order. */
  readonly bookings: Array<{ reference: string; recipient: string; phone: string | null; address: string; item: string }>;
  close(): Promise<void>;
}

const STEPS: Array<{ status: string; event: string }> = [
  { status: 'created', event: '已下单，等待揽收' },
  { status: 'picked_up', event: '快递员已揽收' },
  { status: 'in_transit', event: '运输中' },
  { status: 'delivering', event: '派送中' },
  { status: 'delivered', event: '已签收' },
];

interface Waybill {
  waybillNo: string;
  reference: string;
  createdAt: number;
}

const MAX_BODY = 64 * 1024;

export async function startStandInCourier(opts: { port?: number; host?: string; stepMs?: number; now?: () => number } = {}): Promise<StandInCourier> {
  const stepMs = opts.stepMs ?? 60_000;
  const now = opts.now ?? Date.now;
  let mode: CourierMode = 'ok';
  const byReference = new Map<string, Waybill>();
  const byNumber = new Map<string, Waybill>();
  const bookings: StandInCourier['bookings'] = [];
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.byteLength });
    res.end(bytes);
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) reject(new Error('too large'));
        else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (mode === 'hang') return;
    if (mode === '503') return send(res, 503, { code: 'UNAVAILABLE', message: '系统繁忙 service unavailable' });
    const url = req.url ?? '';
    if (req.method === 'POST' && url === '/waybills') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      } catch {
        return send(res, 400, { code: 'BAD_REQUEST', message: 'body must be JSON' });
      }
      const text = (k: string, max: number) => typeof body[k] === 'string' && (body[k]).trim().length > 0 && (body[k]).length <= max;
      if (!text('reference', 100) || !text('recipient', 100) || !text('address', 300) || !text('item', 300) || !(body['phone'] === null || body['phone'] === undefined || text('phone', 30))) {
        return send(res, 400, { code: 'BAD_REQUEST', message: 'reference, recipient, address and item are required strings; phone a string or null' });
      }
      const reference = body['reference'] as string;
      bookings.push({ reference, recipient: body['recipient'] as string, phone: (body['phone'] as string | null | undefined) ?? null, address: body['address'] as string, item: body['item'] as string });
      const existing = byReference.get(reference);
      if (existing) return send(res, 200, { waybillNo: existing.waybillNo });
      let waybillNo: string;
      do waybillNo = `SB${String(now()).slice(-8)}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
      while (byNumber.has(waybillNo));
      const waybill: Waybill = { waybillNo, reference, createdAt: now() };
      byReference.set(reference, waybill);
      byNumber.set(waybill.waybillNo, waybill);
      return send(res, 201, { waybillNo: waybill.waybillNo });
    }
    const m = /^\/waybills\/([^/?]+)$/.exec(url);
    if (req.method === 'GET' && m) {
      const w = byNumber.get(decodeURIComponent(m[1]!));
      if (!w) return send(res, 404, { code: 'NOT_FOUND', message: 'no such waybill' });
      const reached = Math.min(STEPS.length - 1, Math.floor((now() - w.createdAt) / stepMs));
      const track = STEPS.slice(0, reached + 1).map((s, i) => ({ at: new Date(w.createdAt + i * stepMs).toISOString(), event: s.event }));
      return send(res, 200, { waybillNo: w.waybillNo, status: STEPS[reached]!.status, track });
    }
    return send(res, 404, { code: 'NOT_FOUND', message: 'no such endpoint' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { code: 'INTERNAL', message: 'internal error' }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    setMode: (m) => {
      mode = m;
    },
    bookings,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
