/**
 * `npm run rules -- stats` as text: the catalog's once-only figures per matter and city-wide, beside the seed's
 * (2270 of 2611 materials, 87 %; 商品房预售许可 16 of 17 fields). Pure formatting of {@link onceOnlyFigures}.
 */
import { ACQUISITIONS, SEED_FIGURES, percent, type CityWideFigures, type OnceOnlyFigures } from '../catalog/once-only-figures.js';

/** Terminal columns of a string: CJK and full-width characters take two. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u.test(ch) ? 2 : 1;
  return w;
}

const pad = (s: string, w: number, right = false) => {
  const fill = ' '.repeat(Math.max(0, w - displayWidth(s)));
  return right ? fill + s : s + fill;
};

const ratio = (part: number, whole: number) => `${part}/${whole} ${percent(part, whole) ?? '—'}%`;

/** The table, one row per matter plus the city-wide and seed rows, and a legend. */
export function formatOnceOnlyTable(figures: readonly OnceOnlyFigures[], city: CityWideFigures): string {
  const head = ['事项 matter', '材料', ...ACQUISITIONS, '只交一次 once-only', '字段', '数源', '身份/问答', '免填', '填写', '零材料'];
  const row = (f: OnceOnlyFigures): string[] => [
    f.name,
    String(f.materials.total),
    ...ACQUISITIONS.map((a) => String(f.materials.byAcquisition[a])),
    ratio(f.materials.onceOnly, f.materials.total),
    String(f.fields.total),
    String(f.fields.byOrigin['data-source']),
    String(f.fields.byOrigin.identity + f.fields.byOrigin.answer),
    ratio(f.fields.prefilled, f.fields.total),
    String(f.fields.typed),
    f.zeroMaterial ? '是' : `否 (${f.situations.zeroMaterial}/${f.situations.total} 情形)`,
  ];
  const rows = [
    head,
    ...figures.map(row),
    [
      `全市 city-wide (${city.matters} 事项)`,
      String(city.materials.total),
      ...ACQUISITIONS.map((a) => String(city.materials.byAcquisition[a])),
      ratio(city.materials.onceOnly, city.materials.total),
      String(city.fields.total),
      String(figures.reduce((n, f) => n + f.fields.byOrigin['data-source'], 0)),
      String(figures.reduce((n, f) => n + f.fields.byOrigin.identity + f.fields.byOrigin.answer, 0)),
      ratio(city.fields.prefilled, city.fields.total),
      String(city.fields.typed),
      `${city.zeroMaterialMatters} 事项 (${city.situations.zeroMaterial}/${city.situations.total} 情形)`,
    ],
    [
      '种子数据 seed',
      String(SEED_FIGURES.materials.total),
      ...ACQUISITIONS.map(() => ''),
      ratio(SEED_FIGURES.materials.onceOnly, SEED_FIGURES.materials.total),
      String(SEED_FIGURES.presaleFields.total),
      '',
      '',
      `${ratio(SEED_FIGURES.presaleFields.prefilled, SEED_FIGURES.presaleFields.total)} (商品房预售许可)`,
      String(SEED_FIGURES.presaleFields.total - SEED_FIGURES.presaleFields.prefilled),
      '',
    ],
  ];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => displayWidth(r[i] ?? ''))));
  // Counts right-aligned; names, ratios and the 零材料 verdict left-aligned.
  const last = head.length - 1;
  const textColumns = new Set([0, 2 + ACQUISITIONS.length, 6 + ACQUISITIONS.length, last]);
  const lines = rows.map((r) => r.map((c, i) => pad(c, widths[i]!, !textColumns.has(i))).join('  ').trimEnd());
  const presale = figures.find((f) => f.matter === SEED_FIGURES.presaleFields.matter);
  return [
    lines[0]!,
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...lines.slice(1, -2),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...lines.slice(-2),
    '',
    '材料 by the first acquisition that applies; 只交一次 = everything but upload (免交, 材料复用 submitted once, 告知承诺, 系统生成).',
    '字段: 数源 = pre-filled from a data source; 身份/问答 = the signed-in identity or an answer chosen in the guide (no data source,',
    'not typed); 免填 = all but typed; 填写 = typed into the form. 零材料 = no situation asks for any file.',
    ...(presale ? [`商品房预售许可: ${presale.fields.prefilled} of ${presale.fields.total} fields 免填 (seed: 16 of 17); typed: ${presale.fields.typedFields.join(', ')}.`] : []),
  ].join('\n');
}
