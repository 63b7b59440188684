/**
 * Prints a development token (HS256 with the dev secret from DATA_DIR or AUTH_JWT_SECRET).
 *   npm run token -- --sub 91210100MA0Q1A2B6L --role applicant [--dept CODE] [--scope "certificates:read"] [--ttl 3600]
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { ROLES } from '../http/auth.js';
import { loadConfig } from '../config.js';

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: '91210100MA0Q1A2B6L' },
    role: { type: 'string', default: 'applicant' },
    dept: { type: 'string' },
    scope: { type: 'string' },
    ttl: { type: 'string', default: '86400' },
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
const claims: Record<string, string> = { role: values.role };
if (values.dept) claims.dept = values.dept;
if (values.scope) claims.scope = values.scope;
const token = await new SignJWT(claims)
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(values.sub)
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + Number(values.ttl))
  .sign(new TextEncoder().encode(config.auth.jwtSecret));
process.stdout.write(`${token}\n`);
