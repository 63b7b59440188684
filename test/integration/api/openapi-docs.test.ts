/**
 * The published OpenAPI document (issue 18): no response is left as "Default Response", the main operations carry
 * examples and named schemas, each matter's form schema is linked from `form` and served, and the error-code table
 * lists every code of src/errors.ts in Chinese and English.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../../src/errors.js';
import { splitMessage } from '../../../src/http/openapi.js';
import { startStack, type Stack } from '../../support/stack.js';

type Json = Record<string, any>;

let stack: Stack;
let doc: Json;

beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite', worker: false, httpSources: false });
  const res = await stack.app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  doc = res.json<Json>();
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const operations = () =>
  Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]) => ({ path, method, op: op as Json })),
  );

describe('the OpenAPI document at /docs/json', () => {
  it('describes every response of every route: none is "Default Response" or empty', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(50);
    const bad: string[] = [];
    let responses = 0;
    for (const { path, method, op } of ops) {
      for (const [status, r] of Object.entries(op.responses as Record<string, Json>)) {
        responses++;
        if (!r.description || r.description === 'Default Response') bad.push(`${method.toUpperCase()} ${path} ${status}`);
      }
    }
    expect(bad).toEqual([]);
    expect(responses).toBeGreaterThan(ops.length);
    expect(JSON.stringify(doc)).not.toContain('Default Response');
  });

  it('names the main schemas in components and gives the main operations examples', () => {
    const schemas = doc.components.schemas as Record<string, Json>;
    for (const name of ['Error', 'Filing', 'Accepted', 'Application', 'Certificate', 'VerificationReport']) expect(Object.keys(schemas)).toContain(name);
    const json = (op: Json, status: string) => op.responses[status].content['application/json'];
    const post = doc.paths['/v1/applications'].post;
    expect(json(post, '202').schema).toEqual({ $ref: '#/components/schemas/Accepted' });
    expect(json(post, '202').example).toMatchObject({ status: 'queued' });
    expect(post.requestBody.content['application/json'].example).toMatchObject({ matter: 'grain-purchase-filing' });
    expect(json(doc.paths['/v1/applications/{id}'].get, '200').example).toMatchObject({ number: '沈2026120400017', status: 'approved' });
    expect(json(doc.paths['/v1/certificates/{id}'].get, '200').example).toMatchObject({ number: '沈粮收备〔2026〕000001号' });
    expect(json(doc.paths['/v1/verify'].post, '200').example).toMatchObject({ indication: 'TOTAL_PASSED' });
    expect(json(post, '400').schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('links each matter’s form schema from `form`, and serves it', async () => {
    const filing = doc.components.schemas.Filing as Json;
    expect(filing.properties.form.description).toContain('/v1/matters/{code}/schema');
    expect(doc.paths['/v1/matters/{code}/schema'].get.responses['200'].description).toBeTruthy();
    for (const code of stack.deps.catalog.matters.keys()) expect(doc.info.description).toContain(`/v1/matters/${code}/schema`);
    const res = await stack.app.inject({ method: 'GET', url: '/v1/matters/grain-purchase-filing/schema' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/schema+json');
    expect(res.json<Json>()).toEqual(stack.deps.catalog.get('grain-purchase-filing')!.def.form);
    expect((await stack.app.inject({ method: 'GET', url: '/v1/matters/no-such-matter/schema' })).json<Json>().code).toBe('MATTER_NOT_FOUND');
  });

  it('carries an error-code table in Chinese and English listing every code of the registry', () => {
    const description = String(doc.info.description);
    const rows = description.split('\n').filter((l) => l.startsWith('| `'));
    const listed = rows.map((l) => /^\| `([A-Z0-9_]+)`/.exec(l)![1]);
    expect(listed.sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, d] of Object.entries(ERRORS)) {
      const row = rows.find((l) => l.startsWith(`| \`${code}\` |`))!;
      const { zh, en } = splitMessage(d.message);
      expect(zh, code).toMatch(/[\u4e00-\u9fff]/);
      expect(en, code).toMatch(/^[A-Z]/);
      expect(row).toContain(` ${d.status} `);
    }
  });
});
