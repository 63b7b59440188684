/**
 * Issue 17: JSON bodies are refused when nested deeper than any request needs. `JSON.parse` copes with 10,000
 * levels, but everything recursive after it does not (`JSON.stringify` of a draft, the body hash of a filing): a
 * 50 KB body of `{"a":{"a":…}}` was a 500 from a stack overflow. The depth is counted on the text, before parsing,
 * in one pass.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

/** Deeper than any filing, guide answer or matter definition (the deepest matter rule nests about 10 levels). */
export const MAX_JSON_DEPTH = 64;

/** Whether the JSON text `s` opens more than `max` arrays/objects inside each other (strings skipped). */
export function jsonDeeperThan(s: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return false;
}

/** Replaces the application/json parser with one that measures depth first, then parses as Fastify does. */
export function installJsonDepthLimit(app: FastifyInstance, max = MAX_JSON_DEPTH): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDeeperThan(text, max)) {
      done(new AppError('REQUEST_VALIDATION', { errors: [{ path: '/', message: `嵌套超过 ${max} 层 Nested deeper than ${max} levels` }] }), undefined);
      return;
    }
    void parse(request, text, done);
  });
}
