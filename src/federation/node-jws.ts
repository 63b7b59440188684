/**
 * Node-to-node authentication (都市圈通办): every request between city nodes carries
 * `Authorization: Federation <compact JWS>`, and every answer a `Federation-Signature: <compact JWS>` header.
 * The JWS is signed by the sending node's key; its `x5c` certificate must chain to the anchors this node pinned
 * for the claimed city and name that city in its subject serialNumber. No shared secret.
 *
 * Claims: iss (sender city), aud (receiver city), iat, exp (≤ 10 min after iat), jti, bsha (base64url SHA-256 of
 * the body, empty body included), and for requests htm + htu (method and path), for answers req (the request's jti).
 */
import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import type { NodeIdentity } from './node-identity.js';
import { subjectSerialNumber } from './node-identity.js';

export const FEDERATION_JWS_TYP = 'miaopi-federation+jws';
const MAX_LIFETIME_S = 600;
const CLOCK_SKEW_S = 120;
const MAX_CHAIN = 5;

export interface FederationClaims {
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  bsha: string;
  htm?: string;
  htu?: string;
  req?: string;
}

/** A request or answer that did not authenticate; `reason` is for logs, never for the caller. */
export class FederationAuthError extends Error {
  override name = 'FederationAuthError';
}

export function bodyHash(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('base64url');
}

export async function signFederation(
  identity: NodeIdentity,
  claims: Omit<FederationClaims, 'iss' | 'iat' | 'exp' | 'jti'> & { jti?: string },
  now: Date,
  lifetimeS = 300,
): Promise<{ jws: string; jti: string }> {
  const iat = Math.floor(now.getTime() / 1000);
  const jti = claims.jti ?? randomUUID();
  const payload: FederationClaims = { ...claims, iss: identity.city, iat, exp: iat + lifetimeS, jti };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: identity.alg, typ: FEDERATION_JWS_TYP, x5c: identity.x5c })
    .sign(identity.key);
  return { jws, jti };
}

/** Where a verifier finds the anchors pinned for a city; null = not a peer of this node. */
export type AnchorLookup = (city: string) => Promise<readonly X509Certificate[] | null>;

function unverifiedIssuer(jws: string): string {
  const part = jws.split('.')[1];
  if (!part) throw new FederationAuthError('not a compact JWS');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new FederationAuthError('payload is not JSON');
  }
  const iss = (payload as { iss?: unknown } | null)?.iss;
  if (typeof iss !== 'string' || !/^\d{6}$/.test(iss)) throw new FederationAuthError('iss is not a city code');
  return iss;
}

/** The x5c chain, leaf first, up to one of `anchors`; every certificate valid at `now`. Returns the leaf. */
function chainToAnchors(x5c: unknown, anchors: readonly X509Certificate[], now: Date): X509Certificate {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_CHAIN || !x5c.every((c) => typeof c === 'string')) {
    throw new FederationAuthError('x5c must be 1–5 base64 certificates');
  }
  let certs: X509Certificate[];
  try {
    certs = (x5c).map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch {
    throw new FederationAuthError('x5c holds a certificate that does not parse');
  }
  const valid = (c: X509Certificate) => Date.parse(c.validFrom) <= now.getTime() && now.getTime() <= Date.parse(c.validTo);
  const signs = (child: X509Certificate, parent: X509Certificate) => child.checkIssued(parent) && child.verify(parent.publicKey);
  let cur = certs[0]!;
  for (let depth = 0; depth <= MAX_CHAIN; depth++) {
    if (!valid(cur)) throw new FederationAuthError('a certificate of the chain is outside its validity');
    if (anchors.some((a) => valid(a) && (a.raw.equals(cur.raw) ? depth > 0 : signs(cur, a)))) return certs[0]!;
    const next = certs.find((c) => c !== cur && c.ca && signs(cur, c));
    if (!next) break;
    cur = next;
  }
  throw new FederationAuthError('the signing certificate does not chain to the anchors pinned for this city');
}

export interface VerifyOptions {
  /** This node's city: the only accepted `aud`. */
  audience: string;
  anchors: AnchorLookup;
  now: Date;
  /** The body's exact bytes (their hash must be `bsha`). */
  body: Uint8Array | string;
  /** For requests: the method and path the request arrived with. */
  request?: { method: string; path: string };
  /** For answers: the jti of the request answered. */
  answers?: string;
  /** Only this city may have signed (an answer comes from the peer asked). */
  expectIssuer?: string;
}

/** Verifies a federation JWS; throws FederationAuthError with the reason, returns the claims otherwise. */
export async function verifyFederation(jws: string, opts: VerifyOptions): Promise<FederationClaims> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new FederationAuthError('protected header does not decode');
  }
  if (header.typ !== FEDERATION_JWS_TYP) throw new FederationAuthError(`typ must be ${FEDERATION_JWS_TYP}`);
  if (header.alg !== 'RS256' && header.alg !== 'ES256') throw new FederationAuthError('alg must be RS256 or ES256');
  const iss = unverifiedIssuer(jws);
  if (opts.expectIssuer !== undefined && iss !== opts.expectIssuer) throw new FederationAuthError(`signed by ${iss}, expected ${opts.expectIssuer}`);
  const anchors = await opts.anchors(iss);
  if (anchors === null) throw new FederationAuthError(`${iss} is not a peer of this node`);
  const leaf = chainToAnchors(header.x5c, anchors, opts.now);
  if (subjectSerialNumber(leaf) !== iss) throw new FederationAuthError(`the node certificate does not name city ${iss}`);
  let payload: FederationClaims;
  try {
    const res = await compactVerify(jws, leaf.publicKey, { algorithms: [header.alg] });
    payload = JSON.parse(new TextDecoder().decode(res.payload)) as FederationClaims;
  } catch {
    throw new FederationAuthError('signature does not verify');
  }
  const now = Math.floor(opts.now.getTime() / 1000);
  if (payload.aud !== opts.audience) throw new FederationAuthError(`aud is ${String(payload.aud)}, not this node`);
  if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number' || payload.exp - payload.iat > MAX_LIFETIME_S) throw new FederationAuthError('iat/exp missing or too far apart');
  if (payload.iat > now + CLOCK_SKEW_S || payload.exp < now - CLOCK_SKEW_S) throw new FederationAuthError('expired or not yet valid');
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 100) throw new FederationAuthError('jti missing');
  if (payload.bsha !== bodyHash(opts.body)) throw new FederationAuthError('body hash does not match');
  if (opts.request && (payload.htm !== opts.request.method || payload.htu !== opts.request.path)) throw new FederationAuthError('signed for another method or path');
  if (opts.answers !== undefined && payload.req !== opts.answers) throw new FederationAuthError('answer to another request');
  return payload;
}
