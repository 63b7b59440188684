/**
 * The browser faces of the service (issue 8): the applicant portal at `/`, the admin console at `/admin`, their
 * static assets from `public/`, the json-editor bundle from node_modules (no bundler), `GET /v1/portal/config`, and
 * the development sign-in `POST /v1/dev/token`. That endpoint mints tokens for any subject, so it exists only
 * while the development HS256 secret is in use (config.auth.devSignIn: the secret was generated into DATA_DIR, or
 * AUTH_DEV_SIGN_IN=true with AUTH_JWT_SECRET); with the identity platform's JWKS or public key it is never
 * registered, and config refuses AUTH_DEV_SIGN_IN=true there.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import { ROLES } from '../auth.js';
import { signDevToken } from '../dev-token.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps } from '../types.js';

/** `public/` at the repository root: the same from src/http/routes (tsx) and dist/http/routes (build). */
export const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../public');
const JSON_EDITOR_DIST = path.dirname(createRequire(import.meta.url).resolve('@json-editor/json-editor'));

// json-editor injects its styles; everything else comes from this origin. No inline scripts. blob: for images and
// PDFs: the console shows the sealed e-form and the applicant's materials, fetched with the token, from blob URLs.
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; object-src 'self' blob:; frame-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const DEV_TOKEN_TTL_SECONDS = 8 * 3600;

const DevTokenBody = Type.Object(
  {
    sub: Type.String({ pattern: '^[0-9A-Za-z:_.-]{1,64}$', description: '统一社会信用代码或公民身份号码' }),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    dept: Type.Optional(Type.String({ pattern: '^[0-9A-Z]{18}$', description: '部门统一社会信用代码 (admins)' })),
    scope: Type.Optional(Type.String({ pattern: '^[a-z:]{1,40}( [a-z:]{1,40}){0,9}$', description: 'space-separated scopes (consumers)' })),
  },
  { additionalProperties: false },
);

export function portalRoutes(deps: HttpDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(fastifyStatic, { root: path.join(PUBLIC_DIR, 'assets'), prefix: '/assets/', index: false, cacheControl: true, maxAge: 0 });

    app.addHook('onSend', async (request, reply) => {
      if (request.url === '/' || request.url === '/admin' || request.url.startsWith('/?') || request.url.startsWith('/admin?')) {
        reply.header('content-security-policy', PAGE_CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      }
    });

    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html', PUBLIC_DIR));
    app.get('/admin', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').sendFile('admin.html', PUBLIC_DIR));
    app.get('/vendor/jsoneditor.js', { schema: { hide: true } }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').sendFile('jsoneditor.js', JSON_EDITOR_DIST));

    app.get(
      '/v1/portal/config',
      { schema: { summary: '门户配置 What the portal needs to know (whether development sign-in exists)', tags: ['portal'] } },
      async () => ({ devSignIn: deps.config.auth.devSignIn }),
    );

    const secret = deps.config.auth.jwtSecret;
    if (!deps.config.auth.devSignIn || secret === null) return;
    app.log.warn('development sign-in POST /v1/dev/token is enabled (development HS256 secret); never expose this deployment');
    app.post(
      '/v1/dev/token',
      {
        schema: {
          summary: '开发环境登录 Development only: a token for any subject (absent with the identity platform)',
          tags: ['portal'],
          body: DevTokenBody,
          response: { 200: Type.Object({ token: Type.String(), expiresAt: Type.String() }), 400: ErrorResponse },
        },
      },
      async (request, reply) => {
        const body = request.body;
        if (body.role === 'admin' && body.dept === undefined) {
          throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/dept', message: '管理员须选择所属部门 Admins need dept' }] });
        }
        const now = deps.clock();
        const ttlSeconds = Math.min(DEV_TOKEN_TTL_SECONDS, deps.config.auth.maxTokenAgeSeconds);
        const exp = Math.floor(now.getTime() / 1000) + ttlSeconds;
        const claims = { role: body.role, ...(body.dept ? { dept: body.dept } : {}), ...(body.scope ? { scope: body.scope } : {}) };
        const token = await signDevToken(secret, body.sub.toUpperCase(), claims, { ttlSeconds, now, audience: deps.config.auth.audience, issuer: deps.config.auth.issuer });
        request.log.info({ sub: body.sub, role: body.role }, 'development token issued');
        return reply.header('cache-control', 'no-store').send({ token, expiresAt: new Date(exp * 1000).toISOString() });
      },
    );
  };
}
