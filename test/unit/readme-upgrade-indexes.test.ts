/**
 * The README's "Upgrading a city's database" lists, as CREATE INDEX CONCURRENTLY statements, the indexes that
 * migrations 0057–0059 build with a plain CREATE INDEX (which blocks writes on a large PostgreSQL table): the list
 * must be exactly the migrations' own definitions, so an operator who builds them beforehand builds the same indexes
 * the migrations then find.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FOREIGN_KEY_INDEXES } from '../../src/store/migrations/0057-foreign-key-indexes.js';
import { CERTIFICATE_LIST_INDEXES } from '../../src/store/migrations/0058-certificate-list-indexes.js';
import { DECISION_TIME_INDEXES } from '../../src/store/migrations/0059-decision-time-index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe("README: upgrading a city's database", () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf("### Upgrading a city's database");
  const section = readme.slice(start, readme.indexOf('\n## ', start));

  it('lists each index of migrations 0057–0059 as the migration defines it, and no other', () => {
    expect(start).toBeGreaterThan(0);
    const listed = [...section.matchAll(/^CREATE INDEX CONCURRENTLY IF NOT EXISTS (\w+) ON (\w+) \(([^)]*)\);$/gm)].map((m) => `${m[1]} ${m[2]} (${m[3]})`);
    const defined = [...FOREIGN_KEY_INDEXES, ...CERTIFICATE_LIST_INDEXES, ...DECISION_TIME_INDEXES].map(([name, table, columns]) => `${name} ${table} (${columns.join(', ')})`);
    expect(defined).toHaveLength(7);
    expect(listed).toEqual(defined);
  });
});
