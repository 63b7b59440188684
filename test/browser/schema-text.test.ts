/**
 * Admin-authored schema text is text (issue 17, item 7): on the portal page, in Chromium, json-editor renders a
 * form whose titles and descriptions carry markup (`<img src=… onerror=…>`, `<b>`, `<svg onload=…>`) — the page
 * shows those strings as written, creates no element from them and never fetches the image they name. Before the
 * fix json-editor parsed them as HTML (the image was requested; only the CSP kept its onerror from running).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, startBrowserStack, type BrowserStack } from './browser.js';

let b: BrowserStack;

beforeAll(async () => {
  if (!hasChromium) throw new Error('Chromium is missing at /usr/bin/chromium: the browser suite must run (install the chromium package)');
  b = await startBrowserStack();
}, 90_000);
afterAll(async () => {
  await b?.close();
});

const TITLE = '<img src="/schema-text-probe-title.png" onerror="window.__pwned=1">标题<b>粗</b>';
const DESCRIPTION = '<img src="/schema-text-probe-description.png">说明<i>斜</i>';
const FIELD_TITLE = '<svg onload="window.__pwned=2"></svg>字段<u>名</u>';
const ITEM_TITLE = '<img src="/schema-text-probe-item.png">储粮设施';

describe('schema titles and descriptions in the portal form editor', () => {
  it('are shown as written and never parsed as HTML', async () => {
    const context = await b.context();
    const page = await context.newPage();
    const probes: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('schema-text-probe')) probes.push(r.url());
    });
    await page.goto(`${b.baseUrl}/`);
    await page.waitForFunction('"JSONEditor" in window');
    const schema = {
      type: 'object',
      title: TITLE,
      description: DESCRIPTION,
      properties: {
        name: { type: 'string', title: FIELD_TITLE, description: DESCRIPTION },
        facilities: { type: 'array', title: ITEM_TITLE, format: 'tabs-top', items: { type: 'object', title: ITEM_TITLE, properties: { size: { type: 'number', title: FIELD_TITLE } } } },
      },
    };
    // Runs in the page (a string: this project's TypeScript has no DOM types); the editor is the portal's json-editor.
    const rendered = await page.evaluate<{ text: string; elements: number; pwned: number | null }>(`(async () => {
      const holder = document.createElement('div');
      document.body.appendChild(holder);
      const editor = new window.JSONEditor(holder, { theme: 'html', iconlib: null, schema: ${JSON.stringify(schema)}, startval: { name: 'x', facilities: [{ size: 1 }] } });
      await new Promise((resolve) => editor.on('ready', resolve));
      await new Promise((r) => setTimeout(r, 300));
      return { text: holder.textContent || '', elements: holder.querySelectorAll('img, svg, b, i, u').length, pwned: window.__pwned ?? null };
    })()`);
    await page.waitForTimeout(300);
    await b.shot(page, '17-schema-text');
    expect(rendered.elements).toBe(0);
    expect(rendered.pwned).toBeNull();
    for (const s of [TITLE, DESCRIPTION, FIELD_TITLE]) expect(rendered.text, s).toContain(s);
    expect(probes).toEqual([]);
    console.log(`SCHEMA TEXT: 4 marked-up strings rendered literally; ${rendered.elements} elements made from them, ${probes.length} probe fetches`);
    await context.close();
  }, 60_000);
});
