import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision, DecisionReceipt } from '../../../src/domain/types.js';
import type { NewApplication, NewCertificate, Store } from '../../../src/store/types.js';
import { testBackends } from '../../support/databases.js';

const run = promisify(execFile);
const backends = testBackends();

afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

let counter = 0;
function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

function newApplication(overrides: Partial<NewApplication> = {}): NewApplication {
  return {
    id: uid('app'),
    matter: 'grain-purchase-filing',
    matterVersion: 'sha256:abc',
    applicant: '91110000MA01234567',
    answers: { 经营范围: '粮食收购', nested: { list: [1, 2.5, null, true, '😀'], empty: {} }, zero: 0 },
    form: { 企业名称: '北京市某某粮油有限公司', 仓储面积: 1200.75, 'key with "quotes"': 'line\nbreak\u0000nul' },
    consent: { dataSharing: true, sealAuthorization: false },
    bodyHash: 'b'.repeat(64),
    idempotencyKey: null,
    createdAt: '2025-01-02T03:04:05.006Z',
    ...overrides,
  };
}

const decision: Decision = {
  outcome: 'REJECT',
  reasons: [{ rule: 'storage-area', message: '仓储面积不足', basis: '《粮食流通管理条例》第九条', result: 'FAIL' }],
};

const receipt: DecisionReceipt = {
  matter: 'grain-purchase-filing',
  rulesetVersion: 'sha256:def',
  situation: 'enterprise',
  evaluatedAt: '2025-01-02T03:05:00.000Z',
  facts: { area: 10, 名称: '某某' },
  sources: [{ source: 'market-registry', key: '91110000MA01234567', status: 'found', responseHash: 'c'.repeat(64), fetchedAt: '2025-01-02T03:04:59.000Z' }],
  rules: [{ id: 'storage-area', result: 'FAIL', message: '仓储面积不足', basis: '第九条', onFail: 'REJECT' }],
  decision,
};

function newCertificate(applicationId: string, overrides: Partial<NewCertificate> = {}): NewCertificate {
  const n = uid('n');
  return {
    id: uid('cert'),
    applicationId,
    matter: 'grain-purchase-filing',
    number: `京粮备-${n}`,
    licenseId: `LID-${n}`,
    holderCode: '91110000MA01234567',
    holderName: '北京市某某粮油有限公司',
    issuerCode: '11110000000000000X',
    issuerName: '北京市粮食和物资储备局',
    subjectKey: '91110000MA01234567|110000',
    issuedAt: '2025-01-02T03:06:00.000Z',
    validUntil: null,
    verifyCode: 'VERIFY123',
    sha256: 'd'.repeat(64),
    pdf: new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x80]),
    ...overrides,
  };
}

/** Files an application (the certificate and document tables reference it). */
async function filed(store: Store, overrides: Partial<NewApplication> = {}): Promise<string> {
  const result = await store.applications.create(newApplication(overrides));
  return result.applicationId;
}

describe.each(backends)('store on $name', (backend) => {
  it('reports which database it runs on and answers ping', async () => {
    const store = await backend.open();
    try {
      expect(store.dialect).toBe(backend.name);
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  describe('applications', () => {
    it('returns a created application exactly as given, JSON and unicode included, queued with no decision', async () => {
      const store = await backend.open();
      try {
        const app = newApplication();
        // 2025-01-02T03:04:05Z is 2025年1月2日 in Beijing: the first filing of that day.
        await expect(store.applications.create(app)).resolves.toEqual({ created: true, applicationId: app.id, number: '沈2025010200001' });
        const row = await store.applications.get(app.id);
        expect(row).toEqual({
          id: app.id,
          matter: app.matter,
          matterVersion: app.matterVersion,
          applicant: app.applicant,
          status: 'queued',
          answers: app.answers,
          form: app.form,
          consent: app.consent,
          bodyHash: app.bodyHash,
          decision: null,
          receipt: null,
          attempts: 0,
          lastError: null,
          createdAt: app.createdAt,
          updatedAt: app.createdAt,
          decidedAt: null,
          number: '沈2025010200001',
        });
        // Key order survives too (no jsonb normalisation).
        expect(Object.keys(row?.form ?? {})).toEqual(Object.keys(app.form));
        expect(await store.applications.get('missing')).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('writes nothing for a second create with the same Idempotency-Key and returns the first id and body hash', async () => {
      const store = await backend.open();
      try {
        const first = newApplication({ idempotencyKey: 'key-1', bodyHash: '1'.repeat(64) });
        const second = newApplication({ idempotencyKey: 'key-1', bodyHash: '2'.repeat(64) });
        await store.applications.create(first);
        await expect(store.applications.create(second)).resolves.toEqual({
          created: false,
          applicationId: first.id,
          bodyHash: first.bodyHash,
          // The answer is stored by the API once it has sent it (issue 17); the store alone has none yet.
          response: null,
        });
        expect(await store.applications.get(second.id)).toBeNull();
        expect(await store.outbox.pending(100)).toEqual([expect.objectContaining({ applicationId: first.id })]);
      } finally {
        await store.close();
      }
    });

    it('scopes Idempotency-Keys to the applicant', async () => {
      const store = await backend.open();
      try {
        const a = await store.applications.create(newApplication({ idempotencyKey: 'k', applicant: 'A' }));
        const b = await store.applications.create(newApplication({ idempotencyKey: 'k', applicant: 'B' }));
        expect(a.created).toBe(true);
        expect(b.created).toBe(true);
      } finally {
        await store.close();
      }
    });

    it('creates exactly one application and one outbox row when five creates race with one key', async () => {
      const store = await backend.open();
      try {
        const attempts = Array.from({ length: 5 }, (_, i) => newApplication({ idempotencyKey: 'race', bodyHash: `${i}`.repeat(64) }));
        const results = await Promise.all(attempts.map((a) => store.applications.create(a)));
        const winners = results.filter((r) => r.created);
        expect(winners).toHaveLength(1);
        const winnerId = winners[0]?.applicationId;
        const winner = attempts.find((a) => a.id === winnerId);
        for (const r of results.filter((x) => !x.created)) {
          expect(r).toEqual({ created: false, applicationId: winnerId, bodyHash: winner?.bodyHash, response: null });
        }
        const rows = await Promise.all(attempts.map((a) => store.applications.get(a.id)));
        expect(rows.filter((r) => r !== null)).toHaveLength(1);
        expect(await store.outbox.pending(100)).toEqual([{ id: expect.any(Number), applicationId: winnerId, status: 'queued' }]);
      } finally {
        await store.close();
      }
    });

    it('moves queued and processing rows to processing with one more attempt, and leaves terminal rows alone', async () => {
      const store = await backend.open();
      try {
        const id = await filed(store);
        const first = await store.applications.startProcessing(id, '2025-01-02T03:04:10.000Z');
        expect(first).toMatchObject({ status: 'processing', attempts: 1, updatedAt: '2025-01-02T03:04:10.000Z' });
        const again = await store.applications.startProcessing(id, '2025-01-02T03:04:20.000Z');
        expect(again).toMatchObject({ status: 'processing', attempts: 2 });

        await expect(
          store.applications.complete(id, { status: 'rejected', decision, receipt, at: '2025-01-02T03:05:00.000Z' }),
        ).resolves.toBe(true);
        const done = await store.applications.get(id);
        expect(done).toMatchObject({ status: 'rejected', decision, receipt, decidedAt: '2025-01-02T03:05:00.000Z', attempts: 2 });

        expect(await store.applications.startProcessing(id, '2025-01-02T03:06:00.000Z')).toBeNull();
        expect(await store.applications.startProcessing('missing', '2025-01-02T03:06:00.000Z')).toBeNull();
        expect(await store.applications.get(id)).toEqual(done);
      } finally {
        await store.close();
      }
    });

    it('completes a row only once: the second complete returns false and changes nothing', async () => {
      const store = await backend.open();
      try {
        const id = await filed(store);
        await store.applications.startProcessing(id, '2025-01-02T03:04:10.000Z');
        expect(await store.applications.complete(id, { status: 'approved', decision: { outcome: 'APPROVE', reasons: [] }, receipt, at: '2025-01-02T03:05:00.000Z' })).toBe(true);
        const before = await store.applications.get(id);
        expect(await store.applications.complete(id, { status: 'manual_review', decision, receipt, at: '2025-01-02T03:09:00.000Z' })).toBe(false);
        expect(await store.applications.get(id)).toEqual(before);
        expect(await store.applications.complete('missing', { status: 'approved', decision, receipt, at: '2025-01-02T03:09:00.000Z' })).toBe(false);
      } finally {
        await store.close();
      }
    });

    it('refuses to complete with a non-terminal status', async () => {
      const store = await backend.open();
      try {
        const id = await filed(store);
        await expect(store.applications.complete(id, { status: 'processing', decision, receipt, at: '2025-01-02T03:05:00.000Z' })).rejects.toThrow(/terminal/);
      } finally {
        await store.close();
      }
    });

    it('records the last error, moves to failed when terminal, and never touches a finished row', async () => {
      const store = await backend.open();
      try {
        const id = await filed(store);
        await store.applications.recordError(id, 'source timeout', '2025-01-02T03:04:30.000Z', false);
        expect(await store.applications.get(id)).toMatchObject({ status: 'queued', lastError: 'source timeout', updatedAt: '2025-01-02T03:04:30.000Z' });
        await store.applications.recordError(id, 'gave up', '2025-01-02T03:04:40.000Z', true);
        const failed = await store.applications.get(id);
        expect(failed).toMatchObject({ status: 'failed', lastError: 'gave up' });
        await store.applications.recordError(id, 'late retry', '2025-01-02T03:05:00.000Z', false);
        expect(await store.applications.get(id)).toEqual(failed);
        expect(await store.applications.complete(id, { status: 'approved', decision, receipt, at: '2025-01-02T03:06:00.000Z' })).toBe(false);
      } finally {
        await store.close();
      }
    });

    it('lists unfinished applications last updated before a time, oldest first, up to the limit', async () => {
      const store = await backend.open();
      try {
        const old1 = await filed(store, { createdAt: '2025-01-01T00:00:01.000Z' });
        const old2 = await filed(store, { createdAt: '2025-01-01T00:00:02.000Z' });
        const old3 = await filed(store, { createdAt: '2025-01-01T00:00:03.000Z' });
        await store.applications.startProcessing(old2, '2025-01-01T00:00:04.000Z');
        const finished = await filed(store, { createdAt: '2025-01-01T00:00:00.000Z' });
        await store.applications.complete(finished, { status: 'approved', decision, receipt, at: '2025-01-01T00:00:00.500Z' });
        await filed(store, { createdAt: '2025-01-01T01:00:00.000Z' });

        expect(await store.applications.listUnfinished('2025-01-01T00:30:00.000Z', 10)).toEqual([old1, old3, old2]);
        expect(await store.applications.listUnfinished('2025-01-01T00:30:00.000Z', 2)).toEqual([old1, old3]);
      } finally {
        await store.close();
      }
    });
  });

  describe('outbox', () => {
    it('lists rows not yet enqueued oldest first and forgets them once marked enqueued', async () => {
      const store = await backend.open();
      try {
        const ids = [await filed(store), await filed(store), await filed(store)];
        const pending = await store.outbox.pending(10);
        expect(pending.map((p) => p.applicationId)).toEqual(ids);
        expect(await store.outbox.pending(2)).toEqual(pending.slice(0, 2));

        await store.outbox.markEnqueued([pending[0]!.id, pending[2]!.id], '2025-01-02T03:04:06.000Z');
        expect(await store.outbox.pending(10)).toEqual([pending[1]]);
        await store.outbox.markEnqueued([], '2025-01-02T03:04:07.000Z');
        await store.outbox.markEnqueued([pending[1]!.id], '2025-01-02T03:04:07.000Z');
        expect(await store.outbox.pending(10)).toEqual([]);
      } finally {
        await store.close();
      }
    });
  });

  describe('documents', () => {
    it('keeps the first document when the same application and kind is put twice', async () => {
      const store = await backend.open();
      try {
        const id = await filed(store);
        const first = { applicationId: id, kind: 'form' as const, sha256: 'e'.repeat(64), bytes: new Uint8Array([1, 2, 0, 255]), createdAt: '2025-01-02T03:04:06.000Z' };
        await store.documents.put(first);
        await store.documents.put({ ...first, sha256: 'f'.repeat(64), bytes: new Uint8Array([9]), createdAt: '2025-01-02T03:04:07.000Z' });
        const got = await store.documents.get(id, 'form');
        expect(got).toEqual(first);
        expect(got?.bytes).toBeInstanceOf(Uint8Array);
        expect(await store.documents.get('missing', 'form')).toBeNull();
      } finally {
        await store.close();
      }
    });
  });

  describe('certificates', () => {
    it('stores one certificate per application: a second insert returns the first unchanged', async () => {
      const store = await backend.open();
      try {
        const appId = await filed(store);
        const first = newCertificate(appId);
        const stored = await store.certificates.insert(first);
        const { pdf, ...meta } = first;
        expect(stored).toEqual({ ...meta, status: 'valid' });

        const retry = newCertificate(appId);
        await expect(store.certificates.insert(retry)).resolves.toEqual(stored);
        expect(await store.certificates.get(retry.id)).toBeNull();
        expect(await store.certificates.get(first.id)).toEqual(stored);
        expect(await store.certificates.byApplication(appId)).toEqual(stored);
        expect(await store.certificates.getPdf(first.id)).toEqual(pdf);
        expect(await store.certificates.getPdf('missing')).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('stores one certificate when two inserts for one application race', async () => {
      const store = await backend.open();
      try {
        const appId = await filed(store);
        const [a, b] = await Promise.all([store.certificates.insert(newCertificate(appId)), store.certificates.insert(newCertificate(appId))]);
        expect(a).toEqual(b);
      } finally {
        await store.close();
      }
    });

    it('rejects a second certificate with an already used number', async () => {
      const store = await backend.open();
      try {
        const first = newCertificate(await filed(store));
        await store.certificates.insert(first);
        const clash = newCertificate(await filed(store), { number: first.number });
        await expect(store.certificates.insert(clash)).rejects.toThrow();
        expect(await store.certificates.byApplication(clash.applicationId)).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('finds the valid certificate for a matter and subject, and nothing for another subject', async () => {
      const store = await backend.open();
      try {
        const cert = newCertificate(await filed(store));
        await store.certificates.insert(cert);
        expect(await store.certificates.findValid(cert.matter, cert.subjectKey)).toMatchObject({ id: cert.id, status: 'valid' });
        expect(await store.certificates.findValid(cert.matter, 'other|110000')).toBeNull();
        expect(await store.certificates.findValid('other-matter', cert.subjectKey)).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('hands out 1..20 exactly once when 20 serials are drawn in parallel, per counter name', async () => {
      const store = await backend.open();
      try {
        const values = await Promise.all(Array.from({ length: 20 }, () => store.certificates.nextSerial('grain')));
        expect([...values].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(await store.certificates.nextSerial('other')).toBe(1);
        expect(await store.certificates.nextSerial('grain')).toBe(21);
      } finally {
        await store.close();
      }
    });
  });

  describe('data access log', () => {
    it('returns the recorded reads of an application in order', async () => {
      const store = await backend.open();
      try {
        const entries = [
          { requester: 'worker', applicationId: 'app-x', source: 'market-registry', key: '91110000MA01234567', purpose: '粮食收购企业备案', status: 'found' as const, responseHash: 'a'.repeat(64), at: '2025-01-02T03:04:06.000Z' },
          { requester: 'worker', applicationId: 'app-x', source: 'credit', key: '91110000MA01234567', purpose: '粮食收购企业备案', status: 'unknown' as const, responseHash: '', at: '2025-01-02T03:04:07.000Z' },
          { requester: 'precheck', applicationId: null, source: 'credit', key: 'k', purpose: 'p', status: 'not_found' as const, responseHash: '', at: '2025-01-02T03:04:08.000Z' },
        ];
        await store.dataAccess.record(entries);
        await store.dataAccess.record([]);
        expect(await store.dataAccess.forApplication('app-x')).toEqual(entries.slice(0, 2));
        expect(await store.dataAccess.forApplication('app-y')).toEqual([]);
      } finally {
        await store.close();
      }
    });
  });

  describe('migrations', () => {
    it('re-opens an existing database without error and keeps its data', async () => {
      const db = backend.database();
      try {
        const first = await db.open();
        const id = await filed(first);
        await first.close();
        const second = await db.open();
        expect(await second.applications.get(id)).toMatchObject({ id, status: 'queued' });
      } finally {
        await db.drop();
      }
    });

    it('survives several stores migrating the same empty database at once', async () => {
      const db = backend.database();
      try {
        // SQLite stores in one process would block each other's event loop (see sqlite.ts); start them in turn.
        const stores = backend.name === 'postgres' ? await Promise.all([db.open(), db.open(), db.open()]) : [await db.open(), await db.open()];
        for (const s of stores) await s.ping();
        expect((await stores[0]!.applications.create(newApplication())).created).toBe(true);
      } finally {
        await db.drop();
      }
    });
  });
});

describe('store on sqlite shared by several processes', () => {
  const sqlite = backends.find((b) => b.name === 'sqlite')!;

  it('lets two Store instances on one file (API and worker) see and change each other\'s rows', async () => {
    const db = sqlite.database();
    try {
      const api = await db.open();
      const worker = await db.open();
      const app = newApplication({ idempotencyKey: 'k' });
      await api.applications.create(app);
      const [entry] = await worker.outbox.pending(10);
      expect(entry?.applicationId).toBe(app.id);
      await worker.outbox.markEnqueued([entry!.id], '2025-01-02T03:04:06.000Z');
      await worker.applications.startProcessing(app.id, '2025-01-02T03:04:07.000Z');
      expect(await worker.applications.complete(app.id, { status: 'approved', decision: { outcome: 'APPROVE', reasons: [] }, receipt, at: '2025-01-02T03:04:08.000Z' })).toBe(true);
      expect(await api.applications.get(app.id)).toMatchObject({ status: 'approved' });
      expect(await api.outbox.pending(10)).toEqual([]);
      expect(await api.applications.create(newApplication({ idempotencyKey: 'k' }))).toMatchObject({ created: false, applicationId: app.id });
      expect(await api.certificates.nextSerial('s')).toBe(1);
      expect(await worker.certificates.nextSerial('s')).toBe(2);
    } finally {
      await db.drop();
    }
  });

  it('migrates once and hands out distinct serials when three processes start on a fresh file at the same time', async () => {
    const db = sqlite.database();
    try {
      const script = new URL('./fixtures/store-process.ts', import.meta.url).pathname;
      const tsx = new URL('../../../node_modules/.bin/tsx', import.meta.url).pathname;
      // Children load tsx at different speeds; a shared start time makes their migrations overlap.
      const startAt = String(Date.now() + 3000);
      const outputs = await Promise.all(
        ['a', 'b', 'c'].map((tag) => run(tsx, [script, db.options.sqlitePath, '40', tag, startAt], { timeout: 30_000 })),
      );
      const results = outputs.map((o) => JSON.parse(o.stdout.trim()) as { serials: number[]; created: boolean });
      const serials = results.flatMap((r) => r.serials).sort((x, y) => x - y);
      expect(serials).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(results.filter((r) => r.created)).toHaveLength(1);

      const store = await db.open();
      expect(await store.outbox.pending(10)).toHaveLength(1);
    } finally {
      await db.drop();
    }
  });
});
