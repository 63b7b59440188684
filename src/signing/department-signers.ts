/**
 * The departments' seal keys behind one `Signer` interface (DESIGN.md §9): the development PKI (embedded default),
 * mounted PEM files, or an HSM through PKCS#11 — chosen by SEAL_BACKEND — and the trust anchors that certificates
 * chain to (TRUST_ROOTS, else the self-signed roots at the top of the departments' chains).
 */
import { X509Certificate } from 'node:crypto';
import type { SealKeysConfig } from '../config.js';
import { loadFileSigners, SealKeyError } from './file-signer.js';
import { openPkcs11Signers } from './pkcs11-signer.js';
import type { DevPki } from './pki.js';
import type { Signer } from './types.js';

export interface DepartmentSigners {
  readonly backend: SealKeysConfig['backend'];
  /** Signer of a department's seal; throws for a department without one. */
  signer(code: string): Signer;
  /** PEM of the anchors the departments' certificates chain to. */
  readonly anchorsPem: string;
  /** The departments' seal certificates (production checks, /v1/trust notes). */
  readonly leaves: ReadonlyMap<string, X509Certificate>;
  close(): void;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** Distinct certificates of a PEM bundle, in order. */
export function pemCertificates(pem: string): X509Certificate[] {
  const seen = new Set<string>();
  const out: X509Certificate[] = [];
  for (const block of pem.match(PEM_CERT) ?? []) {
    const c = new X509Certificate(block);
    if (!seen.has(c.fingerprint256)) {
      seen.add(c.fingerprint256);
      out.push(c);
    }
  }
  return out;
}

export function openDepartmentSigners(
  cfg: SealKeysConfig,
  codes: readonly string[],
  opts: { devPki: DevPki | null; trustRootsPem: string | null; production: boolean },
): DepartmentSigners {
  let signers: Map<string, Signer>;
  let anchors: X509Certificate[];
  let leaves: Map<string, X509Certificate>;
  let close = (): void => undefined;
  if (cfg.backend === 'dev') {
    const pki = opts.devPki;
    if (!pki) throw new SealKeyError('the development PKI is not loaded');
    signers = new Map(codes.map((c) => [c, pki.departmentSigner(c)]));
    anchors = pemCertificates(pki.rootsPem);
    leaves = new Map(codes.map((c) => [c, new X509Certificate(Buffer.from(pki.departmentSigner(c).chain[0]!))]));
  } else if (cfg.backend === 'file') {
    ({ signers, anchors, leaves } = loadFileSigners(cfg.dir, codes));
  } else {
    const opened = openPkcs11Signers({ ...cfg, requireNonExtractable: opts.production }, codes);
    ({ signers, anchors, leaves } = opened);
    close = () => opened.close();
  }
  const configured = opts.trustRootsPem ? pemCertificates(opts.trustRootsPem) : [];
  const all = configured.length > 0 ? configured : anchors;
  if (all.length === 0) {
    throw new SealKeyError('no trust anchor: the seal chains end without a self-signed root; set TRUST_ROOTS to the root certificate(s)');
  }
  // Every department's chain must end at one of the anchors we publish, or /v1/trust would lie.
  for (const [code, s] of signers) {
    const last = new X509Certificate(Buffer.from(s.chain[s.chain.length - 1]!));
    if (!all.some((a) => a.fingerprint256 === last.fingerprint256 || (last.checkIssued(a) && last.verify(a.publicKey)))) {
      throw new SealKeyError(`department ${code}: its seal certificate does not chain to the trust anchors (${configured.length > 0 ? 'TRUST_ROOTS' : 'roots found with the keys'})`);
    }
  }
  return {
    backend: cfg.backend,
    signer(code) {
      const s = signers.get(code);
      if (!s) throw new SealKeyError(`no seal key for department ${JSON.stringify(code)}; known: ${[...signers.keys()].join(', ') || '(none)'}`);
      return s;
    },
    anchorsPem: all.map((c) => c.toString()).join(''),
    leaves,
    close,
  };
}
