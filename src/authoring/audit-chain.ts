/**
 * The audit log's hash chain: every entry's hash covers its own content and the previous entry's hash, so a
 * changed, removed or inserted row breaks the chain from that row on. Pure functions; the store appends and
 * reads, `npm run audit -- verify` checks.
 */
import { createHash } from 'node:crypto';

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** One entry as stored (details as the exact JSON text that was hashed). */
export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  dept: string | null;
  action: string;
  subject: string;
  details: string;
  prevHash: string;
  hash: string;
}

/** sha256 over an unambiguous encoding (a JSON array) of everything in the entry but its own hash. */
export function auditHash(e: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256')
    .update(JSON.stringify([e.seq, e.at, e.actor, e.dept, e.action, e.subject, e.details, e.prevHash]))
    .digest('hex');
}

export interface ChainProblem {
  seq: number;
  problem: string;
}

export interface ChainReport {
  ok: boolean;
  entries: number;
  /** Hash of the last entry: publish or store it elsewhere to detect truncation of the tail. */
  head: string;
  problems: ChainProblem[];
}

/** Incremental verifier: feed entries in seq order, then `report()`. */
export function chainVerifier(): { add(e: AuditRecord): void; report(): ChainReport } {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let entries = 0;
  const problems: ChainProblem[] = [];
  return {
    add(e) {
      entries++;
      if (e.seq !== expectedSeq) problems.push({ seq: e.seq, problem: `sequence gap: expected entry ${expectedSeq}, found ${e.seq} (entries removed or inserted)` });
      if (e.prevHash !== prev) problems.push({ seq: e.seq, problem: 'prev_hash does not match the previous entry’s hash (an earlier entry was changed, removed or inserted)' });
      const actual = auditHash(e);
      if (actual !== e.hash) problems.push({ seq: e.seq, problem: 'hash does not match the entry’s content (the entry was changed)' });
      // Continue from the stored hash so one changed row is reported once, not as a cascade.
      prev = e.hash;
      expectedSeq = e.seq + 1;
    },
    report() {
      return { ok: problems.length === 0, entries, head: prev, problems };
    },
  };
}
