import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * 国密 track (issue 15): the OFD of a certificate (GB/T 33190, sealed per GB/T 38540), one per certificate,
 * kept once made (at issuance for `gm` departments, on first request for the others) and found by its sha256,
 * which is the register hash of the OFD file.
 */
export function gm(ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('certificate_ofd')
        .addColumn('certificate_id', 'text', (c) => c.primaryKey().references('certificates.id'))
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('bytes', ctx.dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
        .addColumn('suite', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('certificate_ofd_sha256').on('certificate_ofd').column('sha256').execute();
    },
  };
}
