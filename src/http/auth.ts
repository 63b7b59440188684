/**
 * Bearer JWT authentication (DESIGN.md §6). Development: HS256 with AUTH_JWT_SECRET. Production: RS256/ES256
 * against the identity platform's JWKS or public key. Claims: sub, role, dept (admins), scope (consumers), exp.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
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

export function createTokenVerifier(auth: Config['auth']): TokenVerifier {
  let key: KeyObject | JWTVerifyGetKey;
  let algorithms: string[];
  if (auth.jwksUrl) {
    key = createRemoteJWKSet(new URL(auth.jwksUrl));
    algorithms = ['RS256', 'ES256'];
  } else if (auth.publicKeyPem) {
    key = createPublicKey(auth.publicKeyPem);
    algorithms = ['RS256', 'ES256'];
  } else if (auth.jwtSecret) {
    key = createSecretKey(Buffer.from(auth.jwtSecret, 'utf8'));
    algorithms = ['HS256'];
  } else {
    throw new Error('no token verification key configured');
  }
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      const res = await jwtVerify(token, key as KeyObject, { algorithms, requiredClaims: ['sub', 'exp'], clockTolerance: 30 });
      payload = res.payload;
    } catch {
      throw new AppError('AUTH_TOKEN_INVALID');
    }
    const { sub, role, dept, scope } = payload;
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
