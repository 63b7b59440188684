/**
 * The portal as a citizen and a clerk meet it (issue 18), in Chromium at 390×844 (phone) and 1280×900 (desktop),
 * against the real stack: a guided grain filing with a wrong phone number gets the catalog's plain-Chinese message
 * at the field, which goes away as soon as the number is fixed; browser back/forward stay inside the portal and a
 * reload keeps the draft; 我的办件 finds a filing in manual review and opens its status. Screenshots of every step:
 * test-results/browser/18-<viewport>-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { grainFiling, submit, waitForDecision } from '../support/stack.js';
import { runBrowserSuite, startBrowserStack, type BrowserStack } from './browser.js';

const RUN = runBrowserSuite();

const FENGHE = '91210100MA0Q1A2B6L';
const DISHONEST = '91210106MA0U7G8H65';
const PHONE_MESSAGE = '请填写11位手机号码，或带区号的固定电话（如 024-12345678）';
/** What a citizen should never read on the page: regexes, JSON paths, ajv's English. */
const TECHNICAL = /must (NOT )?(match|have)|\^\(|\/form\/|see errors|pattern "|instancePath/;
let b: BrowserStack;

beforeAll(async () => {
  if (RUN) b = await startBrowserStack();
}, 90_000);
afterAll(async () => {
  await b?.close();
});

async function signIn(page: Page, sub: string) {
  await page.goto(`${b.baseUrl}/`);
  await page.waitForSelector('#signin-btn');
  await page.fill('#signin-sub', sub);
  await page.click('#signin-btn');
  await page.waitForSelector('#matter-list button[data-code]');
}

async function toGrainForm(page: Page) {
  await page.click('button[data-code="grain-purchase-filing"]');
  await page.check('input[name="q-filingType"][value="首次"]');
  await page.check('input[name="q-storageSource"][value="自有"]');
  await page.waitForSelector('#to-form:not([disabled])');
  await page.click('#to-form');
  await page.waitForSelector('input[name="root[contactPhone]"]');
}

const field = (page: Page, name: string) => page.locator('#form-editor .form-control', { has: page.locator(`[name="${name}"]`) });

describe.skipIf(!RUN).each([
  ['phone', true],
  ['desktop', false],
] as const)('portal, guided (%s)', (view, phone) => {
  const shot = (page: Page, name: string) => b.shot(page, `18-${view}-${name}`);

  it('shows a wrong phone number’s plain-Chinese message at the field and clears it on fix', async () => {
    const context = await b.context({ phone });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await signIn(page, FENGHE);
      // An enterprise is offered enterprise matters only (applicantTypes), none of the citizens' 残疾人 services.
      const offered = await page.locator('#matter-list button[data-code]').evaluateAll((bs) => bs.map((x) => x.getAttribute('data-code')));
      expect(offered).toContain('grain-purchase-filing');
      expect(offered).not.toContain('disability-certificate');
      expect(await page.locator('#who').innerText()).toContain('沈阳丰禾粮食购销有限公司');
      await shot(page, '01-matters');
      await toGrainForm(page);
      // Required markers, hints and the phone keyboard come from the schema.
      expect(await field(page, 'root[contactPhone]').locator('label.required').count()).toBe(1);
      expect(await page.getAttribute('input[name="root[contactPhone]"]', 'inputmode')).toBe('tel');
      expect(await page.locator('select[name="root[purchaseRegionCode]"] option', { hasText: '和平区' }).count()).toBe(1);

      await page.fill('input[name="root[responsiblePerson][name]"]', '张伟');
      await page.fill('input[name="root[responsiblePerson][idNumber]"]', '210102199001011237');
      await page.fill('input[name="root[contactPhone]"]', '1380000000'); // one digit short
      await page.selectOption('select[name="root[purchaseRegionCode]"]', '210102');
      await page.locator('#form-editor label', { hasText: '玉米' }).locator('input').check();
      await page.locator('#form-editor button', { hasText: '添加仓储设施' }).click();
      await page.fill('input[name="root[storageFacilities][0][address]"]', '沈阳市和平区南京南街1号粮库');
      await page.fill('input[name="root[storageFacilities][0][capacityTonnes]"]', '5000');
      await page.selectOption('select[name="root[storageFacilities][0][ownership]"]', '自有');
      await page.fill('input[name="root[storageFacilities][0][realEstateCertNo]"]', '辽(2024)沈阳市不动产权第0012345号');
      await page.click('#precheck');
      await expect.poll(() => field(page, 'root[contactPhone]').innerText()).toContain(PHONE_MESSAGE);
      const summary = await page.locator('#form-error').innerText();
      expect(summary).toContain('还有 1 处需要修改');
      expect(summary).toContain(PHONE_MESSAGE);
      expect(await page.locator('main').innerText()).not.toMatch(TECHNICAL);
      expect(await page.getAttribute('input[name="root[contactPhone]"]', 'aria-invalid')).toBe('true');
      await shot(page, '02-wrong-phone');

      // Fixing the field clears its message at once, before anything is sent again.
      await page.fill('input[name="root[contactPhone]"]', '13800000000');
      await expect.poll(() => field(page, 'root[contactPhone]').innerText()).not.toContain(PHONE_MESSAGE);
      await expect.poll(() => page.locator('#form-error').innerText()).toBe('');
      await shot(page, '03-phone-fixed');
      await page.click('#precheck');
      await page.waitForSelector('#consent:not(.hidden)');
      expect(await page.locator('#precheck-result').innerText()).toContain('预检结果：准予备案');
      await shot(page, '04-precheck');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('keeps the draft across browser back/forward and a reload', async () => {
    const context = await b.context({ phone });
    const page = await context.newPage();
    try {
      await signIn(page, FENGHE);
      await toGrainForm(page);
      expect(new URL(page.url()).searchParams.get('step')).toBe('form');
      await page.fill('input[name="root[responsiblePerson][name]"]', '李娜');
      await page.fill('input[name="root[contactPhone]"]', '13912345678');
      await page.selectOption('select[name="root[purchaseRegionCode]"]', '210103');
      await expect.poll(() => page.locator('#draft-note').innerText()).toContain('草稿已自动保存');
      await shot(page, '05-draft-typed');

      // Back: the guide of the same matter, still in the portal, answers kept; forward: the form as typed.
      await page.goBack();
      await page.waitForSelector('#guide:not(.hidden)');
      expect(page.url().startsWith(b.baseUrl)).toBe(true);
      expect(await page.isChecked('input[name="q-storageSource"][value="自有"]')).toBe(true);
      await shot(page, '06-back-to-guide');
      await page.goForward();
      await page.waitForSelector('#form:not(.hidden)');
      expect(await page.inputValue('input[name="root[contactPhone]"]')).toBe('13912345678');

      // Reload: signed in still (this tab's session), on the form, the draft back in its fields.
      await page.reload();
      await page.waitForSelector('#form:not(.hidden) input[name="root[contactPhone]"]');
      await expect.poll(() => page.inputValue('input[name="root[contactPhone]"]')).toBe('13912345678');
      expect(await page.inputValue('input[name="root[responsiblePerson][name]"]')).toBe('李娜');
      expect(await page.inputValue('select[name="root[purchaseRegionCode]"]')).toBe('210103');
      await shot(page, '07-reloaded');

      // Back twice from there: guide, then the matter list — never off the site.
      await page.goBack();
      await page.waitForSelector('#guide:not(.hidden)');
      expect(await page.locator('#guide-draft').innerText()).toContain('已恢复您');
      await page.goBack();
      await page.waitForSelector('#matters:not(.hidden)');
      expect(page.url().startsWith(b.baseUrl)).toBe(true);
      expect(await page.locator('button[data-code="grain-purchase-filing"]').innerText()).toBe('继续办理');
      await shot(page, '08-back-to-matters');
    } finally {
      await context.close();
    }
  }, 120_000);

  it('finds a filing in manual review under 我的办件 and opens its status', async () => {
    const applicant = await b.stack.token(DISHONEST);
    const storageFacilities = [{ address: '沈阳市某区粮库', capacityTonnes: 3000, ownership: '自有', realEstateCertNo: '辽(2022)沈阳市不动产权第0054321号' }];
    const filed = await submit(b.stack, applicant, grainFiling({ form: { purchaseRegionCode: '210106', storageFacilities } }));
    const id = filed.json().id as string;
    expect((await waitForDecision(b.stack, id, applicant)).status).toBe('manual_review');

    const context = await b.context({ phone });
    const page = await context.newPage();
    try {
      await signIn(page, DISHONEST);
      await page.click('#nav-mine');
      const row = page.locator(`#mine-list li[data-application="${id}"]`);
      await row.waitFor();
      const text = await row.innerText();
      expect(text).toContain('粮食收购企业备案');
      expect(text).toContain('转人工审核');
      // Beijing time, not UTC cut from an ISO string.
      const created = (await b.stack.deps.store.applications.get(id))!.createdAt;
      const beijing = new Date(Date.parse(created) + 8 * 3600_000);
      expect(text).toContain(`${beijing.getUTCFullYear()}年${beijing.getUTCMonth() + 1}月${beijing.getUTCDate()}日 ${String(beijing.getUTCHours()).padStart(2, '0')}:`);
      await shot(page, '09-mine');
      await row.locator('button').click();
      await page.waitForSelector('#status-text[data-status="manual_review"]');
      expect(await page.locator('#status-text').innerText()).toBe('转人工审核，等待工作人员办理');
      expect(await page.locator('#outcome').innerText()).toContain('转人工审核的原因');
      // The step being worked on is marked; none is drawn as failed.
      expect(await page.locator('#steps li.now').innerText()).toBe('审核');
      await shot(page, '10-mine-status');
      await page.goBack();
      await page.waitForSelector('#mine:not(.hidden)');
    } finally {
      await context.close();
    }
  }, 120_000);
});
