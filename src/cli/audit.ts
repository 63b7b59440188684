/**
 * Audit log CLI (`npm run audit -- <command>`), against the database the service uses (DATABASE_URL, else the
 * SQLite file in DATA_DIR; `--database-url URL` or `--sqlite FILE` override):
 *   verify [--expect-head HASH]   recompute the hash chain; exit 1 naming every broken entry. With the head hash
 *                                 recorded earlier (printed by verify), a truncated tail is detected too.
 *   list [--limit N] [--after SEQ] [--dept CODE]
 *                                 print entries as JSON lines
 */
import { loadConfig } from '../config.js';
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
      const report = await store.authoring.audit.verify();
      const problems = [...report.problems];
      if (expectHead !== undefined && report.head !== expectHead) {
        problems.push({ seq: report.entries, problem: `head is ${report.head}, expected ${expectHead} (entries removed from the end, or a different log)` });
      }
      for (const p of problems) console.error(`✗ entry ${p.seq}: ${p.problem}`);
      console.log(`${problems.length === 0 ? 'ok' : 'BROKEN'}: ${report.entries} entries, head ${report.head}`);
      return problems.length === 0 ? 0 : 1;
    }
    if (command === 'list') {
      const limit = Number(option(args, '--limit') ?? 100);
      const after = option(args, '--after');
      const dept = option(args, '--dept');
      const entries = await store.authoring.audit.list({ limit, ...(after === undefined ? {} : { afterSeq: Number(after) }), ...(dept === undefined ? {} : { dept }) });
      for (const e of entries) console.log(JSON.stringify(e));
      return 0;
    }
    console.error(`unknown command ${command}; use verify [--expect-head HASH] | list [--limit N] [--after SEQ] [--dept CODE]`);
    return 2;
  } finally {
    await store.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
