/** Certificates for holders and downstream systems, the trust anchors, and revocation (the public page is in ./verify.ts). */
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import type { CertificateRow } from '../../store/types.js';
import { requireRole, type Principal } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';
import { certificateSummary } from '../../pipeline/certificate-view.js';
import { certificateKind } from './proofs.js';
import { announceRevocation } from '../../webhooks/emit.js';

export const CertificateView = Type.Object({
  id: Type.String(),
  number: Type.String(),
  licenseId: Type.String(),
  matter: Type.String(),
  status: Type.String(),
  holder: Type.Object({ name: Type.String(), code: Type.String() }),
  issuer: Type.Object({ name: Type.String(), code: Type.String() }),
  issuedAt: Type.String(),
  validUntil: Type.Union([Type.String(), Type.Null()]),
  sha256: Type.String(),
  applicationId: Type.String(),
  /** 证明 (a proof, 证明在线开具) or 证照. */
  kind: Type.Optional(Type.String()),
  /** 都市圈通办: the city that issued it, for a peer's certificate served here. */
  city: Type.Optional(Type.String()),
}, {
  title: 'Certificate',
  examples: [
    {
      id: '0193a3f2-80aa-7c55-8e11-2b3c4d5e6f70',
      number: '沈粮收备〔2026〕000001号',
      licenseId: '1.2.156.3005.2.11210100MB0E12346R001.11210100MB0E12346R.2026000001.001.I',
      matter: 'grain-purchase-filing',
      status: 'valid',
      holder: { name: '沈阳丰禾粮食购销有限公司', code: '91210100MA0Q1A2B6L' },
      issuer: { name: '沈阳市粮食和物资储备局', code: '11210100MB0E12346R' },
      issuedAt: '2026-12-04T06:24:27.102Z',
      validUntil: null,
      sha256: '179068df16863744fe4ab64c500ac210bf27f980273fa714b1574548bb00d294',
      applicationId: '0193a3f2-7c1e-7b6a-9d2e-5f4c3b2a1d0e',
    },
  ],
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const RevokeBody = Type.Object(
  {
    // Published in the revocation list: one line of text, no control characters.
    reason: Type.String({ minLength: 2, maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]*\\S[^\\u0000-\\u001f\\u007f]*$', description: '撤销原因 (published)' }),
  },
  { additionalProperties: false },
);

const RevocationView = Type.Object({
  id: Type.String(),
  status: Type.Literal('revoked'),
  number: Type.String(),
  revokedAt: Type.String(),
  revokedBy: Type.String(),
  reason: Type.String(),
});

/** The holder, consumers with scope certificates:read, admins of the issuing department. */
export function mayRead(p: Principal, c: CertificateRow): boolean {
  if (p.role === 'applicant') return p.sub === c.holderCode;
  if (p.role === 'consumer') return p.scopes.includes('certificates:read');
  if (p.role === 'admin') return p.dept === c.issuerCode;
  return false;
}

export function view(c: CertificateRow) {
  return { ...certificateSummary(c), applicationId: c.applicationId };
}

/**
 * mayRead plus 授权查验: a proof (证明) reaches a consumer only with scope proofs:read and a standing consent of its
 * holder for that consumer — scope certificates:read alone is not enough.
 */
async function mayReadCertificate(deps: HttpDeps, p: Principal, c: CertificateRow): Promise<boolean> {
  if (p.role !== 'consumer' || certificateKind(deps, c) !== '证明') return mayRead(p, c);
  return p.scopes.includes('proofs:read') && (await deps.store.proofConsents.standing(c.id, p.sub, deps.clock().toISOString())) !== null;
}

export function certificateRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  const reader = requireRole(deps.verifyToken, ['applicant', 'consumer', 'admin']);

  app.get(
    '/v1/certificates/:id',
    { preHandler: reader, schema: { summary: '证照信息 Certificate metadata', tags: ['certificates'], security: [{ bearer: [] }], params: IdParams, response: { 200: CertificateView, 404: ErrorResponse } } },
    async (request) => {
      const { id } = request.params;
      const c = await deps.store.certificates.get(id);
      if (!c) {
        // 都市圈通办: a peer's certificate issued for a filing made here, shown to its holder.
        const remote = request.principal!.role === 'applicant' ? await deps.store.federation.getCertificate(id) : null;
        if (!remote || remote.holderCode !== request.principal!.sub) throw new AppError('CERTIFICATE_NOT_FOUND');
        const { kind, ...summary } = remote.summary;
        return { ...summary, ...(kind ? { kind } : {}), applicationId: remote.applicationId, city: remote.city };
      }
      if (!(await mayReadCertificate(deps, request.principal!, c))) throw new AppError('CERTIFICATE_NOT_FOUND');
      return { ...view(c), kind: certificateKind(deps, c) };
    },
  );

  app.get(
    '/v1/certificates/:id/pdf',
    { preHandler: reader, schema: { summary: '下载签名证照 The signed certificate PDF', tags: ['certificates'], security: [{ bearer: [] }], params: IdParams } },
    async (request, reply) => {
      const { id } = request.params;
      const c = await deps.store.certificates.get(id);
      if (!c) {
        // 都市圈通办: the owning node's signed file, byte for byte, to the holder who filed here.
        const remote = request.principal!.role === 'applicant' ? await deps.store.federation.getCertificate(id) : null;
        const bytes = remote && remote.holderCode === request.principal!.sub ? await deps.store.federation.getCertificatePdf(id) : null;
        if (!remote || !bytes) throw new AppError('CERTIFICATE_NOT_FOUND');
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="certificate-${id}.pdf"`)
          .header('x-content-sha256', remote.sha256)
          .send(Buffer.from(bytes));
      }
      if (!(await mayReadCertificate(deps, request.principal!, c))) throw new AppError('CERTIFICATE_NOT_FOUND');
      const pdf = await deps.store.certificates.getPdf(id);
      if (!pdf) throw new AppError('CERTIFICATE_NOT_FOUND');
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="certificate-${id}.pdf"`)
        .header('x-content-sha256', c.sha256)
        .send(Buffer.from(pdf));
    },
  );

  app.get(
    '/v1/trust',
    {
      schema: {
        summary: '信任锚 PEM of the roots certificates chain to',
        description:
          'This node’s own anchors — the roots of the PDF signatures and the SM2 roots of the OFD seals (国密) — then the anchors it pinned for its 都市圈通办 peers (it serves their certificates too). ?suite=intl or ?suite=gm gives one kind; ?scope=own this node’s own anchors only (what peers pin).',
        tags: ['certificates'],
        querystring: Type.Object(
          { suite: Type.Optional(Type.Union([Type.Literal('intl'), Type.Literal('gm')])), scope: Type.Optional(Type.Literal('own')) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { suite, scope } = request.query;
      const intl = scope === 'own' || !deps.federation ? deps.rootsPem : await deps.federation.trustPem(deps.rootsPem);
      const gm = deps.gmRootsPem ?? '';
      return reply.type('application/x-pem-file').send(suite === 'gm' ? gm : suite === 'intl' ? intl : intl + gm);
    },
  );

  // Revocation by an admin of the issuing department; anyone else's admin gets 404 (the certificate is not theirs).
  app.post(
    '/v1/certificates/:id/revoke',
    {
      preHandler: requireRole(deps.verifyToken, ['admin']),
      schema: {
        summary: '撤销证照 Revoke a certificate (admin of the issuing department)',
        tags: ['certificates'],
        security: [{ bearer: [] }],
        params: IdParams,
        body: RevokeBody,
        response: { 200: RevocationView, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { reason } = request.body;
      const p = request.principal!;
      const c = await deps.store.certificates.get(id);
      if (!c || p.dept !== c.issuerCode) throw new AppError('CERTIFICATE_NOT_FOUND');
      const r = await deps.store.revocations.revoke({ certificateId: id, reason: reason.trim(), revokedBy: p.sub, at: deps.clock().toISOString() });
      if (!r.revoked) throw new AppError(r.current ? 'CERTIFICATE_ALREADY_REVOKED' : 'CERTIFICATE_NOT_FOUND');
      request.log.info({ certificateId: id, revokedBy: p.sub, dept: p.dept }, 'certificate revoked');
      if (deps.webhookQueue) {
        // The revocation stands whatever happens here: until announced it stays in the outbox, and the worker's
        // revocation feed announces it (src/webhooks/revocation-feed.ts).
        await announceRevocation({ ...deps, webhookQueue: deps.webhookQueue, publicUrl: deps.config.publicUrl }, r.revocation).catch((err: unknown) =>
          request.log.warn({ certificateId: id, err: String(err) }, 'certificate.revoked deferred to the revocation feed'),
        );
      }
      return { id, status: 'revoked' as const, number: c.number, revokedAt: r.revocation.revokedAt, revokedBy: r.revocation.revokedBy, reason: r.revocation.reason };
    },
  );
}
