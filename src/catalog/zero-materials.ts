/**
 * 零材料 (issue 16): a matter is 零材料 when no situation needs the applicant to upload anything. A material needs an
 * upload when `upload` is in its acquisition and nothing the government holds comes before it in the order of
 * preference — only 材料复用, which is itself an earlier upload. 证照共享 / 数据核验 / 业务协同 / 告知承诺 /
 * 系统生成 before `upload` obtain it without the applicant's file; `upload` then is the fallback when the data is
 * not there, counted per filing by `GET /v1/stats` (filings that needed no upload).
 */
import type { Material, MatterDef } from './types.js';

/** Whether the applicant must provide a file for this material (see the module comment). */
export function needsUpload(m: Pick<Material, 'acquisition'>): boolean {
  const at = m.acquisition.indexOf('upload');
  if (at < 0) return false;
  return m.acquisition.slice(0, at).every((a) => a === '材料复用');
}

/** Situations (ids) in which no needed material needs an upload. */
export function zeroMaterialSituations(def: Pick<MatterDef, 'situations' | 'materials'>): string[] {
  return def.situations
    .filter((s) => def.materials.every((m) => (m.situations && !m.situations.includes(s.id)) || !needsUpload(m)))
    .map((s) => s.id);
}

/** 零材料: every situation of the matter can be done without uploading anything. */
export function isZeroMaterials(def: Pick<MatterDef, 'situations' | 'materials'>): boolean {
  return zeroMaterialSituations(def).length === def.situations.length;
}
