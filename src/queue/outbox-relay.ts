/**
 * Loses nothing between the database and Redis. The relay enqueues outbox rows the API did not get into the
 * queue (a crash between commit and enqueue); the reconciler re-enqueues applications that stayed queued or
 * processing too long (Redis lost its data, a worker died and its job vanished). Job ids dedupe both.
 */
import type { Store } from '../store/types.js';
import type { ApplicationQueue } from './application-queue.js';
import { leaseTtl, type PassLeases } from './pass-lease.js';

export interface RelayOptions {
  store: Pick<Store, 'outbox' | 'applications'>;
  queue: Pick<ApplicationQueue, 'enqueue'>;
  clock: () => Date;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  relayIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** An unfinished application older than this is enqueued again. */
  staleAfterMs?: number;
  /** Outbox rows younger than this are left to the API's own enqueue (default 2 s). */
  relayGraceMs?: number;
  /** With many worker processes: each pass runs in the one holding its lease (src/queue/pass-lease.ts). */
  leases?: PassLeases;
}

export interface Relay {
  /** One relay pass; returns how many rows were enqueued. */
  relayOnce(): Promise<number>;
  /** One reconciler pass; returns how many applications were enqueued again. */
  reconcileOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startRelay(opts: RelayOptions, autoStart = true): Relay {
  const relayEvery = opts.relayIntervalMs ?? 250;
  const reconcileEvery = opts.reconcileIntervalMs ?? 10_000;
  const staleAfter = opts.staleAfterMs ?? 30_000;
  const graceMs = opts.relayGraceMs ?? 2_000;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();

  async function relayOnce(): Promise<number> {
    let total = 0;
    // The API enqueues right after its commit and does not write again; rows younger than this are left to it.
    const before = new Date(opts.clock().getTime() - graceMs).toISOString();
    for (let round = 0; round < 50; round++) {
      const rows = await opts.store.outbox.pending(500, before);
      if (rows.length === 0) break;
      // A row whose application already left `queued` was enqueued by the API and taken by a worker.
      await opts.queue.enqueue([...new Set(rows.filter((r) => r.status === 'queued').map((r) => r.applicationId))]);
      await opts.store.outbox.markEnqueued(rows.map((r) => r.id), opts.clock().toISOString());
      total += rows.length;
      if (rows.length < 500) break;
    }
    return total;
  }

  async function reconcileOnce(): Promise<number> {
    const before = new Date(opts.clock().getTime() - staleAfter).toISOString();
    const ids = await opts.store.applications.listUnfinished(before, 1000);
    await opts.queue.enqueue(ids);
    if (ids.length > 0) opts.log.info({ count: ids.length }, 'reconciler re-enqueued unfinished applications');
    return ids.length;
  }

  const timers: NodeJS.Timeout[] = [];
  const loop = (fn: () => Promise<number>, every: number, what: string) => {
    const pass = opts.leases ? () => opts.leases!.run(what.replace(/ /g, '-'), leaseTtl(every), fn) : fn;
    const tick = () => {
      if (stopped) return;
      running = pass()
        .catch((err: unknown) => opts.log.warn({ err }, `${what} pass failed; will retry`))
        .finally(() => {
          if (!stopped) timers.push(setTimeout(tick, every));
        });
    };
    timers.push(setTimeout(tick, 0));
  };
  if (autoStart) {
    loop(relayOnce, relayEvery, 'outbox relay');
    loop(reconcileOnce, reconcileEvery, 'reconciler');
  }
  return {
    relayOnce,
    reconcileOnce,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await running;
    },
  };
}
