/**
 * The JSON depth scan that guards every JSON body (issue 17): it counts nesting on the text, skips brackets inside
 * strings (escaped quotes included), and says "too deep" exactly when the parsed value would be deeper than allowed.
 */
import { describe, expect, it } from 'vitest';
import { jsonDeeperThan } from '../../../src/http/json-depth.js';

const nested = (depth: number) => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;

describe('jsonDeeperThan', () => {
  it('accepts a body exactly at the limit and refuses one level more', () => {
    expect(jsonDeeperThan(nested(32), 64)).toBe(false); // 32 × (object + array) = 64 levels
    expect(jsonDeeperThan(`[${nested(32)}]`, 64)).toBe(true);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: '[[[[{{{{ \\" [[[[', t: '"{{{{' });
    expect(jsonDeeperThan(text, 1)).toBe(false);
  });

  it('refuses the probe’s 10,000-level body without parsing it', () => {
    expect(jsonDeeperThan('{"a":'.repeat(10_000), 64)).toBe(true);
    expect(jsonDeeperThan('['.repeat(100_000), 64)).toBe(true);
  });

  it('every real matter definition is far below the limit (depth 10 at most)', () => {
    expect(jsonDeeperThan(JSON.stringify({ a: { b: [{ c: { d: [1, 2, { e: 'x' }] } }] } }), 10)).toBe(false);
  });
});
