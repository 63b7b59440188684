/**
 * Audit log CLI (`npm run audit -- <command>`), against the database the service uses (DATABASE_URL, else the
 * SQLite file in DATA_DIR; `--database-url URL` or `--sqlite FILE` override):
 *   verify [--expect-head HASH] [--public-key FILE]
 *                                 recompute the hash chain and check every signed checkpoint (signature with the
 *                                 audit key — AUDIT_SIGNING_KEY, or only its public half with --public-key —, the
 *                                 checkpoints' own chain, the signed head entries still in the log, RFC 3161 tokens);
 *                                 exit 1 naming every edited or removed entry and a truncated tail.
 *   checkpoint                    sign the current head now (what the worker's periodic job does) and print it
 *   revoke-signing-cert --sha256 HEX --reason TEXT --by WHO [--subject TEXT]
 *                                 revoke a certificate of a signing chain — a department's seal certificate, the CA
 *                                 that issued it, an OFD seal maker (sha256 of its DER, as /v1/verify reports it in
 *                                 signature.chain): every document signed under it then fails verification; the
 *                                 revocation is audited
 *   list [--limit N] [--after SEQ] [--dept CODE]
 *                                 print entries as JSON lines
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openAuditKey } from '../authoring/audit-checkpoint.js';
import { verifyAuditLog, writeAuditCheckpoint } from '../authoring/audit-checkpointer.js';
import { loadConfig } from '../config.js';
import { httpTimestamper } from '../signing/timestamp.js';
import { createStore } from '../store/index.js';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const command = args.shift() ?? 'verify';
  const config = loadConfig();
  const sqlite = option(args, '--sqlite');
  const databaseUrl = option(args, '--database-url') ?? (sqlite === undefined ? config.databaseUrl : null);
  const store = await createStore({ databaseUrl, sqlitePath: sqlite ?? config.sqlitePath });
  try {
    if (command === 'verify') {
      const expectHead = option(args, '--expect-head');
      const publicKeyFile = option(args, '--public-key');
      const publicKey =
        publicKeyFile !== undefined ? createPublicKey(readFileSync(publicKeyFile, 'utf8')) : config.audit.signingKeyPem !== null ? openAuditKey(config.audit.signingKeyPem).publicKey : null;
      let report: { entries: number; head: string; problems: Array<{ seq: number; problem: string }> };
      let anchored: string;
      if (publicKey === null) {
        report = await store.authoring.audit.verify();
        anchored = 'no audit key: checkpoints not checked (set AUDIT_SIGNING_KEY or --public-key)';
      } else {
        const full = await verifyAuditLog(store, publicKey);
        report = full;
        const last = full.lastCheckpoint;
        anchored = `${full.checkpoints} checkpoints${last === null ? '' : `, last ${last.id} at ${last.at} over entry ${last.headSeq}${last.timestampToken ? ' (RFC 3161)' : ''}`}`;
      }
      const problems = [...report.problems];
      if (expectHead !== undefined && report.head !== expectHead) {
        problems.push({ seq: report.entries, problem: `head is ${report.head}, expected ${expectHead} (entries removed from the end, or a different log)` });
      }
      for (const p of problems) console.error(`✗ entry ${p.seq}: ${p.problem}`);
      console.log(`${problems.length === 0 ? 'ok' : 'BROKEN'}: ${report.entries} entries, head ${report.head}; ${anchored}`);
      return problems.length === 0 ? 0 : 1;
    }
    if (command === 'checkpoint') {
      if (config.audit.signingKeyPem === null) {
        console.error('AUDIT_SIGNING_KEY: not set — no key to sign the checkpoint with');
        return 2;
      }
      const written = await writeAuditCheckpoint({
        store,
        key: openAuditKey(config.audit.signingKeyPem),
        timestamper: config.tsaUrl ? httpTimestamper(config.tsaUrl, { timeoutMs: config.tsaTimeoutMs }) : null,
        clock: () => new Date(),
        log: { warn: (o, msg) => console.error(`warning: ${msg} ${JSON.stringify(o)}`) },
      });
      if (written === null) {
        const last = await store.auditCheckpoints.last();
        console.log(last === null ? 'nothing to checkpoint: the audit log is empty' : `unchanged: checkpoint ${last.id} covers the head (entry ${last.headSeq}, ${last.headHash})`);
        return 0;
      }
      console.log(JSON.stringify(written));
      return 0;
    }
    if (command === 'revoke-signing-cert') {
      const sha256 = option(args, '--sha256')?.toLowerCase();
      const reason = option(args, '--reason');
      const by = option(args, '--by');
      const subject = option(args, '--subject') ?? '';
      if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256) || !reason || !by) {
        console.error('revoke-signing-cert needs --sha256 (64 hex digits), --reason TEXT and --by WHO');
        return 2;
      }
      const at = new Date().toISOString();
      if (!(await store.signingRevocations.revoke({ certificateSha256: sha256, subject, reason, revokedBy: by, revokedAt: at }))) {
        console.log(`already revoked: ${sha256}`);
        return 0;
      }
      await store.authoring.audit.append({ at, actor: by, dept: null, action: 'signing-certificate.revoke', subject: sha256, details: { reason, subject } });
      console.log(`revoked: ${sha256} at ${at}`);
      return 0;
    }
    if (command === 'list') {
      const limit = Number(option(args, '--limit') ?? 100);
      const after = option(args, '--after');
      const dept = option(args, '--dept');
      const entries = await store.authoring.audit.list({ limit, ...(after === undefined ? {} : { afterSeq: Number(after) }), ...(dept === undefined ? {} : { dept }) });
      for (const e of entries) console.log(JSON.stringify(e));
      return 0;
    }
    console.error(`unknown command ${command}; use verify [--expect-head HASH] [--public-key FILE] | checkpoint | revoke-signing-cert --sha256 HEX --reason TEXT --by WHO | list [--limit N] [--after SEQ] [--dept CODE]`);
    return 2;
  } finally {
    await store.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
