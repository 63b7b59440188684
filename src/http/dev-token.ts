/**
 * Development HS256 tokens shaped as the verifier wants them (auth.ts): `aud`, `iss`, `iat` and an `exp` within the
 * maximum token age. One minting place for the token CLI, the portal's dev sign-in and the test helpers, so a new
 * claim rule cannot leave one of them behind.
 */
import { SignJWT } from 'jose';
import { DEV_AUTH_AUDIENCE, DEV_AUTH_ISSUER } from '../config.js';

export interface DevTokenOptions {
  /** Seconds from `now` to `exp` (default one hour). */
  ttlSeconds?: number;
  /** The token's `iat` (default: the current time). */
  now?: Date;
  /** Default DEV_AUTH_AUDIENCE; pass the configured AUTH_AUDIENCE where one is set. */
  audience?: string | null;
  /** Default DEV_AUTH_ISSUER; pass the configured AUTH_ISSUER where one is set. */
  issuer?: string | null;
}

/** Signs `claims` (role, dept, scope, …) for `sub` with the HS256 `secret`. */
export function signDevToken(secret: string, sub: string, claims: Record<string, unknown>, o: DevTokenOptions = {}): Promise<string> {
  const iat = Math.floor((o.now ?? new Date()).getTime() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setAudience(o.audience ?? DEV_AUTH_AUDIENCE)
    .setIssuer(o.issuer ?? DEV_AUTH_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (o.ttlSeconds ?? 3600))
    .sign(new TextEncoder().encode(secret));
}
