/**
 * The applicant's data-sharing consents: GET /v1/me/consents lists them (purpose, the sources each covers, state);
 * DELETE /v1/me/consents/{id} revokes one — no read happens under it afterwards, and a later filing must consent
 * again (consent.dataSharing true).
 */
import { Type, type Static } from 'typebox';
import { AppError } from '../../errors.js';
import type { ConsentRow } from '../../store/types.js';
import { requireRole } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';

const ConsentView = Type.Object({
  id: Type.String(),
  matter: Type.String(),
  matterName: Type.String(),
  purpose: Type.String({ description: '申请事由 what the data is read for' }),
  sources: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
  applicationId: Type.Union([Type.String(), Type.Null()]),
  grantedAt: Type.String(),
  expiresAt: Type.String(),
  endedAt: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('revoked'), Type.Literal('superseded'), Type.Literal('expired')]),
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function consentView(deps: HttpDeps, c: ConsentRow, now: Date): Static<typeof ConsentView> {
  const status = c.endedReason ?? (c.expiresAt <= now.toISOString() ? 'expired' : 'active');
  return {
    id: c.id,
    matter: c.matter,
    matterName: deps.catalog.get(c.matter)?.def.name ?? c.matter,
    purpose: c.purpose,
    sources: c.sources.map((id) => ({ id, name: deps.sourceNames?.get(id) ?? id })),
    applicationId: c.applicationId,
    grantedAt: c.grantedAt,
    expiresAt: c.expiresAt,
    endedAt: c.endedAt,
    status,
  };
}

export function consentRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  const applicant = requireRole(deps.verifyToken, ['applicant']);

  app.get(
    '/v1/me/consents',
    {
      preHandler: applicant,
      schema: {
        summary: '我的数据共享授权 The applicant’s data-sharing consents, newest first',
        tags: ['me'],
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ consents: Type.Array(ConsentView) }), 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => {
      const now = deps.clock();
      return { consents: (await deps.store.consents.list(request.principal!.sub)).map((c) => consentView(deps, c, now)) };
    },
  );

  app.delete(
    '/v1/me/consents/:id',
    {
      preHandler: applicant,
      schema: {
        summary: '撤回授权 Revoke a consent: no further reads under it; a later filing must consent again',
        tags: ['me'],
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: ConsentView, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const { id } = request.params;
      const now = deps.clock();
      const row = await deps.store.consents.revoke(id, request.principal!.sub, now.toISOString());
      if (!row) throw new AppError('CONSENT_NOT_FOUND');
      return consentView(deps, row, now);
    },
  );
}
