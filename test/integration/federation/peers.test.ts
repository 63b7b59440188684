/**
 * Trust in peer city nodes (DESIGN.md §12) on SQLite and PostgreSQL: a peer's anchors are fetched from its
 * /v1/trust?scope=own over HTTP on first contact and pinned in the database — the first pin wins, for every
 * process and after restarts, so a peer whose anchors later change is not followed silently; FEDERATION_TRUST_DIR
 * takes precedence; anything but CA certificates is refused; a peer that cannot be reached pins nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeerDirectory, PeerUnavailableError } from '../../../src/federation/peers.js';
import { freePort } from '../../../src/local-redis.js';
import { ensureDevNodeIdentity, ensureDevPki } from '../../../src/signing/pki.js';
import type { Store } from '../../../src/store/types.js';
import { testBackends } from '../../support/databases.js';
import { tempDir } from '../../support/pdf-tools.js';

let tmp: ReturnType<typeof tempDir>;
let rootA: string;
let rootB: string;
let leaf: string;
let served = '';
let hits = 0;
let server: Server;
let peerUrl: string;

beforeAll(async () => {
  tmp = tempDir('peers-');
  rootA = (await ensureDevPki(path.join(tmp.dir, 'a'), [])).rootsPem;
  rootB = (await ensureDevPki(path.join(tmp.dir, 'b'), [])).rootsPem;
  leaf = (await ensureDevNodeIdentity(path.join(tmp.dir, 'a'), '210400')).certPem;
  server = createServer((req, res) => {
    hits += 1;
    if (req.url !== '/v1/trust?scope=own') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(served);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  peerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  tmp?.cleanup();
});

describe.each(testBackends())('peer anchors ($name)', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await store?.close();
    await backend.cleanup();
  });

  const directory = (o: { url?: string; trustDir?: string | null } = {}) =>
    createPeerDirectory({ own: '210100', peers: [{ city: '210400', baseUrl: o.url ?? peerUrl }], trustDir: o.trustDir ?? null, store: store.federation, timeoutMs: 1000, clock: () => new Date() });

  it('pins the anchors a peer serves on first contact, and keeps them when the peer later serves others', async () => {
    served = rootA;
    const first = await directory().anchors('210400');
    expect(first).toMatchObject({ origin: 'tofu' });
    expect(first!.certificates.map((c) => c.subject)).toEqual([expect.stringContaining('CN=')]);
    expect(first!.pem.trim()).toBe(rootA.trim());

    served = rootB;
    const before = hits;
    // A new directory (another process, a restart) reads the pin from the database and asks the peer nothing.
    const again = await directory().anchors('210400');
    expect(again!.pem.trim()).toBe(rootA.trim());
    expect(hits).toBe(before);
    expect((await store.federation.getPeer('210400'))!.anchorsPem.trim()).toBe(rootA.trim());
    expect(await directory().anchors('210500')).toBeNull();
  });

  it('takes FEDERATION_TRUST_DIR/CODE.pem before anything pinned or served', async () => {
    const dir = path.join(tmp.dir, `trust-${backend.name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '210400.pem'), rootB);
    const a = await directory({ trustDir: dir }).anchors('210400');
    expect(a).toMatchObject({ origin: 'file' });
    expect(a!.pem.trim()).toBe(rootB.trim());
  });
});

describe('peer anchors that cannot be pinned', () => {
  it('refuses a leaf certificate as an anchor, and pins nothing for a peer that does not answer', async () => {
    const store = await testBackends()[0]!.open();
    try {
      served = leaf;
      const d = createPeerDirectory({ own: '210100', peers: [{ city: '210400', baseUrl: peerUrl }], trustDir: null, store: store.federation, timeoutMs: 1000, clock: () => new Date() });
      await expect(d.anchors('210400')).rejects.toThrow(/CA certificate/);
      const down = createPeerDirectory({ own: '210100', peers: [{ city: '210400', baseUrl: `http://127.0.0.1:${await freePort()}` }], trustDir: null, store: store.federation, timeoutMs: 500, clock: () => new Date() });
      await expect(down.anchors('210400')).rejects.toThrow(PeerUnavailableError);
      expect(await store.federation.getPeer('210400')).toBeNull();
    } finally {
      await store.close();
    }
  });
});
