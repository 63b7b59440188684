/**
 * The applicant's archive (一人一档/一企一档): POST /v1/materials uploads a material once (PDF, JPEG or PNG, judged by
 * its bytes; sha256; validity date); GET /v1/me/archive lists the materials and the certificates issued to the
 * applicant. Later filings reuse what is still valid (材料复用) without asking again.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { AppError } from '../../errors.js';
import { chinaDay } from '../../pipeline/issue-certificate.js';
import type { ArchiveMaterialRow } from '../../store/types.js';
import { requireRole } from '../auth.js';
import { subjectThrottle } from '../throttle.js';
import { multipartBoundary, parseMultipart, sniffMediaType } from '../multipart.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps } from '../types.js';

/** Room for the multipart envelope and fields on top of the file itself. */
const ENVELOPE_BYTES = 64 * 1024;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RAW_TYPES = ['application/pdf', 'image/jpeg', 'image/png', 'application/octet-stream'];

const MaterialView = Type.Object({
  id: Type.String(),
  matter: Type.String(),
  material: Type.String(),
  name: Type.String(),
  mediaType: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  fileName: Type.Union([Type.String(), Type.Null()]),
  validUntil: Type.Union([Type.String(), Type.Null()]),
  uploadedAt: Type.String(),
  status: Type.Union([Type.Literal('valid'), Type.Literal('expired')]),
});

const ArchiveView = Type.Object({
  materials: Type.Array(MaterialView),
  certificates: Type.Array(
    Type.Object({
      id: Type.String(),
      number: Type.String(),
      matter: Type.String(),
      status: Type.String(),
      issuer: Type.Object({ name: Type.String(), code: Type.String() }),
      issuedAt: Type.String(),
      validUntil: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

const UploadQuery = Type.Object(
  {
    matter: Type.Optional(Type.String({ maxLength: 64 })),
    material: Type.Optional(Type.String({ maxLength: 64 })),
    validUntil: Type.Optional(Type.String({ maxLength: 10 })),
    fileName: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

function view(m: ArchiveMaterialRow, today: string) {
  return { ...m, status: m.validUntil === null || m.validUntil >= today ? ('valid' as const) : ('expired' as const) };
}

function isCalendarDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** The upload as fields + bytes, from multipart/form-data or a raw body with the fields in the query string. */
function uploadOf(
  body: unknown,
  query: Static<typeof UploadQuery>,
  contentType: string | undefined,
): { fields: Record<string, string | undefined>; fileName: string | null; bytes: Buffer } {
  const boundary = multipartBoundary(contentType);
  if (boundary) {
    if (!Buffer.isBuffer(body)) throw new AppError('MATERIAL_EMPTY');
    const form = parseMultipart(body, boundary);
    if (!form.file) throw new AppError('MATERIAL_EMPTY');
    return { fields: { ...query, ...form.fields }, fileName: form.file.fileName ?? form.fields['fileName'] ?? null, bytes: form.file.bytes };
  }
  if (!Buffer.isBuffer(body) || body.length === 0) throw new AppError('MATERIAL_EMPTY');
  return { fields: query, fileName: query['fileName'] ?? null, bytes: body };
}

export function archiveRoutes(deps: HttpDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const applicant = requireRole(deps.verifyToken, ['applicant']);
    const maxBytes = deps.config.materialMaxBytes;
    // Scoped to this plugin: the file arrives as bytes; its declared type is ignored, its content decides.
    app.addContentTypeParser([...RAW_TYPES, 'multipart/form-data'], { parseAs: 'buffer', bodyLimit: maxBytes + ENVELOPE_BYTES }, (_req, body, done) => {
      done(null, body);
    });

    app.post(
      '/v1/materials',
      {
        onRequest: subjectThrottle(deps, 'materials', deps.config.throttles.materialsPerMinute),
        preValidation: applicant,
        bodyLimit: maxBytes + ENVELOPE_BYTES,
        schema: {
          summary: '上传材料到档案 Upload a material to the applicant’s archive (一人一档/一企一档)',
          description:
            'multipart/form-data with one file part and the fields matter, material, validUntil (YYYY-MM-DD, optional); or the file as the raw body (application/pdf, image/jpeg, image/png, application/octet-stream) with those fields in the query string. The type is decided by the bytes (PDF, JPEG, PNG only). The same file for the same material is kept once (200); a new one answers 201.',
          tags: ['archive'],
          security: [{ bearer: [] }],
          querystring: UploadQuery,
          response: { 200: MaterialView, 201: MaterialView, 400: ErrorResponse, 401: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 422: ErrorResponse },
        },
      },
      async (request, reply) => {
        const p = request.principal!;
        const { fields, fileName, bytes } = uploadOf(request.body, request.query, request.headers['content-type']);
        const matter = fields['matter'] ? deps.catalog.get(fields['matter']) : undefined;
        if (!matter) throw new AppError('MATTER_UNKNOWN', { errors: [{ path: '/matter', message: `未知事项 Unknown matter "${fields['matter'] ?? ''}"` }] });
        const material = matter.def.materials.find((m) => m.id === fields['material']);
        if (!material) {
          throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/material', message: `事项 ${matter.def.code} 没有材料 "${fields['material'] ?? ''}" Unknown material` }] });
        }
        if (!material.acquisition.includes('upload') && !material.acquisition.includes('材料复用')) throw new AppError('MATERIAL_NOT_ARCHIVABLE');
        const today = chinaDay(deps.clock());
        const validUntil = fields['validUntil'] ?? null;
        if (validUntil !== null && (!isCalendarDate(validUntil) || validUntil < today)) {
          throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/validUntil', message: '有效期应为今天或以后的日期 YYYY-MM-DD validUntil must be a date from today on' }] });
        }
        if (bytes.length === 0) throw new AppError('MATERIAL_EMPTY');
        if (bytes.length > maxBytes) throw new AppError('MATERIAL_TOO_LARGE', { message: `材料文件过大（上限 ${maxBytes} 字节） The material exceeds ${maxBytes} bytes` });
        const mediaType = sniffMediaType(bytes);
        if (!mediaType) throw new AppError('MATERIAL_TYPE_UNSUPPORTED');
        const quota = deps.config.throttles.materialQuotaBytesPerDay;
        const now = deps.clock();
        const reserved = deps.limits && quota > 0 ? await deps.limits.reserveBytes(p.sub, bytes.length, quota, now) : null;
        if (reserved && !reserved.allowed) {
          reply.header('retry-after', String(reserved.retryAfterSeconds));
          throw new AppError('UPLOAD_QUOTA_EXCEEDED', {
            message: `今日上传材料已达上限（每日 ${quota} 字节，已用 ${reserved.usedBytes} 字节），请明日再试 Daily upload quota of ${quota} bytes reached (${reserved.usedBytes} used); retry after ${reserved.retryAfterSeconds} s`,
          });
        }
        const res = await deps.store.archive
          .put({
          id: deps.newId(),
          subject: p.sub,
          matter: matter.def.code,
          material: material.id,
          name: material.name,
          mediaType,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          fileName: fileName === null ? null : fileName.slice(0, 200),
          validUntil,
          uploadedAt: deps.clock().toISOString(),
          bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          })
          .catch(async (err: unknown) => {
            if (reserved?.allowed) await deps.limits!.releaseBytes(p.sub, bytes.length, now);
            throw err;
          });
        // The same file again is kept once and costs no quota.
        if (!res.created && reserved?.allowed) await deps.limits!.releaseBytes(p.sub, bytes.length, now);
        return reply.status(res.created ? 201 : 200).send(view(res.item, today));
      },
    );

    app.get(
      '/v1/me/archive',
      {
        preHandler: applicant,
        schema: {
          summary: '我的档案 The applicant’s archive: uploaded materials and certificates issued to it',
          tags: ['archive'],
          security: [{ bearer: [] }],
          response: { 200: ArchiveView, 401: ErrorResponse, 403: ErrorResponse },
        },
      },
      async (request) => {
        const p = request.principal!;
        const today = chinaDay(deps.clock());
        const [materials, certificates] = await Promise.all([deps.store.archive.list(p.sub), deps.store.certificates.list({ holderCode: p.sub, limit: 1000 })]);
        return {
          materials: materials.map((m) => view(m, today)),
          certificates: certificates.map((c) => ({
            id: c.id,
            number: c.number,
            matter: c.matter,
            status: c.status,
            issuer: { name: c.issuerName, code: c.issuerCode },
            issuedAt: c.issuedAt,
            validUntil: c.validUntil,
          })),
        };
      },
    );
  };
}
