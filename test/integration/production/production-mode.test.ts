/**
 * Production mode (DESIGN.md §9, issue 12) on real processes: NODE_ENV=production refuses to start — exit code ≠ 0,
 * one line per problem, nothing listening — whenever a development key, secret or demo data would be used; and,
 * configured as a city would (department keys in a SoftHSM2 token, ES256 tokens from an identity platform's public
 * key, every data source over HTTP, the e-seal platform at ESEAL_URL), it starts and issues a certificate that the
 * shared verifier accepts.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/load-catalog.js';
import { envNameFor, loadSourceRegistry } from '../../../src/data-sources/registry.js';
import { freePort } from '../../../src/local-redis.js';
import { ensureDevPki } from '../../../src/signing/pki.js';
import { startESealStandin, type ESealStandin } from '../../../src/standins/eseal-server.js';
import { loadDemoDataRecords, RULES_DIR, startDataSourceServer, type DataSourceServer } from '../../support/datasource-server.js';
import { tempDir, verifyCertificate, writeTemp } from '../../support/pdf-tools.js';
import { createSoftHsmToken, type SoftHsmToken } from '../../support/softhsm.js';
import { grainFiling, HAPPY_USCC, REPO_ROOT } from '../../support/stack.js';

const tmp = tempDir('production-');
const registry = loadSourceRegistry(RULES_DIR);
/** Every issuing department of the catalog: each needs its key in the token. */
const DEPARTMENTS = [
  ...new Map([...loadCatalog(RULES_DIR, new Set(registry.map((s) => s.id))).matters.values()].map((m) => [m.def.department.code, { code: m.def.department.code, name: m.def.department.name }])).values(),
];

let hsm: SoftHsmToken;
let sources: DataSourceServer;
let eseal: ESealStandin;
/** Made per run: a key that seals webhook secrets at rest (production refuses without WEBHOOK_SECRET_KEY). */
const WEBHOOK_KEY = randomBytes(32).toString('base64');
/** What the identity platform of this test names itself and this service. */
const AUDIENCE = 'https://miaopi.test.example';
const ISSUER = 'https://idp.test.example';
/** Made per run: the key that signs the audit chain's checkpoints (production refuses without AUDIT_SIGNING_KEY). */
const AUDIT_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
let es256: { privateKey: ReturnType<typeof generateKeyPairSync>['privateKey']; publicPem: string };

beforeAll(async () => {
  hsm = await createSoftHsmToken(path.join(tmp.dir, 'hsm'), DEPARTMENTS);
  sources = await startDataSourceServer({ records: loadDemoDataRecords() });
  eseal = await startESealStandin({ dataDir: path.join(tmp.dir, 'eseal'), rulesDir: RULES_DIR });
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  es256 = { privateKey: kp.privateKey, publicPem: kp.publicKey.export({ type: 'spki', format: 'pem' }) as string };
}, 60_000);
afterAll(async () => {
  await sources?.close();
  await eseal?.close();
  tmp.cleanup();
});

/** Everything production needs, pointing at this test's token, key, sources and platform. */
function configured(port: number, dataDir: string): Record<string, string> {
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    RULES_DIR,
    CERTS_DIR: path.join(dataDir, 'certs-must-stay-empty'),
    LOG_LEVEL: 'warn',
    AUTH_PUBLIC_KEY: es256.publicPem,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_ISSUER: ISSUER,
    SEAL_BACKEND: 'pkcs11',
    SEAL_PKCS11_MODULE: hsm.module,
    SEAL_PKCS11_TOKEN: hsm.token,
    SEAL_PKCS11_PIN: hsm.pin,
    SOFTHSM2_CONF: hsm.conf,
    ESEAL_URL: eseal.url,
    WEBHOOK_SECRET_KEY: WEBHOOK_KEY,
    AUDIT_SIGNING_KEY: AUDIT_KEY,
  };
  for (const { id } of registry) env[envNameFor(id)] = sources.url(id);
  return env;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an entry point until it exits (bounded); what a refused start looks like. */
function runUntilExit(entry: string, env: Record<string, string>, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The refusal lines a run printed (after the header). */
const refusalLines = (r: Run) => r.stderr.split('\n').filter((l) => /^\[\w+\]\s{3}\S/.test(l));

describe('production mode refuses to start', () => {
  it('with nothing configured: exits ≠ 0 before listening, one line per missing item', async () => {
    const port = await freePort();
    const dataDir = path.join(tmp.dir, 'bare');
    const r = await runUntilExit('src/server.ts', { NODE_ENV: 'production', PORT: String(port), DATA_DIR: dataDir, RULES_DIR, CERTS_DIR: path.join(dataDir, 'certs') });
    expect(r.code).not.toBe(0);
    expect(await listening(port)).toBe(false);
    const lines = refusalLines(r);
    expect(r.stderr).toContain('生产模式拒绝启动 Production mode refuses to start');
    const expected = ['AUTH_JWKS_URL or AUTH_PUBLIC_KEY', 'AUTH_AUDIENCE', 'AUTH_ISSUER', 'SEAL_BACKEND', 'ESEAL_URL', ...registry.map((s) => envNameFor(s.id)), 'WEBHOOK_SECRET_KEY', 'AUDIT_SIGNING_KEY'];
    for (const item of expected) expect(lines.filter((l) => l.includes(item)), `${item} in:\n${r.stderr}`).toHaveLength(1);
    expect(lines).toHaveLength(expected.length);
    // Nothing development-only was made on the way out: no secret, no keys.
    expect(() => readFileSync(path.join(dataDir, 'dev-jwt-secret'))).toThrow();
    expect(() => readFileSync(path.join(dataDir, 'certs', 'root.key.pem'))).toThrow();
    expect(() => readFileSync(path.join(dataDir, 'dev-webhook-secret-key'))).toThrow();
    expect(() => readFileSync(path.join(dataDir, 'dev-audit-signing-key.pem'))).toThrow();
    console.log(`PRODUCTION refused with nothing configured: exit ${r.code}, ${lines.length} lines for ${expected.length} missing items`);
  }, 90_000);

  const cases: Array<[string, (env: Record<string, string>, dir: string) => void, RegExp]> = [
    ['HS256 as the only token verifier', (e) => {
      delete e['AUTH_PUBLIC_KEY'];
      e['AUTH_JWT_SECRET'] = 'a-development-secret-that-is-long-enough-0123';
    }, /AUTH_JWKS_URL or AUTH_PUBLIC_KEY: not set/],
    ['the dev token endpoint', (e) => {
      delete e['AUTH_PUBLIC_KEY'];
      e['AUTH_JWT_SECRET'] = 'a-development-secret-that-is-long-enough-0123';
      e['AUTH_DEV_SIGN_IN'] = 'true';
    }, /AUTH_DEV_SIGN_IN: must not be true/],
    ['tokens without a checked audience', (e) => void delete e['AUTH_AUDIENCE'], /AUTH_AUDIENCE: not set/],
    ['tokens without a checked issuer', (e) => void delete e['AUTH_ISSUER'], /AUTH_ISSUER: not set/],
    ['a data source without a URL (demo data)', (e) => void delete e['DATASOURCE_CREDIT_URL'], /DATASOURCE_CREDIT_URL: not set — data source credit/],
    ['the development PKI for department seals', (e) => {
      for (const k of Object.keys(e)) if (k.startsWith('SEAL_')) delete e[k];
    }, /SEAL_BACKEND: not set — the development PKI/],
    ['seal keys mounted from the development key folder', (e) => {
      for (const k of Object.keys(e)) if (k.startsWith('SEAL_')) delete e[k];
      e['SEAL_BACKEND'] = 'file';
      e['SEAL_KEYS_DIR'] = e['CERTS_DIR']!;
    }, /SEAL_KEYS_DIR: .* is the development key folder/],
    ['the in-process development e-seal authority', (e) => void delete e['ESEAL_URL'], /ESEAL_URL: not set/],
    ['webhook secrets without an encryption key', (e) => void delete e['WEBHOOK_SECRET_KEY'], /WEBHOOK_SECRET_KEY: not set/],
    ['audit checkpoints without a signing key', (e) => void delete e['AUDIT_SIGNING_KEY'], /AUDIT_SIGNING_KEY: not set/],
  ];

  it.each(cases)('refuses %s, naming exactly that', async (_name, change, line) => {
    const port = await freePort();
    const dataDir = path.join(tmp.dir, `case-${port}`);
    const env = configured(port, dataDir);
    change(env, dataDir);
    const r = await runUntilExit('src/server.ts', env);
    expect(r.code).not.toBe(0);
    expect(await listening(port)).toBe(false);
    const lines = refusalLines(r);
    expect(lines.some((l) => line.test(l)), r.stderr).toBe(true);
    expect(lines.length).toBeLessThanOrEqual(2);
  }, 90_000);

  it('refuses seal keys issued by the development PKI, even mounted elsewhere', async () => {
    const port = await freePort();
    const dataDir = path.join(tmp.dir, 'dev-keys-mounted');
    const pki = await ensureDevPki(path.join(tmp.dir, 'a-dev-pki'), DEPARTMENTS);
    const mounted = path.join(tmp.dir, 'mounted-keys');
    mkdirSync(mounted, { recursive: true });
    for (const d of DEPARTMENTS) {
      cpSync(path.join(pki.dir, 'departments', `${d.code}.key.pem`), path.join(mounted, `${d.code}.key.pem`));
      writeFileSync(path.join(mounted, `${d.code}.cert.pem`), readFileSync(path.join(pki.dir, 'departments', `${d.code}.cert.pem`), 'utf8') + pki.rootsPem);
    }
    const env = configured(port, dataDir);
    for (const k of Object.keys(env)) if (k.startsWith('SEAL_')) delete env[k];
    Object.assign(env, { SEAL_BACKEND: 'file', SEAL_KEYS_DIR: mounted });
    const r = await runUntilExit('src/main.ts', env);
    expect(r.code).not.toBe(0);
    expect(await listening(port)).toBe(false);
    const lines = refusalLines(r);
    for (const d of DEPARTMENTS) expect(lines.some((l) => l.includes(`department ${d.code}'s seal certificate is issued by the development PKI`)), r.stderr).toBe(true);
    expect(lines.some((l) => l.includes('the development root would be published at /v1/trust'))).toBe(true);
  }, 90_000);

  it('refuses HSM keys that can leave the token (CKA_EXTRACTABLE)', async () => {
    const leaky = await createSoftHsmToken(path.join(tmp.dir, 'hsm-leaky'), DEPARTMENTS, { extractable: true });
    const port = await freePort();
    const env = configured(port, path.join(tmp.dir, 'leaky'));
    Object.assign(env, { SEAL_PKCS11_TOKEN: leaky.token, SEAL_PKCS11_PIN: leaky.pin, SOFTHSM2_CONF: leaky.conf });
    const r = await runUntilExit('src/main.ts', env);
    expect(r.code).not.toBe(0);
    expect(await listening(port)).toBe(false);
    expect(r.stderr).toMatch(/key "11210100MB0E12346R" is extractable; production needs CKA_EXTRACTABLE=false/);
    process.env['SOFTHSM2_CONF'] = hsm.conf;
  }, 90_000);
});

describe('production mode, configured (SoftHSM2 token, ES256 key, source URLs, e-seal platform)', () => {
  it('starts with one command and issues a certificate that passes the shared verifier', async () => {
    const port = await freePort();
    const dataDir = path.join(tmp.dir, 'configured');
    const env = configured(port, dataDir);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    try {
      const base = `http://127.0.0.1:${port}`;
      // tsx compiles the whole service on a cold start: on a loaded CI machine that alone has taken over a minute.
      const until = Date.now() + 150_000;
      while (!(await fetch(`${base}/readyz`).then((r) => r.ok).catch(() => false))) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`service did not become ready (exit code ${child.exitCode}):\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const token = await new SignJWT({ role: 'applicant' })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject(HAPPY_USCC)
        .setAudience(AUDIENCE)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(es256.privateKey);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      // HS256 with any secret is not accepted.
      const hs = await new SignJWT({ role: 'applicant' }).setProtectedHeader({ alg: 'HS256' }).setSubject(HAPPY_USCC).setExpirationTime('10m').sign(new TextEncoder().encode('x'.repeat(40)));
      expect((await fetch(`${base}/v1/applications/x`, { headers: { authorization: `Bearer ${hs}` } })).status).toBe(401);
      // The platform's own key, but a token minted for another system: refused.
      const foreign = await new SignJWT({ role: 'applicant' })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject(HAPPY_USCC)
        .setAudience('https://another-system.example')
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(es256.privateKey);
      expect((await fetch(`${base}/v1/applications/x`, { headers: { authorization: `Bearer ${foreign}` } })).status).toBe(401);
      expect((await fetch(`${base}/v1/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);

      const post = await fetch(`${base}/v1/applications`, { method: 'POST', headers, body: JSON.stringify(grainFiling()) });
      expect(post.status).toBe(202);
      const { id } = (await post.json()) as { id: string };
      let app: { status: string; certificate?: { id: string } } = { status: 'queued' };
      for (const stop = Date.now() + 30_000; ['queued', 'processing'].includes(app.status) && Date.now() < stop; ) {
        await new Promise((r) => setTimeout(r, 200));
        app = (await (await fetch(`${base}/v1/applications/${id}`, { headers })).json()) as typeof app;
      }
      expect(app.status, `${JSON.stringify(app)}\n${output}`).toBe('approved');
      const pdf = Buffer.from(await (await fetch(`${base}/v1/certificates/${app.certificate!.id}/pdf`, { headers })).arrayBuffer());
      const trust = await (await fetch(`${base}/v1/trust`)).text();
      expect(trust.trim()).toBe(hsm.rootPem.trim());
      const r = await verifyCertificate(writeTemp(tmp.dir, 'production-cert.pdf', pdf), writeTemp(tmp.dir, 'production-trust.pem', trust), ['沈阳丰禾粮食购销有限公司']);
      expect(r.stdout, r.stdout + r.stderr).toContain('ALL PASS');
      // Signed inside the HSM by the department's key: the CMS (hex in /Contents) carries the token's certificate.
      const holder = hsm.certificates.get('11210100MB0E12346R')!;
      expect(pdf.toString('latin1').includes(holder.raw.toString('hex'))).toBe(true);
      // No development key or secret was made anywhere.
      expect(() => readFileSync(path.join(env['CERTS_DIR']!, 'root.key.pem'))).toThrow();
      expect(() => readFileSync(path.join(dataDir, 'dev-jwt-secret'))).toThrow();
      console.log(`PRODUCTION configured run: approved ${id}, certificate signed through PKCS#11 (SoftHSM2 token ${hsm.token}) passes verify-certificate.sh`);
    } finally {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
      if (code === null) child.kill('SIGKILL');
    }
  }, 240_000);
});
