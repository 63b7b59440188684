/** Liveness, readiness (database + Redis) and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../types.js';
import { figuresExposition } from './stats.js';

export function opsRoutes(app: FastifyInstance, deps: HttpDeps): void {
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

  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) =>
    reply.type('text/plain; version=0.0.4').send(deps.metrics.render({}) + (await figuresExposition(deps))),
  );
}
