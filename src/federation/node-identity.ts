/**
 * The key a city node authenticates itself with (都市圈通办, DESIGN.md §12). Production mounts it
 * (FEDERATION_NODE_KEY + FEDERATION_NODE_CERT, the certificate chaining to the node's own published anchors);
 * development issues one from the dev root in CERTS_DIR, so peers that pinned this node's /v1/trust accept it.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type { Config } from '../config.js';
import { ensureDevNodeIdentity } from '../signing/pki.js';

export interface NodeIdentity {
  /** The node's city (CITY_CODE). */
  readonly city: string;
  /** JWS `x5c`: the node certificate first, then intermediates (base64 DER). */
  readonly x5c: string[];
  readonly key: KeyObject;
  readonly alg: 'RS256' | 'ES256';
  /** SHA-256 fingerprint of the node certificate (for logs and /v1/federation/peers). */
  readonly fingerprint: string;
}

function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Node identity from mounted PEM (production) — the certificate must name the city in its serialNumber. */
export function nodeIdentityFromPem(city: string, keyPem: string, certPem: string): NodeIdentity {
  const key = createPrivateKey(keyPem);
  const certs = pemBlocks(certPem).map((b) => new X509Certificate(b));
  const leaf = certs[0];
  if (!leaf) throw new Error('FEDERATION_NODE_CERT holds no certificate');
  if (!leaf.checkPrivateKey(key)) throw new Error('FEDERATION_NODE_KEY is not the key of the first certificate in FEDERATION_NODE_CERT');
  const serial = subjectSerialNumber(leaf);
  if (serial !== city) throw new Error(`the node certificate's subject serialNumber must be the city code ${city}, got ${serial ?? 'none'}`);
  const type = key.asymmetricKeyType;
  let alg: NodeIdentity['alg'];
  if (type === 'rsa') alg = 'RS256';
  else if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ES256';
  else throw new Error(`the node key must be RSA or EC P-256, got ${type ?? 'unknown'}`);
  return { city, x5c: certs.map((c) => c.raw.toString('base64')), key, alg, fingerprint: leaf.fingerprint256.replace(/:/g, '').toLowerCase() };
}

/** The subject's serialNumber attribute (2.5.4.5): a department's USCC, or a node's city code. */
export function subjectSerialNumber(cert: X509Certificate): string | null {
  for (const line of cert.subject.split('\n')) {
    const m = /^serialNumber=(.*)$/.exec(line.trim());
    if (m) return m[1] ?? null;
  }
  return null;
}

/** The configured node key, or the development one issued from the dev root in CERTS_DIR. */
export async function loadNodeIdentity(config: Pick<Config, 'federation' | 'certsDir'>): Promise<NodeIdentity> {
  const f = config.federation;
  if (f.nodeKeyPem && f.nodeCertPem) return nodeIdentityFromPem(f.cityCode, f.nodeKeyPem, f.nodeCertPem);
  const dev = await ensureDevNodeIdentity(config.certsDir, f.cityCode);
  return nodeIdentityFromPem(f.cityCode, dev.keyPem, dev.certPem);
}
