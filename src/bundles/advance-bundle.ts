/**
 * One step of a bundle application, run by the bundle worker whenever something may have changed (intake, a member
 * decided, a person's manual decision, a data source's push, the reconciler). Reads the database, never trusts the
 * job: idempotent at every step, so a job may run twice or concurrently.
 *
 *   e-form (once) → plan (pure) → start ready members as ordinary applications (queued for the application worker)
 *   → member events → when every member is decided: notice (again only if an outcome changed) → completed → event
 */
import { createHash } from 'node:crypto';
import { canonicalJson, type Catalog } from '../catalog/load-catalog.js';
import type { DataSource } from '../data-sources/types.js';
import { PermanentFailure } from '../errors.js';
import type { Signer, Timestamper } from '../signing/types.js';
import type { SealDeps } from '../pipeline/applicant-seal.js';
import type { ApplicationQueue } from '../queue/application-queue.js';
import type { Store } from '../store/types.js';
import type { BundleEvent } from '../webhooks/bundle-events.js';
import { makeBundleForm, makeNotice, memberAnswers, noticeDigest, noticeRows } from './bundle-documents.js';
import type { BundleCatalog } from './load-bundles.js';
import { memberApplicationId } from './member-id.js';
import { memberViews, planOf } from './progress.js';

export interface AdvanceDeps {
  store: Pick<Store, 'bundles' | 'consents' | 'certificates' | 'dataAccess' | 'eseals'>;
  catalog: Pick<Catalog, 'get'>;
  bundles: Pick<BundleCatalog, 'get'>;
  sources: ReadonlyMap<string, DataSource>;
  sourceNames: ReadonlyMap<string, string>;
  /** The e-seal platform (or the development authority): the applicant's seal for the one e-form. */
  eseal: SealDeps['eseal'];
  newId: () => string;
  departmentSigner(code: string): Signer;
  timestamper?: Timestamper | null;
  queue: Pick<ApplicationQueue, 'enqueue'>;
  emit(e: BundleEvent): Promise<unknown>;
  clock: () => Date;
  /** Reconciler schedule for an open bundle: first check after baseMs, doubling per check up to maxMs. */
  recheck: { baseMs: number; maxMs: number };
  /** Prefix of the members' 申请编号 (the node city's abbreviation); default 沈. */
  numberPrefix?: string;
}

export type AdvanceResult =
  | { done: false; reason: 'missing' }
  | { done: true; started: string[]; completed: boolean; notice: boolean };

export async function advanceBundle(deps: AdvanceDeps, bundleId: string): Promise<AdvanceResult> {
  let row = await deps.store.bundles.get(bundleId);
  if (!row) return { done: false, reason: 'missing' };
  const bundle = deps.bundles.get(row.bundle);
  if (!bundle) throw new PermanentFailure(`bundle ${row.bundle} is not in the bundle catalog`);
  const now = deps.clock();

  // One e-form for the whole application, before any member starts: each member's form is this one.
  let form = await deps.store.bundles.latestDocument(bundleId, 'form');
  if (!form) {
    const made = await makeBundleForm(deps, bundle, deps.catalog, row, now);
    if (made) form = await deps.store.bundles.putDocument(made);
  }

  const plan = planOf(bundle, row, deps.catalog);
  const started: string[] = [];
  for (const matter of plan.start) {
    const member = row.members.find((m) => m.matter === matter)!;
    const loaded = deps.catalog.get(matter);
    if (!loaded) throw new PermanentFailure(`member ${matter} of bundle ${row.bundle} is not in the catalog`);
    const answers = memberAnswers(loaded, row.answers);
    // The consent given with the bundle, per matter; revoked since → none, and the member reads nothing (→ manual).
    const consent = await deps.store.consents.active(row.applicant, matter, now.toISOString());
    const id = memberApplicationId(bundleId, member.position);
    await deps.store.bundles.startMember({
      bundleId,
      matter,
      application: {
        id,
        matter,
        matterVersion: loaded.version,
        applicant: row.applicant,
        answers,
        form: row.form,
        consent: row.consent,
        bodyHash: createHash('sha256').update(canonicalJson({ bundle: bundleId, matter, answers, form: row.form })).digest('hex'),
        createdAt: now.toISOString(),
        ...(deps.numberPrefix !== undefined ? { numberPrefix: deps.numberPrefix } : {}),
      },
      form: form ? { sha256: form.sha256, bytes: form.bytes, createdAt: form.createdAt } : null,
      consentId: consent?.id ?? null,
    });
    started.push(id);
  }
  // Committed first: if this enqueue is lost, the outbox relay enqueues them.
  await deps.queue.enqueue(started);
  if (started.length > 0) row = (await deps.store.bundles.get(bundleId))!;

  const current = planOf(bundle, row, deps.catalog);
  const views = memberViews(bundle, row, deps.catalog, current);
  const changed = row.members.filter((m) => m.application && m.application.status !== m.seenStatus);
  const time = now.toISOString();
  for (const m of changed) {
    const view = views.find((v) => v.matter === m.matter)!;
    if (view.decision === null) continue;
    await deps.emit({
      type: 'bundle.member.decided',
      bundleApplicationId: bundleId,
      bundle: row.bundle,
      matter: m.matter,
      status: view.status,
      time,
      data: { bundleApplicationId: bundleId, bundle: row.bundle, member: view },
    });
  }

  let notice = false;
  if (current.complete) {
    // The notice exists before the bundle reads `completed`; a person's later decision makes a new one.
    const rows = noticeRows(bundle, deps.catalog, row, current.members);
    const latest = await deps.store.bundles.latestDocument(bundleId, 'notice');
    if (latest?.digest !== noticeDigest(rows)) {
      await deps.store.bundles.putDocument(await makeNotice(deps, bundle, row, rows, now));
      notice = true;
    }
    await deps.store.bundles.complete(bundleId, time);
    await deps.emit({
      type: 'bundle.completed',
      bundleApplicationId: bundleId,
      bundle: row.bundle,
      status: 'completed',
      time: row.completedAt ?? time,
      data: {
        bundleApplicationId: bundleId,
        bundle: row.bundle,
        status: 'completed',
        members: views.map(({ matter, name, status, decision, certificate }) => ({ matter, name, status, outcome: decision?.outcome ?? null, ...(certificate ? { certificate } : {}) })),
      },
    });
    await deps.store.bundles.scheduleCheck(bundleId, null, row.checks);
  } else {
    const delay = Math.min(deps.recheck.baseMs * 2 ** row.checks, deps.recheck.maxMs);
    await deps.store.bundles.scheduleCheck(bundleId, new Date(now.getTime() + delay).toISOString(), row.checks + 1);
  }
  await deps.store.bundles.markSeen(
    bundleId,
    row.members.filter((m) => m.application && m.application.status !== m.seenStatus).map((m) => ({ matter: m.matter, status: m.application!.status, decidedAt: m.application!.decidedAt })),
    time,
  );
  return { done: true, started, completed: current.complete, notice };
}
