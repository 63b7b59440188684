/**
 * Periodic passes (outbox relay, reconciler, awaited-result re-checks and follow-ups, bundle sweep, webhook sweep,
 * issued-certificate feed, revocation feed) run in every worker process, but each pass is done by one process at a
 * time: the one holding its lease in the database. The holder renews the lease on each pass; when it dies, another process takes
 * the lease over once it expires (DESIGN.md §8: never "only on node 1"). Passes stay idempotent, so an overlap
 * after a slow pass outlived its lease does no harm.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../store/types.js';

export interface PassLeases {
  /** Who this process is in the `leases` table. */
  readonly holder: string;
  /** Runs `pass` when this process holds (or could take) lease `name` for `ttlMs`; otherwise null without running it. */
  run<T>(name: string, ttlMs: number, pass: () => Promise<T>): Promise<T | null>;
  /** Gives up every lease this process took (on shutdown, so the others need not wait for expiry). */
  releaseAll(): Promise<void>;
}

export function passLeases(store: Pick<Store, 'leases'>, clock: () => Date, holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`): PassLeases {
  const taken = new Set<string>();
  return {
    holder,
    async run(name, ttlMs, pass) {
      if (!(await store.leases.acquire(name, holder, clock().toISOString(), ttlMs))) {
        taken.delete(name);
        return null;
      }
      taken.add(name);
      return pass();
    },
    async releaseAll() {
      const names = [...taken];
      taken.clear();
      await Promise.all(names.map((n) => store.leases.release(n, holder).catch(() => undefined)));
    },
  };
}

/** Lease time for a pass that runs every `everyMs`: two periods, at least 5 s, so the holder keeps it. */
export function leaseTtl(everyMs: number): number {
  return Math.max(5_000, 2 * everyMs);
}
