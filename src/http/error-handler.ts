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
  // Issue 13: PostgreSQL restarting or failing over, Redis away or failing over, a host not reachable.
  '08001', '08004', '08007', '57P05', '53100', '25006', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED',
]);

/** Faults that carry no code: node-postgres losing its connection, ioredis giving up or reaching a replica. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error/,
  /Connection is closed\.?$/,
  /^READONLY /,
  /^LOADING /,
  /^CLUSTERDOWN /,
  /^TRYAGAIN /,
  /All sentinels are unreachable/,
  /Failed to refresh slots cache/,
  /Reached the max retries per request limit/,
  /Stream isn't writeable/,
];
const UNAVAILABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/** True when `err` (or what it wraps) says PostgreSQL, SQLite's lock or Redis is away, not that the request is wrong. */
export function isDependencyUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE.has(code)) return true;
  if (UNAVAILABLE_NAMES.has(err.name) || UNAVAILABLE_MESSAGES.some((re) => re.test(err.message))) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isDependencyUnavailable(e, depth + 1))) return true;
  return isDependencyUnavailable(err.cause, depth + 1);
}

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
    if (isDependencyUnavailable(err)) {
      request.log.warn({ code: err.code, err: err.message.slice(0, 200) }, 'dependency unavailable');
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
