/**
 * OFD certificates (issue 15): one row per certificate, inserted once (concurrent first requests and a retried
 * issuance keep the first file), looked up by certificate or by the file's sha256 for POST /v1/verify.
 */
import type { Kysely, Selectable } from 'kysely';
import type { CertificateOfdTable, Database } from './schema.js';
import type { OfdDocument, Store } from './types.js';

function toDoc(row: Selectable<CertificateOfdTable>): OfdDocument {
  return { certificateId: row.certificate_id, sha256: row.sha256, bytes: new Uint8Array(row.bytes), suite: row.suite as OfdDocument['suite'], createdAt: row.created_at };
}

export function ofdRepository(db: Kysely<Database>): Store['ofd'] {
  const get = async (certificateId: string) => {
    const row = await db.selectFrom('certificate_ofd').selectAll().where('certificate_id', '=', certificateId).executeTakeFirst();
    return row ? toDoc(row) : null;
  };
  return {
    async put(doc) {
      const res = await db
        .insertInto('certificate_ofd')
        .values({
          certificate_id: doc.certificateId,
          sha256: doc.sha256,
          bytes: Buffer.from(doc.bytes.buffer, doc.bytes.byteOffset, doc.bytes.byteLength),
          suite: doc.suite,
          created_at: doc.createdAt,
        })
        .onConflict((oc) => oc.column('certificate_id').doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0n) > 0) return { created: true, doc };
      const kept = await get(doc.certificateId);
      if (!kept) throw new Error(`OFD of ${doc.certificateId} neither inserted nor found`);
      return { created: false, doc: kept };
    },
    get,
    async certificateIdBySha256(sha256) {
      const row = await db.selectFrom('certificate_ofd').select('certificate_id').where('sha256', '=', sha256).executeTakeFirst();
      return row?.certificate_id ?? null;
    },
  };
}
