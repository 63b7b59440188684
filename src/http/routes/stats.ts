/**
 * Supervision figures: GET /v1/stats (role supervisor: every matter; admin: its own department's matters) and the
 * same figures as Prometheus gauges for /metrics. Computed from the database on each call, so every process
 * (API or worker) agrees and a restart loses nothing.
 */
import { Type } from 'typebox';
import { cityWideFigures, onceOnlyFigures, ACQUISITIONS, SEED_FIGURES, type OnceOnlyFigures } from '../../catalog/once-only-figures.js';
import { emptyFigureInputs, matterFigures, sumMeasured, type MatterFigures } from '../../domain/figures.js';
import { bundleFigures } from '../../bundles/figures.js';
import { isZeroMaterials } from '../../catalog/zero-materials.js';
import { AppError } from '../../errors.js';
import type { Principal } from '../auth.js';
import { requireRole } from '../auth.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';

const Count = Type.Integer({ minimum: 0 });
const Rate = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]);
const ByAcquisition = Type.Object(
  Object.fromEntries(ACQUISITIONS.map((a) => [a, Count])) as Record<(typeof ACQUISITIONS)[number], typeof Count>,
  { description: '材料 by the first acquisition that applies (证照共享 / 数据核验 / 材料复用 / 业务协同 / 告知承诺 / upload; 系统生成 = the form)' },
);
const CatalogMaterials = Type.Object({ total: Count, onceOnly: Count, onceOnlyRate: Rate, byAcquisition: ByAcquisition });
const CatalogFigures = Type.Object(
  {
    materials: CatalogMaterials,
    fields: Type.Object({
      total: Count,
      prefilled: Count,
      typed: Count,
      prefilledRate: Rate,
      byOrigin: Type.Object({ 'data-source': Count, identity: Count, answer: Count, typed: Count }),
      withTypedFallback: Count,
      typedFields: Type.Array(Type.String()),
    }),
    situations: Type.Object({ total: Count, zeroMaterial: Count }),
    zeroMaterial: Type.Boolean({ description: '零材料: no situation asks the applicant for any material' }),
  },
  { description: 'What the catalog (rules/) promises: materials once-only (免交/复用/承诺/系统生成), fields 免填 vs typed, 零材料' },
);
const Measured = Type.Object(
  {
    decided: Count,
    zeroUploadFilings: Count,
    zeroUploadRate: Rate,
    fields: Type.Object({ total: Count, typed: Count, prefilledRate: Rate, typedFallback: Count }),
    materialsByAcquisition: Type.Record(Type.String(), Count),
  },
  { description: 'What real filings got: share with zero uploads, fields actually pre-filled, typed fallbacks, materials by how they were obtained' },
);
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
  onceOnly: Measured,
  catalog: Type.Union([CatalogFigures, Type.Null()]),
  /** 零材料 (issue 16): the catalog needs no upload in any situation of this matter. */
  zeroMaterials: Type.Boolean(),
  /** Automatically decided filings none of whose materials was to be uploaded. */
  filingsWithoutUploads: Count,
});
const Timing = Type.Object({ count: Count, median: Type.Union([Type.Number(), Type.Null()]), p95: Type.Union([Type.Number(), Type.Null()]) });
/** 一件事 figures (issue 14): time to every member decided, members decided by rules vs by a person, fall-out. */
const BundleFiguresView = Type.Object({
  bundle: Type.String(),
  name: Type.String(),
  filings: Count,
  completed: Count,
  inProgress: Count,
  timeToAllDecidedMs: Timing,
  members: Type.Object({ autoDecided: Count, manualDecided: Count, awaitingPerson: Count }),
  perMember: Type.Array(
    Type.Object({
      matter: Type.String(),
      name: Type.String(),
      department: Type.String(),
      filed: Count,
      approved: Count,
      rejected: Count,
      manualReview: Count,
      inProgress: Count,
      autoDecided: Count,
      manualDecided: Count,
      topFalloutReasons: Type.Array(Type.Object({ rule: Type.String(), count: Count })),
    }),
  ),
});
const StatsView = Type.Object({
  generatedAt: Type.String(),
  window: Type.Object({ from: Type.Union([Type.String(), Type.Null()]), to: Type.Union([Type.String(), Type.Null()]) }),
  matters: Type.Array(Figures),
  /** Summed over the matters listed (every matter for a supervisor: city-wide; an admin's department's otherwise). */
  totals: Type.Object({
    scope: Type.Union([Type.Literal('city-wide'), Type.Literal('department'), Type.Literal('matter')]),
    catalog: Type.Object({
      matters: Count,
      materials: CatalogMaterials,
      fields: Type.Object({ total: Count, prefilled: Count, typed: Count, prefilledRate: Rate }),
      situations: Type.Object({ total: Count, zeroMaterial: Count }),
      zeroMaterialMatters: Count,
    }),
    measured: Measured,
    /** Rules that most often kept the listed matters' filings from automatic approval, summed over them. */
    topFalloutReasons: Type.Array(Type.Object({ matter: Type.String(), rule: Type.String(), count: Count })),
  }),
  /** The seed's own figures, beside ours: 2270 of 2611 materials once-only; 商品房预售许可 16 of 17 fields 免填. */
  seed: Type.Object({
    materials: Type.Object({ onceOnly: Count, total: Count, onceOnlyRate: Rate }),
    presaleFields: Type.Object({ matter: Type.String(), prefilled: Count, total: Count, prefilledRate: Rate }),
  }),
  bundles: Type.Optional(Type.Array(BundleFiguresView)),
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
    bundle: Type.Optional(Type.String({ maxLength: 64, description: '一件事代码: that bundle\'s figures and its members\' matters' })),
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

const rate = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/** The catalog's once-only figures of a matter with their rates, as /v1/stats shows them. */
export function catalogView(f: OnceOnlyFigures) {
  return {
    materials: { ...f.materials, onceOnlyRate: rate(f.materials.onceOnly, f.materials.total) },
    fields: { ...f.fields, prefilledRate: rate(f.fields.prefilled, f.fields.total) },
    situations: f.situations,
    zeroMaterial: f.zeroMaterial,
  };
}

/** Figures for `matters` (all catalog matters when undefined), named from the catalog, with its once-only figures. */
export async function computeFigures(deps: Pick<HttpDeps, 'store' | 'catalog'>, filter: { matters?: string[]; from?: string; to?: string }) {
  const aggregates = await deps.store.figures.aggregate(filter);
  const withoutUploads = await deps.store.zeroUploads.count(filter);
  const byMatter = new Map(aggregates.map((a) => [a.matter, a]));
  const codes = filter.matters ?? [...new Set([...deps.catalog.matters.keys(), ...byMatter.keys()])].sort();
  return codes.map((code) => {
    const def = deps.catalog.get(code)?.def;
    const inputs = byMatter.get(code) ?? emptyFigureInputs(code);
    const f: MatterFigures = matterFigures(inputs);
    const catalog = def ? onceOnlyFigures(def) : null;
    return { ...f, name: def?.name ?? code, department: def?.department.name ?? '', catalog: catalog ? catalogView(catalog) : null, catalogFigures: catalog, fallout: inputs.fallout, zeroMaterials: def ? isZeroMaterials(def) : false, filingsWithoutUploads: withoutUploads[code] ?? 0 };
  });
}

/** Catalog and measured figures summed over the matters given, and the seed's figures beside them. */
export function totalsOf(figures: Awaited<ReturnType<typeof computeFigures>>, scope: 'city-wide' | 'department' | 'matter') {
  const c = cityWideFigures(figures.flatMap((f) => (f.catalogFigures ? [f.catalogFigures] : [])));
  return {
    totals: {
      scope,
      catalog: {
        matters: c.matters,
        materials: { ...c.materials, onceOnlyRate: rate(c.materials.onceOnly, c.materials.total) },
        fields: { ...c.fields, prefilledRate: rate(c.fields.prefilled, c.fields.total) },
        situations: c.situations,
        zeroMaterialMatters: c.zeroMaterialMatters,
      },
      measured: sumMeasured(figures.map((f) => f.onceOnly)),
      // Rule ids are per matter (two matters may both have `entity-active`), so reasons stay paired with their matter.
      topFalloutReasons: figures
        .flatMap((f) => Object.entries(f.fallout).map(([rule, count]) => ({ matter: f.matter, rule, count })))
        .sort((x, y) => y.count - x.count || (x.matter + x.rule < y.matter + y.rule ? -1 : 1))
        .slice(0, 10),
    },
    seed: {
      materials: { ...SEED_FIGURES.materials, onceOnlyRate: rate(SEED_FIGURES.materials.onceOnly, SEED_FIGURES.materials.total) },
      presaleFields: { ...SEED_FIGURES.presaleFields, prefilledRate: rate(SEED_FIGURES.presaleFields.prefilled, SEED_FIGURES.presaleFields.total) },
    },
  };
}

/** The 零材料 totals over per-matter figures. */
export function zeroMaterialsCityWide(city: string, figures: ReadonlyArray<{ zeroMaterials: boolean; filings: number; filingsWithoutUploads: number; timeToDecisionMs: { count: number } }>) {
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

export function statsRoutes(app: TypeBoxApp, deps: HttpDeps): void {
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
      const q = request.query;
      const p = request.principal!;
      let matters = visibleMatters(deps, p);
      if (q.matter !== undefined) {
        if (!matters.includes(q.matter)) throw new AppError('MATTER_NOT_FOUND');
        matters = [q.matter];
      }
      // Bundles: a supervisor sees every bundle, an admin the bundles its department leads.
      const bundles = [...(deps.bundles?.bundles.values() ?? [])].filter((b) => p.role === 'supervisor' || b.def.owner.code === p.dept);
      const shown = q.bundle === undefined ? bundles : bundles.filter((b) => b.def.code === q.bundle);
      if (q.bundle !== undefined) {
        if (shown.length === 0) throw new AppError('BUNDLE_NOT_FOUND');
        const members = shown[0]!.def.members.map((m) => m.matter);
        matters = p.role === 'supervisor' ? members : members.filter((m) => matters.includes(m));
      }
      const from = toIso(q.from);
      const to = toIso(q.to);
      const window = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
      const figures = await computeFigures(deps, { matters, ...window });
      const names = (code: string) => {
        const def = deps.catalog.get(code)?.def;
        return { name: def?.name ?? code, department: def?.department.name ?? '' };
      };
      return {
        generatedAt: deps.clock().toISOString(),
        window: { from: from ?? null, to: to ?? null },
        matters: figures.map(({ catalogFigures: _c, fallout: _f, ...f }) => f),
        ...totalsOf(figures, q.matter !== undefined ? 'matter' : request.principal!.role === 'supervisor' ? 'city-wide' : 'department'),
        cityWide: zeroMaterialsCityWide(deps.config.federation.cityCode, figures),
        bundles: await Promise.all(shown.map(async (b) => bundleFigures(await deps.store.bundles.aggregate(b.def.code, window), names, b.def.name))),
      };
    },
  );
}

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The figures as Prometheus text (gauges: they are recomputed from the database on each scrape). */
export async function figuresExposition(deps: Pick<HttpDeps, 'store' | 'catalog' | 'sources'>, filter: { matters?: string[] } = {}): Promise<string> {
  const figures = await computeFigures(deps, filter);
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
  metric(
    'miaopi_matter_catalog_materials',
    'Catalog materials per matter by the first acquisition that applies (证照共享, 数据核验, 材料复用, 业务协同, 告知承诺, upload, 系统生成).',
    figures.flatMap((f) => Object.entries(f.catalog?.materials.byAcquisition ?? {}).map(([how, n]): [Record<string, string>, number] => [{ matter: f.matter, how }, n])),
  );
  metric(
    'miaopi_matter_catalog_fields',
    'Catalog fields per matter: 免填 (pre-filled: data source, identity or guide answer) or typed by the applicant.',
    figures.flatMap((f): Array<[Record<string, string>, number]> =>
      f.catalog ? [[{ matter: f.matter, kind: 'prefilled' }, f.catalog.fields.prefilled], [{ matter: f.matter, kind: 'typed' }, f.catalog.fields.typed]] : [],
    ),
  );
  metric('miaopi_matter_zero_upload_ratio', 'Share of automatically decided filings that uploaded no material.', figures.map((f) => [{ matter: f.matter }, f.onceOnly.zeroUploadRate]));
  metric('miaopi_matter_fields_fallback', 'Pre-filled fields that took the applicant’s typed value because their source could not answer.', figures.map((f) => [{ matter: f.matter }, f.onceOnly.fields.typedFallback]));
  // Data-source breakers belong to the whole city: only in the operators' (unfiltered) view.
  const breakers = filter.matters !== undefined ? [] : [...(deps.sources?.values() ?? [])].flatMap((s) => ('breaker' in s && typeof s.breaker === 'function' ? [[s.id, (s.breaker as () => { state: string })().state] as const] : []));
  metric(
    'miaopi_datasource_breaker_open',
    'Circuit breaker of each data source in this process: 1 open, 0.5 half-open, 0 closed.',
    breakers.map(([id, state]) => [{ source: id }, state === 'open' ? 1 : state === 'half-open' ? 0.5 : 0]),
  );
  return `${out.join('\n')}\n`;
}
