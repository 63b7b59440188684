/**
 * Every route the app registered (read from Fastify, so a new route is fuzzed without being listed) under the
 * security probe's inputs (issue 17): arrays of 42,000 items, 20,000 × `{}`, deep nesting, ill-formed and
 * unprintable Unicode (lone surrogates, U+0000, U+202E, ESC) in bodies, path parameters and query strings,
 * oversized strings, bearer tokens and headers. Each request is sent as the principal that passes the route's gate
 * (so validation, not authentication, is what meets the input) and must be answered below 500 with the §6 error
 * shape for a refusal, while the event loop is never blocked for 100 ms or more (perf_hooks
 * monitorEventLoopDelay, read after each request). A hostile body sent to a route that reads a body must be
 * refused (4xx). The printed line is made from the tallies of what was sent and answered.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { registeredRoutes } from '../support/routes.js';
import { HAPPY_USCC, SECRET, grainFiling, startStack, type Stack } from '../support/stack.js';
import { jsonPaths, type JsonPath } from './mutations.js';

const GRAIN_DEPT = '11210100MB0E12346R';
const LAG_LIMIT_MS = 100;
/** A request over the limit is sent again this many times; the lowest lag counts (a blocked loop stays blocked, a busy CI core does not). */
const LAG_RETRIES = 2;
/** Keeps every request's URL and headers under Node's 16 KB header limit, as a real socket would. */
const URL_BUDGET = 12_000;

/** bull-board's own JSON API (ops only, behind the dashboard session): it answers in its own error shape. */
const BOARD_API = '/admin/queues/api/';

const BIG_ARRAY = 42_000;
const EMPTY_OBJECTS = 20_000;
const DEPTH = 10_000;

/** Unicode that must never reach a certificate: lone surrogate, NUL, right-to-left override, an ANSI escape. */
const HOSTILE_TEXT: Record<string, string> = {
  loneSurrogate: 'a\ud800b',
  nul: 'a\u0000b',
  rlo: '\u202e91210100MA0Q1A2B6L',
  esc: '\u001b[2J\u001b[31m',
};
/** The same as URL-encoded bytes (the lone surrogate as the ill-formed UTF-8 a client can send). */
const HOSTILE_URL: Record<string, string> = {
  loneSurrogate: 'a%ED%A0%80b',
  nul: 'a%00b',
  rlo: '%E2%80%AE91210100MA0Q1A2B6L',
  esc: '%1B%5B2J',
  badPercent: '%E4%B8',
  long: 'x'.repeat(8_000),
};

interface Req {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** Bodies that the routes accept (taken from the access matrix): the hostile variants are made from these. */
const SEEDS: Record<string, unknown> = {
  'POST /v1/matters/:code/guide': { answers: { filingType: '首次', storageSource: '自有' } },
  'POST /v1/matters/:code/precheck': { answers: grainFiling().answers, form: grainFiling().form },
  'POST /v1/applications': grainFiling({ form: { purchaseRegionCode: '210199' } }),
  'POST /v1/certificates/:id/revoke': { reason: '模糊测试撤销' },
  'POST /v1/admin/matters/:code/drafts': { code: 'grain-purchase-filing' },
  'POST /v1/admin/matters/:code/rollback': { version: '0'.repeat(64) },
  'POST /v1/admin/reviews/:id/approve': { note: '模糊测试' },
  'POST /v1/admin/reviews/:id/reject': { reason: '模糊测试' },
  'POST /v1/webhooks': { url: 'https://example.invalid/hook', events: ['certificate.issued'] },
  'POST /v1/bundles/:code/guide': { answers: { relation: '本人', residence: '本市户籍' } },
  'POST /v1/data-sources/:code/arrivals': { key: '210106198002120014' },
  'POST /v1/me/proof-consents': { certificateId: randomUUID(), consumer: 'BANK-1', purpose: '模糊测试' },
  'POST /v1/federation/filings': { originId: 'x' },
};

/** A value for each path parameter that reaches the route's handler. */
function fillParams(route: string, version: string): string {
  const path = route.split(' ')[1]!;
  const code = path.startsWith('/v1/bundles') ? 'disability-services' : path.startsWith('/v1/data-sources') ? 'disability-assessment' : 'grain-purchase-filing';
  return path
    .replace(/:code/g, code)
    .replace(/:version/g, version)
    .replace(/:sha256/g, '0'.repeat(64))
    .replace(/:id/g, randomUUID())
    .replace(/:[A-Za-z]+/g, 'x')
    .replace(/\*$/, 'x');
}

function setAt(doc: unknown, path: JsonPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

const getAt = (doc: unknown, path: JsonPath): unknown => path.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], doc);

/** `{"a":{"a":…}}` nested `depth` times, as JSON text (JSON.stringify would recurse as deep). */
const deepJson = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** The probe's bodies for one route, each with a name for the tally: made from the route's seed (or `{}`). */
function hostileBodies(seed: unknown): Array<{ kind: string; text: string }> {
  const out: Array<{ kind: string; text: string }> = [];
  const big = (first: unknown) => JSON.stringify(Array.from({ length: BIG_ARRAY }, () => first ?? 'x'));
  const empties = JSON.stringify(Array.from({ length: EMPTY_OBJECTS }, () => ({})));
  out.push({ kind: 'bigArray', text: big('x') }, { kind: 'emptyObjects', text: empties }, { kind: 'deepNesting', text: deepJson(DEPTH) });
  out.push({ kind: 'deepArrays', text: `${'['.repeat(100_000)}` }, { kind: 'oversizedString', text: JSON.stringify({ x: 'x'.repeat(500_000) }) });
  const paths = jsonPaths(seed).filter((p) => p.length > 0);
  for (const path of paths) {
    const value = getAt(seed, path);
    const where = path.join('.');
    if (Array.isArray(value)) {
      out.push({ kind: 'bigArray', text: JSON.stringify(setAt(seed, path, Array.from({ length: BIG_ARRAY }, () => value[0] ?? 'x'))) });
      out.push({ kind: 'emptyObjects', text: JSON.stringify(setAt(seed, path, Array.from({ length: EMPTY_OBJECTS }, () => ({})))) });
    } else if (value !== null && typeof value === 'object') {
      // An object field: 42,000 keys, and the field nested deep.
      out.push({ kind: 'bigObject', text: JSON.stringify(setAt(seed, path, Object.fromEntries(Array.from({ length: BIG_ARRAY }, (_, i) => [`k${i}`, i])))) });
      const marker = '"__deep__"';
      out.push({ kind: 'deepNesting', text: JSON.stringify(setAt(seed, path, '__deep__')).replace(marker, deepJson(DEPTH)) });
    } else if (typeof value === 'string') {
      for (const [name, text] of Object.entries(HOSTILE_TEXT)) out.push({ kind: `text:${name}`, text: JSON.stringify(setAt(seed, path, `${value}${text}`)) });
      out.push({ kind: 'oversizedString', text: JSON.stringify(setAt(seed, path, 'x'.repeat(200_000))) });
      out.push({ kind: 'bigArray', text: JSON.stringify(setAt(seed, path, Array.from({ length: BIG_ARRAY }, () => value))) });
    }
    if (out.length > 400) throw new Error(`too many variants at ${where}`);
  }
  return out;
}

describe('every route under the probe’s hostile inputs (sqlite)', () => {
  let stack: Stack;
  let routes: string[];
  let version: string;
  const principals = new Map<string, string>();
  const gateOf = new Map<string, string | null>();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const tally = {
    sent: 0,
    retried: 0,
    byStatus: new Map<number, number>(),
    byKind: new Map<string, number>(),
    serverErrors: [] as string[],
    badShape: [] as string[],
    slow: [] as string[],
    acceptedBodies: [] as string[],
    slowestMs: 0,
    slowestWhat: '',
  };

  beforeAll(async () => {
    stack = await startStack({
      backend: 'sqlite',
      worker: false,
      httpSources: false,
      // Throttles answer 429 before validation: switched off so that every input meets the route's checks.
      env: { VERIFY_RATE_LIMIT: '0', PRECHECK_RATE_LIMIT: '0', MATERIAL_RATE_LIMIT: '0' },
    });
    routes = registeredRoutes(stack.app);
    version = stack.deps.catalog.get('grain-purchase-filing')!.version;
    principals.set('admin', await stack.token('grain-admin', 'admin', { dept: GRAIN_DEPT }));
    principals.set('applicant', await stack.token(HAPPY_USCC));
    principals.set('consumer', await stack.token('downstream-system', 'consumer', { scope: 'certificates:read webhooks:write collaboration:notify' }));
    principals.set('supervisor', await stack.token('supervision', 'supervisor', { dept: '11210100MB0E56787K' }));
    principals.set('ops', await stack.token('operator', 'ops'));
    lag.enable();
  }, 90_000);

  afterAll(async () => {
    lag.disable();
    const statuses = [...tally.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    const kinds = [...tally.byKind].sort().map(([k, n]) => `${k}×${n}`).join(' ');
    console.log(
      `FUZZ every-route: ${tally.sent} requests to ${routes?.length ?? 0} routes (${tally.retried} re-sent for lag), ` +
        `${tally.serverErrors.length} responses ≥ 500, ${tally.badShape.length} refusals without a registered code, ` +
        `${tally.slow.length} with event-loop lag ≥ ${LAG_LIMIT_MS} ms, ${tally.acceptedBodies.length} hostile bodies answered below 400 by routes that ignore a body; ` +
        `largest lag ${tally.slowestMs.toFixed(0)} ms (${tally.slowestWhat}); statuses ${statuses}; inputs ${kinds}`,
    );
    await stack?.close();
  });

  /** Sends one request; returns its status and the event-loop lag seen while it was served (lowest of the retries). */
  async function send(req: Req, kind: string): Promise<{ status: number; body: string }> {
    let best = Infinity;
    let res!: Awaited<ReturnType<Stack['app']['inject']>>;
    for (let attempt = 0; attempt <= LAG_RETRIES; attempt++) {
      if (attempt > 0) tally.retried++;
      lag.reset();
      res = await stack.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
      // The histogram records a blocked turn when its timer fires after the block: let one timer turn pass.
      await new Promise((r) => setTimeout(r, 1));
      best = Math.min(best, lag.max / 1e6);
      if (best < LAG_LIMIT_MS) break;
    }
    const what = `${req.method} ${req.url.slice(0, 80)} [${kind}]`;
    tally.sent++;
    tally.byStatus.set(res.statusCode, (tally.byStatus.get(res.statusCode) ?? 0) + 1);
    tally.byKind.set(kind, (tally.byKind.get(kind) ?? 0) + 1);
    if (best > tally.slowestMs) {
      tally.slowestMs = best;
      tally.slowestWhat = what;
    }
    if (best >= LAG_LIMIT_MS) tally.slow.push(`${what}: ${best.toFixed(0)} ms`);
    if (res.statusCode >= 500) tally.serverErrors.push(`${what}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    else if (res.statusCode >= 400 && !req.url.startsWith(BOARD_API) && (res.headers['content-type'] ?? '').toString().includes('json')) {
      const body = res.json<{ code?: unknown; requestId?: unknown }>();
      if (typeof body.code !== 'string' || !(body.code in ERRORS) || typeof body.requestId !== 'string') tally.badShape.push(`${what}: ${res.body.slice(0, 200)}`);
    }
    return { status: res.statusCode, body: res.body };
  }

  /** The token that gets past the route's gate with its ordinary request (null: none does, or none is needed). */
  async function gatePrincipal(route: string): Promise<string | null> {
    if (gateOf.has(route)) return gateOf.get(route)!;
    const [method] = route.split(' ');
    const seed = SEEDS[route];
    let chosen: string | null = null;
    for (const [, token] of principals) {
      const res = await stack.app.inject({
        method: method as 'GET',
        url: fillParams(route, version),
        headers: { authorization: `Bearer ${token}`, ...(seed !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(seed !== undefined ? { payload: JSON.stringify(seed) } : method !== 'GET' && method !== 'DELETE' ? { payload: '{}', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } } : {}),
      });
      if (res.statusCode !== 401 && res.statusCode !== 403) {
        chosen = token;
        break;
      }
    }
    gateOf.set(route, chosen);
    return chosen;
  }

  const auth = (token: string | null): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

  it('enumerates the app’s routes (the queue dashboard’s included)', () => {
    expect(routes.length).toBeGreaterThan(60);
    expect(routes).toContain('POST /v1/applications');
  });

  it('answers hostile bodies on every route that takes one with a 4xx, never blocking the loop', async () => {
    const refusedOnly: string[] = [];
    for (const route of routes) {
      const [method] = route.split(' ');
      if (method === 'GET') continue;
      const token = await gatePrincipal(route);
      for (const { kind, text } of hostileBodies(SEEDS[route] ?? {})) {
        const url = fillParams(route, version);
        const res = await send({ method: method!, url, headers: { ...auth(token), 'content-type': 'application/json' }, payload: text }, `body:${kind}`);
        if (res.status < 400) {
          tally.acceptedBodies.push(`${route} [${kind}]: ${res.status}`);
          // Routes that read a JSON body must refuse every one of these; the others (a logout, a dashboard
          // button) ignore the body, and only their status and lag are checked.
          if (SEEDS[route] !== undefined) refusedOnly.push(`${route} [${kind}]: ${res.status} ${res.body.slice(0, 120)}`);
        }
      }
    }
    expect({ serverErrors: tally.serverErrors, slow: tally.slow, badShape: tally.badShape, accepted: refusedOnly }).toEqual({ serverErrors: [], slow: [], badShape: [], accepted: [] });
  }, 600_000);

  it('answers hostile path parameters and query strings on every route below 500, never blocking the loop', async () => {
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      const token = await gatePrincipal(route);
      const seed = SEEDS[route];
      const body = seed !== undefined ? { payload: JSON.stringify(seed), headers: { ...auth(token), 'content-type': 'application/json' } } : { headers: auth(token) };
      const base = fillParams(route, version);
      for (const [name, raw] of Object.entries(HOSTILE_URL)) {
        // Each path parameter in turn, then the query string (a known name and an unknown one).
        const params = path.match(/:[A-Za-z]+|\*$/g) ?? [];
        for (const param of params) {
          const url = fillParams(route.replace(param, raw), version);
          await send({ method, url, ...body }, `param:${name}`);
        }
        for (const q of ['for', 'cursor', 'matter', 'q']) await send({ method, url: `${base}?${q}=${raw}`, ...body }, `query:${name}`);
      }
      // The same key repeated until the URL fills its budget (Fastify makes an array of it).
      const repeat = Math.floor((URL_BUDGET - base.length) / 'for=x&'.length);
      await send({ method, url: `${base}?${'for=x&'.repeat(repeat)}`, ...body }, 'query:repeatedKey');
    }
    expect({ serverErrors: tally.serverErrors, slow: tally.slow, badShape: tally.badShape }).toEqual({ serverErrors: [], slow: [], badShape: [] });
  }, 600_000);

  it('answers oversized and ill-formed tokens and headers on every route below 500, never blocking the loop', async () => {
    const key = new TextEncoder().encode(SECRET);
    const signed = (claims: Record<string, unknown>, sub: string) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(key);
    const tokens: Record<string, string> = {
      garbageLong: `Bearer ${'a'.repeat(URL_BUDGET)}`,
      manyDots: `Bearer ${'a.'.repeat(URL_BUDGET / 2)}`,
      signedHugeClaim: `Bearer ${await signed({ role: 'admin', dept: GRAIN_DEPT, pad: 'x'.repeat(8_000) }, 'grain-admin')}`,
      signedHostileSub: `Bearer ${await signed({ role: 'applicant' }, `${HAPPY_USCC}\ud800\u0000\u202e\u001b`)}`,
      signedHostileRole: `Bearer ${await signed({ role: '\u202eadmin', dept: `${GRAIN_DEPT}\u0000` }, 'grain-admin')}`,
      signedArrayScope: `Bearer ${await signed({ role: 'consumer', scope: Array.from({ length: 2_000 }, () => 'certificates:read') }, 'downstream-system')}`,
    };
    for (const route of routes) {
      const [method] = route.split(' ') as [string];
      const seed = SEEDS[route];
      const url = fillParams(route, version);
      const payload = seed !== undefined ? { payload: JSON.stringify(seed) } : {};
      const type: Record<string, string> = seed !== undefined ? { 'content-type': 'application/json' } : {};
      for (const [name, authorization] of Object.entries(tokens)) await send({ method, url, headers: { authorization, ...type }, ...payload }, `token:${name}`);
      const token = await gatePrincipal(route);
      await send({ method, url, headers: { ...auth(token), ...type, 'idempotency-key': 'k'.repeat(URL_BUDGET) }, ...payload }, 'header:longIdempotencyKey');
      await send({ method, url, headers: { ...auth(token), ...type, 'x-forwarded-for': Array.from({ length: 1_000 }, (_, i) => `10.0.${i % 256}.1`).join(', ') }, ...payload }, 'header:longForwardedFor');
      await send({ method, url, headers: { ...auth(token), 'content-type': `application/json; ${'charset=utf-8; '.repeat(600)}` }, ...payload }, 'header:longContentType');
    }
    expect({ serverErrors: tally.serverErrors, slow: tally.slow, badShape: tally.badShape }).toEqual({ serverErrors: [], slow: [], badShape: [] });
  }, 600_000);

  it('sent what it says it sent', () => {
    // The summary is a tally, not a claim: each input family above was actually sent.
    for (const kind of ['body:bigArray', 'body:emptyObjects', 'body:deepNesting', 'body:text:loneSurrogate', 'body:text:nul', 'body:text:rlo', 'body:text:esc', 'param:loneSurrogate', 'query:nul', 'token:signedHugeClaim']) {
      expect(tally.byKind.get(kind) ?? 0, kind).toBeGreaterThan(0);
    }
  });
});
