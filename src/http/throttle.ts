/**
 * Per-subject throttles on routes that answer about people or take files (issue 17 item 5): an onRequest hook, so a
 * throttled request is refused before its body is parsed or validated. The subject is the verified token's `sub`;
 * a request without a valid token is counted under its client IP (it is refused with 401 later anyway).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { TokenVerifier } from './auth.js';
import type { SubjectLimits } from './subject-limits.js';

/** `sub:<token subject>` or `ip:<client address>`. */
export async function subjectOf(request: FastifyRequest, verify: TokenVerifier): Promise<string> {
  if (request.principal) return `sub:${request.principal.sub}`;
  const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const principal = token ? await verify(token).catch(() => null) : null;
  return principal ? `sub:${principal.sub}` : `ip:${request.ip}`;
}

/** onRequest hook: at most `perMinute` requests of one subject per minute in `group`; 0 or no counters = no limit. */
export function subjectThrottle(deps: { verifyToken: TokenVerifier; limits?: SubjectLimits | undefined }, group: string, perMinute: number) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!deps.limits || perMinute <= 0) return;
    const subject = await subjectOf(request, deps.verifyToken);
    const res = await deps.limits.hit(group, subject, perMinute, 60_000);
    if (res.allowed) return;
    reply.header('retry-after', String(res.retryAfterSeconds));
    request.log.info({ group, count: res.count }, 'subject throttled');
    throw new AppError('SUBJECT_RATE_LIMITED', {
      message: `请求过于频繁：每个用户每分钟最多 ${perMinute} 次，请 ${res.retryAfterSeconds} 秒后再试 Too many requests from this user: at most ${perMinute} a minute; retry after ${res.retryAfterSeconds} s`,
    });
  };
}
