/**
 * Writes signed checkpoints of the audit chain's head (issue 17): once now (`npm run audit -- checkpoint`) or
 * periodically in every worker process under the `audit-checkpoint` lease, so many processes write one. A head
 * that has not moved since the last checkpoint is not signed again.
 */
import type { KeyObject } from 'node:crypto';
import type { Timestamper } from '../signing/types.js';
import type { Store } from '../store/types.js';
import { leaseTtl, type PassLeases } from '../queue/pass-lease.js';
import type { ChainProblem } from './audit-chain.js';
import { checkpointImprint, signCheckpoint, verifyCheckpoints, type AuditCheckpoint, type AuditKey } from './audit-checkpoint.js';

/** Where a checkpoint pass reports trouble (a pino logger fits). */
export interface WarnLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface CheckpointDeps {
  store: Pick<Store, 'auditCheckpoints'>;
  key: AuditKey;
  /** RFC 3161 client (TSA_URL), or null. */
  timestamper: Timestamper | null;
  clock: () => Date;
  log?: WarnLog;
}

/** The checkpoint written, or null when the log is empty, the head did not move, or another process wrote it first. */
export async function writeAuditCheckpoint(deps: CheckpointDeps): Promise<AuditCheckpoint | null> {
  const [head, previous] = await Promise.all([deps.store.auditCheckpoints.head(), deps.store.auditCheckpoints.last()]);
  if (head === null) return null;
  if (previous && previous.headSeq === head.seq && previous.headHash === head.hash) return null;
  const signed = signCheckpoint(deps.key, previous, head, deps.clock().toISOString());
  let timestampToken: string | null = null;
  if (deps.timestamper) {
    try {
      timestampToken = Buffer.from(await deps.timestamper.timestamp(checkpointImprint(signed))).toString('base64');
    } catch (err) {
      // The signed checkpoint still anchors the head; the next one asks the TSA again.
      deps.log?.warn({ err: (err as Error).message }, 'audit checkpoint written without an RFC 3161 timestamp: the TSA did not answer');
    }
  }
  const checkpoint: AuditCheckpoint = { ...signed, timestampToken };
  return (await deps.store.auditCheckpoints.insert(checkpoint)) ? checkpoint : null;
}

export interface AuditCheckpoints {
  stop(): Promise<void>;
}

/** Every `everyMs`, the process holding the lease checkpoints the head. */
export function startAuditCheckpoints(deps: CheckpointDeps & { leases: PassLeases; log: WarnLog }, everyMs: number): AuditCheckpoints {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = deps.leases
      .run('audit-checkpoint', leaseTtl(everyMs), () => writeAuditCheckpoint(deps))
      .catch((err: unknown) => deps.log.warn({ err: String(err) }, 'audit checkpoint pass failed; will retry'));
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export interface AuditLogReport {
  ok: boolean;
  entries: number;
  head: string;
  problems: ChainProblem[];
  checkpoints: number;
  /** The newest valid checkpoint. */
  lastCheckpoint: AuditCheckpoint | null;
}

/**
 * The whole check behind `npm run audit -- verify`: the hash chain, then every checkpoint against `publicKey` and
 * the log (edited, removed and truncated entries, removed or forged checkpoints).
 */
export async function verifyAuditLog(store: Pick<Store, 'authoring' | 'auditCheckpoints'>, publicKey: KeyObject): Promise<AuditLogReport> {
  const chain = await store.authoring.audit.verify();
  const checkpoints = await store.auditCheckpoints.list();
  const head = await store.auditCheckpoints.head();
  const hashes = await store.auditCheckpoints.entryHashes(checkpoints.map((c) => c.headSeq));
  const cp = verifyCheckpoints(checkpoints, publicKey, (seq) => hashes.get(seq) ?? null, head?.seq ?? 0);
  const problems = [...chain.problems, ...cp.problems];
  return { ok: problems.length === 0, entries: chain.entries, head: chain.head, problems, checkpoints: cp.checkpoints, lastCheckpoint: cp.last };
}
