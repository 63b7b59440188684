/**
 * Contracts of the signing layer: a key that signs (development files, an HSM through PKCS#11, the e-seal platform)
 * and an RFC 3161 time-stamping authority.
 */

/** A key that signs: key files in development, an HSM (PKCS#11) or a registered e-seal in production. */
export interface Signer {
  /** DER of the signer certificate first, then intermediates up to (not necessarily including) the root. */
  readonly chain: Uint8Array[];
  /** Signs `data` (the DER of the CMS signed attributes) with SHA-256; returns the raw signature. */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** 'rsa' → sha256WithRSAEncryption, 'ec' → ecdsa-with-SHA256. */
  readonly keyType: 'rsa' | 'ec';
}

/** An RFC 3161 time-stamping authority (PAdES B-T). */
export interface Timestamper {
  /** DER TimeStampToken (a CMS ContentInfo) over the SHA-256 `digest`; throws when none can be had. */
  timestamp(digest: Uint8Array): Promise<Uint8Array>;
}
