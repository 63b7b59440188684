/**
 * pino with personal data redacted (STYLE.md habit 10): tokens, names, ID numbers, addresses and form data
 * never reach the logs — nor query strings, where a caller may put an ID number (issue 17, item 7).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.authorization',
  '*.idNumber',
  '*.name',
  '*.address',
  '*.form',
  '*.answers',
  '*.record',
  '*.legalRepresentative',
  'form',
  'answers',
  'record',
  'body',
  '*.body',
];

/** `/v1/x?idNumber=…` → `/v1/x?[redacted]`: the path names the route, the query may carry anything. */
export function redactQuery(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[redacted]`;
}

interface RequestLike {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

/**
 * Replaces Fastify's `req` serializer (its access log, "incoming request", writes the URL as received): the same
 * fields, the query string redacted. Fastify lets a logger instance's own serializers win over its defaults.
 */
function requestSerializer(req: RequestLike) {
  return { method: req.method, url: redactQuery(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** `destination`: where lines go (default stdout); tests read them. */
export function createLogger(level: LogLevel, name: string, destination?: DestinationStream): Logger {
  const options = { level, name, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, serializers: { req: requestSerializer } };
  return destination ? pino(options, destination) : pino(options);
}
