import { describe, expect, it } from 'vitest';
import { auditHash, chainVerifier, GENESIS_HASH, type AuditRecord } from '../../../src/authoring/audit-chain.js';

function chain(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body = { seq, at: `2026-11-26T00:00:0${seq}.000Z`, actor: 'A', dept: 'D', action: 'draft.create', subject: 'm', details: `{"n":${seq}}`, prevHash: prev };
    const hash = auditHash(body);
    out.push({ ...body, hash });
    prev = hash;
  }
  return out;
}

function verify(rows: AuditRecord[]) {
  const v = chainVerifier();
  rows.forEach((r) => v.add(r));
  return v.report();
}

describe('audit hash chain', () => {
  it('accepts an untouched chain and reports its head', () => {
    const rows = chain(4);
    expect(verify(rows)).toEqual({ ok: true, entries: 4, head: rows[3]!.hash, problems: [] });
  });

  it('names the entry whose content changed', () => {
    const rows = chain(4);
    rows[1] = { ...rows[1]!, actor: 'MALLORY' };
    expect(verify(rows).problems).toEqual([{ seq: 2, problem: expect.stringContaining('hash does not match') }]);
  });

  it('detects a changed entry whose hash was recomputed, at the next entry', () => {
    const rows = chain(4);
    const forged = { ...rows[1]!, actor: 'MALLORY' };
    rows[1] = { ...forged, hash: auditHash(forged) };
    expect(verify(rows).problems.map((p) => p.seq)).toEqual([3]);
  });

  it('detects a removed entry and an inserted one', () => {
    const rows = chain(4);
    expect(verify([rows[0]!, rows[2]!, rows[3]!]).problems.map((p) => p.seq)).toEqual([3, 3]);
    const extra = { ...rows[1]!, seq: 3 };
    expect(verify([rows[0]!, rows[1]!, extra, ...rows.slice(2)]).ok).toBe(false);
  });
});
