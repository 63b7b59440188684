/**
 * Synthetic catalog at the seed's scale (REFERENCE.md §0.1: 2851 matters, 8539 situations, 2611 standard materials,
 * 4772 standard fields, 7383 data sources) for load and latency benchmarks. The five real matters are copied in,
 * and synthetic matters draw their materials, fields and sources from standard pools of those sizes, so the
 * totals match the seed. Deterministic for a given seed. Not a catalog anyone should run the service on.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadSourceRegistry } from '../data-sources/registry.js';

export interface Scale {
  matters: number;
  situations: number;
  materials: number;
  fields: number;
  sources: number;
}
export const SEED_SCALE: Scale = { matters: 2851, situations: 8539, materials: 2611, fields: 4772, sources: 7383 };
/** Just the real matters. */
export const SMALL_SCALE: Scale = { matters: 0, situations: 0, materials: 0, fields: 0, sources: 0 };

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const ACQ = [['证照共享', '数据核验'], ['数据核验'], ['材料复用', 'upload'], ['业务协同'], ['告知承诺'], ['upload']];
const TYPES = ['政府核发', '申请人自备', '第三方出具'];

/** Synthetic department codes: schema-valid shape, one per 40 matters (≤ 999 certificate types each). */
function deptCode(i: number): string {
  return `11210100MB${String(i).padStart(7, "0")}Y`;
}

export function generateCatalog(o: { outDir: string; rulesDir: string; scale: Scale; seed: number }): Record<string, number> {
  const rand = rng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  mkdirSync(path.join(o.outDir, 'matters'), { recursive: true });
  mkdirSync(path.join(o.outDir, 'schema'), { recursive: true });
  mkdirSync(path.join(o.outDir, 'demo-data'), { recursive: true });
  copyFileSync(path.join(o.rulesDir, 'schema', 'matter.schema.json'), path.join(o.outDir, 'schema', 'matter.schema.json'));
  const real = loadSourceRegistry(o.rulesDir);
  for (const s of real) copyFileSync(path.join(o.rulesDir, 'demo-data', `${s.id}.yaml`), path.join(o.outDir, 'demo-data', `${s.id}.yaml`));
  const realMatters = readdirSync(path.join(o.rulesDir, 'matters')).filter((f) => f.endsWith('.yaml'));
  for (const f of realMatters) copyFileSync(path.join(o.rulesDir, 'matters', f), path.join(o.outDir, 'matters', f));

  const synthSources = Math.max(0, o.scale.sources - real.length);
  const sources = [...real.map((s) => ({ ...s }))];
  for (let i = 0; i < synthSources; i++) {
    sources.push({ id: `syn-source-${i}`, name: `合成数源${i}`, owner: `合成部门${i % 97}`, keyType: 'uscc', timeoutMs: 2000 });
  }
  writeFileSync(path.join(o.outDir, 'data-sources.yaml'), stringify({ version: 1, sources }));

  const synthMatters = Math.max(0, o.scale.matters - realMatters.length);
  let situationsLeft = Math.max(synthMatters, o.scale.situations - 26);
  const used = { situations: 26, materials: new Set<number>(), fields: new Set<number>(), sources: new Set<string>(real.map((s) => s.id)) };
  for (let i = 0; i < synthMatters; i++) {
    const remaining = synthMatters - i;
    const nSit = i === synthMatters - 1 ? situationsLeft : Math.max(1, Math.min(situationsLeft - (remaining - 1), Math.round(situationsLeft / remaining + (rand() - 0.5) * 2)));
    situationsLeft -= nSit;
    used.situations += nSit;
    // Pool indices walk round-robin so that every standard material, field and source is used at least once.
    const mats = Array.from({ length: 3 + Math.floor(rand() * 3) }, (_, k) => (i * 3 + k) % o.scale.materials);
    const flds = Array.from({ length: 3 + Math.floor(rand() * 4) }, (_, k) => (i * 5 + k) % o.scale.fields);
    const srcs = Array.from({ length: 3 }, (_, k) => `syn-source-${(i * 3 + k) % Math.max(1, synthSources)}`);
    mats.forEach((m) => used.materials.add(m));
    flds.forEach((f) => used.fields.add(f));
    srcs.forEach((s) => used.sources.add(s));
    const options = Array.from({ length: nSit }, (_, k) => `情形选项${k + 1}`);
    const lookups = srcs.map((s, k) => ({ id: `l${k}`, source: s, key: 'applicant.code' }));
    const props: Record<string, unknown> = { contactPhone: { type: 'string', maxLength: 11, pattern: '^1[3-9][0-9]{9}$', title: '联系电话' } };
    const fields = flds.map((f, k) =>
      k % 2 === 0
        ? { id: `f${k}`, label: `标准字段${f}`, prefill: { lookup: `l${k % lookups.length}`, path: 'record.name' } }
        : ((props[`f${k}`] = { type: 'string', maxLength: 100, title: `标准字段${f}` }), { id: `f${k}`, label: `标准字段${f}`, from: `form.f${k}` }),
    );
    const dept = Math.floor(i / 40);
    const matter = {
      code: `syn-matter-${i}`,
      name: `合成事项${i}`,
      kind: pick(['行政许可', '行政备案', '公共服务', '行政确认']),
      department: { name: `合成部门${dept}`, code: deptCode(dept) },
      legalBasis: [`合成法规第${i}条`],
      nationalCodes: {},
      autoApprove: rand() < 0.7,
      applicantTypes: ['organisation'],
      consent: { dataSharing: true, sealAuthorization: true, purpose: `合成事项${i}审核` },
      questions: [{ id: 'q1', text: '办理情形', options }],
      situations: options.map((opt, k) => ({ id: `S${k + 1}`, name: `情形${k + 1}`, when: { q1: opt } })),
      materials: mats.map((m, k) => {
        const acq = pick(ACQ);
        return {
          id: `M${k + 1}`,
          name: `标准材料${m}`,
          type: pick(TYPES),
          acquisition: acq,
          ...(acq.includes('证照共享') || acq.includes('数据核验') || acq.includes('业务协同') ? { lookup: `l${k % lookups.length}` } : {}),
          ...(acq.includes('告知承诺') ? { commitment: '本单位承诺所报材料真实有效。' } : {}),
        };
      }),
      lookups,
      form: { type: 'object', additionalProperties: false, required: ['contactPhone'], properties: props },
      fields,
      rules: [
        { id: 'registered', requires: ['l0'], message: '未查到登记信息', basis: '合成法规', onFail: 'MANUAL', conditions: { all: [{ fact: 'l0', path: 'status', operator: 'equal', value: 'found' }] } },
        { id: 'phone', message: '联系电话格式不符', basis: '合成法规', onFail: 'MANUAL', conditions: { all: [{ fact: 'form', path: 'contactPhone', operator: 'present', value: true }] } },
      ],
      subjectKey: ['applicant.code'],
      output: {
        form: { title: `合成事项${i}申请表` },
        certificate: {
          title: `合成事项${i}证明`,
          numberPrefix: `合成${i}`,
          licenseTypeCode: `${deptCode(dept)}${String((i % 40) + 1).padStart(3, '0')}`,
          validity: null,
          lines: [{ label: '联系电话', from: 'form.contactPhone' }],
        },
      },
      tests: [{ name: '合成用例', applicant: '91210100MA0Q1A2B6L', answers: { q1: options[0] }, form: { contactPhone: '13800000000' }, expect: { outcome: 'MANUAL', failing: ['registered'] } }],
    };
    writeFileSync(path.join(o.outDir, 'matters', `syn-matter-${String(i).padStart(4, '0')}.yaml`), stringify(matter));
  }
  return {
    matters: realMatters.length + synthMatters,
    situations: used.situations,
    materials: used.materials.size,
    fields: used.fields.size,
    sources: sources.length,
  };
}
