/**
 * GET /v1/applications/{id}/events: the application's status as server-sent events, for its applicant and the
 * admins of its department (anyone else: 404 before the stream opens). One `status` event on connect and one per
 * change, then the stream ends when the status is final. The database is polled (250 ms): API and worker are
 * separate processes and the database is the system of record. Browsers read it with fetch() (EventSource cannot
 * send the Authorization header, and tokens do not belong in URLs).
 */
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import type { ApplicationRow } from '../../store/types.js';
import { requireRole } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';
import { mayRead } from './applications.js';

const FINAL = new Set(['approved', 'rejected', 'manual_review', 'failed']);
const POLL_MS = 250;
const HEARTBEAT_MS = 15_000;
const MAX_STREAM_MS = 10 * 60_000;

export function eventRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  async function statusEvent(row: ApplicationRow) {
    const cert = row.status === 'approved' ? await deps.store.certificates.byApplication(row.id) : null;
    return {
      id: row.id,
      matter: row.matter,
      status: row.status,
      decidedAt: row.decidedAt,
      decision: row.decision ? { outcome: row.decision.outcome, reasons: row.decision.reasons.map((r) => ({ rule: r.rule, message: r.message, basis: r.basis, result: r.result })) } : null,
      ...(cert ? { certificate: { id: cert.id, number: cert.number } } : {}),
    };
  }

  app.get(
    '/v1/applications/:id/events',
    {
      preValidation: requireRole(deps.verifyToken, ['applicant', 'admin']),
      schema: {
        summary: '办理进度推送 Status as server-sent events (text/event-stream) until the decision',
        description: 'Events: `status` with the same fields as GET /v1/applications/{id}; comments as heartbeats. The stream closes after a final status.',
        tags: ['applications'],
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const first = await deps.store.applications.get(id);
      if (!first || !mayRead(deps, request.principal!, first)) throw new AppError('APPLICATION_NOT_FOUND');

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      let closed = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = () => {
        if (closed) return;
        closed = true;
        for (const t of timers) clearTimeout(t);
        res.end();
      };
      request.raw.on('close', finish);
      res.on('close', finish);
      let seq = 0;
      const send = (event: string, data: unknown) => {
        if (!closed) res.write(`id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      res.write('retry: 2000\n\n');

      let lastStatus = '';
      const started = Date.now();
      let lastWrite = Date.now();
      const tick = async () => {
        if (closed) return;
        try {
          const row = await deps.store.applications.get(id);
          if (!row) return finish();
          if (row.status !== lastStatus) {
            send('status', await statusEvent(row));
            lastWrite = Date.now();
            lastStatus = row.status;
          }
          if (FINAL.has(row.status) || Date.now() - started > MAX_STREAM_MS) return finish();
          if (Date.now() - lastWrite > HEARTBEAT_MS) {
            res.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
        } catch (err) {
          request.log.warn({ err: String(err), applicationId: id }, 'status stream poll failed');
        }
        if (!closed) timers.push(setTimeout(() => void tick(), POLL_MS));
      };
      await tick();
    },
  );
}
