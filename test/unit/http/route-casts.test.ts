/**
 * Routes take their request types from their TypeBox schemas through the type provider (STYLE.md habit 12), so a
 * `request.body as …` cast in src/http/routes is either a schema that is missing or a reason written down here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROUTES = path.resolve(import.meta.dirname, '../../../src/http/routes');
/** `request.body as T`, `(request.body ?? {}) as T`, `request.params.id as T`: a cast of what the client sent. */
const CAST = /\b(?:request|req)\.(?:params|query|body|headers)\b[^;,]*?\s+as\s/;

/** Casts that stay, each with why no schema can type it; `text` is the matched line, trimmed. */
const ALLOWED: ReadonlyArray<{ file: string; text: string; reason: string }> = [];

interface Hit {
  file: string;
  line: number;
  text: string;
}

function casts(): Hit[] {
  const hits: Hit[] = [];
  for (const file of readdirSync(ROUTES).filter((f) => f.endsWith('.ts')).sort()) {
    readFileSync(path.join(ROUTES, file), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        if (CAST.test(text)) hits.push({ file, line: i + 1, text: text.trim() });
      });
  }
  return hits;
}

const allowed = (h: Hit) => ALLOWED.some((a) => a.file === h.file && a.text === h.text);

describe('request casts in src/http/routes', () => {
  const hits = casts();

  it('finds the route files it scans', () => {
    expect(readdirSync(ROUTES).filter((f) => f.endsWith('.ts')).length).toBeGreaterThan(10);
  });

  it('has no request.params/query/body/headers cast outside the allow-list', () => {
    const stray = hits.filter((h) => !allowed(h)).map((h) => `src/http/routes/${h.file}:${h.line}: ${h.text}`);
    expect(stray).toEqual([]);
  });

  it('allows only casts that still exist, each with a reason', () => {
    const stale = ALLOWED.filter((a) => !hits.some((h) => h.file === a.file && h.text === a.text)).map((a) => `${a.file}: ${a.text}`);
    expect(stale).toEqual([]);
    expect(ALLOWED.filter((a) => a.reason.trim().length < 10)).toEqual([]);
  });
});
