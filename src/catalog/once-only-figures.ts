/**
 * The reform's catalog figures (监督管理考核), from the matter definitions alone: how each material is obtained
 * (证照共享 / 数据核验 / 材料复用 / 业务协同 / 告知承诺 / upload, and forms the system generates), which fields the
 * system fills (免填) and which the applicant types, and whether a situation — or the whole matter — needs no
 * material from the applicant at all (零材料). `npm run rules -- stats`, `GET /v1/stats` and the admin page all
 * read these functions, so the three never disagree. Pure.
 */
import type { Acquisition, FieldDef, Material, MatterDef } from './types.js';

/**
 * Where a field's value comes from: a data source (数源), the signed-in identity (统一身份认证: the applicant's own
 * code), an answer the applicant chose in the guide, or typed into the form. Only `typed` is 填写; the rest is 免填.
 */
export type FieldOrigin = 'data-source' | 'identity' | 'answer' | 'typed';

/** The acquisitions a material can count under, in the catalog's order of preference, plus 系统生成. */
export const ACQUISITIONS = ['证照共享', '数据核验', '材料复用', '业务协同', '告知承诺', 'upload', '系统生成'] as const satisfies readonly Acquisition[];

export interface OnceOnlyFigures {
  matter: string;
  name: string;
  materials: {
    total: number;
    /** Materials the applicant never uploads per filing: everything but `upload` (材料复用 = submitted once). */
    onceOnly: number;
    /** By the first acquisition that applies (the catalog's preference). */
    byAcquisition: Record<(typeof ACQUISITIONS)[number], number>;
  };
  fields: {
    total: number;
    /** 免填: not typed (data source, identity or a guide answer). */
    prefilled: number;
    typed: number;
    byOrigin: Record<FieldOrigin, number>;
    /** Pre-filled fields the applicant may type when the source cannot answer (never a blocked filing). */
    withTypedFallback: number;
    /** Ids of the typed fields, for the guide and the README. */
    typedFields: string[];
  };
  situations: { total: number; zeroMaterial: number };
  /** 零材料: in every situation, nothing is uploaded or brought (no upload, no first-time 材料复用). */
  zeroMaterial: boolean;
}

export interface CityWideFigures {
  matters: number;
  materials: { total: number; onceOnly: number; byAcquisition: OnceOnlyFigures['materials']['byAcquisition'] };
  fields: { total: number; prefilled: number; typed: number };
  situations: { total: number; zeroMaterial: number };
  zeroMaterialMatters: number;
}

/**
 * The seed's own figures for the reform (issue 19): 2270 of the 2611 standard materials are once-only (87 %) and
 * 商品房预售许可 has 16 of its 17 fields 免填. 2611 materials is sourced (REFERENCE.md §0.1 [S]); 2270 and the 16 of 17
 * are the seed's statements, not found in a stored public source.
 */
export const SEED_FIGURES = {
  materials: { onceOnly: 2270, total: 2611 },
  presaleFields: { matter: 'commercial-housing-presale', prefilled: 16, total: 17 },
} as const;

export function fieldOrigin(def: Pick<MatterDef, 'lookups'>, f: FieldDef): FieldOrigin {
  if (f.prefill) return 'data-source';
  const root = (f.from ?? '').split('.')[0]!;
  if (root === 'applicant') return 'identity';
  if (root === 'answers') return 'answer';
  if (def.lookups.some((l) => l.id === root)) return 'data-source';
  return 'typed';
}

/**
 * The acquisition a material counts under: its first one that can apply at all. 证照共享 needs the 电子证照库
 * (`e-license`) lookup and 数据核验 a lookup, as in guidance; 材料复用 counts as such (the material is submitted once
 * and reused afterwards).
 */
export function materialAcquisition(def: Pick<MatterDef, 'lookups'>, m: Material): (typeof ACQUISITIONS)[number] {
  const source = m.lookup ? def.lookups.find((l) => l.id === m.lookup)?.source : undefined;
  for (const how of m.acquisition) {
    if (how === '证照共享' && source !== 'e-license') continue;
    if (how === '数据核验' && !source) continue;
    return how;
  }
  return 'upload';
}

/** Whether an acquisition leaves the applicant nothing to submit in a filing (a first-time 材料复用 is an upload). */
function submitsNothing(how: (typeof ACQUISITIONS)[number]): boolean {
  return how !== 'upload' && how !== '材料复用';
}

export function onceOnlyFigures(def: MatterDef): OnceOnlyFigures {
  const byAcquisition = Object.fromEntries(ACQUISITIONS.map((a) => [a, 0])) as OnceOnlyFigures['materials']['byAcquisition'];
  const how = new Map(def.materials.map((m) => [m.id, materialAcquisition(def, m)]));
  for (const a of how.values()) byAcquisition[a]++;
  const byOrigin: Record<FieldOrigin, number> = { 'data-source': 0, identity: 0, answer: 0, typed: 0 };
  const typedFields: string[] = [];
  for (const f of def.fields) {
    const o = fieldOrigin(def, f);
    byOrigin[o]++;
    if (o === 'typed') typedFields.push(f.id);
  }
  const zeroSituations = def.situations.filter((s) =>
    def.materials.filter((m) => !m.situations || m.situations.includes(s.id)).every((m) => submitsNothing(how.get(m.id)!)),
  ).length;
  return {
    matter: def.code,
    name: def.name,
    materials: { total: def.materials.length, onceOnly: def.materials.length - byAcquisition.upload, byAcquisition },
    fields: {
      total: def.fields.length,
      prefilled: def.fields.length - byOrigin.typed,
      typed: byOrigin.typed,
      byOrigin,
      withTypedFallback: def.fields.filter((f) => f.prefill && f.fallback).length,
      typedFields,
    },
    situations: { total: def.situations.length, zeroMaterial: zeroSituations },
    zeroMaterial: def.situations.length > 0 && zeroSituations === def.situations.length,
  };
}

/** The catalog's figures summed over its matters (city-wide, as the seed reports them). */
export function cityWideFigures(figures: readonly OnceOnlyFigures[]): CityWideFigures {
  const byAcquisition = Object.fromEntries(ACQUISITIONS.map((a) => [a, 0])) as CityWideFigures['materials']['byAcquisition'];
  const out: CityWideFigures = {
    matters: figures.length,
    materials: { total: 0, onceOnly: 0, byAcquisition },
    fields: { total: 0, prefilled: 0, typed: 0 },
    situations: { total: 0, zeroMaterial: 0 },
    zeroMaterialMatters: 0,
  };
  for (const f of figures) {
    out.materials.total += f.materials.total;
    out.materials.onceOnly += f.materials.onceOnly;
    for (const a of ACQUISITIONS) byAcquisition[a] += f.materials.byAcquisition[a];
    out.fields.total += f.fields.total;
    out.fields.prefilled += f.fields.prefilled;
    out.fields.typed += f.fields.typed;
    out.situations.total += f.situations.total;
    out.situations.zeroMaterial += f.situations.zeroMaterial;
    if (f.zeroMaterial) out.zeroMaterialMatters++;
  }
  return out;
}

/** A share as a whole percentage, as the seed writes it (2270 / 2611 → 87); null when there is nothing to divide. */
export function percent(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 100);
}
