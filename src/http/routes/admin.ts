/**
 * Admin API (issue 6), role `admin`, scoped to the token's `dept`: matters and their versions, drafts (JSON or
 * YAML), tests, back-test, four-eyes approval, publish, rollback, the manual review queue and the audit log.
 * Another department's matters, drafts and filings answer 404.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { stringify } from 'yaml';
import type { Actor } from '../../authoring/authoring.js';
import { AppError } from '../../errors.js';
import { requireRole } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps } from '../types.js';

const CodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const VersionParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }), version: Type.String({ pattern: '^[0-9a-f]{64}$' }) });
const Limit = (max: number) => Type.Optional(Type.Integer({ minimum: 1, maximum: max }));
/** Query strings are not coerced (ajv coerceTypes: false): numbers arrive as digit strings. */
const QueryInt = Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' }));
const clamp = (v: string | undefined, dflt: number, max: number) => (v === undefined ? dflt : Math.min(Math.max(Number(v), 1), max));
const OneLine = (description: string) =>
  Type.String({ minLength: 2, maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]*\\S[^\\u0000-\\u001f\\u007f]*$', description });
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const DRAFT_BODY_LIMIT = 2 * 1024 * 1024;
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse };

function actor(request: FastifyRequest): Actor {
  const p = request.principal!;
  return { sub: p.sub, dept: p.dept! };
}

export function adminRoutes(deps: HttpDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const authoring = deps.authoring;
    if (!authoring) return;
    // Drafts may be sent as YAML (comments kept in the stored source); scoped to this plugin.
    app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: DRAFT_BODY_LIMIT }, (_req, body, done) => done(null, body));
    const admin = requireRole(deps.verifyToken, ['admin']);
    const common = { tags: ['admin'], security: [{ bearer: [] }] };

    app.get('/v1/admin/matters', { preValidation: admin, schema: { ...common, summary: '本部门事项 Matters of your department' } }, async (request) => ({
      matters: authoring.listMatters(actor(request)),
    }));

    app.get(
      '/v1/admin/matters/:code/versions',
      { preValidation: admin, schema: { ...common, summary: '事项版本 Published versions of a matter', params: CodeParams, response: { 200: Type.Unknown(), 404: ErrorResponse } } },
      async (request) => authoring.listVersions(actor(request), request.params.code),
    );

    app.get(
      '/v1/admin/matters/:code/versions/:version',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '某一版本的事项定义 One version; ?format=yaml exports the file (postable as a draft)',
          params: VersionParams,
          querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('yaml')])) }, { additionalProperties: false }),
          response: { 200: Type.Unknown(), 404: ErrorResponse },
        },
      },
      async (request, reply) => {
        const { code, version } = request.params;
        const v = await authoring.getVersion(actor(request), code, version);
        if (request.query.format === 'yaml') {
          const text = v.sourceFormat === 'yaml' ? v.source : stringify(v.definition);
          return reply
            .type('application/yaml; charset=utf-8')
            .header('content-disposition', `attachment; filename="${code}.yaml"`)
            .header('x-matter-version', version)
            .send(text);
        }
        const { source: _source, sourceFormat: _format, ...rest } = v;
        return rest;
      },
    );

    app.post(
      '/v1/admin/matters/:code/drafts',
      {
        preValidation: admin,
        bodyLimit: DRAFT_BODY_LIMIT,
        schema: {
          ...common,
          summary: '新建草稿 A draft: the full matter definition as JSON or YAML (application/yaml)',
          params: CodeParams,
          response: { 201: Type.Unknown(), ...errors },
        },
      },
      async (request, reply) => {
        const { code } = request.params;
        const body = request.body;
        let text: string;
        let format: 'yaml' | 'json';
        if (typeof body === 'string') {
          text = body;
          format = 'yaml';
        } else if (body && typeof body === 'object' && !Array.isArray(body)) {
          text = JSON.stringify(body);
          format = 'json';
        } else {
          throw new AppError('DRAFT_INVALID', { errors: [{ path: '/', message: '请求体须为事项定义（JSON 对象或 YAML） The body must be a matter definition (JSON object or YAML)' }] });
        }
        const draft = await authoring.createDraft(actor(request), code, text, format);
        return reply.status(201).header('location', `/v1/admin/drafts/${draft.id}`).send(draft);
      },
    );

    app.get(
      '/v1/admin/drafts',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '草稿列表 Open drafts of your department: mine, awaiting my approval, or all open',
          description: 'for=mine: drafts you wrote; for=awaiting: drafts by another admin not yet approved (you may approve them); for=open (default): every open draft. Newest first.',
          querystring: Type.Object(
            { for: Type.Optional(Type.Union([Type.Literal('mine'), Type.Literal('awaiting'), Type.Literal('open')])), limit: QueryInt },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => {
        const q = request.query;
        return { items: await authoring.listDrafts(actor(request), q.for ?? 'open', clamp(q.limit, 100, 500)) };
      },
    );

    app.get(
      '/v1/admin/drafts/:id',
      { preValidation: admin, schema: { ...common, summary: '草稿状态 A draft', params: IdParams, response: { 200: Type.Unknown(), 404: ErrorResponse } } },
      async (request) => authoring.getDraft(actor(request), request.params.id),
    );

    app.post(
      '/v1/admin/drafts/:id/test',
      { preValidation: admin, schema: { ...common, summary: '运行测试用例 Run the draft’s test cases', params: IdParams, response: { 200: Type.Unknown(), ...errors } } },
      async (request) => authoring.testDraft(actor(request), request.params.id),
    );

    app.post(
      '/v1/admin/drafts/:id/backtest',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '回测 Re-evaluate the draft on the stored facts of the last N decided filings',
          params: IdParams,
          body: Type.Object({ limit: Limit(5000) }, { additionalProperties: false }),
          response: { 200: Type.Unknown(), ...errors },
        },
      },
      async (request) => {
        const { limit } = request.body;
        return authoring.backtestDraft(actor(request), request.params.id, limit ?? 100);
      },
    );

    app.post(
      '/v1/admin/drafts/:id/approve',
      { preValidation: admin, schema: { ...common, summary: '审批草稿 Approve (a second admin of the department, not the author)', params: IdParams, response: { 200: Type.Unknown(), ...errors } } },
      async (request) => authoring.approveDraft(actor(request), request.params.id),
    );

    app.post(
      '/v1/admin/drafts/:id/publish',
      { preValidation: admin, schema: { ...common, summary: '发布 Publish an approved draft whose tests pass', params: IdParams, response: { 200: Type.Unknown(), ...errors } } },
      async (request) => authoring.publishDraft(actor(request), request.params.id),
    );

    app.post(
      '/v1/admin/matters/:code/rollback',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '申请回退 Request making an earlier version current again (carried out when a second admin approves)',
          description: '四眼原则: 202 with the pending request; POST /v1/admin/rollbacks/{id}/approve by another admin of the department carries it out.',
          params: CodeParams,
          body: Type.Object({ version: Type.String({ pattern: '^[0-9a-f]{64}$' }), reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
          response: { 202: Type.Unknown(), ...errors },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const created = await authoring.requestRollback(actor(request), request.params.code, body.version, body.reason ?? '');
        return reply.status(202).send(created);
      },
    );

    app.get(
      '/v1/admin/rollbacks',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '回退申请 Rollback requests of your department, newest first',
          querystring: Type.Object({ pending: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])), limit: QueryInt }, { additionalProperties: false }),
        },
      },
      async (request) => {
        const q = request.query;
        return { items: await authoring.listRollbacks(actor(request), q.pending !== 'false', clamp(q.limit, 100, 500)) };
      },
    );

    app.post(
      '/v1/admin/rollbacks/:id/approve',
      { preValidation: admin, schema: { ...common, summary: '批准回退 Approve and carry out a rollback (another admin of the department, not the requester)', params: IdParams, response: { 200: Type.Unknown(), ...errors } } },
      async (request) => authoring.approveRollback(actor(request), request.params.id),
    );

    app.get(
      '/v1/admin/reviews',
      {
        preValidation: admin,
        schema: { ...common, summary: '人工审核队列 Manual review queue of your department', querystring: Type.Object({ limit: QueryInt }, { additionalProperties: false }) },
      },
      async (request) => ({ items: await authoring.reviewQueue(actor(request), clamp(request.query.limit, 100, 500)) }),
    );

    app.post(
      '/v1/admin/reviews/:id/approve',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '人工审核通过 Approve: the certificate is issued as by the worker',
          params: IdParams,
          body: Type.Optional(Type.Object({ note: Type.Optional(OneLine('审核意见')) }, { additionalProperties: false })),
          response: { 200: Type.Unknown(), ...errors },
        },
      },
      async (request) => {
        const note = request.body?.note?.trim() ?? null;
        return authoring.manualApprove(actor(request), request.params.id, note);
      },
    );

    app.post(
      '/v1/admin/reviews/:id/reject',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '人工审核不予通过 Reject with a reason (shown to the applicant)',
          params: IdParams,
          body: Type.Object({ reason: OneLine('不予通过的理由') }, { additionalProperties: false }),
          response: { 200: Type.Unknown(), ...errors },
        },
      },
      async (request) => authoring.manualReject(actor(request), request.params.id, request.body.reason.trim()),
    );

    app.get(
      '/v1/admin/audit',
      {
        preValidation: admin,
        schema: {
          ...common,
          summary: '审计日志 Your department’s audit entries (hash-chained; verify with npm run audit -- verify)',
          querystring: Type.Object({ limit: QueryInt, after: QueryInt }, { additionalProperties: false }),
        },
      },
      async (request) => {
        const q = request.query;
        return { entries: await authoring.auditLog(actor(request), clamp(q.limit, 100, 1000), q.after === undefined ? undefined : Number(q.after)) };
      },
    );
  };
}
