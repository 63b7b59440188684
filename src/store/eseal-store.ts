/**
 * E-seal use (issue 12): the audit log of sign requests and the development e-seal authority's seals. Part of the
 * one Kysely store, in its own file like the webhook repositories.
 */
import type { Kysely, Selectable } from 'kysely';
import { rawSql, valueRows } from './raw.js';
import type { Database, DevESealsTable, ESealSignLogTable } from './schema.js';
import type { DevSealRow, ESealSignEntry, Store } from './types.js';

function toEntry(r: Selectable<ESealSignLogTable>): ESealSignEntry {
  return {
    id: r.id,
    applicationId: r.application_id,
    subject: r.subject,
    sealId: r.seal_id,
    platform: r.platform,
    purpose: r.purpose,
    digestAlgorithm: r.digest_algorithm as ESealSignEntry['digestAlgorithm'],
    digest: r.digest,
    result: r.result,
    error: r.error,
    signatureSha256: r.signature_sha256,
    at: r.at,
  };
}

function toDevSeal(r: Selectable<DevESealsTable>): DevSealRow {
  return {
    code: r.code,
    sealId: r.seal_id,
    name: r.name,
    status: r.status as DevSealRow['status'],
    validUntil: r.valid_until,
    certificate: new Uint8Array(r.certificate),
    privateKey: new Uint8Array(r.private_key),
    createdAt: r.created_at,
  };
}

export function esealRepository(db: Kysely<Database>, dialect: Store['dialect'] = 'sqlite'): Store['eseals'] {
  const raw = rawSql(db, dialect);
  return {
    async recordSigns(entries) {
      if (entries.length === 0) return;
      await raw.run(
        `insert into "eseal_sign_log" ("id", "application_id", "subject", "seal_id", "platform", "purpose", "digest_algorithm", "digest", "result", "error", "signature_sha256", "at") values ${valueRows(entries.length, 12)} on conflict ("id") do nothing`,
        entries.flatMap((e) => [e.id, e.applicationId, e.subject, e.sealId, e.platform, e.purpose, e.digestAlgorithm, e.digest, e.result, e.error, e.signatureSha256, e.at]),
      );
    },
    async signLog(applicationId) {
      const rows = await db.selectFrom('eseal_sign_log').selectAll().where('application_id', '=', applicationId).orderBy('at').orderBy('id').execute();
      return rows.map(toEntry);
    },
    async devGet(code) {
      const rows = await raw.rows<Selectable<DevESealsTable>>(`select * from "dev_eseals" where "code" = ?`, [code]);
      return rows[0] === undefined ? null : toDevSeal(rows[0]);
    },
    async devPut(row) {
      // Inserted → this row is what is stored; else a concurrent enrolment won and its row is read back.
      const inserted = await raw.run(
        `insert into "dev_eseals" ("code", "seal_id", "name", "status", "valid_until", "certificate", "private_key", "created_at") values ${valueRows(1, 8)} on conflict ("code") do nothing`,
        [row.code, row.sealId, row.name, row.status, row.validUntil, Buffer.from(row.certificate), Buffer.from(row.privateKey), row.createdAt],
      );
      if (inserted > 0) return row;
      const rows = await raw.rows<Selectable<DevESealsTable>>(`select * from "dev_eseals" where "code" = ?`, [row.code]);
      return toDevSeal(rows[0]!);
    },
    async devSetStatus(code, status) {
      const r = await db.updateTable('dev_eseals').set({ status }).where('code', '=', code).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}
