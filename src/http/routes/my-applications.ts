/**
 * 我的办件 (issue 18): GET /v1/me/applications — the signed-in applicant's own filings, newest first, keyset-paginated
 * (nextCursor until null), each with its matter's name and kind, its status and, once issued, its certificate. A
 * filing in manual review can so be found again after the tab was closed.
 */
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import type { ApplicationRow } from '../../store/types.js';
import { requireRole } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';

const Query = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 300, description: 'nextCursor of the previous page' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: 'page size 1–100, default 20' })),
  },
  { additionalProperties: false },
);

export const MyApplication = Type.Object(
  {
    id: Type.String({ description: '申请 id (UUID)' }),
    number: Type.Union([Type.String(), Type.Null()], { description: '申请编号 for people (e.g. 沈2026120400017), null when the filing has none' }),
    matter: Type.String({ description: '事项代码' }),
    matterName: Type.String({ description: '事项名称' }),
    kind: Type.String({ description: '事项类型 (备案/许可/证明…): the portal words the outcome by it' }),
    status: Type.String({ description: 'queued | processing | approved | rejected | manual_review | failed' }),
    createdAt: Type.String({ description: '提交时间 (ISO-8601 UTC)' }),
    decidedAt: Type.Union([Type.String(), Type.Null()], { description: '办结时间 (ISO-8601 UTC)' }),
    certificate: Type.Union([Type.Object({ id: Type.String(), number: Type.String() }), Type.Null()]),
  },
  { description: '我的办件: one filing of the signed-in applicant' },
);

const Page = Type.Object({ items: Type.Array(MyApplication), nextCursor: Type.Union([Type.String(), Type.Null()]) });

function encodeCursor(row: ApplicationRow): string {
  return Buffer.from(JSON.stringify([row.createdAt, row.id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) {
      return { createdAt: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  throw new AppError('CURSOR_INVALID', { errors: [{ path: '/querystring/cursor', message: '分页游标无效，请使用上一页返回的 nextCursor Use nextCursor from the previous page' }] });
}

/** The human application number, when the filing carries one (issue 18: 沈YYYYMMDDnnnnn). */
function numberOf(row: ApplicationRow): string | null {
  const n = (row as ApplicationRow & { number?: unknown }).number;
  return typeof n === 'string' && n !== '' ? n : null;
}

export function myApplicationRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  app.get(
    '/v1/me/applications',
    {
      preHandler: requireRole(deps.verifyToken, ['applicant']),
      schema: {
        summary: '我的办件 The applicant’s own filings, newest first, cursor-paginated',
        description: 'Only the filings of the token’s subject. Follow nextCursor until it is null.',
        tags: ['applications'],
        security: [{ bearer: [] }],
        querystring: Query,
        response: { 200: Page, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => {
      const p = request.principal!;
      const q = request.query;
      const limit = q.limit === undefined ? 20 : Number(q.limit);
      if (limit < 1 || limit > 100) throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/querystring/limit', message: '每页数量应为 1–100 limit must be 1–100' }] });
      const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const rows = await deps.store.applications.listByApplicant(p.sub, { limit: limit + 1, ...(before ? { before } : {}) });
      const page = rows.slice(0, limit);
      const items = await Promise.all(
        page.map(async (row) => {
          const def = deps.catalog.get(row.matter)?.def;
          const cert = row.status === 'approved' ? await deps.store.certificates.byApplication(row.id) : null;
          return {
            id: row.id,
            number: numberOf(row),
            matter: row.matter,
            matterName: def?.name ?? row.matter,
            kind: def?.kind ?? '',
            status: row.status,
            createdAt: row.createdAt,
            decidedAt: row.decidedAt,
            certificate: cert ? { id: cert.id, number: cert.number } : null,
          };
        }),
      );
      const last = page[page.length - 1];
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
    },
  );
}
