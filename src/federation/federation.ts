/**
 * 都市圈通办 as one port (DESIGN.md §12): this node's city and key, its peers and their pinned anchors, the signed
 * client, the peers' catalogs, authentication of incoming node requests and signing of the answers, and
 * verification of a peer's certificate against the peer's anchors and register. Built once in deps.ts.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../store/types.js';
import { applyRegister, registerUnavailable, verifyPdf, type VerificationReport } from '../verification/verify-pdf.js';
import { loadNodeIdentity, type NodeIdentity } from './node-identity.js';
import { FederationAuthError, bodyHash, signFederation, verifyFederation, type FederationClaims } from './node-jws.js';
import { createPeerCatalog, type PeerCatalog } from './peer-catalog.js';
import { createPeerClient, type PeerClient } from './peer-client.js';
import { createPeerDirectory, type PeerDirectory } from './peers.js';

export interface Federation {
  readonly city: string;
  readonly identity: NodeIdentity;
  readonly peers: PeerDirectory;
  readonly client: PeerClient;
  readonly catalog: PeerCatalog;
  /** Authenticates a request from a peer node; throws FederationAuthError. Each request id is accepted once. */
  authenticate(req: { authorization: string | undefined; method: string; path: string; body: Uint8Array | string }): Promise<FederationClaims>;
  /** The Federation-Signature header for an answer to `claims` (the authenticated request) with `body`. */
  signAnswer(claims: FederationClaims, body: Uint8Array | string): Promise<string>;
  /** PEM of this node's anchors followed by the anchors pinned for peers so far (GET /v1/trust). */
  trustPem(ownRootsPem: string): Promise<string>;
  /**
   * A certificate signed under a peer's anchors: the signature checked against that peer's anchors, the register
   * asked of the owner. Null when no peer's anchors vouch for it.
   */
  verifyPeerCertificate(pdf: Uint8Array, opts: { now: Date; maxBytes: number; today: string; tsaRoots: string | null }): Promise<VerificationReport | null>;
}

const REPLAY_WINDOW_MS = 15 * 60_000;
const REPLAY_MAX = 50_000;

export async function createFederation(opts: {
  config: Pick<Config, 'federation' | 'certsDir'>;
  store: Pick<Store, 'federation'>;
  clock: () => Date;
  logger: Pick<Logger, 'warn'>;
  fetch?: typeof fetch;
}): Promise<Federation> {
  const f = opts.config.federation;
  const identity = await loadNodeIdentity(opts.config);
  const peers = createPeerDirectory({
    own: f.cityCode,
    peers: f.peers,
    trustDir: f.trustDir,
    store: opts.store.federation,
    timeoutMs: f.timeoutMs,
    clock: opts.clock,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const client = createPeerClient({ identity, peers, timeoutMs: f.timeoutMs, clock: opts.clock, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  const catalog = createPeerCatalog({ client, store: opts.store.federation, ttlSeconds: f.catalogTtlSeconds, clock: opts.clock });
  // Requests are idempotent anyway (a filing by its origin id); the replay guard keeps a captured request from
  // being re-sent within its lifetime to the same process.
  const seen = new Map<string, number>();

  return {
    city: f.cityCode,
    identity,
    peers,
    client,
    catalog,

    async authenticate(req) {
      const m = /^Federation\s+(\S+)$/.exec(req.authorization ?? '');
      if (!m?.[1]) throw new FederationAuthError('no Authorization: Federation <JWS> header');
      const now = opts.clock();
      const claims = await verifyFederation(m[1], {
        audience: f.cityCode,
        anchors: async (city) => (await peers.anchors(city))?.certificates ?? null,
        now,
        body: req.body,
        request: { method: req.method, path: req.path },
      });
      const key = `${claims.iss}/${claims.jti}`;
      if (seen.has(key)) throw new FederationAuthError('request replayed');
      if (seen.size >= REPLAY_MAX) {
        for (const [k, at] of seen) if (at < now.getTime() - REPLAY_WINDOW_MS) seen.delete(k);
        if (seen.size >= REPLAY_MAX) seen.clear();
      }
      seen.set(key, now.getTime());
      return claims;
    },

    async signAnswer(claims, body) {
      const { jws } = await signFederation(identity, { aud: claims.iss, req: claims.jti, bsha: bodyHash(body) }, opts.clock(), 120);
      return jws;
    },

    async trustPem(ownRootsPem) {
      const known = await peers.known();
      return [ownRootsPem.trimEnd(), ...known.map((k) => k.anchors.pem.trimEnd())].join('\n') + '\n';
    },

    async verifyPeerCertificate(pdf, o) {
      for (const peer of peers.list()) {
        const anchors = await peers.anchors(peer.city).catch(() => null);
        if (!anchors) continue;
        const v = verifyPdf(pdf, { roots: anchors.trust, tsaRoots: o.tsaRoots, now: o.now, maxBytes: o.maxBytes });
        if (v.subIndication === 'NO_CERTIFICATE_CHAIN_FOUND' || v.subIndication === 'FORMAT_FAILURE') continue;
        try {
          const entry = await client.register(peer.city, v.sha256);
          return applyRegister(v, entry, o.today);
        } catch (err) {
          opts.logger.warn({ city: peer.city, err: (err as Error).message }, 'register of the owning city could not be asked');
          return registerUnavailable(v);
        }
      }
      return null;
    },
  };
}
