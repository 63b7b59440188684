/** 零材料 as the catalog decides it (issue 16): a material needs an upload only when nothing before `upload` obtains it. */
import { describe, expect, it } from 'vitest';
import { isZeroMaterials, needsUpload, zeroMaterialSituations } from '../../../src/catalog/zero-materials.js';
import type { Material, Situation } from '../../../src/catalog/types.js';

describe('零材料', () => {
  it.each([
    [['upload'], true],
    [['材料复用', 'upload'], true],
    [['数据核验', 'upload'], false],
    [['告知承诺', 'upload'], false],
    [['业务协同', 'upload'], false],
    [['证照共享', '数据核验'], false],
    [['系统生成'], false],
  ] as const)('a material acquired by %j needs an upload: %s', (acquisition, expected) => {
    expect(needsUpload({ acquisition: [...acquisition] })).toBe(expected);
  });

  it('is 零材料 only when no situation needs an upload', () => {
    const situations: Situation[] = [
      { id: 'S1', name: 'a', when: { q: 'a' } },
      { id: 'S2', name: 'b', when: { q: 'b' } },
    ];
    const m = (id: string, acquisition: Material['acquisition'], only?: string[]): Material => ({ id, name: id, type: '申请人自备', acquisition, ...(only ? { situations: only } : {}) });
    const def = { situations, materials: [m('M1', ['数据核验', 'upload']), m('M2', ['upload'], ['S2'])] };
    expect(zeroMaterialSituations(def)).toEqual(['S1']);
    expect(isZeroMaterials(def)).toBe(false);
    expect(isZeroMaterials({ situations, materials: [m('M1', ['告知承诺'])] })).toBe(true);
  });
});
