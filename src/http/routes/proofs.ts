/**
 * 证明在线开具 and 授权查验 (DESIGN.md §13). A proof (证明) is a certificate of a matter of kind 证明, issued from data
 * within a second. Its holder decides who else may see it:
 * - POST /v1/me/proof-consents `{certificateId, consumer, purpose, validDays?}` — the holder lets one consumer
 *   (bank, tender office: its token `sub`) fetch one proof; GET lists them; DELETE …/{id} revokes at once.
 * - GET /v1/proofs/{id}, GET /v1/proofs/{id}/pdf — a consumer with scope `proofs:read` gets the proof only while the
 *   holder's consent for that consumer stands; otherwise 404, as if it did not exist.
 */
import { Type, type Static } from 'typebox';
import { AppError } from '../../errors.js';
import type { CertificateRow, ProofConsentRow } from '../../store/types.js';
import { requireRole } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';
import { certificateSummary } from '../../pipeline/certificate-view.js';

/** `证明` for a certificate of a matter of kind 证明, else `证照`. */
export function certificateKind(deps: Pick<HttpDeps, 'catalog'>, c: Pick<CertificateRow, 'matter'>): '证明' | '证照' {
  return deps.catalog.get(c.matter)?.def.kind === '证明' ? '证明' : '证照';
}

const ConsentBody = Type.Object(
  {
    certificateId: Type.String({ minLength: 1, maxLength: 64, description: '证明的 id (GET /v1/applications/{id} → certificate.id)' }),
    consumer: Type.String({ pattern: '^[0-9A-Za-z:_.-]{1,64}$', description: '查验方: the consumer’s token sub (e.g. the bank’s 统一社会信用代码)' }),
    purpose: Type.String({ minLength: 2, maxLength: 200, description: '查验用途, e.g. 贷款审批' }),
    validDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'default and maximum: PROOF_CONSENT_DAYS' })),
  },
  { additionalProperties: false },
);

const ConsentView = Type.Object({
  id: Type.String(),
  certificateId: Type.String(),
  consumer: Type.String(),
  purpose: Type.String(),
  grantedAt: Type.String(),
  expiresAt: Type.String(),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('revoked'), Type.Literal('expired')]),
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

function consentView(c: ProofConsentRow, now: Date): Static<typeof ConsentView> {
  const status = c.revokedAt !== null ? 'revoked' : c.expiresAt <= now.toISOString() ? 'expired' : 'active';
  return { ...c, status };
}

export function proofRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  const holder = requireRole(deps.verifyToken, ['applicant']);
  const consumer = requireRole(deps.verifyToken, ['consumer']);

  app.post(
    '/v1/me/proof-consents',
    {
      preHandler: holder,
      schema: {
        summary: '授权查验 Let one consumer fetch one of my proofs',
        tags: ['proofs'],
        security: [{ bearer: [] }],
        body: ConsentBody,
        response: { 201: ConsentView, 400: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse },
      },
    },
    async (request, reply) => {
      const p = request.principal!;
      const body = request.body;
      const c = await deps.store.certificates.get(body.certificateId);
      if (!c || c.holderCode !== p.sub) throw new AppError('CERTIFICATE_NOT_FOUND');
      if (certificateKind(deps, c) !== '证明') throw new AppError('PROOF_CONSENT_NOT_A_PROOF');
      const now = deps.clock();
      const days = Math.min(body.validDays ?? deps.config.proofConsentDays, deps.config.proofConsentDays);
      const granted = await deps.store.proofConsents.grant({
        id: deps.newId(),
        certificateId: c.id,
        holder: p.sub,
        consumer: body.consumer.toUpperCase(),
        purpose: body.purpose.trim(),
        grantedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + days * 86_400_000).toISOString(),
      });
      request.log.info({ consentId: granted.id, certificateId: c.id, consumer: granted.consumer }, 'proof consent granted');
      return reply.status(201).send(consentView(granted, now));
    },
  );

  app.get(
    '/v1/me/proof-consents',
    { preHandler: holder, schema: { summary: '我的授权查验 My proof consents, newest first', tags: ['proofs'], security: [{ bearer: [] }], response: { 200: Type.Object({ consents: Type.Array(ConsentView) }) } } },
    async (request) => {
      const now = deps.clock();
      return { consents: (await deps.store.proofConsents.list(request.principal!.sub)).map((c) => consentView(c, now)) };
    },
  );

  app.delete(
    '/v1/me/proof-consents/:id',
    { preHandler: holder, schema: { summary: '撤回授权查验 Revoke a proof consent', tags: ['proofs'], security: [{ bearer: [] }], params: IdParams, response: { 200: ConsentView, 404: ErrorResponse } } },
    async (request) => {
      const { id } = request.params;
      const now = deps.clock();
      const c = await deps.store.proofConsents.revoke(id, request.principal!.sub, now.toISOString());
      if (!c) throw new AppError('PROOF_CONSENT_NOT_FOUND');
      request.log.info({ consentId: id }, 'proof consent revoked');
      return consentView(c, now);
    },
  );

  /** The proof, if `consumer` holds scope proofs:read and a standing consent of its holder; else null. */
  async function consented(id: string, p: { sub: string; scopes: string[] }) {
    if (!p.scopes.includes('proofs:read')) return null;
    const c = await deps.store.certificates.get(id);
    if (!c || certificateKind(deps, c) !== '证明') return null;
    const consent = await deps.store.proofConsents.standing(c.id, p.sub, deps.clock().toISOString());
    return consent ? { c, consent } : null;
  }

  app.get(
    '/v1/proofs/:id',
    { preHandler: consumer, schema: { summary: '查验证明 A proof, with its holder’s consent (scope proofs:read)', tags: ['proofs'], security: [{ bearer: [] }], params: IdParams, response: { 200: Type.Unknown(), 404: ErrorResponse } } },
    async (request) => {
      const found = await consented(request.params.id, request.principal!);
      if (!found) throw new AppError('PROOF_NOT_FOUND');
      request.log.info({ certificateId: found.c.id, consentId: found.consent.id, consumer: request.principal!.sub }, 'proof read under consent');
      return {
        ...certificateSummary(found.c),
        kind: '证明',
        consent: { id: found.consent.id, purpose: found.consent.purpose, expiresAt: found.consent.expiresAt },
      };
    },
  );

  app.get(
    '/v1/proofs/:id/pdf',
    { preHandler: consumer, schema: { summary: '下载证明 The signed proof PDF, with its holder’s consent', tags: ['proofs'], security: [{ bearer: [] }], params: IdParams } },
    async (request, reply) => {
      const found = await consented(request.params.id, request.principal!);
      const pdf = found ? await deps.store.certificates.getPdf(found.c.id) : null;
      if (!found || !pdf) throw new AppError('PROOF_NOT_FOUND');
      request.log.info({ certificateId: found.c.id, consentId: found.consent.id, consumer: request.principal!.sub }, 'proof file read under consent');
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="proof-${found.c.id}.pdf"`)
        .header('x-content-sha256', found.c.sha256)
        .send(Buffer.from(pdf));
    },
  );
}
