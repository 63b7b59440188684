/**
 * buildApp: the Fastify application with its plugins and routes; it never listens (server.ts does, tests
 * use inject).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { installErrorHandler } from './http/error-handler.js';
import { applicationRoutes } from './http/routes/applications.js';
import { certificateRoutes } from './http/routes/certificates.js';
import { guidanceRoutes } from './http/routes/guidance.js';
import { matterRoutes } from './http/routes/matters.js';
import { opsRoutes } from './http/routes/ops.js';
import { verifyRoutes } from './http/routes/verify.js';
import type { HttpDeps } from './http/types.js';

export async function buildApp(deps: HttpDeps, logger?: FastifyBaseLogger): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: deps.config.bodyLimitBytes,
    genReqId: () => deps.newId(),
    requestIdHeader: false,
    ajv: {
      // Unknown properties must be rejected (400), never silently dropped; no type coercion of bodies.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: true },
    },
  });
  app.removeContentTypeParser('text/plain'); // JSON everywhere: text/plain → 415 REQUEST_MEDIA_TYPE, not a schema error
  app.decorateRequest('principal', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (_request, reply) => {
    deps.metrics.requests(reply.statusCode);
  });
  installErrorHandler(app);

  await app.register(swagger, {
    openapi: {
      info: { title: '秒批秒办 auto-approval API', version: '1.0.0', description: 'Filings, decisions and verifiable e-certificates.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  applicationRoutes(app, deps);
  certificateRoutes(app, deps);
  matterRoutes(app, deps);
  guidanceRoutes(app, deps);
  opsRoutes(app, deps);
  await app.register(verifyRoutes(deps));
  return app;
}
