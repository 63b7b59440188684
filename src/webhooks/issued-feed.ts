/**
 * Watches the certificate register for newly issued certificates and emits `certificate.issued` for each,
 * whichever path issued it (the worker, an admin's manual approval in the API process, anything added later).
 * The worker also emits right after issuing (the fast path); both are idempotent, the CloudEvents id dedupes.
 * Polls a window of recent issue times (not a single watermark: a certificate's issue time is taken before its
 * PDF is signed, so rows can land out of order) and remembers what it emitted within the window.
 */
import type { Store } from '../store/types.js';
import { leaseTtl, type PassLeases } from '../queue/pass-lease.js';

export interface IssuedFeedDeps {
  store: Pick<Store, 'certificates'>;
  emit(certificateId: string): Promise<unknown>;
  clock: () => Date;
  log: { warn(obj: object, msg: string): void };
  /** With many worker processes, one polls at a time (src/queue/pass-lease.ts). */
  leases?: PassLeases;
}

export interface IssuedFeed {
  pollOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startIssuedFeed(deps: IssuedFeedDeps, opts: { intervalMs?: number; windowMs?: number } = {}): IssuedFeed {
  const intervalMs = opts.intervalMs ?? 500;
  const windowMs = opts.windowMs ?? 10 * 60_000;
  const emitted = new Map<string, number>();

  async function pollOnce(): Promise<number> {
    const now = deps.clock().getTime();
    for (const [id, at] of emitted) if (at < now - 2 * windowMs) emitted.delete(id);
    let after: { issuedAt: string; id: string } | undefined;
    let count = 0;
    for (let page = 0; page < 20; page++) {
      const rows = await deps.store.certificates.list({ issuedSince: new Date(now - windowMs).toISOString(), limit: 200, ...(after ? { after } : {}) });
      for (const c of rows) {
        if (emitted.has(c.id)) continue;
        await deps.emit(c.id);
        emitted.set(c.id, Date.parse(c.issuedAt));
        count++;
      }
      const last = rows[rows.length - 1];
      if (rows.length < 200 || !last) break;
      after = { issuedAt: last.issuedAt, id: last.id };
    }
    return count;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = (deps.leases ? deps.leases.run('issued-feed', leaseTtl(intervalMs), pollOnce) : pollOnce())
      .catch((err: unknown) => deps.log.warn({ err: String(err) }, 'issued-certificate feed poll failed; will retry'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, 0);
  return {
    pollOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
