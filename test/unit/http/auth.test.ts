/**
 * The bearer-token verifier (issue 17, item 4): a token is accepted only for this service's audience, from the
 * configured issuer, with an `iat` that is neither in the future nor older than the maximum token age, a lifetime
 * within that age, and no more than 8 KB long.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TOKEN_AGE_SECONDS, DEV_AUTH_AUDIENCE, DEV_AUTH_ISSUER, loadConfig, type Config } from '../../../src/config.js';
import { AppError } from '../../../src/errors.js';
import { createTokenVerifier, MAX_TOKEN_BYTES } from '../../../src/http/auth.js';
import { signDevToken } from '../../../src/http/dev-token.js';
import { productionConfigProblems } from '../../../src/production-check.js';

const SECRET = 'unit-secret-unit-secret-unit-secret-0123456789';
const NOW = new Date('2026-03-01T08:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const auth: Config['auth'] = {
  jwtSecret: SECRET,
  jwksUrl: null,
  publicKeyPem: null,
  devSignIn: false,
  audience: DEV_AUTH_AUDIENCE,
  issuer: DEV_AUTH_ISSUER,
  maxTokenAgeSeconds: DEFAULT_MAX_TOKEN_AGE_SECONDS,
};
const verify = createTokenVerifier(auth, () => NOW);

/** The code a verification failed with, or 'accepted'. */
async function outcome(token: string): Promise<string> {
  try {
    await verify(token);
    return 'accepted';
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

/** Raw claims, signed with the right secret: for tokens signDevToken would never make. */
const raw = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
const good = { sub: 'S1', role: 'applicant', aud: DEV_AUTH_AUDIENCE, iss: DEV_AUTH_ISSUER, iat: NOW_S - 60, exp: NOW_S + 3600 };

describe('bearer token verification', () => {
  it('accepts a development token with the default audience, issuer, iat and a one-hour lifetime', async () => {
    expect(await outcome(await signDevToken(SECRET, 'S1', { role: 'applicant' }, { now: NOW }))).toBe('accepted');
    expect(await outcome(await raw(good))).toBe('accepted');
  });

  it.each([
    ['no aud', { aud: undefined }],
    ['another aud', { aud: 'another-system' }],
    ['an aud list without this service', { aud: ['a', 'b'] }],
    ['no iss', { iss: undefined }],
    ['another iss', { iss: 'https://idp.example.org' }],
    ['no iat', { iat: undefined }],
    ['iat a year ahead', { iat: NOW_S + 365 * 86_400, exp: NOW_S + 365 * 86_400 + 60 }],
    ['iat 5 minutes ahead (beyond the 30 s skew)', { iat: NOW_S + 300 }],
    ['iat older than the maximum age', { iat: NOW_S - DEFAULT_MAX_TOKEN_AGE_SECONDS - 120 }],
    ['exp 1e20', { exp: 1e20 }],
    ['a lifetime of 13 hours', { iat: NOW_S - 60, exp: NOW_S - 60 + 13 * 3600 }],
    ['exp passed', { iat: NOW_S - 7200, exp: NOW_S - 3600 }],
    ['a string iat', { iat: String(NOW_S) }],
  ])('refuses a token with %s (401 AUTH_TOKEN_INVALID)', async (_what, change) => {
    const claims: Record<string, unknown> = { ...good, ...change };
    for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
    expect(await outcome(await raw(claims))).toBe('AUTH_TOKEN_INVALID');
  });

  it('accepts an aud list that names this service, and iat a few seconds ahead (clock skew)', async () => {
    expect(await outcome(await raw({ ...good, aud: ['other', DEV_AUTH_AUDIENCE] }))).toBe('accepted');
    expect(await outcome(await raw({ ...good, iat: NOW_S + 10 }))).toBe('accepted');
  });

  it('says which claim is wrong, in Chinese and English', async () => {
    const err = await verify(await raw({ ...good, aud: 'x' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/aud.*AUTH_AUDIENCE/);
    const life = await verify(await raw({ ...good, exp: 1e20 })).catch((e: unknown) => e);
    expect((life as AppError).message).toMatch(/令牌有效期超过上限 .*AUTH_MAX_TOKEN_AGE_SECONDS/);
  });

  it('refuses a token over 8 KB before parsing it (401 AUTH_TOKEN_TOO_LARGE), even one that would verify', async () => {
    const padded = await raw({ ...good, pad: 'x'.repeat(MAX_TOKEN_BYTES) });
    expect(padded.length).toBeGreaterThan(MAX_TOKEN_BYTES);
    expect(await outcome(padded)).toBe('AUTH_TOKEN_TOO_LARGE');
    const err = await verify(padded).catch((e: unknown) => e);
    expect((err as AppError).status).toBe(401);
    expect(await outcome(await raw({ ...good, pad: 'x'.repeat(Math.floor(MAX_TOKEN_BYTES * 0.7)) }))).toBe('accepted');
  });

  it('checks the configured audience and issuer of an ES256 identity platform, and a shorter maximum age', async () => {
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const platform = createTokenVerifier(
      { ...auth, jwtSecret: null, publicKeyPem: kp.publicKey.export({ type: 'spki', format: 'pem' }) as string, audience: 'https://svc', issuer: 'https://idp', maxTokenAgeSeconds: 600 },
      () => NOW,
    );
    const es = (c: Record<string, unknown>) => new SignJWT(c).setProtectedHeader({ alg: 'ES256' }).sign(kp.privateKey);
    const ok = { sub: 'S1', role: 'applicant', aud: 'https://svc', iss: 'https://idp', iat: NOW_S, exp: NOW_S + 600 };
    await expect(platform(await es(ok))).resolves.toMatchObject({ sub: 'S1' });
    await expect(platform(await es({ ...ok, aud: DEV_AUTH_AUDIENCE }))).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
    await expect(platform(await es({ ...ok, iss: DEV_AUTH_ISSUER }))).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
    await expect(platform(await es({ ...ok, exp: NOW_S + 3600 }))).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
  });

  it('takes an RS256 key for RS256 tokens only: not an ES256 token, not HS256 keyed with the public key (algorithm confusion)', async () => {
    const kp = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = kp.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const platform = createTokenVerifier({ ...auth, jwtSecret: null, publicKeyPem: pem }, () => NOW);
    const ok = { sub: 'S2', role: 'applicant', aud: DEV_AUTH_AUDIENCE, iss: DEV_AUTH_ISSUER, iat: NOW_S, exp: NOW_S + 600 };
    await expect(platform(await new SignJWT(ok).setProtectedHeader({ alg: 'RS256' }).sign(kp.privateKey))).resolves.toMatchObject({ sub: 'S2' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expect(platform(await new SignJWT(ok).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey))).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
    await expect(platform(await new SignJWT(ok).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(pem)))).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
  });

  it('will not build without an audience or issuer (fails closed)', () => {
    expect(() => createTokenVerifier({ ...auth, audience: null })).toThrow(/AUTH_AUDIENCE/);
    expect(() => createTokenVerifier({ ...auth, issuer: null })).toThrow(/AUTH_ISSUER/);
  });
});

describe('AUTH_AUDIENCE, AUTH_ISSUER and AUTH_MAX_TOKEN_AGE_SECONDS in configuration', () => {
  // Outside production the configuration writes a development webhook key into DATA_DIR.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'miaopi-auth-config-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { AUTH_JWT_SECRET: SECRET, DATA_DIR: dataDir };
  it('default to the development values outside production, and 12 hours', () => {
    const c = loadConfig(base);
    expect(c.auth).toMatchObject({ audience: DEV_AUTH_AUDIENCE, issuer: DEV_AUTH_ISSUER, maxTokenAgeSeconds: 12 * 3600 });
  });
  it('take the configured values', () => {
    const c = loadConfig({ ...base, AUTH_AUDIENCE: 'https://svc', AUTH_ISSUER: 'https://idp', AUTH_MAX_TOKEN_AGE_SECONDS: '900' });
    expect(c.auth).toMatchObject({ audience: 'https://svc', issuer: 'https://idp', maxTokenAgeSeconds: 900 });
  });
  it('refuse an audience with spaces and a maximum age above a week', () => {
    expect(() => loadConfig({ ...base, AUTH_AUDIENCE: 'two words' })).toThrow(/AUTH_AUDIENCE/);
    expect(() => loadConfig({ ...base, AUTH_MAX_TOKEN_AGE_SECONDS: String(8 * 86_400) })).toThrow(/AUTH_MAX_TOKEN_AGE_SECONDS/);
  });
  it('have no default in production: the production check names each missing one on its own line', () => {
    const c = loadConfig({ NODE_ENV: 'production', AUTH_JWKS_URL: 'https://idp.example/jwks.json', DATA_DIR: dataDir });
    expect(c.auth.audience).toBeNull();
    expect(c.auth.issuer).toBeNull();
    const problems = productionConfigProblems(c, []);
    expect(problems.filter((p) => p.startsWith('AUTH_AUDIENCE: not set'))).toHaveLength(1);
    expect(problems.filter((p) => p.startsWith('AUTH_ISSUER: not set'))).toHaveLength(1);
    const set = loadConfig({ NODE_ENV: 'production', AUTH_JWKS_URL: 'https://idp.example/jwks.json', AUTH_AUDIENCE: 'a', AUTH_ISSUER: 'i', DATA_DIR: dataDir });
    expect(productionConfigProblems(set, []).filter((p) => p.startsWith('AUTH_'))).toEqual([]);
  });
});
