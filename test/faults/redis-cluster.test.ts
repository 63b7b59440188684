/**
 * Issue 13: Redis Cluster. Three masters from Debian `redis-server --cluster-enabled yes` on free ports, joined with
 * `redis-cli --cluster create … --cluster-yes`; an API and a worker process reach them through REDIS_CLUSTER_NODES
 * and take filings to certificates. Every BullMQ key carries the `{msbb}` hash tag, so all of them live on the one
 * master that owns that slot (the queues' Lua scripts touch many keys at once: CROSSSLOT otherwise).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local-redis.js';
import {
  approvableFilings,
  eventually,
  postFiling,
  startFaultBed,
  tally,
  tokensFor,
  waitAllDecided,
  type FaultBed,
} from '../support/processes.js';

const cli = (port: number, ...args: string[]) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 });

describe('Redis Cluster of 3 masters (REDIS_CLUSTER_NODES)', () => {
  let bed: FaultBed;
  let dir: string;
  const ports: number[] = [];
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'miaopi-redis-cluster-'));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const d = path.join(dir, String(port));
      mkdirSync(d);
      ports.push(port);
      servers.push(
        spawn('redis-server', [
          '--port', String(port), '--bind', '127.0.0.1', '--dir', d, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', '2000', '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction',
        ], { stdio: 'ignore' }),
      );
    }
    const answers = (p: number) => {
      try {
        return cli(p, 'ping').trim() === 'PONG';
      } catch {
        return false;
      }
    };
    for (const p of ports) await eventually(`redis-server :${p}`, async () => (answers(p) ? true : undefined), 15_000, 200);
    execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    await eventually('cluster_state:ok on every node', async () => (ports.every((p) => /cluster_state:ok/.test(cli(p, 'cluster', 'info'))) ? true : undefined), 20_000, 200);
    bed = await startFaultBed({ backend: 'postgres' });
  }, 120_000);

  afterAll(async () => {
    await bed?.close();
    for (const s of servers) s.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes filings to certificates through the cluster, every queue key in the {msbb} slot', { timeout: 150_000 }, async () => {
    const env = { REDIS_URL: '', REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(',') };
    const api = await bed.api(env);
    const worker = bed.worker(4, env);
    await worker.ready;
    const filings = approvableFilings(10);
    const tokens = await tokensFor(bed, filings);
    const answers = await Promise.all(filings.map((f) => postFiling(api.url, tokens.get(f.uscc)!, f.body)));
    expect(answers.map((a) => a.status), JSON.stringify(answers.find((a) => a.status !== 202)?.body)).toEqual(filings.map(() => 202));
    const ids = answers.map((a) => a.body['id'] as string);
    const statuses = await waitAllDecided(bed, ids, 90_000);
    const counts = tally(statuses);
    expect(counts['approved'], JSON.stringify(counts)).toBe(ids.length);
    const certs = await bed.certificateCounts();
    expect(certs.total).toBe(ids.length);
    expect([...certs.perNumber.values()].filter((n) => n > 1)).toEqual([]);

    const slot = Number(cli(ports[0]!, 'cluster', 'keyslot', '{msbb}').trim());
    const keysPerNode = ports.map((p) => cli(p, '--scan', '--pattern', '{msbb}:*').split('\n').filter(Boolean).length);
    const holders = keysPerNode.filter((n) => n > 0).length;
    expect(holders, `keys per node ${JSON.stringify(keysPerNode)}`).toBe(1);
    const masters = cli(ports[0]!, 'cluster', 'nodes').split('\n').filter((l) => l.includes('master')).length;
    expect(masters).toBe(3);
    expect(api.proc.messages.get('dependency unavailable') ?? 0).toBe(0);
    console.log(
      `REDIS-CLUSTER ${masters} masters on :${ports.join(', :')}; ${ids.length} filings → ${JSON.stringify(counts)}, ${certs.total} certificates; ` +
        `{msbb} is slot ${slot}; BullMQ keys per node ${JSON.stringify(keysPerNode)} (all on one master)`,
    );
  });
});
