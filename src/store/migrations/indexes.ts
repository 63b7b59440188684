import type { Kysely } from 'kysely';

/** Indexes a migration adds, as data: the migration builds them, and the README lists them for a CONCURRENTLY build. */
export type IndexList = ReadonlyArray<readonly [name: string, table: string, columns: readonly string[]]>;

/** Builds each index unless it exists (one an operator built beforehand with CREATE INDEX CONCURRENTLY is kept). */
export async function createIndexes(db: Kysely<unknown>, indexes: IndexList): Promise<void> {
  for (const [name, table, columns] of indexes) {
    await db.schema.createIndex(name).ifNotExists().on(table).columns([...columns]).execute();
  }
}
