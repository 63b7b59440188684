/**
 * The reform's figures are summed by the database, and each matter's median and 95th-percentile decision time is a
 * read at its rank (migration 0059) — instead of every figure row of the period read into the process on each
 * /v1/stats and /metrics call. Checked on both engines against the same figures computed here from the rows, over
 * the whole history, a window, and a list of matters; on SQLite the percentile read is a seek of the index.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { percentile } from '../../../src/domain/figures.js';
import type { Database } from '../../../src/store/schema.js';
import { sqliteDialect } from '../../../src/store/sqlite.js';
import type { FilingFigures, Store } from '../../../src/store/types.js';
import { testBackends } from '../../support/databases.js';

const backends = testBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const MATTERS = ['grain-purchase-filing', 'public-parking-filing', 'disability-certificate'];
const RULES = ['entity-registered', 'credit-clean', 'storage-capacity', 'seal-valid'];

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function figuresOf(n: number): FilingFigures[] {
  const r = rng(20261207);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const outcome = pick(['APPROVE', 'APPROVE', 'APPROVE', 'REJECT', 'MANUAL'] as const);
    const created = new Date(Date.UTC(2026, 11, 1) + Math.floor(r() * 6 * 86_400_000));
    const total = Math.floor(r() * 20);
    return {
      applicationId: `fig-${i}`,
      matter: pick(MATTERS),
      outcome,
      createdAt: created.toISOString(),
      decidedAt: new Date(created.getTime() + 1000).toISOString(),
      // Ties on purpose: the nearest rank must land on the same value as the sorted list does.
      decisionMs: Math.floor(r() * 40) * 25,
      fieldsPrefilled: Math.floor(r() * 10),
      fieldsTyped: Math.floor(r() * 5),
      fieldsFallback: Math.floor(r() * 2),
      fieldsTotal: total,
      falloutRules: outcome === 'APPROVE' ? [] : [...new Set([pick(RULES), pick(RULES)])],
    };
  });
}

/** What the figures were before: every row of the window read and folded here. */
function expected(rows: FilingFigures[], f: { matters?: string[]; from?: string; to?: string }) {
  const inWindow = rows.filter((x) => (!f.matters || f.matters.includes(x.matter)) && (!f.from || x.createdAt >= f.from) && (!f.to || x.createdAt < f.to));
  const out = new Map<string, { byOutcome: Record<string, number>; ms: number[]; prefilled: number; typed: number; fallback: number; total: number; countedTyped: number; fallout: Record<string, number> }>();
  for (const x of inWindow) {
    const a = out.get(x.matter) ?? { byOutcome: { APPROVE: 0, REJECT: 0, MANUAL: 0 }, ms: [], prefilled: 0, typed: 0, fallback: 0, total: 0, countedTyped: 0, fallout: {} };
    a.byOutcome[x.outcome]! += 1;
    a.ms.push(x.decisionMs);
    a.prefilled += x.fieldsPrefilled;
    a.typed += x.fieldsTyped;
    a.fallback += x.fieldsFallback;
    a.total += x.fieldsTotal;
    a.countedTyped += x.fieldsTyped;
    for (const rule of x.falloutRules) a.fallout[rule] = (a.fallout[rule] ?? 0) + 1;
    out.set(x.matter, a);
  }
  return [...out.entries()]
    .sort(([x], [y]) => (x < y ? -1 : 1))
    .map(([matter, a]) => {
      const sorted = [...a.ms].sort((x, y) => x - y);
      return {
        matter,
        byOutcome: a.byOutcome,
        decisionMs: { count: sorted.length, median: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) },
        fieldsPrefilled: a.prefilled,
        fieldsTyped: a.typed,
        fieldsFallback: a.fallback,
        fieldsCounted: { total: a.total, typed: a.countedTyped },
        fallout: a.fallout,
      };
    });
}

async function seed(store: Store, rows: FilingFigures[]): Promise<void> {
  for (const f of rows) {
    await store.applications.create({
      id: f.applicationId,
      matter: f.matter,
      matterVersion: '1',
      applicant: '91210100MA0Q1A2B6L',
      answers: {},
      form: {},
      consent: { dataSharing: true, sealAuthorization: true },
      bodyHash: 'h',
      idempotencyKey: null,
      createdAt: f.createdAt,
    });
    await store.figures.record(f, []);
  }
}

describe.each(backends.map((b) => [b.name, b] as const))('the reform figures on %s', (_name, backend) => {
  it('are the figures of every row, summed by the database, with exact nearest-rank percentiles', { timeout: 120_000 }, async () => {
    const store = await backend.open();
    const rows = figuresOf(360);
    await seed(store, rows);
    const windows = [{}, { from: '2026-12-02T12:00:00.000Z', to: '2026-12-05T00:00:00.000Z' }, { matters: MATTERS.slice(0, 2), from: '2026-12-03T00:00:00.000Z' }];
    for (const w of windows) {
      const got = (await store.figures.aggregate(w)).map((a) => ({
        matter: a.matter,
        byOutcome: a.byOutcome,
        decisionMs: a.decisionMs,
        fieldsPrefilled: a.fieldsPrefilled,
        fieldsTyped: a.fieldsTyped,
        fieldsFallback: a.fieldsFallback,
        fieldsCounted: a.fieldsCounted,
        fallout: a.fallout,
      }));
      const want = expected(rows, w);
      expect(want.length).toBeGreaterThan(1);
      expect(got, JSON.stringify(w)).toEqual(want);
    }
    await store.close();
  });
});

describe('the decision-time percentile on SQLite', () => {
  it('is a seek of the (matter, decision_ms, created_at) index, with the window read from the index', { timeout: 60_000 }, async () => {
    const db = backends.find((b) => b.name === 'sqlite')!.database();
    await db.open();
    const k = new Kysely<Database>({ dialect: sqliteDialect(db.options.sqlitePath) });
    const file = new BetterSqlite3(db.options.sqlitePath, { readonly: true });
    try {
      const q = k
        .selectFrom('application_figures')
        .select('decision_ms')
        .where('matter', '=', 'grain-purchase-filing')
        .where('created_at', '>=', '2026-12-01')
        .where('created_at', '<', '2026-12-08')
        .orderBy('decision_ms')
        .limit(1)
        .offset(100)
        .compile();
      const plan = (file.prepare(`explain query plan ${q.sql}`).all(...q.parameters) as Array<{ detail: string }>).map((p) => p.detail);
      expect(plan, plan.join(' | ')).toEqual(['SEARCH application_figures USING COVERING INDEX application_figures_matter_decision (matter=?)']);
    } finally {
      file.close();
      await k.destroy();
      await db.drop();
    }
  });
});
