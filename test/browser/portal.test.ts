/**
 * Browser tests (issue 8): Playwright driving Debian's chromium against the real stack. An applicant files a grain
 * filing through the portal on a phone-sized screen — guidance, materials, pre-filled fields, the generated form with
 * the API's own validation messages, consent, live status — and downloads a certificate that passes
 * scripts/verify-certificate.sh; an admin opens a manual-review filing's materials (the lease contract reused
 * from the enterprise's archive) and approves it, revokes a certificate and opens
 * the queue dashboard, which refuses anyone without the admin cookie. Screenshots: test-results/browser/*.png.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, verifyCertificate, writeTemp } from '../support/pdf-tools.js';
import { grainFiling, submit, waitForDecision } from '../support/stack.js';
import { runBrowserSuite, startBrowserStack, type BrowserStack } from './browser.js';

const RUN = runBrowserSuite();

const FENGHE = '91210100MA0Q1A2B6L';
const DISHONEST = '91210106MA0U7G8H65';
const GRAIN_DEPT = '11210100MB0E12346R';
let b: BrowserStack;

/** A one-page PDF, as an enterprise would scan its lease contract. */
async function leaseContract(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([595, 842]).drawText('Warehouse lease contract', { x: 72, y: 760, size: 14 });
  return Buffer.from(await doc.save());
}

beforeAll(async () => {
  if (RUN) b = await startBrowserStack();
}, 90_000);
afterAll(async () => {
  await b?.close();
});

describe.skipIf(!RUN)('applicant portal', () => {
  it('files a grain filing end to end on a phone and downloads a certificate that verifies', async () => {
    const context = await b.context({ phone: true });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await page.goto(`${b.baseUrl}/`);
      await page.waitForSelector('#signin-btn');
      await b.shot(page, '01-portal-signin');
      await page.fill('#signin-sub', FENGHE);
      await page.click('#signin-btn');

      // 零材料 (issue 16): matters no situation of which needs an upload carry the label; the others do not.
      const item = (code: string) => page.locator('li.matter', { has: page.locator(`button[data-code="${code}"]`) });
      await page.waitForSelector('button[data-code="grain-purchase-filing"]');
      expect(await item('grain-purchase-filing').innerText()).toContain('零材料');
      expect(await item('enterprise-credit-proof').innerText()).toContain('证明在线开具');
      expect(await item('public-parking-filing').innerText()).not.toContain('零材料');

      await page.click('button[data-code="grain-purchase-filing"]');
      await page.check('input[name="q-filingType"][value="首次"]');
      await page.check('input[name="q-storageSource"][value="自有"]');
      await page.waitForSelector('#to-form:not([disabled])');
      await expect.poll(() => page.locator('#situation').innerText()).toContain('首次备案（自有仓储）');
      expect(await page.locator('[data-material="M2"]').innerText()).toContain('免交');
      expect(await page.locator('#prefilled').innerText()).toContain('沈阳丰禾粮食购销有限公司');
      await b.shot(page, '03-portal-guide');

      await page.click('#to-form');
      await page.waitForSelector('input[name="root[contactPhone]"]');
      await page.fill('input[name="root[responsiblePerson][name]"]', '张伟');
      // A wrong check digit: a plain-Chinese message appears at the field (issue 18), and the missing ones are asked for.
      await page.fill('input[name="root[responsiblePerson][idNumber]"]', '210102199001011238');
      await page.click('#precheck');
      await page.waitForSelector('#form-error .errors');
      expect(await page.locator('#form-error').innerText()).toContain('不是有效的公民身份号码');
      expect(await page.locator('#form-editor').innerText()).toContain('不是有效的公民身份号码');
      expect(await page.locator('#form-editor').innerText()).toContain('请填写“联系电话”');
      await b.shot(page, '04-portal-form-errors');

      await page.fill('input[name="root[responsiblePerson][idNumber]"]', '210102199001011237');
      await page.fill('input[name="root[contactPhone]"]', '13800000000');
      await page.selectOption('select[name="root[purchaseRegionCode]"]', '210102');
      await page.locator('#form-editor label', { hasText: '玉米' }).locator('input').check();
      await page.locator('#form-editor label', { hasText: '稻谷' }).locator('input').check();
      await page.locator('#form-editor button', { hasText: '添加仓储设施' }).click();
      await page.fill('input[name="root[storageFacilities][0][address]"]', '沈阳市和平区南京南街1号粮库');
      await page.fill('input[name="root[storageFacilities][0][capacityTonnes]"]', '5000');
      await page.selectOption('select[name="root[storageFacilities][0][ownership]"]', '自有');
      await page.fill('input[name="root[storageFacilities][0][realEstateCertNo]"]', '辽(2024)沈阳市不动产权第0012345号');
      await b.shot(page, '05-portal-form');
      await page.click('#precheck');

      await page.waitForSelector('#consent:not(.hidden)');
      expect(await page.locator('#precheck-result').innerText()).toContain('预检结果：准予');
      await page.check('#consent-data');
      await page.check('#consent-seal');
      await b.shot(page, '06-portal-consent');
      await page.click('#submit');

      await page.waitForSelector('#status-text[data-status="approved"]', { timeout: 20_000 });
      expect(await page.locator('#cert-number').innerText()).toMatch(/^沈粮收备〔\d{4}〕\d{6}号$/);
      await b.shot(page, '07-portal-approved');

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-cert')]);
      const { dir, cleanup } = tempDir('portal-');
      try {
        const pdfPath = path.join(dir, 'certificate.pdf');
        await download.saveAs(pdfPath);
        expect(readFileSync(pdfPath).subarray(0, 5).toString('latin1')).toBe('%PDF-');
        const roots = writeTemp(dir, 'roots.pem', b.stack.deps.trustAnchorsPem);
        const verified = await verifyCertificate(pdfPath, roots, ['沈阳丰禾粮食购销有限公司']);
        expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      } finally {
        cleanup();
      }

      await page.click('#status-home');
      await page.waitForSelector('#my-certs li');
      await b.shot(page, '02-portal-matters');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});

describe.skipIf(!RUN)('admin console', () => {
  it('approves a manual-review filing after opening its materials, revokes a certificate and opens the queue dashboard', async () => {
    const applicant = await b.stack.token(DISHONEST);
    // The enterprise keeps its lease contract in its archive (一企一档); the filing reuses it (材料复用).
    const lease = await leaseContract();
    const leaseSha = createHash('sha256').update(lease).digest('hex');
    const uploaded = await b.stack.app.inject({
      method: 'POST',
      url: `/v1/materials?matter=grain-purchase-filing&material=M5&fileName=${encodeURIComponent('仓库租赁合同.pdf')}`,
      headers: { authorization: `Bearer ${applicant}`, 'content-type': 'application/pdf' },
      payload: lease,
    });
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const storageFacilities = [{ address: '沈阳市某区租赁粮库', capacityTonnes: 3000, ownership: '租赁', leaseEndsOn: '2030-12-31' }];
    const filed = await submit(b.stack, applicant, grainFiling({ answers: { storageSource: '租赁' }, form: { purchaseRegionCode: '210106', storageFacilities } }));
    const id = filed.json().id as string;
    expect((await waitForDecision(b.stack, id, applicant)).status).toBe('manual_review');

    const context = await b.context();
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (m.text().includes('Content Security Policy')) cspViolations.push(m.text());
    });
    try {
      // Without the admin cookie the dashboard is closed.
      const closed = await page.goto(`${b.baseUrl}/admin/queues/`);
      expect(closed?.status()).toBe(401);

      await page.goto(`${b.baseUrl}/admin`);
      await page.waitForSelector('#admin-signin');
      await b.shot(page, '10-admin-signin');
      await page.selectOption('#admin-dept', GRAIN_DEPT);
      await page.click('#admin-signin');

      const row = page.locator(`li[data-application="${id}"]`);
      await row.waitFor();
      expect(await row.innerText()).toContain('严重失信');
      await b.shot(page, '11-admin-reviews');

      // Issue 18: the reviewer's view lists the filing's materials — 免交, 复用 with the file's size and sha256 — and
      // opens the applicant's file, byte for byte.
      await row.locator('button[data-action="open"]').click();
      const materials = row.locator('table.materials-table');
      await materials.waitFor();
      const codes = await Promise.all((await materials.locator('tbody tr').all()).map((tr) => tr.getAttribute('data-material')));
      expect(codes).toEqual(['M1', 'M2', 'M3', 'M5', 'M6']);
      expect(await materials.locator('tr[data-material="M2"]').innerText()).toContain('免交');
      expect(await materials.locator('tr[data-material="M6"]').innerText()).toContain('告知承诺');
      const m5 = materials.locator('tr[data-material="M5"]');
      const m5Text = await m5.innerText();
      for (const s of ['仓储设施租赁合同', '复用', '仓库租赁合同.pdf', leaseSha]) expect(m5Text).toContain(s);
      expect(await materials.locator('button[data-action="open-material"]').count()).toBe(1);
      await m5.locator('button[data-action="open-material"]').click();
      const preview = row.locator('.material-preview');
      await preview.locator('object.pdf').waitFor();
      expect(await preview.locator('object.pdf').getAttribute('data')).toMatch(/^blob:/);
      await b.shot(page, '11b-admin-review-materials');
      // The e-form and the material are shown from blob URLs, which the console's CSP allows for PDFs and images.
      expect(cspViolations).toEqual([]);
      const [material] = await Promise.all([page.waitForEvent('download'), preview.locator('a[data-action="download-material"]').click()]);
      expect(material.suggestedFilename()).toBe('仓库租赁合同.pdf');
      const { dir: materialDir, cleanup: materialCleanup } = tempDir('review-material-');
      try {
        const saved = path.join(materialDir, 'material.pdf');
        await material.saveAs(saved);
        expect(createHash('sha256').update(readFileSync(saved)).digest('hex')).toBe(leaseSha);
      } finally {
        materialCleanup();
      }

      await row.locator('input').fill('信用修复材料已核实');
      await row.locator('button[data-action="approve"]').click();
      // Issue 18: approving issues a certificate, so the console asks first.
      await page.click('dialog.confirm #confirm-ok');
      await expect.poll(() => row.innerText(), { timeout: 15_000 }).toContain('已通过');
      const decided = await waitForDecision(b.stack, id, applicant);
      expect(decided).toMatchObject({ status: 'approved', certificate: { id: expect.any(String) } });

      await page.click('button[data-tab="certificates"]');
      const certRow = page.locator(`tr[data-certificate="${decided.certificate!.id}"]`);
      await certRow.waitFor();
      await b.shot(page, '12-admin-certificates');
      // Issue 18: revoking asks in a dialog and needs a reason; an empty one is refused at the field, in Chinese.
      await certRow.locator('button[data-action="revoke"]').click();
      await page.click('dialog.confirm #confirm-ok');
      expect(await page.locator('#confirm-reason-error').innerText()).toBe('请填写撤销原因，至少 2 个字。');
      await page.fill('#confirm-reason', '备案信息与实际不符，依法撤销');
      await b.shot(page, '12b-admin-revoke-dialog');
      await page.click('dialog.confirm #confirm-ok');
      await expect.poll(() => page.locator(`tr[data-certificate="${decided.certificate!.id}"]`).innerText()).toContain('已撤销');
      const cert = await b.stack.app.inject({ method: 'GET', url: `/v1/certificates/${decided.certificate!.id}`, headers: { authorization: `Bearer ${applicant}` } });
      expect(cert.json().status).toBe('revoked');

      await page.click('button[data-tab="matters"]');
      await page.waitForSelector('#pane .matter');
      await b.shot(page, '13-admin-matters');
      await page.click('button[data-tab="stats"]');
      await page.waitForSelector('#pane h2');
      // Issue 19: the department's catalog figures beside the seed's, and those of its real filings.
      const onceOnly = await page.locator('#once-only').innerText();
      expect(onceOnly).toContain('“只提交一次”成效（本部门）');
      expect(onceOnly).toContain('2270 / 2611（87%）');
      expect(onceOnly).toContain('商品房预售许可 16 / 17（94%）');
      expect(await page.locator('.once-only-matter[data-matter="grain-purchase-filing"]').innerText()).toContain('目录：材料只交一次');
      await b.shot(page, '14-admin-stats');

      // Issue 17: the dashboard holds every department's jobs, so a department admin is refused (ops role only).
      await page.click('button[data-tab="queues"]');
      await page.click('#open-board');
      await expect.poll(() => page.locator('#queue-error').innerText(), { timeout: 15_000 }).toContain('无权');
      await b.shot(page, '15-admin-queue-board-refused');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('refuses the dashboard API to anyone but ops (department admins included) and without a session', async () => {
    const api = await b.stack.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { accept: 'application/json' } });
    expect(api.statusCode).toBe(401);
    const applicantCookie = `miaopi_board=${await b.stack.token(FENGHE)}`;
    const asApplicant = await b.stack.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie: applicantCookie } });
    expect(asApplicant.statusCode).toBe(403);
    const admin = await b.stack.token('ADMIN-01', 'admin', { dept: GRAIN_DEPT });
    expect((await b.stack.app.inject({ method: 'POST', url: '/admin/queues/session', headers: { authorization: `Bearer ${admin}` } })).statusCode).toBe(403);
    const adminCookie = `miaopi_board=${admin}`;
    expect((await b.stack.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie: adminCookie } })).statusCode).toBe(403);
    const ops = await b.stack.token('OPS-01', 'ops');
    const session = await b.stack.app.inject({ method: 'POST', url: '/admin/queues/session', headers: { authorization: `Bearer ${ops}` } });
    expect(session.statusCode).toBe(200);
    const cookie = String(session.headers['set-cookie']);
    expect(cookie).toMatch(/^miaopi_board=[^;]+; Path=\/admin\/queues; HttpOnly; SameSite=Strict; Max-Age=\d+/);
    const ok = await b.stack.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie: cookie.split(';')[0]! } });
    expect(ok.statusCode).toBe(200);
    // Applications, webhook deliveries, bundle steps: every queue read-only.
    expect(ok.json().queues.map((q: any) => q.readOnlyMode)).toEqual([true, true, true]);
  });
});
