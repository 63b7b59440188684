/**
 * The reviewer's view of a filing's materials (issue 18), role `admin` of the matter's department (anyone else's
 * filing is 404): GET /v1/admin/applications/{id}/materials lists how each material was obtained — 免交 from shared
 * data, 复用 from the applicant's archive, upload, 告知承诺, 系统生成 — with the file the applicant supplied;
 * GET …/materials/{material} serves that file as it was uploaded (its type was judged by its bytes then).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireRole, type Principal } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps } from '../types.js';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const MaterialParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  material: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$', description: '材料编码 The material’s id in the matter (e.g. M5)' }),
});

const MaterialFile = Type.Object({
  archiveId: Type.String({ description: '档案材料 id (一人一档/一企一档)' }),
  fileName: Type.Union([Type.String(), Type.Null()], { description: 'the name the applicant gave the file' }),
  mediaType: Type.String({ description: 'application/pdf, image/jpeg or image/png (judged by the bytes at upload)' }),
  size: Type.Integer({ description: 'bytes' }),
  sha256: Type.String({ description: 'sha256 of the bytes, hex; the decision receipt records the same' }),
  validUntil: Type.Union([Type.String(), Type.Null()], { description: 'last day it may be reused (YYYY-MM-DD)' }),
  uploadedAt: Type.String(),
  href: Type.String({ description: 'GET it with the same token: the file itself' }),
});

const MaterialList = Type.Object({
  application: Type.Object({ id: Type.String(), number: Type.Union([Type.String(), Type.Null()]), matter: Type.String(), status: Type.String() }),
  materials: Type.Array(
    Type.Object({
      material: Type.String({ description: '材料编码' }),
      name: Type.String({ description: '材料名称' }),
      how: Type.String({ description: '获取方式: 证照共享 / 数据核验 / 业务协同 / 材料复用 / 告知承诺 / upload / 系统生成' }),
      status: Type.String({ description: 'verified | at-filing | pending | not_found | unknown | commitment | reused | upload | generated' }),
      category: Type.String({ description: 'exempted (免交) | reused (复用) | uploaded | committed | generated | missing' }),
      exempt: Type.Boolean({ description: '免交: nothing submitted for this filing (read from a source, or reused from the archive)' }),
      commitment: Type.Union([Type.String(), Type.Null()], { description: '告知承诺 text the applicant signed' }),
      file: Type.Union([MaterialFile, Type.Null()]),
    }),
  ),
});

const EXTENSION: Record<string, string> = { 'application/pdf': 'pdf', 'image/jpeg': 'jpg', 'image/png': 'png' };

/**
 * `attachment` with an ASCII name every client accepts and the applicant's own name (RFC 5987) for those that read
 * it; the applicant's name loses control characters, quotes and path separators first.
 */
export function contentDisposition(fallback: string, name: string | null): string {
  const base = `attachment; filename="${fallback}"`;
  // eslint-disable-next-line no-control-regex
  const clean = name?.replace(/[\u0000-\u001f\u007f"\\/]/g, '').trim();
  if (!clean) return base;
  const encoded = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${base}; filename*=UTF-8''${encoded}`;
}

export function reviewMaterialRoutes(deps: HttpDeps): FastifyPluginAsync {
  return async (instance: FastifyInstance) => {
    const authoring = deps.authoring;
    if (!authoring) return;
    const app = instance.withTypeProvider<TypeBoxTypeProvider>();
    const admin = requireRole(deps.verifyToken, ['admin']);
    const common = { tags: ['admin'], security: [{ bearer: [] }] };
    const actor = (p: Principal) => ({ sub: p.sub, dept: p.dept! });

    app.get(
      '/v1/admin/applications/:id/materials',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '申请材料 The filing’s materials: how each was obtained, and the applicant’s file where there is one',
          description: 'Admins of the matter’s department only; another department’s filing answers 404. Empty until the filing is decided.',
          params: Params,
          response: { 200: MaterialList, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
        },
      },
      async (request) => {
        const { id } = request.params;
        const { application, materials } = await authoring.filingMaterials(actor(request.principal!), id);
        const href = (m: string) => `/v1/admin/applications/${encodeURIComponent(application.id)}/materials/${m}`;
        return {
          application: { id: application.id, number: application.number, matter: application.matter, status: application.status },
          materials: materials.map((m) => ({ ...m, file: m.file ? { ...m.file, href: href(m.material) } : null })),
        };
      },
    );

    // The file is bytes, not JSON: typed from the params schema without the provider, whose reply would only take the
    // JSON responses.
    instance.get<{ Params: Static<typeof MaterialParams> }>(
      '/v1/admin/applications/:id/materials/:material',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '打开申请材料 The applicant’s file of one material, with its content type and sha256',
          description: 'Sent as an attachment, with X-Content-SHA256. 404 MATERIAL_NOT_FOUND when the material has no file (免交, 承诺, 系统生成 or not submitted).',
          params: MaterialParams,
          response: { 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
        },
      },
      async (request, reply) => {
        const { id, material } = request.params;
        const { item, bytes } = await authoring.openMaterial(actor(request.principal!), id, material);
        request.log.info({ applicationId: id, material, dept: request.principal!.dept }, 'reviewer opened a material');
        return reply
          .type(item.mediaType)
          .header('content-disposition', contentDisposition(`${material}-${id}.${EXTENSION[item.mediaType] ?? 'bin'}`, item.fileName))
          .header('x-content-sha256', item.sha256)
          .header('x-content-type-options', 'nosniff')
          .header('cache-control', 'private, no-store')
          .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      },
    );
  };
}
