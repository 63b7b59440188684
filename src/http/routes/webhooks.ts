/**
 * Webhooks for downstream systems (consumer role, scope webhooks:write; certificate events also need
 * certificates:read, bundle events bundles:read): register `{url, events}` and get the signing secret once, list, disable, and read the
 * deliveries with every attempt. URLs must be https and public; http and loopback only when WEBHOOK_ALLOW_LOOPBACK
 * is set for development. The check here is early feedback; the binding check is at connect time (address-guard).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import type { DeliveryRow, WebhookRow } from '../../store/types.js';
import { addressAllowed, urlHost } from '../../webhooks/address-guard.js';
import { newWebhookSecret } from '../../webhooks/signature.js';
import { requireRole, type Principal } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';

export const WEBHOOK_EVENTS = ['certificate.issued', 'certificate.revoked', 'bundle.member.decided', 'bundle.completed', 'delivery.updated'] as const;

/** The union of the event literals; built by `map`, which loses the tuple, so its static type is named here. */
const EventType = Type.Unsafe<(typeof WEBHOOK_EVENTS)[number]>(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))));

const CreateBody = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 2000, description: '接收地址 https URL that receives the events' }),
    events: Type.Array(EventType, { minItems: 1, maxItems: WEBHOOK_EVENTS.length, uniqueItems: true, description: '订阅的事件类型' }),
  },
  { additionalProperties: false },
);

const WebhookView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  status: Type.String(),
  createdAt: Type.String(),
});
const Created = Type.Object({ ...WebhookView.properties, secret: Type.String({ description: '签名密钥，仅此一次返回 Shown once: keep it to verify Miaopi-Signature' }) });

const Attempt = Type.Object({
  attempt: Type.Number(),
  at: Type.String(),
  statusCode: Type.Union([Type.Number(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Number(),
});
const DeliveryView = Type.Object({
  id: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  status: Type.String(),
  createdAt: Type.String(),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Array(Attempt),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
/** Documented as null; the reply is sent with no body at all (send(null) would add a JSON content type). */
const NoContent = Type.Unsafe<void>(Type.Null());
const DeliveriesQuery = Type.Object(
  { cursor: Type.Optional(Type.String({ maxLength: 300 })), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })) },
  { additionalProperties: false },
);

const forbidden = (message: string) => new AppError('WEBHOOK_URL_FORBIDDEN', { errors: [{ path: '/url', message }] });

/** Early check of a webhook URL: scheme, no credentials, and every address the name resolves to now. */
export async function checkWebhookUrl(raw: string, allowLoopback: boolean): Promise<string> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw forbidden('不是有效的 URL Not a valid URL');
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && allowLoopback)) throw forbidden('须使用 https The URL must use https');
  if (u.username || u.password) throw forbidden('URL 中不得包含用户名或密码 No credentials in the URL');
  u.hash = '';
  const host = urlHost(u);
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw forbidden('域名无法解析 The host name does not resolve');
    }
  }
  const bad = addresses.find((a) => !addressAllowed(a, allowLoopback));
  if (bad !== undefined || addresses.length === 0) throw forbidden(`地址 ${bad ?? host} 属于内网、本机、链路本地或元数据地址 ${bad ?? host} is a private, loopback, link-local or metadata address`);
  return u.toString();
}

function view(w: WebhookRow) {
  return { id: w.id, url: w.url, events: w.events, status: w.status, createdAt: w.createdAt };
}

function deliveryView(d: DeliveryRow) {
  return { id: d.id, eventId: d.eventId, eventType: d.eventType, status: d.status, createdAt: d.createdAt, deliveredAt: d.deliveredAt, attempts: d.attempts };
}

function cursorOf(d: DeliveryRow): string {
  return Buffer.from(JSON.stringify([d.createdAt, d.id]), 'utf8').toString('base64url');
}

function parseCursor(c: string): { createdAt: string; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') return { createdAt: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw new AppError('CURSOR_INVALID');
}

export function webhookRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  const consumer = requireRole(deps.verifyToken, ['consumer']);
  const allowLoopback = deps.config.webhooks.allowLoopback;

  function needScopes(p: Principal, scopes: string[]): void {
    const missing = scopes.filter((s) => !p.scopes.includes(s));
    if (missing.length > 0) throw new AppError('AUTH_ROLE_FORBIDDEN', { message: `令牌缺少 scope ${missing.join(' ')} The token needs scope ${missing.join(' ')}` });
  }

  async function own(p: Principal, id: string): Promise<WebhookRow> {
    const w = await deps.store.webhooks.get(id);
    if (!w || w.owner !== p.sub) throw new AppError('WEBHOOK_NOT_FOUND');
    return w;
  }

  app.post(
    '/v1/webhooks',
    {
      preHandler: consumer,
      schema: {
        summary: '订阅事件回调 Register a webhook; the signing secret is returned once',
        description:
          'Deliveries are CloudEvents JSON (application/cloudevents+json) with header Miaopi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>; reject t more than 300 s from your clock. Non-2xx answers are retried with backoff; redirects are not followed.',
        tags: ['webhooks'],
        security: [{ bearer: [] }],
        body: CreateBody,
        response: { 201: Created, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request, reply) => {
      const p = request.principal!;
      const body = request.body;
      needScopes(p, [
        'webhooks:write',
        ...(body.events.some((e) => e.startsWith('certificate.') || e.startsWith('delivery.')) ? ['certificates:read'] : []),
        ...(body.events.some((e) => e.startsWith('bundle.')) ? ['bundles:read'] : []),
      ]);
      const url = await checkWebhookUrl(body.url, allowLoopback);
      const w = await deps.store.webhooks.create({ id: deps.newId(), owner: p.sub, url, events: body.events, secret: newWebhookSecret(), createdAt: deps.clock().toISOString() });
      request.log.info({ webhookId: w.id, owner: p.sub, events: w.events }, 'webhook registered');
      return reply.status(201).header('location', `/v1/webhooks/${w.id}`).send({ ...view(w), secret: w.secret });
    },
  );

  app.get(
    '/v1/webhooks',
    { preHandler: consumer, schema: { summary: '我的回调订阅 Your webhooks', tags: ['webhooks'], security: [{ bearer: [] }], response: { 200: Type.Object({ items: Type.Array(WebhookView) }) } } },
    async (request) => ({ items: (await deps.store.webhooks.list(request.principal!.sub)).map(view) }),
  );

  app.get(
    '/v1/webhooks/:id',
    { preHandler: consumer, schema: { summary: '回调订阅 A webhook', tags: ['webhooks'], security: [{ bearer: [] }], params: IdParams, response: { 200: WebhookView, 404: ErrorResponse } } },
    async (request) => view(await own(request.principal!, request.params.id)),
  );

  app.delete(
    '/v1/webhooks/:id',
    { preHandler: consumer, schema: { summary: '停用回调 Disable a webhook (pending deliveries stop)', tags: ['webhooks'], security: [{ bearer: [] }], params: IdParams, response: { 204: NoContent, 404: ErrorResponse } } },
    async (request, reply) => {
      const w = await own(request.principal!, request.params.id);
      await deps.store.webhooks.disable(w.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      preHandler: consumer,
      schema: {
        summary: '投递记录 Deliveries with every attempt, newest first',
        tags: ['webhooks'],
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: DeliveriesQuery,
        response: { 200: Type.Object({ items: Type.Array(DeliveryView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), 404: ErrorResponse },
      },
    },
    async (request) => {
      const w = await own(request.principal!, request.params.id);
      const q = request.query;
      const limit = Math.min(Math.max(q.limit === undefined ? 50 : Number(q.limit), 1), 200);
      const rows = await deps.store.webhooks.deliveries(w.id, { limit: limit + 1, ...(q.cursor !== undefined ? { before: parseCursor(q.cursor) } : {}) });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page.map(deliveryView), nextCursor: rows.length > limit && last ? cursorOf(last) : null };
    },
  );
}
