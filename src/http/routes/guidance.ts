/**
 * Guidance and pre-check: POST /v1/matters/{code}/guide (anyone; an applicant's token lets data sources answer
 * what they can) and POST /v1/matters/{code}/precheck (applicant; a dry run — no application is stored, the
 * data-source reads are audited like every read).
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { LoadedMatter } from '../../catalog/load-catalog.js';
import { AppError, fieldErrors, type FieldError } from '../../errors.js';
import { guideMatter, precheckFiling } from '../../pipeline/guide.js';
import { subjectThrottle } from '../throttle.js';
import { applicantKind } from '../../pipeline/process-application.js';
import { resolveSituation } from '../../pipeline/resolve-situation.js';
import { requireRole, type Principal } from '../auth.js';
import { ErrorResponse, OpenObject } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';

const Params = Type.Object({ code: Type.String({ maxLength: 64 }) });
const Answers = Type.Record(Type.String(), Type.String(), { description: '引导问题的回答 (question id → option)' });
const GuideBody = Type.Object({ answers: Type.Optional(Answers) }, { additionalProperties: false });
const PrecheckBody = Type.Object(
  {
    answers: Answers,
    form: OpenObject({ description: "申请人填写的字段, per the matter's form schema" }),
    consent: Type.Optional(
      Type.Object({ dataSharing: Type.Boolean({ description: '为本次预检同意查询共享数据 (needed after the consent was revoked)' }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

function matterOf(deps: HttpDeps, code: string): LoadedMatter {
  const m = deps.catalog.get(code);
  if (!m) throw new AppError('MATTER_NOT_FOUND');
  return m;
}

function checkAnswers(m: LoadedMatter, answers: Record<string, string>): FieldError[] {
  return m.validateAnswers(answers) ? [] : fieldErrors(m.validateAnswers.errors ?? [], '/answers');
}

export function guidanceRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  const applicantOnly = requireRole(deps.verifyToken, ['applicant']);
  const store = deps.store;
  const guideDeps = { store, clock: deps.clock, ...(deps.sources ? { sources: deps.sources } : {}), ...(deps.sourceNames ? { sourceNames: deps.sourceNames } : {}) };

  /** Optional authentication: a valid applicant token identifies whose data may answer; none is fine. */
  async function optionalApplicant(request: FastifyRequest): Promise<Principal | null> {
    const header = request.headers.authorization;
    if (!header) return null;
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) throw new AppError('AUTH_TOKEN_MISSING', { message: '授权头格式应为 Authorization: Bearer <JWT>' });
    const p = await deps.verifyToken(m[1]);
    return p.role === 'applicant' ? p : null;
  }

  app.post(
    '/v1/matters/:code/guide',
    {
      schema: {
        summary: '办事指南 Situation, materials (how each is obtained), pre-filled fields, open questions',
        tags: ['catalog'],
        params: Params,
        body: GuideBody,
        response: { 200: Type.Unknown(), 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const m = matterOf(deps, request.params.code);
      const answers = request.body.answers ?? {};
      const errors = checkAnswers(m, answers);
      if (errors.length > 0) throw new AppError('REQUEST_VALIDATION', { errors });
      const p = await optionalApplicant(request);
      return guideMatter(guideDeps, m, { answers, applicant: p?.sub ?? null });
    },
  );

  app.post(
    '/v1/matters/:code/precheck',
    {
      // A precheck answers whether a name and an ID number belong together: throttled per subject (issue 17).
      onRequest: subjectThrottle(deps, 'precheck', deps.config.throttles.precheckPerMinute),
      preHandler: applicantOnly,
      schema: {
        summary: '预检 Dry run: the decision with reasons and the pre-filled form; nothing is stored',
        tags: ['catalog'],
        security: [{ bearer: [] }],
        params: Params,
        body: PrecheckBody,
        response: { 200: Type.Unknown(), 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      const m = matterOf(deps, request.params.code);
      const { answers, form, consent } = request.body;
      const errors = checkAnswers(m, answers);
      if (!m.validateForm(form)) errors.push(...fieldErrors(m.validateForm.errors ?? [], '/form'));
      let situation: string | null = null;
      if (errors.length === 0) {
        const sit = resolveSituation(m.def, answers);
        if (sit.ok) situation = sit.situation.id;
        else for (const q of sit.open) errors.push({ path: `/answers/${q.id}`, message: `请回答：${q.text}（${q.options.join('/')}） Answer required` });
      }
      if (errors.length > 0) throw new AppError('REQUEST_VALIDATION', { errors });
      const applicant = request.principal!.sub;
      if (!m.def.applicantTypes.includes(applicantKind(applicant))) throw new AppError('APPLICANT_NOT_ACCEPTED');
      if (!deps.sources) throw new AppError('SERVICE_UNAVAILABLE');
      return precheckFiling({ ...guideDeps, sources: deps.sources }, m, { applicant, situation: situation!, answers, form, dataSharing: consent?.dataSharing === true });
    },
  );
}
