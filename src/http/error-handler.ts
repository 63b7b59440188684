/**
 * One error handler: every error leaves as `{code, message, requestId, errors?}` with a stable code; internals
 * are hidden for status ≥ 500.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, ERRORS, fieldErrors, type ErrorCode } from '../errors.js';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REQUEST_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_MALFORMED_JSON',
};

/** Database or network faults: the request was fine, a dependency is away — 503, retry later. */
const UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL',
  '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006',
]);

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & Partial<AppError>, request, reply) => {
    const requestId = request.id;
    if (err instanceof AppError) {
      return reply.status(err.status).send({ code: err.code, message: err.message, requestId, ...(err.errors ? { errors: err.errors } : {}) });
    }
    if (err.validation) {
      const prefix = err.validationContext === 'body' ? '' : `/${err.validationContext ?? ''}`;
      return reply.status(400).send({
        code: 'REQUEST_VALIDATION',
        message: ERRORS.REQUEST_VALIDATION.message,
        requestId,
        errors: fieldErrors(err.validation, prefix),
      });
    }
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped || (err instanceof SyntaxError && err.statusCode === 400)) {
      const code = mapped ?? 'REQUEST_MALFORMED_JSON';
      return reply.status(ERRORS[code].status).send({ code, message: ERRORS[code].message, requestId });
    }
    if (err.code && UNAVAILABLE.has(err.code)) {
      request.log.warn({ code: err.code }, 'dependency unavailable');
      return reply
        .status(503)
        .header('retry-after', '5')
        .send({ code: 'SERVICE_UNAVAILABLE', message: ERRORS.SERVICE_UNAVAILABLE.message, requestId });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.info({ code: err.code, status }, 'client error');
      return reply.status(status).send({ code: err.code ?? 'REQUEST_INVALID', message: err.message, requestId });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ code: 'INTERNAL', message: ERRORS.INTERNAL.message, requestId });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'ROUTE_NOT_FOUND', message: ERRORS.ROUTE_NOT_FOUND.message, requestId: request.id }),
  );
}
