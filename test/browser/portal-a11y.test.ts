/**
 * Portal accessibility (issue 18), on a phone (390×844) and a desktop (1280×900): every visible piece of text on the
 * sign-in, matters, guide, 我的办件 and status screens has a contrast of at least 4.5:1 against the background it is
 * drawn on (colours composed the way the browser paints them); the status and 我的办件 regions are `aria-live`; and
 * 我的办件 shows each filing's 申请编号 (沈2026120400017), not a UUID. Screenshots: test-results/browser/a11y-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { grainFiling, submit, waitForDecision } from '../support/stack.js';
import { hasChromium, startBrowserStack, type BrowserStack } from './browser.js';

const FENGHE = '91210100MA0Q1A2B6L';
const MIN_CONTRAST = 4.5;

let b: BrowserStack;
let filed: { id: string; number: string };

beforeAll(async () => {
  if (!hasChromium) throw new Error('Chromium is missing at /usr/bin/chromium: the browser suite must run (install the chromium package)');
  b = await startBrowserStack();
  const token = await b.stack.token(FENGHE);
  const res = await submit(b.stack, token, grainFiling());
  const id = res.json<{ id: string }>().id;
  expect((await waitForDecision(b.stack, id, token, 30_000)).status).toBe('approved');
  filed = { id, number: (await b.stack.deps.store.applications.get(id))!.number! };
}, 120_000);
afterAll(async () => {
  await b?.close();
});

interface Pair {
  text: string;
  selector: string;
  fg: string;
  bg: string;
  ratio: number;
}

/**
 * Runs in the page: each visible element with its own text, its colour and the background it sits on (ancestors'
 * backgrounds composed over white, text alpha and opacity applied), and the WCAG 2 contrast ratio.
 */
const AUDIT = `(() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return [0, 0, 0, 0]; const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) => { const a = top[3]; return [top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a), top[2] * a + under[2] * (1 - a), 1]; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const background = (el) => { const layers = []; for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e); const c = parse(s.backgroundColor); if (c[3] > 0) layers.push(c); } let bg = [255, 255, 255, 1]; for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg); return bg; };
  const opacity = (el) => { let o = 1; for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity); return o; };
  const path = (el) => { const parts = []; for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.classList.length ? '.' + [...e.classList].join('.') : '')); return parts.join(' > '); };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'OPTION'].includes(el.tagName)) continue;
    const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join(' ').trim();
    const value = (el.tagName === 'INPUT' && ['text', 'tel', 'number', ''].includes(el.type || '') && el.value) || '';
    const text = own || value;
    if (!text) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none' || el.getClientRects().length === 0 || el.closest('[hidden], .hidden')) continue;
    if (el.matches(':disabled') || el.closest('button:disabled')) continue;
    const bg = background(el);
    const c = parse(s.color); c[3] *= opacity(el);
    const fg = over(c, bg);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({ text: text.slice(0, 40), selector: path(el), fg: s.color, bg: 'rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + ')', ratio: Math.round(((l1 + 0.05) / (l2 + 0.05)) * 100) / 100 });
  }
  return out;
})()`;

async function lowContrast(page: Page): Promise<{ checked: number; failing: Pair[] }> {
  const pairs = await page.evaluate<Pair[]>(AUDIT);
  return { checked: pairs.length, failing: pairs.filter((p) => p.ratio < MIN_CONTRAST) };
}

describe.each([
  ['phone', true],
  ['desktop', false],
] as const)('portal accessibility (%s)', (view, phone) => {
  it('keeps every text at ≥ 4.5:1 contrast, announces status changes, and lists filings by 申请编号', async () => {
    const context = await b.context({ phone });
    const page = await context.newPage();
    const screens: Array<[string, { checked: number; failing: Pair[] }]> = [];
    const audit = async (name: string) => {
      screens.push([name, await lowContrast(page)]);
      await b.shot(page, `a11y-${view}-${name}`);
    };
    try {
      await page.goto(`${b.baseUrl}/`);
      await page.waitForSelector('#signin-btn');
      await audit('01-signin');
      // The audit itself catches a faint line (the 1.07:1 "Online filing" of the issue), then the probe goes away.
      await page.evaluate(`(() => { const p = document.createElement('p'); p.id = 'probe'; p.style.color = '#eeeeee'; p.textContent = 'Online filing'; document.body.appendChild(p); })()`);
      expect((await lowContrast(page)).failing.map((f) => f.text)).toEqual(['Online filing']);
      await page.evaluate(`document.getElementById('probe').remove()`);
      await page.fill('#signin-sub', FENGHE);
      await page.click('#signin-btn');
      await page.waitForSelector('#matter-list button[data-code]');
      await page.waitForSelector('#my-certs li');
      await audit('02-matters');

      await page.click('button[data-code="grain-purchase-filing"]');
      await page.check('input[name="q-filingType"][value="首次"]');
      await page.check('input[name="q-storageSource"][value="自有"]');
      await page.waitForSelector('#to-form:not([disabled])');
      await audit('03-guide');

      await page.goto(`${b.baseUrl}/`);
      await page.waitForSelector('#nav-mine');
      await page.click('#nav-mine');
      const row = page.locator(`#mine-list li[data-application="${filed.id}"]`);
      await row.waitFor();
      expect(filed.number).toMatch(/^沈\d{13}$/);
      const rowText = await row.innerText();
      expect(rowText).toContain(`申请编号 ${filed.number}`);
      expect(rowText).not.toContain(filed.id);
      expect(await page.locator('#mine-list').getAttribute('aria-live')).toBe('polite');
      await audit('04-mine');

      await row.locator('button').click();
      await page.waitForSelector('#status-text[data-status="approved"]');
      // The region that announces the status is live (and a status role), so a screen reader hears the change.
      const live = await page.locator('#status-text').evaluate((el) => {
        const r = el.closest('[aria-live]');
        return r ? { live: r.getAttribute('aria-live'), role: r.getAttribute('role') } : null;
      });
      expect(live).toEqual({ live: 'polite', role: 'status' });
      await audit('05-status');

      for (const [name, r] of screens) {
        expect(r.checked, `${name}: no text found to check`).toBeGreaterThan(5);
        expect(r.failing, `${name}: text below ${MIN_CONTRAST}:1`).toEqual([]);
      }
      const total = screens.reduce((n, [, r]) => n + r.checked, 0);
      console.log(`portal a11y (${view}): ${total} text/background pairs checked on ${screens.length} screens, ${screens.reduce((n, [, r]) => n + r.failing.length, 0)} below ${MIN_CONTRAST}:1`);
    } finally {
      await context.close();
    }
  }, 120_000);
});
