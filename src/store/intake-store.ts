/**
 * Intake's writes (DESIGN.md §2): for one filing or a batch of them, in ONE transaction — Idempotency-Keys, the day's
 * 申请编号, the application rows, their outbox rows, data-sharing consents and delivery requests. A batch is how the
 * API commits under load (group commit, issue 13: src/pipeline/intake-batcher.ts): the day's number row is locked
 * once, every table gets one multi-row INSERT, and the commit (one fsync) covers every filing in it. Precompiled
 * SQL (./raw.ts), portable between SQLite and PostgreSQL. Everything rolls back together; the batcher then retries
 * each filing on its own, so one filing's fault never refuses another.
 */
import type { Kysely } from 'kysely';
import { beijingDayKey } from '../domain/application-number.js';
import { claimApplicationNumbers } from './application-number-store.js';
import { rawSql, valueRows, type RawSql } from './raw.js';
import type { Database } from './schema.js';
import { withTransaction } from './tx.js';
import type { CreateResult, NewApplication, NewConsent } from './types.js';

/** Rows per multi-row INSERT: well inside SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const ROWS_PER_INSERT = 200;

async function insertRows(raw: RawSql, head: string, columns: number, rows: unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const part = rows.slice(i, i + ROWS_PER_INSERT);
    await raw.run(`${head} values ${valueRows(part.length, columns)}`, part.flat());
  }
}

/**
 * Claims Idempotency-Keys, many rows per statement. A key past its expiry (not purged yet) is taken over as if it
 * were new: the update's condition compares the stored expiry with the new filing's own time (`excluded`).
 * RETURNING lists the keys claimed; a key not listed is held by an earlier filing.
 */
const CLAIM_KEYS_HEAD = `insert into "idempotency_keys" ("applicant", "key", "application_id", "body_hash", "created_at", "expires_at", "response_status", "response_body") values `;
const CLAIM_KEYS_TAIL = `
  on conflict ("applicant", "key") do update set "application_id" = excluded."application_id", "body_hash" = excluded."body_hash",
    "created_at" = excluded."created_at", "expires_at" = excluded."expires_at", "response_status" = excluded."response_status", "response_body" = excluded."response_body"
  where "idempotency_keys"."expires_at" is not null and "idempotency_keys"."expires_at" <= excluded."created_at"
  returning "applicant", "key"`;
const EXISTING_KEY = `select "application_id", "body_hash", "response_status", "response_body" from "idempotency_keys" where "applicant" = ? and "key" = ?`;

type Keyed = NewApplication & { idempotencyKey: string };

/**
 * Claims the keys of `apps` (distinct (applicant, key) pairs, in that order). For each: null when claimed (the
 * filing goes on), otherwise the earlier filing's answer. On PostgreSQL a concurrent duplicate blocks until the winner
 * commits, then inserts nothing; on SQLite BEGIN IMMEDIATE already serialises writers. The rows go in the order given,
 * so two batches sorted alike never wait on each other's keys in a cycle.
 */
async function claimKeys(raw: RawSql, apps: readonly Keyed[]): Promise<Array<CreateResult | null>> {
  const claimed = new Set<string>();
  for (let i = 0; i < apps.length; i += ROWS_PER_INSERT) {
    const part = apps.slice(i, i + ROWS_PER_INSERT);
    const rows = await raw.rows<{ applicant: string; key: string }>(
      `${CLAIM_KEYS_HEAD}${valueRows(part.length, 8)}${CLAIM_KEYS_TAIL}`,
      part.flatMap((a) => [
        a.applicant,
        a.idempotencyKey,
        a.id,
        a.bodyHash,
        a.createdAt,
        a.idempotencyExpiresAt ?? null,
        a.response?.status ?? null,
        a.response === undefined ? null : JSON.stringify(a.response.body),
      ]),
    );
    for (const r of rows) claimed.add(keyOf(r.applicant, r.key));
  }
  const out: Array<CreateResult | null> = [];
  for (const a of apps) {
    if (claimed.has(keyOf(a.applicant, a.idempotencyKey))) {
      out.push(null);
      continue;
    }
    const [e] = await raw.rows<{ application_id: string; body_hash: string; response_status: number | null; response_body: string | null }>(EXISTING_KEY, [a.applicant, a.idempotencyKey]);
    if (!e) throw new Error('idempotency key neither claimed nor found'); // cannot happen inside one transaction
    out.push({
      created: false,
      applicationId: e.application_id,
      bodyHash: e.body_hash,
      response: e.response_status === null || e.response_body === null ? null : { status: Number(e.response_status), body: JSON.parse(e.response_body) as unknown },
    });
  }
  return out;
}

function keyOf(applicant: string, key: string): string {
  return `${applicant}\u0000${key}`;
}

/** Results in the order of `apps`; `created: false` for a key already used (in the database or earlier in the batch). */
export async function createApplications(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', apps: readonly NewApplication[]): Promise<CreateResult[]> {
  if (apps.length === 0) return [];
  return withTransaction(db, async (trx) => {
    const raw = rawSql(trx, dialect);
    const results = new Array<CreateResult | undefined>(apps.length);

    // 1. Idempotency-Keys, in (applicant, key) order: two batches never wait on each other's keys in a cycle.
    const keyed = apps
      .map((a, i) => ({ a, i }))
      .filter((x): x is { a: Keyed; i: number } => x.a.idempotencyKey !== null)
      .sort((x, y) => (x.a.applicant < y.a.applicant ? -1 : x.a.applicant > y.a.applicant ? 1 : x.a.idempotencyKey < y.a.idempotencyKey ? -1 : x.a.idempotencyKey > y.a.idempotencyKey ? 1 : x.i - y.i));
    // The same key twice in one batch: the second is a replay of the first, as if it had come a moment later.
    const firstOf = new Map<string, { a: Keyed; i: number }>();
    const replays: Array<{ i: number; first: { a: Keyed; i: number } }> = [];
    for (const x of keyed) {
      const k = keyOf(x.a.applicant, x.a.idempotencyKey);
      const first = firstOf.get(k);
      if (first) replays.push({ i: x.i, first });
      else firstOf.set(k, x);
    }
    const firsts = [...firstOf.values()];
    const answers = await claimKeys(raw, firsts.map((x) => x.a));
    firsts.forEach((x, j) => (results[x.i] = answers[j] ?? undefined));
    for (const { i, first } of replays) {
      results[i] = results[first.i] ?? { created: false, applicationId: first.a.id, bodyHash: first.a.bodyHash, response: first.a.response ?? null };
    }
    const freshAt = apps.flatMap((_, i) => (results[i] === undefined ? [i] : []));
    const fresh = freshAt.map((i) => apps[i]!);
    if (fresh.length > 0) {
      // 2. 申请编号: per Beijing day (a batch may straddle midnight) and prefix, consecutive in arrival order.
      const numbers = new Array<string>(fresh.length);
      const groups = new Map<string, number[]>();
      fresh.forEach((a, j) => {
        const g = `${a.numberPrefix ?? ''}\u0000${beijingDayKey(a.createdAt)}`;
        const members = groups.get(g);
        if (members) members.push(j);
        else groups.set(g, [j]);
      });
      for (const members of groups.values()) {
        const first = fresh[members[0]!]!;
        const claimed = await claimApplicationNumbers(trx, first.createdAt, first.numberPrefix, members.length);
        members.forEach((j, k) => (numbers[j] = claimed[k]!));
      }
      // 3. The rows.
      await insertRows(
        raw,
        `insert into "applications" ("id", "number", "matter", "matter_version", "applicant", "status", "answers", "form", "consent", "body_hash", "decision", "receipt", "attempts", "last_error", "created_at", "updated_at", "decided_at")`,
        17,
        fresh.map((a, j) => [a.id, numbers[j]!, a.matter, a.matterVersion, a.applicant, 'queued', JSON.stringify(a.answers), JSON.stringify(a.form), JSON.stringify(a.consent), a.bodyHash, null, null, 0, null, a.createdAt, a.createdAt, null]),
      );
      await insertRows(raw, `insert into "outbox" ("application_id", "created_at", "enqueued_at")`, 3, fresh.map((a) => [a.id, a.createdAt, null]));
      await linkConsents(raw, fresh);
      const deliveries = fresh.filter((a) => a.delivery !== undefined);
      if (deliveries.length > 0) {
        await insertRows(
          raw,
          `insert into "deliveries" ("application_id", "method", "recipient", "phone", "address", "address_source", "status", "waybill_no", "track", "attempts", "next_attempt_at", "lease_until", "last_error", "settled", "created_at", "updated_at", "booked_at")`,
          17,
          // Parts not typed (address, recipient) are filled from the registered record later; booked after issuing.
          deliveries.map((a) => {
            const d = a.delivery!;
            return [a.id, d.method, d.recipient ?? null, d.phone ?? null, d.address ?? null, d.address === undefined ? null : 'form', 'pending', null, '[]', 0, a.createdAt, null, null, 0, a.createdAt, a.createdAt, null];
          }),
        );
      }
      freshAt.forEach((i, j) => (results[i] = { created: true, applicationId: apps[i]!.id, number: numbers[j]! }));
    }
    return results.map((r) => r!);
  });
}

/**
 * 授权一次 (issue 4): a filing gives a consent (which supersedes the subject's earlier one for the matter) or rests on
 * one given before. Within a batch, a later grant for the same subject and matter supersedes an earlier one, as if
 * they had been committed one after the other.
 */
async function linkConsents(raw: RawSql, apps: readonly NewApplication[]): Promise<void> {
  const grants: Array<{ app: NewApplication; g: NewConsent }> = [];
  const links: unknown[][] = [];
  for (const a of apps) {
    const c = a.dataConsent;
    if (!c) continue;
    if ('grant' in c) {
      grants.push({ app: a, g: c.grant });
      links.push([a.id, c.grant.id, 1]);
    } else {
      links.push([a.id, c.reuse, 0]);
    }
  }
  if (grants.length > 0) {
    // Earlier consents still in force end when the first new one of their subject and matter was given.
    const firstAt = new Map<string, { subject: string; matter: string; at: string }>();
    for (const { g } of grants) {
      const k = `${g.subject}\u0000${g.matter}`;
      if (!firstAt.has(k)) firstAt.set(k, { subject: g.subject, matter: g.matter, at: g.grantedAt });
    }
    const pairs = [...firstAt.values()];
    for (let i = 0; i < pairs.length; i += ROWS_PER_INSERT) {
      const part = pairs.slice(i, i + ROWS_PER_INSERT);
      await raw.run(
        `update "consents" set "ended_reason" = 'superseded', "ended_at" = case ${part.map(() => 'when "subject" = ? and "matter" = ? then ?').join(' ')} end
         where "ended_at" is null and (${part.map(() => '("subject" = ? and "matter" = ?)').join(' or ')})`,
        [...part.flatMap((p) => [p.subject, p.matter, p.at]), ...part.flatMap((p) => [p.subject, p.matter])],
      );
    }
    // Within the batch: each grant but the last of its pair is superseded by the next one of that pair.
    const nextAt = new Map<number, string>();
    const lastSeen = new Map<string, number>();
    grants.forEach(({ g }, j) => {
      const k = `${g.subject}\u0000${g.matter}`;
      const prev = lastSeen.get(k);
      if (prev !== undefined) nextAt.set(prev, g.grantedAt);
      lastSeen.set(k, j);
    });
    await insertRows(
      raw,
      `insert into "consents" ("id", "subject", "matter", "purpose", "sources", "application_id", "granted_at", "expires_at", "ended_at", "ended_reason")`,
      10,
      grants.map(({ app, g }, j) => [g.id, g.subject, g.matter, g.purpose, JSON.stringify(g.sources), app.id, g.grantedAt, g.expiresAt, nextAt.get(j) ?? null, nextAt.has(j) ? 'superseded' : null]),
    );
  }
  if (links.length > 0) await insertRows(raw, `insert into "application_consents" ("application_id", "consent_id", "granted")`, 3, links);
}
