/**
 * 证明在线开具 (issue 16, DESIGN.md §13) on the real stack, SQLite and PostgreSQL, data sources over HTTP: the
 * reference proof 企业信用信息证明 is decided from 市场主体 + 信用 data as soon as it is filed, printed with its purpose and
 * validity, and verifies like any certificate; a person's 社会保险参保缴费证明 likewise. 授权查验: a consumer with scope
 * proofs:read sees a proof only while its holder's consent for that consumer stands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatChineseDate } from '../../../src/documents/layout.js';
import { tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const BANK = 'BANK-SHENGJING';
const TENDER = 'TENDER-OFFICE';

const proofFiling = (purpose: string) => ({ matter: 'enterprise-credit-proof', answers: {}, form: { purpose }, consent: { dataSharing: true, sealAuthorization: false } });

describe.each(['sqlite', 'postgres'] as const)('证明在线开具 (%s)', (backend) => {
  let stack: Stack;
  let holder: string;
  const tmp = tempDir('proofs-');

  beforeAll(async () => {
    stack = await startStack({ backend });
    holder = await stack.token(HAPPY_USCC);
  });
  afterAll(async () => {
    await stack?.close();
    tmp.cleanup();
  });

  async function call(method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: unknown) {
    const res = await stack.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: String(res.headers['content-type'] ?? '').startsWith('application/json') ? res.json<any>() : null, raw: res.rawPayload };
  }

  async function issueProof(purpose: string) {
    const started = Date.now();
    const res = await submit(stack, holder, proofFiling(purpose));
    expect(res.statusCode, res.body).toBe(202);
    const decided = await waitForDecision(stack, res.json().id, holder);
    return { id: res.json().id as string, decided, ms: Date.now() - started };
  }

  it('issues 企业信用信息证明 from data at once: kind 证明, purpose and a 30-day validity printed, verifiable like any certificate', async () => {
    const { decided, ms } = await issueProof('银行贷款审批');
    expect(decided.status).toBe('approved');
    expect(decided.decision!.outcome).toBe('APPROVE');
    expect(decided.certificate!.number).toMatch(/^沈信证〔\d{4}〕\d{6}号$/);
    const warm = await issueProof('招标投标资格审查');
    expect(warm.decided.status).toBe('approved');
    console.log(`PROOF 企业信用信息证明 (${backend}): filed → approved with certificate in ${ms} ms cold (first filing of the process), ${warm.ms} ms warm (in-process stack, status polled every 50 ms)`);

    const meta = await call('GET', `/v1/certificates/${decided.certificate!.id}`, holder);
    expect(meta.body).toMatchObject({ kind: '证明', matter: 'enterprise-credit-proof', holder: { code: HAPPY_USCC, name: '沈阳丰禾粮食购销有限公司' }, issuer: { name: '沈阳市发展和改革委员会' } });
    const days = (Date.parse(`${meta.body.validUntil}T00:00:00Z`) - Date.parse(`${meta.body.issuedAt.slice(0, 10)}T00:00:00Z`)) / 86_400_000;
    // Issued on the China calendar day; the UTC day of issuedAt may be the one before.
    expect([30, 31]).toContain(days);

    const pdf = await call('GET', `/v1/certificates/${decided.certificate!.id}/pdf`, holder);
    expect(pdf.status).toBe(200);
    const file = writeTemp(tmp.dir, `proof-${backend}.pdf`, pdf.raw);
    const roots = writeTemp(tmp.dir, 'roots.pem', stack.deps.trustAnchorsPem);
    const r = await verifyCertificate(file, roots, ['企业信用信息证明', '沈阳丰禾粮食购销有限公司', '银行贷款审批', `有效期至：${formatChineseDate(meta.body.validUntil)}`, '未被列入严重失信主体名单']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const verified = await stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/pdf' }, payload: pdf.raw });
    expect(verified.json()).toMatchObject({ indication: 'TOTAL_PASSED', register: { id: decided.certificate!.id, status: 'valid' } });
  });

  it.each([
    ['严重失信主体', '91210106MA0U7G8H65', ['not-seriously-dishonest']],
    ['吊销且列入经营异常名录', '91210104MA0R3C4D20', ['entity-active', 'not-abnormal-operation']],
    ['未登记', '91210112MA0N8T9U3L', ['entity-registered', 'entity-active']],
  ])('rejects a proof for an enterprise that is %s, with the reason', async (_what, uscc, rules) => {
    const token = await stack.token(uscc);
    const res = await submit(stack, token, proofFiling('招标投标'));
    expect(res.statusCode).toBe(202);
    const decided = await waitForDecision(stack, res.json().id, token);
    expect(decided.status).toBe('rejected');
    expect(decided.decision!.reasons.map((r) => r.rule).sort()).toEqual([...rules].sort());
    expect(decided.certificate).toBeUndefined();
  });

  it('refuses a proof filing with anything but the purpose in its form', async () => {
    const extra = await submit(stack, holder, { ...proofFiling('x'), form: { purpose: '银行贷款', amount: 5 } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().errors.map((e: any) => e.path)).toEqual(['/form/amount']);
    const none = await submit(stack, holder, { ...proofFiling('x'), form: {} });
    expect(none.statusCode).toBe(400);
    expect(none.json().errors.map((e: any) => e.path)).toEqual(['/form/purpose']);
  });

  it('授权查验: a consumer sees the proof only while the holder’s consent for it stands', async () => {
    const { decided } = await issueProof('授权查验测试');
    const id = decided.certificate!.id;
    const bank = await stack.token(BANK, 'consumer', { scope: 'proofs:read certificates:read' });
    const tender = await stack.token(TENDER, 'consumer', { scope: 'proofs:read' });
    const bankNoScope = await stack.token(BANK, 'consumer', { scope: 'certificates:read' });

    // Before consent: nothing, whichever way it asks (certificates:read alone does not open proofs).
    for (const url of [`/v1/proofs/${id}`, `/v1/proofs/${id}/pdf`, `/v1/certificates/${id}`, `/v1/certificates/${id}/pdf`]) {
      expect((await call('GET', url, bank)).status, url).toBe(404);
    }
    const listed = await call('GET', '/v1/certificates?limit=200', bank);
    expect(listed.body.items.map((c: any) => c.id)).not.toContain(id);

    const granted = await call('POST', '/v1/me/proof-consents', holder, { certificateId: id, consumer: BANK, purpose: '流动资金贷款审批', validDays: 7 });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ certificateId: id, consumer: BANK, status: 'active' });
    const proof = await call('GET', `/v1/proofs/${id}`, bank);
    expect(proof.status).toBe(200);
    expect(proof.body).toMatchObject({ id, kind: '证明', holder: { code: HAPPY_USCC }, consent: { id: granted.body.id, purpose: '流动资金贷款审批' } });
    const bankPdf = await call('GET', `/v1/proofs/${id}/pdf`, bank);
    const holderPdf = await call('GET', `/v1/certificates/${id}/pdf`, holder);
    expect(Buffer.from(bankPdf.raw).equals(Buffer.from(holderPdf.raw))).toBe(true);
    expect((await call('GET', `/v1/certificates/${id}`, bank)).status).toBe(200);
    // Only that consumer, and only with the scope.
    expect((await call('GET', `/v1/proofs/${id}`, tender)).status).toBe(404);
    expect((await call('GET', `/v1/proofs/${id}`, bankNoScope)).status).toBe(404);
    expect((await call('GET', `/v1/certificates/${id}/pdf`, bankNoScope)).status).toBe(404);

    // Another applicant can neither share it nor revoke the holder's consent.
    const other = await stack.token('91210102123456788E');
    expect((await call('POST', '/v1/me/proof-consents', other, { certificateId: id, consumer: TENDER, purpose: '冒用' })).status).toBe(404);
    expect((await call('DELETE', `/v1/me/proof-consents/${granted.body.id}`, other)).status).toBe(404);

    const revoked = await call('DELETE', `/v1/me/proof-consents/${granted.body.id}`, holder);
    expect(revoked.body).toMatchObject({ id: granted.body.id, status: 'revoked' });
    for (const url of [`/v1/proofs/${id}`, `/v1/proofs/${id}/pdf`, `/v1/certificates/${id}`]) {
      const res = await call('GET', url, bank);
      expect(res.status, url).toBe(404);
    }
    const mine = await call('GET', '/v1/me/proof-consents', holder);
    expect(mine.body.consents.find((c: any) => c.id === granted.body.id)).toMatchObject({ status: 'revoked' });
  });

  it('refuses to share a certificate that is not a proof', async () => {
    const res = await submit(stack, holder, grainFiling({ form: { purchaseRegionCode: '210111' } }));
    const decided = await waitForDecision(stack, res.json().id, holder);
    expect(decided.status).toBe('approved');
    const shared = await call('POST', '/v1/me/proof-consents', holder, { certificateId: decided.certificate!.id, consumer: BANK, purpose: '贷款' });
    expect(shared.status).toBe(422);
    expect(shared.body.code).toBe('PROOF_CONSENT_NOT_A_PROOF');
  });

  it('issues a person’s 社会保险参保缴费证明 with the employer and months paid printed', async () => {
    const person = '210105197807220038';
    const token = await stack.token(person);
    const res = await submit(stack, token, { matter: 'social-insurance-proof', answers: {}, form: { purpose: '购房资格审核' }, consent: { dataSharing: true, sealAuthorization: false } });
    expect(res.statusCode, res.body).toBe(202);
    const decided = await waitForDecision(stack, res.json().id, token);
    expect(decided.status).toBe('approved');
    const pdf = await call('GET', `/v1/certificates/${decided.certificate!.id}/pdf`, token);
    const file = writeTemp(tmp.dir, `si-${backend}.pdf`, pdf.raw);
    const r = await verifyCertificate(file, writeTemp(tmp.dir, 'roots.pem', stack.deps.trustAnchorsPem), ['社会保险参保缴费证明', '王建军', '沈阳丰禾粮食购销有限公司', '120', '购房资格审核']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it.each([
    ['a flat', '210105197807220038', '名下登记不动产 1 处'],
    ['nothing (无房证明)', '210102199001011237', '未查到名下不动产登记信息'],
  ])('issues a person’s 不动产登记信息查询证明 that prints what the registry holds: %s', async (_what, person, printed) => {
    const token = await stack.token(person);
    const res = await submit(stack, token, { matter: 'real-estate-record-proof', answers: {}, form: { purpose: '子女入学' }, consent: { dataSharing: true, sealAuthorization: false } });
    expect(res.statusCode, res.body).toBe(202);
    const decided = await waitForDecision(stack, res.json().id, token);
    expect(decided.status).toBe('approved');
    const pdf = await call('GET', `/v1/certificates/${decided.certificate!.id}/pdf`, token);
    const file = writeTemp(tmp.dir, `re-${person}-${backend}.pdf`, pdf.raw);
    const r = await verifyCertificate(file, writeTemp(tmp.dir, 'roots.pem', stack.deps.trustAnchorsPem), ['不动产登记信息查询证明', printed, '子女入学']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
