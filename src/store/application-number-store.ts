import { sql, type Kysely } from 'kysely';
import { beijingDayKey, DEFAULT_NUMBER_PREFIX, formatApplicationNumber } from '../domain/application-number.js';
import type { Database } from './schema.js';

/**
 * Claims the next 申请编号 of the filing's Beijing day inside the caller's transaction. The upsert takes the day's
 * row lock on PostgreSQL (a concurrent filing waits on it until this transaction ends, then gets the next value);
 * SQLite's BEGIN IMMEDIATE already serialises writers. It rolls back with the filing, so a refused intake leaves
 * no gap.
 */
export async function claimApplicationNumber(trx: Kysely<Database>, createdAt: string, prefix: string | undefined): Promise<string> {
  const day = beijingDayKey(createdAt);
  const row = await trx
    .insertInto('application_number_days')
    .values({ day, last: 1 })
    .onConflict((oc) => oc.column('day').doUpdateSet({ last: sql<number>`"application_number_days"."last" + 1` }))
    .returning('last')
    .executeTakeFirstOrThrow();
  return formatApplicationNumber(prefix ?? DEFAULT_NUMBER_PREFIX, day, Number(row.last));
}
