/**
 * The admin console's drafts list (issue 18), in Chromium at 390×844 and 1280×900 against the real stack: admin A of
 * the grain bureau writes a draft (over the API); admin B signs in to the console, finds it under 待我审批, reads
 * its diff against the published version, runs its tests (a table, not a JSON dump), approves it through the
 * confirmation dialog — and the draft is approved by B in the database; A's own list offers no approve button.
 * Also the audit log screen shows the approval in Chinese with Beijing time. Screenshots:
 * test-results/browser/18-admin-<viewport>-*.png.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { RULES_DIR } from '../support/datasource-server.js';
import { runBrowserSuite, startBrowserStack, type BrowserStack } from './browser.js';

const RUN = runBrowserSuite();

const GRAIN = 'grain-purchase-filing';
const GRAIN_DEPT = '11210100MB0E12346R';
const grainYaml = readFileSync(path.join(RULES_DIR, 'matters', `${GRAIN}.yaml`), 'utf8');
let b: BrowserStack;

beforeAll(async () => {
  if (RUN) b = await startBrowserStack();
}, 90_000);
afterAll(async () => {
  await b?.close();
});

async function signInAdmin(page: Page, sub: string) {
  await page.goto(`${b.baseUrl}/admin`);
  await page.waitForSelector('#admin-signin');
  await page.selectOption('#admin-dept', GRAIN_DEPT);
  await page.fill('#admin-sub', sub);
  await page.click('#admin-signin');
  await page.waitForSelector('button[data-tab="drafts"]');
}

describe.skipIf(!RUN).each([
  ['phone', true],
  ['desktop', false],
] as const)('admin drafts (%s)', (view, phone) => {
  it('a second admin finds the draft awaiting approval, reads its diff and tests, and approves it', async () => {
    const shot = (page: Page, name: string) => b.shot(page, `18-admin-${view}-${name}`);
    const VIEW = view.toUpperCase(); // subjects are upper-cased by sign-in
    // Admin A's draft: 收购地区 narrowed to 和平区 (a one-line change), unique per run by a comment line.
    const authorA = await b.stack.token(`ADMIN-A-${VIEW}`, 'admin', { dept: GRAIN_DEPT });
    const text = `${grainYaml.replace("operator: regionWithin, value: '2101' }", "operator: regionWithin, value: '210102' }")}# ${view}\n`;
    const created = await b.stack.app.inject({ method: 'POST', url: `/v1/admin/matters/${GRAIN}/drafts`, headers: { authorization: `Bearer ${authorA}`, 'content-type': 'application/yaml' }, payload: text });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;

    const context = await b.context({ phone });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await signInAdmin(page, `ADMIN-B-${VIEW}`);
      await page.click('button[data-tab="drafts"]');
      const row = page.locator(`#drafts-awaiting li[data-draft="${id}"]`);
      await row.waitFor();
      expect(await row.innerText()).toContain('粮食收购企业备案');
      expect(await row.innerText()).toContain('待审批');
      await shot(page, '01-awaiting');

      await row.locator('button[data-action="diff"]').click();
      const diff = page.locator('#draft-diff');
      await diff.waitFor();
      expect(await diff.locator('tr.del').innerText()).toContain("value: '2101' }");
      expect(await diff.locator('tr.add').first().innerText()).toContain("value: '210102' }");
      await shot(page, '02-diff');

      await row.locator('button[data-action="test"]').click();
      const cases = page.locator('#test-cases');
      await cases.waitFor();
      expect(await cases.locator('tbody tr').count()).toBe(b.stack.deps.catalog.get(GRAIN)!.def.tests.length);
      expect(await page.locator('#draft-out').innerText()).toContain('测试用例通过');
      await shot(page, '03-tests');

      await row.locator('button[data-action="approve"]').click();
      await page.waitForSelector('dialog.confirm[open]');
      expect(await page.locator('dialog.confirm').innerText()).toContain(`ADMIN-A-${VIEW}`);
      await shot(page, '04-confirm');
      await page.click('dialog.confirm #confirm-ok');
      await expect.poll(() => page.locator('#draft-out').innerText()).toContain('已审批');
      await expect.poll(() => page.locator(`#drafts-awaiting li[data-draft="${id}"]`).count()).toBe(0);
      const stored = await b.stack.deps.store.authoring.getDraft(id);
      expect(stored).toMatchObject({ approvedBy: `ADMIN-B-${VIEW}`, status: 'open' });
      await shot(page, '05-approved');

      await page.click('button[data-tab="audit"]');
      const audit = page.locator('#audit-table');
      await audit.waitFor();
      const first = await audit.locator('tbody tr').first().innerText();
      expect(first).toContain('审批草稿');
      expect(first).toContain(`ADMIN-B-${VIEW}`);
      expect(first).toMatch(/\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/);
      await shot(page, '06-audit');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }

    // The author's own list: the draft, approved, with publish and no approve button.
    const authorCtx = await b.context({ phone });
    const own = await authorCtx.newPage();
    try {
      await signInAdmin(own, `ADMIN-A-${VIEW}`);
      await own.click('button[data-tab="drafts"]');
      const mine = own.locator(`#drafts-mine li[data-draft="${id}"]`);
      await mine.waitFor();
      expect(await mine.innerText()).toContain(`已由 ADMIN-B-${VIEW} 审批`);
      expect(await mine.locator('button[data-action="approve"]').count()).toBe(0);
      expect(await mine.locator('button[data-action="publish"]').isEnabled()).toBe(true);
      await b.shot(own, `18-admin-${view}-07-author-list`);
    } finally {
      await authorCtx.close();
    }
  }, 150_000);
});
