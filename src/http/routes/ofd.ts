/**
 * GET /v1/certificates/{id}/ofd (issue 15): the certificate as an OFD package sealed per GB/T 38540 (SM2), with the
 * same access rules as the PDF. Made at issuance for `gm` departments, on first request for the others.
 */
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import { requireRole } from '../auth.js';
import { ErrorResponse, FileResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';
import { mayRead } from './certificates.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function ofdRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  // Without a 国密 PKI (production, until SM2 seal keys can be mounted) the route says so rather than vanishing.
  const ofd = deps.ofd;
  app.get(
    '/v1/certificates/:id/ofd',
    {
      preHandler: requireRole(deps.verifyToken, ['applicant', 'consumer', 'admin']),
      schema: {
        summary: '下载 OFD 版式证照 The certificate as OFD (GB/T 33190), sealed with SM2 per GB/T 38540',
        description: 'Same content as the PDF; SES_Signature in Doc_0/Signs/Sign_0/SignedValue.dat with SM3 check values of every file. Verify with POST /v1/verify (content-type: application/ofd) or with openssl against GET /v1/trust?suite=gm.',
        tags: ['certificates'],
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: FileResponse('application/ofd'), 404: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const c = await deps.store.certificates.get(id);
      if (!c || !mayRead(request.principal!, c)) throw new AppError('CERTIFICATE_NOT_FOUND');
      if (!ofd) throw new AppError('OFD_UNAVAILABLE');
      let doc;
      try {
        doc = await ofd.get(c);
      } catch (err) {
        request.log.error({ err: (err as Error).message, certificate: id }, 'OFD could not be made');
        throw new AppError('OFD_UNAVAILABLE');
      }
      return reply
        .type('application/ofd')
        .header('content-disposition', `attachment; filename="${encodeURIComponent(c.number)}.ofd"; filename*=UTF-8''${encodeURIComponent(c.number)}.ofd`)
        .header('x-content-sha256', doc.sha256)
        .send(Buffer.from(doc.bytes.buffer, doc.bytes.byteOffset, doc.bytes.byteLength));
    },
  );
}
