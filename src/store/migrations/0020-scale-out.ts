import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Issue 13: many API and worker processes on one database.
 *
 * - `leases`: who runs a periodic pass (outbox relay, reconciler, follow-ups, bundle sweep …) until when. A holder
 *   renews its lease each pass; another process takes it over only once it has expired.
 * - `serial_claims`: which filing holds which certificate number. The number is claimed in one transaction with the
 *   counter (`serials`), once per filing: a retried or doubly-run filing gets the same number again, so numbers are
 *   neither duplicated nor skipped.
 */
export function scaleOut(ctx: MigrationContext): Migration {
  const pg = ctx.dialect === 'postgres';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('until', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('serial_claims')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', pg ? 'bigint' : 'integer', (c) => c.notNull())
        .addColumn('claimant', 'text', (c) => c.notNull())
        .addColumn('claimed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('serial_claims_pk', ['name', 'value'])
        .addUniqueConstraint('serial_claims_claimant', ['name', 'claimant'])
        .execute();
    },
  };
}
