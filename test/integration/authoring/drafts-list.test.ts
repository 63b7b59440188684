/**
 * The drafts list and field order on publish (issue 18), on SQLite and PostgreSQL: GET /v1/admin/drafts shows an
 * admin the drafts they wrote (for=mine) and the ones another admin of the department wrote and nobody approved yet
 * (for=awaiting) — never another department's; once published, the public form keeps the author's field order
 * (it used to come back alphabetical from the canonical JSON), in this process and in another that loads it from
 * the database.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMatterChecker, openVersionedCatalog } from '../../../src/catalog/versioned-catalog.js';
import { loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { RULES_DIR } from '../../support/datasource-server.js';
import { startStack, type Stack } from '../../support/stack.js';

const GRAIN = 'grain-purchase-filing';
const GRAIN_DEPT = '11210100MB0E12346R';
const PARKING_DEPT = '11210100MB0E23459Q';
const grainYaml = readFileSync(path.join(RULES_DIR, 'matters', `${GRAIN}.yaml`), 'utf8');
const narrowedYaml = grainYaml.replace("operator: regionWithin, value: '2101' }", "operator: regionWithin, value: '210102' }");
/** The form's fields as written in the YAML (not alphabetical). */
const TOP_ORDER = ['responsiblePerson', 'contactPhone', 'purchaseRegionCode', 'grainTypes', 'storageFacilities'];
const FACILITY_ORDER = ['address', 'capacityTonnes', 'ownership', 'realEstateCertNo', 'leaseEndsOn'];

describe.each(['sqlite', 'postgres'] as const)('drafts list and field order (%s)', (backend) => {
  let stack: Stack;
  let authorA: string;
  let approverB: string;
  let otherDept: string;

  beforeAll(async () => {
    stack = await startStack({ backend });
    authorA = await stack.token('ADMIN-A', 'admin', { dept: GRAIN_DEPT });
    approverB = await stack.token('ADMIN-B', 'admin', { dept: GRAIN_DEPT });
    otherDept = await stack.token('ADMIN-P', 'admin', { dept: PARKING_DEPT });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const call = async (token: string, method: 'GET' | 'POST', url: string, payload?: string, contentType = 'application/json') => {
    const res = await stack.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': contentType }) },
      ...(payload === undefined ? {} : { payload }),
    });
    return { status: res.statusCode, body: res.json<any>() };
  };
  const ids = async (token: string, which: string) => (await call(token, 'GET', `/v1/admin/drafts?for=${which}`)).body.items.map((d: { id: string }) => d.id);

  it('lists my drafts and those awaiting my approval, and publishing keeps the form’s field order', async () => {
    // The seeded form already in the YAML's order.
    expect(Object.keys(stack.deps.catalog.get(GRAIN)!.def.form.properties as object)).toEqual(TOP_ORDER);

    const draft = await call(authorA, 'POST', `/v1/admin/matters/${GRAIN}/drafts`, narrowedYaml, 'application/yaml');
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    const id = draft.body.id as string;

    expect(await ids(authorA, 'mine')).toEqual([id]);
    expect(await ids(authorA, 'awaiting')).toEqual([]);
    expect(await ids(approverB, 'mine')).toEqual([]);
    expect(await ids(approverB, 'awaiting')).toEqual([id]);
    expect(await ids(otherDept, 'open')).toEqual([]);
    const row = (await call(approverB, 'GET', '/v1/admin/drafts?for=awaiting')).body.items[0];
    expect(row).toMatchObject({ id, matter: GRAIN, matterName: '粮食收购企业备案', author: 'ADMIN-A', approvedBy: null, status: 'open', stale: false });
    expect((await call(approverB, 'GET', '/v1/admin/drafts?for=everything')).status).toBe(400);

    expect((await call(authorA, 'POST', `/v1/admin/drafts/${id}/test`)).body.passed).toBe(true);
    expect((await call(approverB, 'POST', `/v1/admin/drafts/${id}/approve`)).status).toBe(200);
    expect(await ids(approverB, 'awaiting')).toEqual([]);
    expect(await ids(authorA, 'mine')).toEqual([id]);
    const pub = await call(authorA, 'POST', `/v1/admin/drafts/${id}/publish`);
    expect(pub.status, JSON.stringify(pub.body)).toBe(200);
    expect(await ids(authorA, 'open')).toEqual([]);

    // The public definition after publication: the author's order, at the top and inside the array items.
    const pub2 = (await stack.app.inject({ method: 'GET', url: `/v1/matters/${GRAIN}` })).json<any>();
    expect(pub2.version).toBe(pub.body.version);
    expect(Object.keys(pub2.formSchema.properties)).toEqual(TOP_ORDER);
    expect(Object.keys(pub2.formSchema.properties.storageFacilities.items.properties)).toEqual(FACILITY_ORDER);

    // Another process loading the current version from the database sees the same order.
    const otherStore = await stack.db.open();
    const other = await openVersionedCatalog({
      files: { matters: new Map(), get: () => undefined },
      store: otherStore.authoring,
      check: createMatterChecker(RULES_DIR, new Set(loadSourceRegistry(RULES_DIR).map((s) => s.id))),
      pollMs: 0,
    });
    try {
      expect(other.get(GRAIN)!.version).toBe(pub.body.version);
      expect(Object.keys(other.get(GRAIN)!.def.form.properties as object)).toEqual(TOP_ORDER);
    } finally {
      other.close();
      await otherStore.close();
    }
  }, 60_000);
});
