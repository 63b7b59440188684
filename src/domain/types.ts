/**
 * Pure domain types shared by every layer. No I/O, no framework imports (lint-enforced).
 */

/** Three-valued result of one rule: UNKNOWN never turns into a rejection. */
export type RuleResult = 'PASS' | 'FAIL' | 'UNKNOWN';

export type Outcome = 'APPROVE' | 'REJECT' | 'MANUAL';

export type ApplicationStatus = 'queued' | 'processing' | 'approved' | 'rejected' | 'manual_review' | 'failed';

export interface Reason {
  rule: string;
  message: string;
  basis: string;
  result: RuleResult;
}

export interface Decision {
  outcome: Outcome;
  /** Rules that did not PASS (FAIL or UNKNOWN), in rule order. Empty on APPROVE. */
  reasons: Reason[];
}

/** Outcome of one read from a data source (数源). */
export type SourceReadStatus = 'found' | 'not_found' | 'unknown';

export interface SourceRead {
  source: string;
  key: string;
  status: SourceReadStatus;
  record: Record<string, unknown> | null;
  /** sha256 hex of the raw response body ('' when no answer). */
  responseHash: string;
  fetchedAt: string;
  /** Why the read is UNKNOWN (timeout, HTTP 503, connection refused…); never shown to applicants. */
  error?: string;
  /** Served from the source's cache (within its TTL); fetchedAt and responseHash are the original answer's. */
  cached?: boolean;
  /**
   * Issue 17: UNKNOWN because of the request, not the source (an empty or ill-formed key, a 4xx answer that
   * refuses the key): it says nothing about the source's health, so the breaker does not count it.
   */
  fault?: 'request';
}

export interface RuleEvaluation {
  id: string;
  result: RuleResult;
  message: string;
  basis: string;
  onFail: 'REJECT' | 'MANUAL';
}

/** Everything needed to re-run a decision and to explain it (DESIGN.md §2). */
export interface DecisionReceipt {
  matter: string;
  /** sha256 of the matter definition that decided (rule-set version). */
  rulesetVersion: string;
  situation: string;
  evaluatedAt: string;
  /** The facts given to the rules engine, exactly as evaluated. */
  facts: Record<string, unknown>;
  sources: Array<Omit<SourceRead, 'record'>>;
  rules: RuleEvaluation[];
  decision: Decision;
  /** Where each pre-filled field came from (免填 provenance): source, key, fetched-at, response hash. */
  provenance?: FieldProvenance[];
  /** How each material was obtained; archive items by id and sha256. */
  materials?: Array<{ id: string; how: string; status: string; archiveId?: string; sha256?: string; commitment?: string }>;
  /** The data-sharing consent the reads relied on (null: none in force, nothing was read). */
  consentId?: string | null;
  /** The department's e-form template the e-form was filled from (issue 18): its file and the sha256 of its bytes. */
  formTemplate?: { file: string; sha256: string };
}

export interface FieldProvenance {
  field: string;
  source: string;
  key: string;
  fetchedAt: string;
  responseHash: string;
  /** Served from the source's cache within its TTL. */
  cached: boolean;
  /**
   * The source could not give this pre-filled field's value (down, no record, several to choose from): `typed` — the
   * applicant's value stood in; `identity` — the signed-in identity did (e.g. the USCC); `missing` — there was none. fetchedAt/responseHash are those of the failed read ('' if
   * none was made).
   */
  fallback?: { value: 'typed' | 'identity' | 'missing'; note: string };
}

export interface Consent {
  dataSharing: boolean;
  sealAuthorization: boolean;
}
