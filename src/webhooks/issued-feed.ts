/**
 * Watches the certificate register for newly issued certificates and emits `certificate.issued` for each,
 * whichever path issued it (the worker, an admin's manual approval in the API process, anything added later).
 * The worker also emits right after issuing (the fast path); both are idempotent, the CloudEvents id dedupes.
 *
 * A certificate's issue time is taken before its PDF is signed and its row committed, so rows can land behind
 * rows already seen. The feed keeps a cursor (the newest (issuedAt, id) it has read) and each poll reads, from the
 * (issued_at, id) index alone, what follows the cursor less `lateMs` — rows that land up to that much out of
 * order are emitted on the next poll. Every `sweepMs` it walks the whole window (`windowMs`) once more, so a row
 * that landed later still is emitted then. What it emitted within the window it remembers and does not emit
 * again.
 *
 * Before (until 2026-12): each poll read every certificate of the last 10 minutes in pages of 200, at most 20
 * pages — ~5 ms a poll, twice a second, at city load (0.5 ms of worker CPU per filing), and past 4,000
 * certificates in the window the newest were never reached.
 */
import type { Store } from '../store/types.js';
import { leaseTtl, type PassLeases } from '../queue/pass-lease.js';

export interface IssuedFeedDeps {
  store: Pick<Store, 'certificates'>;
  emit(certificateId: string): Promise<unknown>;
  /**
   * Whether any webhook listens for `certificate.issued` now. Asked once per poll that finds certificates not yet
   * emitted; when none does, they are passed over as emitting them would (no delivery, remembered as done) without
   * asking once per certificate. Absent: every certificate goes to `emit`.
   */
  listening?(): Promise<boolean>;
  clock: () => Date;
  log: { warn(obj: object, msg: string): void };
  /** With many worker processes, one polls at a time (src/queue/pass-lease.ts). */
  leases?: PassLeases;
}

export interface IssuedFeedOptions {
  /** Between polls. Default 500 ms. */
  intervalMs?: number;
  /** How far back the feed looks at all (and on start). Default 10 minutes. */
  windowMs?: number;
  /** How far behind the cursor each poll reads again. Default 15 s. */
  lateMs?: number;
  /** Between walks of the whole window. Default 60 s. */
  sweepMs?: number;
}

export interface IssuedFeed {
  pollOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Ids read per query. */
const PAGE = 500;
/** Queries per poll at most (100,000 certificates); the rest waits for the next poll. */
const MAX_PAGES = 200;

interface Position {
  issuedAt: string;
  id: string;
}

const later = (a: Position, b: Position) => a.issuedAt > b.issuedAt || (a.issuedAt === b.issuedAt && a.id > b.id);

export function startIssuedFeed(deps: IssuedFeedDeps, opts: IssuedFeedOptions = {}): IssuedFeed {
  const intervalMs = opts.intervalMs ?? 500;
  const windowMs = opts.windowMs ?? 10 * 60_000;
  const lateMs = Math.min(opts.lateMs ?? 15_000, windowMs);
  const sweepMs = opts.sweepMs ?? 60_000;
  /** Emitted ids and their issue times (ms): kept while within the window. */
  const emitted = new Map<string, number>();
  let cursor: Position | null = null;
  let lastSweep = Number.NEGATIVE_INFINITY;

  function forget(): void {
    emitted.clear();
    cursor = null;
  }

  async function pollOnce(): Promise<number> {
    const now = deps.clock().getTime();
    const windowStart = now - windowMs;
    for (const [id, at] of emitted) if (at < windowStart) emitted.delete(id);
    const sweep = cursor === null || now - lastSweep >= sweepMs;
    if (sweep) lastSweep = now;
    const fromMs = sweep ? windowStart : Math.max(windowStart, Date.parse(cursor!.issuedAt) - lateMs);
    let from: Position = { issuedAt: new Date(fromMs).toISOString(), id: '' };
    let count = 0;
    let listening: boolean | null = deps.listening ? null : true;
    for (let page = 0; page < MAX_PAGES; page++) {
      const rows = await deps.store.certificates.issuedAfter(from, PAGE);
      for (const c of rows) {
        if (emitted.has(c.id)) continue;
        listening ??= await deps.listening!();
        if (listening) await deps.emit(c.id);
        emitted.set(c.id, Date.parse(c.issuedAt));
        count++;
      }
      const last = rows[rows.length - 1];
      if (!last) break;
      from = last;
      if (cursor === null || later(last, cursor)) cursor = { issuedAt: last.issuedAt, id: last.id };
      if (rows.length < PAGE) break;
    }
    return count;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = (deps.leases ? deps.leases.run('issued-feed', leaseTtl(intervalMs), pollOnce) : pollOnce())
      .then((n) => {
        // Another process holds the feed: what this one remembers goes stale; a takeover starts with a full sweep.
        if (n === null) forget();
      })
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
