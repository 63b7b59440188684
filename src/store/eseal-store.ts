/**
 * E-seal use (issue 12): the audit log of sign requests and the development e-seal authority's seals. Part of the
 * one Kysely store, in its own file like the webhook repositories.
 */
import type { Kysely, Selectable } from 'kysely';
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

export function esealRepository(db: Kysely<Database>): Store['eseals'] {
  return {
    async recordSigns(entries) {
      if (entries.length === 0) return;
      await db
        .insertInto('eseal_sign_log')
        .values(
          entries.map((e) => ({
            id: e.id,
            application_id: e.applicationId,
            subject: e.subject,
            seal_id: e.sealId,
            platform: e.platform,
            purpose: e.purpose,
            digest_algorithm: e.digestAlgorithm,
            digest: e.digest,
            result: e.result,
            error: e.error,
            signature_sha256: e.signatureSha256,
            at: e.at,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
    async signLog(applicationId) {
      const rows = await db.selectFrom('eseal_sign_log').selectAll().where('application_id', '=', applicationId).orderBy('at').orderBy('id').execute();
      return rows.map(toEntry);
    },
    async devGet(code) {
      const r = await db.selectFrom('dev_eseals').selectAll().where('code', '=', code).executeTakeFirst();
      return r === undefined ? null : toDevSeal(r);
    },
    async devPut(row) {
      await db
        .insertInto('dev_eseals')
        .values({
          code: row.code,
          seal_id: row.sealId,
          name: row.name,
          status: row.status,
          valid_until: row.validUntil,
          certificate: Buffer.from(row.certificate),
          private_key: Buffer.from(row.privateKey),
          created_at: row.createdAt,
        })
        .onConflict((oc) => oc.column('code').doNothing())
        .execute();
      const stored = await db.selectFrom('dev_eseals').selectAll().where('code', '=', row.code).executeTakeFirstOrThrow();
      return toDevSeal(stored);
    },
    async devSetStatus(code, status) {
      const r = await db.updateTable('dev_eseals').set({ status }).where('code', '=', code).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}
