/**
 * Revocation of the signing certificate (issue 17): once a department's seal certificate is revoked, POST /v1/verify
 * fails every certificate signed with it — TOTAL_FAILED / REVOKED with a check naming the certificate, when and
 * why — although signature, chain and register still hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite' });
}, 120_000);
afterAll(async () => stack?.close());

async function verify(pdf: Buffer) {
  const res = await stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/pdf' }, payload: pdf });
  expect(res.statusCode).toBe(200);
  return res.json<{ indication: string; subIndication?: string; signature: { signer: { certificateSha256: string; subject: string } }; checks: Array<{ id: string; result: string; detail: string }> }>();
}

describe('verification and the signing certificate’s revocation', () => {
  it('fails a document whose department signing certificate is revoked, saying so', async () => {
    const applicant = await stack.token(HAPPY_USCC);
    const filed = await submit(stack, applicant, grainFiling({ form: { purchaseRegionCode: '210104' } }));
    const decided = await waitForDecision(stack, filed.json().id, applicant);
    expect(decided.status).toBe('approved');
    const pdf = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${decided.certificate!.id}/pdf`, headers: { authorization: `Bearer ${applicant}` } });
    expect(pdf.statusCode).toBe(200);
    const before = await verify(pdf.rawPayload);
    expect(before.indication).toBe('TOTAL_PASSED');
    expect(before.checks.map((c) => c.id)).not.toContain('signing-certificate-revocation');

    const signer = before.signature.signer;
    expect(await stack.deps.store.signingRevocations.revoke({ certificateSha256: signer.certificateSha256, subject: signer.subject, reason: '印章私钥泄露', revokedBy: 'PKI-OPS', revokedAt: '2026-12-01T00:00:00.000Z' })).toBe(true);
    expect(await stack.deps.store.signingRevocations.revoke({ certificateSha256: signer.certificateSha256, subject: signer.subject, reason: 'again', revokedBy: 'PKI-OPS', revokedAt: '2026-12-02T00:00:00.000Z' })).toBe(false);

    const after = await verify(pdf.rawPayload);
    expect(after.indication).toBe('TOTAL_FAILED');
    expect(after.subIndication).toBe('REVOKED');
    const check = after.checks.find((c) => c.id === 'signing-certificate-revocation')!;
    expect(check.result).toBe('FAILED');
    expect(check.detail).toContain('签章证书已吊销');
    expect(check.detail).toContain('2026-12-01T00:00:00.000Z');
    expect(check.detail).toContain('印章私钥泄露');
    // Everything else still holds: only the revocation fails it.
    expect(after.checks.filter((c) => c.result === 'FAILED').map((c) => c.id)).toEqual(['signing-certificate-revocation']);
  }, 60_000);
});
