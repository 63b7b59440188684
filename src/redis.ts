/**
 * The one place that connects to Redis (DESIGN.md §8): a single server (`REDIS_URL`), a Sentinel group
 * (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`) or a Cluster (`REDIS_CLUSTER_NODES`). Every queue, worker and
 * health check takes its connection from here, and every BullMQ queue uses `QUEUE_PREFIX`.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** Where Redis is, as configured. */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; password: string | null; sentinelPassword: string | null }
  | { kind: 'cluster'; nodes: HostPort[]; password: string | null };

export interface HostPort {
  host: string;
  port: number;
}

/** A connection of any topology; BullMQ and our health check accept both. */
export type RedisClient = Redis | Cluster;

/**
 * BullMQ key prefix. The braces are a Cluster hash tag: every key of every queue hashes to one slot, which the
 * queues' Lua scripts need (CROSSSLOT otherwise). The same prefix on a single server or Sentinel keeps one layout.
 */
export const QUEUE_PREFIX = '{msbb}';

/** `host:port,host:port` → list; throws a message naming what is wrong (config.ts wraps it in a ConfigError). */
export function parseHostPorts(text: string): HostPort[] {
  const out: HostPort[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(item);
    const port = m ? Number(m[2]) : NaN;
    if (!m || !(port > 0 && port < 65536)) throw new Error(`must be host:port pairs separated by commas, got "${item}"`);
    out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  if (out.length === 0) throw new Error('must name at least one host:port');
  return out;
}

/** A short description for logs (no passwords). */
export function describeTopology(t: RedisTopology): string {
  if (t.kind === 'single') {
    const u = new URL(t.url);
    return `redis ${u.hostname}:${u.port || '6379'}`;
  }
  if (t.kind === 'sentinel') return `sentinel ${t.name} via ${t.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  return `cluster ${t.nodes.map((s) => `${s.host}:${s.port}`).join(',')}`;
}

export interface ConnectOptions {
  /**
   * Commands wait for a reconnect instead of failing (BullMQ workers need this: blocking commands must survive a
   * failover). The API sets a bound instead, so a request fails fast with 503 when Redis is away.
   */
  maxRetriesPerRequest?: number | null;
  /** Lazy: nothing connects until the first command. */
  lazyConnect?: boolean;
}

/**
 * A new connection to the configured Redis. Sentinel: ioredis asks the sentinels for the master and follows a
 * failover; a master that turned replica answers READONLY, on which we reconnect to the new master.
 */
export function connectRedis(t: RedisTopology, opts: ConnectOptions = {}): RedisClient {
  const common: RedisOptions = {
    maxRetriesPerRequest: opts.maxRetriesPerRequest === undefined ? null : opts.maxRetriesPerRequest,
    enableReadyCheck: true,
    lazyConnect: opts.lazyConnect ?? false,
    // Back off up to 1 s between attempts: a failover or a restarted server is found within a second.
    retryStrategy: (times) => Math.min(50 * times, 1000),
    reconnectOnError: (err) => (/READONLY|LOADING/.test(err.message) ? 2 : false),
  };
  if (t.kind === 'single') return new Redis(t.url, common);
  if (t.kind === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: t.sentinels,
      name: t.name,
      ...(t.password ? { password: t.password } : {}),
      ...(t.sentinelPassword ? { sentinelPassword: t.sentinelPassword } : {}),
      sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    });
  }
  return new Cluster(t.nodes, {
    redisOptions: { ...common, ...(t.password ? { password: t.password } : {}) },
    enableReadyCheck: true,
    lazyConnect: opts.lazyConnect ?? false,
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    // BullMQ's blocking commands and Lua scripts run on masters only.
    scaleReads: 'master',
  });
}
