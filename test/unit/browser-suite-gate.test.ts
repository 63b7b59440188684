/**
 * The browser suite's gate (issue 17): with Chromium it runs; without it a CI run fails — never a silent skip that
 * reads as green — and a local run skips with a loud message.
 */
import { describe, expect, it } from 'vitest';
import { browserSuiteRuns, isCi } from '../browser/browser.js';

describe('browser suite gate', () => {
  it('runs when Chromium is there, in CI or not, without a word', () => {
    const said: string[] = [];
    expect(browserSuiteRuns({ present: true, env: { CI: 'true' }, warn: (m) => said.push(m) })).toBe(true);
    expect(browserSuiteRuns({ present: true, env: {}, warn: (m) => said.push(m) })).toBe(true);
    expect(said).toEqual([]);
  });

  it('fails a CI run without Chromium instead of skipping', () => {
    for (const CI of ['true', '1', 'TRUE', 'yes']) {
      expect(() => browserSuiteRuns({ present: false, env: { CI }, warn: () => undefined }), CI).toThrow(/Chromium is missing.*CI is set/);
    }
  });

  it('skips a local run without Chromium, loudly', () => {
    for (const env of [{}, { CI: '' }, { CI: 'false' }, { CI: '0' }]) {
      const said: string[] = [];
      expect(browserSuiteRuns({ present: false, env, warn: (m) => said.push(m) }), JSON.stringify(env)).toBe(false);
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/BROWSER SUITE SKIPPED.*Chromium is missing/);
    }
  });

  it('reads CI as most runners set it', () => {
    expect([isCi({ CI: 'true' }), isCi({ CI: 'false' }), isCi({}), isCi({ CI: ' 0 ' })]).toEqual([true, false, false, false]);
  });
});
