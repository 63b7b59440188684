/**
 * A data source that lists certificates this service issues answers with them first: the 残疾人证 issued a second ago is
 * on record for the next member, without waiting for the 残疾人证管理系统 to sync — but never for the card's own filing.
 */
import { describe, expect, it } from 'vitest';
import { cardRecord, withIssuedRecords } from '../../../src/data-sources/issued-records.js';
import { createFixtureSource } from '../../../src/data-sources/fixture.js';
import { bundleOfApplication, memberApplicationId } from '../../../src/bundles/member-id.js';
import type { CertificateRow } from '../../../src/store/types.js';

const KEY = '210104197203150028';
const cert: CertificateRow = {
  id: 'c1', applicationId: 'b1.0', matter: 'disability-certificate', number: '沈残证〔2026〕000001号', licenseId: 'x', holderCode: KEY, holderName: '韩梅',
  issuerCode: '11210100MB0E45674L', issuerName: '沈阳市残疾人联合会', subjectKey: KEY, issuedAt: '2026-12-01T00:00:00.000Z', validUntil: '2036-11-29', verifyCode: 'v', sha256: 'h', status: 'valid',
};
const register = { findValid: async (matter: string, key: string) => (matter === 'disability-certificate' && key === KEY ? cert : null) };
const source = withIssuedRecords(createFixtureSource({ id: 'disability-card', records: { '210105196812120037': { idNumber: '210105196812120037', cardNo: 'C', status: '有效', validUntil: '2030-05-09' } } }), {
  matter: 'disability-certificate',
  certificates: register,
  toRecord: cardRecord,
});
const ctx = (applicationId: string | null) => ({ requester: KEY, applicationId, purpose: 'test' });

describe('a source overlaid with the certificates issued here', () => {
  it('answers with a valid certificate issued here, in the source’s record shape', async () => {
    const r = await source.read(KEY, ctx('b1.1'));
    expect(r.status).toBe('found');
    expect(r.record).toMatchObject({ idNumber: KEY, cardNo: cert.number, status: '有效', validUntil: '2036-11-29' });
    expect(r.responseHash).toMatch(/^[0-9a-f]{64}$/);
  });
  it('reads the source itself for its own filing and for keys it issued nothing for', async () => {
    expect((await source.read(KEY, ctx('b1.0'))).status).toBe('not_found');
    expect((await source.read('210105196812120037', ctx('x'))).record).toMatchObject({ cardNo: 'C' });
  });
});

describe('member application ids', () => {
  it('name their bundle; ordinary ids name none', () => {
    const id = memberApplicationId('3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c', 7);
    expect(bundleOfApplication(id)).toBe('3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c');
    expect(bundleOfApplication('3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c')).toBeNull();
  });
});
