/**
 * Certificate verification under mutated PDFs (one real certificate issued by the pipeline, then bytes flipped,
 * inserted, deleted, duplicated, truncated, appended, and the signature dictionary's numbers and hex edited):
 * `verifyPdf` + the register never throw, answer an indication within 2 s, and never say TOTAL_PASSED for a
 * file that is not byte-for-byte the issued one. POST /v1/verify on the same inputs: never a 5xx, every 4xx has
 * a registered code.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustAnchors, type TrustAnchors } from '../../src/verification/verify-pdf.js';
import { ERRORS } from '../../src/errors.js';
import { httpDepsFrom } from '../../src/http/http-deps.js';
import { verifyWithRegister } from '../../src/http/routes/verify.js';
import type { HttpDeps } from '../../src/http/types.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../support/stack.js';
import { FUZZ_RUNS } from './mutations.js';

const INDICATIONS = new Set(['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE']);
const LIMIT_MS = 2_000;
/** The endpoint adds HTTP and the rate-limit plugin; a fifth of the runs go through it. */
const ENDPOINT_RUNS = Math.round(FUZZ_RUNS / 5);

describe('verification fuzzing (verifyPdf + register, POST /v1/verify)', () => {
  let stack: Stack;
  let http: HttpDeps;
  let anchors: { roots: TrustAnchors; tsaRoots: null };
  let original: Buffer;
  let form: Buffer;
  /** Offsets of the interesting parts: the signature dictionary's /ByteRange and /Contents. */
  let hotspots: number[];
  const tally = new Map<string, number>();
  let slowest = 0;
  /** Counted, not assumed: verifier calls that threw, and mutated files it called TOTAL_PASSED. */
  const seen = { throws: 0, falsePasses: 0 };

  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite', env: { VERIFY_RATE_LIMIT: '0' } });
    const token = await stack.token(HAPPY_USCC);
    const res = await submit(stack, token, grainFiling());
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    const view = await waitForDecision(stack, id, token, 30_000);
    expect(view.status).toBe('approved');
    original = Buffer.from((await stack.deps.store.certificates.getPdf(view.certificate!.id))!);
    form = Buffer.from((await stack.deps.store.documents.get(id, 'form'))!.bytes);
    await stack.stopWorker();
    http = httpDepsFrom(stack.deps);
    anchors = { roots: trustAnchors(http.rootsPem), tsaRoots: null };
    const text = original.toString('latin1');
    hotspots = ['/ByteRange', '/Contents', '/SubFilter', '/Type /Sig', '/Perms', '/CertificateId', 'startxref', '%%EOF'].flatMap((k) => {
      const out: number[] = [];
      for (let i = text.indexOf(k); i >= 0; i = text.indexOf(k, i + 1)) out.push(i);
      return out;
    });
    expect((await verifyWithRegister(http, anchors, original)).indication).toBe('TOTAL_PASSED');
  }, 60_000);

  afterAll(async () => {
    const counts = [...tally].map(([k, n]) => `${k}×${n}`).join(' ');
    console.log(`FUZZ verify: ${[...tally.values()].reduce((a, b) => a + b, 0)} mutated PDFs, ${seen.throws} throws, ${seen.falsePasses} false passes, slowest ${slowest} ms (${counts})`);
    await stack?.close();
    expect(seen).toEqual({ throws: 0, falsePasses: 0 });
  });

  /** A position: anywhere, or within 64 bytes of a hotspot (where a parser is most likely to trip). */
  const position = fc.oneof(
    fc.nat(),
    fc.tuple(fc.nat(), fc.integer({ min: -16, max: 64 })).map(([h, d]) => ({ hot: h, d })),
  );
  const at = (p: number | { hot: number; d: number }, len: number) => {
    const base = typeof p === 'number' ? p : hotspots[p.hot % hotspots.length]! + p.d;
    return Math.max(0, Math.min(len, base % (len + 1)));
  };
  const junk = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
    fc.constantFrom('0', '9', ' ', '\n', '<', '>', '[', ']', '/', '(', ')', 'R', '99999999999999999999', '-1', '1e9', '00', 'ff', '%%EOF', '\nstartxref\n0\n%%EOF\n').map((s) => Buffer.from(s, 'latin1')),
  );
  const mutation = fc.oneof(
    fc.tuple(position, fc.integer({ min: 1, max: 255 })).map(([p, x]) => (b: Buffer) => {
      const out = Buffer.from(b);
      const i = Math.min(at(p, b.length), b.length - 1);
      out[i] = out[i]! ^ x;
      return out;
    }),
    fc.tuple(position, junk).map(([p, j]) => (b: Buffer) => {
      const i = at(p, b.length);
      return Buffer.concat([b.subarray(0, i), j, b.subarray(i)]);
    }),
    fc.tuple(position, fc.integer({ min: 1, max: 512 })).map(([p, n]) => (b: Buffer) => {
      const i = at(p, b.length);
      return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + n))]);
    }),
    fc.tuple(position, position, fc.integer({ min: 1, max: 2048 })).map(([p, q, n]) => (b: Buffer) => {
      const i = at(p, b.length);
      const j = at(q, b.length);
      return Buffer.concat([b.subarray(0, i), b.subarray(j, Math.min(b.length, j + n)), b.subarray(i)]);
    }),
    position.map((p) => (b: Buffer) => b.subarray(0, Math.max(1, at(p, b.length)))),
    junk.map((j) => (b: Buffer) => Buffer.concat([b, j])),
    // An incremental update appended after the signed bytes (the classic shadow attack shape).
    fc.constant((b: Buffer) => Buffer.concat([b, Buffer.from('\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Root 1 0 R >>\nstartxref\n0\n%%EOF\n', 'latin1')])),
    // The form PDF (sealed by the enterprise, not a certificate) spliced in.
    fc.tuple(position, fc.integer({ min: 1, max: 4096 })).map(([p, n]) => (b: Buffer) => {
      const i = at(p, b.length);
      return Buffer.concat([b.subarray(0, i), form.subarray(0, n), b.subarray(i)]);
    }),
  );
  const mutated = fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce((b, m) => m(b), original));

  it('never throws, always answers within 2 s, and never passes a file that is not the issued one', async () => {
    await fc.assert(
      fc.asyncProperty(mutated, async (pdf) => {
        const started = Date.now();
        const report = await verifyWithRegister(http, anchors, new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength)).catch((err: unknown) => {
          seen.throws++;
          throw err;
        });
        const ms = Date.now() - started;
        slowest = Math.max(slowest, ms);
        expect(INDICATIONS.has(report.indication), report.indication).toBe(true);
        expect(ms).toBeLessThan(LIMIT_MS);
        if (!pdf.equals(original) && report.indication === 'TOTAL_PASSED') seen.falsePasses++;
        if (!pdf.equals(original)) expect(report.indication, `${report.subIndication} ${JSON.stringify(report.checks.filter((c) => c.result !== 'PASSED'))}`).not.toBe('TOTAL_PASSED');
        const key = `${report.indication}${report.subIndication ? `/${report.subIndication}` : ''}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }),
      { numRuns: FUZZ_RUNS },
    );
  }, 300_000);

  it('answers POST /v1/verify with 200 or a 4xx with a registered code, never a 5xx', async () => {
    const body = fc.oneof(
      { weight: 4, arbitrary: mutated },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(b)])) },
    );
    const type = fc.constantFrom('application/pdf', 'application/octet-stream', 'application/json', 'text/plain', 'multipart/form-data; boundary=x');
    await fc.assert(
      fc.asyncProperty(body, type, async (pdf, contentType) => {
        const res = await stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': contentType }, payload: pdf });
        expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
        if (res.statusCode === 200) {
          const r = res.json<{ indication: string }>();
          expect(INDICATIONS.has(r.indication)).toBe(true);
          if (!pdf.equals(original)) expect(r.indication).not.toBe('TOTAL_PASSED');
        } else {
          const code = res.json<{ code: string }>().code;
          expect(code in ERRORS, res.body.slice(0, 300)).toBe(true);
        }
      }),
      { numRuns: ENDPOINT_RUNS },
    );
  }, 300_000);
});
