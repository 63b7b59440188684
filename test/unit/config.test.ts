import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

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
});

describe('signature suite (国密, issue 15)', () => {
  it('defaults to intl, takes SIGNATURE_SUITE and per-department overrides', () => {
    expect(loadConfig({ DATA_DIR: dir() }).signatureSuite).toEqual({ default: 'intl', byDepartment: {} });
    const c = loadConfig({ DATA_DIR: dir(), SIGNATURE_SUITE: 'gm', SIGNATURE_SUITE_BY_DEPARTMENT: '11210100MB0E12346R=intl, 11210100MB0E23459Q=gm' });
    expect(c.signatureSuite).toEqual({ default: 'gm', byDepartment: { '11210100MB0E12346R': 'intl', '11210100MB0E23459Q': 'gm' } });
  });

  it('names the variable and what is expected when a value is wrong', () => {
    expect(() => loadConfig({ DATA_DIR: dir(), SIGNATURE_SUITE: 'sm2' })).toThrow(/SIGNATURE_SUITE must be intl or gm, got "sm2"/);
    expect(() => loadConfig({ DATA_DIR: dir(), SIGNATURE_SUITE_BY_DEPARTMENT: 'grain=gm' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: dir(), SIGNATURE_SUITE_BY_DEPARTMENT: '11210100MB0E12346R=rsa' })).toThrow(/SIGNATURE_SUITE_BY_DEPARTMENT must be intl or gm/);
  });
});
