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
  return (await claimApplicationNumbers(trx, createdAt, prefix, 1))[0]!;
}

/**
 * Claims `count` consecutive numbers of one Beijing day in one statement (group commit at intake: a batch of
 * filings takes the day's row lock once, not once per filing).
 */
export async function claimApplicationNumbers(trx: Kysely<Database>, createdAt: string, prefix: string | undefined, count: number): Promise<string[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be ≥ 1, got ${count}`);
  const day = beijingDayKey(createdAt);
  const row = await trx
    .insertInto('application_number_days')
    .values({ day, last: count })
    .onConflict((oc) => oc.column('day').doUpdateSet({ last: sql<number>`"application_number_days"."last" + ${count}` }))
    .returning('last')
    .executeTakeFirstOrThrow();
  const last = Number(row.last);
  return Array.from({ length: count }, (_, i) => formatApplicationNumber(prefix ?? DEFAULT_NUMBER_PREFIX, day, last - count + 1 + i));
}
