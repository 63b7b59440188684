/**
 * HTTP client of the e-seal platform contract (./contract.ts, DESIGN.md §9) at ESEAL_URL: a deadline per call, a
 * circuit breaker (an outage answers "unavailable" at once instead of costing every filing the whole timeout), and
 * strict reading of what comes back — a seal is only what the contract says a seal is, and "no seal" only a
 * `404 {"found": false}`; anything else is "unavailable" (→ manual review), never an invented seal.
 */
import { X509Certificate } from 'node:crypto';
import { isJsonObject } from '../../data-sources/hash.js';
import { httpRequest, type HttpResult } from '../../net/http-request.js';
import { SEAL_STATUSES, type ESealPlatform, type Seal, type SealLookup, type SealRecord, type SignResult } from './contract.js';

export interface ESealClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Consecutive failures that open the breaker. Default 5. */
  breakerFailures?: number;
  /** How long the open breaker answers "unavailable" before one trial call. Default 10 s. */
  breakerOpenMs?: number;
  /** Largest response accepted (a seal record with its chain and picture). Default 1 MiB. */
  maxBodyBytes?: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;
const DATE = /^\d{4}-\d{2}-\d{2}/;

/** A seal record as the contract defines it, or why the body is not one. */
export function parseSealRecord(value: unknown, code: string): { seal: Seal; record: SealRecord } | { error: string } {
  if (!isJsonObject(value)) return { error: 'body is not a JSON object' };
  const { uscc, sealId, name, certificate, picture, validUntil, status } = value;
  if (uscc !== code) return { error: 'uscc is not the code asked for' };
  if (typeof sealId !== 'string' || sealId === '' || sealId.length > 128) return { error: 'sealId missing' };
  if (typeof name !== 'string' || name === '') return { error: 'name missing' };
  if (typeof picture !== 'string') return { error: 'picture missing' };
  if (typeof validUntil !== 'string' || !DATE.test(validUntil)) return { error: 'validUntil is not a date' };
  if (typeof status !== 'string' || !(SEAL_STATUSES as readonly string[]).includes(status)) return { error: `status must be one of ${SEAL_STATUSES.join('/')}` };
  if (typeof certificate !== 'string') return { error: 'certificate missing' };
  const pems = certificate.match(PEM_CERT) ?? [];
  if (pems.length === 0 || pems.length > 8) return { error: 'certificate is not a PEM chain of 1–8 certificates' };
  let chain: Uint8Array[];
  let keyType: Seal['keyType'];
  try {
    const certs = pems.map((p) => new X509Certificate(p));
    chain = certs.map((c) => new Uint8Array(c.raw));
    const t = (certs[0] as X509Certificate).publicKey.asymmetricKeyType;
    const curve = (certs[0] as X509Certificate).publicKey.asymmetricKeyDetails?.namedCurve;
    if (t === 'rsa') keyType = 'rsa';
    else if (t === 'ec' && curve === 'SM2') keyType = 'sm2';
    else if (t === 'ec') keyType = 'ec';
    else return { error: `seal key type ${t} is not supported` };
  } catch (err) {
    return { error: `certificate does not parse: ${(err as Error).message}` };
  }
  const record: SealRecord = { uscc, sealId, name, certificate, picture, validUntil, status: status as SealRecord['status'] };
  return { seal: { code, sealId, name, status: record.status, validUntil, chain, keyType }, record };
}

export function createESealClient(o: ESealClientOptions): ESealPlatform {
  const base = new URL(o.baseUrl.endsWith('/') ? o.baseUrl : `${o.baseUrl}/`);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`ESEAL_URL must be http(s), got ${base.protocol}`);
  const threshold = Math.max(1, o.breakerFailures ?? 5);
  const openMs = Math.max(1, o.breakerOpenMs ?? 10_000);
  const maxBytes = o.maxBodyBytes ?? 1024 * 1024;
  let failures = 0;
  let openedAt = 0;
  let trial = false;

  /** null: go ahead; else the breaker's refusal. */
  function admit(): string | null {
    if (failures < threshold) return null;
    if (Date.now() - openedAt < openMs || trial) return 'circuit open: e-seal platform failing, not asked';
    trial = true;
    return null;
  }
  function outcome(ok: boolean): void {
    trial = false;
    if (ok) failures = 0;
    else if (++failures >= threshold) openedAt = Date.now();
  }

  async function call(path: string, init: { method: 'GET' | 'POST'; body?: unknown }): Promise<HttpResult | { ok: false; error: string; breaker: true }> {
    const refused = admit();
    if (refused) return { ok: false, error: refused, breaker: true };
    const res = await httpRequest(new URL(path, base), {
      method: init.method,
      headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      timeoutMs: o.timeoutMs,
      maxBytes,
    });
    return res;
  }

  const seg = (code: string) => encodeURIComponent(code);
  const json = (body: Buffer): unknown => {
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  };

  return {
    kind: 'http',
    async lookup(code): Promise<SealLookup> {
      const res = await call(`seals/${seg(code)}`, { method: 'GET' });
      if (!res.ok) {
        if (!('breaker' in res)) outcome(false);
        return { kind: 'unavailable', error: res.error };
      }
      const { status, body } = res.response;
      if (status === 404) {
        const v = json(body);
        if (isJsonObject(v) && v['found'] === false) {
          outcome(true);
          return { kind: 'none' };
        }
        outcome(false);
        return { kind: 'unavailable', error: 'HTTP 404 without {"found": false}: not an answer of the platform (misrouted?)' };
      }
      if (status !== 200) {
        outcome(false);
        return { kind: 'unavailable', error: `HTTP ${status}` };
      }
      const parsed = parseSealRecord(json(body), code);
      if ('error' in parsed) {
        outcome(false);
        return { kind: 'unavailable', error: `not a seal record: ${parsed.error}` };
      }
      outcome(true);
      return { kind: 'found', seal: parsed.seal };
    },

    async sign(code, req): Promise<SignResult> {
      const res = await call(`seals/${seg(code)}/sign`, {
        method: 'POST',
        body: {
          sealId: req.sealId,
          digestAlgorithm: req.digestAlgorithm,
          digest: Buffer.from(req.digest).toString('base64'),
          authorization: req.authorization,
        },
      });
      if (!res.ok) {
        if (!('breaker' in res)) outcome(false);
        return { ok: false, error: res.error };
      }
      const { status, body } = res.response;
      const v = json(body);
      if (status !== 200) {
        // A 4xx is the platform refusing this request (seal cancelled, wrong id): an answer, not an outage.
        outcome(status < 500);
        const why = isJsonObject(v) && typeof v['message'] === 'string' ? `: ${v['message'].slice(0, 200)}` : '';
        return { ok: false, error: `HTTP ${status}${why}` };
      }
      if (!isJsonObject(v) || typeof v['signature'] !== 'string' || typeof v['algorithm'] !== 'string') {
        outcome(false);
        return { ok: false, error: 'sign answer is not {signature, algorithm}' };
      }
      const signature = Buffer.from(v['signature'], 'base64');
      if (signature.length === 0) {
        outcome(false);
        return { ok: false, error: 'empty signature' };
      }
      outcome(true);
      return { ok: true, signature: new Uint8Array(signature), algorithm: v['algorithm'] };
    },

    async close() {},
  };
}
