import { sql, type Kysely, type Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * PostgreSQL tries to compress (pglz) every value over ~2 KB it stores out of line. Our binary columns hold files
 * that are compressed already — PDFs (deflated content, subset fonts), OFD (a ZIP), uploads (PDF, JPEG, PNG) — so
 * the attempt fails after reading the whole value, and costs the server about 1 ms of CPU per 50 KB PDF (measured:
 * 2,000 certificates of 49,825 bytes inserted in 2.37 s with the default storage, 0.27 s with EXTERNAL, same size on
 * disk). An approved filing stores two PDFs (the e-form in `documents`, the certificate in `certificates`), so that
 * was ~1.8 ms of PostgreSQL CPU per filing for nothing. EXTERNAL keeps the values out of line without trying to
 * compress them; rows written before keep their form. SQLite never compresses: nothing to do there.
 */
export const BINARY_FILE_COLUMNS: ReadonlyArray<readonly [table: string, column: string]> = [
  ['documents', 'bytes'],
  ['certificates', 'pdf'],
  ['archive_materials', 'bytes'],
  ['bundle_documents', 'bytes'],
  ['certificate_ofd', 'bytes'],
  ['federated_certificates', 'pdf'],
];

export function binaryStorage(ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (ctx.dialect !== 'postgres') return;
      for (const [table, column] of BINARY_FILE_COLUMNS) {
        await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} set storage external`.execute(db);
      }
    },
  };
}
