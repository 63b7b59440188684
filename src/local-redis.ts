/**
 * The embedded default: a redis-server child with AOF on, data under DATA_DIR/redis, on a free loopback port,
 * stopped with the service. The folder is 0700 and the server runs with umask 077, so the AOF (which holds job
 * payloads) and its log are 0600: redis-server has no setting of its own for that.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ensurePrivateDir } from './private-files.js';

export interface LocalRedis {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function startLocalRedis(dataDir: string, opts: { port?: number; appendfsync?: 'always' | 'everysec' } = {}): Promise<LocalRedis> {
  const dir = path.join(dataDir, 'redis');
  ensurePrivateDir(dataDir);
  ensurePrivateDir(dir);
  const port = opts.port ?? (await freePort());
  // Through sh for `umask`, which spawn cannot set; exec keeps redis-server the child we signal.
  const child = spawn(
    '/bin/sh',
    [
      '-c', 'umask 077 && exec redis-server "$@"', 'redis-server',
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--appendonly', 'yes', '--appendfsync', opts.appendfsync ?? 'everysec', '--save', '',
      '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log'),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(new Error(`could not start redis-server (${err.message}): install it (apt-get install -y redis-server) or set REDIS_URL`)),
    );
    child.once('exit', (code) =>
      reject(
        code === 127
          ? new Error('could not start redis-server (not found): install it (apt-get install -y redis-server) or set REDIS_URL')
          : new Error(`redis-server exited with code ${code}; see ${path.join(dir, 'redis.log')}`),
      ),
    );
  });
  const url = `redis://127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        // Loading a large AOF answers LOADING until done.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('redis-server did not answer within 10 s');
  })();
  await Promise.race([ready, exited]);
  exited.catch(() => undefined);
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
