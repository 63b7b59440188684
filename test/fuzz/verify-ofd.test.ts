/**
 * OFD verification under mutation (issue 15): one OFD issued by a `gm` department, then its ZIP bytes flipped,
 * inserted, deleted, truncated, and — so the mutations reach past the ZIP layer — files inside it changed and the
 * package repacked. `verifyOfd` + the register never throw, answer within 2 s, and never say TOTAL_PASSED for a file
 * that is not byte-for-byte the issued one; POST /v1/verify (application/ofd) never answers 5xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packOfd } from '../../src/documents/ofd/certificate-ofd.js';
import { ERRORS } from '../../src/errors.js';
import { httpDepsFrom } from '../../src/http/http-deps.js';
import { verifyOfdWithRegister } from '../../src/http/routes/verify.js';
import type { HttpDeps } from '../../src/http/types.js';
import { readZip } from '../../src/verification/ofd/zip-reader.js';
import { trustAnchors, type TrustAnchors } from '../../src/verification/verify-pdf.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../support/stack.js';
import { FUZZ_RUNS } from './mutations.js';

const INDICATIONS = new Set(['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE']);
const LIMIT_MS = 2_000;
const RUNS = Math.max(200, Math.round(FUZZ_RUNS / 5));

describe('OFD verification fuzzing (verifyOfd + register, POST /v1/verify)', () => {
  let stack: Stack;
  let http: HttpDeps;
  let roots: TrustAnchors;
  let original: Buffer;
  let files: Array<[string, Buffer]>;
  const tally = new Map<string, number>();
  let slowest = 0;
  /** Counted, not assumed: verifier calls that threw, and mutated files it called TOTAL_PASSED. */
  const seen = { throws: 0, falsePasses: 0 };

  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite', env: { VERIFY_RATE_LIMIT: '0', SIGNATURE_SUITE: 'gm' } });
    const token = await stack.token(HAPPY_USCC);
    const res = await submit(stack, token, grainFiling());
    const view = await waitForDecision(stack, res.json<{ id: string }>().id, token, 30_000);
    expect(view.status).toBe('approved');
    original = Buffer.from((await stack.deps.store.ofd.get(view.certificate!.id))!.bytes);
    await stack.stopWorker();
    http = httpDepsFrom(stack.deps);
    roots = trustAnchors(http.gmRootsPem!);
    const z = readZip(original);
    files = z.names.map((n) => [n, z.read(n)!]);
    expect((await verifyOfdWithRegister(http, roots, original)).indication).toBe('TOTAL_PASSED');
  }, 60_000);

  afterAll(async () => {
    const counts = [...tally].map(([k, n]) => `${k}×${n}`).join(' ');
    console.log(`FUZZ verify-ofd: ${[...tally.values()].reduce((a, b) => a + b, 0)} mutated OFDs, ${seen.throws} throws, ${seen.falsePasses} false passes, slowest ${slowest} ms (${counts})`);
    await stack?.close();
    expect(seen).toEqual({ throws: 0, falsePasses: 0 });
  });

  const bytes = fc.oneof(
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([p, x]) => (b: Buffer) => {
      const out = Buffer.from(b);
      const i = p % b.length;
      out[i] = out[i]! ^ x;
      return out;
    }),
    fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([p, j]) => (b: Buffer) => {
      const i = p % (b.length + 1);
      return Buffer.concat([b.subarray(0, i), Buffer.from(j), b.subarray(i)]);
    }),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 256 })).map(([p, n]) => (b: Buffer) => {
      const i = p % (b.length + 1);
      return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + n))]);
    }),
    fc.nat().map((p) => (b: Buffer) => b.subarray(0, Math.max(1, p % b.length))),
  );
  // Changes inside one file of the package, then a clean repack: the ZIP is valid, the signature must catch it.
  const inside = fc.tuple(fc.nat(), bytes).map(([k, m]) => () => {
    const target = k % files.length;
    return packOfd(new Map(files.map(([n, d], i) => [n, i === target ? m(d) : d])), new Date());
  });
  const mutated = fc.oneof(
    fc.array(bytes, { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce((b, m) => m(b), original)),
    inside.map((make) => make()),
  );

  it('never throws, always answers within 2 s, and never passes a file that is not the issued one', async () => {
    await fc.assert(
      fc.asyncProperty(mutated, async (ofd) => {
        const started = Date.now();
        const report = await verifyOfdWithRegister(http, roots, new Uint8Array(ofd.buffer, ofd.byteOffset, ofd.byteLength)).catch((err: unknown) => {
          seen.throws++;
          throw err;
        });
        const ms = Date.now() - started;
        slowest = Math.max(slowest, ms);
        expect(INDICATIONS.has(report.indication)).toBe(true);
        expect(ms).toBeLessThan(LIMIT_MS);
        if (!ofd.equals(original) && report.indication === 'TOTAL_PASSED') seen.falsePasses++;
        if (!ofd.equals(original)) expect(report.indication, JSON.stringify(report.checks.filter((c) => c.result !== 'PASSED'))).not.toBe('TOTAL_PASSED');
        const key = `${report.indication}${report.subIndication ? `/${report.subIndication}` : ''}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }),
      { numRuns: RUNS },
    );
  }, 300_000);

  it('answers POST /v1/verify (application/ofd) with 200 or a registered 4xx, never a 5xx', async () => {
    const body = fc.oneof({ weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.from(b)])) });
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('application/ofd', 'application/octet-stream'), async (ofd, contentType) => {
        const res = await stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': contentType }, payload: ofd });
        expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
        if (res.statusCode === 200) {
          if (!ofd.equals(original)) expect(res.json<{ indication: string }>().indication).not.toBe('TOTAL_PASSED');
        } else {
          expect(res.json<{ code: string }>().code in ERRORS).toBe(true);
        }
      }),
      { numRuns: Math.round(RUNS / 4) },
    );
  }, 300_000);
});
