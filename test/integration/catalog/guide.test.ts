/**
 * Guidance and pre-check over HTTP on the real stack (SQLite, Redis, data sources over real HTTP for the six
 * §4 sources, fixture backend for the others): the acceptance of issue 3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../../support/db-counts.js';
import { startStack, type Stack } from '../../support/stack.js';

const PARKING_OPERATOR = '91210103MA0W9J1K7P';
const GRAIN = '91210100MA0Q1A2B6L';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

async function guide(code: string, answers: Record<string, string>, sub?: string) {
  const headers: Record<string, string> = sub ? { authorization: `Bearer ${await stack.token(sub)}` } : {};
  const res = await stack.app.inject({ method: 'POST', url: `/v1/matters/${code}/guide`, headers, payload: { answers } });
  return { status: res.statusCode, body: res.json() };
}
const material = (body: any, name: RegExp) => body.materials.find((m: any) => name.test(m.name));

describe('POST /v1/matters/{code}/guide', () => {
  it('lists all five matters', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/matters' });
    // The five reference matters, beside the proofs and the other matters later issues add.
    expect(res.json().matters.map((m: any) => m.code)).toEqual(
      expect.arrayContaining(['commercial-housing-presale', 'disability-certificate', 'grain-purchase-filing', 'public-parking-filing', 'public-rental-housing']),
    );
  });

  it('parking, 机械式立体 + 自有: the special-equipment registration is verified from special-equipment', async () => {
    const { status, body } = await guide('public-parking-filing', { temporary: '否', lotForm: '机械式立体', tenure: '自有产权' }, PARKING_OPERATOR);
    expect(status).toBe(200);
    expect(body.situation).toEqual({ id: 'S8', name: '机械式立体停车场（自有产权）' });
    expect(material(body, /特种设备使用登记证/)).toMatchObject({ how: '数据核验', exempt: true, status: 'verified', source: 'special-equipment', sourceName: '特种设备管理系统' });
    expect(material(body, /营业执照/)).toMatchObject({ how: '证照共享', exempt: true, status: 'verified', source: 'e-license' });
    expect(material(body, /场地权属/)).toMatchObject({ how: '数据核验', exempt: true, status: 'at-filing', source: 'real-estate' });
    expect(material(body, /租赁合同/)).toBeUndefined();
    expect(body.fields.find((f: any) => f.id === 'operatorName')).toMatchObject({ prefill: { source: 'market-entity' }, value: '沈阳盛京智慧停车管理有限公司' });
    // The lot's details come from its 规划核实 record, read at filing by the 不动产权证号 the applicant types.
    expect(body.fields.find((f: any) => f.id === 'lotName')).toMatchObject({ prefill: { source: 'construction-project' }, typed: false, fallback: { path: 'form.lotName' }, status: 'at-filing' });
    expect(body.fields.find((f: any) => f.id === 'contactPhone')).toMatchObject({ prefill: null, origin: 'typed', typed: true });
  });

  it('parking, leased lot: asks for the lease to be uploaded', async () => {
    const { body } = await guide('public-parking-filing', { temporary: '否', lotForm: '机械式立体', tenure: '租赁或委托经营' }, PARKING_OPERATOR);
    expect(body.situation.id).toBe('S9');
    expect(material(body, /租赁合同/)).toMatchObject({ how: 'upload', exempt: false, status: 'upload' });
  });

  it('parking without answers: asks only the questions that apply', async () => {
    const { body } = await guide('public-parking-filing', {});
    expect(body.situation).toBeNull();
    expect(body.openQuestions.map((q: any) => q.id)).toEqual(['temporary']);
    const permanent = await guide('public-parking-filing', { temporary: '否' });
    expect(permanent.body.openQuestions.map((q: any) => q.id)).toEqual(['lotForm', 'tenure']);
    const temporary = await guide('public-parking-filing', { temporary: '是' });
    expect(temporary.body.situation.id).toBe('S10');
  });

  it('grain, 自有: the real-estate certificate is exempt by verification; 租赁: the lease, by commitment', async () => {
    const owned = await guide('grain-purchase-filing', { filingType: '首次', storageSource: '自有' }, GRAIN);
    expect(material(owned.body, /不动产权证书/)).toMatchObject({ how: '数据核验', exempt: true, source: 'real-estate' });
    expect(material(owned.body, /租赁合同/)).toBeUndefined();
    const leased = await guide('grain-purchase-filing', { filingType: '首次', storageSource: '租赁' }, GRAIN);
    expect(material(leased.body, /不动产权证书/)).toBeUndefined();
    expect(material(leased.body, /租赁合同/)).toMatchObject({ how: '告知承诺', status: 'commitment' });
    expect(material(leased.body, /租赁合同/).commitment).toContain('租赁合同真实有效');
  });

  it('answers from data what a source can, for an authenticated applicant only', async () => {
    const anonymous = await guide('public-rental-housing', { preference: '均可' });
    expect(anonymous.body.openQuestions.map((q: any) => q.id)).toEqual(['category']);
    const known = await guide('public-rental-housing', { preference: '均可' }, '210104198503150024');
    expect(known.body.answeredFromData).toEqual([{ question: 'category', answer: '低保家庭', source: 'civil-affairs' }]);
    expect(known.body.situation.id).toBe('S1');
    expect(known.body.followUps.map((f: any) => f.id)).toEqual(['public-notice', 'rental-subsidy']);
    const disability = await guide('disability-certificate', { relation: '本人' }, '410102199008080056');
    expect(disability.body.answers.residence).toBe('居住证持有人');
  });

  it('logs every data read it makes, for no application', async () => {
    const before = await countRows(stack, 'data_access_log');
    await guide('public-parking-filing', { temporary: '否', lotForm: '地面露天', tenure: '自有产权' }, PARKING_OPERATOR);
    expect(await countRows(stack, 'data_access_log')).toBeGreaterThan(before);
    expect(await countRows(stack, 'data_access_log', { application_id: null })).toBeGreaterThan(0);
  });

  it('refuses answers that are not options, and unknown matters', async () => {
    expect((await guide('public-parking-filing', { lotForm: '空中' })).status).toBe(400);
    expect((await guide('no-such-matter', {})).status).toBe(404);
  });
});

describe('POST /v1/matters/{code}/precheck', () => {
  // A lot with no 规划核实 record: the typed values decide, as before issue 19.
  const parkingForm = {
    contactPhone: '13900000001',
    lotName: '盛京文艺路停车场',
    lotAddress: '沈阳市沈河区文艺路33号',
    lotRegionCode: '210103',
    realEstateCertNo: '辽(2019)沈阳市不动产权第0200006号',
    spaces: { total: 120, small: 116, large: 4, accessible: 3, charging: 20, mechanical: 80 },
  };
  const precheck = async (code: string, payload: object, sub: string) =>
    stack.app.inject({ method: 'POST', url: `/v1/matters/${code}/precheck`, headers: { authorization: `Bearer ${await stack.token(sub)}` }, payload });

  it('gives the decision with reasons and the pre-filled form, and stores no application', async () => {
    const before = await countRows(stack, 'applications');
    const ok = await precheck('public-parking-filing', { answers: { temporary: '否', lotForm: '地面露天', tenure: '自有产权' }, form: { ...parkingForm, spaces: { ...parkingForm.spaces, mechanical: 0 } } }, PARKING_OPERATOR);
    expect(ok.statusCode).toBe(200);
    expect(ok.json().decision).toEqual({ outcome: 'APPROVE', reasons: [] });
    expect(ok.json().form.find((f: any) => f.id === 'operatorName')).toMatchObject({ value: '沈阳盛京智慧停车管理有限公司', prefilledFrom: 'market-entity' });
    const bad = await precheck('public-parking-filing', { answers: { temporary: '否', lotForm: '地面露天', tenure: '自有产权' }, form: parkingForm }, PARKING_OPERATOR);
    expect(bad.json().decision.outcome).toBe('REJECT');
    expect(bad.json().decision.reasons.map((r: any) => r.rule)).toEqual(['mechanical-spaces-match-form']);
    expect(await countRows(stack, 'applications')).toBe(before);
  });

  it('validates like intake and needs an applicant of the accepted kind', async () => {
    expect((await precheck('public-parking-filing', { answers: { temporary: '否' }, form: parkingForm }, PARKING_OPERATOR)).statusCode).toBe(400);
    expect((await precheck('public-rental-housing', { answers: { category: '低保家庭', preference: '均可' }, form: { applicantName: 'x', contactPhone: '13700000001', members: [] } }, PARKING_OPERATOR)).statusCode).toBe(422);
    const anon = await stack.app.inject({ method: 'POST', url: '/v1/matters/public-parking-filing/precheck', payload: { answers: {}, form: {} } });
    expect(anon.statusCode).toBe(401);
  });
});
