/**
 * Bearer JWT authentication (DESIGN.md §6). Development: HS256 with AUTH_JWT_SECRET. Production: RS256/ES256
 * against the identity platform's JWKS or public key. Claims: sub, role, dept (admins), scope (consumers), aud, iss,
 * iat, exp — `aud`/`iss` must be the configured AUTH_AUDIENCE/AUTH_ISSUER, `iat` may not lie in the future (beyond
 * the clock skew) nor be older than AUTH_MAX_TOKEN_AGE_SECONDS, and `exp − iat` may not exceed that age either, so a
 * token that claims to live for ever (`exp: 1e20`) is refused rather than trusted until it is revoked by hand.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { JwtRefused, verifyJwtSync, type SyncJwtKey } from './jwt-sync.js';

/** `ops` (issue 17): the city's operators — /metrics in full and the queue dashboard; no filing or personal data. */
export type Role = 'applicant' | 'admin' | 'consumer' | 'supervisor' | 'ops';
export const ROLES: readonly Role[] = ['applicant', 'admin', 'consumer', 'supervisor', 'ops'];

export interface Principal {
  sub: string;
  role: Role;
  dept: string | null;
  scopes: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export type TokenVerifier = (token: string) => Promise<Principal>;

const SUBJECT = /^[0-9A-Za-z:_.-]{1,64}$/;

/** Longest bearer token read (characters of the compact JWS); a longer one is refused before any parsing. */
export const MAX_TOKEN_BYTES = 8192;
/** Clock difference tolerated between the issuer and this service, for `exp`, `nbf` and `iat`. */
export const CLOCK_SKEW_SECONDS = 30;

const CLAIM_MESSAGES: Record<string, string> = {
  aud: '令牌 aud 与本服务不符 Token claim aud does not name this service (AUTH_AUDIENCE)',
  iss: '令牌 iss 不是受信任的签发方 Token claim iss is not the configured issuer (AUTH_ISSUER)',
  iat: '令牌 iat 缺失、晚于当前时间或已超过最长有效期 Token claim iat is missing, in the future, or older than the maximum token age',
  exp: '令牌已过期 Token expired',
};

/** The claim a failure is about, for a message that says what to fix; null → the generic message. */
function claimOf(err: unknown): string | null {
  if (err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired) return err.claim;
  if (err instanceof JwtRefused) return err.claim;
  return null;
}

export function createTokenVerifier(auth: Config['auth'], clock: () => Date = () => new Date()): TokenVerifier {
  // Production refuses to start without them (production-check.ts); should a caller skip that, fail closed here.
  if (auth.audience === null) throw new Error('AUTH_AUDIENCE is not set: tokens cannot be checked for their audience');
  if (auth.issuer === null) throw new Error('AUTH_ISSUER is not set: tokens cannot be checked for their issuer');
  const { audience, issuer, maxTokenAgeSeconds } = auth;
  const claimOptions = { requiredClaims: ['sub', 'exp', 'iat'], audience, issuer, maxTokenAge: maxTokenAgeSeconds, clockTolerance: CLOCK_SKEW_SECONDS };
  // A key fixed at start is checked on this thread (./jwt-sync.ts); the identity platform's JWKS (rotating keys,
  // `kid`) through jose.
  let verifyToken: (token: string, now: Date) => Record<string, unknown> | Promise<Record<string, unknown>>;
  if (auth.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(auth.jwksUrl));
    verifyToken = async (token, now) => (await jwtVerify(token, jwks, { ...claimOptions, algorithms: ['RS256', 'ES256'], currentDate: now })).payload;
  } else if (auth.publicKeyPem) {
    const key = pinnedKey(createPublicKey(auth.publicKeyPem));
    verifyToken = (token, now) => verifyJwtSync(token, key, claimOptions, now);
  } else if (auth.jwtSecret) {
    const key: SyncJwtKey = { alg: 'HS256', secret: Buffer.from(auth.jwtSecret, 'utf8') };
    verifyToken = (token, now) => verifyJwtSync(token, key, claimOptions, now);
  } else {
    throw new Error('no token verification key configured');
  }
  return async (token) => {
    if (token.length > MAX_TOKEN_BYTES) throw new AppError('AUTH_TOKEN_TOO_LARGE');
    const now = clock();
    let payload: Record<string, unknown>;
    try {
      payload = await verifyToken(token, now);
    } catch (err) {
      // Claims are checked only after the signature held, so naming the claim tells a forger nothing.
      const claim = claimOf(err);
      const message = claim === null ? undefined : CLAIM_MESSAGES[claim];
      throw new AppError('AUTH_TOKEN_INVALID', message === undefined ? {} : { message });
    }
    const { sub, role, dept, scope, iat, exp } = payload;
    // iat and exp are numbers here (jose validated them); a lifetime above the maximum age is a token minted to outlive it.
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > maxTokenAgeSeconds + CLOCK_SKEW_SECONDS) {
      throw new AppError('AUTH_TOKEN_INVALID', {
        message: `令牌有效期超过上限 Token lifetime (exp − iat) exceeds the maximum of ${maxTokenAgeSeconds} s (AUTH_MAX_TOKEN_AGE_SECONDS)`,
      });
    }
    if (typeof sub !== 'string' || !SUBJECT.test(sub)) throw new AppError('AUTH_TOKEN_INVALID', { message: '令牌 sub 无效 Token claim sub is missing or malformed' });
    if (typeof role !== 'string' || !ROLES.includes(role as Role)) throw new AppError('AUTH_TOKEN_INVALID', { message: `令牌 role 无效 Token claim role must be one of ${ROLES.join(', ')}` });
    if (role === 'admin' && typeof dept !== 'string') throw new AppError('AUTH_TOKEN_INVALID', { message: '管理员令牌缺少 dept Admin tokens need the dept claim' });
    return {
      sub: sub.toUpperCase(),
      role: role as Role,
      dept: typeof dept === 'string' ? dept : null,
      scopes: typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [],
    };
  };
}

/** preHandler: authenticates and checks the role; the principal is on request.principal afterwards. */
export function requireRole(verify: TokenVerifier, roles: readonly Role[]) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (!header) throw new AppError('AUTH_TOKEN_MISSING');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) throw new AppError('AUTH_TOKEN_MISSING', { message: '授权头格式应为 Authorization: Bearer <JWT>' });
    const principal = await verify(m[1]);
    if (!roles.includes(principal.role)) throw new AppError('AUTH_ROLE_FORBIDDEN');
    request.principal = principal;
  };
}

/**
 * The JWS algorithm a configured public key verifies: RS256 for RSA of 2048 bits or more, ES256 for P-256. Any
 * other key is a configuration error, said at start rather than as every token refused.
 */
function pinnedKey(pub: KeyObject): SyncJwtKey {
  if (pub.asymmetricKeyType === 'rsa') {
    const bits = pub.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`AUTH_PUBLIC_KEY: an RSA key of ${bits} bits; RS256 needs 2048 or more`);
    return { alg: 'RS256', key: pub };
  }
  if (pub.asymmetricKeyType === 'ec' && pub.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { alg: 'ES256', key: pub };
  throw new Error(`AUTH_PUBLIC_KEY: a ${pub.asymmetricKeyType ?? 'unknown'} key; RS256 (RSA ≥ 2048 bits) or ES256 (P-256) expected`);
}
