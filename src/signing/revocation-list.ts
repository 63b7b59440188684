/**
 * The published revocation list of one issuing department, signed with that department's seal key as a JWS
 * (RFC 7515, flattened JSON serialization) whose `x5c` header carries the signer certificate. Anyone verifies it
 * with a JOSE library: check the signature with the key of `x5c[0]`, and that `x5c[0]` chains to the roots
 * published at GET /v1/trust and names the department (serialNumber = its code).
 */
import type { Signer } from './types.js';

export const REVOCATION_LIST_TYPE = 'miaopi-revocation-list+json';

export interface RevocationListEntry {
  certificateId: string;
  number: string;
  /** 证照标识. */
  licenseId: string;
  /** sha256 (hex) of the revoked file as issued. */
  sha256: string;
  revokedAt: string;
  reason: string;
}

export interface RevocationList {
  type: 'revocation-list';
  version: 1;
  issuer: { code: string; name: string };
  /** When this list was produced; entries are every revocation up to then. */
  generatedAt: string;
  entries: RevocationListEntry[];
}

export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');

/** ECDSA DER signature → JOSE raw r‖s (RFC 7518 §3.4) for a P-256 key. */
function derToJose(der: Uint8Array, size = 32): Buffer {
  const b = Buffer.from(der);
  let p = 2 + ((b[1] as number) & 0x80 ? (b[1] as number) & 0x7f : 0);
  const part = () => {
    const len = b[p + 1] as number;
    let v = b.subarray(p + 2, p + 2 + len);
    p += 2 + len;
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    return Buffer.concat([Buffer.alloc(size - v.length), v]);
  };
  return Buffer.concat([part(), part()]);
}

/** Signs `list` as a flattened JWS (RS256 for RSA seal keys, ES256 for P-256) with the certificate chain in x5c. */
export async function signRevocationList(list: RevocationList, signer: Signer): Promise<FlattenedJws> {
  if (signer.keyType === 'sm2') throw new Error('JOSE has no SM2 algorithm: revocation lists are signed with the RSA/EC seal key');
  const header = {
    alg: signer.keyType === 'rsa' ? 'RS256' : 'ES256',
    typ: REVOCATION_LIST_TYPE,
    x5c: signer.chain.map((c) => Buffer.from(c).toString('base64')),
  };
  const protectedHeader = b64url(JSON.stringify(header));
  const payload = b64url(JSON.stringify(list));
  // Signer.sign is SHA-256 + the key's scheme: RSASSA-PKCS1-v1_5 is exactly RS256.
  const raw = await signer.sign(Buffer.from(`${protectedHeader}.${payload}`, 'ascii'));
  const signature = signer.keyType === 'rsa' ? raw : derToJose(raw);
  return { protected: protectedHeader, payload, signature: b64url(signature) };
}
