/**
 * Production mode (DESIGN.md §9): with NODE_ENV=production the service refuses to start — before it listens or
 * takes a job — when anything development-only would be used: the development PKI or keys, HS256 as the only
 * token verifier, the dev sign-in, a data source without a URL (demo data), the in-process e-seal authority.
 * Every problem is one line that names the variable to set; all of them are reported at once.
 */
import type { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { Config } from './config.js';
import { envNameFor, type SourceDefinition } from './data-sources/registry.js';
import { federationProductionProblems } from './federation/production.js';
import { pemCertificates } from './signing/department-signers.js';
import { DEV_ESEAL_CA_CN, DEV_ROOT_CN } from './signing/pki.js';

/** The service must not start; `problems` are the lines to print. */
export class ProductionRefusal extends Error {
  override name = 'ProductionRefusal';
  constructor(readonly problems: string[]) {
    super(`生产模式拒绝启动 Production mode refuses to start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const DEV_MARKERS = [DEV_ROOT_CN, DEV_ESEAL_CA_CN, '仅供开发测试'];

/** A certificate of the development PKI or of a stand-in, by the marker its names carry. */
function isDevelopmentCertificate(c: X509Certificate): boolean {
  return DEV_MARKERS.some((m) => c.subject.includes(m) || c.issuer.includes(m));
}

function isDevelopmentPem(pem: string): boolean {
  try {
    return pemCertificates(pem).some(isDevelopmentCertificate);
  } catch {
    return false;
  }
}

/** What the configuration alone says is development-only (no I/O). Empty outside production. */
export function productionConfigProblems(config: Readonly<Config>, registry: readonly SourceDefinition[]): string[] {
  if (!config.production) return [];
  const out: string[] = [];
  if (!config.auth.jwksUrl && !config.auth.publicKeyPem) {
    out.push(
      'AUTH_JWKS_URL or AUTH_PUBLIC_KEY: not set — production verifies RS256/ES256 tokens of the identity platform; HS256 with a shared secret (AUTH_JWT_SECRET) is for development only',
    );
  }
  if (config.auth.audience === null) {
    out.push('AUTH_AUDIENCE: not set — the `aud` the identity platform puts in tokens for this service; without it a token issued for another system would be accepted');
  }
  if (config.auth.issuer === null) {
    out.push('AUTH_ISSUER: not set — the `iss` of the identity platform; without it a token from any issuer holding a trusted key would be accepted');
  }
  if (config.auth.devSignIn) out.push('AUTH_DEV_SIGN_IN: must not be true — the development token endpoint (POST /v1/dev/token) is never served in production');
  for (const s of registry) {
    if (!config.dataSourceUrls[s.id]) out.push(`${envNameFor(s.id)}: not set — data source ${s.id} (${s.name}) would serve the bundled demo data`);
  }
  const keys = config.sealKeys;
  if (keys.backend === 'dev') {
    out.push(
      'SEAL_BACKEND: not set — the development PKI in CERTS_DIR would sign certificates; set SEAL_BACKEND=pkcs11 with SEAL_PKCS11_MODULE, SEAL_PKCS11_TOKEN and SEAL_PKCS11_PIN (an HSM), or SEAL_BACKEND=file with SEAL_KEYS_DIR (mounted keys)',
    );
  } else if (keys.backend === 'file') {
    const rel = path.relative(config.certsDir, keys.dir);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
      out.push(`SEAL_KEYS_DIR: ${keys.dir} is the development key folder (CERTS_DIR); mount the production seal keys elsewhere`);
    }
  }
  if (config.eseal.url === null) {
    out.push('ESEAL_URL: not set — the in-process development e-seal authority would seal applicants\' forms; production uses the e-seal platform (DESIGN.md §9)');
  }
  const gmDepartments = Object.entries(config.signatureSuite.byDepartment).filter(([, v]) => v === 'gm').map(([k]) => k);
  if (config.signatureSuite.default === 'gm' || gmDepartments.length > 0) {
    out.push(
      `SIGNATURE_SUITE${config.signatureSuite.default === 'gm' ? '' : '_BY_DEPARTMENT'}: gm needs SM2 seal keys, which only the development 国密 PKI provides so far; production issues on the intl suite`,
    );
  }
  out.push(...federationProductionProblems(config));
  if (config.trustRootsPem !== null && isDevelopmentPem(config.trustRootsPem)) out.push('TRUST_ROOTS: holds the development root; name the production root certificate(s)');
  if (config.eseal.trustRootsPem !== null && isDevelopmentPem(config.eseal.trustRootsPem)) out.push('ESEAL_TRUST_ROOTS: holds the development root; name the e-seal platform\'s root certificate(s)');
  if (config.webhooks.secretKey === null) {
    out.push('WEBHOOK_SECRET_KEY: not set — webhook signing secrets are encrypted at rest with this key (32 bytes, base64 or hex; e.g. `openssl rand -base64 32`); production never generates one');
  }
  if (config.audit.signingKeyPem === null) {
    out.push(
      'AUDIT_SIGNING_KEY: not set — the audit chain\'s checkpoints are signed with this key (PEM private key or its file path, e.g. `openssl genpkey -algorithm ed25519`); production never generates one',
    );
  }
  return out;
}

/**
 * What the loaded keys say (after SEAL_BACKEND opened them): a department whose seal certificate or chain is the
 * development PKI's. Empty outside production.
 */
export function productionKeyProblems(config: Readonly<Config>, leaves: ReadonlyMap<string, X509Certificate>, anchorsPem: string): string[] {
  if (!config.production) return [];
  const out: string[] = [];
  for (const [code, leaf] of leaves) {
    if (isDevelopmentCertificate(leaf)) {
      out.push(`SEAL_BACKEND=${config.sealKeys.backend}: department ${code}'s seal certificate is issued by the development PKI`);
    }
  }
  if (isDevelopmentPem(anchorsPem)) out.push('trust anchors: the development root would be published at /v1/trust; set TRUST_ROOTS or provision production certificates');
  return out;
}
