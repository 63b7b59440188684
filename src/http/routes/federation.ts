/**
 * 都市圈通办 between city nodes (DESIGN.md §12). Node-to-node routes under /v1/federation/ authenticate the calling
 * node (Authorization: Federation <JWS> signed by its node key, chained to its pinned anchors) and sign every answer
 * (Federation-Signature), so a peer acts only on answers this node gave:
 * - POST /v1/federation/filings — a filing received at the peer for one of this node's matters; idempotent by the
 *   peer's id (one application here per origin filing, however often it is retried).
 * - GET /v1/federation/filings/{id} — status, decision, certificate summary and delivery, to the forwarding peer only.
 * - GET /v1/federation/certificates/{id}/pdf — the signed file, to the peer the filing came from.
 * - GET /v1/federation/register/{sha256} — the register entry of an issued file (any peer, to verify it).
 * - GET /v1/federation/matters[/{code}] — this node's catalog, signed.
 * And for people: GET /v1/federation/peers (who the peers are, whether their anchors are pinned).
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { canonicalJson } from '../../catalog/load-catalog.js';
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import { FederationAuthError, type FederationClaims } from '../../federation/node-jws.js';
import type { Federation } from '../../federation/federation.js';
import { PeerUnavailableError } from '../../federation/peers.js';
import { certificateSummary } from '../../pipeline/certificate-view.js';
import type { CertificateRow } from '../../store/types.js';
import { MAX_JSON_DEPTH, jsonDeeperThan } from '../json-depth.js';
import { ErrorResponse, OpenObject } from '../schemas.js';
import type { HttpDeps } from '../types.js';
import { acceptFiling, DeliverySchema } from './applications.js';
import { matterSummary, matterView } from './matters.js';
import { certificateKind } from './proofs.js';

declare module 'fastify' {
  interface FastifyRequest {
    federationClaims?: FederationClaims;
    rawBody?: Buffer;
  }
}

const ForwardedFiling = Type.Object(
  {
    originId: Type.String({ minLength: 1, maxLength: 64 }),
    applicant: Type.String({ pattern: '^[0-9A-Za-z]{1,64}$' }),
    matter: Type.String({ minLength: 1, maxLength: 64 }),
    answers: OpenObject(),
    form: OpenObject(),
    consent: Type.Object({ dataSharing: Type.Boolean(), sealAuthorization: Type.Boolean() }, { additionalProperties: false }),
    delivery: Type.Optional(DeliverySchema),
    submittedAt: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function federationRoutes(deps: HttpDeps, federation: Federation): FastifyPluginAsyncTypebox {
  return async (app) => {
    // The signature covers the exact bytes sent: keep them, then parse (no deeper than any other JSON body).
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      const raw = body as Buffer;
      request.rawBody = raw;
      if (raw.length === 0) return done(null, undefined);
      if (jsonDeeperThan(raw.toString('utf8'), MAX_JSON_DEPTH)) {
        return done(new AppError('REQUEST_VALIDATION', { errors: [{ path: '/', message: `嵌套超过 ${MAX_JSON_DEPTH} 层 Nested deeper than ${MAX_JSON_DEPTH} levels` }] }), undefined);
      }
      try {
        done(null, JSON.parse(raw.toString('utf8')) as unknown);
      } catch {
        done(new AppError('REQUEST_MALFORMED_JSON'), undefined);
      }
    });

    // Every answer to an authenticated peer is signed, errors included: a refusal is as binding as an acceptance.
    app.addHook('onSend', async (request, reply, payload) => {
      const claims = request.federationClaims;
      if (!claims) return payload;
      const bytes = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload : payload === null || payload === undefined ? '' : null;
      if (bytes === null) return payload;
      reply.header('federation-signature', await federation.signAnswer(claims, bytes));
      return payload;
    });

    const node = async (request: FastifyRequest) => {
      try {
        request.federationClaims = await federation.authenticate({
          authorization: request.headers.authorization,
          method: request.method,
          path: request.url,
          body: request.rawBody ?? '',
        });
      } catch (err) {
        // The caller's anchors could not be fetched for pinning: try again later, nothing is decided.
        if (err instanceof PeerUnavailableError) throw new AppError('SERVICE_UNAVAILABLE');
        if (!(err instanceof FederationAuthError)) throw err;
        request.log.warn({ reason: err.message }, 'node request not authenticated');
        throw new AppError('FEDERATION_AUTH_INVALID');
      }
    };
    // Generic in `extra` so each route's params and body schemas reach the type provider.
    const nodeSchema = <S extends object>(summary: string, extra: S) => ({
      summary,
      tags: ['federation'],
      description: 'Node to node: Authorization: Federation <JWS> (RS256/ES256, x5c chaining to the calling node’s pinned anchors); answers carry Federation-Signature.',
      ...extra,
    });

    app.post(
      '/v1/federation/filings',
      { preValidation: node, schema: nodeSchema('转办申请 A filing received at a peer node for a matter of this node', { body: ForwardedFiling, response: { 202: Type.Unknown(), 400: ErrorResponse, 401: ErrorResponse, 422: ErrorResponse } }) },
      async (request, reply) => {
        const claims = request.federationClaims!;
        const body = request.body;
        const { originId, applicant, submittedAt: _submitted, ...filing } = body;
        // One application per origin filing: the origin id is the idempotency key (a space keeps it out of the
        // namespace of header keys, which are visible ASCII only). Kept for good, unlike an applicant's key (no
        // idempotencyTtlHours): the peer retries until it has an answer, however late, and must never get a second
        // application.
        const res = await acceptFiling(deps, {
          applicant: applicant.toUpperCase(),
          body: filing,
          bodyHash: createHash('sha256').update(canonicalJson(body)).digest('hex'),
          idempotencyKey: `federation ${claims.iss} ${originId}`,
          log: request.log,
        });
        await deps.store.federation.recordInbound({ applicationId: res.applicationId, originCity: claims.iss, originId, receivedAt: deps.clock().toISOString() });
        request.log.info({ applicationId: res.applicationId, origin: claims.iss, created: res.created }, 'filing received from a peer node');
        return reply.status(202).send({ id: res.applicationId, status: 'queued' });
      },
    );

    app.get('/v1/federation/filings/:id', { preValidation: node, schema: nodeSchema('转办申请状态 Status of a forwarded filing', { params: IdParams }) }, async (request) => {
      const { id } = request.params;
      const origin = await deps.store.federation.inbound(id);
      const row = origin?.originCity === request.federationClaims!.iss ? await deps.store.applications.get(id) : null;
      if (!row) throw new AppError('FEDERATION_FILING_NOT_FOUND');
      const cert = row.status === 'approved' ? await deps.store.certificates.byApplication(row.id) : null;
      const delivery = await deps.store.deliveries.get(row.id);
      return {
        id: row.id,
        status: row.status,
        decidedAt: row.decidedAt,
        decision: row.decision
          ? { outcome: row.decision.outcome, reasons: row.decision.reasons.map((r) => ({ rule: r.rule, message: r.message, basis: r.basis, result: r.result })) }
          : null,
        certificate: cert ? { ...certificateSummary(cert), kind: certificateKind(deps, cert) } : null,
        delivery: delivery ? { method: delivery.method, status: delivery.status, waybillNo: delivery.waybillNo, track: delivery.track } : null,
      };
    });

    app.get('/v1/federation/certificates/:id/pdf', { preValidation: node, schema: nodeSchema('转办证照 The signed certificate of a forwarded filing', { params: IdParams }) }, async (request, reply) => {
      const { id } = request.params;
      const cert = await deps.store.certificates.get(id);
      const origin = cert ? await deps.store.federation.inbound(cert.applicationId) : null;
      const pdf = origin?.originCity === request.federationClaims!.iss ? await deps.store.certificates.getPdf(id) : null;
      if (!cert || !pdf) throw new AppError('CERTIFICATE_NOT_FOUND');
      return reply.type('application/pdf').header('x-content-sha256', cert.sha256).send(Buffer.from(pdf));
    });

    app.get(
      '/v1/federation/register/:sha256',
      { preValidation: node, schema: nodeSchema('登记簿 The register entry of an issued file', { params: Type.Object({ sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }) }) },
      async (request, reply) => {
        const { sha256 } = request.params;
        const row = await deps.store.certificates.bySha256(sha256);
        if (!row) return reply.status(404).send({ found: false });
        return registerEntry(deps, row);
      },
    );

    app.get('/v1/federation/matters', { preValidation: node, schema: nodeSchema('事项目录 This node’s catalog', {}) }, async () => ({
      city: federation.city,
      matters: [...deps.catalog.matters.values()].map(matterSummary),
    }));

    app.get(
      '/v1/federation/matters/:code',
      { preValidation: node, schema: nodeSchema('事项定义 A matter of this node', { params: Type.Object({ code: Type.String({ maxLength: 64 }) }) }) },
      async (request, reply) => {
        const m = deps.catalog.get(request.params.code);
        if (!m) return reply.status(404).send({ found: false });
        return matterView(m);
      },
    );

    app.get('/v1/federation/peers', { schema: { summary: '都市圈通办节点 This node and its peers', tags: ['federation'] } }, async () => {
      const known = new Map((await federation.peers.known()).map((k) => [k.peer.city, k.anchors]));
      return {
        city: federation.city,
        nodeCertificateSha256: federation.identity.fingerprint,
        peers: federation.peers.list().map((p) => {
          const a = known.get(p.city);
          return {
            city: p.city,
            baseUrl: p.baseUrl,
            anchors: a ? { origin: a.origin, pinnedAt: a.pinnedAt, sha256: a.certificates.map((c) => c.fingerprint256.replace(/:/g, '').toLowerCase()) } : null,
          };
        }),
      };
    });
  };
}

/** What the register says about one issued file (the verifier's RegisterEntry). */
export async function registerEntry(deps: Pick<HttpDeps, 'store'>, row: CertificateRow) {
  const revocation = row.status === 'revoked' ? await deps.store.revocations.get(row.id) : null;
  return {
    id: row.id,
    status: row.status,
    number: row.number,
    licenseId: row.licenseId,
    holderName: row.holderName,
    holderCode: row.holderCode,
    issuerName: row.issuerName,
    issuerCode: row.issuerCode,
    issuedAt: row.issuedAt,
    validUntil: row.validUntil,
    sha256: row.sha256,
    revokedAt: revocation?.revokedAt ?? null,
    revocationReason: revocation?.reason ?? null,
  };
}

