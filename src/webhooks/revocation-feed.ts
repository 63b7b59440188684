/**
 * Loses no `certificate.revoked` (issue 17). A revocation is committed with `announced_at` null — the outbox row —
 * and the API announces it right after the commit; this periodic pass announces whatever the API did not (the
 * process died between commit and emit, the database or Redis failed there). Revocations younger than the grace
 * period are left to the API. Both paths may run for one revocation: the CloudEvents id `certificate.revoked/<id>`
 * makes the second write nothing.
 */
import type { Store } from '../store/types.js';
import { leaseTtl, type PassLeases } from '../queue/pass-lease.js';

export interface RevocationFeedDeps {
  store: Pick<Store, 'revocations'>;
  announce(revocation: { certificateId: string; revokedAt: string; reason: string }): Promise<unknown>;
  clock: () => Date;
  log: { warn(obj: object, msg: string): void };
  /** With many worker processes, one runs the pass at a time (src/queue/pass-lease.ts). */
  leases?: PassLeases;
}

export interface RevocationFeed {
  /** One pass; returns how many revocations it announced. */
  pollOnce(): Promise<number>;
  stop(): Promise<void>;
}

const BATCH = 100;
/** At most this many batches a pass; the rest waits for the next pass. */
const MAX_BATCHES = 20;

export function startRevocationFeed(deps: RevocationFeedDeps, opts: { intervalMs?: number; graceMs?: number } = {}): RevocationFeed {
  const intervalMs = opts.intervalMs ?? 2_000;
  const graceMs = opts.graceMs ?? 2_000;

  async function pollOnce(): Promise<number> {
    const before = new Date(deps.clock().getTime() - graceMs).toISOString();
    let announced = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const rows = await deps.store.revocations.unannounced(before, BATCH);
      let failed = 0;
      for (const r of rows) {
        try {
          await deps.announce(r);
          announced++;
        } catch (err) {
          // Stays in the outbox for the next pass; the others go on.
          failed++;
          deps.log.warn({ certificateId: r.certificateId, err: err instanceof Error ? err.message : String(err) }, 'certificate.revoked not announced; will retry');
        }
      }
      // A batch that failed anywhere would come back unchanged: wait for the next pass.
      if (rows.length < BATCH || failed > 0) break;
    }
    return announced;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = (deps.leases ? deps.leases.run('revocation-feed', leaseTtl(intervalMs), pollOnce) : pollOnce())
      .catch((err: unknown) => deps.log.warn({ err: String(err) }, 'revocation feed pass failed; will retry'))
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
