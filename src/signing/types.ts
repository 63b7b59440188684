/**
 * Contracts of the signing layer: a key that signs (development files, an HSM through PKCS#11, the e-seal platform)
 * and an RFC 3161 time-stamping authority.
 */

/** A key that signs: key files in development, an HSM (PKCS#11) or a registered e-seal in production. */
export interface Signer {
  /** DER of the signer certificate first, then intermediates up to (not necessarily including) the root. */
  readonly chain: Uint8Array[];
  /**
   * Signs `data` (the DER of the CMS signed attributes) with SHA-256; returns the raw signature. An 'sm2' signer
   * signs SM3(Z ‖ data) with Z for user ID 1234567812345678 and returns DER `SEQUENCE { r, s }` (GB/T 38540 data).
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** 'rsa' → sha256WithRSAEncryption, 'ec' → ecdsa-with-SHA256, 'sm2' → SM2-with-SM3 (src/signing/gm/). */
  readonly keyType: 'rsa' | 'ec' | 'sm2';
}

/** An RFC 3161 time-stamping authority (PAdES B-T). */
export interface Timestamper {
  /** DER TimeStampToken (a CMS ContentInfo) over the SHA-256 `digest`; throws when none can be had. */
  timestamp(digest: Uint8Array): Promise<Uint8Array>;
}
