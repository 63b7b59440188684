/**
 * The one client for peer city nodes: every request signed with this node's key (Authorization: Federation …),
 * every answer accepted only with the peer's valid Federation-Signature. Bounded by FEDERATION_TIMEOUT_MS and a
 * size cap; anything unexpected is a PeerUnavailableError (transient: the caller retries later), except answers
 * the contract defines as final (a refused filing, a matter or certificate the peer does not have).
 */
import { randomUUID } from 'node:crypto';
import type { FieldError } from '../errors.js';
import type { RegisterEntry } from '../verification/verify-pdf.js';
import type { Decision } from '../domain/types.js';
import type { ApplicationStatus } from '../domain/types.js';
import type { DeliveryRequest, DeliveryView, RemoteCertificate } from '../store/types.js';
import type { NodeIdentity } from './node-identity.js';
import { bodyHash, FederationAuthError, signFederation, verifyFederation } from './node-jws.js';
import { PeerUnavailableError, type PeerDirectory } from './peers.js';

/** What the receiving node forwards: the filing as the applicant gave it, and who gave it. */
export interface ForwardedFiling {
  /** The id the filing has at the receiving node (idempotency: one owner application per origin id). */
  originId: string;
  applicant: string;
  matter: string;
  answers: Record<string, unknown>;
  form: Record<string, unknown>;
  consent: { dataSharing: boolean; sealAuthorization: boolean };
  delivery?: DeliveryRequest;
  submittedAt: string;
}

/** The owner's view of a forwarded filing. */
export interface RemoteFiling {
  id: string;
  status: ApplicationStatus;
  decidedAt: string | null;
  decision: Decision | null;
  certificate: RemoteCertificate | null;
  delivery: DeliveryView | null;
}

export type ForwardResult =
  | { accepted: true; remoteId: string }
  /** The owner checked the filing and refused it (4xx with a stable code): final, retrying changes nothing. */
  | { accepted: false; code: string; message: string; errors: FieldError[] };

export interface PeerClient {
  forward(city: string, filing: ForwardedFiling): Promise<ForwardResult>;
  filing(city: string, remoteId: string): Promise<RemoteFiling>;
  /** The owner's signed certificate file, byte for byte. */
  certificatePdf(city: string, certificateId: string): Promise<Uint8Array>;
  /** The owner's register entry for a file hash; null when the owner has issued no such file. */
  register(city: string, sha256: string): Promise<RegisterEntry | null>;
  /** The owner's current definition of a matter (the public view); null when the owner has no such matter. */
  matter(city: string, code: string): Promise<Record<string, unknown> | null>;
  /** The owner's catalog (summaries). */
  matters(city: string): Promise<Array<Record<string, unknown>>>;
}

const MAX_ANSWER_BYTES = 12 * 1024 * 1024;

interface Answer {
  status: number;
  body: Uint8Array;
  json(): unknown;
}

export function createPeerClient(opts: { identity: NodeIdentity; peers: PeerDirectory; timeoutMs: number; clock: () => Date; fetch?: typeof fetch }): PeerClient {
  const doFetch = opts.fetch ?? fetch;

  async function call(city: string, method: 'GET' | 'POST', path: string, payload?: unknown): Promise<Answer> {
    const peer = opts.peers.get(city);
    if (!peer) throw new PeerUnavailableError(`${city} is not a peer of this node`);
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const jti = randomUUID();
    const { jws } = await signFederation(opts.identity, { aud: city, htm: method, htu: path, bsha: bodyHash(body), jti }, opts.clock());
    let res: Response;
    let bytes: Uint8Array;
    try {
      res = await doFetch(`${peer.baseUrl}${path}`, {
        method,
        headers: { authorization: `Federation ${jws}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(payload === undefined ? {} : { body }),
        redirect: 'error',
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > MAX_ANSWER_BYTES) throw new PeerUnavailableError(`answer of ${city} is larger than ${MAX_ANSWER_BYTES} bytes`);
      bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.byteLength > MAX_ANSWER_BYTES) throw new PeerUnavailableError(`answer of ${city} is larger than ${MAX_ANSWER_BYTES} bytes`);
    } catch (err) {
      if (err instanceof PeerUnavailableError) throw err;
      throw new PeerUnavailableError(`${method} ${path} at ${city}: ${(err as Error).message}`);
    }
    // Only an answer the peer signed for this request counts (a proxy's 502 page does not).
    const signature = res.headers.get('federation-signature');
    if (!signature) throw new PeerUnavailableError(`${method} ${path} at ${city}: HTTP ${res.status} without Federation-Signature`);
    try {
      await verifyFederation(signature, {
        audience: opts.identity.city,
        anchors: async (c) => (await opts.peers.anchors(c))?.certificates ?? null,
        now: opts.clock(),
        body: bytes,
        answers: jti,
        expectIssuer: city,
      });
    } catch (err) {
      if (err instanceof FederationAuthError) throw new PeerUnavailableError(`${method} ${path} at ${city}: answer not authenticated (${err.message})`);
      throw err;
    }
    return {
      status: res.status,
      body: bytes,
      json: () => {
        try {
          return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
        } catch {
          throw new PeerUnavailableError(`${method} ${path} at ${city}: answer is not JSON`);
        }
      },
    };
  }

  const unexpected = (a: Answer, what: string) => new PeerUnavailableError(`${what}: HTTP ${a.status}`);
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

  return {
    async forward(city, filing) {
      const a = await call(city, 'POST', '/v1/federation/filings', filing);
      const body = a.json();
      if ((a.status === 202 || a.status === 200) && isObject(body) && typeof body['id'] === 'string') return { accepted: true, remoteId: body['id'] };
      // 4xx with a code is the owner's checked refusal; 401/408/429 and everything else may pass.
      if (a.status >= 400 && a.status < 500 && ![401, 408, 409, 429].includes(a.status) && isObject(body) && typeof body['code'] === 'string') {
        return {
          accepted: false,
          code: body['code'],
          message: typeof body['message'] === 'string' ? body['message'] : '',
          errors: Array.isArray(body['errors']) ? (body['errors'] as FieldError[]) : [],
        };
      }
      throw unexpected(a, `forward to ${city}`);
    },

    async filing(city, remoteId) {
      const a = await call(city, 'GET', `/v1/federation/filings/${encodeURIComponent(remoteId)}`);
      const body = a.json();
      if (a.status !== 200 || !isObject(body) || typeof body['status'] !== 'string') throw unexpected(a, `status of ${remoteId} at ${city}`);
      return body as unknown as RemoteFiling;
    },

    async certificatePdf(city, certificateId) {
      const a = await call(city, 'GET', `/v1/federation/certificates/${encodeURIComponent(certificateId)}/pdf`);
      if (a.status !== 200) throw unexpected(a, `certificate ${certificateId} of ${city}`);
      return a.body;
    },

    async register(city, sha256) {
      const a = await call(city, 'GET', `/v1/federation/register/${encodeURIComponent(sha256)}`);
      if (a.status === 404) return null;
      const body = a.json();
      if (a.status !== 200 || !isObject(body) || typeof body['sha256'] !== 'string') throw unexpected(a, `register of ${city}`);
      return body as unknown as RegisterEntry;
    },

    async matter(city, code) {
      const a = await call(city, 'GET', `/v1/federation/matters/${encodeURIComponent(code)}`);
      if (a.status === 404) return null;
      const body = a.json();
      if (a.status !== 200 || !isObject(body) || body['code'] !== code) throw unexpected(a, `matter ${code} of ${city}`);
      return body;
    },

    async matters(city) {
      const a = await call(city, 'GET', '/v1/federation/matters');
      const body = a.json();
      if (a.status !== 200 || !isObject(body) || !Array.isArray(body['matters'])) throw unexpected(a, `catalog of ${city}`);
      return body['matters'] as Array<Record<string, unknown>>;
    },
  };
}
