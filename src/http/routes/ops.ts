/**
 * Liveness, readiness (database + Redis) and Prometheus metrics. /metrics (issue 17): in full for the operators —
 * a JWT with role `ops`, or the scraper's METRICS_TOKEN as bearer; a department admin sees only its department's
 * matters; anyone else is refused.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';
import { figuresExposition } from './stats.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** `all` for operators and the scraper's token, the admin's department's matters, or a refusal. */
async function metricsView(deps: HttpDeps, request: FastifyRequest): Promise<{ matters: string[] } | 'all'> {
  const header = request.headers.authorization;
  if (!header) throw new AppError('AUTH_TOKEN_MISSING');
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!token) throw new AppError('AUTH_TOKEN_MISSING', { message: '授权头格式应为 Authorization: Bearer <JWT 或 METRICS_TOKEN>' });
  const configured = deps.config.metricsToken;
  // Compared as digests: equal length, constant time, whatever was sent.
  if (configured !== null && timingSafeEqual(digest(token), digest(configured))) return 'all';
  const p = await deps.verifyToken(token);
  request.principal = p;
  if (p.role === 'ops') return 'all';
  if (p.role === 'admin' && p.dept !== null) {
    return { matters: [...deps.catalog.matters.values()].filter((m) => m.def.department.code === p.dept).map((m) => m.def.code).sort() };
  }
  throw new AppError('AUTH_ROLE_FORBIDDEN', { message: '指标仅对运维角色（ops）和本部门管理员开放 /metrics is for the ops role, the METRICS_TOKEN scraper and department admins (their own figures)' });
}

export function opsRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  app.get('/healthz', { schema: { hide: true }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    const timeout = <T>(p: Promise<T>) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
    const [db, redis] = await Promise.allSettled([timeout(deps.store.ping()), timeout(deps.redis.ping())]);
    const checks = { database: db.status === 'fulfilled' ? 'ok' : 'down', redis: redis.status === 'fulfilled' ? 'ok' : 'down' };
    const ready = checks.database === 'ok' && checks.redis === 'ok';
    if (!ready) void reply.header('retry-after', '5');
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => {
    const view = await metricsView(deps, request);
    const text =
      view === 'all'
        ? deps.metrics.render({}) + (await figuresExposition(deps))
        : deps.metrics.render({}, { matters: new Set(view.matters) }) + (await figuresExposition(deps, { matters: view.matters }));
    return reply.type('text/plain; version=0.0.4').header('cache-control', 'no-store').send(text);
  });
}
