/**
 * Issue 17: unprintable or ill-formed text is refused before any route sees it — body, query string and path
 * parameters — with 400 REQUEST_TEXT_INVALID naming the field. Accepted, such text used to end a filing `failed`
 * with no reason (a PDF cannot draw it), or to break a source look-up and trip the source's breaker for everyone.
 */
import type { FastifyInstance } from 'fastify';
import { findInvalidText } from '../domain/text.js';
import { AppError } from '../errors.js';

export function installTextGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const problem =
      findInvalidText(request.params, '/params') ?? findInvalidText(request.query, '/querystring') ?? findInvalidText(request.body);
    if (problem) throw new AppError('REQUEST_TEXT_INVALID', { errors: [problem] });
  });
}
