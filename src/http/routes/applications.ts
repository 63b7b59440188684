/** Filing intake and status: POST /v1/applications, GET /v1/applications/{id}, GET /v1/applications/{id}/form. */
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import { canonicalJson } from '../../catalog/load-catalog.js';
import { AppError } from '../../errors.js';
import { applicationNumberPrefix } from '../../domain/application-number.js';
import { validateFiling, type FilingBody } from '../../pipeline/validate-filing.js';
import { IntakeBatcher } from '../../pipeline/intake-batcher.js';
import type { MatterDef } from '../../catalog/types.js';
import type { ApplicationRow, DeliveryRequest, ExpressDeliveryRow, FederatedFilingRow, NewConsent } from '../../store/types.js';
import { acceptFederatedFiling } from '../../federation/intake.js';
import { requireRole, type Principal } from '../auth.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';
import { ErrorResponse, OpenObject } from '../schemas.js';
import { BundleFilingFields, BundleViewFields, fileBundle, readBundleApplication, readBundleForm } from './bundles.js';

/** 快递取送 (DESIGN.md §13): parts left out default to the applicant's registered record. */
export const DeliverySchema = Type.Object(
  {
    method: Type.Literal('express', { description: '快递取送: the paper certificate by post' }),
    address: Type.Optional(Type.String({ minLength: 5, maxLength: 200, description: '寄递地址; default: the registered address (免填)' })),
    recipient: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: '收件人; default: the registered name' })),
    phone: Type.Optional(Type.String({ pattern: '^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$', description: '收件人电话; default: the form’s contactPhone' })),
  },
  { additionalProperties: false },
);

const FilingSchema = Type.Object(
  {
    matter: Type.Optional(Type.String({ minLength: 1, maxLength: 72, description: '事项代码, e.g. grain-purchase-filing, or {city}:{code} for another city’s matter (or `bundle` for a 一件事)' })),
    city: Type.Optional(Type.String({ pattern: '^[0-9]{6}$', description: '都市圈通办: the 6-digit 区划 of the city that owns the matter (default: this node’s)' })),
    delivery: Type.Optional(DeliverySchema),
    ...BundleFilingFields,
    answers: OpenObject({ description: '引导问题的回答 (question id → option); the questions and options are in GET /v1/matters/{code} (`questions`)' }),
    form: OpenObject({ description: "申请人填写的字段 The applicant's fields; their JSON Schema is served per matter at GET /v1/matters/{code}/schema (also `formSchema` in GET /v1/matters/{code})" }),
    consent: Type.Object(
      {
        dataSharing: Type.Boolean({ description: '同意查询共享数据' }),
        sealAuthorization: Type.Boolean({ description: '授权以企业电子印章签章生成申请表' }),
      },
      { additionalProperties: false },
    ),
  },
  {
    additionalProperties: false,
    title: 'Filing',
    examples: [
      {
        matter: 'grain-purchase-filing',
        answers: { filingType: '首次', storageSource: '自有' },
        form: {
          responsiblePerson: { name: '张伟', idNumber: '210102199001011237' },
          contactPhone: '13800000000',
          purchaseRegionCode: '210102',
          grainTypes: ['玉米', '稻谷'],
          storageFacilities: [{ address: '沈阳市和平区南京南街1号粮库', capacityTonnes: 5000, ownership: '自有', realEstateCertNo: '辽(2024)沈阳市不动产权第0012345号' }],
        },
        consent: { dataSharing: true, sealAuthorization: true },
      },
    ],
  },
);

const Accepted = Type.Object(
  { id: Type.String({ description: '申请 id; poll GET /v1/applications/{id}' }), status: Type.String({ description: 'queued' }) },
  { title: 'Accepted', examples: [{ id: '0193a3f2-7c1e-7b6a-9d2e-5f4c3b2a1d0e', status: 'queued' }] },
);

const ApplicationView = Type.Object({
  id: Type.String(),
  number: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: '申请编号 Application number, e.g. 沈2026120400017 (Beijing day + counter); null for filings made before numbers existed' })),
  matter: Type.String(),
  status: Type.String({ description: 'queued | processing | approved | rejected | manual_review | failed' }),
  createdAt: Type.String({ description: 'ISO 8601 UTC; show it in Beijing time' }),
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
  /** 都市圈通办: the city whose node decides the filing (this node's own for local filings). */
  city: Type.Optional(Type.String()),
  /** A filing for another city: how far the forward to the owning node has got. */
  forwarding: Type.Optional(
    Type.Object({
      state: Type.String({ description: 'pending (not yet with the owner, retried) | forwarded | refused' }),
      attempts: Type.Integer(),
      nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
      /** The application's id at the owning node, once it holds the filing. */
      remoteId: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  /** 快递取送: the booking with the courier and its track. */
  delivery: Type.Optional(
    Type.Object({
      method: Type.String(),
      status: Type.String(),
      waybillNo: Type.Union([Type.String(), Type.Null()]),
      track: Type.Array(Type.Object({ at: Type.String(), event: Type.String() })),
      recipient: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      address: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      addressSource: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    }),
  ),
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
}, {
  title: 'Application',
  examples: [{
      id: '0193a3f2-7c1e-7b6a-9d2e-5f4c3b2a1d0e',
      number: '沈2026120400017',
      matter: 'grain-purchase-filing',
      status: 'approved',
      createdAt: '2026-12-04T06:24:26.348Z',
      decidedAt: '2026-12-04T06:24:27.102Z',
      decision: { outcome: 'APPROVE', reasons: [] },
      certificate: { id: '0193a3f2-80aa-7c55-8e11-2b3c4d5e6f70', number: '沈粮收备〔2026〕000001号' },
      city: '210100',
    }],
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

export function applicationRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  intakeOf(deps, app.log);
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
      const raw = request.body;
      const key = request.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) throw new AppError('IDEMPOTENCY_KEY_INVALID');
      // A 一件事 (DESIGN.md §10) names a bundle instead of a matter.
      if (raw.bundle !== undefined) {
        if (raw.matter !== undefined) throw new AppError('FILING_TARGET_INVALID', { errors: [{ path: '/bundle', message: 'matter 与 bundle 只能填写一个 Send either matter or bundle, not both' }] });
        return fileBundle(deps, request, reply, { ...raw, bundle: raw.bundle }, key);
      }
      if (raw.matter === undefined) {
        throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/matter', message: '缺少必填字段 Required property is missing (matter, or bundle for a 一件事)' }] });
      }
      if (raw.members !== undefined) throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/members', message: '不允许的字段 Unknown property: members is for a bundle filing' }] });
      const body: FilingRequest = { ...raw, matter: raw.matter };
      const own = deps.config.federation.cityCode;
      const target = filingTarget(body, own);
      if (target.city !== own) {
        if (!deps.federation?.peers.get(target.city)) {
          throw new AppError('CITY_UNKNOWN', { errors: [{ path: body.city !== undefined ? '/city' : '/matter', message: `${target.city} 不是本节点（${own}）的都市圈通办节点 not a peer of this node` }] });
        }
        const bodyHash = createHash('sha256').update(canonicalJson(body)).digest('hex');
        const res = await acceptFederatedFiling(
          { store: deps.store, federation: deps.federation, clock: deps.clock, newId: deps.newId },
          { applicant: p.sub, city: target.city, code: target.code, body: { ...body, matter: target.code }, bodyHash, idempotencyKey: key ?? null, idempotencyTtlHours: deps.config.idempotencyTtlHours },
        );
        if (!res.created) {
          if (res.bodyHash !== bodyHash) throw new AppError('IDEMPOTENCY_KEY_REUSED');
          const stored = res.response ?? { status: 202, body: { id: res.applicationId, status: 'queued' } };
          return reply.status(stored.status as 202).header('location', `/v1/applications/${res.applicationId}`).header('idempotent-replayed', 'true').send(stored.body as Static<typeof Accepted>); // the stored answer comes back from the database as unknown
        }
        request.log.info({ applicationId: res.applicationId, city: target.city }, 'filing accepted for another city; forwarded through the outbox');
        return accepted(reply, res.applicationId);
      }
      const res = await acceptFiling(deps, {
        applicant: p.sub,
        body: { ...body, matter: target.code },
        bodyHash: createHash('sha256').update(canonicalJson(body)).digest('hex'),
        idempotencyKey: key ?? null,
        idempotencyTtlHours: deps.config.idempotencyTtlHours,
        log: request.log,
      });
      if (res.created) return accepted(reply, res.applicationId);
      // A replay (same key, same body): the answer stored with the key, status and body as first sent.
      // The stored body is JSON read back from the database (unknown to the compiler); it was the Accepted sent first.
      return reply.status(res.response.status as 202).header('location', `/v1/applications/${res.applicationId}`).header('idempotent-replayed', 'true').send(res.response.body as Static<typeof Accepted>);
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
      const { id } = request.params;
      const row = await deps.store.applications.get(id);
      if (!row) {
        const bundle = await readBundleApplication(deps, id, request.principal!);
        if (bundle) return bundle;
        // 都市圈通办: a filing received here for another city's matter, mirrored from the owning node.
        const fed = await deps.store.federation.getFiling(id);
        if (!fed || request.principal!.role !== 'applicant' || fed.applicant !== request.principal!.sub) throw new AppError('APPLICATION_NOT_FOUND');
        return federatedView(fed);
      }
      if (!mayRead(deps, request.principal!, row)) throw new AppError('APPLICATION_NOT_FOUND');
      const steps = row.status === 'approved' ? await deps.store.followUps.forApplication(row.id) : [];
      const cert = row.status === 'approved' ? await deps.store.certificates.byApplication(row.id) : null;
      const delivery = await deps.store.deliveries.get(row.id);
      return {
        id: row.id,
        number: row.number,
        matter: row.matter,
        city: deps.config.federation.cityCode,
        status: row.status,
        createdAt: row.createdAt,
        decidedAt: row.decidedAt,
        decision: row.decision
          ? { outcome: row.decision.outcome, reasons: row.decision.reasons.map((r) => ({ rule: r.rule, message: r.message, basis: r.basis, result: r.result })) }
          : null,
        ...(cert ? { certificate: { id: cert.id, number: cert.number } } : {}),
        ...(steps.length > 0 ? { followUps: steps.map(({ step, name, status, dueAt, doneAt, detail }) => ({ step, name, status, dueAt, doneAt, detail })) } : {}),
        ...(delivery ? { delivery: deliveryView(delivery) } : {}),
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
      const { id } = request.params;
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

/** A filing as the route receives it: the matter's own fields plus 都市圈通办 `city` and 快递取送 `delivery`. */
export interface FilingRequest extends FilingBody {
  city?: string;
  delivery?: DeliveryRequest;
}

/** `{matter: "210400:code"}` or `{matter: "code", city: "210400"}` → the owning city and the matter code there. */
export function filingTarget(body: Pick<FilingRequest, 'matter' | 'city'>, own: string): { city: string; code: string } {
  const m = /^(\d{6}):(.+)$/.exec(body.matter);
  const prefixed = m ? { city: m[1]!, code: m[2]! } : null;
  if (prefixed && body.city !== undefined && body.city !== prefixed.city) {
    throw new AppError('REQUEST_VALIDATION', { errors: [{ path: '/city', message: `city ${body.city} 与事项前缀 ${prefixed.city} 不一致 does not match the matter's city prefix` }] });
  }
  return prefixed ?? { city: body.city ?? own, code: body.matter };
}

export interface AcceptInput {
  applicant: string;
  body: FilingRequest;
  /** sha256 of the canonical request body (Idempotency-Key comparison). */
  bodyHash: string;
  idempotencyKey: string | null;
  /** How long the key deduplicates (issue 17); absent: kept for good (node-to-node keys of forwarded filings). */
  idempotencyTtlHours?: number;
  log: { warn(obj: object, msg: string): void };
}

/** What an accepted filing answers; stored with its Idempotency-Key so a replay gets exactly this. */
export interface AcceptedAnswer {
  status: number;
  body: unknown;
}

/**
 * Intake of a filing for one of this node's matters: checks, consent, one transaction (application, outbox,
 * idempotency key, consent, delivery), then the fast-path enqueue. Used by POST /v1/applications and by filings
 * forwarded from peer nodes (都市圈通办). Throws AppError for anything the applicant must fix.
 */
export async function acceptFiling(deps: HttpDeps, input: AcceptInput): Promise<{ applicationId: string; created: boolean; response: AcceptedAnswer }> {
  const { applicant, body } = input;
  if (body.delivery && deps.config.production && deps.config.courier.url === null) {
    throw new AppError('DELIVERY_UNAVAILABLE', { errors: [{ path: '/delivery', message: '本节点未开通快递取送 This node has no courier configured (COURIER_URL); file without delivery' }] });
  }
  const matter = deps.catalog.get(body.matter);
  if (!matter) throw new AppError('MATTER_UNKNOWN', { errors: [{ path: '/matter', message: `未知事项 Unknown matter "${body.matter}"` }] });
  const now = deps.clock();
  // 授权一次: a consent in force for this matter (given with an earlier filing) covers a filing that does not repeat it.
  const standing = matter.def.consent.dataSharing && body.consent.dataSharing !== true ? await deps.store.consents.active(applicant, matter.def.code, now.toISOString()) : null;
  validateFiling(matter, body, applicant, standing !== null);
  const dataConsent = !matter.def.consent.dataSharing
    ? undefined
    : standing
      ? { reuse: standing.id }
      : { grant: consentGrant(deps, matter.def, applicant, now) };

  const id = deps.newId();
  const response: AcceptedAnswer = { status: 202, body: { id, status: 'queued' } };
  const ttlHours = input.idempotencyTtlHours;
  const res = await intakeOf(deps, input.log).submit({
    id,
    matter: matter.def.code,
    matterVersion: matter.version,
    applicant,
    answers: body.answers,
    form: body.form,
    consent: body.consent,
    bodyHash: input.bodyHash,
    idempotencyKey: input.idempotencyKey,
    idempotencyExpiresAt: input.idempotencyKey === null || ttlHours === undefined ? null : new Date(now.getTime() + ttlHours * 3_600_000).toISOString(),
    response,
    createdAt: now.toISOString(),
    numberPrefix: applicationNumberPrefix(deps.config.federation.cityCode),
    ...(dataConsent ? { dataConsent } : {}),
    ...(body.delivery ? { delivery: body.delivery } : {}),
  });
  if (!res.created) {
    if (res.bodyHash !== input.bodyHash) throw new AppError('IDEMPOTENCY_KEY_REUSED');
    return { applicationId: res.applicationId, created: false, response: res.response ?? { status: 202, body: { id: res.applicationId, status: 'queued' } } };
  }
  deps.metrics.accepted(matter.def.code);
  return { applicationId: id, created: true, response };
}

const batchers = new WeakMap<HttpDeps, IntakeBatcher>();

/**
 * The process's intake batcher for these deps, made on first use (applicationRoutes makes it with the root
 * logger). After each commit it enqueues the batch (fast path); if Redis is away the outbox relay enqueues it
 * later, so no filing is lost — bounded, because the filings are committed already and must not wait for Redis.
 */
export function intakeOf(deps: HttpDeps, log: { warn(obj: object, msg: string): void }): IntakeBatcher {
  let b = batchers.get(deps);
  if (!b) {
    b = new IntakeBatcher({
      createMany: (apps) => deps.store.applications.createMany(apps),
      afterCommit: (ids) =>
        Promise.race([deps.queue.enqueue(ids), new Promise((_, reject) => setTimeout(() => reject(new Error('enqueue timed out')), ENQUEUE_WAIT_MS).unref())]).then(
          () => undefined,
          (err: unknown) => log.warn({ err: String(err), applications: ids.length, first: ids[0] }, 'enqueue deferred to the outbox relay'),
        ),
      maxBatch: deps.config.intakeMaxBatch,
      onCommit: (filings) => deps.metrics.intakeCommit(filings),
    });
    batchers.set(deps, b);
  }
  return b;
}

/** The delivery as shown with the filing (to its applicant and the department's admins). */
export function deliveryView(d: ExpressDeliveryRow) {
  return { method: d.method, status: d.status, waybillNo: d.waybillNo, track: d.track, recipient: d.recipient, address: d.address, addressSource: d.addressSource };
}

/** A filing received here for another city, as its applicant sees it here: the owner's status, decision and certificate. */
function federatedView(f: FederatedFilingRow) {
  return {
    id: f.id,
    matter: f.matter,
    city: f.city,
    status: f.status,
    createdAt: f.createdAt,
    decidedAt: f.decidedAt,
    decision: f.decision
      ? { outcome: f.decision.outcome, reasons: f.decision.reasons.map((r) => ({ rule: r.rule, message: r.message, basis: r.basis, result: r.result })) }
      : null,
    ...(f.certificate ? { certificate: { id: f.certificate.id, number: f.certificate.number } } : {}),
    forwarding: { state: f.forwardStatus, attempts: f.attempts, nextAttemptAt: f.settled ? null : f.nextAttemptAt, remoteId: f.remoteId },
    ...(f.deliveryView ? { delivery: f.deliveryView } : f.delivery ? { delivery: { method: f.delivery.method, status: 'pending', waybillNo: null, track: [] } } : {}),
  };
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
