/**
 * 粮食收购企业备案 end to end on the real stack (DESIGN.md §5): every rule has a filing that passes it and one
 * that fails it, with every DATASOURCE_*_URL pointed at a real HTTP server; sources that fail give
 * manual_review, never rejected; the certificate and the sealed form pass validators we did not write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdfText, pdfToPng, tempDir, verifyCertificate, writeTemp, zbarDecode } from '../support/pdf-tools.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../support/stack.js';

type Filing = ReturnType<typeof grainFiling>;
interface Case {
  name: string;
  sub: string;
  filing: Filing;
  outcome: 'APPROVE' | 'REJECT' | 'MANUAL';
  /** Rules that must be among the reasons (FAIL or UNKNOWN). */
  failing?: string[];
}

const person = (name: string, idNumber: string) => ({ responsiblePerson: { name, idNumber } });
const owned = (realEstateCertNo: string, capacityTonnes = 3000) => ({
  address: '沈阳市某区粮库', capacityTonnes, ownership: '自有', realEstateCertNo,
});
const leased = (leaseEndsOn: string, capacityTonnes = 2000) => ({ address: '沈阳市某区租赁仓库', capacityTonnes, ownership: '租赁', leaseEndsOn });
const FENGHE_CERT = '辽(2024)沈阳市不动产权第0012345号';

// Each approving case uses its own purchase region: one active filing per enterprise and region.
const independent: Case[] = [
  { name: 'an active enterprise with owned storage is approved', sub: HAPPY_USCC, filing: grainFiling(), outcome: 'APPROVE' },
  {
    name: 'an enterprise whose name is outside GB2312 is approved',
    sub: '91210102123456788E',
    filing: grainFiling({ form: { ...person('王芳', '21011219850615002X'), purchaseRegionCode: '210103', storageFacilities: [owned('辽(2023)沈阳市不动产权第0100001号')] } }),
    outcome: 'APPROVE',
  },
  {
    name: 'leased storage whose lease has not ended is approved',
    sub: HAPPY_USCC,
    filing: grainFiling({ answers: { storageSource: '租赁' }, form: { purchaseRegionCode: '210104', storageFacilities: [leased('2030-12-31')] } }),
    outcome: 'APPROVE',
  },
  {
    name: 'a USCC not in the market-entity register is rejected',
    sub: '91210112MA0N8T9U3L',
    filing: grainFiling({ form: { storageFacilities: [leased('2030-12-31')] }, answers: { storageSource: '租赁' } }),
    outcome: 'REJECT',
    failing: ['entity-registered'],
  },
  {
    name: 'an individual business (个体工商户) is told it need not file',
    sub: '92210106L0A9B8C750',
    filing: grainFiling({ answers: { storageSource: '租赁' }, form: { ...person('刘洋', '210106199912315675'), storageFacilities: [leased('2030-12-31')] } }),
    outcome: 'REJECT',
    failing: ['entity-is-enterprise'],
  },
  {
    name: 'a farmers’ cooperative is told it need not file',
    sub: '93210124MA10K2X388',
    filing: grainFiling({ answers: { storageSource: '租赁' }, form: { ...person('赵敏', '210103200002290049'), storageFacilities: [leased('2030-12-31')] } }),
    outcome: 'REJECT',
    failing: ['entity-is-enterprise'],
  },
  {
    name: 'a revoked (吊销) enterprise is rejected',
    sub: '91210104MA0R3C4D20',
    filing: grainFiling({ answers: { storageSource: '租赁' }, form: { ...person('陈刚', '210104197805120010'), storageFacilities: [leased('2030-12-31')] } }),
    outcome: 'REJECT',
    failing: ['entity-active'],
  },
  {
    name: 'a responsible person whose name does not match the ID is rejected',
    sub: HAPPY_USCC,
    filing: grainFiling({ form: { ...person('张三', '210102199001011237'), purchaseRegionCode: '210105' } }),
    outcome: 'REJECT',
    failing: ['responsible-person-verified'],
  },
  {
    name: 'a deceased responsible person is rejected',
    sub: HAPPY_USCC,
    filing: grainFiling({ form: { ...person('李强', '21011519700303331X'), purchaseRegionCode: '210105' } }),
    outcome: 'REJECT',
    failing: ['responsible-person-verified'],
  },
  {
    name: 'a purchase region outside Shenyang is rejected',
    sub: HAPPY_USCC,
    filing: grainFiling({ form: { purchaseRegionCode: '210202' } }),
    outcome: 'REJECT',
    failing: ['purchase-region-shenyang'],
  },
  {
    name: 'a facility with zero capacity is rejected',
    sub: HAPPY_USCC,
    filing: grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities: [owned(FENGHE_CERT, 0)] } }),
    outcome: 'REJECT',
    failing: ['storage-capacity'],
  },
  {
    name: 'a filing without any storage facility is rejected',
    sub: HAPPY_USCC,
    filing: grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities: [] } }),
    outcome: 'REJECT',
    failing: ['storage-capacity'],
  },
  {
    name: 'owned storage registered to someone else is rejected',
    sub: HAPPY_USCC,
    filing: grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities: [owned('辽(2021)沈阳市不动产权第0033333号')] } }),
    outcome: 'REJECT',
    failing: ['owned-storage-title'],
  },
  {
    name: 'owned storage with an unregistered certificate number is rejected',
    sub: HAPPY_USCC,
    filing: grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities: [owned('辽(2020)沈阳市不动产权第9999999号')] } }),
    outcome: 'REJECT',
    failing: ['owned-storage-title'],
  },
  {
    name: 'leased storage whose lease has ended is rejected',
    sub: HAPPY_USCC,
    filing: grainFiling({ answers: { storageSource: '租赁' }, form: { purchaseRegionCode: '210106', storageFacilities: [leased('2020-01-01')] } }),
    outcome: 'REJECT',
    failing: ['leased-storage-current'],
  },
  {
    name: 'a seriously dishonest enterprise goes to manual review',
    sub: '91210106MA0U7G8H65',
    filing: grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities: [owned('辽(2022)沈阳市不动产权第0054321号')] } }),
    outcome: 'MANUAL',
    failing: ['credit-not-seriously-dishonest'],
  },
  {
    name: 'a registered enterprise whose USCC fails its checksum goes to manual review',
    sub: '91210102MA0L6Q7R5A',
    filing: grainFiling({ answers: { storageSource: '租赁' }, form: { purchaseRegionCode: '210106', storageFacilities: [leased('2030-12-31')] } }),
    outcome: 'MANUAL',
    failing: ['applicant-code-checksum'],
  },
  {
    name: 'a change filing without an existing filing is rejected',
    sub: HAPPY_USCC,
    filing: grainFiling({ answers: { filingType: '变更' }, form: { purchaseRegionCode: '210111' } }),
    outcome: 'REJECT',
    failing: ['change-has-filing'],
  },
];

// Run after the independent cases: they depend on the approved filing for (HAPPY_USCC, 210102).
const dependent: Case[] = [
  { name: 'a second first-time filing for the same region is rejected (suggests 变更)', sub: HAPPY_USCC, filing: grainFiling(), outcome: 'REJECT', failing: ['no-active-filing'] },
  { name: 'a change filing with an existing filing is approved', sub: HAPPY_USCC, filing: grainFiling({ answers: { filingType: '变更' } }), outcome: 'APPROVE' },
];

describe.each(['sqlite', 'postgres'] as const)('grain filing end to end on %s', (backend) => {
  let stack: Stack;
  const decided = new Map<string, { id: string; status: string; decision: { outcome: string; reasons: Array<{ rule: string; result: string }> } | null; certificate?: { id: string; number: string } }>();

  async function fileAndWait(c: Case) {
    const token = await stack.token(c.sub);
    const res = await submit(stack, token, c.filing);
    expect(res.statusCode, `${c.name}: ${res.body}`).toBe(202);
    const { id } = res.json<{ id: string }>();
    const body = await waitForDecision(stack, id, token);
    decided.set(c.name, { id, ...body });
  }

  beforeAll(async () => {
    stack = await startStack({ backend });
    await Promise.all(independent.map(fileAndWait));
    for (const c of dependent) await fileAndWait(c);
  }, 120_000);
  afterAll(async () => stack?.close());

  it.each([...independent, ...dependent].map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const d = decided.get(c.name)!;
    expect(d.decision?.outcome, JSON.stringify(d.decision?.reasons)).toBe(c.outcome);
    const status = { APPROVE: 'approved', REJECT: 'rejected', MANUAL: 'manual_review' }[c.outcome];
    expect(d.status).toBe(status);
    const rules = d.decision!.reasons.map((r) => r.rule);
    for (const rule of c.failing ?? []) expect(rules).toContain(rule);
    if (c.outcome === 'APPROVE') {
      expect(rules).toEqual([]);
      expect(d.certificate?.number).toMatch(/^沈粮收备〔\d{4}〕\d{6}号$/);
    } else {
      expect(d.certificate).toBeUndefined();
    }
  });

  it('supersedes the first certificate when the change filing is approved: one valid filing per enterprise and region', async () => {
    const first = await stack.deps.store.certificates.get(decided.get(independent[0]!.name)!.certificate!.id);
    const change = await stack.deps.store.certificates.get(decided.get(dependent[1]!.name)!.certificate!.id);
    expect(first!.status).toBe('superseded');
    expect(change!.status).toBe('valid');
    expect((await stack.deps.store.certificates.findValid('grain-purchase-filing', `${HAPPY_USCC}|210102`))!.id).toBe(change!.id);
  });

  it('reads every data source over HTTP, with its key URL-encoded', () => {
    const seen = new Set(stack.sources!.requests.map((r) => r.source));
    expect([...seen].sort()).toEqual(['credit', 'market-entity', 'population', 'real-estate']);
    expect(stack.sources!.requests.some((r) => r.key === FENGHE_CERT)).toBe(true);
  });

  it('records every read in the data-access log with the filing and its purpose', async () => {
    const d = decided.get(independent[0]!.name)!;
    const log = await stack.deps.store.dataAccess.forApplication(d.id);
    expect(log.map((e) => e.source).sort()).toEqual(['credit', 'market-entity', 'population', 'real-estate']);
    for (const e of log) {
      expect(e.purpose).toBe('粮食收购企业备案审核');
      expect(e.requester).toBe(HAPPY_USCC);
      expect(e.responseHash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('keeps a decision receipt that names the rule-set version, sources with response hashes and every rule result', async () => {
    const d = decided.get(independent[0]!.name)!;
    const row = await stack.deps.store.applications.get(d.id);
    const receipt = row!.receipt!;
    expect(receipt.rulesetVersion).toBe(stack.deps.catalog.get('grain-purchase-filing')!.version);
    expect(receipt.situation).toBe('S1');
    expect(receipt.sources.every((s) => s.status === 'found' && /^[0-9a-f]{64}$/.test(s.responseHash))).toBe(true);
    expect(receipt.rules.length).toBeGreaterThanOrEqual(10);
    expect(receipt.rules.every((r) => r.result === 'PASS')).toBe(true);
  });

  it('issues a certificate that verify-certificate.sh accepts, renders Chinese text and carries a decodable QR', async () => {
    const d = decided.get(independent[0]!.name)!;
    const token = await stack.token(HAPPY_USCC);
    const pdf = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${d.certificate!.id}/pdf`, headers: { authorization: `Bearer ${token}` } });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    const roots = await stack.app.inject({ method: 'GET', url: '/v1/trust' });
    const tmp = tempDir('e2e-');
    try {
      const file = writeTemp(tmp.dir, 'cert.pdf', pdf.rawPayload);
      const rootsFile = writeTemp(tmp.dir, 'roots.pem', roots.body);
      const v = await verifyCertificate(file, rootsFile, ['沈阳丰禾粮食购销有限公司', '粮食收购企业备案回执', d.certificate!.number]);
      expect(v.stdout).toContain('ALL PASS');
      expect(v.code).toBe(0);
      const { pngs, stderr } = await pdfToPng(file, 150);
      expect(stderr).toBe('');
      const meta = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${d.certificate!.id}`, headers: { authorization: `Bearer ${token}` } });
      const cert = await stack.deps.store.certificates.get(d.certificate!.id);
      expect(meta.json<{ sha256: string }>().sha256).toBe(cert!.sha256);
      const qr = await zbarDecode(pngs[0]!);
      expect(qr).toEqual([`http://localhost:3000/verify/${cert!.id}/${cert!.verifyCode}`]);
      const page = await stack.app.inject({ method: 'GET', url: new URL(qr[0]!).pathname });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('沈阳丰禾粮食购销有限公司');
      const wrong = await stack.app.inject({ method: 'GET', url: `/verify/${cert!.id}/not-the-code` });
      expect(wrong.statusCode).toBe(404);
      expect(wrong.body).not.toContain('沈阳丰禾粮食购销有限公司');
    } finally {
      tmp.cleanup();
    }
  });

  it('renders a holder name outside GB2312 (䶮) in the certificate text layer', async () => {
    const d = decided.get(independent[1]!.name)!;
    const token = await stack.token('91210102123456788E');
    const pdf = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${d.certificate!.id}/pdf`, headers: { authorization: `Bearer ${token}` } });
    const tmp = tempDir('e2e-');
    try {
      const file = writeTemp(tmp.dir, 'cert.pdf', pdf.rawPayload);
      expect(await pdfText(file)).toContain('沈阳䶮盛粮贸有限公司');
    } finally {
      tmp.cleanup();
    }
  });

  it('keeps the sealed e-form for approved and rejected filings alike, and it passes the same validator', async () => {
    const roots = await stack.app.inject({ method: 'GET', url: '/v1/trust' });
    const tmp = tempDir('e2e-');
    try {
      const rootsFile = writeTemp(tmp.dir, 'roots.pem', roots.body);
      for (const [caseName, sub, name] of [
        [independent[0]!.name, HAPPY_USCC, '沈阳丰禾粮食购销有限公司'],
        ['a revoked (吊销) enterprise is rejected', '91210104MA0R3C4D20', '沈阳金谷粮油贸易有限公司'],
      ] as const) {
        const d = decided.get(caseName)!;
        const res = await stack.app.inject({ method: 'GET', url: `/v1/applications/${d.id}/form`, headers: { authorization: `Bearer ${await stack.token(sub)}` } });
        expect(res.statusCode).toBe(200);
        const file = writeTemp(tmp.dir, `form-${sub}.pdf`, res.rawPayload);
        const v = await verifyCertificate(file, rootsFile, [name, '粮食收购企业备案表', '免填']);
        expect(v.stdout).toContain('ALL PASS');
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('hides another holder’s certificate (404) and serves it to a consumer with certificates:read', async () => {
    const d = decided.get(independent[0]!.name)!;
    const other = await stack.token('91210102123456788E');
    const res = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${d.certificate!.id}`, headers: { authorization: `Bearer ${other}` } });
    expect(res.statusCode).toBe(404);
    expect(res.json<{ code: string }>().code).toBe('CERTIFICATE_NOT_FOUND');
    const noScope = await stack.token('downstream-system-1', 'consumer');
    expect((await stack.app.inject({ method: 'GET', url: `/v1/certificates/${d.certificate!.id}/pdf`, headers: { authorization: `Bearer ${noScope}` } })).statusCode).toBe(404);
    const consumer = await stack.token('downstream-system-1', 'consumer', { scope: 'certificates:read' });
    const ok = await stack.app.inject({ method: 'GET', url: `/v1/certificates/${d.certificate!.id}/pdf`, headers: { authorization: `Bearer ${consumer}` } });
    expect(ok.statusCode).toBe(200);
  });

  describe('when a data source fails', () => {
    for (const mode of ['503', 'hang'] as const) {
      it(`a market-entity answering ${mode} gives manual_review, never rejected`, async () => {
        stack.sources!.setMode('market-entity', mode);
        try {
          const token = await stack.token(HAPPY_USCC);
          const res = await submit(stack, token, grainFiling({ form: { purchaseRegionCode: mode === '503' ? '210112' : '210113' } }));
          const d = await waitForDecision(stack, res.json<{ id: string }>().id, token);
          expect(d.status).toBe('manual_review');
          expect(d.decision!.reasons.some((r) => r.result === 'UNKNOWN')).toBe(true);
        } finally {
          stack.sources!.setMode('market-entity', 'ok');
        }
      });
    }

    it('a population source answering 503 gives manual_review even when another rule fails', async () => {
      stack.sources!.setMode('population', '503');
      try {
        const token = await stack.token(HAPPY_USCC);
        const res = await submit(stack, token, grainFiling({ form: { purchaseRegionCode: '210114', storageFacilities: [owned(FENGHE_CERT, 0)] } }));
        const d = await waitForDecision(stack, res.json<{ id: string }>().id, token);
        expect(d.status).toBe('manual_review');
        const unknown = d.decision!.reasons.filter((r) => r.result === 'UNKNOWN').map((r) => r.rule);
        expect(unknown).toEqual(['responsible-person-verified']);
      } finally {
        stack.sources!.setMode('population', 'ok');
      }
    });
  });
});
