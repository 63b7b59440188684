/**
 * Repository of the audit chain's signed checkpoints (migration 0050, issue 17). Signing and checking happen in
 * authoring/audit-checkpoint.ts; this file only stores and reads.
 */
import type { ColumnType, Kysely, Selectable } from 'kysely';
import type { AuditCheckpoint } from '../authoring/audit-checkpoint.js';
import type { AuthoringDatabase } from './authoring-store.js';
import type { Database } from './schema.js';

type Int64 = ColumnType<number | string, number, number>;

interface AuditCheckpointsTable {
  id: Int64;
  at: string;
  head_seq: Int64;
  head_hash: string;
  prev_digest: string;
  key_id: string;
  signature: string;
  timestamp_token: string | null;
}

interface CheckpointDatabase extends AuthoringDatabase {
  audit_checkpoints: AuditCheckpointsTable;
}

export interface AuditCheckpointStore {
  /** seq and hash of the audit log's last entry, null when the log is empty. */
  head(): Promise<{ seq: number; hash: string } | null>;
  /** The newest checkpoint, null before the first. */
  last(): Promise<AuditCheckpoint | null>;
  /** Every checkpoint, oldest first. */
  list(): Promise<AuditCheckpoint[]>;
  /** Stores a checkpoint; false when one with its id exists already (another process made it first). */
  insert(c: AuditCheckpoint): Promise<boolean>;
  /** Stored hashes of the given audit entries (absent seqs are missing from the map). */
  entryHashes(seqs: readonly number[]): Promise<Map<number, string>>;
}

function toCheckpoint(r: Selectable<AuditCheckpointsTable>): AuditCheckpoint {
  return {
    id: Number(r.id),
    at: r.at,
    headSeq: Number(r.head_seq),
    headHash: r.head_hash,
    prevDigest: r.prev_digest,
    keyId: r.key_id,
    signature: r.signature,
    timestampToken: r.timestamp_token,
  };
}

export function auditCheckpointRepository(database: Kysely<Database>): AuditCheckpointStore {
  const db = database as unknown as Kysely<CheckpointDatabase>;
  return {
    async head() {
      const row = await db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      return row ? { seq: Number(row.seq), hash: row.hash } : null;
    },
    async last() {
      const row = await db.selectFrom('audit_checkpoints').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
      return row ? toCheckpoint(row) : null;
    },
    async list() {
      const rows = await db.selectFrom('audit_checkpoints').selectAll().orderBy('id').execute();
      return rows.map(toCheckpoint);
    },
    async insert(c) {
      const r = await db
        .insertInto('audit_checkpoints')
        .values({
          id: c.id,
          at: c.at,
          head_seq: c.headSeq,
          head_hash: c.headHash,
          prev_digest: c.prevDigest,
          key_id: c.keyId,
          signature: c.signature,
          timestamp_token: c.timestampToken,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async entryHashes(seqs) {
      const out = new Map<number, string>();
      const unique = [...new Set(seqs)];
      for (let i = 0; i < unique.length; i += 500) {
        const rows = await db.selectFrom('audit_log').select(['seq', 'hash']).where('seq', 'in', unique.slice(i, i + 500)).execute();
        for (const r of rows) out.set(Number(r.seq), r.hash);
      }
      return out;
    },
  };
}

/** A revoked signing certificate (migration 0053, issue 17). */
export interface SigningCertificateRevocation {
  certificateSha256: string;
  subject: string;
  reason: string;
  revokedBy: string;
  revokedAt: string;
}

export interface SigningRevocationStore {
  /** Records the revocation; false when the certificate was revoked already. */
  revoke(r: SigningCertificateRevocation): Promise<boolean>;
  get(certificateSha256: string): Promise<SigningCertificateRevocation | null>;
  /** The revocations among these certificates (a signature's whole chain), in no particular order. */
  find(certificateSha256s: readonly string[]): Promise<SigningCertificateRevocation[]>;
}

interface SigningRevocationDatabase extends Database {
  signing_certificate_revocations: { certificate_sha256: string; subject: string; reason: string; revoked_by: string; revoked_at: string };
}

function toSigningRevocation(row: SigningRevocationDatabase['signing_certificate_revocations']): SigningCertificateRevocation {
  return { certificateSha256: row.certificate_sha256, subject: row.subject, reason: row.reason, revokedBy: row.revoked_by, revokedAt: row.revoked_at };
}

export function signingRevocationRepository(database: Kysely<Database>): SigningRevocationStore {
  const db = database as unknown as Kysely<SigningRevocationDatabase>;
  return {
    async revoke(r) {
      const res = await db
        .insertInto('signing_certificate_revocations')
        .values({ certificate_sha256: r.certificateSha256.toLowerCase(), subject: r.subject, reason: r.reason, revoked_by: r.revokedBy, revoked_at: r.revokedAt })
        .onConflict((oc) => oc.column('certificate_sha256').doNothing())
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async get(sha256) {
      const row = await db.selectFrom('signing_certificate_revocations').selectAll().where('certificate_sha256', '=', sha256.toLowerCase()).executeTakeFirst();
      return row ? toSigningRevocation(row) : null;
    },
    async find(sha256s) {
      const keys = [...new Set(sha256s.map((s) => s.toLowerCase()))];
      if (keys.length === 0) return [];
      const rows = await db.selectFrom('signing_certificate_revocations').selectAll().where('certificate_sha256', 'in', keys).execute();
      return rows.map(toSigningRevocation);
    },
  };
}
