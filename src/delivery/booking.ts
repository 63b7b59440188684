/**
 * 快递取送 after issuing (DESIGN.md §13), run by every worker process beside the application worker (rows are
 * leased): once a filing that asked for delivery has its certificate, the paper copy is booked with the courier —
 * to the typed address, or by default the applicant's registered address (免填: from the record the decision
 * already read, else one audited read of the registry). A courier that is down delays the booking with back-off and
 * never touches the certificate; afterwards the waybill's track is read until the parcel is delivered, and every
 * status change goes to webhooks (`delivery.updated`). A rejected or failed filing has nothing to send.
 */
import type { Catalog } from '../catalog/load-catalog.js';
import type { DataSource } from '../data-sources/types.js';
import type { LookupFact } from '../pipeline/evaluate-rules.js';
import { applicantKind } from '../pipeline/process-application.js';
import type { ApplicationRow, ExpressDeliveryPatch, ExpressDeliveryRow, ExpressDeliveryStatus, Store } from '../store/types.js';
import { backoffMs } from '../federation/forwarder.js';
import type { Courier } from './courier-client.js';

export interface BookingDeps {
  store: Pick<Store, 'deliveries' | 'applications' | 'certificates' | 'dataAccess'>;
  catalog: Pick<Catalog, 'get'>;
  sources: ReadonlyMap<string, DataSource>;
  courier: Courier;
  config: { retryBaseMs: number; trackIntervalMs: number };
  clock: () => Date;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Tells webhooks (delivery.updated); a failure here never fails the booking. */
  emit?(d: ExpressDeliveryRow, certificateId: string | null): Promise<unknown>;
}

export interface BookingLoop {
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

const LEASE_MS = 60_000;
const BATCH = 25;
/** How often a delivery waiting for its filing's decision looks again (manual review waits longer). */
const WAIT_DECISION_MS = 1_000;
const WAIT_REVIEW_MS = 30_000;
const ADDRESS_PURPOSE = '证照寄递地址（快递取送） delivery address of the certificate';

/** The courier's status words → ours; anything else keeps the parcel where it was. */
const COURIER_STATUS: Record<string, ExpressDeliveryStatus> = {
  created: 'booked',
  picked_up: 'picked_up',
  in_transit: 'in_transit',
  delivering: 'delivering',
  delivered: 'delivered',
  returned: 'returned',
};
const FINAL: ReadonlySet<ExpressDeliveryStatus> = new Set(['delivered', 'returned', 'cancelled']);

/** Registered name and address of the applicant: from the decision's own reads when it made one. */
function fromReceipt(deps: BookingDeps, app: ApplicationRow): { name: string | null; address: string } | null {
  const def = deps.catalog.get(app.matter)?.def;
  const facts = app.receipt?.facts ?? {};
  for (const l of def?.lookups ?? []) {
    if (l.forEach || l.key !== 'applicant.code' || (l.source !== 'market-entity' && l.source !== 'population')) continue;
    const fact = facts[l.id] as LookupFact | undefined;
    const address = fact?.status === 'found' ? fact.record?.['address'] : undefined;
    if (typeof address === 'string' && address.trim() !== '') {
      const name = fact?.record?.['name'];
      return { name: typeof name === 'string' ? name : null, address };
    }
  }
  return null;
}

export function startBookingLoop(deps: BookingDeps, opts: { everyMs?: number; autoStart?: boolean } = {}): BookingLoop {
  const every = opts.everyMs ?? 500;
  let stopped = false;
  const inflight = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | null = null;
  const later = (ms: number) => new Date(deps.clock().getTime() + ms).toISOString();

  async function save(d: ExpressDeliveryRow, patch: Omit<ExpressDeliveryPatch, 'updatedAt'>, certificateId: string | null, notify: boolean): Promise<void> {
    const full = { ...patch, updatedAt: deps.clock().toISOString() };
    await deps.store.deliveries.update(d.applicationId, full);
    if (notify && deps.emit) {
      await deps.emit({ ...d, ...full }, certificateId).catch((err: unknown) => deps.log.warn({ applicationId: d.applicationId, err: String(err) }, 'delivery.updated not emitted'));
    }
  }

  /** One audited read of the registry for the registered address (the decision did not read it). */
  async function readRegistered(app: ApplicationRow): Promise<{ name: string | null; address: string } | null | 'unknown'> {
    const source = deps.sources.get(applicantKind(app.applicant) === 'person' ? 'population' : 'market-entity');
    if (!source) return null;
    const read = await source.read(app.applicant, { requester: app.applicant, applicationId: app.id, purpose: ADDRESS_PURPOSE });
    await deps.store.dataAccess.record([
      { requester: app.applicant, applicationId: app.id, source: read.source, key: read.key, purpose: ADDRESS_PURPOSE, status: read.status, responseHash: read.responseHash, at: read.fetchedAt, matter: app.matter, origin: read.cached ? 'cache' : 'source' },
    ]);
    if (read.status === 'unknown') return 'unknown';
    const address = read.record?.['address'];
    const name = read.record?.['name'];
    return read.status === 'found' && typeof address === 'string' && address.trim() !== '' ? { address, name: typeof name === 'string' ? name : null } : null;
  }

  async function book(d: ExpressDeliveryRow): Promise<void> {
    const app = await deps.store.applications.get(d.applicationId);
    if (!app || app.status === 'rejected' || app.status === 'failed') {
      const event = { at: deps.clock().toISOString(), event: '申请未获批准，无需寄递 the filing was not approved: nothing to send' };
      return save(d, { status: 'cancelled', settled: true, track: [...d.track, event] }, null, true);
    }
    const cert = app.status === 'approved' ? await deps.store.certificates.byApplication(app.id) : null;
    if (!cert) return save(d, { nextAttemptAt: later(app.status === 'manual_review' ? WAIT_REVIEW_MS : WAIT_DECISION_MS) }, null, false);

    let address = d.address;
    let recipient = d.recipient;
    let addressSource = d.addressSource;
    if (address === null || recipient === null) {
      const registered = fromReceipt(deps, app) ?? (await readRegistered(app));
      if (registered === 'unknown' || registered === null) {
        const attempts = d.attempts + 1;
        const why = registered === 'unknown' ? '登记信息暂时无法读取 the registry did not answer' : '未查到登记地址，请重新申请并填写寄递地址 no registered address: file again with delivery.address';
        return save(d, { attempts, lastError: why, nextAttemptAt: later(backoffMs(deps.config.retryBaseMs, attempts)) }, cert.id, false);
      }
      if (address === null) {
        address = registered.address;
        addressSource = 'registered';
      }
      recipient ??= registered.name ?? cert.holderName;
    }
    const phone = d.phone ?? (typeof app.form['contactPhone'] === 'string' ? app.form['contactPhone'] : null);
    const title = deps.catalog.get(app.matter)?.def.output.certificate.title ?? '';
    try {
      const { waybillNo } = await deps.courier.book({ reference: app.id, recipient, phone, address, item: `${cert.number}${title ? `（${title}）` : ''}` });
      deps.log.info({ applicationId: app.id, waybillNo }, 'waybill booked');
      await save(
        d,
        { status: 'booked', waybillNo, address, recipient, phone, addressSource, bookedAt: deps.clock().toISOString(), attempts: 0, lastError: null, track: [{ at: deps.clock().toISOString(), event: `已下单 运单号 ${waybillNo}` }], nextAttemptAt: later(deps.config.trackIntervalMs) },
        cert.id,
        true,
      );
    } catch (err) {
      const attempts = d.attempts + 1;
      const wait = backoffMs(deps.config.retryBaseMs, attempts);
      deps.log.warn({ applicationId: app.id, attempts, retryInMs: wait, err: (err as Error).message }, 'courier not reached; booking retried later');
      // The address found is kept, so a later attempt books the same parcel.
      await save(d, { address, recipient, addressSource, attempts, lastError: (err as Error).message.slice(0, 500), nextAttemptAt: later(wait) }, cert.id, false);
    }
  }

  async function track(d: ExpressDeliveryRow): Promise<void> {
    const cert = await deps.store.certificates.byApplication(d.applicationId);
    try {
      const t = await deps.courier.track(d.waybillNo!);
      const status = COURIER_STATUS[t.status] ?? d.status;
      const booked = d.track.filter((e) => e.event.startsWith('已下单 运单号'));
      const trackEvents = [...booked, ...t.track.filter((e) => !e.event.startsWith('已下单 运单号'))].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
      const changed = status !== d.status || trackEvents.length !== d.track.length;
      await save(d, { status, track: trackEvents, attempts: 0, lastError: null, settled: FINAL.has(status), nextAttemptAt: later(deps.config.trackIntervalMs) }, cert?.id ?? null, changed);
    } catch (err) {
      const attempts = d.attempts + 1;
      await save(d, { attempts, lastError: (err as Error).message.slice(0, 500), nextAttemptAt: later(Math.max(deps.config.trackIntervalMs, backoffMs(deps.config.retryBaseMs, attempts))) }, cert?.id ?? null, false);
    }
  }

  async function runOnce(): Promise<number> {
    const rows = await deps.store.deliveries.claimDue(deps.clock().toISOString(), LEASE_MS, BATCH);
    await Promise.all(
      rows.map((d) =>
        (d.waybillNo === null ? book(d) : track(d)).catch(async (err: unknown) => {
          deps.log.warn({ applicationId: d.applicationId, err: String(err) }, 'delivery pass failed; retried later');
          await deps.store.deliveries.update(d.applicationId, { nextAttemptAt: later(backoffMs(deps.config.retryBaseMs, d.attempts + 1)), attempts: d.attempts + 1, updatedAt: deps.clock().toISOString() });
        }),
      ),
    );
    return rows.length;
  }

  const tick = () => {
    if (stopped) return;
    const run: Promise<unknown> = runOnce()
      .catch((err: unknown) => deps.log.warn({ err: String(err) }, 'delivery pass failed; will retry'))
      .finally(() => {
        inflight.delete(run);
        if (!stopped) timer = setTimeout(tick, every);
      });
    inflight.add(run);
  };
  if (opts.autoStart !== false) timer = setTimeout(tick, 0);
  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all([...inflight]);
    },
  };
}
