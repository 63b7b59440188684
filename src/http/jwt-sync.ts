/**
 * Compact JWT verification on the request's own thread, for a key fixed at start (AUTH_JWT_SECRET, or
 * AUTH_PUBLIC_KEY: RSA ≥ 2048 bits or P-256). jose verifies through WebCrypto, whose every call is a job on
 * libuv's thread pool; at intake that hop cost more than the verification (API profile: ~0.4 ms per filing in the
 * job's promise, against ~5 µs for HS256 and ~60 µs for ES256 here). The checks and their order are jose's
 * `jwtVerify` with the options auth.ts passes (test/unit/http/jwt-sync.test.ts compares the two on a corpus of
 * good and bad tokens); the remote JWKS path (key rotation, `kid`) stays with jose.
 */
import { createHmac, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';

/** A refused token; `claim` names the claim at fault once the signature held (null: the token itself). */
export class JwtRefused extends Error {
  constructor(
    message: string,
    readonly claim: string | null = null,
  ) {
    super(message);
    this.name = 'JwtRefused';
  }
}

export type SyncJwtKey = { alg: 'HS256'; secret: Buffer } | { alg: 'RS256' | 'ES256'; key: KeyObject };

export interface SyncJwtOptions {
  /** Claims that must be present (jose's requiredClaims). */
  requiredClaims: readonly string[];
  audience: string;
  issuer: string;
  /** Seconds; iat must be within this of now. */
  maxTokenAge: number;
  /** Seconds of clock skew allowed on exp, nbf and iat. */
  clockTolerance: number;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeSegment(s: string, what: string): Buffer {
  // base64url without padding or whitespace; a length of 1 mod 4 is no encoding at all.
  if (!SEGMENT.test(s) || s.length % 4 === 1) throw new JwtRefused(`the ${what} is not base64url`);
  return Buffer.from(s, 'base64url');
}

/** A plain JSON object (jose's isObject), not an array, null or a primitive. */
function plainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.prototype.toString.call(v) !== '[object Object]') return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    throw new JwtRefused(`the ${what} is not JSON`);
  }
  if (!plainObject(parsed)) throw new JwtRefused(`the ${what} is not a JSON object`);
  return parsed;
}

function signatureHolds(key: SyncJwtKey, input: Buffer, sig: Buffer): boolean {
  if (key.alg === 'HS256') {
    const mac = createHmac('sha256', key.secret).update(input).digest();
    return sig.length === mac.length && timingSafeEqual(sig, mac);
  }
  if (key.alg === 'ES256') return sig.length === 64 && verifySignature('sha256', input, { key: key.key, dsaEncoding: 'ieee-p1363' }, sig);
  return verifySignature('sha256', input, key.key, sig);
}

function numericDate(claims: Record<string, unknown>, claim: string, required: boolean): number | undefined {
  const v = claims[claim];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number') throw new JwtRefused(`"${claim}" claim must be a number`, claim);
  return v;
}

/** The verified claims of `token`, or JwtRefused. */
export function verifyJwtSync(token: string, key: SyncJwtKey, opts: SyncJwtOptions, now: Date): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtRefused('not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(decodeSegment(h, 'header'), 'header');
  // crit: jose recognises b64 alone, which a JWT must not turn off.
  if (header['crit'] !== undefined) {
    const crit = header['crit'];
    if (!Array.isArray(crit) || crit.length === 0 || crit.some((c) => typeof c !== 'string' || c.length === 0)) throw new JwtRefused('crit is malformed');
    if (crit.some((c) => c !== 'b64')) throw new JwtRefused('crit names an extension not supported');
    if (header['b64'] === undefined) throw new JwtRefused('crit names b64, which is missing');
    if (typeof header['b64'] !== 'boolean') throw new JwtRefused('b64 must be a boolean');
    if (header['b64'] === false) throw new JwtRefused('JWTs must not use an unencoded payload');
  }
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg.length === 0) throw new JwtRefused('alg is missing');
  if (alg !== key.alg) throw new JwtRefused('alg not allowed');
  const signature = decodeSegment(s, 'signature');
  const payloadBytes = decodeSegment(p, 'payload');
  if (!signatureHolds(key, Buffer.from(`${h}.${p}`, 'latin1'), signature)) throw new JwtRefused('signature verification failed');

  const claims = parseJson(payloadBytes, 'claims set');
  for (const claim of new Set([...opts.requiredClaims, 'iat', 'aud', 'iss'].reverse())) {
    if (!Object.hasOwn(claims, claim)) throw new JwtRefused(`missing required "${claim}" claim`, claim);
  }
  if (claims['iss'] !== opts.issuer) throw new JwtRefused('unexpected "iss" claim value', 'iss');
  const aud = claims['aud'];
  if (!(typeof aud === 'string' ? aud === opts.audience : Array.isArray(aud) && aud.includes(opts.audience))) {
    throw new JwtRefused('unexpected "aud" claim value', 'aud');
  }
  const tolerance = opts.clockTolerance;
  const t = Math.floor(now.getTime() / 1000);
  const iat = numericDate(claims, 'iat', true)!;
  const nbf = numericDate(claims, 'nbf', false);
  if (nbf !== undefined && nbf > t + tolerance) throw new JwtRefused('"nbf" claim timestamp check failed', 'nbf');
  const exp = numericDate(claims, 'exp', false);
  if (exp !== undefined && exp <= t - tolerance) throw new JwtRefused('"exp" claim timestamp check failed', 'exp');
  const age = t - iat;
  if (age - tolerance > opts.maxTokenAge) throw new JwtRefused('"iat" claim timestamp check failed (too far in the past)', 'iat');
  if (age < -tolerance) throw new JwtRefused('"iat" claim timestamp check failed (it should be in the past)', 'iat');
  return claims;
}
