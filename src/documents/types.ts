/**
 * Contracts of the documents layer: what the certificate and the filled e-form say (content, parties, signature
 * metadata). Keys and signing contracts live in src/signing/types.ts.
 */

export interface Party {
  name: string;
  /** 统一社会信用代码 or 公民身份号码. */
  code: string;
}

export interface CertificateContent {
  /** e.g. 粮食收购企业备案回执 */
  title: string;
  /** 备案编号 / 证照编号 printed on the page. */
  number: string;
  /** 证照标识 (GB/T 36904) printed on the page. */
  licenseId: string;
  holder: Party;
  /** Label printed before holder.code; default 统一社会信用代码 (use 公民身份号码 for a person). */
  holderCodeLabel?: string;
  issuer: Party;
  /** Line under the star of the issuer's seal; default 电子证照专用章. */
  sealText?: string;
  /** Label/value lines printed in order (the filing's key data). Values may be long and wrap. */
  lines: Array<{ label: string; value: string }>;
  issuedOn: string; // YYYY-MM-DD
  /** How the decision was made: `rules` → 由系统依法自动核发, `manual` → 经审查核发. Default `rules`. */
  decidedBy?: 'rules' | 'manual';
  /** 申请编号 of the filing (沈2026120400017), printed under the certificate number. */
  applicationNumber?: string;
  validUntil: string | null; // YYYY-MM-DD, null = 长期
  /** Full URL encoded in the QR code and printed below it. */
  verifyUrl: string;
  /**
   * Register id of the certificate, written into the document information dictionary (`/CertificateId`) so a
   * verifier can find the register entry of a file whose signature it trusts.
   */
  registerId?: string;
}

export interface FormContent {
  /** e.g. 粮食收购企业备案表 */
  title: string;
  applicant: Party;
  /** A person signs with a personal e-signature (公民身份号码, no seal); an organisation seals (统一社会信用代码). */
  applicantKind?: 'person' | 'organisation';
  /** When the filing was made (ISO instant): printed as a Beijing date and time. */
  submittedAt: string;
  /** 申请编号, printed in the header and the footer of every page. */
  applicationNumber?: string;
  /** Rows printed in order; `prefilled` rows are marked as taken from shared data (免填) with their source name. */
  rows: Array<{ label: string; value: string; prefilled?: { sourceName: string } }>;
  /** Statements printed at the end (consent, seal authorisation, commitments). */
  statements: string[];
}

/** What the signature dictionary says about the signing (shown by viewers); `signingTime` becomes /M. */
export interface SignatureMeta {
  signerName: string;
  reason: string;
  location: string;
  signingTime: Date;
  /** Bytes of /Contents reserved for the CMS (default SIGNATURE_CONTENTS_BYTES); see signing/sign-pdf.ts reserveFor. */
  reserveBytes?: number;
}
