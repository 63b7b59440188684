/**
 * The peer city nodes (FEDERATION_PEERS) and the anchors this node trusts for each. A peer's anchors come from
 * FEDERATION_TRUST_DIR/CODE.pem when that file exists; otherwise they are fetched from the peer's
 * `GET /v1/trust?scope=own` on first contact (either direction) and pinned in the database — the first pin wins,
 * across processes and restarts, and a later change of the peer's anchors is not followed silently.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { trustAnchors, type TrustAnchors } from '../verification/verify-pdf.js';
import type { FederationRepository } from '../store/types.js';

export interface Peer {
  city: string;
  baseUrl: string;
}

export interface PeerAnchors {
  pem: string;
  certificates: X509Certificate[];
  /** The same anchors prepared for the PDF verifier. */
  trust: TrustAnchors;
  origin: 'file' | 'tofu';
  pinnedAt: string | null;
}

/** A peer could not be reached or did not answer as the contract says (a transient condition: retry). */
export class PeerUnavailableError extends Error {
  override name = 'PeerUnavailableError';
}

export interface PeerDirectory {
  readonly own: string;
  list(): readonly Peer[];
  get(city: string): Peer | undefined;
  /** The anchors of a configured peer (pinned now if this is the first contact); null for a city that is not a peer. */
  anchors(city: string): Promise<PeerAnchors | null>;
  /** The anchors known without contacting anyone (file or pinned), for the peers that have them. */
  known(): Promise<Array<{ peer: Peer; anchors: PeerAnchors }>>;
}

const MAX_TRUST_BYTES = 256 * 1024;

function parseAnchors(pem: string, origin: PeerAnchors['origin'], pinnedAt: string | null, what: string): PeerAnchors {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new PeerUnavailableError(`${what}: no PEM certificate`);
  const certificates = blocks.map((b) => new X509Certificate(b));
  // Only CA certificates anchor anything: a leaf offered as an "anchor" would let its key vouch for any name.
  if (!certificates.every((c) => c.ca)) throw new PeerUnavailableError(`${what}: every anchor must be a CA certificate`);
  const normalised = `${blocks.join('\n')}\n`;
  return { pem: normalised, certificates, trust: trustAnchors(normalised), origin, pinnedAt };
}

export function createPeerDirectory(opts: {
  own: string;
  peers: readonly Peer[];
  trustDir: string | null;
  store: Pick<FederationRepository, 'getPeer' | 'pinPeer'>;
  timeoutMs: number;
  clock: () => Date;
  fetch?: typeof fetch;
}): PeerDirectory {
  const byCity = new Map(opts.peers.map((p) => [p.city, p]));
  const cache = new Map<string, PeerAnchors>();
  const pending = new Map<string, Promise<PeerAnchors>>();
  const doFetch = opts.fetch ?? fetch;

  function fromFile(city: string): PeerAnchors | null {
    if (!opts.trustDir) return null;
    const file = path.join(opts.trustDir, `${city}.pem`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return parseAnchors(text, 'file', null, file);
  }

  async function pinFromPeer(peer: Peer): Promise<PeerAnchors> {
    const stored = await opts.store.getPeer(peer.city);
    if (stored) return parseAnchors(stored.anchorsPem, stored.origin, stored.pinnedAt, `pinned anchors of ${peer.city}`);
    let text: string;
    try {
      const res = await doFetch(`${peer.baseUrl}/v1/trust?scope=own`, { signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'error' });
      if (res.status !== 200) throw new PeerUnavailableError(`GET /v1/trust of ${peer.city} answered ${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.byteLength > MAX_TRUST_BYTES) throw new PeerUnavailableError(`/v1/trust of ${peer.city} is larger than ${MAX_TRUST_BYTES} bytes`);
      text = new TextDecoder().decode(bytes);
    } catch (err) {
      if (err instanceof PeerUnavailableError) throw err;
      throw new PeerUnavailableError(`cannot fetch /v1/trust of ${peer.city}: ${(err as Error).message}`);
    }
    const parsed = parseAnchors(text, 'tofu', null, `/v1/trust of ${peer.city}`);
    const pinned = await opts.store.pinPeer({ city: peer.city, baseUrl: peer.baseUrl, anchorsPem: parsed.pem, origin: 'tofu', pinnedAt: opts.clock().toISOString() });
    return parseAnchors(pinned.anchorsPem, pinned.origin, pinned.pinnedAt, `pinned anchors of ${peer.city}`);
  }

  async function anchors(city: string): Promise<PeerAnchors | null> {
    const peer = byCity.get(city);
    if (!peer) return null;
    const hit = cache.get(city);
    if (hit) return hit;
    let p = pending.get(city);
    if (!p) {
      const file = fromFile(city);
      p = file ? Promise.resolve(file) : pinFromPeer(peer);
      pending.set(city, p);
      void p.then(
        (a) => {
          cache.set(city, a);
          pending.delete(city);
        },
        () => pending.delete(city),
      );
    }
    return p;
  }

  return {
    own: opts.own,
    list: () => [...byCity.values()],
    get: (city) => byCity.get(city),
    anchors,
    async known() {
      const out: Array<{ peer: Peer; anchors: PeerAnchors }> = [];
      for (const peer of byCity.values()) {
        const hit = cache.get(peer.city) ?? fromFile(peer.city);
        if (hit) {
          out.push({ peer, anchors: hit });
          continue;
        }
        const stored = await opts.store.getPeer(peer.city);
        if (stored) out.push({ peer, anchors: parseAnchors(stored.anchorsPem, stored.origin, stored.pinnedAt, `pinned anchors of ${peer.city}`) });
      }
      return out;
    },
  };
}
