/**
 * `npm run cluster`: starts the scaled-out topology on this machine (own PostgreSQL, Redis master + replica +
 * 3 sentinels, 2 API and 2 worker processes; `--apis N --workers N` to change) and prints where everything is.
 * Ctrl-C stops all of it and removes its temporary folder.
 */
import { parseArgs } from 'node:util';
import { startLocalCluster } from '../cluster/local-cluster.js';

const { values } = parseArgs({ options: { apis: { type: 'string', default: '2' }, workers: { type: 'string', default: '2' } } });
const count = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    process.stderr.write(`--${name} must be a whole number from 1 to 16, got "${v}"\n`);
    process.exit(2);
  }
  return n;
};
const cluster = await startLocalCluster({
  apis: count('apis', values.apis),
  workers: count('workers', values.workers),
  log: (line) => process.stdout.write(`[cluster] ${line}\n`),
});
process.stdout.write(
  [
    '',
    `portal and API:  ${cluster.apis.map((a) => a.url).join('  ')}`,
    `DATABASE_URL=${cluster.databaseUrl}`,
    `REDIS_SENTINELS=${cluster.sentinels.map((s) => `${s.host}:${s.port}`).join(',')} REDIS_SENTINEL_NAME=mymaster`,
    `logs: ${cluster.dir}/logs`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n'),
);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('[cluster] stopping\n');
  void cluster.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
