/**
 * Where the certificate's issuer block, seal and body end, shared by the PDF and the OFD certificate (same
 * coordinates in both), and the sentence saying how it was issued.
 */
import type { CertificateContent } from './types.js';

/** Baseline of 发证机关; the seal's centre sits above it so the seal's bottom text falls between this line and the next. */
export const ISSUER_Y = 290;
/** Baselines of the 发证机关 / 发证日期 / 有效期 lines: a wider gap under the first leaves room for the seal's bottom text. */
export const ISSUER_LINE_Y = [ISSUER_Y, ISSUER_Y - 26, ISSUER_Y - 46] as const;
/** Seal centre above the 发证机关 baseline: the seal covers the issuer's name, its bottom text clears both lines. */
export const SEAL_RISE = 14;
/** The body (holder and lines) stays above this: the seal's top is ISSUER_Y + SEAL_RISE + radius. */
export const BODY_BOTTOM = 356;

/** The line under the QR: automatic issuing only when the rules decided; a person's approval says 经审查核发. */
export function issuanceSentence(content: Pick<CertificateContent, 'decidedBy'>): string {
  return content.decidedBy === 'manual'
    ? '本证照经审查核发，加盖电子印章，与纸质证照具有同等效力。'
    : '本证照由系统依法自动核发，加盖电子印章，与纸质证照具有同等效力。';
}
