/**
 * buildApp: the Fastify application with its plugins and routes; it never listens (server.ts does, tests
 * use inject).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { boundsViolation, unboundedPlaces } from './catalog/bounded-schema.js';
import { AppError, ERRORS, fieldErrors } from './errors.js';
import { installErrorHandler } from './http/error-handler.js';
import { installJsonDepthLimit } from './http/json-depth.js';
import { installTextGuard } from './http/text-guard.js';
import { adminRoutes } from './http/routes/admin.js';
import { applicationRoutes } from './http/routes/applications.js';
import { archiveRoutes } from './http/routes/archive.js';
import { reviewMaterialRoutes } from './http/routes/review-materials.js';
import { consentRoutes } from './http/routes/consents.js';
import { dataAccessRoutes } from './http/routes/data-access.js';
import { statsRoutes } from './http/routes/stats.js';
import { myApplicationRoutes } from './http/routes/my-applications.js';
import { regionRoutes } from './http/routes/regions.js';
import { certificateListRoutes } from './http/routes/certificate-list.js';
import { certificateRoutes } from './http/routes/certificates.js';
import { ofdRoutes } from './http/routes/ofd.js';
import { eventRoutes } from './http/routes/events.js';
import { federationRoutes } from './http/routes/federation.js';
import { guidanceRoutes } from './http/routes/guidance.js';
import { matterRoutes } from './http/routes/matters.js';
import { opsRoutes } from './http/routes/ops.js';
import { portalRoutes } from './http/routes/portal.js';
import { proofRoutes } from './http/routes/proofs.js';
import { queueBoardRoutes } from './http/routes/queue-board.js';
import { verifyRoutes } from './http/routes/verify.js';
import { webhookRoutes } from './http/routes/webhooks.js';
import { bundleRoutes } from './http/routes/bundles.js';
import type { HttpDeps } from './http/types.js';
import { finishOpenApi } from './http/openapi.js';

export async function buildApp(deps: HttpDeps, logger?: FastifyBaseLogger): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: deps.config.bodyLimitBytes,
    genReqId: () => deps.newId(),
    requestIdHeader: false,
    // Issue 17: the router's own refusals (an ill-formed %-escape, a path parameter over maxParamLength) answer in
    // the §6 shape like every other 4xx; the URL is not echoed (it may carry an ID number).
    frameworkErrors: (_error, request, reply) => {
      void (reply as FastifyReply).status(400).send({
        code: 'REQUEST_VALIDATION',
        message: ERRORS.REQUEST_VALIDATION.message,
        requestId: request.id,
        errors: [{ path: '/url', message: '网址含有格式错误的编码或过长的参数 The URL has an ill-formed %-escape or an over-long parameter' }],
      });
    },
    ajv: {
      // Unknown properties must be rejected (400), never silently dropped; no type coercion of bodies.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: true },
    },
  });
  app.removeContentTypeParser('text/plain'); // JSON everywhere: text/plain → 415 REQUEST_MEDIA_TYPE, not a schema error
  installJsonDepthLimit(app);
  app.decorateRequest('principal', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (_request, reply) => {
    deps.metrics.requests(reply.statusCode);
  });
  installErrorHandler(app);
  // Issue 17: request bodies are measured against their schema's bounds before ajv (allErrors) walks them, and a
  // route whose body schema has an array without maxItems is refused at start-up.
  app.addHook('onRoute', (route) => {
    const places = unboundedPlaces(route.schema?.body, '', { strings: false });
    if (places.length > 0) throw new Error(`${route.method.toString()} ${route.url}: request body schema is unbounded: ${places.join('; ')}`);
  });
  installTextGuard(app);
  app.addHook('preValidation', async (request) => {
    const over = boundsViolation(request.routeOptions.schema?.body, request.body);
    if (over) throw new AppError('REQUEST_VALIDATION', { errors: fieldErrors([over]) });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: '秒批秒办 auto-approval API', version: '1.0.0', description: 'Filings, decisions and verifiable e-certificates.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    // Issue 18: described responses, named schemas, form schemas linked and the error-code table (src/http/openapi.ts).
    transformObject: (o) => ('openapiObject' in o ? finishOpenApi(o.openapiObject, deps.catalog) : o.swaggerObject),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Routes read params, querystring and body as their TypeBox schemas type them (no casts); the same instance.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  applicationRoutes(api, deps);
  certificateRoutes(api, deps);
  ofdRoutes(api, deps); // issue 15: OFD certificates (国密)
  matterRoutes(api, deps);
  guidanceRoutes(api, deps);
  opsRoutes(api, deps);
  await app.register(verifyRoutes(deps));
  // Issue 8: downstream access, live status, the portal and admin console pages, the queue dashboard.
  certificateListRoutes(api, deps);
  myApplicationRoutes(api, deps); // issue 18: 我的办件
  regionRoutes(api, deps); // issue 18: district picker
  webhookRoutes(api, deps);
  eventRoutes(api, deps);
  await app.register(portalRoutes(deps));
  if (deps.boardQueues) await app.register(queueBoardRoutes(deps, deps.boardQueues));
  await app.register(adminRoutes(deps));
  await app.register(reviewMaterialRoutes(deps)); // issue 18: the reviewer opens the filing's materials
  // Issue 4: consents, data-access records, the applicant's archive, supervision figures.
  consentRoutes(api, deps);
  dataAccessRoutes(api, deps);
  await app.register(archiveRoutes(deps));
  statsRoutes(api, deps);
  // Issue 14: 一件事 bundles.
  await app.register(bundleRoutes(deps));
  // Issue 16: 都市圈通办 between city nodes, 证明 with 授权查验.
  if (deps.federation) await app.register(federationRoutes(deps, deps.federation));
  proofRoutes(api, deps);
  return app;
}
