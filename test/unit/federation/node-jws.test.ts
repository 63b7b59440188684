/**
 * Node authentication between city nodes (都市圈通办): a JWS signed by a node key whose x5c certificate chains to the
 * anchors pinned for the claimed city and names that city. Two dev PKIs (two cities), real keys, real signatures;
 * every way a request could be forged or replayed is refused. The node certificate also passes `openssl verify`
 * against its own root only.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeIdentity, nodeIdentityFromPem, subjectSerialNumber, type NodeIdentity } from '../../../src/federation/node-identity.js';
import { FederationAuthError, bodyHash, signFederation, verifyFederation, type AnchorLookup } from '../../../src/federation/node-jws.js';
import { federationProductionProblems } from '../../../src/federation/production.js';
import { loadConfig } from '../../../src/config.js';
import { ensureDevNodeIdentity, ensureDevPki } from '../../../src/signing/pki.js';
import { run, tempDir, writeTemp } from '../../support/pdf-tools.js';

let tmp: ReturnType<typeof tempDir>;
let shenyang: NodeIdentity;
let fushun: NodeIdentity;
let roots: Record<string, X509Certificate[]>;
let rootPem: Record<string, string>;
const NOW = new Date();

beforeAll(async () => {
  tmp = tempDir('federation-jws-');
  rootPem = {};
  roots = {};
  for (const city of ['210100', '210400']) {
    const dir = `${tmp.dir}/${city}`;
    const pki = await ensureDevPki(dir, []);
    rootPem[city] = pki.rootsPem;
    roots[city] = [new X509Certificate(pki.rootsPem)];
  }
  shenyang = await loadNodeIdentity({ certsDir: `${tmp.dir}/210100`, federation: { ...loadConfig({ DATA_DIR: tmp.dir }).federation, cityCode: '210100' } });
  fushun = await loadNodeIdentity({ certsDir: `${tmp.dir}/210400`, federation: { ...loadConfig({ DATA_DIR: tmp.dir, CITY_CODE: '210400' }).federation } });
}, 60_000);
afterAll(() => tmp?.cleanup());

const anchors: AnchorLookup = async (city) => roots[city] ?? null;
const request = { method: 'POST', path: '/v1/federation/filings' };

async function signed(identity: NodeIdentity, over: Partial<{ aud: string; htm: string; htu: string; bsha: string }> = {}, body = '{"a":1}', at = NOW) {
  return (await signFederation(identity, { aud: '210400', htm: 'POST', htu: request.path, bsha: bodyHash(body), ...over }, at)).jws;
}

describe('node identity', () => {
  it('issues each city a node certificate from its own root, naming the city, that openssl verifies against that root only', async () => {
    const dev = await ensureDevNodeIdentity(`${tmp.dir}/210400`, '210400');
    const cert = new X509Certificate(dev.certPem);
    expect(subjectSerialNumber(cert)).toBe('210400');
    expect(cert.ca).toBe(false);
    const leaf = writeTemp(tmp.dir, 'node.pem', dev.certPem);
    const own = await run('openssl', ['verify', '-CAfile', writeTemp(tmp.dir, 'own.pem', rootPem['210400']!), leaf]);
    expect(own.code, own.stdout + own.stderr).toBe(0);
    const other = await run('openssl', ['verify', '-CAfile', writeTemp(tmp.dir, 'other.pem', rootPem['210100']!), leaf]);
    expect(other.code).not.toBe(0);
    // The same key on the next start, not a new one.
    expect((await ensureDevNodeIdentity(`${tmp.dir}/210400`, '210400')).certPem).toBe(dev.certPem);
  });

  it('refuses a mounted node certificate that names another city, or a key that is not its own', async () => {
    const dev = await ensureDevNodeIdentity(`${tmp.dir}/210400`, '210400');
    expect(() => nodeIdentityFromPem('210100', dev.keyPem, dev.certPem)).toThrow(/serialNumber must be the city code 210100/);
    const other = await ensureDevNodeIdentity(`${tmp.dir}/210100`, '210100');
    expect(() => nodeIdentityFromPem('210400', other.keyPem, dev.certPem)).toThrow(/not the key of the first certificate/);
  });

  it('production refuses a development node key for a node with peers, and needs none without peers', () => {
    const withPeers = loadConfig({ DATA_DIR: tmp.dir, FEDERATION_PEERS: '210400=http://127.0.0.1:9' });
    expect(federationProductionProblems(withPeers)).toEqual([expect.stringMatching(/^FEDERATION_NODE_KEY/)]);
    expect(federationProductionProblems(loadConfig({ DATA_DIR: tmp.dir }))).toEqual([]);
  });
});

describe('federation JWS', () => {
  it('accepts a request signed by the peer’s node key, chained to its pinned root', async () => {
    const claims = await verifyFederation(await signed(shenyang), { audience: '210400', anchors, now: NOW, body: '{"a":1}', request });
    expect(claims).toMatchObject({ iss: '210100', aud: '210400', htm: 'POST', htu: request.path });
  });

  it.each<[string, () => Promise<{ jws: string; body?: string }>, RegExp]>([
    ['the body was changed', async () => ({ jws: await signed(shenyang), body: '{"a":2}' }), /body hash/],
    ['it is addressed to another node', async () => ({ jws: await signed(shenyang, { aud: '210500' }) }), /aud/],
    ['it was signed for another path', async () => ({ jws: await signed(shenyang, { htu: '/v1/federation/matters' }) }), /another method or path/],
    ['it is too old', async () => ({ jws: await signed(shenyang, {}, '{"a":1}', new Date(NOW.getTime() - 3600_000)) }), /expired/],
  ])('refuses a request when %s', async (_what, make, reason) => {
    const { jws, body } = await make();
    await expect(verifyFederation(jws, { audience: '210400', anchors, now: NOW, body: body ?? '{"a":1}', request })).rejects.toThrow(reason);
  });

  it('refuses a node that claims another city than its certificate names', async () => {
    // 抚顺's key signs as if it were 沈阳: the claimed city's anchors do not vouch for it.
    const forged = await signFederation({ ...fushun, city: '210100' }, { aud: '210400', htm: 'POST', htu: request.path, bsha: bodyHash('{"a":1}') }, NOW);
    await expect(verifyFederation(forged.jws, { audience: '210400', anchors, now: NOW, body: '{"a":1}', request })).rejects.toThrow(FederationAuthError);
    // Even with both roots trusted for 沈阳, the certificate names 210400, not 210100.
    const both: AnchorLookup = async (city) => (city === '210100' ? [...roots['210100']!, ...roots['210400']!] : null);
    await expect(verifyFederation(forged.jws, { audience: '210400', anchors: both, now: NOW, body: '{"a":1}', request })).rejects.toThrow(/does not name city 210100/);
  });

  it('refuses a city that is not a peer, a signature over other bytes, and unsigned tokens', async () => {
    await expect(verifyFederation(await signed(shenyang), { audience: '210400', anchors: async () => null, now: NOW, body: '{"a":1}', request })).rejects.toThrow(/not a peer/);
    const jws = await signed(shenyang);
    const [h, p, s] = jws.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const swapped = `${h}.${Buffer.from(JSON.stringify({ ...payload, htu: '/v1/federation/matters' })).toString('base64url')}.${s}`;
    await expect(verifyFederation(swapped, { audience: '210400', anchors, now: NOW, body: '{"a":1}', request: { method: 'POST', path: '/v1/federation/matters' } })).rejects.toThrow(/signature does not verify/);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'miaopi-federation+jws' })).toString('base64url')}.${p}.`;
    await expect(verifyFederation(none, { audience: '210400', anchors, now: NOW, body: '{"a":1}', request })).rejects.toThrow(/alg/);
  });

  it('accepts an answer only from the peer asked, for the request it answers', async () => {
    const answer = (await signFederation(fushun, { aud: '210100', req: 'request-1', bsha: bodyHash('ok') }, NOW)).jws;
    await expect(verifyFederation(answer, { audience: '210100', anchors, now: NOW, body: 'ok', answers: 'request-1', expectIssuer: '210400' })).resolves.toMatchObject({ iss: '210400' });
    await expect(verifyFederation(answer, { audience: '210100', anchors, now: NOW, body: 'ok', answers: 'request-2', expectIssuer: '210400' })).rejects.toThrow(/another request/);
    await expect(verifyFederation(answer, { audience: '210100', anchors, now: NOW, body: 'ok', answers: 'request-1', expectIssuer: '210500' })).rejects.toThrow(/expected 210500/);
  });
});
