import type { Kysely } from 'kysely';
import { rawSql } from './raw.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';

/**
 * Named leases: one statement takes a free or expired lease, or renews the caller's own; of two processes asking
 * at once exactly one gets it (the upsert's WHERE is evaluated on the locked row).
 */
export function leaseRepository(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): Store['leases'] {
  const raw = rawSql(db, dialect);
  return {
    async acquire(name, holder, at, ttlMs) {
      const until = new Date(Date.parse(at) + ttlMs).toISOString();
      const rows = await raw.rows<{ holder: string }>(
        `insert into "leases" ("name", "holder", "until") values (?, ?, ?)
         on conflict ("name") do update set "holder" = excluded."holder", "until" = excluded."until"
         where "leases"."holder" = excluded."holder" or "leases"."until" <= ?
         returning "holder"`,
        [name, holder, until, at],
      );
      return rows[0]?.holder === holder;
    },
    async release(name, holder) {
      await raw.run(`delete from "leases" where "name" = ? and "holder" = ?`, [name, holder]);
    },
    async holder(name, at) {
      const rows = await raw.rows<{ holder: string }>(`select "holder" from "leases" where "name" = ? and "until" > ?`, [name, at]);
      return rows[0]?.holder ?? null;
    },
  };
}
