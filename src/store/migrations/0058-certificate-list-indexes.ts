import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';
import { createIndexes, type IndexList } from './indexes.js';

/**
 * A holder's certificates (GET /v1/certificates for an enterprise or person, their archive page) and a department's
 * (its admins' list) are read newest-last in (issued_at, id) order. With only the (issued_at, id) index, SQLite walked
 * it from the start and filtered by holder or issuer — every certificate ever issued, for each page of one holder's
 * few. These indexes lead with the holder or issuer and keep the order, so a page is a seek and a short read.
 * `test/integration/store/certificate-list-plan.test.ts` reads SQLite's plan for both.
 */
export const CERTIFICATE_LIST_INDEXES: IndexList = [
  ['certificates_holder_issued', 'certificates', ['holder_code', 'issued_at', 'id']],
  ['certificates_issuer_issued', 'certificates', ['issuer_code', 'issued_at', 'id']],
];

export function certificateListIndexes(_ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createIndexes(db, CERTIFICATE_LIST_INDEXES);
    },
  };
}
