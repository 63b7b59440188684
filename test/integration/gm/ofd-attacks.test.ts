/**
 * Attacks on an issued OFD certificate (issue 15), each refused by POST /v1/verify (application/ofd) — and, where
 * the change is cryptographic, by openssl on its own: a changed content file, a swapped Signature.xml, a seal from
 * another maker, an expired seal, an extra unsigned file, a ZIP with path traversal, and a 1 GB inflation (refused
 * from its directory entry, and a lying entry stopped at its declared size) — fast.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packOfd } from '../../../src/documents/ofd/certificate-ofd.js';
import { writeZip } from '../../../src/documents/ofd/zip.js';
import { ensureGmPki } from '../../../src/signing/gm/gm-pki.js';
import { makeSeal } from '../../../src/signing/gm/ses.js';
import { signOfdFiles } from '../../../src/signing/gm/sign-ofd.js';
import { sm2KeyFromPem, pemBody } from '../../../src/signing/gm/sm2.js';
import { sealPicture } from '../../../src/documents/seal-picture.js';
import { OFD_PROVIDER } from '../../../src/pipeline/certificate-ofd.js';
import { readZip } from '../../../src/verification/ofd/zip-reader.js';
import { opensslVerifyOfd } from '../../support/ofd-tools.js';
import { tempDir, writeTemp } from '../../support/pdf-tools.js';
import { HAPPY_USCC, SHARED_CERTS_DIR, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';

const GRAIN_DEPT = '11210100MB0E12346R';

interface Report {
  indication: string;
  subIndication?: string;
  checks: Array<{ id: string; result: string; detail: string }>;
}

describe('attacks on OFD certificates', () => {
  let stack: Stack;
  const tmp = tempDir('ofd-attacks-');
  let original: Buffer;
  let second: Buffer;
  let files: Map<string, Buffer>;
  let anchorsFile: string;

  const issue = async (key: string, region: string) => {
    const token = await stack.token(HAPPY_USCC);
    const res = await submit(stack, token, grainFiling({ form: { purchaseRegionCode: region } }), { 'idempotency-key': key });
    const done = await waitForDecision(stack, res.json<{ id: string }>().id, token);
    expect(done.status).toBe('approved');
    return (await stack.app.inject({ method: 'GET', url: `/v1/certificates/${done.certificate!.id}/ofd`, headers: { authorization: `Bearer ${token}` } })).rawPayload;
  };
  const verify = async (body: Buffer) => {
    const t0 = performance.now();
    const res = await stack.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/ofd' }, payload: body });
    expect(res.statusCode).toBe(200);
    return { report: res.json<Report>(), ms: performance.now() - t0 };
  };
  const failing = (r: Report) => r.checks.find((c) => c.result !== 'PASSED')?.id;
  const unpack = (zip: Buffer) => {
    const z = readZip(zip);
    return new Map(z.names.map((n) => [n, z.read(n) as Buffer]));
  };
  // The package rebuilt with the same files except the given changes (the signature files kept as they were).
  const repack = (changes: Record<string, Buffer | null>) => {
    const out = new Map(files);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) out.delete(k);
      else out.set(k, v);
    }
    return packOfd(out, new Date());
  };
  // Re-signs the unsigned files with a given seal and signer (as someone holding those keys would).
  const resign = async (seal: Uint8Array, signer: Parameters<typeof signOfdFiles>[1]['signer'], time = new Date()) => {
    const unsigned = new Map([...files].filter(([k]) => !k.startsWith('Doc_0/Signs/')));
    const stampXml = (files.get('Doc_0/Signs/Sign_0/Signature.xml') as Buffer).toString('utf8');
    const m = /PageRef="(\d+)" Boundary="([\d. ]+)"/.exec(stampXml)!;
    const boundary = (m[2] as string).split(' ').map(Number) as [number, number, number, number];
    const sig = await signOfdFiles(unsigned, { signer, seal, time, stamp: { pageId: Number(m[1]), boundary }, provider: OFD_PROVIDER });
    return packOfd(new Map([...unsigned, ...sig]), time);
  };

  beforeAll(async () => {
    stack = await startStack({ backend: 'sqlite', env: { SIGNATURE_SUITE_BY_DEPARTMENT: `${GRAIN_DEPT}=gm` } });
    original = await issue('attack-1', '210102');
    second = await issue('attack-2', '210103');
    files = unpack(original);
    anchorsFile = writeTemp(tmp.dir, 'roots.pem', (await stack.app.inject({ method: 'GET', url: '/v1/trust?suite=gm' })).body);
  });
  afterAll(async () => {
    await stack?.close();
    tmp.cleanup();
  });

  it('the untouched file passes (the control for every case below)', async () => {
    expect((await verify(original)).report.indication).toBe('TOTAL_PASSED');
    expect(opensslVerifyOfd(writeTemp(tmp.dir, 'ok.ofd', original), anchorsFile).status).toBe(0);
  });

  it('a changed content file fails its SM3 check value (HASH_FAILURE), for openssl too', async () => {
    const content = (files.get('Doc_0/Pages/Page_0/Content.xml') as Buffer).toString('utf8');
    expect(content).toContain('沈阳丰禾粮食购销有限公司');
    const bad = repack({ 'Doc_0/Pages/Page_0/Content.xml': Buffer.from(content.replace('沈阳丰禾粮食购销有限公司', '沈阳丰收粮食购销有限公司'), 'utf8') });
    const { report } = await verify(bad);
    expect(report).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
    expect(failing(report)).toBe('check-values');
    const o = opensslVerifyOfd(writeTemp(tmp.dir, 'changed.ofd', bad), anchorsFile);
    expect(o.status).not.toBe(0);
    expect(o.out).toContain('check value of Doc_0/Pages/Page_0/Content.xml does not match');
  });

  it('a Signature.xml swapped in from another certificate fails (check values or dataHash)', async () => {
    const other = unpack(second);
    const bad = repack({ 'Doc_0/Signs/Sign_0/Signature.xml': other.get('Doc_0/Signs/Sign_0/Signature.xml') as Buffer });
    const { report } = await verify(bad);
    expect(report.indication).toBe('TOTAL_FAILED');
    expect(['check-values', 'data-hash']).toContain(failing(report));
    // Swapping both Signature.xml and SignedValue.dat does not help: the other signature covers other files.
    const both = repack({
      'Doc_0/Signs/Sign_0/Signature.xml': other.get('Doc_0/Signs/Sign_0/Signature.xml') as Buffer,
      'Doc_0/Signs/Sign_0/SignedValue.dat': other.get('Doc_0/Signs/Sign_0/SignedValue.dat') as Buffer,
    });
    expect((await verify(both)).report).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
    expect(opensslVerifyOfd(writeTemp(tmp.dir, 'swapped.ofd', bad), anchorsFile).status).not.toBe(0);
  });

  it('a seal from another maker is refused: the maker does not chain to the SM2 anchors', async () => {
    const foreign = await ensureGmPki(path.join(tmp.dir, 'foreign'), [{ name: '沈阳市粮食和物资储备局', code: GRAIN_DEPT }], { sealPicture: (n) => sealPicture(n) });
    const ours = stack.deps.gm!.departmentSeal(GRAIN_DEPT);
    const authority = JSON.parse(readFileSync(path.join(foreign.dir, 'authority.json'), 'utf8')) as { maker: { keyPem: string; certPem: string } };
    // The foreign maker makes a seal naming OUR department's signer certificate; our key signs under it.
    const now = new Date();
    const seal = makeSeal(
      { vid: 'OTHER', esId: 'foreign-seal-1', type: 1, name: '沈阳市粮食和物资储备局', signerCertificates: [ours.signer.chain[0]!], createDate: now, validStart: new Date(now.getTime() - 86_400_000), validEnd: new Date(now.getTime() + 86_400_000 * 365), picture: { type: 'PNG', data: sealPicture('伪造'), widthMm: 40, heightMm: 40 } },
      { certificate: pemBody(authority.maker.certPem, 'CERTIFICATE'), key: sm2KeyFromPem(authority.maker.keyPem) },
    );
    const bad = await resign(seal, ours.signer);
    const { report } = await verify(bad);
    expect(report).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'NO_CERTIFICATE_CHAIN_FOUND' });
    expect(report.checks.find((c) => c.id === 'certificate-chain')?.detail).toContain('seal maker');
    const o = opensslVerifyOfd(writeTemp(tmp.dir, 'foreign.ofd', bad), anchorsFile);
    expect(o.out).toContain('seal signature: Verified OK'); // cryptographically consistent …
    expect(o.out).toContain('FAIL: maker certificate does not chain'); // … but not from a trusted maker
  });

  it('an expired seal is refused (seal-validity EXPIRED), though every signature is correct', async () => {
    const ours = stack.deps.gm!.departmentSeal(GRAIN_DEPT);
    const authority = JSON.parse(readFileSync(path.join(SHARED_CERTS_DIR, 'gm', 'authority.json'), 'utf8')) as { maker: { keyPem: string; certPem: string } };
    const year = 365 * 86_400_000;
    const now = Date.now();
    const seal = makeSeal(
      { vid: 'MIAOPI-DEV', esId: 'expired-seal', type: 1, name: '沈阳市粮食和物资储备局', signerCertificates: [ours.signer.chain[0]!], createDate: new Date(now - 2 * year), validStart: new Date(now - 2 * year), validEnd: new Date(now - year), picture: { type: 'PNG', data: sealPicture('沈阳市粮食和物资储备局'), widthMm: 40, heightMm: 40 } },
      { certificate: pemBody(authority.maker.certPem, 'CERTIFICATE'), key: sm2KeyFromPem(authority.maker.keyPem) },
    );
    const bad = await resign(seal, ours.signer);
    const { report } = await verify(bad);
    expect(report).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'EXPIRED' });
    expect(failing(report)).toBe('seal-validity');
    expect(opensslVerifyOfd(writeTemp(tmp.dir, 'expired.ofd', bad), anchorsFile).status).toBe(0); // openssl sees valid signatures: the validity is GB/T 38540's
  });

  it('an extra unsigned file is refused', async () => {
    const bad = repack({ 'Doc_0/Res/extra.xml': Buffer.from('<x/>') });
    const { report } = await verify(bad);
    expect(report).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(failing(report)).toBe('references-complete');
    expect(report.checks.find((c) => c.id === 'references-complete')?.detail).toContain('Doc_0/Res/extra.xml');
    expect(opensslVerifyOfd(writeTemp(tmp.dir, 'extra.ofd', bad), anchorsFile).out).toContain('unsigned file in the package: Doc_0/Res/extra.xml');
  });

  it('a ZIP with path traversal is refused before anything is read', async () => {
    const entries = [...files].map(([name, data]) => ({ name, data }));
    entries.push({ name: 'xx/xx/evil.txt', data: Buffer.from('pwned') });
    const zip = writeZip(entries, new Date());
    // Same length, so offsets stay valid: both the local and the central name become ../../evil.txt.
    const bad = Buffer.from(zip.toString('latin1').replaceAll('xx/xx/evil.txt', '../../evil.txt'), 'latin1');
    const { report, ms } = await verify(bad);
    expect(report).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(failing(report)).toBe('ofd-package');
    expect(report.checks[0]?.detail).toContain('unsafe entry name');
    expect(ms).toBeLessThan(2000);
  });

  it('a 1 GB inflation is refused fast: from its declared size, and a lying entry stops at its declared size', async () => {
    // 1 GiB of zeros as a deflate stream of ~1 MB: one 1 MiB sync-flushed block repeated, then an empty final block.
    const block = deflateRawSync(Buffer.alloc(1 << 20), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
    const stream = Buffer.concat([...Array.from({ length: 1024 }, () => block), Buffer.from([0x03, 0x00])]);
    const honest = makeZipWithRawEntry(files, 'Doc_0/Res/bomb.bin', stream, 1024 ** 3);
    const a = await verify(honest);
    expect(a.report).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(a.report.checks[0]?.detail).toContain('inflates to 1073741824 bytes');
    const liar = makeZipWithRawEntry(files, 'Doc_0/Res/bomb.bin', stream, 1000);
    const b = await verify(liar);
    expect(b.report.indication).toBe('TOTAL_FAILED');
    expect(b.report.checks.find((c) => c.result === 'FAILED')?.detail).toMatch(/references|not covered|does not inflate within/);
    // Reading the lying entry itself stops after its declared 1000 bytes (never inflates the gigabyte).
    const t0 = performance.now();
    expect(() => readZip(liar).read('Doc_0/Res/bomb.bin')).toThrow(/does not inflate within its declared 1000 bytes/);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(a.ms + b.ms).toBeLessThan(4000);
  });
});

/** A ZIP of `files` plus one deflated entry whose raw stream and declared size the test chooses (CRC of nothing). */
function makeZipWithRawEntry(files: Map<string, Buffer>, name: string, raw: Buffer, declared: number): Buffer {
  const base = writeZip([...files].map(([n, data]) => ({ name: n, data })), new Date());
  // Append one local entry before the central directory, then rewrite the directory with it.
  const eocd = base.length - 22;
  const cdSize = base.readUInt32LE(eocd + 12);
  const cdOffset = base.readUInt32LE(eocd + 16);
  const count = base.readUInt16LE(eocd + 10);
  const n = Buffer.from(name, 'utf8');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(raw.length, 18);
  local.writeUInt32LE(declared, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(raw.length, 20);
  central.writeUInt32LE(declared, 24);
  central.writeUInt16LE(n.length, 28);
  central.writeUInt32LE(cdOffset, 42);
  const cd = Buffer.concat([base.subarray(cdOffset, cdOffset + cdSize), central, n]);
  const end = Buffer.from(base.subarray(eocd));
  end.writeUInt16LE(count + 1, 8);
  end.writeUInt16LE(count + 1, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(cdOffset + local.length + n.length + raw.length, 16);
  return Buffer.concat([base.subarray(0, cdOffset), local, n, raw, cd, end]);
}
