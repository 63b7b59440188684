/**
 * The courier (快递取送, DESIGN.md §13), one interface for the outside party:
 *   POST {COURIER_URL}/waybills {reference, recipient, phone, address, item} → 201 {waybillNo}
 *     (a repeated `reference` answers the waybill booked for it, 200 or 201: booking is idempotent by filing id)
 *   GET  {COURIER_URL}/waybills/{waybillNo} → 200 {status, track: [{at, event}]}
 * Each call is bounded by COURIER_TIMEOUT_MS and retried COURIER_RETRIES times after a connection error or
 * 502/503/504 within that budget. Anything else unexpected is a CourierUnavailableError: the booking loop retries
 * later, and the certificate never waits for the courier.
 */

export interface WaybillRequest {
  /** The filing's id: the courier's order reference, so a retried booking gets the same waybill. */
  reference: string;
  recipient: string;
  phone: string | null;
  address: string;
  /** What is sent, e.g. the certificate's number and title. */
  item: string;
}

export interface WaybillTrack {
  status: string;
  track: Array<{ at: string; event: string }>;
}

export interface Courier {
  book(w: WaybillRequest): Promise<{ waybillNo: string }>;
  track(waybillNo: string): Promise<WaybillTrack>;
}

export class CourierUnavailableError extends Error {
  override name = 'CourierUnavailableError';
}

const TRANSIENT = new Set([502, 503, 504]);
const MAX_ANSWER_BYTES = 1024 * 1024;

export function httpCourier(opts: { url: string; timeoutMs: number; retries: number; fetch?: typeof fetch }): Courier {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.url.replace(/\/+$/, '');

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const deadline = Date.now() + opts.timeoutMs;
    let last = '';
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        const res = await doFetch(`${base}${path}`, {
          method,
          headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          redirect: 'error',
          signal: AbortSignal.timeout(left),
        });
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (bytes.byteLength > MAX_ANSWER_BYTES) throw new CourierUnavailableError(`${method} ${path}: answer larger than ${MAX_ANSWER_BYTES} bytes`);
        if (TRANSIENT.has(res.status)) {
          last = `HTTP ${res.status}`;
        } else {
          let json: unknown = null;
          try {
            json = bytes.byteLength === 0 ? null : (JSON.parse(new TextDecoder().decode(bytes)) as unknown);
          } catch {
            throw new CourierUnavailableError(`${method} ${path}: HTTP ${res.status} with a body that is not JSON`);
          }
          return { status: res.status, json };
        }
      } catch (err) {
        if (err instanceof CourierUnavailableError) throw err;
        last = (err as Error).message;
      }
      if (attempt < opts.retries) await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, Math.max(0, deadline - Date.now()))));
    }
    throw new CourierUnavailableError(`${method} ${path}: ${last || 'no answer within the timeout'}`);
  }

  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

  return {
    async book(w) {
      const res = await call('POST', '/waybills', w);
      if ((res.status === 201 || res.status === 200) && isObject(res.json) && typeof res.json['waybillNo'] === 'string' && /^[0-9A-Za-z-]{4,40}$/.test(res.json['waybillNo'])) {
        return { waybillNo: res.json['waybillNo'] };
      }
      throw new CourierUnavailableError(`POST /waybills: HTTP ${res.status} without a waybill number`);
    },
    async track(waybillNo) {
      const res = await call('GET', `/waybills/${encodeURIComponent(waybillNo)}`);
      const j = res.json;
      if (res.status !== 200 || !isObject(j) || typeof j['status'] !== 'string' || !Array.isArray(j['track'])) {
        throw new CourierUnavailableError(`GET /waybills/${waybillNo}: HTTP ${res.status} without {status, track}`);
      }
      const track = (j['track'] as unknown[])
        .filter((e): e is { at: string; event: string } => isObject(e) && typeof e['at'] === 'string' && typeof e['event'] === 'string')
        .map((e) => ({ at: e.at, event: e.event.slice(0, 200) }));
      return { status: j['status'], track };
    },
  };
}
