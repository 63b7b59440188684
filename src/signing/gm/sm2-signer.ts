/**
 * The SM2 backend of the `Signer` contract: a plain object whose `sign(data)` returns the DER `SEQUENCE { r, s }`
 * of an SM2 signature over SM3(Z ‖ data), Z for user ID 1234567812345678. An HSM or e-seal platform that receives
 * only the digest gets `sm2Digest(data, publicKey)` and answers with `sm2SignDigest(e, key)` (both in ./sm2.ts).
 */
import type { Signer } from '../types.js';
import { sm2Sign, type Sm2KeyPair } from './sm2.js';

export interface Sm2Signer extends Signer {
  readonly keyType: 'sm2';
  /** Uncompressed public point of the key (04‖x‖y, hex). */
  readonly publicKeyHex: string;
}

/** A file-backed SM2 signer: `chain` is DER, signer certificate first. */
export function sm2Signer(key: Sm2KeyPair, chain: Uint8Array[]): Sm2Signer {
  if (chain.length === 0) throw new Error('an SM2 signer needs its certificate');
  return {
    chain,
    keyType: 'sm2',
    publicKeyHex: key.publicKeyHex,
    sign: (data) => Promise.resolve(sm2Sign(data, key)),
  };
}
