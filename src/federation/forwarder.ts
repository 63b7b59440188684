/**
 * The outbox to peer city nodes, run by every worker process (rows are leased, so two processes never work one row
 * at once; forwarding is idempotent at the owner anyway):
 * - a filing received here for another city is forwarded to the owner until the owner accepts it (or refuses it
 *   after its own checks); a peer that is down delays the filing, with back-off, and never loses it;
 * - a forwarded filing mirrors the owner's status, decision and delivery, and the owner's signed certificate is
 *   copied once it verifies against the owner's pinned anchors and matches the hash the owner reports.
 * The peers' catalogs are fetched again every FEDERATION_CATALOG_TTL_SECONDS so intake can check filings for them.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import type { ApplicationStatus } from '../domain/types.js';
import type { FederatedFilingPatch, FederatedFilingRow, Store } from '../store/types.js';
import { verifyPdf } from '../verification/verify-pdf.js';
import type { Federation } from './federation.js';
import { PeerUnavailableError } from './peers.js';

export interface ForwarderDeps {
  store: Pick<Store, 'federation'>;
  federation: Pick<Federation, 'client' | 'peers' | 'catalog'>;
  config: Config['federation'];
  clock: () => Date;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface Forwarder {
  /** One pass over the due rows; returns how many were worked. */
  runOnce(): Promise<number>;
  /** Fetches every peer's catalog again; returns how many matters were stored. */
  refreshCatalogs(): Promise<number>;
  stop(): Promise<void>;
}

const LEASE_MS = 60_000;
const BATCH = 25;
const MAX_BACKOFF_MS = 5 * 60_000;
/** A filing in manual review at the owner, or a delivery on its way, is looked at less often. */
const SLOW_POLL_MS = 60_000;
const DELIVERY_DONE = new Set(['delivered', 'returned', 'cancelled']);

export function backoffMs(base: number, attempts: number): number {
  const exp = Math.min(MAX_BACKOFF_MS, base * 2 ** Math.max(0, attempts - 1));
  // Jitter so that many filings held by one outage do not all hit the peer in the same instant when it returns.
  return Math.round(exp * (0.9 + Math.random() * 0.2));
}

export function startForwarder(deps: ForwarderDeps, opts: { autoStart?: boolean } = {}): Forwarder {
  const { config } = deps;
  let stopped = false;
  const inflight = new Set<Promise<unknown>>();
  const timers: NodeJS.Timeout[] = [];

  const later = (ms: number) => new Date(deps.clock().getTime() + ms).toISOString();

  async function failedContact(row: FederatedFilingRow, err: Error): Promise<void> {
    const attempts = row.attempts + 1;
    const wait = backoffMs(config.retryBaseMs, attempts);
    deps.log.warn({ applicationId: row.id, city: row.city, attempts, retryInMs: wait, err: err.message }, 'peer not reached; retrying later');
    await deps.store.federation.updateFiling(row.id, { attempts, lastError: err.message.slice(0, 500), nextAttemptAt: later(wait), updatedAt: deps.clock().toISOString() });
  }

  async function forward(row: FederatedFilingRow): Promise<void> {
    const res = await deps.federation.client.forward(row.city, {
      originId: row.id,
      applicant: row.applicant,
      matter: row.matter,
      answers: row.answers,
      form: row.form,
      consent: row.consent,
      ...(row.delivery ? { delivery: row.delivery } : {}),
      submittedAt: row.createdAt,
    });
    const now = deps.clock().toISOString();
    if (res.accepted) {
      deps.log.info({ applicationId: row.id, city: row.city, remoteId: res.remoteId, attempts: row.attempts + 1 }, 'filing forwarded to the owning city');
      await deps.store.federation.updateFiling(row.id, { forwardStatus: 'forwarded', remoteId: res.remoteId, attempts: 0, lastError: null, nextAttemptAt: later(config.pollMs), updatedAt: now });
      return;
    }
    // The owner's own intake checks refused it (its catalog changed since this node checked the filing): final.
    deps.log.warn({ applicationId: row.id, city: row.city, code: res.code }, 'owning city refused the forwarded filing');
    const reasons = (res.errors.length > 0 ? res.errors : [{ path: '/', message: res.message }]).map((e) => ({
      rule: `owner-intake:${res.code}`,
      message: `${e.path} ${e.message}`.trim(),
      basis: `受理城市 ${row.city} 的受理校验 intake check of the owning city`,
      result: 'FAIL' as const,
    }));
    await deps.store.federation.updateFiling(row.id, {
      forwardStatus: 'refused',
      status: 'rejected',
      decision: { outcome: 'REJECT', reasons },
      decidedAt: now,
      settled: true,
      lastError: `${res.code}: ${res.message}`.slice(0, 500),
      updatedAt: now,
    });
  }

  async function mirror(row: FederatedFilingRow): Promise<void> {
    const remote = await deps.federation.client.filing(row.city, row.remoteId!);
    const patch: FederatedFilingPatch = {
      status: remote.status,
      decision: remote.decision,
      decidedAt: remote.decidedAt,
      certificate: remote.certificate,
      deliveryView: remote.delivery,
      attempts: 0,
      lastError: null,
      updatedAt: deps.clock().toISOString(),
    };
    let haveCertificate = true;
    if (remote.certificate) {
      const c = remote.certificate;
      if (!(await deps.store.federation.getCertificate(c.id))) {
        const pdf = await deps.federation.client.certificatePdf(row.city, c.id);
        const sha256 = createHash('sha256').update(pdf).digest('hex');
        if (sha256 !== c.sha256) throw new PeerUnavailableError(`certificate ${c.id} of ${row.city}: file sha256 ${sha256} is not the registered ${c.sha256}`);
        const anchors = await deps.federation.peers.anchors(row.city);
        const v = anchors ? verifyPdf(pdf, { roots: anchors.trust, now: deps.clock() }) : null;
        if (!v || v.indication !== 'TOTAL_PASSED') {
          throw new PeerUnavailableError(`certificate ${c.id} of ${row.city} does not verify against its pinned anchors (${v?.subIndication ?? 'no anchors'})`);
        }
        await deps.store.federation.putCertificate({ id: c.id, applicationId: row.id, city: row.city, holderCode: c.holder.code, summary: c, sha256, pdf, fetchedAt: deps.clock().toISOString() });
        deps.log.info({ applicationId: row.id, city: row.city, certificateId: c.id }, 'certificate of the owning city copied');
      }
    } else {
      haveCertificate = remote.status !== 'approved';
    }
    const final: ApplicationStatus[] = ['approved', 'rejected', 'failed'];
    const deliveryOpen = row.delivery !== null && remote.status === 'approved' && !DELIVERY_DONE.has(remote.delivery?.status ?? 'pending');
    const settled = final.includes(remote.status) && haveCertificate && !deliveryOpen;
    const slow = remote.status === 'manual_review' || deliveryOpen;
    await deps.store.federation.updateFiling(row.id, { ...patch, settled, nextAttemptAt: later(slow ? Math.max(config.pollMs, Math.min(SLOW_POLL_MS, config.pollMs * 20)) : config.pollMs) });
  }

  async function work(row: FederatedFilingRow): Promise<void> {
    try {
      if (row.forwardStatus === 'pending') await forward(row);
      else if (row.forwardStatus === 'forwarded' && row.remoteId) await mirror(row);
      else await deps.store.federation.updateFiling(row.id, { settled: true, updatedAt: deps.clock().toISOString() });
    } catch (err) {
      await failedContact(row, err instanceof Error ? err : new Error(String(err)));
    }
  }

  async function runOnce(): Promise<number> {
    const rows = await deps.store.federation.claimDue(deps.clock().toISOString(), LEASE_MS, BATCH);
    // Peers are independent: one slow peer must not hold the others' filings.
    await Promise.all(rows.map((r) => work(r)));
    return rows.length;
  }

  async function refreshCatalogs(): Promise<number> {
    let n = 0;
    for (const peer of deps.federation.peers.list()) {
      try {
        n += await deps.federation.catalog.refresh(peer.city);
      } catch (err) {
        deps.log.warn({ city: peer.city, err: (err as Error).message }, 'catalog of a peer not refreshed; keeping the last copy');
      }
    }
    return n;
  }

  const loop = (fn: () => Promise<number>, every: number, what: string) => {
    const tick = () => {
      if (stopped) return;
      const run: Promise<unknown> = fn()
        .catch((err: unknown) => deps.log.warn({ err: String(err) }, `${what} pass failed; will retry`))
        .finally(() => {
          inflight.delete(run);
          if (!stopped) timers.push(setTimeout(tick, every));
        });
      inflight.add(run);
    };
    timers.push(setTimeout(tick, 0));
  };
  if (opts.autoStart !== false && deps.federation.peers.list().length > 0) {
    loop(runOnce, config.pollMs, 'federation outbox');
    if (config.catalogTtlSeconds > 0) loop(refreshCatalogs, config.catalogTtlSeconds * 1000, 'peer catalogs');
  }
  return {
    runOnce,
    refreshCatalogs,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all([...inflight]);
    },
  };
}
