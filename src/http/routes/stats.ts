/**
 * Supervision figures: GET /v1/stats (role supervisor: every matter; admin: its own department's matters) and the
 * same figures as Prometheus gauges for /metrics. Computed from the database on each call, so every process
 * (API or worker) agrees and a restart loses nothing.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { matterFigures, type MatterFigures } from '../../domain/figures.js';
import { isZeroMaterials } from '../../catalog/zero-materials.js';
import { AppError } from '../../errors.js';
import type { Principal } from '../auth.js';
import { requireRole } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps } from '../types.js';

const Count = Type.Integer({ minimum: 0 });
const Figures = Type.Object({
  matter: Type.String(),
  name: Type.String(),
  department: Type.String(),
  filings: Count,
  outcomes: Type.Object({ approved: Count, rejected: Count, manualReview: Count, failed: Count, inProgress: Count }),
  autoApprovalRate: Type.Union([Type.Number(), Type.Null()]),
  timeToDecisionMs: Type.Object({ count: Count, median: Type.Union([Type.Number(), Type.Null()]), p95: Type.Union([Type.Number(), Type.Null()]) }),
  materials: Type.Object({ exempted: Count, reused: Count, uploaded: Count, committed: Count, generated: Count, missing: Count }),
  fields: Type.Object({ prefilled: Count, typed: Count }),
  topFalloutReasons: Type.Array(Type.Object({ rule: Type.String(), count: Count })),
  /** 零材料 (issue 16): the catalog needs no upload in any situation of this matter. */
  zeroMaterials: Type.Boolean(),
  /** Automatically decided filings none of whose materials was to be uploaded. */
  filingsWithoutUploads: Count,
});
const StatsView = Type.Object({
  generatedAt: Type.String(),
  window: Type.Object({ from: Type.Union([Type.String(), Type.Null()]), to: Type.Union([Type.String(), Type.Null()]) }),
  matters: Type.Array(Figures),
  /** 零材料 over the matters shown (city-wide for a supervisor): matters that need no upload, filings that needed none. */
  cityWide: Type.Object({
    city: Type.String(),
    matters: Count,
    zeroMaterialMatters: Count,
    filings: Count,
    decidedFilings: Count,
    filingsWithoutUploads: Count,
    /** filingsWithoutUploads / decidedFilings; null before any decision. */
    withoutUploadsRate: Type.Union([Type.Number(), Type.Null()]),
  }),
});
const ISO = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?Z)?$';
const StatsQuery = Type.Object(
  {
    matter: Type.Optional(Type.String({ maxLength: 64 })),
    from: Type.Optional(Type.String({ pattern: ISO, description: 'filings received at or after (UTC, YYYY-MM-DD or ISO-8601 Z)' })),
    to: Type.Optional(Type.String({ pattern: ISO, description: 'filings received before' })),
  },
  { additionalProperties: false },
);

/** Matters the principal may see figures of: every matter for a supervisor, its department's for an admin. */
function visibleMatters(deps: HttpDeps, p: Principal): string[] {
  const all = [...deps.catalog.matters.values()];
  return (p.role === 'supervisor' ? all : all.filter((m) => m.def.department.code === p.dept)).map((m) => m.def.code).sort();
}

function toIso(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  return s.length === 10 ? `${s}T00:00:00.000Z` : new Date(s).toISOString();
}

/** Figures for `matters` (all catalog matters when undefined), named from the catalog. */
export async function computeFigures(deps: Pick<HttpDeps, 'store' | 'catalog'>, filter: { matters?: string[]; from?: string; to?: string }) {
  const aggregates = await deps.store.figures.aggregate(filter);
  const withoutUploads = await deps.store.zeroUploads.count(filter);
  const byMatter = new Map(aggregates.map((a) => [a.matter, a]));
  const codes = filter.matters ?? [...new Set([...deps.catalog.matters.keys(), ...byMatter.keys()])].sort();
  return codes.map((code) => {
    const def = deps.catalog.get(code)?.def;
    const a = byMatter.get(code);
    const f: MatterFigures = matterFigures(
      a ?? {
        matter: code,
        filings: 0,
        byStatus: {},
        byOutcome: { APPROVE: 0, REJECT: 0, MANUAL: 0 },
        decisionMs: [],
        materials: { exempted: 0, reused: 0, uploaded: 0, committed: 0, generated: 0, missing: 0 },
        fieldsPrefilled: 0,
        fieldsTyped: 0,
        fallout: {},
      },
    );
    return { ...f, name: def?.name ?? code, department: def?.department.name ?? '', zeroMaterials: def ? isZeroMaterials(def) : false, filingsWithoutUploads: withoutUploads[code] ?? 0 };
  });
}

/** The 零材料 totals over per-matter figures. */
export function cityWideFigures(city: string, figures: ReadonlyArray<{ zeroMaterials: boolean; filings: number; filingsWithoutUploads: number; timeToDecisionMs: { count: number } }>) {
  const decided = figures.reduce((n, f) => n + f.timeToDecisionMs.count, 0);
  const without = figures.reduce((n, f) => n + f.filingsWithoutUploads, 0);
  return {
    city,
    matters: figures.length,
    zeroMaterialMatters: figures.filter((f) => f.zeroMaterials).length,
    filings: figures.reduce((n, f) => n + f.filings, 0),
    decidedFilings: decided,
    filingsWithoutUploads: without,
    withoutUploadsRate: decided === 0 ? null : without / decided,
  };
}

export function statsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const overseer = requireRole(deps.verifyToken, ['supervisor', 'admin']);
  app.get(
    '/v1/stats',
    {
      preHandler: overseer,
      schema: {
        summary: '改革成效数据 Per-matter figures: filings, outcomes, auto-approval rate, time to decision, 免交/复用/上传/承诺, 免填',
        tags: ['supervision'],
        security: [{ bearer: [] }],
        querystring: StatsQuery,
        response: { 200: StatsView, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const q = request.query as { matter?: string; from?: string; to?: string };
      let matters = visibleMatters(deps, request.principal!);
      if (q.matter !== undefined) {
        if (!matters.includes(q.matter)) throw new AppError('MATTER_NOT_FOUND');
        matters = [q.matter];
      }
      const from = toIso(q.from);
      const to = toIso(q.to);
      const figures = await computeFigures(deps, { matters, ...(from ? { from } : {}), ...(to ? { to } : {}) });
      return {
        generatedAt: deps.clock().toISOString(),
        window: { from: from ?? null, to: to ?? null },
        matters: figures,
        cityWide: cityWideFigures(deps.config.federation.cityCode, figures),
      };
    },
  );
}

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The figures as Prometheus text (gauges: they are recomputed from the database on each scrape). */
export async function figuresExposition(deps: Pick<HttpDeps, 'store' | 'catalog' | 'sources'>): Promise<string> {
  const figures = await computeFigures(deps, {});
  const out: string[] = [];
  const metric = (name: string, help: string, rows: Array<[Record<string, string>, number | null]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of rows) {
      if (value === null) continue;
      out.push(`${name}{${Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',')}} ${value}`);
    }
  };
  metric('miaopi_matter_filings', 'Filings received per matter.', figures.map((f) => [{ matter: f.matter }, f.filings]));
  metric(
    'miaopi_matter_outcomes',
    'Filings per matter by automatic outcome (approved, rejected, manual_review), failed and in progress.',
    figures.flatMap((f) =>
      (
        [
          ['approved', f.outcomes.approved],
          ['rejected', f.outcomes.rejected],
          ['manual_review', f.outcomes.manualReview],
          ['failed', f.outcomes.failed],
          ['in_progress', f.outcomes.inProgress],
        ] as const
      ).map(([outcome, n]): [Record<string, string>, number] => [{ matter: f.matter, outcome }, n]),
    ),
  );
  metric('miaopi_matter_filings_without_uploads', 'Automatically decided filings per matter that needed no upload (零材料 in practice).', figures.map((f) => [{ matter: f.matter }, f.filingsWithoutUploads]));
  metric('miaopi_matter_auto_approval_ratio', 'Share of automatically decided filings that were approved.', figures.map((f) => [{ matter: f.matter }, f.autoApprovalRate]));
  metric(
    'miaopi_matter_decision_seconds',
    'Time from receipt to automatic decision (nearest-rank quantiles).',
    figures.flatMap((f): Array<[Record<string, string>, number | null]> => [
      [{ matter: f.matter, quantile: '0.5' }, f.timeToDecisionMs.median === null ? null : f.timeToDecisionMs.median / 1000],
      [{ matter: f.matter, quantile: '0.95' }, f.timeToDecisionMs.p95 === null ? null : f.timeToDecisionMs.p95 / 1000],
    ]),
  );
  metric(
    'miaopi_matter_materials',
    'Materials per matter by how they were obtained: exempted (免交), reused (复用), uploaded, committed (承诺), generated, missing.',
    figures.flatMap((f) => Object.entries(f.materials).map(([how, n]): [Record<string, string>, number] => [{ matter: f.matter, how }, n])),
  );
  metric(
    'miaopi_matter_fields',
    'Form fields per matter: pre-filled from data sources (免填) or typed by the applicant.',
    figures.flatMap((f): Array<[Record<string, string>, number]> => [
      [{ matter: f.matter, kind: 'prefilled' }, f.fields.prefilled],
      [{ matter: f.matter, kind: 'typed' }, f.fields.typed],
    ]),
  );
  metric(
    'miaopi_matter_fallout_reasons',
    'Top rules keeping filings from automatic approval, per matter.',
    figures.flatMap((f) => f.topFalloutReasons.map((r): [Record<string, string>, number] => [{ matter: f.matter, rule: r.rule }, r.count])),
  );
  const breakers = [...(deps.sources?.values() ?? [])].flatMap((s) => ('breaker' in s && typeof s.breaker === 'function' ? [[s.id, (s.breaker as () => { state: string })().state] as const] : []));
  metric(
    'miaopi_datasource_breaker_open',
    'Circuit breaker of each data source in this process: 1 open, 0.5 half-open, 0 closed.',
    breakers.map(([id, state]) => [{ source: id }, state === 'open' ? 1 : state === 'half-open' ? 0.5 : 0]),
  );
  return `${out.join('\n')}\n`;
}
