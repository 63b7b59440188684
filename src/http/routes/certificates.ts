/** Certificates for holders and downstream systems, the trust anchors, and the public verification page. */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import type { CertificateRow } from '../../store/types.js';
import { requireRole, type Principal } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps } from '../types.js';

const CertificateView = Type.Object({
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
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** The holder, consumers with scope certificates:read, admins of the issuing department. */
function mayRead(p: Principal, c: CertificateRow): boolean {
  if (p.role === 'applicant') return p.sub === c.holderCode;
  if (p.role === 'consumer') return p.scopes.includes('certificates:read');
  if (p.role === 'admin') return p.dept === c.issuerCode;
  return false;
}

function view(c: CertificateRow) {
  return {
    id: c.id,
    number: c.number,
    licenseId: c.licenseId,
    matter: c.matter,
    status: c.status,
    holder: { name: c.holderName, code: c.holderCode },
    issuer: { name: c.issuerName, code: c.issuerCode },
    issuedAt: c.issuedAt,
    validUntil: c.validUntil,
    sha256: c.sha256,
    applicationId: c.applicationId,
  };
}

/** 身份号码 of a natural person shown as 2101**********1237; an organisation's code is public. */
export function maskCode(code: string): string {
  return /^\d{17}[\dX]$/.test(code) ? `${code.slice(0, 4)}**********${code.slice(-4)}` : code;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]!);

export function certificateRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const reader = requireRole(deps.verifyToken, ['applicant', 'consumer', 'admin']);

  app.get(
    '/v1/certificates/:id',
    { preHandler: reader, schema: { summary: '证照信息 Certificate metadata', tags: ['certificates'], security: [{ bearer: [] }], params: IdParams, response: { 200: CertificateView, 404: ErrorResponse } } },
    async (request) => {
      const { id } = request.params as { id: string };
      const c = await deps.store.certificates.get(id);
      if (!c || !mayRead(request.principal!, c)) throw new AppError('CERTIFICATE_NOT_FOUND');
      return view(c);
    },
  );

  app.get(
    '/v1/certificates/:id/pdf',
    { preHandler: reader, schema: { summary: '下载签名证照 The signed certificate PDF', tags: ['certificates'], security: [{ bearer: [] }], params: IdParams } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const c = await deps.store.certificates.get(id);
      if (!c || !mayRead(request.principal!, c)) throw new AppError('CERTIFICATE_NOT_FOUND');
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
    { schema: { summary: '信任锚 PEM of the roots certificates chain to', tags: ['certificates'] } },
    async (_request, reply) => reply.type('application/x-pem-file').send(deps.rootsPem),
  );

  // The page the QR code opens: the register entry, holder masked where personal. Wrong code → 404.
  app.get(
    '/verify/:id/:code',
    { schema: { hide: true, params: Type.Object({ id: Type.String({ maxLength: 64 }), code: Type.String({ maxLength: 64 }) }) } },
    async (request, reply) => {
      const { id, code } = request.params as { id: string; code: string };
      const c = await deps.store.certificates.get(id);
      if (!c || c.verifyCode !== code) {
        return reply.status(404).type('text/html; charset=utf-8').send(page('未找到证照', '<p class="bad">未找到该证照，或核验码不正确。请核对二维码或链接。</p>'));
      }
      const status = c.status === 'valid' ? '<span class="ok">有效</span>' : c.status === 'revoked' ? '<span class="bad">已撤销</span>' : '<span class="bad">已被替代</span>';
      const rows: Array<[string, string]> = [
        ['证照名称', deps.catalog.get(c.matter)?.def.output.certificate.title ?? c.matter],
        ['编号', c.number],
        ['证照标识', c.licenseId],
        ['持证主体', c.holderName],
        ['持证主体代码', maskCode(c.holderCode)],
        ['签发机关', c.issuerName],
        ['签发时间', c.issuedAt],
        ['有效期至', c.validUntil ?? '长期'],
        ['文件 SHA-256', c.sha256],
      ];
      const body = `<p>状态：${status}</p><table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<p class="hint">下载的 PDF 文件的 SHA-256 应与上表一致；签名可用任一 PDF 阅读器或 <code>pdfsig</code> 核验，信任锚见 <a href="/v1/trust">/v1/trust</a>。</p>`;
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page('电子证照核验', body));
    },
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>body{font-family:system-ui,"Noto Sans SC",sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.6}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;word-break:break-all}th{white-space:nowrap;color:#555}
.ok{color:#0a7a2f;font-weight:bold}.bad{color:#c00;font-weight:bold}.hint{color:#666;font-size:.9em}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;
}
