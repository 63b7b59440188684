/** Filing intake and status: POST /v1/applications, GET /v1/applications/{id}, GET /v1/applications/{id}/form. */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { canonicalJson } from '../../catalog/load-catalog.js';
import { AppError } from '../../errors.js';
import { validateFiling, type FilingBody } from '../../pipeline/validate-filing.js';
import type { MatterDef } from '../../catalog/types.js';
import type { ApplicationRow, NewConsent } from '../../store/types.js';
import { requireRole, type Principal } from '../auth.js';
import type { HttpDeps } from '../types.js';
import { ErrorResponse } from '../schemas.js';
import { BundleFilingFields, BundleViewFields, fileBundle, readBundleApplication, readBundleForm } from './bundles.js';
import type { BundleFilingBody } from '../../bundles/intake.js';

const FilingSchema = Type.Object(
  {
    matter: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '事项代码, e.g. grain-purchase-filing (or bundle)' })),
    ...BundleFilingFields,
    answers: Type.Object({}, { additionalProperties: true, description: '引导问题的回答 (question id → option)' }),
    form: Type.Object({}, { additionalProperties: true, description: "申请人填写的字段, per the matter's form schema" }),
    consent: Type.Object(
      {
        dataSharing: Type.Boolean({ description: '同意查询共享数据' }),
        sealAuthorization: Type.Boolean({ description: '授权以企业电子印章签章生成申请表' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const Accepted = Type.Object({ id: Type.String(), status: Type.String() });

const ApplicationView = Type.Object({
  id: Type.String(),
  matter: Type.String(),
  status: Type.String(),
  createdAt: Type.String(),
  decidedAt: Type.Union([Type.String(), Type.Null()]),
  decision: Type.Union([
    Type.Null(),
    Type.Object({
      outcome: Type.String(),
      reasons: Type.Array(Type.Object({ rule: Type.String(), message: Type.String(), basis: Type.String(), result: Type.String() })),
    }),
  ]),
  certificate: Type.Optional(Type.Object({ id: Type.String(), number: Type.String() })),
  ...BundleViewFields,
  /** Steps the department takes on its own after approval (公示, 租赁补贴 …). */
  followUps: Type.Optional(
    Type.Array(
      Type.Object({
        step: Type.String(),
        name: Type.String(),
        status: Type.String(),
        dueAt: Type.String(),
        doneAt: Type.Union([Type.String(), Type.Null()]),
        detail: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
  ),
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** How long intake waits for Redis before leaving the job to the outbox relay. */
const ENQUEUE_WAIT_MS = 250;

/** Its applicant, or an admin of the department that owns its matter; anyone else gets 404. */
export function mayRead(deps: HttpDeps, p: Principal, app: ApplicationRow): boolean {
  if (p.role === 'applicant') return p.sub === app.applicant;
  if (p.role === 'admin') return deps.catalog.get(app.matter)?.def.department.code === p.dept;
  return false;
}

export function applicationRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const applicant = requireRole(deps.verifyToken, ['applicant']);
  const reader = requireRole(deps.verifyToken, ['applicant', 'admin']);

  app.post(
    '/v1/applications',
    {
      preValidation: applicant,
      schema: {
        summary: '提交申请 Submit a filing',
        tags: ['applications'],
        security: [{ bearer: [] }],
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: FilingSchema,
        response: { 202: Accepted, 400: ErrorResponse, 401: ErrorResponse, 422: ErrorResponse },
      },
    },
    async (request, reply) => {
      const p = request.principal!;
      const raw = request.body as Partial<FilingBody> & { bundle?: string; members?: string[] };
      const key = request.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) throw new AppError('IDEMPOTENCY_KEY_INVALID');
      // A 一件事 (DESIGN.md §10) names a bundle instead of a matter.
      if (raw.matter === undefined && raw.bundle === undefined) {
        throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/matter', message: '缺少必填字段 Required property is missing (matter, or bundle for a 一件事)' }] });
      }
      if (raw.matter !== undefined && raw.bundle !== undefined) throw new AppError('FILING_TARGET_INVALID', { errors: [{ path: '/bundle', message: 'matter 与 bundle 只能填写一个 Send either matter or bundle, not both' }] });
      if (raw.bundle !== undefined) return fileBundle(deps, request, reply, raw as BundleFilingBody, key);
      if (raw.members !== undefined) throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/members', message: '不允许的字段 Unknown property: members is for a bundle filing' }] });
      const body = raw as FilingBody;
      const matter = deps.catalog.get(body.matter);
      if (!matter) throw new AppError('MATTER_UNKNOWN', { errors: [{ path: '/matter', message: `未知事项 Unknown matter "${body.matter}"` }] });
      const now = deps.clock();
      // 授权一次: a consent in force for this matter (given with an earlier filing) covers a filing that does not repeat it.
      const standing = matter.def.consent.dataSharing && body.consent.dataSharing !== true ? await deps.store.consents.active(p.sub, matter.def.code, now.toISOString()) : null;
      validateFiling(matter, body, p.sub, standing !== null);
      const dataConsent = !matter.def.consent.dataSharing
        ? undefined
        : standing
          ? { reuse: standing.id }
          : { grant: consentGrant(deps, matter.def, p.sub, now) };

      const bodyHash = createHash('sha256').update(canonicalJson(body)).digest('hex');
      const id = deps.newId();
      const res = await deps.store.applications.create({
        id,
        matter: matter.def.code,
        matterVersion: matter.version,
        applicant: p.sub,
        answers: body.answers,
        form: body.form,
        consent: body.consent,
        bodyHash,
        idempotencyKey: key ?? null,
        createdAt: now.toISOString(),
        ...(dataConsent ? { dataConsent } : {}),
      });
      if (!res.created) {
        if (res.bodyHash !== bodyHash) throw new AppError('IDEMPOTENCY_KEY_REUSED');
        return accepted(reply, res.applicationId);
      }
      deps.metrics.accepted(matter.def.code);
      // Fast path; if Redis is away the outbox relay enqueues it later, so the filing is not lost.
      // Bounded: with Redis away the request must not wait for it — the filing is committed already.
      await Promise.race([deps.queue.enqueue([id]), new Promise((_, reject) => setTimeout(() => reject(new Error('enqueue timed out')), ENQUEUE_WAIT_MS).unref())])
        .catch((err: unknown) => request.log.warn({ err: String(err), applicationId: id }, 'enqueue deferred to the outbox relay'));
      return accepted(reply, id);
    },
  );

  app.get(
    '/v1/applications/:id',
    {
      preValidation: reader,
      schema: {
        summary: '查询申请状态 Application status and decision',
        tags: ['applications'],
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: ApplicationView, 404: ErrorResponse },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const row = await deps.store.applications.get(id);
      if (!row) {
        const bundle = await readBundleApplication(deps, id, request.principal!);
        if (bundle) return bundle;
      }
      if (!row || !mayRead(deps, request.principal!, row)) throw new AppError('APPLICATION_NOT_FOUND');
      const steps = row.status === 'approved' ? await deps.store.followUps.forApplication(row.id) : [];
      const cert = row.status === 'approved' ? await deps.store.certificates.byApplication(row.id) : null;
      return {
        id: row.id,
        matter: row.matter,
        status: row.status,
        createdAt: row.createdAt,
        decidedAt: row.decidedAt,
        decision: row.decision
          ? { outcome: row.decision.outcome, reasons: row.decision.reasons.map((r) => ({ rule: r.rule, message: r.message, basis: r.basis, result: r.result })) }
          : null,
        ...(cert ? { certificate: { id: cert.id, number: cert.number } } : {}),
        ...(steps.length > 0 ? { followUps: steps.map(({ step, name, status, dueAt, doneAt, detail }) => ({ step, name, status, dueAt, doneAt, detail })) } : {}),
      };
    },
  );

  app.get(
    '/v1/applications/:id/form',
    {
      preValidation: reader,
      schema: {
        summary: '下载已签章的申请表 The filled e-form PDF, sealed for the enterprise',
        tags: ['applications'],
        security: [{ bearer: [] }],
        params: IdParams,
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const row = await deps.store.applications.get(id);
      const bundleForm = row ? null : await readBundleForm(deps, id, request.principal!);
      if (bundleForm) {
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="form-${id}.pdf"`)
          .header('x-content-sha256', bundleForm.sha256)
          .send(Buffer.from(bundleForm.bytes));
      }
      if (!row || !mayRead(deps, request.principal!, row)) throw new AppError('APPLICATION_NOT_FOUND');
      const doc = await deps.store.documents.get(id, 'form');
      if (!doc) throw new AppError(row.status === 'queued' || row.status === 'processing' ? 'FORM_NOT_READY' : 'FORM_NOT_SEALED');
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="form-${id}.pdf"`)
        .header('x-content-sha256', doc.sha256)
        .send(Buffer.from(doc.bytes));
    },
  );
}

/** The consent a filing gives: its matter's purpose (申请事由) and every source the matter reads. */
function consentGrant(deps: HttpDeps, def: MatterDef, subject: string, now: Date): NewConsent {
  return {
    id: deps.newId(),
    subject,
    matter: def.code,
    purpose: def.consent.purpose,
    sources: [...new Set(def.lookups.map((l) => l.source))].sort(),
    grantedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.config.consentValidityDays * 86_400_000).toISOString(),
  };
}

function accepted(reply: FastifyReply, id: string) {
  return reply.status(202).header('location', `/v1/applications/${id}`).send({ id, status: 'queued' });
}
