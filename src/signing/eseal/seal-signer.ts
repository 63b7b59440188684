/**
 * A `Signer` over a seal held by the e-seal platform: the CMS signed attributes are hashed here and only the
 * digest goes to the platform, with the filing's authorisation. Every request — signed or refused — is reported
 * to `audit` (which filing, which authorisation, which digest, what came back).
 */
import { X509Certificate, createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { ESealSignEntry } from '../../store/types.js';
import type { Signer } from '../types.js';
import type { ESealPlatform, Seal } from './contract.js';

/** The platform refused or could not sign: the filing goes to manual review with this reason. */
export class ESealSignError extends Error {
  override name = 'ESealSignError';
}

export interface SealSignerOptions {
  platform: ESealPlatform;
  seal: Seal;
  authorization: { applicationId: string; purpose: string };
  audit(entry: ESealSignEntry): void;
  newId(): string;
  clock(): Date;
}

export function sealSigner(o: SealSignerOptions): Signer {
  if (o.seal.keyType === 'sm2') throw new ESealSignError('SM2 seals are signed on the 国密 track, not in a PAdES signature');
  const first = o.seal.chain[0];
  if (!first) throw new ESealSignError('seal has no certificate');
  let publicKey: KeyObject | null = null;
  return {
    chain: o.seal.chain,
    keyType: o.seal.keyType,
    async sign(data) {
      const digest = createHash('sha256').update(data).digest();
      const res = await o.platform.sign(o.seal.code, {
        sealId: o.seal.sealId,
        digestAlgorithm: 'sha256',
        digest,
        authorization: o.authorization,
        ...(o.platform.kind === 'development' ? { data } : {}),
      });
      o.audit({
        id: o.newId(),
        applicationId: o.authorization.applicationId,
        subject: o.seal.code,
        sealId: o.seal.sealId,
        platform: o.platform.kind,
        purpose: o.authorization.purpose,
        digestAlgorithm: 'sha256',
        digest: digest.toString('hex'),
        result: res.ok ? 'signed' : 'failed',
        error: res.ok ? null : res.error.slice(0, 500),
        signatureSha256: res.ok ? createHash('sha256').update(res.signature).digest('hex') : null,
        at: o.clock().toISOString(),
      });
      if (!res.ok) throw new ESealSignError(res.error);
      // Never embed what the seal's certificate does not verify: a wrong key or a garbled answer from a remote
      // platform would otherwise yield a signed-looking e-form that every validator rejects. (The in-process
      // development authority signs with the very key it issued the certificate for.)
      if (o.platform.kind === 'development') return res.signature;
      publicKey ??= new X509Certificate(Buffer.from(first)).publicKey;
      if (!cryptoVerify('sha256', data, publicKey, res.signature)) {
        throw new ESealSignError('the platform returned a signature that the seal certificate does not verify');
      }
      return res.signature;
    },
  };
}
