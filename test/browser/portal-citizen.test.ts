/**
 * The portal as a citizen (issue 18), in Chromium at 390×844 against the real stack: a person is offered the
 * citizens' matters only; the 公租房 guide asks 保障方式意愿 (which decides no situation but goes on the form and the
 * certificate) before the form opens, and shows the follow-up services; a 本人 残疾人证 filing opens with the
 * person's own ID number already in the form. Screenshots: test-results/browser/18-citizen-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { runBrowserSuite, startBrowserStack, type BrowserStack } from './browser.js';

const RUN = runBrowserSuite();

const LOW_INCOME = '210104198503150024'; // 低保 household in the demo 民政 data
const DISABLED = '210106198002120014'; // assessed, 本市户籍
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

describe.skipIf(!RUN)('portal, citizen', () => {
  it('offers citizens’ matters only, asks 保障方式意愿 and shows follow-up services', async () => {
    const context = await b.context({ phone: true });
    const page = await context.newPage();
    try {
      await signIn(page, LOW_INCOME);
      const offered = await page.locator('#matter-list button[data-code]').evaluateAll((bs) => bs.map((x) => x.getAttribute('data-code')));
      const personMatters = [...b.stack.deps.catalog.matters.values()].filter((m) => m.def.applicantTypes.includes('person')).map((m) => m.def.code);
      expect(offered.sort()).toEqual(personMatters.sort());
      expect(offered).not.toContain('grain-purchase-filing');
      await b.shot(page, '18-citizen-01-matters');

      await page.click('button[data-code="public-rental-housing"]');
      // 申请人类别 comes from 民政's data; 保障方式意愿 is asked, and the form waits for it.
      await page.waitForSelector('input[name="q-preference"]');
      expect(await page.locator('#questions').innerText()).toContain('已根据共享数据确定：低保家庭');
      expect(await page.isDisabled('#to-form')).toBe(true);
      expect(await page.locator('#situation').innerText()).toContain('还需回答：保障方式意愿');
      await page.check('input[name="q-preference"][value="均可"]');
      await page.waitForSelector('#to-form:not([disabled])');
      expect(await page.locator('#follow-ups-card').isVisible()).toBe(true);
      expect(await page.locator('#follow-ups').innerText()).toContain('资格审核结果公示');
      await b.shot(page, '18-citizen-02-rental-guide');
    } finally {
      await context.close();
    }
  }, 120_000);

  it('pre-fills the signed-in person’s own ID number in a 本人 filing', async () => {
    const context = await b.context({ phone: true });
    const page = await context.newPage();
    try {
      await signIn(page, DISABLED);
      await page.click('button[data-code="disability-certificate"]');
      await page.check('input[name="q-relation"][value="本人"]');
      await page.waitForSelector('#to-form:not([disabled])');
      await page.click('#to-form');
      await page.waitForSelector('input[name="root[disabledPerson][idNumber]"]');
      await expect.poll(() => page.inputValue('input[name="root[disabledPerson][idNumber]"]')).toBe(DISABLED);
      await b.shot(page, '18-citizen-03-self-prefilled');
    } finally {
      await context.close();
    }
  }, 120_000);
});
