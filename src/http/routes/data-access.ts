/**
 * Who read whose data and why (数据访问记录, the Estonian data-tracker idea): GET /v1/me/data-access for the data
 * subject — reads made for its filings and reads keyed by its own code in anyone's filing — and
 * GET /v1/admin/data-access for an admin: the reads made for its own department's matters.
 */
import { Type } from 'typebox';
import type { DataAccessEntry } from '../../store/types.js';
import { requireRole } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';

const Entry = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  source: Type.Object({ id: Type.String(), name: Type.String() }),
  key: Type.String(),
  purpose: Type.String(),
  matter: Type.Union([Type.Object({ code: Type.String(), name: Type.String(), department: Type.String() }), Type.Null()]),
  applicationId: Type.Union([Type.String(), Type.Null()]),
  requester: Type.String({ description: 'the subject on whose filing or request the read was made' }),
  consentId: Type.Union([Type.String(), Type.Null()]),
  origin: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  responseHash: Type.String(),
});

const Page = Type.Object({ entries: Type.Array(Entry), nextBefore: Type.Union([Type.Integer(), Type.Null()]) });

// Query strings are not coerced (ajv coerceTypes: false): numbers arrive as digit strings.
const Limit = Type.String({ pattern: '^(?:[1-9]|[1-9][0-9]|[1-4][0-9]{2}|500)$', description: '1–500, default 100' });
const Before = Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'nextBefore of the previous page' });
const MeQuery = Type.Object({ limit: Type.Optional(Limit), before: Type.Optional(Before) }, { additionalProperties: false });
const AdminQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    before: Type.Optional(Before),
    source: Type.Optional(Type.String({ maxLength: 64 })),
    key: Type.Optional(Type.String({ maxLength: 200 })),
    applicationId: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export function dataAccessRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  const applicant = requireRole(deps.verifyToken, ['applicant']);
  const admin = requireRole(deps.verifyToken, ['admin']);

  const view = (e: DataAccessEntry, mayOpenApplication: (e: DataAccessEntry) => boolean) => {
    const m = e.matter ? deps.catalog.get(e.matter)?.def : undefined;
    return {
      id: e.id ?? 0,
      at: e.at,
      source: { id: e.source, name: deps.sourceNames?.get(e.source) ?? e.source },
      key: e.key,
      purpose: e.purpose,
      matter: m ? { code: m.code, name: m.name, department: m.department.name } : null,
      applicationId: mayOpenApplication(e) ? e.applicationId : null,
      requester: e.requester,
      consentId: e.consentId ?? null,
      origin: e.origin ?? null,
      status: e.status,
      responseHash: e.responseHash,
    };
  };
  const page = (entries: DataAccessEntry[], limit: number, map: (e: DataAccessEntry) => ReturnType<typeof view>) => ({
    entries: entries.map(map),
    nextBefore: entries.length === limit ? (entries[entries.length - 1]!.id ?? null) : null,
  });

  app.get(
    '/v1/me/data-access',
    {
      preHandler: applicant,
      schema: {
        summary: '谁查询了我的数据 Who read my data, for which filing and why (newest first)',
        tags: ['me'],
        security: [{ bearer: [] }],
        querystring: MeQuery,
        response: { 200: Page, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => {
      const sub = request.principal!.sub;
      const q = request.query;
      const limit = Number(q.limit ?? 100);
      const rows = await deps.store.dataAccess.forSubject(sub, { limit, ...(q.before ? { beforeId: Number(q.before) } : {}) });
      // Another subject's filing that read my record is named by who filed it, not by its id.
      return page(rows, limit, (e) => view(e, (x) => x.requester === sub));
    },
  );

  app.get(
    '/v1/admin/data-access',
    {
      preHandler: admin,
      schema: {
        summary: '本部门数据访问记录 Reads made for the admin’s department’s matters (newest first)',
        tags: ['admin'],
        security: [{ bearer: [] }],
        querystring: AdminQuery,
        response: { 200: Page, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => {
      const dept = request.principal!.dept;
      const q = request.query;
      const limit = Number(q.limit ?? 100);
      const matters = [...deps.catalog.matters.values()].filter((m) => m.def.department.code === dept).map((m) => m.def.code);
      const rows = await deps.store.dataAccess.forMatters(matters, {
        limit,
        ...(q.before ? { beforeId: Number(q.before) } : {}),
        ...(q.source ? { source: q.source } : {}),
        ...(q.key ? { key: q.key } : {}),
        ...(q.applicationId ? { applicationId: q.applicationId } : {}),
      });
      return page(rows, limit, (e) => view(e, () => true));
    },
  );
}
