/**
 * Stand-in servers of the outside parties, speaking their contracts over real HTTP (for development, tests,
 * benchmarks and a production-mode trial run):
 *
 *   npm run standin -- data-sources [--port N] [--host H] [--rules DIR] [--synthetic N] [--seed S]
 *       DESIGN.md §4: every registered source under /<id>/<key>, serving rules/demo-data plus, with --synthetic,
 *       N generated enterprises (market-entity, population, credit, real-estate; see src/standins/synthetic.ts).
 *   npm run standin -- eseal [--port N] [--host H] [--data DIR] [--rules DIR]
 *       DESIGN.md §9: the e-seal platform (seals for every enterprise in market-entity's demo data, or any USCC
 *       registered with POST /seals), keys kept in DIR.
 *
 * Prints one JSON line with the base URL(s) on stdout when listening, then serves until SIGTERM/SIGINT.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDemoDataRecords, startDataSourceServer } from '../standins/data-source-server.js';
import { startESealStandin } from '../standins/eseal-server.js';
import { syntheticRecords } from '../standins/synthetic.js';

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    rules: { type: 'string', default: 'rules' },
    synthetic: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    data: { type: 'string' },
  },
});

function int(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`--${name} must be a whole number from ${min} to ${max}\n`);
    process.exit(2);
  }
  return n;
}

const port = int('port', values.port, 0, 65535);
const rulesDir = path.resolve(values.rules);
let close: () => Promise<void>;

if (command === 'data-sources') {
  const records = loadDemoDataRecords(rulesDir);
  const n = int('synthetic', values.synthetic, 0, 10_000_000);
  if (n > 0) {
    const generated: Record<string, Record<string, object>> = { ...syntheticRecords(n, int('seed', values.seed, 0, 2 ** 31 - 1)) };
    for (const [id, recs] of Object.entries(generated)) records[id] = { ...(records[id] ?? {}), ...recs };
  }
  const server = await startDataSourceServer({ records, port, host: values.host, recordRequests: false });
  const urls = Object.fromEntries(Object.keys(records).map((id) => [id, server.url(id)]));
  process.stdout.write(`${JSON.stringify({ standin: 'data-sources', origin: server.origin, urls, synthetic: n })}\n`);
  close = () => server.close();
} else if (command === 'eseal') {
  const server = await startESealStandin({
    dataDir: path.resolve(values.data ?? path.join('data', 'eseal-standin')),
    rulesDir,
    port,
    host: values.host,
  });
  process.stdout.write(`${JSON.stringify({ standin: 'eseal', url: server.url, rootsPem: server.rootsPem })}\n`);
  close = () => server.close();
} else {
  process.stderr.write('usage: npm run standin -- data-sources|eseal [--port N] [--host H] [--rules DIR] [--synthetic N] [--seed S] [--data DIR]\n');
  process.exit(2);
}

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void close().then(() => process.exit(0));
  });
}
