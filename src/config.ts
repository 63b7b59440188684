/**
 * The only reader of process.env. Reads once, validates, freezes. A wrong value stops start-up with a message
 * that names the variable and says what is expected.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  /** Base of links printed in certificates and QR codes, without a trailing slash. */
  publicUrl: string;
  dataDir: string;
  /** Folder of the catalog (matters, data-source registry, demo data). */
  rulesDir: string;
  /** Folder of development keys (generated on first run, git-ignored). */
  certsDir: string;
  databaseUrl: string | null;
  /** SQLite file used when databaseUrl is null. */
  sqlitePath: string;
  /** null → the launcher starts a local redis-server. */
  redisUrl: string | null;
  auth: {
    /** HS256 secret (development). Generated into DATA_DIR when unset and no production key is configured. */
    jwtSecret: string | null;
    jwksUrl: string | null;
    publicKeyPem: string | null;
  };
  /** Base URL per data-source id, from DATASOURCE_<ID>_URL. */
  dataSourceUrls: Record<string, string>;
  workerConcurrency: number;
  /** Extra worker processes the launcher forks (npm start). */
  workerProcesses: number;
  logLevel: LogLevel;
  bodyLimitBytes: number;
  queueName: string;
  /** RFC 3161 time-stamping authority for PAdES B-T (TSA_URL); null → signatures are B-B. */
  tsaUrl: string | null;
  tsaTimeoutMs: number;
  /** PEM of extra roots trusted for timestamp tokens only (TSA_ROOTS). */
  tsaRootsPem: string | null;
  verify: {
    /** Largest PDF POST /v1/verify accepts (413 above). */
    maxBytes: number;
    /** Requests per minute and client IP on /v1/verify and /verify pages; 0 disables the limit. */
    rateLimitPerMinute: number;
  };
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`配置错误 Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | null {
  const v = env[name];
  return v === undefined || v.trim() === '' ? null : v.trim();
}

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const v = str(env, name);
  if (v === null) return dflt;
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be a whole number between ${min} and ${max}, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const v = str(env, name);
  if (v === null) return null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(name, `must be a URL (${protocols.join(' or ')}), got "${v}"`);
  }
  if (!protocols.includes(u.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got "${u.protocol}"`);
  }
  return v;
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Dev HS256 secret kept in DATA_DIR so API, worker and the token CLI agree across restarts. */
function devSecret(dataDir: string): string {
  const file = path.join(dataDir, 'dev-jwt-secret');
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}

/** The environment for child processes of the launcher: this one plus overrides. */
export function childEnvironment(overrides: Record<string, string>): Record<string, string | undefined> {
  return { ...process.env, ...overrides };
}

/** Reads and validates the environment. `cwd` anchors relative paths. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Readonly<Config> {
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = str(env, 'HOST') ?? '0.0.0.0';
  const publicUrlRaw = url(env, 'PUBLIC_URL', ['http:', 'https:']);
  const publicUrl = (publicUrlRaw ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const dataDir = path.resolve(cwd, str(env, 'DATA_DIR') ?? './data');
  const rulesDir = path.resolve(cwd, str(env, 'RULES_DIR') ?? './rules');
  const certsDir = path.resolve(cwd, str(env, 'CERTS_DIR') ?? './certs/dev');
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);

  const levelRaw = (str(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(levelRaw as LogLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${levelRaw}"`);
  }

  const jwksUrl = url(env, 'AUTH_JWKS_URL', ['http:', 'https:']);
  const publicKeyPem = str(env, 'AUTH_PUBLIC_KEY');
  if (publicKeyPem !== null && !publicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new ConfigError('AUTH_PUBLIC_KEY', 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)');
  }
  let jwtSecret = str(env, 'AUTH_JWT_SECRET');
  if (jwtSecret !== null && Buffer.byteLength(jwtSecret) < 32) {
    throw new ConfigError('AUTH_JWT_SECRET', 'must be at least 32 bytes long');
  }
  if (jwtSecret === null && jwksUrl === null && publicKeyPem === null) jwtSecret = devSecret(dataDir);

  const tsaRootsPem = str(env, 'TSA_ROOTS');
  if (tsaRootsPem !== null && !tsaRootsPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError('TSA_ROOTS', 'must be PEM certificates (-----BEGIN CERTIFICATE-----)');
  }

  const dataSourceUrls: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const m = /^DATASOURCE_([A-Z0-9_]+)_URL$/.exec(name);
    if (!m?.[1]) continue;
    const value = url(env, name, ['http:', 'https:']);
    if (value !== null) dataSourceUrls[m[1].toLowerCase().replace(/_/g, '-')] = value;
  }

  const config: Config = {
    port,
    host,
    publicUrl,
    dataDir,
    rulesDir,
    certsDir,
    databaseUrl,
    sqlitePath: path.join(dataDir, 'miaopi.sqlite'),
    redisUrl,
    auth: { jwtSecret, jwksUrl, publicKeyPem },
    dataSourceUrls,
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 4, 1, 256),
    workerProcesses: int(env, 'WORKER_PROCESSES', 1, 1, 64),
    logLevel: levelRaw as LogLevel,
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 256 * 1024, 1024, 50 * 1024 * 1024),
    queueName: str(env, 'QUEUE_NAME') ?? 'applications',
    tsaUrl: url(env, 'TSA_URL', ['http:', 'https:']),
    tsaTimeoutMs: int(env, 'TSA_TIMEOUT_MS', 10_000, 100, 120_000),
    tsaRootsPem,
    verify: {
      maxBytes: int(env, 'VERIFY_MAX_BYTES', 10 * 1024 * 1024, 1024, 50 * 1024 * 1024),
      rateLimitPerMinute: int(env, 'VERIFY_RATE_LIMIT', 60, 0, 1_000_000),
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
