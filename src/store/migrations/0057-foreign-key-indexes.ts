import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';
import { createIndexes, type IndexList } from './indexes.js';

/**
 * An index led by the child columns of every foreign key. Without one, SQLite checks a foreign key by scanning the
 * child table: on every delete of a parent row (the retention purge) and — for the deferred key of
 * `idempotency_keys.application_id` — on every insert of a filing, because the intake claims the Idempotency-Key
 * before it inserts the filing the key points to, which leaves a deferred violation for the insert to look up.
 * Measured on this machine: a filing with a key took 143 µs with 1,000 keys stored, 698 µs with 20,000 and
 * 1,971 µs with 60,000 (the SQLite write lock held all the while); with the index 87–95 µs at every size.
 * PostgreSQL does not check children on insert, but deletes a parent the same way, so both engines get them.
 * `test/integration/store/foreign-key-indexes.test.ts` reads both catalogues for any foreign key left without one.
 */
export const FOREIGN_KEY_INDEXES: IndexList = [
  ['idempotency_keys_application', 'idempotency_keys', ['application_id']],
  ['outbox_application', 'outbox', ['application_id']],
  ['application_consents_consent', 'application_consents', ['consent_id']],
  ['matter_current_version', 'matter_current', ['matter', 'version']],
];

export function foreignKeyIndexes(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createIndexes(db, FOREIGN_KEY_INDEXES);
    },
  };
}
