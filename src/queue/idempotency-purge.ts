/**
 * Purges Idempotency-Keys past their expiry (IDEMPOTENCY_TTL_HOURS, issue 17): a periodic pass in every worker
 * process, run by the one holding the `idempotency-purge` lease. A key past its expiry that is not purged yet
 * already behaves as new at intake; purging only keeps the table small.
 */
import type { Store } from '../store/types.js';
import { leaseTtl, type PassLeases } from './pass-lease.js';

const BATCH = 1000;
/** At most this many batches a pass; the rest waits for the next pass. */
const MAX_BATCHES = 50;

/** Deletes expired keys in bounded batches; returns how many. */
export async function purgeExpiredIdempotencyKeys(store: Pick<Store, 'idempotency'>, at: Date): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await store.idempotency.purgeExpired(at.toISOString(), BATCH);
    total += n;
    if (n < BATCH) break;
  }
  return total;
}

export interface IdempotencyPurge {
  stop(): Promise<void>;
}

export function startIdempotencyPurge(
  deps: { store: Pick<Store, 'idempotency'>; leases: PassLeases; clock: () => Date; log: { warn(obj: Record<string, unknown>, msg: string): void } },
  everyMs: number,
): IdempotencyPurge {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = deps.leases
      .run('idempotency-purge', leaseTtl(everyMs), () => purgeExpiredIdempotencyKeys(deps.store, deps.clock()))
      .catch((err: unknown) => deps.log.warn({ err: String(err) }, 'idempotency-key purge failed; will retry'));
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
