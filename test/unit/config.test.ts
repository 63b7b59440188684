import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { productionConfigProblems } from '../../src/production-check.js';
import { jobLockOptions } from '../../src/queue/job-lock.js';

/** PEM armour put together at run time: these are malformed placeholders, and no key-like text sits in the file. */
const ARMOR = '-'.repeat(5);
const fakePem = (label: string, body: string) => `${ARMOR}BEGIN ${label}${ARMOR}\n${body}\n${ARMOR}END ${label}${ARMOR}`;

const dir = () => mkdtempSync(path.join(tmpdir(), 'cfg-'));

describe('configuration', () => {
  it('defaults to the embedded shape: SQLite in DATA_DIR, local redis, port 3000, a generated dev secret', () => {
    const d = dir();
    const c = loadConfig({ DATA_DIR: d }, '/srv');
    expect(c.port).toBe(3000);
    expect(c.databaseUrl).toBeNull();
    expect(c.sqlitePath).toBe(path.join(d, 'miaopi.sqlite'));
    expect(c.redisUrl).toBeNull();
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.auth.jwtSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(path.join(d, 'dev-jwt-secret')).mode & 0o777).toBe(0o600);
    // One worker process on SQLite (one write lock); on PostgreSQL one per core, 1 to 4; WORKER_PROCESSES overrides.
    expect(c.workerProcesses).toBe(1);
    expect(loadConfig({ DATA_DIR: d, DATABASE_URL: 'postgres://u@db.example/miaopi' }, '/srv').workerProcesses).toBe(Math.min(4, availableParallelism()));
    expect(loadConfig({ DATA_DIR: d, WORKER_PROCESSES: '3' }, '/srv').workerProcesses).toBe(3);
    // PDF render threads of a worker: on SQLite one per core beyond the first (at most 3); none on PostgreSQL.
    expect(c.renderThreads).toBe(Math.max(0, Math.min(3, availableParallelism() - 1)));
    expect(loadConfig({ DATA_DIR: d, DATABASE_URL: 'postgres://u@db.example/miaopi' }, '/srv').renderThreads).toBe(0);
    expect(loadConfig({ DATA_DIR: d, RENDER_THREADS: '0' }, '/srv').renderThreads).toBe(0);
    // A dead worker's jobs are handed on after a 15 s lock, checked every 5 s (src/queue/job-lock.ts); JOB_LOCK_MS overrides.
    expect(c.jobLockMs).toBe(15_000);
    expect(jobLockOptions(c.jobLockMs)).toEqual({ lockDuration: 15_000, stalledInterval: 5_000 });
    expect(jobLockOptions(loadConfig({ DATA_DIR: d, JOB_LOCK_MS: '30000' }, '/srv').jobLockMs)).toEqual({ lockDuration: 30_000, stalledInterval: 10_000 });
  });

  it('keeps the dev secret across restarts so tokens stay valid', () => {
    const d = dir();
    const a = loadConfig({ DATA_DIR: d });
    const b = loadConfig({ DATA_DIR: d });
    expect(b.auth.jwtSecret).toBe(a.auth.jwtSecret);
    expect(readFileSync(path.join(d, 'dev-jwt-secret'), 'utf8').trim()).toBe(a.auth.jwtSecret);
  });

  it('maps DATASOURCE_<ID>_URL to source ids', () => {
    const c = loadConfig({ DATA_DIR: dir(), DATASOURCE_MARKET_ENTITY_URL: 'http://127.0.0.1:9/me', DATASOURCE_REAL_ESTATE_URL: 'https://x.example/re/' });
    expect(c.dataSourceUrls).toEqual({ 'market-entity': 'http://127.0.0.1:9/me', 'real-estate': 'https://x.example/re/' });
  });

  it('is frozen', () => {
    const c = loadConfig({ DATA_DIR: dir() });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.auth)).toBe(true);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PUBLIC_URL', 'not a url'],
    ['PUBLIC_URL', 'ftp://x'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['LOG_LEVEL', 'loud'],
    ['WORKER_CONCURRENCY', '0'],
    ['AUTH_JWT_SECRET', 'short'],
    ['AUTH_PUBLIC_KEY', 'not a pem'],
    ['DATASOURCE_POPULATION_URL', 'population'],
  ])('stops start-up when %s is %j, naming the variable', (name, value) => {
    expect(() => loadConfig({ DATA_DIR: dir(), [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: dir(), [name]: value })).toThrow(name);
  });

  it('does not generate a dev secret when a production key is configured', () => {
    const d = dir();
    const c = loadConfig({ DATA_DIR: d, AUTH_JWKS_URL: 'https://idp.example/jwks.json' });
    expect(c.auth.jwtSecret).toBeNull();
    expect(() => statSync(path.join(d, 'dev-jwt-secret'))).toThrow();
  });

  // Issue 16: 都市圈通办, 快递取送, 授权查验.
  it('reads the node’s city, its peers and the courier, with 沈阳 and no peers by default', () => {
    expect(loadConfig({ DATA_DIR: dir() }).federation).toMatchObject({ cityCode: '210100', peers: [], trustDir: null, nodeKeyPem: null });
    const c = loadConfig({ DATA_DIR: dir(), CITY_CODE: '210400', FEDERATION_PEERS: '210100=http://127.0.0.1:3000/, 210200=https://dalian.example/miaopi', FEDERATION_TRUST_DIR: 'trust', COURIER_URL: 'https://courier.example/api/' }, '/srv');
    expect(c.federation).toMatchObject({
      cityCode: '210400',
      peers: [
        { city: '210100', baseUrl: 'http://127.0.0.1:3000' },
        { city: '210200', baseUrl: 'https://dalian.example/miaopi' },
      ],
      trustDir: '/srv/trust',
    });
    expect(c.courier.url).toBe('https://courier.example/api');
  });

  it.each([
    ['CITY_CODE', { CITY_CODE: '210102' }],
    ['FEDERATION_PEERS', { FEDERATION_PEERS: '210400' }],
    ['FEDERATION_PEERS', { FEDERATION_PEERS: '210100=http://127.0.0.1:3000' }],
    ['FEDERATION_PEERS', { FEDERATION_PEERS: '210400=http://a,210400=http://b' }],
    ['FEDERATION_PEERS', { FEDERATION_PEERS: '210400=ftp://a' }],
    ['FEDERATION_NODE_CERT', { FEDERATION_NODE_KEY: fakePem('PRIVATE KEY', 'x') }],
    ['FEDERATION_NODE_KEY', { FEDERATION_NODE_KEY: '/nonexistent/node.key.pem', FEDERATION_NODE_CERT: '/nonexistent/node.cert.pem' }],
    ['COURIER_URL', { COURIER_URL: 'courier' }],
    ['PROOF_CONSENT_DAYS', { PROOF_CONSENT_DAYS: '0' }],
  ])('stops start-up on a bad %s, naming it', (name, env) => {
    expect(() => loadConfig({ DATA_DIR: dir(), ...env })).toThrow(name);
  });
});

describe('signature suite (国密, issue 15)', () => {
  it('defaults to intl, takes SIGNATURE_SUITE and per-department overrides', () => {
    expect(loadConfig({ DATA_DIR: dir() }).signatureSuite).toEqual({ default: 'intl', byDepartment: {} });
    const c = loadConfig({ DATA_DIR: dir(), SIGNATURE_SUITE: 'gm', SIGNATURE_SUITE_BY_DEPARTMENT: '11210100MB0E12346R=intl, 11210100MB0E23459Q=gm' });
    expect(c.signatureSuite).toEqual({ default: 'gm', byDepartment: { '11210100MB0E12346R': 'intl', '11210100MB0E23459Q': 'gm' } });
  });

  it('names the variable and what is expected when a value is wrong', () => {
    expect(() => loadConfig({ DATA_DIR: dir(), SIGNATURE_SUITE: 'sm2' })).toThrow(/SIGNATURE_SUITE must be intl or gm, got "sm2"/);
    expect(() => loadConfig({ DATA_DIR: dir(), JOB_LOCK_MS: '1000' })).toThrow(/JOB_LOCK_MS must be between 5000 and 600000, got 1000/);
    expect(() => loadConfig({ DATA_DIR: dir(), JOB_LOCK_MS: '15s' })).toThrow(/JOB_LOCK_MS must be a whole number/);
    expect(() => loadConfig({ DATA_DIR: dir(), SIGNATURE_SUITE_BY_DEPARTMENT: 'grain=gm' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: dir(), SIGNATURE_SUITE_BY_DEPARTMENT: '11210100MB0E12346R=rsa' })).toThrow(/SIGNATURE_SUITE_BY_DEPARTMENT must be intl or gm/);
  });
});

describe('audit signing key (issue 17)', () => {
  it('is generated once into DATA_DIR, 0600, and kept across restarts', () => {
    const d = dir();
    const a = loadConfig({ DATA_DIR: d }).audit.signingKeyPem;
    expect(a).toContain(`${ARMOR}BEGIN PRIVATE KEY${ARMOR}`);
    expect(statSync(path.join(d, 'dev-audit-signing-key.pem')).mode & 0o777).toBe(0o600);
    expect(loadConfig({ DATA_DIR: d }).audit.signingKeyPem).toBe(a);
  });

  it('is taken from AUDIT_SIGNING_KEY (PEM or file), checked, and never generated in production', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(loadConfig({ DATA_DIR: dir(), AUDIT_SIGNING_KEY: pem }).audit.signingKeyPem).toBe(pem.trim());
    expect(() => loadConfig({ DATA_DIR: dir(), AUDIT_SIGNING_KEY: `${fakePem('PRIVATE KEY', 'AAAA')}\n` })).toThrow(/AUDIT_SIGNING_KEY is not a usable private key/);
    const d = dir();
    const prod = loadConfig({ DATA_DIR: d, NODE_ENV: 'production', AUTH_PUBLIC_KEY: fakePem('PUBLIC KEY', 'x') });
    expect(prod.audit.signingKeyPem).toBeNull();
    expect(existsSync(path.join(d, 'dev-audit-signing-key.pem'))).toBe(false);
    expect(productionConfigProblems(prod, []).filter((p) => p.startsWith('AUDIT_SIGNING_KEY: not set'))).toHaveLength(1);
    expect(productionConfigProblems(loadConfig({ DATA_DIR: dir(), NODE_ENV: 'production', AUDIT_SIGNING_KEY: pem }), []).some((p) => p.startsWith('AUDIT_SIGNING_KEY'))).toBe(false);
  });
});
