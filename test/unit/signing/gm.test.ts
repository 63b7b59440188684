/**
 * SM2/SM3 (issue 15) against openssl, which we did not write: our signatures verify with `openssl dgst -sm3
 * -sigopt distid:1234567812345678`, openssl's verify with ours, a precomputed digest signs the same as the data,
 * our SM2 certificates chain with `openssl verify -vfyopt distid:…` (and, as MEASURED.md warns, not with openssl's
 * empty default ID), and GB/T 38540 structures parse with `openssl asn1parse`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGmPki, type GmPki } from '../../../src/signing/gm/gm-pki.js';
import { makeSesSignature } from '../../../src/signing/gm/ses.js';
import { buildCms } from '../../../src/signing/sign-pdf.js';
import { sealPicture } from '../../../src/documents/seal-picture.js';
import {
  generateSm2KeyPair,
  pem,
  sm2Digest,
  sm2KeyFromPem,
  sm2PrivateKeyPem,
  sm2PublicKeyPem,
  sm2Sign,
  sm2SignDigest,
  sm2Verify,
  sm3,
} from '../../../src/signing/gm/sm2.js';
import { tempDir, writeTemp } from '../../support/pdf-tools.js';

const DEPT = { name: '沈阳市粮食和物资储备局', code: '11210100MB0E12346R' };
const openssl = (...args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });

describe('SM2 / SM3 with openssl as the judge', () => {
  const tmp = tempDir('gm-unit-');
  let pki: GmPki;
  beforeAll(async () => {
    pki = await ensureGmPki(path.join(tmp.dir, 'pki'), [DEPT], { sealPicture: (n) => sealPicture(n) });
  });
  afterAll(() => tmp.cleanup());

  it('SM3 is the standard one (GB/T 32905 test vector "abc")', () => {
    expect(sm3(Buffer.from('abc')).toString('hex')).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('our signature verifies with openssl dgst -sm3 -sigopt distid:1234567812345678, and a changed byte does not', () => {
    const key = generateSm2KeyPair();
    const data = Buffer.from('电子证照 TBS_Sign bytes');
    const sig = sm2Sign(data, key);
    const pub = writeTemp(tmp.dir, 'pub.pem', sm2PublicKeyPem(key.publicKeyHex));
    const file = writeTemp(tmp.dir, 'data.bin', data);
    const sigFile = writeTemp(tmp.dir, 'sig.der', sig);
    const ok = openssl('dgst', '-sm3', '-verify', pub, '-sigopt', 'distid:1234567812345678', '-signature', sigFile, file);
    expect(ok.stdout).toContain('Verified OK');
    const bad = openssl('dgst', '-sm3', '-verify', pub, '-sigopt', 'distid:1234567812345678', '-signature', sigFile, writeTemp(tmp.dir, 'data2.bin', Buffer.concat([data, Buffer.from('!')])));
    expect(bad.status).not.toBe(0);
    expect(execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-in', sigFile], { encoding: 'utf8' })).toMatch(/SEQUENCE[\s\S]*INTEGER[\s\S]*INTEGER/);
  });

  it('openssl signatures (key from openssl genpkey) verify with ours; the key PEM reads both ways', () => {
    const keyFile = path.join(tmp.dir, 'ossl.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'SM2', '-out', keyFile]);
    const key = sm2KeyFromPem(readFileSync(keyFile, 'utf8'));
    const data = writeTemp(tmp.dir, 'ossl-data.bin', Buffer.from('signed by openssl'));
    const sigFile = path.join(tmp.dir, 'ossl.sig');
    execFileSync('openssl', ['dgst', '-sm3', '-sign', keyFile, '-sigopt', 'distid:1234567812345678', '-out', sigFile, data]);
    expect(sm2Verify(readFileSync(data), readFileSync(sigFile), key.publicKeyHex)).toBe(true);
    // And openssl reads the PKCS#8 we write.
    const ours = writeTemp(tmp.dir, 'ours.key', sm2PrivateKeyPem(key));
    expect(openssl('pkey', '-in', ours, '-noout').status).toBe(0);
  });

  it('signing a precomputed digest e (what an e-seal platform receives) equals signing the data', () => {
    const key = generateSm2KeyPair();
    const data = Buffer.from('to be sealed');
    const e = sm2Digest(data, key.publicKeyHex);
    expect(e.length).toBe(32);
    expect(sm2Verify(data, sm2SignDigest(e, key), key.publicKeyHex)).toBe(true);
    expect(() => sm2SignDigest(Buffer.alloc(31), key)).toThrow(/32 bytes/);
  });

  it('rejects signatures that are not strict DER or out of range, and keys that are not on the curve', () => {
    const key = generateSm2KeyPair();
    const data = Buffer.from('x');
    const sig = sm2Sign(data, key);
    expect(sm2Verify(data, Buffer.concat([sig, Buffer.from([0])]), key.publicKeyHex)).toBe(false);
    expect(sm2Verify(data, sig.subarray(0, sig.length - 1), key.publicKeyHex)).toBe(false);
    expect(sm2Verify(data, sig, `04${'00'.repeat(64)}`)).toBe(false);
    expect(sm2Verify(data, sig, generateSm2KeyPair().publicKeyHex)).toBe(false);
  });

  it('the department seal signer is a Signer with keyType sm2 whose chain holds its SM2 certificate', async () => {
    const seal = pki.departmentSeal(DEPT.code);
    expect(seal.signer.keyType).toBe('sm2');
    const cert = writeTemp(tmp.dir, 'dept.pem', pem('CERTIFICATE', seal.signer.chain[0]!));
    expect(openssl('x509', '-in', cert, '-noout', '-subject').stdout).toContain('serialNumber = 11210100MB0E12346R');
    const data = Buffer.from('TBS');
    expect(sm2Verify(data, await seal.signer.sign(data), seal.signer.publicKeyHex)).toBe(true);
    // A PAdES CMS is SHA-256 with RSA/ECDSA: an SM2 signer is refused, never written with the wrong OID.
    await expect(buildCms(Buffer.alloc(32), seal.signer)).rejects.toThrow(/SM2 signer cannot sign a PAdES CMS/);
  });

  it('SM2 certificates chain with openssl verify -vfyopt distid:1234567812345678 (not with the empty default ID)', () => {
    const roots = writeTemp(tmp.dir, 'roots.pem', pki.rootsPem);
    const leaf = writeTemp(tmp.dir, 'leaf.pem', pem('CERTIFICATE', pki.departmentSeal(DEPT.code).signer.chain[0]!));
    expect(openssl('verify', '-vfyopt', 'distid:1234567812345678', '-CAfile', roots, leaf).stdout).toContain('OK');
    expect(openssl('verify', '-CAfile', roots, leaf).status).not.toBe(0);
  });

  it('the seal and the SES signature are DER that openssl asn1parse reads field by field', async () => {
    const seal = pki.departmentSeal(DEPT.code);
    const ses = await makeSesSignature({ seal: seal.seal, time: new Date('2026-01-02T03:04:05.678Z'), dataHash: sm3(Buffer.from('Signature.xml')), propertyInfo: '/Doc_0/Signs/Sign_0/Signature.xml' }, seal.signer);
    const out = execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-in', writeTemp(tmp.dir, 'ses.der', ses), '-i'], { encoding: 'utf8' });
    expect(out).toMatch(/IA5STRING +:ES/);
    expect(out).toMatch(/IA5STRING +:MIAOPI-DEV/);
    expect(out).toMatch(/UTF8STRING +:沈阳市粮食和物资储备局/);
    expect(out).toMatch(/IA5STRING +:PNG/);
    expect(out).toMatch(/GENERALIZEDTIME +:20260102030405Z/); // whole seconds: DER has no fraction
    expect(out.match(/OBJECT +:SM2-with-SM3/g)?.length).toBe(2);
  });

  it('two processes starting on an empty folder agree on one root, maker and seal', async () => {
    const dir = path.join(tmp.dir, 'race');
    const [a, b] = await Promise.all([ensureGmPki(dir, [DEPT], { sealPicture: () => Buffer.from('png') }), ensureGmPki(dir, [DEPT], { sealPicture: () => Buffer.from('png') })]);
    expect(a.rootsPem).toBe(b.rootsPem);
    expect(Buffer.from(a.departmentSeal(DEPT.code).seal).equals(Buffer.from(b.departmentSeal(DEPT.code).seal))).toBe(true);
    const again = await ensureGmPki(dir, [DEPT], { sealPicture: () => Buffer.from('png') });
    expect(again.rootsPem).toBe(a.rootsPem);
    const enterprise = await again.enterpriseSeal({ name: '沈阳丰禾粮食购销有限公司', code: '91210100MA0Q1A2B6L' });
    expect(enterprise.signer.keyType).toBe('sm2');
    await expect(again.enterpriseSeal({ name: 'x', code: '../etc' })).rejects.toThrow(/letters or digits/);
  });
});
