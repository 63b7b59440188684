/**
 * Access matrix (issue 7 item 5, DESIGN.md §6): every route × every principal — anonymous, broken tokens (expired,
 * `alg: none`, wrong key, garbage, admin without dept), the owning applicant, another applicant, an admin of the
 * owning department and of another one, consumers with and without `certificates:read`, a supervisor. Each cell
 * has its expected status; a refusal is the §6 error shape and carries none of the object's data; and for another
 * principal's object the answer is exactly the answer for an id that does not exist (404, never 403: no oracle).
 * The route list is read from the app: a new route fails this test until it is added here.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { signDevToken } from '../../src/http/dev-token.js';
import { registeredRoutes } from '../support/routes.js';
import { HAPPY_USCC, REPO_ROOT, SECRET, grainFiling, startStack, submit, waitForDecision, type Stack } from '../support/stack.js';

const OTHER_USCC = '91210102123456788E';
const DISHONEST_USCC = '91210106MA0U7G8H65';
const GRAIN_DEPT = '11210100MB0E12346R';
const PARKING_DEPT = '11210100MB0E23459Q';
const SUPERVISION_DEPT = '11210100MB0E56787K';

const INVALID = ['anonymous', 'expired', 'algNone', 'wrongKey', 'garbage', 'adminNoDept'] as const;
const VALID = ['owner', 'otherApplicant', 'adminOwnDept', 'adminOtherDept', 'consumerRead', 'consumerNoScope', 'supervisor', 'ops'] as const;
type Who = (typeof INVALID)[number] | (typeof VALID)[number];
const ALL: Who[] = [...INVALID, ...VALID];
const ROLE: Record<(typeof VALID)[number], string> = {
  owner: 'applicant',
  otherApplicant: 'applicant',
  adminOwnDept: 'admin',
  adminOtherDept: 'admin',
  consumerRead: 'consumer',
  consumerNoScope: 'consumer',
  supervisor: 'supervisor',
  ops: 'ops',
};

interface Fixture {
  app: string;
  cert: { id: string; number: string; verifyCode: string };
  revocable: string;
  review: string;
  /** A manual-review filing whose lease contract (M5) came from the applicant's archive. */
  withMaterial: string;
  pdf: Buffer;
  /** The grain matter's rule-set version (sha256 hex). */
  version: string;
  holderName: string;
  /** One of the owner's consents (given with the filing). */
  consent: string;
  /** A draft of the grain matter written by the grain department's admin. */
  draft: string;
}

interface Req {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  payload?: unknown;
  contentType?: string;
}

/** What a principal gets: a status, `'public'` (same as anonymous, below 400), or `'skip'` (not called: it would change state others rely on). */
type Expect = number | 'skip';

interface RouteSpec {
  /** `METHOD /path/:param` as Fastify registered it. */
  route: string;
  request(f: Fixture): Req;
  /** The same request for an object that does not exist, when the route reads one. */
  missing?(f: Fixture): Req;
  expect: Partial<Record<Who, Expect>> | 'public' | 'public-optional-auth';
  /** For a public route: the status everyone gets (default: any status below 400, the same for all). */
  publicStatus?: number;
}

/**
 * Gate of a protected route: broken tokens → 401, roles not in `roles` → 403, the listed principals get their
 * status, every other principal of an allowed role gets 404 (someone else's object).
 */
function gate(roles: string[], allowed: Partial<Record<Who, Expect>>, otherwise: Expect = 404): Partial<Record<Who, Expect>> {
  const out: Partial<Record<Who, Expect>> = {};
  for (const w of INVALID) out[w] = 401;
  for (const w of VALID) out[w] = allowed[w] ?? (roles.includes(ROLE[w]) ? otherwise : 403);
  return out;
}

/** Node-to-node routes (都市圈通办): no principal's token is a node signature — everyone gets 401. */
const nodeOnly = (): Partial<Record<Who, Expect>> => Object.fromEntries(ALL.map((w) => [w, 401]));

const json = (method: Req['method'], url: string, payload?: unknown): Req => ({ method, url, ...(payload !== undefined ? { payload } : {}) });
const get = (url: string): Req => json('GET', url);

const ROUTES: RouteSpec[] = [
  // Catalog and public documents.
  { route: 'GET /v1/matters', request: () => get('/v1/matters'), expect: 'public' },
  { route: 'GET /v1/matters/:code', request: () => get('/v1/matters/grain-purchase-filing'), expect: 'public' },
  { route: 'GET /v1/matters/:code/schema', request: () => get('/v1/matters/grain-purchase-filing/schema'), expect: 'public' },
  {
    route: 'POST /v1/matters/:code/guide',
    request: () => json('POST', '/v1/matters/grain-purchase-filing/guide', { answers: { filingType: '首次', storageSource: '自有' } }),
    expect: 'public-optional-auth',
  },
  {
    route: 'POST /v1/matters/:code/precheck',
    request: () => json('POST', '/v1/matters/grain-purchase-filing/precheck', { answers: grainFiling().answers, form: grainFiling().form }),
    expect: gate(['applicant'], { owner: 200, otherApplicant: 200 }),
  },
  { route: 'GET /v1/trust', request: () => get('/v1/trust'), expect: 'public' },
  { route: 'GET /v1/revocations', request: () => get('/v1/revocations'), expect: 'public' },
  { route: 'POST /v1/verify', request: (f) => ({ method: 'POST', url: '/v1/verify', payload: f.pdf, contentType: 'application/pdf' }), expect: 'public' },
  { route: 'GET /verify', request: () => get('/verify'), expect: 'public' },
  { route: 'GET /verify/:id/:code', request: (f) => get(`/verify/${f.cert.id}/${f.cert.verifyCode}`), expect: 'public' },
  { route: 'GET /healthz', request: () => get('/healthz'), expect: 'public' },
  { route: 'GET /readyz', request: () => get('/readyz'), expect: 'public' },
  // Issue 17: operators see all of it; a department admin its own department's figures (ops-views.test.ts checks which).
  { route: 'GET /metrics', request: () => get('/metrics'), expect: gate(['admin', 'ops'], { adminOwnDept: 200, adminOtherDept: 200, ops: 200 }) },
  { route: 'GET /v1/portal/config', request: () => get('/v1/portal/config'), expect: 'public' },
  { route: 'GET /', request: () => get('/'), expect: 'public' },
  { route: 'GET /admin', request: () => get('/admin'), expect: 'public' },
  { route: 'GET /vendor/jsoneditor.js', request: () => get('/vendor/jsoneditor.js'), expect: 'public' },
  { route: 'GET /*', request: () => get('/assets/no-such-file.js'), expect: 'public', publicStatus: 404 },
  { route: 'GET /docs', request: () => get('/docs'), expect: 'public' },
  { route: 'GET /docs/', request: () => get('/docs/'), expect: 'public' },
  { route: 'GET /docs/static/index.html', request: () => get('/docs/static/index.html'), expect: 'public' },
  { route: 'GET /docs/static/swagger-initializer.js', request: () => get('/docs/static/swagger-initializer.js'), expect: 'public' },
  { route: 'GET /docs/*', request: () => get('/docs/static/swagger-ui.css'), expect: 'public' },
  { route: 'GET /docs/json', request: () => get('/docs/json'), expect: 'public' },
  { route: 'GET /docs/yaml', request: () => get('/docs/yaml'), expect: 'public' },

  // Applications: their applicant and admins of the matter's department.
  { route: 'POST /v1/applications', request: () => json('POST', '/v1/applications', grainFiling({ form: { purchaseRegionCode: '210199' } })), expect: gate(['applicant'], { owner: 202, otherApplicant: 202 }) },
  {
    route: 'GET /v1/applications/:id',
    request: (f) => get(`/v1/applications/${f.app}`),
    missing: () => get(`/v1/applications/${randomUUID()}`),
    expect: gate(['applicant', 'admin'], { owner: 200, adminOwnDept: 200 }),
  },
  {
    route: 'GET /v1/applications/:id/form',
    request: (f) => get(`/v1/applications/${f.app}/form`),
    missing: () => get(`/v1/applications/${randomUUID()}/form`),
    expect: gate(['applicant', 'admin'], { owner: 200, adminOwnDept: 200 }),
  },
  {
    route: 'GET /v1/applications/:id/events',
    request: (f) => get(`/v1/applications/${f.app}/events`),
    missing: () => get(`/v1/applications/${randomUUID()}/events`),
    expect: gate(['applicant', 'admin'], { owner: 200, adminOwnDept: 200 }),
  },

  // Certificates: the holder, consumers with certificates:read, admins of the issuing department.
  { route: 'GET /v1/certificates', request: () => get('/v1/certificates'), expect: gate(['applicant', 'admin', 'consumer'], { owner: 200, otherApplicant: 200, adminOwnDept: 200, adminOtherDept: 200, consumerRead: 200, consumerNoScope: 403 }) },
  {
    route: 'GET /v1/certificates/:id',
    request: (f) => get(`/v1/certificates/${f.cert.id}`),
    missing: () => get(`/v1/certificates/${randomUUID()}`),
    expect: gate(['applicant', 'admin', 'consumer'], { owner: 200, adminOwnDept: 200, consumerRead: 200 }),
  },
  {
    route: 'GET /v1/certificates/:id/pdf',
    request: (f) => get(`/v1/certificates/${f.cert.id}/pdf`),
    missing: () => get(`/v1/certificates/${randomUUID()}/pdf`),
    expect: gate(['applicant', 'admin', 'consumer'], { owner: 200, adminOwnDept: 200, consumerRead: 200 }),
  },
  {
    // Issue 15: the OFD of a certificate follows the PDF's access rules (made on first request for intl departments).
    route: 'GET /v1/certificates/:id/ofd',
    request: (f) => get(`/v1/certificates/${f.cert.id}/ofd`),
    missing: () => get(`/v1/certificates/${randomUUID()}/ofd`),
    expect: gate(['applicant', 'admin', 'consumer'], { owner: 200, adminOwnDept: 200, consumerRead: 200 }),
  },
  {
    route: 'POST /v1/certificates/:id/revoke',
    request: (f) => json('POST', `/v1/certificates/${f.revocable}/revoke`, { reason: '访问矩阵测试撤销' }),
    missing: () => json('POST', `/v1/certificates/${randomUUID()}/revoke`, { reason: '访问矩阵测试撤销' }),
    // adminOwnDept revokes last (see the test), so that every other cell sees a valid certificate.
    expect: gate(['admin'], { adminOwnDept: 200 }),
  },

  // Admin API: role admin, scoped to the token's department; another department's matter is 404.
  { route: 'GET /v1/admin/matters', request: () => get('/v1/admin/matters'), expect: gate(['admin'], { adminOwnDept: 200, adminOtherDept: 200 }) },
  {
    route: 'GET /v1/admin/matters/:code/versions',
    request: () => get('/v1/admin/matters/grain-purchase-filing/versions'),
    missing: () => get('/v1/admin/matters/no-such-matter/versions'),
    expect: gate(['admin'], { adminOwnDept: 200 }),
  },
  {
    route: 'GET /v1/admin/matters/:code/versions/:version',
    request: (f) => get(`/v1/admin/matters/grain-purchase-filing/versions/${f.version}`),
    missing: (f) => get(`/v1/admin/matters/no-such-matter/versions/${f.version}`),
    expect: gate(['admin'], { adminOwnDept: 'skip' }),
  },
  {
    route: 'POST /v1/admin/matters/:code/drafts',
    // No `missing`: a draft for a code that does not exist yet is a new matter (its body is validated, 422), and
    // matter codes are public (GET /v1/matters) anyway.
    request: () => json('POST', '/v1/admin/matters/grain-purchase-filing/drafts', { code: 'grain-purchase-filing' }),
    expect: gate(['admin'], { adminOwnDept: 'skip' }),
  },
  {
    route: 'POST /v1/admin/matters/:code/rollback',
    request: (f) => json('POST', '/v1/admin/matters/grain-purchase-filing/rollback', { version: f.version }),
    missing: (f) => json('POST', '/v1/admin/matters/no-such-matter/rollback', { version: f.version }),
    expect: gate(['admin'], { adminOwnDept: 'skip' }),
  },
  // Issue 17: four-eyes rollback — requests listed per department, approved by a second admin.
  { route: 'GET /v1/admin/rollbacks', request: () => get('/v1/admin/rollbacks'), expect: gate(['admin'], { adminOwnDept: 200, adminOtherDept: 200 }) },
  { route: 'POST /v1/admin/rollbacks/:id/approve', request: () => json('POST', `/v1/admin/rollbacks/${randomUUID()}/approve`, {}), expect: gate(['admin'], {}) },
  // A real draft of the grain department (issue 17): another department's admin must find nothing — the same
  // answer as for a draft that does not exist — while its own admin reads, tests and back-tests it. Approving and
  // publishing by its author are refused for reasons of their own (checked below), so that cell is not called.
  ...(['', '/test', '/backtest', '/approve', '/publish'] as const).map(
    (suffix): RouteSpec => ({
      route: `${suffix === '' ? 'GET' : 'POST'} /v1/admin/drafts/:id${suffix}`,
      request: (f) => json(suffix === '' ? 'GET' : 'POST', `/v1/admin/drafts/${f.draft}${suffix}`, suffix === '' ? undefined : {}),
      missing: () => json(suffix === '' ? 'GET' : 'POST', `/v1/admin/drafts/${randomUUID()}${suffix}`, suffix === '' ? undefined : {}),
      expect: gate(['admin'], { adminOwnDept: suffix === '/approve' || suffix === '/publish' ? 'skip' : 200 }),
    }),
  ),
  // Issue 18: the drafts list (mine / awaiting my approval), scoped to the admin's department.
  { route: 'GET /v1/admin/drafts', request: () => get('/v1/admin/drafts?for=awaiting'), expect: gate(['admin'], { adminOwnDept: 200, adminOtherDept: 200 }) },
  { route: 'GET /v1/admin/reviews', request: () => get('/v1/admin/reviews'), expect: gate(['admin'], { adminOwnDept: 200, adminOtherDept: 200 }) },
  ...['approve', 'reject'].map(
    (verb): RouteSpec => ({
      route: `POST /v1/admin/reviews/:id/${verb}`,
      request: (f) => json('POST', `/v1/admin/reviews/${f.review}/${verb}`, verb === 'approve' ? { note: '访问矩阵测试' } : { reason: '访问矩阵测试' }),
      missing: () => json('POST', `/v1/admin/reviews/${randomUUID()}/${verb}`, verb === 'approve' ? { note: '访问矩阵测试' } : { reason: '访问矩阵测试' }),
      expect: gate(['admin'], { adminOwnDept: 'skip' }),
    }),
  ),
  // Issue 18: the reviewer opens the filing's materials; another department's filing does not exist.
  {
    route: 'GET /v1/admin/applications/:id/materials',
    request: (f) => get(`/v1/admin/applications/${f.withMaterial}/materials`),
    missing: () => get(`/v1/admin/applications/${randomUUID()}/materials`),
    expect: gate(['admin'], { adminOwnDept: 200 }),
  },
  {
    route: 'GET /v1/admin/applications/:id/materials/:material',
    request: (f) => get(`/v1/admin/applications/${f.withMaterial}/materials/M5`),
    missing: () => get(`/v1/admin/applications/${randomUUID()}/materials/M5`),
    expect: gate(['admin'], { adminOwnDept: 200 }),
  },
  { route: 'GET /v1/admin/audit', request: () => get('/v1/admin/audit'), expect: gate(['admin'], { adminOwnDept: 200, adminOtherDept: 200 }) },

  // Webhooks: consumers; creating one needs scope webhooks:write, which no principal here has.
  { route: 'POST /v1/webhooks', request: () => json('POST', '/v1/webhooks', { url: 'https://example.invalid/hook', events: ['certificate.issued'] }), expect: gate(['consumer'], {}, 403) },
  { route: 'GET /v1/webhooks', request: () => get('/v1/webhooks'), expect: gate(['consumer'], { consumerRead: 200, consumerNoScope: 200 }) },
  { route: 'GET /v1/webhooks/:id', request: () => get(`/v1/webhooks/${randomUUID()}`), expect: gate(['consumer'], {}) },
  { route: 'DELETE /v1/webhooks/:id', request: () => json('DELETE', `/v1/webhooks/${randomUUID()}`), expect: gate(['consumer'], {}) },
  { route: 'GET /v1/webhooks/:id/deliveries', request: () => get(`/v1/webhooks/${randomUUID()}/deliveries`), expect: gate(['consumer'], {}) },

  // The applicant's own records (一人一档): consents, data reads about them, their archive of materials.
  { route: 'GET /v1/me/consents', request: () => get('/v1/me/consents'), expect: gate(['applicant'], { owner: 200, otherApplicant: 200 }) },
  {
    route: 'DELETE /v1/me/consents/:id',
    request: (f) => json('DELETE', `/v1/me/consents/${f.consent}`),
    missing: () => json('DELETE', `/v1/me/consents/${randomUUID()}`),
    // The owner would really revoke it; the other applicant must find nothing.
    expect: gate(['applicant'], { owner: 'skip' }),
  },
  // Issue 18: 我的办件 (each applicant its own filings) and the district picker's list.
  { route: 'GET /v1/me/applications', request: () => get('/v1/me/applications'), expect: gate(['applicant'], { owner: 200, otherApplicant: 200 }) },
  { route: 'GET /v1/regions', request: () => get('/v1/regions'), expect: 'public' },
  { route: 'GET /v1/me/data-access', request: () => get('/v1/me/data-access'), expect: gate(['applicant'], { owner: 200, otherApplicant: 200 }) },
  { route: 'GET /v1/me/archive', request: () => get('/v1/me/archive'), expect: gate(['applicant'], { owner: 200, otherApplicant: 200 }) },
  {
    route: 'POST /v1/materials',
    request: (f) => ({ method: 'POST', url: '/v1/materials?matter=grain-purchase-filing&material=M5', payload: f.pdf, contentType: 'application/pdf' }),
    expect: gate(['applicant'], { owner: 'skip', otherApplicant: 'skip' }),
  },
  { route: 'GET /v1/admin/data-access', request: () => get('/v1/admin/data-access'), expect: gate(['admin'], { adminOwnDept: 200, adminOtherDept: 200 }) },
  { route: 'GET /v1/stats', request: () => get('/v1/stats'), expect: gate(['admin', 'supervisor'], { adminOwnDept: 200, adminOtherDept: 200, supervisor: 200 }) },

  // 一件事 bundles (issue 14): the catalog and guide are public; the notice of a filing that is not a bundle is 404
  // for everyone (as for a missing one); the push needs scope collaboration:notify, which no consumer here has.
  { route: 'GET /v1/bundles', request: () => get('/v1/bundles'), expect: 'public' },
  { route: 'GET /v1/bundles/:code', request: () => get('/v1/bundles/disability-services'), expect: 'public' },
  { route: 'POST /v1/bundles/:code/guide', request: () => json('POST', '/v1/bundles/disability-services/guide', { answers: { relation: '本人', residence: '本市户籍' } }), expect: 'public-optional-auth' },
  { route: 'GET /bundles', request: () => get('/bundles'), expect: 'public' },
  {
    route: 'GET /v1/applications/:id/notice',
    request: (f) => get(`/v1/applications/${f.app}/notice`),
    missing: () => get(`/v1/applications/${randomUUID()}/notice`),
    expect: gate(['applicant', 'admin'], {}),
  },
  { route: 'GET /v1/me/bundles', request: () => get('/v1/me/bundles'), expect: gate(['applicant'], { owner: 200, otherApplicant: 200 }) },
  { route: 'GET /v1/admin/bundles', request: () => get('/v1/admin/bundles'), expect: gate(['admin'], { adminOwnDept: 200, adminOtherDept: 200 }) },
  {
    route: 'POST /v1/data-sources/:code/arrivals',
    request: () => json('POST', '/v1/data-sources/disability-assessment/arrivals', { key: '210106198002120014' }),
    expect: gate(['consumer'], {}, 403),
  },
  // Issue 16: 授权查验 of proofs (the fixture's certificate is a 备案回执, not a proof), 都市圈通办 node routes.
  {
    route: 'POST /v1/me/proof-consents',
    request: (f) => json('POST', '/v1/me/proof-consents', { certificateId: f.cert.id, consumer: 'BANK-1', purpose: '访问矩阵测试' }),
    // The owner learns its 备案回执 is not a proof (422); anyone else finds no such certificate (404).
    expect: gate(['applicant'], { owner: 422 }),
  },
  { route: 'GET /v1/me/proof-consents', request: () => get('/v1/me/proof-consents'), expect: gate(['applicant'], { owner: 200, otherApplicant: 200 }) },
  { route: 'DELETE /v1/me/proof-consents/:id', request: () => json('DELETE', `/v1/me/proof-consents/${randomUUID()}`), expect: gate(['applicant'], {}) },
  { route: 'GET /v1/proofs/:id', request: (f) => get(`/v1/proofs/${f.cert.id}`), missing: () => get(`/v1/proofs/${randomUUID()}`), expect: gate(['consumer'], {}) },
  { route: 'GET /v1/proofs/:id/pdf', request: (f) => get(`/v1/proofs/${f.cert.id}/pdf`), missing: () => get(`/v1/proofs/${randomUUID()}/pdf`), expect: gate(['consumer'], {}) },
  { route: 'GET /v1/federation/peers', request: () => get('/v1/federation/peers'), expect: 'public' },
  { route: 'POST /v1/federation/filings', request: () => json('POST', '/v1/federation/filings', { originId: 'x' }), expect: nodeOnly() },
  { route: 'GET /v1/federation/filings/:id', request: (f) => get(`/v1/federation/filings/${f.app}`), expect: nodeOnly() },
  { route: 'GET /v1/federation/certificates/:id/pdf', request: (f) => get(`/v1/federation/certificates/${f.cert.id}/pdf`), expect: nodeOnly() },
  { route: 'GET /v1/federation/register/:sha256', request: () => get(`/v1/federation/register/${'0'.repeat(64)}`), expect: nodeOnly() },
  { route: 'GET /v1/federation/matters', request: () => get('/v1/federation/matters'), expect: nodeOnly() },
  { route: 'GET /v1/federation/matters/:code', request: () => get('/v1/federation/matters/grain-purchase-filing'), expect: nodeOnly() },

  // Queue dashboard: operators only since issue 17 (the session route trades an ops JWT for a cookie); admins 403.
  { route: 'POST /admin/queues/session', request: () => json('POST', '/admin/queues/session', {}), expect: gate(['ops'], { ops: 200 }) },
  { route: 'DELETE /admin/queues/session', request: () => json('DELETE', '/admin/queues/session'), expect: 'public' },
];

/** Dashboard routes (bull-board) are checked generically: everyone but ops is refused, whatever the route. */
const BOARD_PREFIX = '/admin/queues';

describe('access matrix: every route × every principal', () => {
  let stack: Stack;
  let f: Fixture;
  const tokens = new Map<Who, string | null>();
  let secrets: string[];
  let cells = 0;
  /** What the matrix looked for and found, for the printed line: refusals searched for secrets, oracle comparisons. */
  const seen = { refusals: 0, leaks: 0, oracleChecks: 0, oracles: 0 };

  const sign = (claims: Record<string, unknown>, sub: string, secret = SECRET, now = new Date()) => signDevToken(secret, sub, claims, { now });

  async function call(who: Who, req: Req) {
    const token = tokens.get(who);
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    let payload: string | Buffer | undefined;
    if (req.payload !== undefined) {
      payload = Buffer.isBuffer(req.payload) ? req.payload : JSON.stringify(req.payload);
      headers['content-type'] = req.contentType ?? 'application/json';
    }
    cells++;
    return stack.app.inject({ method: req.method, url: req.url, headers, ...(payload !== undefined ? { payload } : {}) });
  }

  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite', env: { VERIFY_RATE_LIMIT: '0' } });
    const owner = await stack.token(HAPPY_USCC);
    const decided = async (token: string, body: unknown) => {
      const res = await submit(stack, token, body);
      expect(res.statusCode, res.body).toBe(202);
      return waitForDecision(stack, res.json<{ id: string }>().id, token, 30_000).then((v) => ({ ...v, id: res.json<{ id: string }>().id }));
    };
    const a = await decided(owner, grainFiling({ form: { purchaseRegionCode: '210102' } }));
    const r = await decided(owner, grainFiling({ form: { purchaseRegionCode: '210103' } }));
    const dishonest = await stack.token(DISHONEST_USCC);
    const review = await decided(
      dishonest,
      grainFiling({
        form: {
          responsiblePerson: { name: '周建国', idNumber: '210111196510081519' },
          storageFacilities: [{ address: '沈阳市铁西区北二西路9号2号库', capacityTonnes: 4000, ownership: '自有', realEstateCertNo: '辽(2022)沈阳市不动产权第0054321号' }],
        },
      }),
    );
    const upload = await stack.app.inject({
      method: 'POST',
      url: '/v1/materials?matter=grain-purchase-filing&material=M5&fileName=lease.pdf',
      headers: { authorization: `Bearer ${dishonest}`, 'content-type': 'application/pdf' },
      payload: Buffer.concat([Buffer.from('%PDF-1.7\n% lease contract\n'), Buffer.alloc(512, 0x20), Buffer.from('\n%%EOF\n')]),
    });
    expect(upload.statusCode, upload.body).toBe(201);
    const withMaterial = await decided(
      dishonest,
      grainFiling({
        answers: { storageSource: '租赁' },
        form: { purchaseRegionCode: '210104', storageFacilities: [{ address: '沈阳市于洪区租赁仓库', capacityTonnes: 2000, ownership: '租赁', leaseEndsOn: '2030-12-31' }] },
      }),
    );
    expect([a.status, r.status, review.status, withMaterial.status]).toEqual(['approved', 'approved', 'manual_review', 'manual_review']);
    await stack.stopWorker();
    const certRow = (await stack.deps.store.certificates.get(a.certificate!.id))!;
    f = {
      app: a.id,
      cert: { id: certRow.id, number: certRow.number, verifyCode: certRow.verifyCode },
      revocable: r.certificate!.id,
      review: review.id,
      withMaterial: withMaterial.id,
      pdf: Buffer.from((await stack.deps.store.certificates.getPdf(certRow.id))!),
      version: stack.deps.catalog.get('grain-purchase-filing')!.version,
      consent: '',
      draft: '',
      holderName: certRow.holderName,
    };
    secrets = [certRow.holderName, certRow.number, '张伟', '210102199001011237', '13800000000', certRow.sha256];

    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const body = base64url.encode(JSON.stringify({ sub: HAPPY_USCC, role: 'admin', dept: GRAIN_DEPT, exp: Math.floor(Date.now() / 1000) + 3600 }));
    tokens.set('anonymous', null);
    tokens.set('expired', await sign({ role: 'applicant' }, HAPPY_USCC, SECRET, new Date(Date.now() - 2 * 3600_000)));
    tokens.set('algNone', `${header}.${body}.`);
    tokens.set('wrongKey', await sign({ role: 'admin', dept: GRAIN_DEPT }, HAPPY_USCC, `${SECRET}-but-not-ours`));
    tokens.set('garbage', 'not.a.jwt');
    tokens.set('adminNoDept', await sign({ role: 'admin' }, 'grain-admin'));
    tokens.set('owner', owner);
    tokens.set('otherApplicant', await stack.token(OTHER_USCC));
    tokens.set('adminOwnDept', await stack.token('grain-admin', 'admin', { dept: GRAIN_DEPT }));
    tokens.set('adminOtherDept', await stack.token('parking-admin', 'admin', { dept: PARKING_DEPT }));
    tokens.set('consumerRead', await stack.token('downstream-system', 'consumer', { scope: 'certificates:read' }));
    tokens.set('consumerNoScope', await stack.token('downstream-system', 'consumer'));
    tokens.set('supervisor', await stack.token('supervision', 'supervisor', { dept: SUPERVISION_DEPT }));
    tokens.set('ops', await stack.token('operator', 'ops'));
    const consents = await call('owner', get('/v1/me/consents'));
    f.consent = consents.json<{ consents: Array<{ id: string }> }>().consents[0]?.id ?? randomUUID();
    const draft = await call('adminOwnDept', {
      method: 'POST',
      url: '/v1/admin/matters/grain-purchase-filing/drafts',
      payload: Buffer.from(readFileSync(path.join(REPO_ROOT, 'rules/matters/grain-purchase-filing.yaml'), 'utf8').replace(/^name: (.*)$/m, 'name: $1（草稿）')),
      contentType: 'application/yaml',
    });
    expect(draft.statusCode, draft.body).toBe(201);
    f.draft = draft.json<{ id: string }>().id;
  }, 90_000);

  afterAll(async () => {
    console.log(
      `ACCESS matrix: ${ROUTES.length} routes (+ the queue dashboard's) × ${ALL.length} principals, ${cells} requests; ` +
        `${seen.refusals} refusals searched for ${secrets?.length ?? 0} secrets → ${seen.leaks} leaks; ` +
        `${seen.oracleChecks} object-vs-missing comparisons → ${seen.oracles} existence oracles`,
    );
    await stack?.close();
  });

  it('covers every registered route (a new route must be added to this matrix)', () => {
    const registered = registeredRoutes(stack.app);
    const known = new Set(ROUTES.map((r) => r.route));
    const unknown = registered.filter((r) => !known.has(r) && !r.split(' ')[1]!.startsWith(BOARD_PREFIX));
    const gone = [...known].filter((r) => !registered.includes(r));
    expect({ unknown, gone }).toEqual({ unknown: [], gone: [] });
    // Development sign-in mints tokens for anyone: it must not exist unless explicitly enabled.
    expect(registered).not.toContain('POST /v1/dev/token');
  });

  it.each(ROUTES.map((r) => [r.route, r] as const))('%s', async (_name, spec) => {
    const order = [...ALL].sort((x, y) => Number(x === 'adminOwnDept') - Number(y === 'adminOwnDept'));
    const baseline = await call('anonymous', spec.request(f));
    const problems: string[] = [];
    for (const who of order) {
      const expected: Expect | 'public' | undefined =
        spec.expect === 'public' ? 'public' : spec.expect === 'public-optional-auth' ? ((INVALID as readonly string[]).includes(who) && who !== 'anonymous' ? 401 : 'public') : spec.expect[who];
      if (expected === 'skip' || expected === undefined) continue;
      const res = await call(who, spec.request(f));
      const status = res.statusCode;
      if (expected === 'public') {
        const wanted = spec.publicStatus ?? (status < 400 ? status : 200);
        if (status !== baseline.statusCode || status !== wanted) problems.push(`${who}: ${status}, anonymous got ${baseline.statusCode}, expected ${wanted} (public route)`);
        continue;
      }
      if (status !== expected) problems.push(`${who}: expected ${expected}, got ${status} ${res.body.slice(0, 160)}`);
      if (status >= 400) {
        const body = res.json<{ code?: string; requestId?: string }>();
        if (!body.code || !(body.code in ERRORS) || !body.requestId) problems.push(`${who}: refusal without a registered code: ${res.body.slice(0, 160)}`);
        const leaked = secrets.filter((s) => res.body.includes(s));
        seen.refusals++;
        seen.leaks += leaked.length;
        if (leaked.length > 0) problems.push(`${who}: refusal leaks ${leaked.join(', ')}`);
        // Another principal's object answers exactly like an object that does not exist.
        if (spec.missing) {
          const absent = await call(who, spec.missing(f));
          const code = (r: typeof res) => (r.statusCode >= 400 ? r.json<{ code?: string }>().code : 'ok');
          seen.oracleChecks++;
          if (absent.statusCode !== status || code(absent) !== code(res)) seen.oracles++;
          if (absent.statusCode !== status || code(absent) !== code(res)) problems.push(`${who}: ${status} ${code(res)} for the object but ${absent.statusCode} ${code(absent)} for a missing one`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('keeps the grain department’s real draft from the parking department’s admin, as if it did not exist', async () => {
    for (const suffix of ['', '/test', '/backtest', '/approve', '/publish']) {
      const method = suffix === '' ? 'GET' : 'POST';
      const res = await call('adminOtherDept', json(method, `/v1/admin/drafts/${f.draft}${suffix}`, suffix === '' ? undefined : {}));
      const absent = await call('adminOtherDept', json(method, `/v1/admin/drafts/${randomUUID()}${suffix}`, suffix === '' ? undefined : {}));
      expect([res.statusCode, res.json<{ code: string }>().code], suffix).toEqual([404, absent.json<{ code: string }>().code]);
      expect(absent.statusCode, suffix).toBe(404);
    }
    // The draft is real and still open: its department reads it, and its author may not approve it alone.
    expect((await call('adminOwnDept', get(`/v1/admin/drafts/${f.draft}`))).statusCode).toBe(200);
    const self = await call('adminOwnDept', json('POST', `/v1/admin/drafts/${f.draft}/approve`, {}));
    expect([self.statusCode, self.json<{ code: string }>().code]).toEqual([403, 'DRAFT_SELF_APPROVAL']);
  });

  it('lists no one else’s certificates: other applicants, other departments', async () => {
    for (const who of ['otherApplicant', 'adminOtherDept'] as const) {
      const res = await call(who, get('/v1/certificates'));
      expect(res.statusCode).toBe(200);
      expect(res.body.includes(f.cert.id) || res.body.includes(f.cert.number), `${who} sees the certificate in the list`).toBe(false);
    }
    for (const who of ['owner', 'adminOwnDept', 'consumerRead'] as const) {
      expect((await call(who, get('/v1/certificates'))).body, who).toContain(f.cert.id);
    }
    const other = await call('adminOtherDept', get('/v1/admin/matters'));
    expect(other.body).not.toContain('grain-purchase-filing');
    // Nobody else's personal records: the other applicant's own views and the other department's reads log.
    for (const [who, url] of [['otherApplicant', '/v1/me/consents'], ['otherApplicant', '/v1/me/data-access'], ['otherApplicant', '/v1/me/archive'], ['adminOtherDept', '/v1/admin/data-access']] as const) {
      const res = await call(who, get(url));
      expect(res.statusCode, `${who} ${url}`).toBe(200);
      // Not the ID numbers: the other applicant typed 张伟's number in its own precheck, a read of its own.
      const leaked = [f.app, f.cert.id, f.cert.number, f.holderName].filter((x) => res.body.includes(x));
      expect(leaked, `${who} ${url}`).toEqual([]);
    }
  });

  it('refuses every queue-dashboard route to anyone but ops, department admins included', async () => {
    const board = registeredRoutes(stack.app).filter((r) => r.split(' ')[1]!.startsWith(BOARD_PREFIX) && !r.endsWith('/session'));
    expect(board.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const route of board) {
      const [method, pattern] = route.split(' ') as [Req['method'], string];
      const url = pattern.replace(':queueName', stack.deps.config.queueName).replace(/:[A-Za-z]+/g, 'x').replace(/\*$/, 'x');
      for (const who of ALL) {
        if (who === 'ops') continue;
        const res = await call(who, { method, url, ...(method === 'GET' ? {} : { payload: {} }) });
        const expected = (INVALID as readonly string[]).includes(who) ? 401 : 403;
        // bull-board's static wildcard answers 404 for a file it does not have, to everyone alike: nothing to protect.
        const ok = res.statusCode === expected || (pattern.endsWith('*') && res.statusCode === 404);
        if (!ok) problems.push(`${who} ${method} ${url}: ${res.statusCode}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
