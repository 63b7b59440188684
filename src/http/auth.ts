/**
 * Bearer JWT authentication (DESIGN.md §6). Development: HS256 with AUTH_JWT_SECRET. Production: RS256/ES256
 * against the identity platform's JWKS or public key. Claims: sub, role, dept (admins), scope (consumers), aud, iss,
 * iat, exp — `aud`/`iss` must be the configured AUTH_AUDIENCE/AUTH_ISSUER, `iat` may not lie in the future (beyond
 * the clock skew) nor be older than AUTH_MAX_TOKEN_AGE_SECONDS, and `exp − iat` may not exceed that age either, so a
 * token that claims to live for ever (`exp: 1e20`) is refused rather than trusted until it is revoked by hand.
 */
import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';

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

/** The claim a jose failure is about, for a message that says what to fix; null → the generic message. */
function claimOf(err: unknown): string | null {
  if (err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired) return err.claim;
  return null;
}

export function createTokenVerifier(auth: Config['auth'], clock: () => Date = () => new Date()): TokenVerifier {
  // Production refuses to start without them (production-check.ts); should a caller skip that, fail closed here.
  if (auth.audience === null) throw new Error('AUTH_AUDIENCE is not set: tokens cannot be checked for their audience');
  if (auth.issuer === null) throw new Error('AUTH_ISSUER is not set: tokens cannot be checked for their issuer');
  const { audience, issuer, maxTokenAgeSeconds } = auth;
  let key: KeyObject | JWTVerifyGetKey | Promise<webcrypto.CryptoKey>;
  let algorithms: string[];
  if (auth.jwksUrl) {
    key = createRemoteJWKSet(new URL(auth.jwksUrl));
    algorithms = ['RS256', 'ES256'];
  } else if (auth.publicKeyPem) {
    const pub = createPublicKey(auth.publicKeyPem);
    const web = webCryptoAlgorithm(pub);
    // A WebCrypto key imported once: jose converts a KeyObject on every call (measured: ~90 vs ~40 µs per verify).
    key = web ? importPublic(pub, web.import) : pub;
    algorithms = web ? [web.jws] : ['RS256', 'ES256'];
  } else if (auth.jwtSecret) {
    key = webcrypto.subtle.importKey('raw', Buffer.from(auth.jwtSecret, 'utf8'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    algorithms = ['HS256'];
  } else {
    throw new Error('no token verification key configured');
  }
  // An import that fails is a configuration error: it surfaces on the first request as a 500, not as a refused token.
  if (key instanceof Promise) key.catch(() => undefined);
  return async (token) => {
    if (token.length > MAX_TOKEN_BYTES) throw new AppError('AUTH_TOKEN_TOO_LARGE');
    const now = clock();
    let payload: Record<string, unknown>;
    try {
      const res = await jwtVerify(token, key instanceof Promise ? await key : (key as KeyObject), {
        algorithms,
        requiredClaims: ['sub', 'exp', 'iat'],
        audience,
        issuer,
        maxTokenAge: maxTokenAgeSeconds,
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: now,
      });
      payload = res.payload;
    } catch (err) {
      // jose checks claims only after the signature held, so naming the claim tells a forger nothing.
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

/** The JWS algorithm and WebCrypto import parameters of an RSA or P-256 public key; null for any other key. */
function webCryptoAlgorithm(pub: KeyObject): { jws: 'RS256' | 'ES256'; import: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams } | null {
  if (pub.asymmetricKeyType === 'rsa') return { jws: 'RS256', import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
  if (pub.asymmetricKeyType === 'ec' && pub.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { jws: 'ES256', import: { name: 'ECDSA', namedCurve: 'P-256' } };
  return null;
}

function importPublic(pub: KeyObject, params: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('spki', pub.export({ type: 'spki', format: 'der' }), params, false, ['verify']);
}
