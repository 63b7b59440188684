/**
 * The development e-seal authority: what answers the e-seal platform contract (./contract.ts) when ESEAL_URL is
 * not set — the embedded default, tests — and what the stand-in server (src/standins/eseal-server.ts) serves over
 * HTTP. Never used in production mode (src/production-check.ts refuses to start without ESEAL_URL).
 *
 * Seals live in a store (the service's database: one row per enterprise or person, never a file each); keys are
 * EC P-256 from a pool filled in the background (./key-pool.ts) and seal certificates are written in DER and signed
 * by the development e-seal CA in microseconds (../seal-certificate.ts), so a new enterprise costs a filing about a
 * tenth of a millisecond instead of an RSA key generation (~180 ms).
 */
import { createHash, createPrivateKey, sign as cryptoSign, timingSafeEqual, type JsonWebKey, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import type { Party } from '../../documents/types.js';
import { issueSealCertificate, type IssuingCa } from '../seal-certificate.js';
import type { ESealPlatform, Seal, SealLookup, SealStatus, SignRequest, SignResult } from './contract.js';
import { KeyPool, type KeyPoolStats } from './key-pool.js';

/** A stored seal: what the platform knows, including its key (the platform's secret, not the service's). */
export interface StoredSeal {
  code: string;
  sealId: string;
  name: string;
  status: SealStatus;
  validUntil: string;
  certificate: Uint8Array;
  privateKey: Uint8Array;
  createdAt: string;
}

/** Where the authority keeps seals: the service's database (Store.eseals) or the stand-in's memory. */
export interface SealStore {
  get(code: string): Promise<StoredSeal | null>;
  /** Inserts unless one exists for the code; returns the stored one. */
  put(seal: StoredSeal): Promise<StoredSeal>;
  setStatus(code: string, status: SealStatus): Promise<boolean>;
}

export interface DevelopmentAuthorityOptions {
  store: SealStore;
  ca: IssuingCa;
  clock?: () => Date;
  /** Years a new seal is valid (capped by the CA's own validity). Default 5. */
  validityYears?: number;
  poolSize?: number;
  /** Start making keys at once (default true); false waits for warm() or the first enrolment (API processes). */
  prefill?: boolean;
  /**
   * Seals kept parsed in memory (with their keys). Default 1 000: a seal is used within a filing (look-up, then
   * sign) and by an enterprise's next filing much later, so more holds memory (~3 KB each, mostly OpenSSL's
   * key) for few hits; a miss is one indexed read.
   */
  cacheSize?: number;
}

interface Entry {
  seal: Seal;
  key: KeyObject;
  /** Raw scalar for prehash signing (HTTP stand-in), made on first need. */
  scalar?: Uint8Array;
}

export interface DevelopmentAuthority extends ESealPlatform {
  readonly kind: 'development';
  /** Issues a seal for `party` unless it has one; returns it (enrolment is what a real platform does on application). */
  enrol(party: Party): Promise<Seal>;
  setStatus(code: string, status: SealStatus): Promise<boolean>;
  keyStats(): KeyPoolStats;
  /** Resolves once the key pool is full (benchmarks, tests). */
  warm(timeoutMs?: number): Promise<boolean>;
}

export function createDevelopmentAuthority(opts: DevelopmentAuthorityOptions): DevelopmentAuthority {
  const clock = opts.clock ?? (() => new Date());
  const pool = new KeyPool(opts.poolSize ?? 64, opts.prefill ?? true);
  const cacheSize = Math.max(1, opts.cacheSize ?? 1_000);
  const cache = new Map<string, Entry>();
  const caChain = new Uint8Array(opts.ca.certificate);

  function remember(code: string, e: Entry): Entry {
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
    cache.set(code, e);
    return e;
  }

  function toEntry(row: StoredSeal, key?: KeyObject): Entry {
    return {
      seal: {
        code: row.code,
        sealId: row.sealId,
        name: row.name,
        status: row.status,
        validUntil: row.validUntil,
        chain: [row.certificate, caChain],
        keyType: 'ec',
      },
      key: key ?? importKey(row.privateKey),
    };
  }

  async function entry(code: string): Promise<Entry | null> {
    const hit = cache.get(code);
    if (hit) return hit;
    const row = await opts.store.get(code);
    return row === null ? null : remember(code, toEntry(row));
  }

  return {
    kind: 'development',
    async lookup(code): Promise<SealLookup> {
      const e = await entry(code);
      return e === null ? { kind: 'none' } : { kind: 'found', seal: e.seal };
    },

    async enrol(party) {
      // A look-up that found nothing usually came just before: the cache answers for a seal made since, and the
      // insert below (insert-or-keep) settles a race with another process.
      const have = cache.get(party.code);
      if (have) return have.seal;
      const { privateKey } = pool.take();
      // JWK, not PKCS#8/SPKI: OpenSSL 3's encoders and decoders cost ~0.1–0.7 ms a key, its JWK path microseconds.
      const jwk = privateKey.export({ format: 'jwk' });
      const now = clock();
      const notAfter = new Date(now);
      notAfter.setUTCFullYear(notAfter.getUTCFullYear() + (opts.validityYears ?? 5));
      const issued = issueSealCertificate(opts.ca, {
        holder: party,
        publicKey: p256Spki(jwk),
        notBefore: new Date(now.getTime() - 5 * 60_000),
        notAfter,
      });
      const stored = await opts.store.put({
        code: party.code,
        sealId: `DEV-${createHash('sha256').update(issued.der).digest('hex').slice(0, 20).toUpperCase()}`,
        name: party.name,
        status: '有效',
        validUntil: issued.notAfter.toISOString().slice(0, 10),
        certificate: new Uint8Array(issued.der),
        privateKey: new Uint8Array(Buffer.from(JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d }), 'utf8')),
        createdAt: now.toISOString(),
      });
      // A concurrent enrolment may have stored its own seal first: use whatever is stored (and its key).
      return remember(party.code, toEntry(stored, stored.sealId === `DEV-${createHash('sha256').update(issued.der).digest('hex').slice(0, 20).toUpperCase()}` ? privateKey : undefined)).seal;
    },

    async sign(code, req: SignRequest): Promise<SignResult> {
      const e = await entry(code);
      if (e === null) return { ok: false, error: `no seal for ${code}` };
      if (e.seal.sealId !== req.sealId) return { ok: false, error: `sealId ${req.sealId} is not the seal of ${code}` };
      if (e.seal.status !== '有效') return { ok: false, error: `seal status is ${e.seal.status}` };
      if (req.digestAlgorithm !== 'sha256') return { ok: false, error: `digestAlgorithm ${req.digestAlgorithm} is not supported by this seal (EC P-256 / SHA-256)` };
      if (req.digest.length !== 32) return { ok: false, error: 'digest must be 32 bytes (SHA-256)' };
      if (!req.authorization.applicationId || !req.authorization.purpose) return { ok: false, error: 'authorization needs applicationId and purpose' };
      if (req.data) {
        const h = createHash('sha256').update(req.data).digest();
        if (!timingSafeEqual(h, Buffer.from(req.digest))) return { ok: false, error: 'data does not hash to digest' };
        return { ok: true, signature: new Uint8Array(cryptoSign('sha256', req.data, e.key)), algorithm: 'ecdsa-with-SHA256' };
      }
      // Only the digest (the HTTP contract): ECDSA over the given hash.
      e.scalar ??= Buffer.from(e.key.export({ format: 'jwk' }).d as string, 'base64url');
      const sig = p256.sign(req.digest, e.scalar, { prehash: false, lowS: false });
      return { ok: true, signature: sig.toDERRawBytes(), algorithm: 'ecdsa-with-SHA256' };
    },

    async setStatus(code, status) {
      cache.delete(code);
      return opts.store.setStatus(code, status);
    },

    keyStats: () => pool.stats(),
    warm: (timeoutMs) => pool.ready(undefined, timeoutMs),
    async close() {
      pool.close();
      cache.clear();
    },
  };
}

const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** SPKI DER of a P-256 public key from its JWK coordinates (what OpenSSL would encode, without its encoder). */
function p256Spki(jwk: JsonWebKey): Buffer {
  return Buffer.concat([P256_SPKI_PREFIX, Buffer.from([0x04]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

/** A stored key: JWK JSON (current) or PKCS#8 DER (seals stored by earlier versions). */
function importKey(bytes: Uint8Array): KeyObject {
  const b = Buffer.from(bytes);
  if (b[0] === 0x7b) return createPrivateKey({ key: JSON.parse(b.toString('utf8')) as JsonWebKey, format: 'jwk' });
  return createPrivateKey({ key: b, format: 'der', type: 'pkcs8' });
}

/** The authority over the service's database (Store.eseals). */
export function databaseSealStore(eseals: {
  devGet(code: string): Promise<StoredSeal | null>;
  devPut(row: StoredSeal): Promise<StoredSeal>;
  devSetStatus(code: string, status: SealStatus): Promise<boolean>;
}): SealStore {
  return { get: (c) => eseals.devGet(c), put: (r) => eseals.devPut(r), setStatus: (c, s) => eseals.devSetStatus(c, s) };
}

/** Seals in memory (the HTTP stand-in, tests). */
export function memorySealStore(): SealStore & { rows: Map<string, StoredSeal> } {
  const rows = new Map<string, StoredSeal>();
  return {
    rows,
    async get(code) {
      return rows.get(code) ?? null;
    },
    async put(seal) {
      const have = rows.get(seal.code);
      if (have) return have;
      rows.set(seal.code, seal);
      return seal;
    },
    async setStatus(code, status) {
      const have = rows.get(code);
      if (!have) return false;
      rows.set(code, { ...have, status });
      return true;
    },
  };
}
