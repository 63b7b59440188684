/**
 * The verification page in Chromium (issue 18), on a phone (390×844) and a desktop (1280×900): on certificate A's
 * page, A's own file is green; another valid certificate is red ("不是本页的证照"), never "核验通过"; a file with a
 * corrupted signature that the register does not know is red, not amber; every state is explained in one line; times
 * read as Beijing time, never ISO UTC. Screenshots: test-results/browser/verify-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HAPPY_USCC, grainFiling, submit, waitForDecision } from '../support/stack.js';
import { hasChromium, startBrowserStack, type BrowserStack } from './browser.js';

const RARE_USCC = '91210102123456788E';
const GRAIN_DEPT = '11210100MB0E12346R';
const ISO_UTC = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const RED = 'rgb(204, 0, 0)';
const GREEN = 'rgb(10, 122, 47)';

let b: BrowserStack;
let a: { id: string; code: string; pdf: Buffer };
let other: Buffer;
let corrupted: Buffer;

async function issue(sub: string, filing: ReturnType<typeof grainFiling>): Promise<{ id: string; code: string; pdf: Buffer }> {
  const token = await b.stack.token(sub);
  const res = await submit(b.stack, token, filing);
  expect(res.statusCode, res.body).toBe(202);
  const d = await waitForDecision(b.stack, res.json<{ id: string }>().id, token, 30_000);
  expect(d.status, JSON.stringify(d.decision)).toBe('approved');
  const pdf = await b.stack.app.inject({ method: 'GET', url: `/v1/certificates/${d.certificate!.id}/pdf`, headers: { authorization: `Bearer ${token}` } });
  const row = (await b.stack.deps.store.certificates.get(d.certificate!.id))!;
  return { id: row.id, code: row.verifyCode, pdf: pdf.rawPayload };
}

/** One byte of the department certificate embedded in the signature changed: DER stays well formed, trust does not. */
function corruptSignerCertificate(pdf: Buffer): Buffer {
  const der = Buffer.from(b.stack.deps.departmentSigner(GRAIN_DEPT).chain[0]!);
  const hex = der.toString('hex');
  const text = pdf.toString('latin1');
  const at = text.toLowerCase().indexOf(hex);
  if (at < 0) throw new Error('signer certificate not found in /Contents');
  const out = Buffer.from(pdf);
  const pos = at + hex.length - 2; // last byte of the certificate's own signature value
  out.write(out[pos] === 0x30 ? '1' : '0', pos, 'latin1');
  return out;
}

async function report(pdf: Buffer) {
  const res = await b.stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/pdf' }, payload: pdf });
  return res.json<{ indication: string; subIndication?: string; register: { id: string } | null }>();
}

async function upload(page: Page, name: string, pdf: Buffer) {
  await page.locator('#verdict').evaluate((el) => el.removeAttribute('data-state'));
  await page.setInputFiles('#file', { name, mimeType: 'application/pdf', buffer: pdf });
  await page.waitForSelector('#verdict[data-state]:not([data-state=""])', { timeout: 15_000 });
  const verdict = page.locator('#verdict');
  return { state: await verdict.getAttribute('data-state'), text: await verdict.innerText(), color: await verdict.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(el).color) };
}

beforeAll(async () => {
  if (!hasChromium) return;
  b = await startBrowserStack();
  a = await issue(HAPPY_USCC, grainFiling());
  const rare = await issue(
    RARE_USCC,
    grainFiling({ form: { responsiblePerson: { name: '王芳', idNumber: '21011219850615002X' }, purchaseRegionCode: '210103', storageFacilities: [{ address: '沈阳市某区粮库', capacityTonnes: 3000, ownership: '自有', realEstateCertNo: '辽(2023)沈阳市不动产权第0100001号' }] } }),
  );
  other = rare.pdf;
  corrupted = corruptSignerCertificate(rare.pdf);
}, 120_000);
afterAll(async () => {
  await b?.close();
});

describe.skipIf(!hasChromium)('the verification page', () => {
  it('has the inputs the page must judge: B is valid on its own, the corrupted file is unknown and INDETERMINATE at the API', async () => {
    expect(await report(a.pdf)).toMatchObject({ indication: 'TOTAL_PASSED', register: { id: a.id } });
    expect((await report(other)).indication).toBe('TOTAL_PASSED');
    // The API keeps the DSS indication; before issue 18 the page painted exactly this case amber.
    expect(await report(corrupted)).toMatchObject({ indication: 'INDETERMINATE', register: null });
  });

  for (const [label, phone] of [['phone', true], ['desktop', false]] as const) {
    it(`on a ${label}: green for A's own file, red for another valid certificate and for a corrupted unknown file, Beijing times`, async () => {
      const context = await b.context({ phone });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      try {
        await page.goto(`${b.baseUrl}/verify/${a.id}/${a.code}`);
        await page.waitForSelector('#file');
        const body = await page.locator('body').innerText();
        expect(body).toContain('沈阳丰禾粮食购销有限公司');
        expect(body).not.toMatch(ISO_UTC);
        expect(await page.locator('table tr', { hasText: '签发时间' }).innerText()).toMatch(/\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/);
        // Each state explained in one line.
        const states = await page.locator('#states li').allInnerTexts();
        expect(states.map((s) => s.split('：')[0]!.replace(/^\W\s*/u, ''))).toEqual(['核验通过', '核验未通过', '不是本页的证照', '暂时无法确认']);
        for (const s of states) expect(s).not.toContain('\n');
        await b.shot(page, `verify-${label}-01-page`);

        const own = await upload(page, 'a.pdf', a.pdf);
        expect(own).toMatchObject({ state: 'passed', color: GREEN });
        expect(own.text).toContain('核验通过');
        const result = await page.locator('#result').innerText();
        expect(result).not.toMatch(ISO_UTC);
        expect(result).toMatch(/签发时间\s+\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}（北京时间）/);
        expect(await page.locator('#checks').textContent()).not.toMatch(ISO_UTC);
        await page.click('#details summary');
        await b.shot(page, `verify-${label}-02-own-green`);

        const wrong = await upload(page, 'b.pdf', other);
        expect(wrong).toMatchObject({ state: 'other', color: RED });
        expect(wrong.text).toContain('不是本页的证照');
        expect(wrong.text).not.toContain('核验通过');
        expect(await page.locator('#result').innerText()).not.toMatch(ISO_UTC);
        await b.shot(page, `verify-${label}-03-other-red`);

        const broken = await upload(page, 'broken.pdf', corrupted);
        expect(broken).toMatchObject({ state: 'failed', color: RED });
        expect(broken.text).toContain('核验未通过');
        expect(broken.text).toContain('登记簿中也没有这份文件');
        await b.shot(page, `verify-${label}-04-corrupted-red`);

        // The generic page (no certificate of its own) passes B: it is a valid certificate in its own right.
        await page.goto(`${b.baseUrl}/verify`);
        await page.waitForSelector('#file');
        expect(await page.locator('#states li').count()).toBe(3);
        const generic = await upload(page, 'b.pdf', other);
        expect(generic).toMatchObject({ state: 'passed', color: GREEN });
        const broken2 = await upload(page, 'broken.pdf', corrupted);
        expect(broken2).toMatchObject({ state: 'failed', color: RED });
        await b.shot(page, `verify-${label}-05-generic`);
        expect(pageErrors).toEqual([]);
      } finally {
        await context.close();
      }
    }, 90_000);
  }
});
