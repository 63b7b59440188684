/**
 * The queue dashboard (@bull-board) at /admin/queues, for the operators (role `ops`) only and read-only (no
 * retry/clean/remove). The queues hold the jobs of every department, with stack traces, so a department admin is
 * refused (403) since issue 17. bull-board's UI is a page whose scripts call its own API without
 * our Authorization header, so the console first trades its ops JWT for a cookie:
 * `POST /admin/queues/session` (Bearer ops JWT) sets `miaopi_board` = that JWT, HttpOnly, SameSite=Strict,
 * Path=/admin/queues, Secure on https, expiring with the token. Every request under /admin/queues (pages, assets,
 * API) is then checked by an onRequest hook: a valid ops JWT from that cookie or from an Authorization header;
 * otherwise 401 (a page that links back to /admin). SameSite=Strict keeps other sites from riding the cookie, and the
 * session route itself needs the Bearer header, so it cannot be forged cross-site.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { requireRole, type Principal } from '../auth.js';
import type { HttpDeps } from '../types.js';

/** Largest request body the queue dashboard's routes accept. */
const BOARD_BODY_LIMIT = 16 * 1024;

export const BOARD_PATH = '/admin/queues';
export const BOARD_COOKIE = 'miaopi_board';

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

function tokenExp(jwt: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : null;
  } catch {
    return null;
  }
}

const DENIED_PAGE = `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>需要运维角色登录</title><body style="font-family:sans-serif;padding:2rem"><h1>需要运维角色登录</h1>
<p>队列看板含各部门的任务，仅对运维角色（ops）开放。请以运维账号在<a href="/admin">管理控制台</a>登录，再从“队列”页打开看板。</p>
<p lang="en">The queue dashboard holds every department's jobs and is for the ops role only: sign in at <a href="/admin">/admin</a> with an ops account and open it from the 队列 tab.</p></body></html>`;

export function queueBoardRoutes(deps: HttpDeps, queues: Queue[]): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const secure = deps.config.publicUrl.startsWith('https:');

    app.post(
      `${BOARD_PATH}/session`,
      { preHandler: requireRole(deps.verifyToken, ['ops']), schema: { summary: '队列看板会话 Trade the ops JWT for the dashboard cookie', tags: ['admin'], security: [{ bearer: [] }] } },
      async (request, reply) => {
        const jwt = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
        const exp = tokenExp(jwt) ?? 0;
        const maxAge = Math.max(0, Math.min(exp - Math.floor(deps.clock().getTime() / 1000), 8 * 3600));
        const attrs = [`Path=${BOARD_PATH}`, 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAge}`, ...(secure ? ['Secure'] : [])];
        return reply.header('set-cookie', `${BOARD_COOKIE}=${jwt}; ${attrs.join('; ')}`).header('cache-control', 'no-store').send({ path: `${BOARD_PATH}/`, expiresInSeconds: maxAge });
      },
    );
    app.delete(`${BOARD_PATH}/session`, { schema: { hide: true } }, async (_request, reply) =>
      reply.header('set-cookie', `${BOARD_COOKIE}=; Path=${BOARD_PATH}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`).status(204).send(),
    );

    await app.register(async (board) => {
      board.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        const token = bearer ?? cookieValue(request.headers.cookie, BOARD_COOKIE);
        let principal: Principal | null = null;
        if (token) principal = await deps.verifyToken(token).catch(() => null);
        if (principal?.role === 'ops') {
          request.principal = principal;
          return;
        }
        const wantsJson = request.url.includes('/api/') || !(request.headers.accept ?? '').includes('text/html');
        if (wantsJson) {
          // Replied here: bull-board sets its own error handler for its routes.
          const err = new AppError(principal ? 'AUTH_ROLE_FORBIDDEN' : 'AUTH_TOKEN_MISSING');
          return reply.status(err.status).send({ code: err.code, message: err.message, requestId: request.id });
        }
        return reply.status(principal ? 403 : 401).type('text/html; charset=utf-8').send(DENIED_PAGE);
      });
      // The board is read-only and its API takes no body worth more than a few bytes: a large one is refused (413)
      // before it is parsed. With the app's 256 KB limit a 42,000-element JSON array took ~100 ms of the event loop
      // to parse on its way to a 404 (test/fuzz/every-route.test.ts).
      board.addHook('onRoute', (route) => {
        route.bodyLimit = Math.min(route.bodyLimit ?? BOARD_BODY_LIMIT, BOARD_BODY_LIMIT);
      });
      const serverAdapter = new FastifyAdapter();
      serverAdapter.setBasePath(BOARD_PATH);
      createBullBoard({
        queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
        // @bull-board/fastify pins its own copy of @bull-board/api (a patch version apart): same shape, other declaration.
        serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
        options: { uiConfig: { boardTitle: '秒批秒办 队列' } },
      });
      await board.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
    });
  };
}
