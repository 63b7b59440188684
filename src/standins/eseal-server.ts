/**
 * A stand-in for the e-seal platform (DESIGN.md §9) over real HTTP, for development, tests and a production-mode
 * trial run: `GET /seals/{code}` and `POST /seals/{code}/sign` exactly as the contract says, backed by the
 * development authority logic with its own self-signed root (persisted in `dataDir`, so its trust anchor survives
 * restarts) and seals kept in memory. Enrolled at start: every enterprise of the market-entity demo data and every
 * person of the population demo data; more with `POST /seals {uscc, name}` (stand-in administration, not part of
 * the contract) or `synthetic` (enterprises of src/standins/synthetic.ts, enrolled on first look-up).
 * `PUT /seals/{code}/status {status}` changes a seal's status; `setMode` makes the whole platform misbehave.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { loadDemoRecords } from '../data-sources/registry.js';
import { sealPicture } from '../documents/seal-picture.js';
import { isJsonObject } from '../data-sources/hash.js';
import { SEAL_STATUSES, type SealStatus } from '../signing/eseal/contract.js';
import { createDevelopmentAuthority, memorySealStore, type StoredSeal } from '../signing/eseal/development-authority.js';
import { caName, selfSignedCa } from '../signing/seal-certificate.js';
import { syntheticEnterprise } from './synthetic.js';

/** ok: per contract; 503; hang: never answer; garbage: 200 HTML; bare-404: 404 without {"found": false}. */
export type ESealMode = 'ok' | '503' | 'hang' | 'garbage' | 'bare-404';

export interface ESealStandin {
  url: string;
  /** PEM of the stand-in platform's root (what ESEAL_TRUST_ROOTS names). */
  rootsPem: string;
  setMode(mode: ESealMode): void;
  /** Enrols (or renames nothing if enrolled) a subject; returns its sealId. */
  enrol(code: string, name: string): Promise<string>;
  setStatus(code: string, status: SealStatus): Promise<boolean>;
  /** Requests served, by route. */
  readonly counts: { lookups: number; signs: number };
  close(): Promise<void>;
}

export interface ESealStandinOptions {
  /** Where the stand-in keeps its root key (created on first start). */
  dataDir: string;
  /** rules/ folder whose demo data names the enterprises and people enrolled at start. */
  rulesDir?: string;
  port?: number;
  host?: string;
  /** Synthetic enterprises (index 0 … count-1 of `seed`) are enrolled on first look-up. */
  synthetic?: { count: number; seed: number };
}

const ROOT_CN = '电子印章平台 测试替身根证书 (仅供测试)';

function loadOrCreateRoot(dir: string): { key: KeyObject; certificate: Uint8Array } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, 'root.key.pem');
  const certFile = path.join(dir, 'root.cert.pem');
  try {
    const key = createPrivateKey(readFileSync(keyFile, 'utf8'));
    return { key, certificate: new Uint8Array(new X509Certificate(readFileSync(certFile, 'utf8')).raw) };
  } catch {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Date.now();
    const der = selfSignedCa(privateKey, publicKey.export({ type: 'spki', format: 'der' }), caName('电子印章平台（测试替身）', ROOT_CN), new Date(now - 3_600_000), new Date(now + 10 * 365 * 86_400_000));
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(certFile, new X509Certificate(der).toString(), { mode: 0o644 });
    return { key: privateKey, certificate: new Uint8Array(der) };
  }
}

export async function startESealStandin(o: ESealStandinOptions): Promise<ESealStandin> {
  const ca = loadOrCreateRoot(o.dataDir);
  const store = memorySealStore();
  const authority = createDevelopmentAuthority({ store, ca, poolSize: 32 });
  const rootsPem = new X509Certificate(Buffer.from(ca.certificate)).toString();
  // The seal's picture, drawn once per seal (GB/T 38540 seals carry one; pages draw the seal as vectors).
  const pictures = new Map<string, string>();
  const pictureOf = (s: StoredSeal): string => {
    let p = pictures.get(s.code);
    if (p === undefined) {
      p = sealPicture(s.name, s.code.length === 18 && /^\d{17}[\dX]$/.test(s.code) ? '个人电子签名' : '电子印章').toString('base64');
      if (pictures.size > 10_000) pictures.clear();
      pictures.set(s.code, p);
    }
    return p;
  };
  const chainPem = (s: StoredSeal) => `${new X509Certificate(Buffer.from(s.certificate)).toString()}${rootsPem}`;

  const names = new Map<string, string>();
  if (o.rulesDir) {
    for (const r of Object.values(loadDemoRecords(o.rulesDir, 'market-entity'))) {
      if (typeof r['uscc'] === 'string' && typeof r['name'] === 'string') names.set(r['uscc'], r['name']);
    }
    for (const r of Object.values(loadDemoRecords(o.rulesDir, 'population'))) {
      if (typeof r['idNumber'] === 'string' && typeof r['name'] === 'string') names.set(r['idNumber'], r['name']);
    }
  }
  const synthetic = new Map<string, string>();
  if (o.synthetic) {
    for (let i = 0; i < o.synthetic.count; i++) {
      const e = syntheticEnterprise(i, o.synthetic.seed);
      synthetic.set(e.uscc, e.name);
    }
  }

  async function sealOf(code: string): Promise<StoredSeal | null> {
    const have = await store.get(code);
    if (have) return have;
    const name = names.get(code) ?? synthetic.get(code);
    if (name === undefined) return null;
    await authority.enrol({ code, name });
    return store.get(code);
  }

  let mode: ESealMode = 'ok';
  const counts = { lookups: 0, signs: 0 };
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/seals(?:\/([^/?]+))?(\/sign|\/status)?$/.exec((req.url ?? '').split('?')[0] ?? '');
    if (!m) return send(res, 404, { found: false, message: 'no such route' });
    let code = '';
    try {
      code = decodeURIComponent(m[1] ?? '');
    } catch {
      return send(res, 400, { message: 'bad code encoding' });
    }
    const body = req.method === 'POST' || req.method === 'PUT' ? await readJson(req) : undefined;

    // Stand-in administration (not the contract): register a subject, change a seal's status.
    if (req.method === 'POST' && !m[1]) {
      if (!isJsonObject(body) || typeof body['uscc'] !== 'string' || typeof body['name'] !== 'string') return send(res, 400, { message: 'need {uscc, name}' });
      names.set(body['uscc'], body['name']);
      const s = await sealOf(body['uscc']);
      return send(res, 201, { sealId: s?.sealId });
    }
    if (req.method === 'PUT' && m[2] === '/status') {
      const status = isJsonObject(body) ? body['status'] : undefined;
      if (typeof status !== 'string' || !(SEAL_STATUSES as readonly string[]).includes(status)) return send(res, 400, { message: `status must be one of ${SEAL_STATUSES.join('/')}` });
      await sealOf(code);
      return (await authority.setStatus(code, status as SealStatus)) ? send(res, 204, null) : send(res, 404, { found: false });
    }

    switch (mode) {
      case 'hang':
        return;
      case '503':
        return send(res, 503, { message: 'service unavailable' });
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end('<html><body>gateway</body></html>');
      case 'bare-404':
        res.writeHead(404, { 'content-type': 'text/html' });
        return void res.end('<html><body>404 Not Found</body></html>');
      case 'ok':
        break;
    }

    if (req.method === 'GET' && !m[2]) {
      counts.lookups++;
      const s = await sealOf(code);
      if (!s) return send(res, 404, { found: false });
      return send(res, 200, { uscc: s.code, sealId: s.sealId, name: s.name, certificate: chainPem(s), picture: pictureOf(s), validUntil: s.validUntil, status: s.status });
    }
    if (req.method === 'POST' && m[2] === '/sign') {
      counts.signs++;
      if (!isJsonObject(body)) return send(res, 400, { message: 'body must be JSON' });
      const { sealId, digestAlgorithm, digest, authorization } = body;
      if (typeof sealId !== 'string' || (digestAlgorithm !== 'sha256' && digestAlgorithm !== 'sm3') || typeof digest !== 'string' || !isJsonObject(authorization)) {
        return send(res, 400, { message: 'need {sealId, digestAlgorithm: sha256|sm3, digest: base64, authorization: {applicationId, purpose}}' });
      }
      const s = await sealOf(code);
      if (!s) return send(res, 404, { found: false });
      if (s.status !== '有效') return send(res, 409, { message: `seal status is ${s.status}` });
      const applicationId = authorization['applicationId'];
      const purpose = authorization['purpose'];
      if (typeof applicationId !== 'string' || typeof purpose !== 'string') return send(res, 400, { message: 'authorization needs applicationId and purpose' });
      const r = await authority.sign(code, { sealId, digestAlgorithm, digest: Buffer.from(digest, 'base64'), authorization: { applicationId, purpose } });
      if (!r.ok) return send(res, 422, { message: r.error });
      return send(res, 200, { signature: Buffer.from(r.signature).toString('base64'), algorithm: r.algorithm });
    }
    return send(res, 405, { message: 'method not allowed' });
  }

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { message: String(err) }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    rootsPem,
    setMode: (m) => void (mode = m),
    async enrol(code, name) {
      names.set(code, name);
      return (await sealOf(code))!.sealId;
    },
    async setStatus(code, status) {
      await sealOf(code);
      return authority.setStatus(code, status);
    },
    counts,
    close: () =>
      new Promise<void>((resolve, reject) => {
        void authority.close();
        for (const s of sockets) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n <= 64 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch {
        resolve(undefined);
      }
    });
    req.on('error', () => resolve(undefined));
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === null) {
    res.writeHead(status);
    return void res.end();
  }
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
  res.end(bytes);
}
