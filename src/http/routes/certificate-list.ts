/**
 * GET /v1/certificates: certificates for downstream systems (consumers with scope certificates:read), the issuing
 * department's admins (their own department only) and holders (their own only). Filters holder, matter,
 * issuedSince; keyset pagination oldest first, so a consumer syncs by following nextCursor until it is null and
 * keeps the last cursor for the next run.
 */
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import type { CertificateFilter } from '../../store/types.js';
import { requireRole } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';
import { certificateKind } from './proofs.js';
import { CertificateView, view as certificateView } from './certificates.js';

const Query = Type.Object(
  {
    holder: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '持证主体代码（统一社会信用代码或身份号码）' })),
    matter: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '事项代码' })),
    issuedSince: Type.Optional(Type.String({ maxLength: 40, description: 'YYYY-MM-DD (China day) or an ISO-8601 time; issued at or after it' })),
    cursor: Type.Optional(Type.String({ maxLength: 300, description: 'nextCursor of the previous page' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: 'page size 1–200, default 50' })),
  },
  { additionalProperties: false },
);

const Page = Type.Object({ items: Type.Array(CertificateView), nextCursor: Type.Union([Type.String(), Type.Null()]) });

const ERR_CURSOR = '分页游标无效 Use nextCursor from the previous page';

export function encodeCursor(issuedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([issuedAt, id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { issuedAt: string; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) {
      return { issuedAt: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  throw new AppError('CURSOR_INVALID', { errors: [{ path: '/querystring/cursor', message: ERR_CURSOR }] });
}

function sinceIso(v: string): string {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00+08:00`) : /^\d{4}-\d{2}-\d{2}T/.test(v) ? new Date(v) : null;
  if (!at || Number.isNaN(at.getTime())) {
    throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/querystring/issuedSince', message: '日期格式应为 YYYY-MM-DD 或 ISO-8601 时间 Use YYYY-MM-DD or an ISO-8601 time' }] });
  }
  return at.toISOString();
}

export function certificateListRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  app.get(
    '/v1/certificates',
    {
      preHandler: requireRole(deps.verifyToken, ['consumer', 'admin', 'applicant']),
      schema: {
        summary: '证照列表 Certificates, filtered, oldest first, cursor-paginated',
        description: 'Consumers need scope certificates:read; admins see their department\'s certificates, applicants their own.',
        tags: ['certificates'],
        security: [{ bearer: [] }],
        querystring: Query,
        response: { 200: Page, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => {
      const p = request.principal!;
      const q = request.query;
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (limit < 1 || limit > 200) throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/querystring/limit', message: '每页数量应为 1–200 limit must be 1–200' }] });
      const filter: CertificateFilter = { limit: limit + 1 };
      if (q.holder !== undefined) filter.holderCode = q.holder.toUpperCase();
      if (q.matter !== undefined) filter.matter = q.matter;
      if (q.issuedSince !== undefined) filter.issuedSince = sinceIso(q.issuedSince);
      if (q.cursor !== undefined) filter.after = decodeCursor(q.cursor);
      if (p.role === 'consumer' && !p.scopes.includes('certificates:read')) throw new AppError('AUTH_ROLE_FORBIDDEN', { message: '需要 scope certificates:read The token needs scope certificates:read' });
      if (p.role === 'admin') filter.issuerCode = p.dept ?? '';
      if (p.role === 'applicant') {
        if (filter.holderCode !== undefined && filter.holderCode !== p.sub) return { items: [], nextCursor: null };
        filter.holderCode = p.sub;
      }
      const rows = await deps.store.certificates.list(filter);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      // 授权查验: proofs (证明) reach consumers only one by one under their holder's consent, never in a listing.
      const visible = p.role === 'consumer' ? page.filter((c) => certificateKind(deps, c) !== '证明') : page;
      return { items: visible.map(certificateView), nextCursor: rows.length > limit && last ? encodeCursor(last.issuedAt, last.id) : null };
    },
  );
}
