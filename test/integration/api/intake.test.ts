/**
 * Filing intake over the real API (DESIGN.md §2, §5, §6): every bad request is refused with a stable code and a
 * requestId and leaves nothing behind; Idempotency-Key replays are exact; another principal's application is
 * invisible (404, never 403). No worker runs here: filings stay queued.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../../src/http/dev-token.js';
import { intakeCounts, countRows } from '../../support/db-counts.js';
import { HAPPY_USCC, SECRET, grainFiling, startStack, submit, type Stack } from '../../support/stack.js';

type Response = Awaited<ReturnType<typeof submit>>;
interface ErrorBody {
  code: string;
  message: string;
  requestId: string;
  errors?: Array<{ path: string; message: string }>;
}

/** Another enterprise in the demo data (沈阳䶮盛粮贸有限公司). */
const OTHER_USCC = '91210102123456788E';
/** A valid 公民身份号码 (张伟): a natural person, who may not file the grain matter. */
const CITIZEN_ID = '210102199001011237';
const GRAIN_DEPT = '11210100MB0E12346R';
const PARKING_DEPT = '11210100MB0E23459Q';

/** The response is the refusal `status`/`code` in the §6 error shape, its requestId echoed in x-request-id. */
function expectRefusal(res: Response, status: number, code: string): ErrorBody {
  expect({ status: res.statusCode, code: res.json<ErrorBody>().code }, res.body).toEqual({ status, code });
  const body = res.json<ErrorBody>();
  expect(body.message).toMatch(/\S/);
  expect(body.requestId).toMatch(/\S/);
  expect(res.headers['x-request-id']).toBe(body.requestId);
  return body;
}

function errorPaths(body: ErrorBody): string[] {
  return (body.errors ?? []).map((e) => e.path);
}

/** An applicant token with everything right but what `o` changes. */
const applicantTokenWith = (o: { secret?: string; now?: Date; audience?: string; issuer?: string; ttlSeconds?: number } = {}) =>
  signDevToken(o.secret ?? SECRET, HAPPY_USCC, { role: 'applicant' }, o);

describe.each(['sqlite', 'postgres'] as const)('filing intake (%s)', (backend) => {
  let stack: Stack;
  let applicant: string;
  let otherApplicant: string;

  beforeAll(async () => {
    stack = await startStack({ backend, worker: false });
    applicant = await stack.token(HAPPY_USCC);
    otherApplicant = await stack.token(OTHER_USCC);
  });

  afterAll(async () => {
    await stack?.close();
  });

  interface BadRequest {
    what: string;
    send(): Promise<Response>;
    status: number;
    code: string;
    /** A JSON Pointer that errors[] must name. */
    path?: string;
  }

  const postAs = (contentType: string, payload: string) =>
    stack.app.inject({
      method: 'POST',
      url: '/v1/applications',
      headers: { authorization: `Bearer ${applicant}`, 'content-type': contentType },
      payload,
    });
  const facility = grainFiling().form.storageFacilities[0]!;
  const badRequests: BadRequest[] = [
    {
      what: 'an unknown top-level property',
      send: () => submit(stack, applicant, { ...grainFiling(), priority: 'urgent' }),
      status: 400,
      code: 'REQUEST_VALIDATION',
      path: '/priority',
    },
    {
      what: 'an unknown property inside the form',
      send: () => submit(stack, applicant, grainFiling({ form: { enterpriseName: '冒填的企业名称' } })),
      status: 400,
      code: 'REQUEST_VALIDATION',
      path: '/form/enterpriseName',
    },
    {
      what: 'a capacity given as a string',
      send: () => submit(stack, applicant, grainFiling({ form: { storageFacilities: [{ ...facility, capacityTonnes: '5000' }] } })),
      status: 400,
      code: 'REQUEST_VALIDATION',
      path: '/form/storageFacilities/0/capacityTonnes',
    },
    {
      what: 'a 身份证号 with a wrong check digit',
      send: () => submit(stack, applicant, grainFiling({ form: { responsiblePerson: { name: '张伟', idNumber: '210102199001011236' } } })),
      status: 400,
      code: 'REQUEST_VALIDATION',
      path: '/form/responsiblePerson/idNumber',
    },
    {
      what: 'a 身份证号 born on a day that does not exist (1999-02-29)',
      send: () => submit(stack, applicant, grainFiling({ form: { responsiblePerson: { name: '赵敏', idNumber: '210103199902290049' } } })),
      status: 400,
      code: 'REQUEST_VALIDATION',
      path: '/form/responsiblePerson/idNumber',
    },
    {
      what: 'an answer that is not one of the options',
      send: () => submit(stack, applicant, grainFiling({ answers: { filingType: '注销' } })),
      status: 400,
      code: 'REQUEST_VALIDATION',
      path: '/answers/filingType',
    },
    {
      what: 'an unanswered question that decides the situation',
      send: () => submit(stack, applicant, { ...grainFiling(), answers: { filingType: '首次' } }),
      status: 400,
      code: 'REQUEST_VALIDATION',
      path: '/answers/storageSource',
    },
    {
      what: 'no consent object',
      send: () => {
        const { consent: _consent, ...body } = grainFiling();
        return submit(stack, applicant, body);
      },
      status: 400,
      code: 'REQUEST_VALIDATION',
      path: '/consent',
    },
    {
      what: 'data sharing not consented',
      send: () => submit(stack, applicant, grainFiling({ consent: { dataSharing: false } })),
      status: 400,
      code: 'CONSENT_REQUIRED',
      path: '/consent/dataSharing',
    },
    {
      what: 'seal authorisation not given',
      send: () => submit(stack, applicant, grainFiling({ consent: { sealAuthorization: false } })),
      status: 400,
      code: 'CONSENT_REQUIRED',
      path: '/consent/sealAuthorization',
    },
    {
      what: 'malformed JSON',
      send: () => submit(stack, applicant, '{"matter": "grain-purchase-filing", "answers": {'),
      status: 400,
      code: 'REQUEST_MALFORMED_JSON',
    },
    {
      what: 'an empty JSON body',
      send: () => submit(stack, applicant, ''),
      status: 400,
      code: 'REQUEST_MALFORMED_JSON',
    },
    {
      what: 'a body over 256 KiB',
      send: () => submit(stack, applicant, grainFiling({ form: { contactPhone: '1'.repeat(300 * 1024) } })),
      status: 413,
      code: 'REQUEST_BODY_TOO_LARGE',
    },
    {
      what: 'JSON sent as text/plain',
      send: () => postAs('text/plain; charset=utf-8', JSON.stringify(grainFiling())),
      status: 415,
      code: 'REQUEST_MEDIA_TYPE',
    },
    {
      what: 'an application/xml body',
      send: () => postAs('application/xml', '<filing matter="grain-purchase-filing"/>'),
      status: 415,
      code: 'REQUEST_MEDIA_TYPE',
    },
    {
      what: 'an unknown matter',
      send: () => submit(stack, applicant, { ...grainFiling(), matter: 'no-such-matter' }),
      status: 400,
      code: 'MATTER_UNKNOWN',
      path: '/matter',
    },
    {
      what: 'an Idempotency-Key of 300 characters',
      send: () => submit(stack, applicant, grainFiling(), { 'idempotency-key': 'k'.repeat(300) }),
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID',
    },
    {
      what: 'an Idempotency-Key containing a space',
      send: () => submit(stack, applicant, grainFiling(), { 'idempotency-key': 'two words' }),
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID',
    },
    {
      what: 'no bearer token',
      send: () =>
        stack.app.inject({
          method: 'POST',
          url: '/v1/applications',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(grainFiling()),
        }),
      status: 401,
      code: 'AUTH_TOKEN_MISSING',
    },
    {
      what: 'a token signed with another secret',
      send: async () => submit(stack, await applicantTokenWith({ secret: `${SECRET}-not-ours` }), grainFiling()),
      status: 401,
      code: 'AUTH_TOKEN_INVALID',
    },
    {
      what: 'an expired token',
      send: async () => submit(stack, await applicantTokenWith({ now: new Date(Date.now() - 3900_000) }), grainFiling()),
      status: 401,
      code: 'AUTH_TOKEN_INVALID',
    },
    {
      what: 'a token for another audience',
      send: async () => submit(stack, await applicantTokenWith({ audience: 'another-system' }), grainFiling()),
      status: 401,
      code: 'AUTH_TOKEN_INVALID',
    },
    {
      what: 'a token from another issuer',
      send: async () => submit(stack, await applicantTokenWith({ issuer: 'https://idp.example.org' }), grainFiling()),
      status: 401,
      code: 'AUTH_TOKEN_INVALID',
    },
    {
      what: 'a token that lives for ever (exp 1e20)',
      send: async () => submit(stack, await applicantTokenWith({ ttlSeconds: 1e20 }), grainFiling()),
      status: 401,
      code: 'AUTH_TOKEN_INVALID',
    },
    {
      what: 'a token issued a year from now',
      send: async () => submit(stack, await applicantTokenWith({ now: new Date(Date.now() + 365 * 86_400_000) }), grainFiling()),
      status: 401,
      code: 'AUTH_TOKEN_INVALID',
    },
    {
      what: 'a 9 KB token',
      send: () => submit(stack, `${'a'.repeat(9 * 1024)}.b.c`, grainFiling()),
      status: 401,
      code: 'AUTH_TOKEN_TOO_LARGE',
    },
    {
      what: 'a token that is not a JWT',
      send: () => submit(stack, 'not-a-jwt', grainFiling()),
      status: 401,
      code: 'AUTH_TOKEN_INVALID',
    },
    {
      what: 'a consumer token',
      send: async () => submit(stack, await stack.token(HAPPY_USCC, 'consumer', { scope: 'certificates:read' }), grainFiling()),
      status: 403,
      code: 'AUTH_ROLE_FORBIDDEN',
    },
    {
      what: 'an admin token',
      send: async () => submit(stack, await stack.token('grain-admin', 'admin', { dept: GRAIN_DEPT }), grainFiling()),
      status: 403,
      code: 'AUTH_ROLE_FORBIDDEN',
    },
    {
      what: 'a citizen (公民身份号码 subject) filing an enterprise-only matter',
      send: async () => submit(stack, await stack.token(CITIZEN_ID), grainFiling()),
      status: 422,
      code: 'APPLICANT_NOT_ACCEPTED',
    },
  ];

  it.each(badRequests)('refuses $what with $status $code and stores nothing', async ({ send, status, code, path }) => {
    const before = await intakeCounts(stack);
    const body = expectRefusal(await send(), status, code);
    if (path !== undefined) expect(errorPaths(body)).toContain(path);
    expect(await intakeCounts(stack)).toEqual(before);
  });

  it('names every problem of a filing in one answer, each with its path', async () => {
    const res = await submit(
      stack,
      applicant,
      grainFiling({ form: { contactPhone: 'call me', responsiblePerson: { name: '张伟', idNumber: '210102199001011236' } } }),
    );
    const body = expectRefusal(res, 400, 'REQUEST_VALIDATION');
    expect(errorPaths(body)).toEqual(expect.arrayContaining(['/form/contactPhone', '/form/responsiblePerson/idNumber']));
  });

  it('accepts a valid filing with 202, a Location and one application plus one outbox row', async () => {
    const before = await intakeCounts(stack);
    const res = await submit(stack, applicant, grainFiling());
    expect(res.statusCode, res.body).toBe(202);
    const { id, status } = res.json<{ id: string; status: string }>();
    expect(status).toBe('queued');
    expect(res.headers.location).toBe(`/v1/applications/${id}`);
    expect(await intakeCounts(stack)).toEqual({ ...before, applications: before.applications + 1, outbox: before.outbox + 1 });
    expect(await countRows(stack, 'outbox', { application_id: id })).toBe(1);
  });

  describe('Idempotency-Key', () => {
    it('answers a replay (same key, same body) with the same id and stores one application', async () => {
      const key = randomUUID();
      const before = await intakeCounts(stack);
      const first = await submit(stack, applicant, grainFiling(), { 'idempotency-key': key });
      const second = await submit(stack, applicant, grainFiling(), { 'idempotency-key': key });
      expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
      expect(second.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
      const after = await intakeCounts(stack);
      expect(after.applications - before.applications).toBe(1);
      expect(after.outbox - before.outbox).toBe(1);
    });

    it('treats the same body with its JSON keys in another order as the same request', async () => {
      const key = randomUUID();
      const body = grainFiling();
      const reordered = { consent: { sealAuthorization: true, dataSharing: true }, form: body.form, answers: { storageSource: '自有', filingType: '首次' }, matter: body.matter };
      const first = await submit(stack, applicant, body, { 'idempotency-key': key });
      const second = await submit(stack, applicant, reordered, { 'idempotency-key': key });
      expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
      expect(second.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
    });

    it('refuses the same key with a different body (422 IDEMPOTENCY_KEY_REUSED) and keeps the first application only', async () => {
      const key = randomUUID();
      const before = await intakeCounts(stack);
      const first = await submit(stack, applicant, grainFiling(), { 'idempotency-key': key });
      expect(first.statusCode, first.body).toBe(202);
      const other = await submit(stack, applicant, grainFiling({ form: { contactPhone: '13900000000' } }), { 'idempotency-key': key });
      expectRefusal(other, 422, 'IDEMPOTENCY_KEY_REUSED');
      const after = await intakeCounts(stack);
      expect(after.applications - before.applications).toBe(1);
      expect(after.outbox - before.outbox).toBe(1);
      const stored = await stack.deps.store.applications.get(first.json<{ id: string }>().id);
      expect(stored?.form['contactPhone']).toBe('13800000000');
    });

    it('scopes a key to its applicant: two applicants using one key file two applications', async () => {
      const key = randomUUID();
      const before = await intakeCounts(stack);
      const mine = await submit(stack, applicant, grainFiling(), { 'idempotency-key': key });
      const theirs = await submit(stack, otherApplicant, grainFiling(), { 'idempotency-key': key });
      expect([mine.statusCode, theirs.statusCode]).toEqual([202, 202]);
      const [mineId, theirsId] = [mine.json<{ id: string }>().id, theirs.json<{ id: string }>().id];
      expect(mineId).not.toBe(theirsId);
      expect((await stack.deps.store.applications.get(mineId))?.applicant).toBe(HAPPY_USCC);
      expect((await stack.deps.store.applications.get(theirsId))?.applicant).toBe(OTHER_USCC);
      expect((await intakeCounts(stack)).applications - before.applications).toBe(2);
    });

    it('files twice when the same body comes twice without a key', async () => {
      const before = await intakeCounts(stack);
      const [a, b] = [await submit(stack, applicant, grainFiling()), await submit(stack, applicant, grainFiling())];
      expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
      expect(a.json<{ id: string }>().id).not.toBe(b.json<{ id: string }>().id);
      expect((await intakeCounts(stack)).applications - before.applications).toBe(2);
    });

    it('stores exactly one application and one outbox row for five concurrent submissions with one key', async () => {
      const key = randomUUID();
      const before = await intakeCounts(stack);
      const responses = await Promise.all(Array.from({ length: 5 }, () => submit(stack, applicant, grainFiling(), { 'idempotency-key': key })));
      expect(responses.map((r) => r.statusCode)).toEqual([202, 202, 202, 202, 202]);
      const ids = new Set(responses.map((r) => r.json<{ id: string }>().id));
      expect(ids.size).toBe(1);
      const [id] = [...ids];
      const after = await intakeCounts(stack);
      expect(after.applications - before.applications).toBe(1);
      expect(after.outbox - before.outbox).toBe(1);
      expect(after.idempotencyKeys - before.idempotencyKeys).toBe(1);
      expect(await countRows(stack, 'applications', { id: id! })).toBe(1);
      expect(await countRows(stack, 'outbox', { application_id: id! })).toBe(1);
    });
  });

  describe('who may read an application', () => {
    let id: string;
    const get = async (url: string, token: string) => stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

    beforeAll(async () => {
      const res = await submit(stack, applicant, grainFiling());
      expect(res.statusCode, res.body).toBe(202);
      id = res.json<{ id: string }>().id;
    });

    it('shows its applicant the queued application without a decision', async () => {
      const res = await get(`/v1/applications/${id}`, applicant);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id, matter: 'grain-purchase-filing', status: 'queued', decision: null, decidedAt: null });
      expect(res.json()).not.toHaveProperty('certificate');
      // 申请编号: 沈 + the Beijing day of the filing + that day's counter (issue 18).
      const { number, createdAt } = res.json<{ number: string; createdAt: string }>();
      const day = new Date(Date.parse(createdAt) + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
      expect(number).toMatch(new RegExp(`^沈${day}\\d{5}$`));
    });

    it("answers another applicant 404 APPLICATION_NOT_FOUND, exactly as for an id that does not exist", async () => {
      const theirs = expectRefusal(await get(`/v1/applications/${id}`, otherApplicant), 404, 'APPLICATION_NOT_FOUND');
      const missing = expectRefusal(await get(`/v1/applications/${randomUUID()}`, otherApplicant), 404, 'APPLICATION_NOT_FOUND');
      expect(theirs.message).toBe(missing.message);
      expect(theirs).not.toHaveProperty('matter');
      expect(theirs).not.toHaveProperty('status');
    });

    it("lets an admin of the matter's department read it", async () => {
      const res = await get(`/v1/applications/${id}`, await stack.token('grain-officer', 'admin', { dept: GRAIN_DEPT }));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id, status: 'queued' });
    });

    it('answers an admin of another department 404', async () => {
      const res = await get(`/v1/applications/${id}`, await stack.token('parking-officer', 'admin', { dept: PARKING_DEPT }));
      expectRefusal(res, 404, 'APPLICATION_NOT_FOUND');
    });

    it('answers 409 FORM_NOT_READY for the e-form before the worker generated it', async () => {
      expectRefusal(await get(`/v1/applications/${id}/form`, applicant), 409, 'FORM_NOT_READY');
    });

    it("answers another applicant 404 for the e-form too", async () => {
      expectRefusal(await get(`/v1/applications/${id}/form`, otherApplicant), 404, 'APPLICATION_NOT_FOUND');
    });

    it('requires a token to read', async () => {
      expectRefusal(await stack.app.inject({ method: 'GET', url: `/v1/applications/${id}` }), 401, 'AUTH_TOKEN_MISSING');
    });
  });

  describe('operations endpoints', () => {
    it('is alive: /healthz answers 200', async () => {
      const res = await stack.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
    });

    it('is ready: /readyz answers 200 with database and redis ok', async () => {
      const res = await stack.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
    });

    it('publishes the OpenAPI document with the filing endpoint', async () => {
      const res = await stack.app.inject({ method: 'GET', url: '/docs/json' });
      expect(res.statusCode).toBe(200);
      const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.paths['/v1/applications']).toHaveProperty('post');
    });

    it('serves the trust anchors as PEM certificates', async () => {
      const res = await stack.app.inject({ method: 'GET', url: '/v1/trust' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toMatch(/^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/);
    });
  });
});
