/**
 * A SoftHSM2 token of its own per test run (Debian `softhsm2`): its own SOFTHSM2_CONF and token folder under a
 * temporary directory, initialised with softhsm2-util, then provisioned with department seal keys (generated in the
 * token, not extractable) and certificates from a CA the test makes — a production-like PKI that is not the
 * development one.
 */
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { provisionToken } from '../../src/signing/pkcs11-provision.js';
import { caName, selfSignedCa } from '../../src/signing/seal-certificate.js';
import type { IssuingCa } from '../../src/signing/seal-certificate.js';
import { run } from './pdf-tools.js';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  module: string;
  token: string;
  pin: string;
  /** SOFTHSM2_CONF for processes that use the token. */
  conf: string;
  /** PEM of the CA root the seal certificates chain to. */
  rootPem: string;
  certificates: Map<string, X509Certificate>;
}

/** A production-like CA (no development marker in its names). */
export function makeCa(name = '辽宁省政务服务电子印章CA（CI）'): IssuingCa & { pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const der = selfSignedCa(privateKey, publicKey.export({ type: 'spki', format: 'der' }), caName('辽宁省政务服务中心', name), new Date(now - 3_600_000), new Date(now + 5 * 365 * 86_400_000));
  return { key: privateKey, certificate: new Uint8Array(der), pem: new X509Certificate(der).toString() };
}

export async function createSoftHsmToken(dir: string, departments: ReadonlyArray<{ code: string; name: string }>, opts: { extractable?: boolean } = {}): Promise<SoftHsmToken> {
  const tokens = path.join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const token = `ci-${path.basename(dir).slice(-8)}`;
  const pin = '246810';
  const init = await run('softhsm2-util', ['--init-token', '--free', '--label', token, '--so-pin', '13579111', '--pin', pin], { timeoutMs: 30_000, env: { SOFTHSM2_CONF: conf } });
  if (init.code !== 0) throw new Error(`softhsm2-util --init-token failed: ${init.stderr}`);
  const ca = makeCa();
  // libsofthsm2 reads SOFTHSM2_CONF when this process initialises it.
  process.env['SOFTHSM2_CONF'] = conf;
  const certificates = provisionToken({ module: SOFTHSM_MODULE, token, pin, departments, ca, extractable: opts.extractable ?? false });
  return { module: SOFTHSM_MODULE, token, pin, conf, rootPem: ca.pem, certificates };
}
