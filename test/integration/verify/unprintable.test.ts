/**
 * A holder name with a character no embedded font has is refused at issuing time — the job fails at once
 * (PermanentFailure, no retries) with code CERTIFICATE_UNPRINTABLE_TEXT — and nothing is numbered, signed or
 * registered; the character is never printed as a blank or a box.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from '../../../src/data-sources/types.js';
import { issueCertificate } from '../../../src/pipeline/issue-certificate.js';
import type { ApplicationRow, Store } from '../../../src/store/types.js';
import { startWorkerRuntime, type WorkerRuntime } from '../../../src/worker-runtime.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const NO_GLYPH = '\u{13000}'; // EGYPTIAN HIEROGLYPH A001: no font we embed has it

describe('a character no font has', () => {
  let stack: Stack;
  let worker: WorkerRuntime | null = null;

  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite', worker: false, httpSources: false });
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await stack?.close();
  });

  it('fails the filing at once with CERTIFICATE_UNPRINTABLE_TEXT and issues nothing', async () => {
    // The market-entity register answers with a name carrying the character.
    const sources = new Map(stack.deps.sources);
    const market = sources.get('market-entity')!;
    const odd: DataSource = {
      id: market.id,
      backend: market.backend,
      async read(key, ctx) {
        const r = await market.read(key, ctx);
        return r.record ? { ...r, record: { ...r.record, name: `沈阳${NO_GLYPH}粮贸有限公司` } } : r;
      },
    };
    sources.set('market-entity', odd);
    worker = startWorkerRuntime({ ...stack.deps, sources }, { concurrency: 1, relay: { relayIntervalMs: 50, reconcileIntervalMs: 500, staleAfterMs: 5_000 } });

    const token = await stack.token(HAPPY_USCC);
    const res = await submit(stack, token, grainFiling());
    expect(res.statusCode).toBe(202);
    const id = res.json<{ id: string }>().id;
    const d = await waitForDecision(stack, id, token);
    expect(d.status).toBe('failed');
    expect(d.certificate).toBeUndefined();
    const row = await stack.deps.store.applications.get(id);
    expect(row!.attempts).toBe(1); // permanent: not retried
    expect(row!.lastError).toMatch(/^CERTIFICATE_UNPRINTABLE_TEXT: /);
    expect(row!.lastError).toContain('U+13000');
    expect(await stack.deps.store.certificates.byApplication(id)).toBeNull();
  });

  it('is checked by issueCertificate before a serial number is taken', async () => {
    let serials = 0;
    const store = {
      certificates: {
        byApplication: () => Promise.resolve(null),
        nextSerial: () => Promise.resolve(++serials),
        claimSerial: () => Promise.resolve(++serials),
        insert: () => Promise.reject(new Error('must not insert')),
      },
    } as unknown as Pick<Store, 'certificates'>;
    const matter = stack.deps.catalog.get('grain-purchase-filing')!;
    const base = { applicant: { code: HAPPY_USCC, kind: 'organisation' }, answers: {}, form: {} };
    const err = await issueCertificate(
      { store, departmentSigner: () => { throw new Error('must not sign'); }, publicUrl: 'http://localhost', newId: () => 'c-1' },
      matter,
      { id: 'app-1' } as ApplicationRow,
      { name: `沈阳${NO_GLYPH}粮贸有限公司`, code: HAPPY_USCC },
      'k',
      base,
      [],
      new Date(),
    ).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('CERTIFICATE_UNPRINTABLE_TEXT');
    expect(serials).toBe(0);
  });
});
