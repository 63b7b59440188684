/**
 * Signed checkpoints of the audit chain's head (issue 17): the hash chain alone is unkeyed, so anyone with write
 * access to the database could rewrite every row and recompute every hash. A checkpoint signs (with the service's
 * AUDIT_SIGNING_KEY, which the database does not hold) the head the chain had at that moment, and, where a TSA is
 * configured, carries an RFC 3161 token over that signature. Checkpoints chain to each other too, so removing one
 * from the middle shows. Pure functions: the store keeps checkpoints, the periodic job and the CLI make and check them.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { GENESIS_HASH, type ChainProblem } from './audit-chain.js';
import { OIDS, hashOf, parseSignedData, parseTstInfo } from '../verification/cms.js';

/** Domain separation: a checkpoint signature can never be mistaken for any other signature of the same key. */
const CONTEXT = 'miaopi.audit-checkpoint.v1';

/** One checkpoint as stored. */
export interface AuditCheckpoint {
  /** 1, 2, 3 … in the order they were made. */
  id: number;
  at: string;
  /** seq and hash of the last audit entry when the checkpoint was made. */
  headSeq: number;
  headHash: string;
  /** Digest of the previous checkpoint (GENESIS_HASH for the first). */
  prevDigest: string;
  /** sha256 (hex) of the signing key's SubjectPublicKeyInfo. */
  keyId: string;
  /** base64 signature over `checkpointMessage`. */
  signature: string;
  /** base64 DER RFC 3161 token over sha256(signature), or null without a TSA (or when it did not answer). */
  timestampToken: string | null;
}

export type UnsignedCheckpoint = Pick<AuditCheckpoint, 'id' | 'at' | 'headSeq' | 'headHash' | 'prevDigest'>;

/** The exact bytes that are signed: an unambiguous JSON array. */
export function checkpointMessage(c: UnsignedCheckpoint): Buffer {
  return Buffer.from(JSON.stringify([CONTEXT, c.id, c.at, c.headSeq, c.headHash, c.prevDigest]));
}

/** What the next checkpoint's prevDigest must be: covers the previous one's content and signature. */
export function checkpointDigest(c: AuditCheckpoint): string {
  return createHash('sha256').update(checkpointMessage(c)).update(c.signature).digest('hex');
}

/** A loaded audit signing key. */
export interface AuditKey {
  keyId: string;
  publicKey: KeyObject;
  sign(message: Buffer): Buffer;
}

function digestFor(key: KeyObject): string | null {
  // Ed25519/Ed448 hash internally; RSA and EC keys sign SHA-256.
  return key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' ? null : 'sha256';
}

/** The key id of a public key: sha256 of its DER SubjectPublicKeyInfo. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Opens a PEM private key (Ed25519, EC or RSA) as the audit signing key. */
export function openAuditKey(privateKeyPem: string): AuditKey {
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    sign: (message) => sign(digestFor(privateKey), message, privateKey),
  };
}

/** A new checkpoint over `head`, following `previous` (or the first one). */
export function signCheckpoint(key: AuditKey, previous: AuditCheckpoint | null, head: { seq: number; hash: string }, at: string): Omit<AuditCheckpoint, 'timestampToken'> {
  const unsigned: UnsignedCheckpoint = {
    id: previous ? previous.id + 1 : 1,
    at,
    headSeq: head.seq,
    headHash: head.hash,
    prevDigest: previous ? checkpointDigest(previous) : GENESIS_HASH,
  };
  return { ...unsigned, keyId: key.keyId, signature: key.sign(checkpointMessage(unsigned)).toString('base64') };
}

/** sha256 of the signature value: the imprint a checkpoint's timestamp token must carry. */
export function checkpointImprint(c: Pick<AuditCheckpoint, 'signature'>): Buffer {
  return createHash('sha256').update(Buffer.from(c.signature, 'base64')).digest();
}

/** genTime of a checkpoint's token when its imprint is the checkpoint's signature; throws otherwise. */
export function timestampTime(c: AuditCheckpoint): Date {
  const sd = parseSignedData(Buffer.from(c.timestampToken ?? '', 'base64'));
  if (sd.eContentType !== OIDS.tstInfo || !sd.eContent) throw new Error('the token does not hold a TSTInfo');
  const tst = parseTstInfo(sd.eContent);
  if (hashOf(tst.hashAlgorithm) !== 'sha256' || !tst.hashedMessage.equals(checkpointImprint(c))) throw new Error('the token’s imprint is not this checkpoint’s signature');
  return tst.genTime;
}

export interface CheckpointReport {
  checkpoints: number;
  /** The newest valid checkpoint, if any. */
  last: AuditCheckpoint | null;
  problems: ChainProblem[];
}

/**
 * Checks checkpoints (in id order) against the key and the log: each is signed by `publicKey`, follows the one
 * before it, and names an entry the log still has with the same hash. `entryHash(seq)` answers the stored hash of
 * an entry, or null when there is none; `lastSeq` is the log's last seq (0 when empty). An entry problem is
 * reported under the entry's seq, so it reads like the chain's own report.
 */
export function verifyCheckpoints(
  checkpoints: readonly AuditCheckpoint[],
  publicKey: KeyObject,
  entryHash: (seq: number) => string | null,
  lastSeq: number,
): CheckpointReport {
  const problems: ChainProblem[] = [];
  const keyId = keyIdOf(publicKey);
  let previous: AuditCheckpoint | null = null;
  let last: AuditCheckpoint | null = null;
  let maxCovered = 0;
  for (const c of checkpoints) {
    const where = `checkpoint ${c.id} (${c.at}, head ${c.headSeq})`;
    let ok = true;
    const expectedId = previous ? previous.id + 1 : 1;
    if (c.id !== expectedId) {
      problems.push({ seq: c.headSeq, problem: `${where}: expected checkpoint ${expectedId} next (checkpoints removed)` });
      ok = false;
    }
    if (c.prevDigest !== (previous ? checkpointDigest(previous) : GENESIS_HASH) && c.id === expectedId) {
      problems.push({ seq: c.headSeq, problem: `${where}: does not follow the previous checkpoint (a checkpoint was changed or replaced)` });
      ok = false;
    }
    const signatureOk = c.keyId === keyId && verify(digestFor(publicKey), checkpointMessage(c), publicKey, Buffer.from(c.signature, 'base64'));
    if (!signatureOk) {
      problems.push({
        seq: c.headSeq,
        problem: c.keyId === keyId ? `${where}: signature does not verify (the checkpoint was changed)` : `${where}: signed by key ${c.keyId.slice(0, 16)}…, not the audit signing key ${keyId.slice(0, 16)}…`,
      });
      ok = false;
    }
    if (c.timestampToken !== null) {
      try {
        timestampTime(c);
      } catch (err) {
        problems.push({ seq: c.headSeq, problem: `${where}: timestamp token invalid: ${(err as Error).message}` });
        ok = false;
      }
    }
    if (signatureOk) {
      // Only a genuine checkpoint says anything about the log.
      const stored = entryHash(c.headSeq);
      if (stored === null && c.headSeq > lastSeq) {
        // Reported once below for the newest checkpoint.
      } else if (stored === null) {
        problems.push({ seq: c.headSeq, problem: `entry ${c.headSeq} signed in ${where} is missing (removed)` });
      } else if (stored !== c.headHash) {
        problems.push({ seq: c.headSeq, problem: `entry ${c.headSeq} differs from its hash signed in ${where} (the log was rewritten)` });
      }
      maxCovered = Math.max(maxCovered, c.headSeq);
    }
    if (ok) last = c;
    previous = c;
  }
  if (maxCovered > lastSeq) {
    problems.push({ seq: lastSeq, problem: `tail truncated: a signed checkpoint covers entries up to ${maxCovered}, the log ends at ${lastSeq}` });
  }
  return { checkpoints: checkpoints.length, last, problems };
}
