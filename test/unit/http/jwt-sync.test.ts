/**
 * src/http/jwt-sync.ts against jose's jwtVerify with the options auth.ts gives it: on a corpus of good and bad
 * tokens (HS256, ES256, RS256; claims each way wrong; headers forged, algorithms confused, segments damaged,
 * signatures over damaged JSON) both accept the same tokens with the same claims, and refuse the same ones naming
 * the same claim. Non-canonical encodings jose tolerates (padding, whitespace) the synchronous verifier refuses.
 */
import { createHmac, generateKeyPairSync, sign, webcrypto, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { JwtRefused, verifyJwtSync, type SyncJwtKey, type SyncJwtOptions } from '../../../src/http/jwt-sync.js';

const NOW = new Date('2026-12-07T04:00:00.000Z');
const T = Math.floor(NOW.getTime() / 1000);
const OPTS: SyncJwtOptions = { requiredClaims: ['sub', 'exp', 'iat'], audience: 'miaopi-api', issuer: 'miaopi-dev', maxTokenAge: 43_200, clockTolerance: 30 };
const SECRET = Buffer.from('a-development-secret-of-enough-length-0123', 'utf8');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const json = (v: unknown) => b64(JSON.stringify(v));

type Alg = 'HS256' | 'ES256' | 'RS256';
function signWith(alg: Alg, input: string, key?: KeyObject): string {
  if (alg === 'HS256') return b64(createHmac('sha256', SECRET).update(input).digest());
  if (alg === 'ES256') return b64(sign('sha256', Buffer.from(input), { key: key ?? ec.privateKey, dsaEncoding: 'ieee-p1363' }));
  return b64(sign('sha256', Buffer.from(input), key ?? rsa.privateKey));
}
/** A token from raw header and payload segments, signed over exactly those. */
function raw(alg: Alg, h: string, p: string, key?: KeyObject): string {
  return `${h}.${p}.${signWith(alg, `${h}.${p}`, key)}`;
}
const good = { sub: '91210100MA0TEST001', role: 'applicant', aud: 'miaopi-api', iss: 'miaopi-dev', iat: T - 60, exp: T + 3600 };
const tok = (alg: Alg, payload: unknown, header: Record<string, unknown> = {}) => raw(alg, json({ alg, typ: 'JWT', ...header }), json(payload));

/** The corpus: [label, algorithm of the verifying key, token]. */
function corpus(): Array<[string, Alg, string]> {
  const c: Array<[string, Alg, string]> = [];
  for (const alg of ['HS256', 'ES256', 'RS256'] as const) {
    const add = (label: string, t: string) => c.push([`${alg} ${label}`, alg, t]);
    add('good', tok(alg, good));
    add('aud list naming us', tok(alg, { ...good, aud: ['other', 'miaopi-api'] }));
    add('aud list without us', tok(alg, { ...good, aud: ['other'] }));
    add('aud wrong', tok(alg, { ...good, aud: 'other' }));
    add('aud number', tok(alg, { ...good, aud: 7 }));
    add('iss wrong', tok(alg, { ...good, iss: 'evil' }));
    for (const k of ['sub', 'exp', 'iat', 'aud', 'iss'] as const) {
      const { [k]: _drop, ...rest } = good;
      add(`no ${k}`, tok(alg, rest));
    }
    add('no iss and no aud', tok(alg, { sub: good.sub, iat: good.iat, exp: good.exp }));
    add('expired', tok(alg, { ...good, exp: T - 31 }));
    add('expired within skew', tok(alg, { ...good, exp: T - 29 }));
    add('exp exactly now - skew', tok(alg, { ...good, exp: T - 30 }));
    add('exp string', tok(alg, { ...good, exp: String(T + 60) }));
    add('exp null', tok(alg, { ...good, exp: null }));
    add('iat future beyond skew', tok(alg, { ...good, iat: T + 31 }));
    add('iat future within skew', tok(alg, { ...good, iat: T + 29 }));
    add('iat too old', tok(alg, { ...good, iat: T - 43_200 - 31, exp: T + 60 }));
    add('iat old within skew', tok(alg, { ...good, iat: T - 43_200 - 29, exp: T + 60 }));
    add('iat string', tok(alg, { ...good, iat: 'yesterday' }));
    add('nbf future', tok(alg, { ...good, nbf: T + 31 }));
    add('nbf within skew', tok(alg, { ...good, nbf: T + 29 }));
    add('nbf string', tok(alg, { ...good, nbf: 'soon' }));
    add('huge exp', tok(alg, { ...good, exp: 1e20 }));
    add('payload array', tok(alg, [good]));
    add('payload string', tok(alg, 'hello'));
    add('payload null', tok(alg, null));
    add('payload not JSON', raw(alg, json({ alg }), b64('{"sub":')));
    add('payload invalid UTF-8', raw(alg, json({ alg }), b64(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))));
    add('header array', raw(alg, b64(JSON.stringify([{ alg }])), json(good)));
    add('header not JSON', raw(alg, b64('{alg'), json(good)));
    add('no alg', tok(alg, good, { alg: undefined }));
    add('alg empty', tok(alg, good, { alg: '' }));
    add('alg none', `${json({ alg: 'none' })}.${json(good)}.`);
    add('crit b64 true', tok(alg, good, { crit: ['b64'], b64: true }));
    add('crit b64 false', tok(alg, good, { crit: ['b64'], b64: false }));
    add('crit b64 missing', tok(alg, good, { crit: ['b64'] }));
    add('crit b64 string', tok(alg, good, { crit: ['b64'], b64: 'yes' }));
    add('crit unknown', tok(alg, good, { crit: ['exp'], exp: 1 }));
    add('crit empty', tok(alg, good, { crit: [] }));
    add('crit not array', tok(alg, good, { crit: 'b64', b64: true }));
    add('crit empty string', tok(alg, good, { crit: [''] }));
    const g = tok(alg, good);
    const [h, p, s] = g.split('.') as [string, string, string];
    add('signature flipped', `${h}.${p}.${s.slice(0, -2)}${s.slice(-2) === 'AA' ? 'AB' : 'AA'}`);
    add('signature truncated', `${h}.${p}.${s.slice(0, 20)}`);
    add('signature empty', `${h}.${p}.`);
    add('payload swapped', `${h}.${json({ ...good, role: 'admin', dept: 'X' })}.${s}`);
    add('two segments', `${h}.${p}`);
    add('four segments', `${g}.x`);
    add('bad base64 in signature', `${h}.${p}.${s}!`);
    // (Only when the signature has a character that differs between the two alphabets.)
    if (/[-_]/.test(s)) add('base64 (not url) signature', `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`);
    add('empty token', '');
  }
  // Algorithm confusion: an HS256 token keyed with the RSA public key, ES256 for an RSA key, RS256 for an EC key.
  const pubPem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
  const h = json({ alg: 'HS256' });
  const p = json(good);
  c.push(['HS256 keyed with the RSA public key, checked as RS256', 'RS256', `${h}.${p}.${b64(createHmac('sha256', pubPem).update(`${h}.${p}`).digest())}`]);
  c.push(['ES256 token, RS256 key', 'RS256', tok('ES256', good)]);
  c.push(['RS256 token, ES256 key', 'ES256', tok('RS256', good)]);
  c.push(['HS256 token, ES256 key', 'ES256', tok('HS256', good)]);
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  c.push(['ES256 signed by another key', 'ES256', raw('ES256', json({ alg: 'ES256' }), json(good), other.privateKey)]);
  return c;
}

async function joseKey(alg: Alg): Promise<webcrypto.CryptoKey | Uint8Array> {
  if (alg === 'HS256') return new Uint8Array(SECRET);
  const spki = (alg === 'ES256' ? ec : rsa).publicKey.export({ type: 'spki', format: 'der' });
  return webcrypto.subtle.importKey('spki', spki, alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
}
function syncKey(alg: Alg): SyncJwtKey {
  return alg === 'HS256' ? { alg, secret: SECRET } : { alg, key: (alg === 'ES256' ? ec : rsa).publicKey };
}

type Outcome = { ok: true; payload: unknown } | { ok: false; claim: string | null };
async function viaJose(token: string, alg: Alg): Promise<Outcome> {
  try {
    const r = await jwtVerify(token, await joseKey(alg), { ...OPTS, requiredClaims: [...OPTS.requiredClaims], algorithms: [alg], currentDate: NOW });
    return { ok: true, payload: r.payload };
  } catch (err) {
    const claim = err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired ? err.claim : null;
    return { ok: false, claim };
  }
}
function viaSync(token: string, alg: Alg): Outcome {
  try {
    return { ok: true, payload: verifyJwtSync(token, syncKey(alg), OPTS, NOW) };
  } catch (err) {
    if (!(err instanceof JwtRefused)) throw err;
    return { ok: false, claim: err.claim };
  }
}

describe('synchronous JWT verification', () => {
  it('agrees with jose on every token of the corpus: accepted with the same claims, or refused naming the same claim', async () => {
    const cases = corpus();
    const disagreements: string[] = [];
    const accepted: string[] = [];
    for (const [label, alg, token] of cases) {
      const [a, b] = [await viaJose(token, alg), viaSync(token, alg)];
      if (JSON.stringify(a) !== JSON.stringify(b)) disagreements.push(`${label}: jose ${JSON.stringify(a)} / sync ${JSON.stringify(b)}`);
      if (b.ok) accepted.push(label);
    }
    expect(disagreements).toEqual([]);
    // Not a corpus of refusals only: these are accepted, for each algorithm.
    const acceptedEach = ['good', 'aud list naming us', 'expired within skew', 'iat future within skew', 'iat old within skew', 'nbf within skew', 'huge exp', 'crit b64 true'];
    expect(accepted.sort()).toEqual((['HS256', 'ES256', 'RS256'] as const).flatMap((a) => acceptedEach.map((l) => `${a} ${l}`)).sort());
    console.log(`JWT-SYNC: ${cases.length} tokens, ${accepted.length} accepted and ${cases.length - accepted.length} refused by both jose and the synchronous verifier`);
  });

  it('refuses padded or whitespace-broken segments that jose would decode', () => {
    const g = tok('HS256', good);
    const [h, p, s] = g.split('.') as [string, string, string];
    for (const t of [`${h}=.${p}.${s}`, `${h}.${p} .${s}`, `${h}.${p}.${s}=`, `${h}.\n${p}.${s}`]) {
      expect(() => verifyJwtSync(t, syncKey('HS256'), OPTS, NOW)).toThrow(JwtRefused);
    }
    expect(verifyJwtSync(g, syncKey('HS256'), OPTS, NOW)['sub']).toBe(good.sub);
  });
});
