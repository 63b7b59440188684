/**
 * The only reader of process.env. Reads once, validates, freezes. A wrong value stops start-up with a message
 * that names the variable and says what is expected.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ensurePrivateDir } from './private-files.js';
import { parseHostPorts, type RedisTopology } from './redis.js';
import { parseSecretKey } from './store/secret-box.js';
import { DEFAULT_JOB_LOCK_MS } from './queue/job-lock.js';

export type SignatureSuite = 'intl' | 'gm';

export type ProcessRole = 'api' | 'worker' | 'all';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Where the departments' seal keys are (DESIGN.md §9). */
export type SealKeysConfig =
  /** The development PKI generated into CERTS_DIR (embedded default; refused in production). */
  | { backend: 'dev' }
  /** Mounted PEM files: `<dir>/<department code>.key.pem` and `.cert.pem` (chain, seal certificate first). */
  | { backend: 'file'; dir: string }
  /** An HSM through PKCS#11: key (and certificate) objects labelled with the department code, or as mapped. */
  | { backend: 'pkcs11'; module: string; token: string; pin: string; labels: Record<string, string> };

export interface Config {
  /** NODE_ENV=production: refuses development keys, secrets and demo data (src/production-check.ts). */
  production: boolean;
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
  /** REDIS_URL; null with no Sentinel/Cluster either → the launcher starts a local redis-server. */
  redisUrl: string | null;
  /** Where Redis is: REDIS_URL, REDIS_SENTINELS + REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES (DESIGN.md §8); null → local. */
  redis: RedisTopology | null;
  /** ROLE: what one `npm start` runs — the API, the worker(s) or both (default all). */
  role: ProcessRole;
  auth: {
    /** HS256 secret (development). Generated into DATA_DIR when unset and no production key is configured. */
    jwtSecret: string | null;
    jwksUrl: string | null;
    publicKeyPem: string | null;
    /**
     * The portal's dev sign-in (POST /v1/dev/token) exists: only with the development HS256 secret, i.e. when it
     * was generated into DATA_DIR, or when AUTH_DEV_SIGN_IN=true names it explicitly. Never with a JWKS/public key.
     */
    devSignIn: boolean;
    /**
     * The `aud` every token must name (AUTH_AUDIENCE) and the `iss` that must have issued it (AUTH_ISSUER). Outside
     * production they default to DEV_AUTH_AUDIENCE/DEV_AUTH_ISSUER, which the dev token CLI and sign-in carry;
     * production has no default (null) and refuses to start without them (production-check.ts).
     */
    audience: string | null;
    issuer: string | null;
    /** Oldest `iat` accepted and longest `exp − iat` lifetime (AUTH_MAX_TOKEN_AGE_SECONDS, default 12 h). */
    maxTokenAgeSeconds: number;
  };
  /** Base URL per data-source id, from DATASOURCE_<ID>_URL. */
  dataSourceUrls: Record<string, string>;
  workerConcurrency: number;
  /** BullMQ job lock of worker processes (JOB_LOCK_MS): a dead worker's jobs are handed on within ~1–2 locks. */
  jobLockMs: number;
  /** Extra worker processes the launcher forks (npm start). */
  workerProcesses: number;
  /** Threads of a worker process that lay out and write unsigned PDFs (0 = on the main thread). */
  renderThreads: number;
  logLevel: LogLevel;
  bodyLimitBytes: number;
  queueName: string;
  /** How often filings waiting only for another department's result (业务协同) are decided again. */
  awaitRecheckSeconds: number;
  /** Back-off cap of that re-check: each filing waits AWAIT_RECHECK_SECONDS doubling per re-check up to this (AWAIT_RECHECK_MAX_SECONDS). */
  awaitRecheckMaxSeconds: number;
  /** 一件事 bundles (issue 14). */
  bundles: {
    /** How often each worker looks for bundles whose members changed without a job saying so (BUNDLE_SWEEP_MS). */
    sweepMs: number;
    /** Reconciler of open bundles: first look after this, doubling per look (BUNDLE_RECHECK_SECONDS) … */
    recheckSeconds: number;
    /** … up to this (BUNDLE_RECHECK_MAX_SECONDS). */
    recheckMaxSeconds: number;
  };
  /** RFC 3161 time-stamping authority for PAdES B-T (TSA_URL); null → signatures are B-B. */
  tsaUrl: string | null;
  tsaTimeoutMs: number;
  /** PEM of extra roots trusted for timestamp tokens only (TSA_ROOTS). */
  tsaRootsPem: string | null;
  /** Hardening around every data source (retries, circuit breaker, cache). */
  dataSources: {
    /** Extra attempts of an HTTP GET after a transient failure, inside the source's timeout (DATASOURCE_RETRIES). */
    retries: number;
    /** Consecutive UNKNOWN answers that open a source's breaker (DATASOURCE_BREAKER_FAILURES). */
    breakerFailures: number;
    /** How long an open breaker answers UNKNOWN before one trial read (DATASOURCE_BREAKER_OPEN_MS). */
    breakerOpenMs: number;
    /** Cap on the registry's cacheTtlSeconds; 0 = no cache; null = the registry decides (DATASOURCE_CACHE_MAX_TTL_SECONDS). */
    cacheMaxTtlSeconds: number | null;
  };
  /** Days a data-sharing consent given with a filing stays valid for later filings of the same matter (CONSENT_VALIDITY_DAYS). */
  consentValidityDays: number;
  /** Largest material POST /v1/materials accepts (MATERIAL_MAX_BYTES, 413 above). */
  materialMaxBytes: number;
  verify: {
    /** Largest PDF POST /v1/verify accepts (413 above). */
    maxBytes: number;
    /** Requests per minute and client IP on /v1/verify and /verify pages; 0 disables the limit. */
    rateLimitPerMinute: number;
  };
  /** Department seal keys (SEAL_BACKEND, SEAL_KEYS_DIR, SEAL_PKCS11_*). */
  sealKeys: SealKeysConfig;
  /** PEM of the trust anchors certificates chain to (TRUST_ROOTS); null → the top of the seal chains (dev root in development). */
  trustRootsPem: string | null;
  /** The e-seal platform (ESEAL_URL); null → the in-process development authority (refused in production). */
  eseal: { url: string | null; timeoutMs: number; trustRootsPem: string | null };
  /**
   * 国密 track (issue 15, DESIGN.md §11): `gm` departments also get their certificate as an OFD sealed with SM2 per
   * GB/T 38540 at issuance; `intl` ones get the OFD on first request. SIGNATURE_SUITE sets the default,
   * SIGNATURE_SUITE_BY_DEPARTMENT=CODE=gm,CODE=intl overrides it per department (统一社会信用代码).
   */
  signatureSuite: {
    default: SignatureSuite;
    byDepartment: Readonly<Record<string, SignatureSuite>>;
  };
  webhooks: {
    /** WEBHOOK_ALLOW_LOOPBACK: deliveries may go to 127.0.0.0/8 and ::1 (development only; default false). */
    allowLoopback: boolean;
    /** First retry delay; each further retry waits 4× longer (WEBHOOK_RETRY_BASE_MS). */
    retryBaseMs: number;
    /** Attempts per delivery, the first included (WEBHOOK_ATTEMPTS). */
    attempts: number;
    /** Per-attempt timeout: connect + response (WEBHOOK_TIMEOUT_MS). */
    timeoutMs: number;
    /**
     * Key that seals signing secrets at rest, AES-256-GCM (WEBHOOK_SECRET_KEY: 32 bytes as base64 or 64 hex digits).
     * Development: generated into DATA_DIR (0600) when unset; production: required, null makes it refuse to start.
     */
    secretKey: string | null;
  };
  /** 都市圈通办 (issue 16, DESIGN.md §12): this node's city, its peers and the key it authenticates itself with. */
  federation: {
    /** CITY_CODE: 6-digit 区划 of this node's city (default 210100 沈阳). */
    cityCode: string;
    /** FEDERATION_PEERS=CODE=BASE_URL,…: the other city nodes (base URLs without a trailing slash). */
    peers: ReadonlyArray<{ city: string; baseUrl: string }>;
    /** FEDERATION_TRUST_DIR: folder of CODE.pem anchors per peer; a peer without a file is pinned on first contact. */
    trustDir: string | null;
    /** FEDERATION_NODE_KEY / FEDERATION_NODE_CERT (PEM text or file path): null → a development node key from CERTS_DIR. */
    nodeKeyPem: string | null;
    nodeCertPem: string | null;
    /** How often the outbox to peers and the mirror of their answers are worked (FEDERATION_POLL_MS). */
    pollMs: number;
    /** Per-request timeout to a peer (FEDERATION_TIMEOUT_MS). */
    timeoutMs: number;
    /** First retry delay after a failed forward; doubles up to 5 minutes (FEDERATION_RETRY_BASE_MS). */
    retryBaseMs: number;
    /** How long a peer's matter definition is used before it is fetched again (FEDERATION_CATALOG_TTL_SECONDS). */
    catalogTtlSeconds: number;
  };
  /** 快递取送 (issue 16, DESIGN.md §13): the courier's API; null → the development stand-in courier. */
  courier: {
    url: string | null;
    timeoutMs: number;
    /** Extra attempts of one call after a connection error or 502/503/504, inside the timeout (COURIER_RETRIES). */
    retries: number;
    /** First retry delay of a failed booking; doubles up to 5 minutes (COURIER_RETRY_BASE_MS). */
    retryBaseMs: number;
    /** How often a booked waybill's track is read (COURIER_TRACK_INTERVAL_MS). */
    trackIntervalMs: number;
  };
  /** 授权查验 (issue 16): default and longest validity of a holder's consent to a consumer (PROOF_CONSENT_DAYS). */
  proofConsentDays: number;
  /** Per-subject throttles (issue 17): counted in Redis per token subject (client IP without a token); 0 = off. */
  throttles: {
    /** Prechecks per subject and minute (PRECHECK_RATE_LIMIT). */
    precheckPerMinute: number;
    /** Uploads to POST /v1/materials per subject and minute (MATERIAL_RATE_LIMIT). */
    materialsPerMinute: number;
    /** Bytes of materials one subject may upload per day, China time (MATERIAL_QUOTA_BYTES_PER_DAY). */
    materialQuotaBytesPerDay: number;
  };
  /** Bearer token that reads /metrics in full without a JWT, for a Prometheus scraper (METRICS_TOKEN, ≥ 32 characters); null: ops JWTs only. */
  metricsToken: string | null;
  /** The audit chain's signed checkpoints (issue 17). */
  audit: {
    /**
     * PEM private key (Ed25519, EC or RSA) that signs checkpoints (AUDIT_SIGNING_KEY: PEM text or a file path).
     * Development: an Ed25519 key generated into DATA_DIR (0600) when unset; production: required, null refuses.
     */
    signingKeyPem: string | null;
    /** How often a checkpoint of the head is written when the log grew (AUDIT_CHECKPOINT_SECONDS, default 300). */
    checkpointSeconds: number;
  };
  /**
   * How long an applicant's Idempotency-Key deduplicates and replays its stored answer (IDEMPOTENCY_TTL_HOURS,
   * default 72); expired keys are purged by a leased worker pass.
   */
  idempotencyTtlHours: number;
  /**
   * Most filings one intake transaction commits (INTAKE_MAX_BATCH, issue 13 group commit): filings arriving while a
   * commit runs go together into the next one. 1: a transaction per filing.
   */
  intakeMaxBatch: number;
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

/**
 * Worker processes `npm start` forks when WORKER_PROCESSES is unset. On SQLite (the embedded default) one: every
 * write of every process takes the one write lock of the file, and a second worker process on the 2-core machine gave
 * no more certificates/s than one (107.6 against 108.6, medians of 4 and 4 interleaved bursts of 1,500 distinct
 * enterprises) for 1.5× the worker CPU per filing (12.9 against 8.5 ms) — README, Benchmark. On PostgreSQL one per
 * core, at most 4 (larger sites run ROLE=worker processes on more machines).
 */
export function defaultWorkerProcesses(database: 'sqlite' | 'postgres' = 'sqlite'): number {
  return database === 'sqlite' ? 1 : Math.min(4, Math.max(1, availableParallelism()));
}

/**
 * PDF render threads of a worker process when RENDER_THREADS is unset (src/documents/pdf/render-pool.ts): on SQLite,
 * where one worker process runs, one per core beyond the first, at most 3; on PostgreSQL none (a worker process per
 * core already uses the cores).
 */
export function defaultRenderThreads(database: 'sqlite' | 'postgres' = 'sqlite'): number {
  return database === 'sqlite' ? Math.max(0, Math.min(3, availableParallelism() - 1)) : 0;
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

function bool(env: Env, name: string, dflt: boolean): boolean {
  const v = str(env, name);
  if (v === null) return dflt;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new ConfigError(name, `must be true or false, got "${v}"`);
}

function suite(name: string, v: string): SignatureSuite {
  if (v !== 'intl' && v !== 'gm') throw new ConfigError(name, `must be intl or gm, got "${v}"`);
  return v;
}

/** SIGNATURE_SUITE (default intl) and SIGNATURE_SUITE_BY_DEPARTMENT=CODE=suite,CODE=suite. */
function signatureSuites(env: Env): Config['signatureSuite'] {
  const byDepartment: Record<string, SignatureSuite> = {};
  for (const item of (str(env, 'SIGNATURE_SUITE_BY_DEPARTMENT') ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^([0-9A-Z]{18})=(\w+)$/.exec(item);
    if (!m?.[1] || !m[2]) throw new ConfigError('SIGNATURE_SUITE_BY_DEPARTMENT', `must be CODE=intl|gm pairs separated by commas (CODE = the department's 18-character 统一社会信用代码), got "${item}"`);
    byDepartment[m[1]] = suite('SIGNATURE_SUITE_BY_DEPARTMENT', m[2]);
  }
  return { default: suite('SIGNATURE_SUITE', str(env, 'SIGNATURE_SUITE') ?? 'intl'), byDepartment };
}

function federationPeers(env: Env, own: string): Array<{ city: string; baseUrl: string }> {
  const raw = str(env, 'FEDERATION_PEERS');
  if (raw === null) return [];
  const peers: Array<{ city: string; baseUrl: string }> = [];
  for (const item of raw.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^(\d{6})=(.+)$/.exec(item);
    if (!m) throw new ConfigError('FEDERATION_PEERS', `must be CODE=BASE_URL pairs separated by commas (CODE: 6-digit 区划), got "${item}"`);
    const [, city, base] = m as unknown as [string, string, string];
    let u: URL;
    try {
      u = new URL(base);
    } catch {
      throw new ConfigError('FEDERATION_PEERS', `${city}: "${base}" is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError('FEDERATION_PEERS', `${city}: must use http: or https:, got "${u.protocol}"`);
    if (city === own) throw new ConfigError('FEDERATION_PEERS', `${city} is this node's own CITY_CODE`);
    if (peers.some((p) => p.city === city)) throw new ConfigError('FEDERATION_PEERS', `${city} is listed twice`);
    peers.push({ city, baseUrl: base.replace(/\/+$/, '') });
  }
  return peers;
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Dev HS256 secret kept in DATA_DIR so API, worker and the token CLI agree across restarts. */
/** The `aud` of development tokens when AUTH_AUDIENCE is unset (never in production). */
export const DEV_AUTH_AUDIENCE = 'miaopi';
/** The `iss` of development tokens when AUTH_ISSUER is unset (never in production). */
export const DEV_AUTH_ISSUER = 'miaopi-dev';
/** Default of AUTH_MAX_TOKEN_AGE_SECONDS: a working day. */
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 12 * 3600;

/** AUTH_AUDIENCE / AUTH_ISSUER: visible ASCII, no spaces; the development value outside production, null in it. */
function tokenClaim(env: Env, name: string, production: boolean, dev: string): string | null {
  const v = str(env, name);
  if (v !== null && !/^[\x21-\x7e]{1,256}$/.test(v)) throw new ConfigError(name, 'must be 1 to 256 visible ASCII characters, e.g. an https:// URL');
  return v ?? (production ? null : dev);
}

function devSecret(dataDir: string): string {
  const file = path.join(dataDir, 'dev-jwt-secret');
  ensurePrivateDir(dataDir);
  try {
    writeFileSync(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}

function metricsToken(env: Env): string | null {
  const v = str(env, 'METRICS_TOKEN');
  if (v !== null && !/^[\x21-\x7e]{32,512}$/.test(v)) throw new ConfigError('METRICS_TOKEN', 'must be 32 to 512 visible ASCII characters (e.g. `openssl rand -hex 32`)');
  return v;
}

/**
 * WEBHOOK_SECRET_KEY, checked; unset → a development key kept in DATA_DIR (0600, made once, shared by API and worker),
 * or null in production (the production check refuses then).
 */
function webhookSecretKey(env: Env, production: boolean, dataDir: string): string | null {
  const v = str(env, 'WEBHOOK_SECRET_KEY');
  if (v !== null) {
    if (parseSecretKey(v) === null) throw new ConfigError('WEBHOOK_SECRET_KEY', 'must be 32 random bytes as base64 (44 characters) or 64 hex digits, e.g. `openssl rand -base64 32`');
    return v;
  }
  if (production) return null;
  const file = path.join(dataDir, 'dev-webhook-secret-key');
  ensurePrivateDir(dataDir);
  try {
    writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * AUDIT_SIGNING_KEY, checked; unset → a development Ed25519 key kept in DATA_DIR (0600, made once, shared by every
 * process and the audit CLI), or null in production (the production check refuses then).
 */
function auditSigningKey(env: Env, cwd: string, production: boolean, dataDir: string): string | null {
  const v = pemOrFile(env, 'AUDIT_SIGNING_KEY', cwd, /-----BEGIN (RSA |EC )?PRIVATE KEY-----/);
  if (v !== null) {
    try {
      createPrivateKey(v);
    } catch (err) {
      throw new ConfigError('AUDIT_SIGNING_KEY', `is not a usable private key (${(err as Error).message}); e.g. \`openssl genpkey -algorithm ed25519\``);
    }
    return v;
  }
  if (production) return null;
  const file = path.join(dataDir, 'dev-audit-signing-key.pem');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    writeFileSync(file, pem, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8');
}

/** PEM given inline or as a path to a PEM file (relative to `cwd`); null when unset. */
function pemOrFile(env: Env, name: string, cwd: string, marker: string | RegExp): string | null {
  const v = str(env, name);
  if (v === null) return null;
  let text = v;
  if (!v.includes('-----BEGIN')) {
    try {
      text = readFileSync(path.resolve(cwd, v), 'utf8');
    } catch (err) {
      throw new ConfigError(name, `must be PEM or the path of a PEM file; cannot read ${v}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (typeof marker === 'string' ? !text.includes(marker) : !marker.test(text)) {
    throw new ConfigError(name, `must hold ${typeof marker === 'string' ? marker : marker.source.replace(/\\/g, '')}`);
  }
  return text;
}

function sealKeys(env: Env, cwd: string): SealKeysConfig {
  const backend = (str(env, 'SEAL_BACKEND') ?? (str(env, 'SEAL_KEYS_DIR') ? 'file' : 'dev')).toLowerCase();
  if (backend === 'dev') return { backend: 'dev' };
  if (backend === 'file') {
    const dir = str(env, 'SEAL_KEYS_DIR');
    if (dir === null) throw new ConfigError('SEAL_KEYS_DIR', 'must name the folder of mounted seal keys when SEAL_BACKEND=file');
    return { backend: 'file', dir: path.resolve(cwd, dir) };
  }
  if (backend === 'pkcs11') {
    const module = str(env, 'SEAL_PKCS11_MODULE');
    const token = str(env, 'SEAL_PKCS11_TOKEN');
    const pin = str(env, 'SEAL_PKCS11_PIN');
    if (module === null) throw new ConfigError('SEAL_PKCS11_MODULE', 'must be the path of the PKCS#11 library when SEAL_BACKEND=pkcs11 (e.g. /usr/lib/softhsm/libsofthsm2.so)');
    if (token === null) throw new ConfigError('SEAL_PKCS11_TOKEN', 'must be the token label when SEAL_BACKEND=pkcs11');
    if (pin === null) throw new ConfigError('SEAL_PKCS11_PIN', 'must be the user PIN when SEAL_BACKEND=pkcs11');
    const labels: Record<string, string> = {};
    for (const pair of (str(env, 'SEAL_PKCS11_LABELS') ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([0-9A-Z]{18})=(.{1,64})$/.exec(pair);
      if (!m) throw new ConfigError('SEAL_PKCS11_LABELS', `must be DEPARTMENT_CODE=label,… ; got "${pair}"`);
      labels[m[1] as string] = m[2] as string;
    }
    return { backend: 'pkcs11', module: path.resolve(cwd, module), token, pin, labels };
  }
  throw new ConfigError('SEAL_BACKEND', `must be dev, file or pkcs11, got "${backend}"`);
}

/** REDIS_URL | REDIS_SENTINELS + REDIS_SENTINEL_NAME | REDIS_CLUSTER_NODES: exactly one, or none (local redis-server). */
function redisTopology(env: Env, redisUrl: string | null): RedisTopology | null {
  const sentinels = str(env, 'REDIS_SENTINELS');
  const clusterNodes = str(env, 'REDIS_CLUSTER_NODES');
  const named = [redisUrl === null ? null : 'REDIS_URL', sentinels === null ? null : 'REDIS_SENTINELS', clusterNodes === null ? null : 'REDIS_CLUSTER_NODES'].filter((n) => n !== null);
  if (named.length > 1) throw new ConfigError(named[1]!, `cannot be set together with ${named[0]!}: name Redis one way (a server, Sentinel or Cluster)`);
  const hostPorts = (name: string, text: string) => {
    try {
      return parseHostPorts(text);
    } catch (err) {
      throw new ConfigError(name, (err as Error).message);
    }
  };
  const password = str(env, 'REDIS_PASSWORD');
  if (sentinels !== null) {
    const name = str(env, 'REDIS_SENTINEL_NAME');
    if (name === null) throw new ConfigError('REDIS_SENTINEL_NAME', 'must name the master group the sentinels watch (e.g. mymaster) when REDIS_SENTINELS is set');
    return { kind: 'sentinel', sentinels: hostPorts('REDIS_SENTINELS', sentinels), name, password, sentinelPassword: str(env, 'REDIS_SENTINEL_PASSWORD') };
  }
  if (str(env, 'REDIS_SENTINEL_NAME') !== null) throw new ConfigError('REDIS_SENTINEL_NAME', 'is set but REDIS_SENTINELS is not: list the sentinels as host:port,host:port');
  if (clusterNodes !== null) return { kind: 'cluster', nodes: hostPorts('REDIS_CLUSTER_NODES', clusterNodes), password };
  return redisUrl === null ? null : { kind: 'single', url: redisUrl };
}

function processRole(env: Env): ProcessRole {
  const v = (str(env, 'ROLE') ?? 'all').toLowerCase();
  if (v !== 'api' && v !== 'worker' && v !== 'all') throw new ConfigError('ROLE', `must be api, worker or all, got "${v}"`);
  return v;
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
  const production = str(env, 'NODE_ENV') === 'production';
  // Production never makes a development secret: it refuses to start without a JWKS or public key instead.
  const generatedSecret = !production && jwtSecret === null && jwksUrl === null && publicKeyPem === null;
  if (generatedSecret) jwtSecret = devSecret(dataDir);
  const devSignInRaw = str(env, 'AUTH_DEV_SIGN_IN');
  const devSignIn = bool(env, 'AUTH_DEV_SIGN_IN', generatedSecret);
  if (devSignInRaw !== null && devSignIn && (jwksUrl !== null || publicKeyPem !== null)) {
    throw new ConfigError('AUTH_DEV_SIGN_IN', 'can only be true with the development HS256 secret, not with AUTH_JWKS_URL or AUTH_PUBLIC_KEY');
  }

  const tsaRootsPem = str(env, 'TSA_ROOTS');
  if (tsaRootsPem !== null && !tsaRootsPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError('TSA_ROOTS', 'must be PEM certificates (-----BEGIN CERTIFICATE-----)');
  }

  const cityCode = str(env, 'CITY_CODE') ?? '210100';
  if (!/^\d{2}[0-9]{2}00$/.test(cityCode)) throw new ConfigError('CITY_CODE', `must be the 6-digit 区划 of a city (ending in 00), e.g. 210100, got "${cityCode}"`);
  const nodeKeyPem = pemOrFile(env, 'FEDERATION_NODE_KEY', cwd, /-----BEGIN (RSA |EC )?PRIVATE KEY-----/);
  const nodeCertPem = pemOrFile(env, 'FEDERATION_NODE_CERT', cwd, /-----BEGIN CERTIFICATE-----/);
  if ((nodeKeyPem === null) !== (nodeCertPem === null)) {
    throw new ConfigError(nodeKeyPem === null ? 'FEDERATION_NODE_KEY' : 'FEDERATION_NODE_CERT', 'must be set together with its pair (FEDERATION_NODE_KEY and FEDERATION_NODE_CERT)');
  }
  const trustDirRaw = str(env, 'FEDERATION_TRUST_DIR');

  const dataSourceUrls: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const m = /^DATASOURCE_([A-Z0-9_]+)_URL$/.exec(name);
    if (!m?.[1]) continue;
    const value = url(env, name, ['http:', 'https:']);
    if (value !== null) dataSourceUrls[m[1].toLowerCase().replace(/_/g, '-')] = value;
  }

  const config: Config = {
    production,
    port,
    host,
    publicUrl,
    dataDir,
    rulesDir,
    certsDir,
    databaseUrl,
    sqlitePath: path.join(dataDir, 'miaopi.sqlite'),
    redisUrl,
    redis: redisTopology(env, redisUrl),
    role: processRole(env),
    auth: {
      jwtSecret,
      jwksUrl,
      publicKeyPem,
      devSignIn,
      audience: tokenClaim(env, 'AUTH_AUDIENCE', production, DEV_AUTH_AUDIENCE),
      issuer: tokenClaim(env, 'AUTH_ISSUER', production, DEV_AUTH_ISSUER),
      maxTokenAgeSeconds: int(env, 'AUTH_MAX_TOKEN_AGE_SECONDS', DEFAULT_MAX_TOKEN_AGE_SECONDS, 60, 7 * 86_400),
    },
    dataSourceUrls,
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 4, 1, 256),
    jobLockMs: int(env, 'JOB_LOCK_MS', DEFAULT_JOB_LOCK_MS, 5_000, 600_000),
    workerProcesses: int(env, 'WORKER_PROCESSES', defaultWorkerProcesses(databaseUrl ? 'postgres' : 'sqlite'), 1, 64),
    renderThreads: int(env, 'RENDER_THREADS', defaultRenderThreads(databaseUrl ? 'postgres' : 'sqlite'), 0, 16),
    logLevel: levelRaw as LogLevel,
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 256 * 1024, 1024, 50 * 1024 * 1024),
    queueName: str(env, 'QUEUE_NAME') ?? 'applications',
    awaitRecheckSeconds: int(env, 'AWAIT_RECHECK_SECONDS', 60, 1, 86_400),
    awaitRecheckMaxSeconds: int(env, 'AWAIT_RECHECK_MAX_SECONDS', 3600, 1, 7 * 86_400),
    bundles: {
      sweepMs: int(env, 'BUNDLE_SWEEP_MS', 2000, 50, 3_600_000),
      recheckSeconds: int(env, 'BUNDLE_RECHECK_SECONDS', 30, 1, 86_400),
      recheckMaxSeconds: int(env, 'BUNDLE_RECHECK_MAX_SECONDS', 3600, 1, 7 * 86_400),
    },
    tsaUrl: url(env, 'TSA_URL', ['http:', 'https:']),
    tsaTimeoutMs: int(env, 'TSA_TIMEOUT_MS', 10_000, 100, 120_000),
    tsaRootsPem,
    dataSources: {
      retries: int(env, 'DATASOURCE_RETRIES', 2, 0, 5),
      breakerFailures: int(env, 'DATASOURCE_BREAKER_FAILURES', 5, 1, 1000),
      breakerOpenMs: int(env, 'DATASOURCE_BREAKER_OPEN_MS', 10_000, 100, 3_600_000),
      cacheMaxTtlSeconds: str(env, 'DATASOURCE_CACHE_MAX_TTL_SECONDS') === null ? null : int(env, 'DATASOURCE_CACHE_MAX_TTL_SECONDS', 0, 0, 86_400),
    },
    consentValidityDays: int(env, 'CONSENT_VALIDITY_DAYS', 365, 1, 3650),
    materialMaxBytes: int(env, 'MATERIAL_MAX_BYTES', 10 * 1024 * 1024, 1024, 50 * 1024 * 1024),
    verify: {
      maxBytes: int(env, 'VERIFY_MAX_BYTES', 10 * 1024 * 1024, 1024, 50 * 1024 * 1024),
      rateLimitPerMinute: int(env, 'VERIFY_RATE_LIMIT', 60, 0, 1_000_000),
    },
    sealKeys: sealKeys(env, cwd),
    trustRootsPem: pemOrFile(env, 'TRUST_ROOTS', cwd, '-----BEGIN CERTIFICATE-----'),
    eseal: {
      url: url(env, 'ESEAL_URL', ['http:', 'https:']),
      timeoutMs: int(env, 'ESEAL_TIMEOUT_MS', 5_000, 100, 60_000),
      trustRootsPem: pemOrFile(env, 'ESEAL_TRUST_ROOTS', cwd, '-----BEGIN CERTIFICATE-----'),
    },
    signatureSuite: signatureSuites(env),
    webhooks: {
      allowLoopback: bool(env, 'WEBHOOK_ALLOW_LOOPBACK', false),
      retryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 1_000, 10, 3_600_000),
      attempts: int(env, 'WEBHOOK_ATTEMPTS', 10, 1, 50),
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      secretKey: webhookSecretKey(env, production, dataDir),
    },
    federation: {
      cityCode,
      peers: federationPeers(env, cityCode),
      trustDir: trustDirRaw === null ? null : path.resolve(cwd, trustDirRaw),
      nodeKeyPem,
      nodeCertPem,
      pollMs: int(env, 'FEDERATION_POLL_MS', 500, 20, 600_000),
      timeoutMs: int(env, 'FEDERATION_TIMEOUT_MS', 5_000, 100, 120_000),
      retryBaseMs: int(env, 'FEDERATION_RETRY_BASE_MS', 1_000, 10, 3_600_000),
      catalogTtlSeconds: int(env, 'FEDERATION_CATALOG_TTL_SECONDS', 300, 0, 86_400),
    },
    courier: {
      url: url(env, 'COURIER_URL', ['http:', 'https:'])?.replace(/\/+$/, '') ?? null,
      timeoutMs: int(env, 'COURIER_TIMEOUT_MS', 5_000, 100, 120_000),
      retries: int(env, 'COURIER_RETRIES', 2, 0, 5),
      retryBaseMs: int(env, 'COURIER_RETRY_BASE_MS', 2_000, 10, 3_600_000),
      trackIntervalMs: int(env, 'COURIER_TRACK_INTERVAL_MS', 300_000, 100, 86_400_000),
    },
    proofConsentDays: int(env, 'PROOF_CONSENT_DAYS', 90, 1, 3650),
    throttles: {
      precheckPerMinute: int(env, 'PRECHECK_RATE_LIMIT', 30, 0, 1_000_000),
      materialsPerMinute: int(env, 'MATERIAL_RATE_LIMIT', 20, 0, 1_000_000),
      materialQuotaBytesPerDay: int(env, 'MATERIAL_QUOTA_BYTES_PER_DAY', 32 * 1024 * 1024, 0, 1024 * 1024 * 1024 * 1024),
    },
    metricsToken: metricsToken(env),
    audit: {
      signingKeyPem: auditSigningKey(env, cwd, production, dataDir),
      checkpointSeconds: int(env, 'AUDIT_CHECKPOINT_SECONDS', 300, 1, 86_400),
    },
    idempotencyTtlHours: int(env, 'IDEMPOTENCY_TTL_HOURS', 72, 1, 24 * 365),
    intakeMaxBatch: int(env, 'INTAKE_MAX_BATCH', 64, 1, 1000),
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
