/**
 * pino with personal data redacted (STYLE.md habit 10): tokens, names, ID numbers, addresses and form data
 * never reach the logs.
 */
import { pino, type Logger } from 'pino';
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

export function createLogger(level: LogLevel, name: string): Logger {
  return pino({ level, name, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
