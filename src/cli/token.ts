/**
 * Prints a development token (HS256 with the dev secret from DATA_DIR or AUTH_JWT_SECRET), carrying the configured
 * (or development) AUTH_AUDIENCE and AUTH_ISSUER, `iat`, and an `exp` within AUTH_MAX_TOKEN_AGE_SECONDS.
 *   npm run token -- --sub 91210100MA0Q1A2B6L --role applicant [--dept CODE] [--scope "certificates:read"] [--ttl 3600]
 */
import { parseArgs } from 'node:util';
import { ROLES } from '../http/auth.js';
import { signDevToken } from '../http/dev-token.js';
import { loadConfig } from '../config.js';

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: '91210100MA0Q1A2B6L' },
    role: { type: 'string', default: 'applicant' },
    dept: { type: 'string' },
    scope: { type: 'string' },
    ttl: { type: 'string' },
  },
});
const config = loadConfig();
if (!config.auth.jwtSecret) {
  process.stderr.write('AUTH_JWKS_URL/AUTH_PUBLIC_KEY is configured: tokens come from the identity platform, not this CLI\n');
  process.exit(2);
}
if (!ROLES.includes(values.role as (typeof ROLES)[number])) {
  process.stderr.write(`--role must be one of ${ROLES.join(', ')}\n`);
  process.exit(2);
}
const maxAge = config.auth.maxTokenAgeSeconds;
const ttl = values.ttl === undefined ? maxAge : Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 1 || ttl > maxAge) {
  process.stderr.write(`--ttl must be whole seconds from 1 to ${maxAge} (AUTH_MAX_TOKEN_AGE_SECONDS); the service refuses longer-lived tokens\n`);
  process.exit(2);
}
const claims: Record<string, string> = { role: values.role };
if (values.dept) claims.dept = values.dept;
if (values.scope) claims.scope = values.scope;
const token = await signDevToken(config.auth.jwtSecret, values.sub, claims, { ttlSeconds: ttl, audience: config.auth.audience, issuer: config.auth.issuer });
process.stdout.write(`${token}\n`);
