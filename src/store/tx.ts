import type { Kysely, Transaction } from 'kysely';

/**
 * Runs `fn` in a transaction — or, when `db` already is one (a filing's writes gathered by Store.transaction), in
 * that one: repositories that need atomicity of their own then join the caller's instead of nesting (which Kysely
 * refuses).
 */
export function withTransaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db as Transaction<DB>) : db.transaction().execute(fn);
}
