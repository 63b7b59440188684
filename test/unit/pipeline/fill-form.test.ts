/**
 * 免填 with a typed fallback (issue 19): the form the rules read takes the sources' values over what was typed,
 * keeps the typed value where a source cannot answer, and a rule that needs a value neither gave is UNKNOWN — never a
 * FAIL, never a REJECT. A lookup over a list record picks the applicant's choice or the only candidate, never a guess.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/load-catalog.js';
import { createDataSources, loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { withPath } from '../../../src/domain/paths.js';
import { evaluateRules, formPathsOf, type Facts, type LookupFact } from '../../../src/pipeline/evaluate-rules.js';
import { fetchLookups, selectItem } from '../../../src/pipeline/fetch-lookups.js';
import { fillForm, missingFormValues } from '../../../src/pipeline/fill-form.js';
import { prefillFields } from '../../../src/pipeline/prefill-fields.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const registry = loadSourceRegistry(RULES_DIR);
const catalog = loadCatalog(RULES_DIR, new Set(registry.map((s) => s.id)));
const parking = catalog.get('public-parking-filing')!;
const presale = catalog.get('commercial-housing-presale')!;
const sources = createDataSources({ registry, urls: {}, rulesDir: RULES_DIR });

const found = (record: Record<string, unknown>): LookupFact => ({ status: 'found', key: 'k', record });
const unknown: LookupFact = { status: 'unknown', key: 'k', record: null };
const lot = { parking: { name: '记录中的名称', regionCode: '210103', lotForm: '地面露天', spaces: { total: 60, small: 58, large: 2, accessible: 2, charging: 6, mechanical: 0 } } };

describe('withPath', () => {
  it('sets a nested value on a copy, creating objects on the way and leaving the input alone', () => {
    const input = { a: { b: 1 }, keep: [1] };
    const out = withPath(input, 'a.c.d', 2);
    expect(out).toEqual({ a: { b: 1, c: { d: 2 } }, keep: [1] });
    expect(input).toEqual({ a: { b: 1 }, keep: [1] });
    expect(out.keep).toBe(input.keep);
  });
});

describe('fillForm', () => {
  it('puts the source’s values over the typed ones and keeps typed values where the source has none', () => {
    const typed = { contactPhone: '13900000001', lotName: '申请人写的名称', lotAddress: '申请人写的地址', spaces: { total: 1 } };
    const filled = fillForm(parking.def, typed, { project: found(lot) });
    expect(filled).toMatchObject({ lotName: '记录中的名称', lotRegionCode: '210103', lotAddress: '申请人写的地址', spaces: lot.parking.spaces });
    expect(typed.lotName).toBe('申请人写的名称');
    expect(fillForm(parking.def, filled, { project: found(lot) })).toEqual(filled);
  });

  it('leaves the typed form as it is when the source did not answer, and names what is still missing', () => {
    const typed = { contactPhone: '13900000001', lotName: '申请人写的名称' };
    const filled = fillForm(parking.def, typed, { project: unknown });
    expect(filled).toBe(typed);
    expect(missingFormValues(parking.def, filled)).toEqual(['lotAddress', 'lotRegionCode', 'spaces.total', 'spaces.small', 'spaces.large', 'spaces.accessible', 'spaces.charging', 'spaces.mechanical']);
  });
});

describe('prefillFields with a fallback', () => {
  it('marks a field the applicant filled in for a silent source, and one nobody filled', () => {
    const base = { applicant: { code: '91210103MA0W9J1K7P' }, answers: { lotForm: '地面露天' }, form: { lotName: '申请人写的名称' } };
    const fields = prefillFields(parking, base, { project: unknown });
    expect(fields.find((f) => f.id === 'lotName')).toMatchObject({ value: '申请人写的名称', fallback: { source: 'construction-project', status: 'typed' } });
    expect(fields.find((f) => f.id === 'lotName')!.fallback!.note).toContain('数源暂未答复');
    expect(fields.find((f) => f.id === 'lotAddress')).toMatchObject({ value: '—', fallback: { status: 'missing' } });
    expect(fields.find((f) => f.id === 'lotForm')).toMatchObject({ value: '地面露天', fallback: { status: 'typed' } });
    expect(fields.find((f) => f.id === 'lotName')!.prefilledFrom).toBeUndefined();
    // The USCC falls back to the signed-in identity, which nobody typed.
    expect(fields.find((f) => f.id === 'uscc')).toMatchObject({ value: '91210103MA0W9J1K7P', fallback: { status: 'identity' } });
    expect(fields.find((f) => f.id === 'uscc')!.fallback!.note).toContain('登录身份');
  });
});

describe('rules on the filled form', () => {
  it('knows which form paths each rule reads', () => {
    const spaces = parking.def.rules.find((r) => r.id === 'spaces-add-up')!;
    expect(formPathsOf(spaces).sort()).toEqual(['spaces', 'spaces.total']);
    const grainFacilities = catalog.get('grain-purchase-filing')!.def.rules.find((r) => r.forEach?.items.startsWith('form.'));
    expect(grainFacilities).toBeDefined();
    expect(formPathsOf(grainFacilities!)).toContain(grainFacilities!.forEach!.items.slice('form.'.length));
  });

  it('are UNKNOWN (never FAIL) when they need a value no source and no applicant gave, and decide on a typed one', async () => {
    const facts = (form: Record<string, unknown>): Facts => ({
      applicant: { code: '91210103MA0W9J1K7P', kind: 'organisation' },
      answers: { temporary: '否', lotForm: '地面露天', tenure: '自有产权' },
      form: { contactPhone: '13900000001', realEstateCertNo: '辽(2019)沈阳市不动产权第0200006号', ...form },
      today: '2026-11-26',
      register: { activeFiling: false },
      itemLookups: {},
    });
    const read = async (f: Facts) => {
      const l = await fetchLookups(parking, f, sources, { requester: 'test', applicationId: null, purpose: 'test' });
      return evaluateRules(parking, 'S1', { ...f, ...l.top, itemLookups: l.itemLookups });
    };
    const lacking = await read(facts({}));
    const byId = new Map(lacking.rules.map((r) => [r.id, r]));
    expect(byId.get('spaces-add-up')?.result).toBe('UNKNOWN');
    expect(byId.get('spaces-add-up')?.message).toContain('缺少泊位总数、小型车泊位数');
    expect(byId.get('lot-in-shenyang')?.result).toBe('UNKNOWN');
    expect(byId.get('site-registered')?.result).toBe('PASS');
    expect(lacking.decision.outcome).toBe('MANUAL');
    const typed = await read(facts({ lotRegionCode: '110101', spaces: { total: 60, small: 58, large: 2, accessible: 2, charging: 6, mechanical: 0 } }));
    expect(typed.rules.find((r) => r.id === 'lot-in-shenyang')?.result).toBe('FAIL');
    expect(typed.rules.find((r) => r.id === 'spaces-add-up')?.result).toBe('PASS');
    expect(typed.decision.outcome).toBe('REJECT');
  });
});

describe('selectItem', () => {
  const list = found({ projects: [{ code: 'A', status: '在建' }, { code: 'B', status: '在建' }, { code: 'C', status: '竣工' }] });
  const select = { items: 'record.projects', by: 'code', choice: 'form.code', where: { status: '在建' } };

  it('takes the chosen item, and a choice that is not a candidate is not found', () => {
    expect(selectItem(list, select, { form: { code: 'B' } })).toEqual({ status: 'found', key: 'k', record: { code: 'B', status: '在建' } });
    expect(selectItem(list, select, { form: { code: 'C' } }).status).toBe('not_found');
  });

  it('takes the only candidate without a choice, and with several keeps them for the guide instead of guessing', () => {
    const one = found({ projects: [{ code: 'A', status: '在建' }, { code: 'C', status: '竣工' }] });
    expect(selectItem(one, select, { form: {} }).record).toEqual({ code: 'A', status: '在建' });
    const several = selectItem(list, select, { form: {} });
    expect(several).toMatchObject({ status: 'unknown', record: null });
    expect(several.candidates?.map((c) => c.code)).toEqual(['A', 'B']);
    expect(selectItem(found({ projects: [] }), select, { form: {} }).status).toBe('not_found');
    expect(selectItem(unknown, select, { form: { code: 'A' } })).toBe(unknown);
  });

  it('makes the lookups keyed from the chosen item wait on it: unknown, without a read', async () => {
    const base = { applicant: { code: '91210104MA0Y1B2C40', kind: 'organisation' }, answers: {}, form: { contactPhone: '02422880000' } };
    const r = await fetchLookups(presale, base, sources, { requester: 'test', applicationId: null, purpose: 'test' });
    expect(r.top.project?.status).toBe('unknown');
    expect(r.top.survey?.status).toBe('unknown');
    expect(r.reads.map((x) => x.source)).not.toContain('housing-survey');
  });
});
