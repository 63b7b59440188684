import type { CertificateRow } from '../store/types.js';

/** A certificate as every outside reader sees it: the API (GET /v1/certificates…) and webhook payloads. */
export function certificateSummary(c: CertificateRow) {
  return {
    id: c.id,
    number: c.number,
    licenseId: c.licenseId,
    matter: c.matter,
    status: c.status,
    holder: { name: c.holderName, code: c.holderCode },
    issuer: { name: c.issuerName, code: c.issuerCode },
    issuedAt: c.issuedAt,
    validUntil: c.validUntil,
    sha256: c.sha256,
  };
}
