/**
 * 一件事 bundles over HTTP (DESIGN.md §10): the catalog (GET /v1/bundles[/{code}]), one guide for the whole bundle,
 * filing (POST /v1/applications with `bundle`, handled here for applications.ts), the bundle's view in
 * GET /v1/applications/{id} with `members[]`, its one e-form and its signed result notice, the applicant's list, each
 * department's view of its own members, the push a department calls when an awaited record arrives, and the portal's
 * tracking page at /bundles.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { guideBundle } from '../../bundles/bundle-guide.js';
import { recordArrived } from '../../bundles/awaited.js';
import { validateBundleFiling, type BundleFilingBody } from '../../bundles/intake.js';
import type { LoadedBundle } from '../../bundles/load-bundles.js';
import { memberViews, type MemberView } from '../../bundles/progress.js';
import { canonicalJson } from '../../catalog/load-catalog.js';
import { isValidIdNumber, isValidUscc } from '../../domain/identifiers.js';
import { AppError } from '../../errors.js';
import { chinaDay } from '../../pipeline/issue-certificate.js';
import type { BundleApplicationRow, NewConsent } from '../../store/types.js';
import { requireRole, type Principal } from '../auth.js';
import { ErrorResponse, FileResponse } from '../schemas.js';
import type { HttpDeps } from '../types.js';
import { PUBLIC_DIR } from './portal.js';

const Reason = Type.Object({ rule: Type.String(), message: Type.String(), basis: Type.String(), result: Type.String() });
export const MemberViewSchema = Type.Object({
  matter: Type.String(),
  name: Type.String(),
  department: Type.String(),
  departmentCode: Type.String(),
  level: Type.String({ description: '办理层级 区县/市/省' }),
  mode: Type.String({ description: 'request 依申请 | proactive 免申即享' }),
  status: Type.String({ description: 'queued | processing | approved | rejected | manual_review | failed' }),
  decision: Type.Union([Type.Null(), Type.Object({ outcome: Type.String(), reasons: Type.Array(Reason) })]),
  certificate: Type.Optional(Type.Object({ id: Type.String(), number: Type.String() })),
  waitingFor: Type.Optional(Type.Array(Type.String(), { description: '尚未办结的前置服务（事项代码）或待业务协同送达的数源' })),
  applicationId: Type.Optional(Type.String()),
  decidedAt: Type.Optional(Type.String()),
});

/** Added to the body of POST /v1/applications: a bundle instead of a matter, and the members asked for. */
export const BundleFilingFields = {
  bundle: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '“一件事”代码 (instead of matter), e.g. disability-services' })),
  members: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50, uniqueItems: true, description: '申请的服务（事项代码）；免申即享的服务符合条件即办理' })),
};

/** Added to GET /v1/applications/{id} for a bundle application. */
export const BundleViewFields = {
  bundle: Type.Optional(Type.String()),
  completedAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  members: Type.Optional(Type.Array(MemberViewSchema)),
  notice: Type.Optional(Type.Object({ number: Type.Union([Type.String(), Type.Null()]), sha256: Type.String(), createdAt: Type.String() })),
};

const ENQUEUE_WAIT_MS = 250;
const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function loadedBundle(deps: HttpDeps, code: string): LoadedBundle | undefined {
  return deps.bundles?.get(code);
}

/** Departments whose admins see a bundle application: each sees only its own members. */
function memberDepartments(deps: HttpDeps, row: BundleApplicationRow): Set<string> {
  return new Set(row.members.map((m) => deps.catalog.get(m.matter)?.def.department.code).filter((c): c is string => c !== undefined));
}

function readableMembers(deps: HttpDeps, p: Principal, row: BundleApplicationRow, views: MemberView[]): MemberView[] | null {
  if (p.role === 'applicant') return p.sub === row.applicant ? views : null;
  if (p.role === 'admin' && p.dept && memberDepartments(deps, row).has(p.dept)) return views.filter((v) => v.departmentCode === p.dept);
  return null;
}

/** GET /v1/applications/{id} of a bundle application, or null when there is none the principal may read. */
export async function readBundleApplication(deps: HttpDeps, id: string, p: Principal) {
  const row = await deps.store.bundles.get(id);
  const bundle = row ? loadedBundle(deps, row.bundle) : undefined;
  if (!row || !bundle) return null;
  const members = readableMembers(deps, p, row, memberViews(bundle, row, deps.catalog));
  if (!members) return null;
  const notice = await deps.store.bundles.latestDocument(id, 'notice');
  return {
    id: row.id,
    matter: row.bundle,
    bundle: row.bundle,
    status: row.status,
    createdAt: row.createdAt,
    decidedAt: row.completedAt,
    completedAt: row.completedAt,
    decision: null,
    members,
    ...(notice ? { notice: { number: notice.number, sha256: notice.sha256, createdAt: notice.createdAt } } : {}),
  };
}

/** The one e-form of a bundle application (GET /v1/applications/{id}/form), or null. */
export async function readBundleForm(deps: HttpDeps, id: string, p: Principal) {
  const row = await deps.store.bundles.get(id);
  const bundle = row ? loadedBundle(deps, row.bundle) : undefined;
  if (!row || !bundle || !readableMembers(deps, p, row, memberViews(bundle, row, deps.catalog))) return null;
  const doc = await deps.store.bundles.latestDocument(id, 'form');
  if (!doc) throw new AppError('FORM_NOT_READY');
  return doc;
}

function consentFor(deps: HttpDeps, code: string, subject: string, now: Date): NewConsent {
  const def = deps.catalog.get(code)!.def;
  return {
    id: deps.newId(),
    subject,
    matter: code,
    purpose: def.consent.purpose,
    sources: [...new Set(def.lookups.map((l) => l.source))].sort(),
    grantedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.config.consentValidityDays * 86_400_000).toISOString(),
  };
}

/** POST /v1/applications with `bundle`: one consent, one form; 202 {id, status}. The key was checked by the caller. */
export async function fileBundle(deps: HttpDeps, request: FastifyRequest, reply: FastifyReply, body: BundleFilingBody, key: string | undefined) {
  const p = request.principal!;
  const bundle = loadedBundle(deps, body.bundle);
  if (!bundle || !deps.bundleQueue) throw new AppError('BUNDLE_UNKNOWN', { errors: [{ path: '/bundle', message: `未知“一件事” Unknown bundle "${body.bundle}"` }] });
  const members = validateBundleFiling(bundle, deps.catalog, body, p.sub);
  const now = deps.clock();
  const bodyHash = createHash('sha256').update(canonicalJson(body)).digest('hex');
  const id = deps.newId();
  const response = { status: 202, body: { id, status: 'processing' } };
  const res = await deps.store.bundles.create({
    id,
    bundle: bundle.def.code,
    bundleVersion: bundle.version,
    applicant: p.sub,
    answers: body.answers as Record<string, string>,
    form: body.form,
    consent: body.consent,
    members,
    bodyHash,
    idempotencyKey: key ?? null,
    // Kept for IDEMPOTENCY_TTL_HOURS, like a single filing's key (issue 17).
    idempotencyExpiresAt: key === undefined ? null : new Date(now.getTime() + deps.config.idempotencyTtlHours * 3_600_000).toISOString(),
    response,
    createdAt: now.toISOString(),
    consents: members.map((code) => consentFor(deps, code, p.sub, now)),
  });
  if (!res.created) {
    if (res.bodyHash !== bodyHash) throw new AppError('IDEMPOTENCY_KEY_REUSED');
    // A replay: the answer stored with the key (keys older than migration 0055 have none: the one always given).
    const stored = res.response ?? { status: 202, body: { id: res.id, status: 'processing' } };
    return reply.status(stored.status as 202).header('location', `/v1/applications/${res.id}`).header('idempotent-replayed', 'true').send(stored.body);
  }
  deps.metrics.accepted(bundle.def.code);
  // Fast path; with Redis away the bundle is due for the sweep already (next check = now), so nothing is lost.
  await Promise.race([
    deps.bundleQueue.advance([{ bundleId: id, why: 'intake' }]),
    new Promise((_, reject) => setTimeout(() => reject(new Error('enqueue timed out')), ENQUEUE_WAIT_MS).unref()),
  ]).catch((err: unknown) => request.log.warn({ err: String(err), bundleId: id }, 'bundle step deferred to the sweep'));
  return accepted(reply, id);
}

function accepted(reply: FastifyReply, id: string) {
  return reply.status(202).header('location', `/v1/applications/${id}`).send({ id, status: 'processing' });
}

function bundleSummary(deps: HttpDeps, b: LoadedBundle) {
  const d = b.def;
  return {
    code: d.code,
    name: d.name,
    owner: d.owner,
    version: b.version,
    members: d.members.map((m) => {
      const def = deps.catalog.get(m.matter)?.def;
      return {
        matter: m.matter,
        name: def?.name ?? m.matter,
        department: def?.department.name ?? '',
        departmentCode: def?.department.code ?? '',
        level: m.level,
        mode: m.mode,
        dependsOn: m.dependsOn ?? [],
        ...(m.appliesWhen ? { appliesWhen: m.appliesWhen } : {}),
      };
    }),
  };
}

const CodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const GuideBody = Type.Object(
  {
    answers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: '共同问题的回答 (question id → option)' })),
    person: Type.Optional(
      Type.Object(
        { name: Type.String({ minLength: 1, maxLength: 50 }), idNumber: Type.String({ minLength: 15, maxLength: 18 }) },
        { additionalProperties: false, description: '残疾人（有申请人令牌时据此预检各项服务，预勾选可办理的服务）' },
      ),
    ),
  },
  { additionalProperties: false },
);
const ArrivalBody = Type.Object({ key: Type.String({ minLength: 1, maxLength: 64, description: '记录的键，如公民身份号码' }) }, { additionalProperties: false });

export function bundleRoutes(deps: HttpDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const applicant = requireRole(deps.verifyToken, ['applicant']);
    const reader = requireRole(deps.verifyToken, ['applicant', 'admin']);
    const admin = requireRole(deps.verifyToken, ['admin']);
    const consumer = requireRole(deps.verifyToken, ['consumer']);
    const all = () => [...(deps.bundles?.bundles.values() ?? [])];
    const byCode = (code: string) => {
      const b = loadedBundle(deps, code);
      if (!b) throw new AppError('BUNDLE_NOT_FOUND');
      return b;
    };

    app.get('/v1/bundles', { schema: { summary: '“一件事”目录 Bundles: members with department, level, dependencies', tags: ['bundles'] } }, async () => ({
      items: all().map((b) => bundleSummary(deps, b)),
    }));

    app.get(
      '/v1/bundles/:code',
      { schema: { summary: '“一件事” A bundle: questions, form, members with department, level, mode and dependencies', tags: ['bundles'], params: CodeParams, response: { 200: Type.Unknown(), 404: ErrorResponse } } },
      async (request) => {
        const b = byCode(request.params.code);
        return { ...bundleSummary(deps, b), legalBasis: b.def.legalBasis, applicantTypes: b.def.applicantTypes, consent: b.def.consent, questions: b.def.questions, form: b.def.form };
      },
    );

    app.post(
      '/v1/bundles/:code/guide',
      {
        schema: {
          summary: '“一件事”办事指南 One guide: members that apply (pre-ticked), materials and fields once, open questions',
          tags: ['bundles'],
          params: CodeParams,
          body: GuideBody,
          response: { 200: Type.Unknown(), 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse },
        },
      },
      async (request) => {
        const b = byCode(request.params.code);
        const body = request.body;
        const answers = body.answers ?? {};
        if (!b.validateAnswers(answers)) {
          throw new AppError('REQUEST_VALIDATION', { errors: (b.validateAnswers.errors ?? []).map((e) => ({ path: `/answers${e.instancePath}`, message: e.message })) });
        }
        let sub: string | null = null;
        const header = request.headers.authorization;
        if (header) {
          const m = /^Bearer\s+(\S+)$/i.exec(header);
          if (!m?.[1]) throw new AppError('AUTH_TOKEN_MISSING');
          const p = await deps.verifyToken(m[1]);
          sub = p.role === 'applicant' ? p.sub : null;
        }
        if (body.person && !isValidIdNumber(body.person.idNumber, chinaDay(deps.clock()))) {
          throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/person/idNumber', message: '公民身份号码无效（校验位或出生日期错误） Invalid 公民身份号码' }] });
        }
        const guideDeps = { store: deps.store, clock: deps.clock, ...(deps.sources ? { sources: deps.sources } : {}), ...(deps.sourceNames ? { sourceNames: deps.sourceNames } : {}) };
        return guideBundle(guideDeps, deps.catalog, b, { answers, applicant: sub, ...(body.person && sub ? { person: body.person } : {}) });
      },
    );

    app.get(
      '/v1/applications/:id/notice',
      {
        preValidation: reader,
        schema: { summary: '办理结果告知书 The signed result notice (一次告知) of a bundle application', tags: ['bundles'], security: [{ bearer: [] }], params: IdParams, response: { 200: FileResponse('application/pdf'), 404: ErrorResponse, 409: ErrorResponse } },
      },
      async (request, reply) => {
        const { id } = request.params;
        const p = request.principal!;
        const row = await deps.store.bundles.get(id);
        const bundle = row ? loadedBundle(deps, row.bundle) : undefined;
        if (!row || !bundle || !readableMembers(deps, p, row, memberViews(bundle, row, deps.catalog))) throw new AppError('APPLICATION_NOT_FOUND');
        const doc = await deps.store.bundles.latestDocument(id, 'notice');
        if (!doc) throw new AppError('NOTICE_NOT_READY');
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="notice-${id}.pdf"`)
          .header('x-content-sha256', doc.sha256)
          .send(Buffer.from(doc.bytes));
      },
    );

    app.get(
      '/v1/me/bundles',
      { preValidation: applicant, schema: { summary: '我的“一件事” My bundle applications, newest first', tags: ['bundles'], security: [{ bearer: [] }] } },
      async (request) => {
        const rows = await deps.store.bundles.forApplicant(request.principal!.sub, 50);
        return {
          items: rows.flatMap((row) => {
            const b = loadedBundle(deps, row.bundle);
            if (!b) return [];
            return [{ id: row.id, bundle: row.bundle, name: b.def.name, status: row.status, createdAt: row.createdAt, completedAt: row.completedAt, members: memberViews(b, row, deps.catalog).map(({ matter, name, status }) => ({ matter, name, status })) }];
          }),
        };
      },
    );

    app.get(
      '/v1/admin/bundles',
      {
        preValidation: admin,
        schema: {
          summary: '本部门的“一件事”办件 Bundle applications with a member of your department (only your members shown)',
          tags: ['admin'],
          security: [{ bearer: [] }],
          querystring: Type.Object(
            { status: Type.Optional(Type.Union([Type.Literal('processing'), Type.Literal('completed')])), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })) },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => {
        const p = request.principal!;
        const q = request.query;
        const mine = [...deps.catalog.matters.values()].filter((m) => m.def.department.code === p.dept).map((m) => m.def.code);
        const rows = await deps.store.bundles.forMatters(mine, { limit: Math.min(Math.max(Number(q.limit ?? 50), 1), 200), ...(q.status ? { status: q.status } : {}) });
        return {
          items: rows.flatMap((row) => {
            const b = loadedBundle(deps, row.bundle);
            if (!b) return [];
            return [{ id: row.id, bundle: row.bundle, name: b.def.name, applicant: row.applicant, status: row.status, createdAt: row.createdAt, completedAt: row.completedAt, members: memberViews(b, row, deps.catalog).filter((v) => v.departmentCode === p.dept) }];
          }),
        };
      },
    );

    app.post(
      '/v1/data-sources/:code/arrivals',
      {
        preValidation: consumer,
        schema: {
          summary: '业务协同结果送达 A department tells that a record awaited by filings has arrived (consumer scope collaboration:notify)',
          description: 'The record itself is read from the data source as usual; this only says "read again now". The answer is the same whether or not anything was waiting.',
          tags: ['collaboration'],
          security: [{ bearer: [] }],
          params: CodeParams,
          body: ArrivalBody,
          response: { 202: Type.Object({ accepted: Type.Boolean() }), 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
        },
      },
      async (request, reply) => {
        const p = request.principal!;
        if (!p.scopes.includes('collaboration:notify')) {
          throw new AppError('AUTH_ROLE_FORBIDDEN', { message: '令牌缺少 scope collaboration:notify The token needs scope collaboration:notify' });
        }
        const source = request.params.code;
        const keyType = deps.sourceKeyTypes?.get(source);
        if (!keyType || !deps.sources?.has(source)) throw new AppError('DATA_SOURCE_NOT_FOUND');
        const key = request.body.key.trim();
        const today = chinaDay(deps.clock());
        const valid = keyType === 'id-number' ? isValidIdNumber(key, today) : keyType === 'uscc' ? isValidUscc(key) : keyType === 'uscc-or-id-number' ? isValidUscc(key) || isValidIdNumber(key, today) : true;
        if (!valid) throw new AppError('DATA_SOURCE_KEY_INVALID', { errors: [{ path: '/key', message: `键值不是有效的 ${keyType} The key is not a valid ${keyType}` }] });
        const reopened = await recordArrived({ store: deps.store, queue: deps.queue, clock: deps.clock }, source, key);
        request.log.info({ source, notifiedBy: p.sub, reopened }, 'awaited record arrived');
        return reply.status(202).send({ accepted: true });
      },
    );

    const page = readFileSync(path.join(PUBLIC_DIR, 'bundles.html'));
    app.get('/bundles', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', PAGE_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(page),
    );
  };
}
