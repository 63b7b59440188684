/**
 * The e-seal platform contract (DESIGN.md §9). Enterprise seals (电子印章) — and personal e-signatures (个人电子签名)
 * of citizens, keyed by 身份号码 under the same paths — are held by the platform; this service asks for a seal
 * and sends a digest to be signed under the filing's authorisation. The private key never leaves the platform.
 *
 *   GET  {ESEAL_URL}/seals/{code}       → 200 SealRecord | 404 {"found": false}
 *   POST {ESEAL_URL}/seals/{code}/sign  {sealId, digestAlgorithm, digest, authorization} → 200 {signature, algorithm}
 */

export type SealStatus = '有效' | '注销' | '挂失';
export const SEAL_STATUSES: readonly SealStatus[] = ['有效', '注销', '挂失'];

/** The body of `GET /seals/{code}` (contract field names: the path's code is `uscc` even for a person). */
export interface SealRecord {
  uscc: string;
  sealId: string;
  name: string;
  /** PEM chain, seal certificate first. */
  certificate: string;
  /** base64 PNG of the seal's picture. */
  picture: string;
  /** YYYY-MM-DD (or a full ISO timestamp). */
  validUntil: string;
  status: SealStatus;
}

/** A seal as the service uses it: the record's facts plus its parsed chain. */
export interface Seal {
  code: string;
  sealId: string;
  name: string;
  status: SealStatus;
  validUntil: string;
  /** DER certificates, the seal's first. */
  chain: Uint8Array[];
  keyType: 'rsa' | 'ec' | 'sm2';
}

export type SealLookup =
  | { kind: 'found'; seal: Seal }
  /** The platform says the subject has no seal (404 {"found": false}). */
  | { kind: 'none' }
  /** No usable answer: unreachable, timed out, breaker open, or an answer that is not the contract's. */
  | { kind: 'unavailable'; error: string };

export interface SignRequest {
  sealId: string;
  digestAlgorithm: 'sha256' | 'sm3';
  digest: Uint8Array;
  authorization: { applicationId: string; purpose: string };
  /**
   * In-process only: the bytes behind `digest`. The development authority checks that they hash to `digest` and
   * signs them with Node's native ECDSA (which takes a message, not a digest); the HTTP client never sends them.
   */
  data?: Uint8Array;
}

export type SignResult = { ok: true; signature: Uint8Array; algorithm: string } | { ok: false; error: string };

/** The one interface to the e-seal platform: the HTTP client, or the in-process development authority. */
export interface ESealPlatform {
  readonly kind: 'http' | 'development';
  lookup(code: string): Promise<SealLookup>;
  /** Never throws for a platform problem: answers `{ok: false, error}`. */
  sign(code: string, request: SignRequest): Promise<SignResult>;
  close(): Promise<void>;
}

/**
 * Why a found seal cannot be used on `today` (YYYY-MM-DD, China Standard Time), in Chinese and English, or null.
 * `who` names it for the message: 企业电子印章 or 个人电子签名.
 */
export function sealProblem(seal: Seal, today: string, who: string): string | null {
  if (seal.status !== '有效') return `${who}状态为「${seal.status}」，不能用于签章 The ${who === '个人电子签名' ? 'personal e-signature' : 'e-seal'} is ${seal.status === '注销' ? 'cancelled' : 'reported lost'}`;
  if (seal.validUntil.slice(0, 10) < today) return `${who}已于 ${seal.validUntil.slice(0, 10)} 过期 The ${who === '个人电子签名' ? 'personal e-signature' : 'e-seal'} expired on ${seal.validUntil.slice(0, 10)}`;
  return null;
}
