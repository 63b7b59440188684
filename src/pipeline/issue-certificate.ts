/**
 * 证照开具: number, 证照标识, page with the department's red seal and QR, one signature over the whole file,
 * register row with the file's sha256. Idempotent: an application that already has a certificate gets it back.
 * Text that no embedded font can draw is refused (UnprintableTextError, a PermanentFailure with code
 * CERTIFICATE_UNPRINTABLE_TEXT) before a number is taken; nothing is ever printed as a blank or a box.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LoadedMatter } from '../catalog/load-catalog.js';
import { inProcessRenderer, type PdfRenderer } from '../documents/pdf/render-pool.js';
import { assertPrintable } from '../documents/fonts.js';
import { makeLicenseId } from '../documents/license-id.js';
import { reserveFor, signPdf } from '../signing/sign-pdf.js';
import type { CertificateContent, Party } from '../documents/types.js';
import type { Signer, Timestamper } from '../signing/types.js';
import type { ApplicationRow, CertificateRow, NewCertificate, Store } from '../store/types.js';
import { outputLine, type FieldValue } from './prefill-fields.js';
import { isValidIdNumber } from '../domain/identifiers.js';

export interface IssueDeps {
  store: Pick<Store, 'certificates'>;
  departmentSigner(code: string): Signer;
  publicUrl: string;
  newId: () => string;
  /** PAdES B-T when set (TSA_URL): the signature gets an RFC 3161 timestamp; a TSA failure fails the attempt. */
  timestamper?: Timestamper | null;
  /** Called once for a newly issued certificate (issue 15: `gm` departments get their OFD in the same job). */
  onIssued?: (row: CertificateRow, content: CertificateContent) => Promise<void>;
  /** Where the unsigned PDF is laid out (render threads in a worker process); default this thread. */
  renderer?: PdfRenderer;
}

/** Verification link printed in the QR code: the id plus a random code, so the id alone reveals nothing. */
export function verifyUrl(publicUrl: string, id: string, code: string): string {
  return `${publicUrl}/verify/${encodeURIComponent(id)}/${encodeURIComponent(code)}`;
}

function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * Last day of a validity: `{years: N}` runs to the day before the same date N years on (2026-12-04 + 10 年 →
 * 2036-12-03; a 2月29日 start ends on 2月28日); a number counts days.
 */
export function validUntilOf(issuedOn: string, validity: number | { years: number }): string {
  if (typeof validity === 'number') return addDays(issuedOn, validity);
  const [y, m, d] = issuedOn.split('-').map(Number) as [number, number, number];
  // Same month and day N years on (29 Feb → 1 Mar when that year has none), minus one day.
  const end = new Date(Date.UTC(y + validity.years, m - 1, d));
  end.setUTCDate(end.getUTCDate() - 1);
  return end.toISOString().slice(0, 10);
}

/** Shanghai calendar day: certificates are dated in China Standard Time whatever the server's zone. */
export function chinaDay(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/** A certificate made (numbered, laid out, signed) and not yet recorded: the worker records it with the decision. */
export interface MadeCertificate {
  row: NewCertificate;
  content: CertificateContent;
}

export async function issueCertificate(
  deps: IssueDeps,
  matter: LoadedMatter,
  app: ApplicationRow,
  holder: Party,
  subjectKey: string,
  base: Record<string, unknown>,
  fields: FieldValue[],
  at: Date,
  /** How the decision was made: `manual` prints 经审查核发 instead of 由系统依法自动核发. */
  decidedBy: 'rules' | 'manual' = 'rules',
): Promise<CertificateRow> {
  const existing = await deps.store.certificates.byApplication(app.id);
  if (existing) return existing;
  return recordCertificate(deps, await makeCertificate(deps, matter, app, holder, subjectKey, base, fields, at, decidedBy));
}

/** Inserts a made certificate (one per filing: a second insert returns the first) and runs the issue hook. */
export async function recordCertificate(deps: Pick<IssueDeps, 'store' | 'onIssued'>, made: MadeCertificate): Promise<CertificateRow> {
  const row = await deps.store.certificates.insert(made.row);
  if (deps.onIssued && row.id === made.row.id) await deps.onIssued(row, made.content);
  return row;
}

/**
 * Numbers, lays out and signs the certificate of an approved filing; records nothing but its serial. Throws
 * UnprintableTextError (CERTIFICATE_UNPRINTABLE_TEXT) before taking a number, PermanentFailure
 * CERTIFICATE_TOO_LONG when the content does not fit its page.
 */
export async function makeCertificate(
  deps: Pick<IssueDeps, 'store' | 'departmentSigner' | 'publicUrl' | 'newId' | 'timestamper' | 'renderer'>,
  matter: LoadedMatter,
  app: ApplicationRow,
  holder: Party,
  subjectKey: string,
  base: Record<string, unknown>,
  fields: FieldValue[],
  at: Date,
  decidedBy: 'rules' | 'manual' = 'rules',
): Promise<MadeCertificate> {
  const def = matter.def;
  const out = def.output.certificate;
  const issuer: Party = { name: def.department.name, code: def.department.code };
  // The holder's name and code are printed once, under their own labels: lines repeating them are left out.
  const lines = out.lines.map((l) => outputLine(l, base, fields)).filter((l) => l.value !== holder.name && l.value !== holder.code);
  const person = /^\d{17}[\dXx]$/.test(holder.code) && isValidIdNumber(holder.code, '9999-12-31');
  if (out.note) lines.push({ label: '说明', value: out.note });
  assertPrintable([
    { where: '持证主体 holder', text: holder.name },
    { where: '发证机关 issuer', text: issuer.name },
    { where: '标题 title', text: out.title },
    ...lines.map((l) => ({ where: l.label, text: `${l.label}${l.value}` })),
  ]);
  const issuedOn = chinaDay(at);
  const year = issuedOn.slice(0, 4);
  // Claimed once per filing: a retry after a crash, or a second worker on the same filing, gets the same number.
  const serial = await deps.store.certificates.claimSerial(`${def.code}:${year}`, app.id, at.toISOString());
  const serialText = String(serial).padStart(6, '0');
  const number = `${out.numberPrefix}〔${year}〕${serialText}号`;
  const licenseId = makeLicenseId({
    typeCode: out.licenseTypeCode,
    issuerCode: def.department.code,
    serial: `${year}${serialText}`,
    version: '001',
  });
  const id = deps.newId();
  const verifyCode = randomBytes(12).toString('base64url');
  const validUntil = out.validity === null ? null : validUntilOf(issuedOn, out.validity);

  const content: CertificateContent = {
    title: out.title,
    number,
    licenseId,
    holder,
    holderCodeLabel: person ? '公民身份号码' : '统一社会信用代码',
    issuer,
    lines,
    issuedOn,
    decidedBy,
    ...(app.number ? { applicationNumber: app.number } : {}),
    validUntil,
    verifyUrl: verifyUrl(deps.publicUrl, id, verifyCode),
    registerId: id,
  };
  const signer = deps.departmentSigner(def.department.code);
  const timestamper = deps.timestamper ?? null;
  const unsigned = await (deps.renderer ?? inProcessRenderer).certificate(content, {
    signerName: issuer.name,
    reason: `${out.title} 电子证照签发`,
    location: '沈阳',
    signingTime: at,
    reserveBytes: reserveFor(signer, timestamper),
  });
  const pdf = await signPdf(unsigned, signer, { timestamper });
  const row: NewCertificate = {
    id,
    applicationId: app.id,
    matter: def.code,
    number,
    licenseId,
    holderCode: holder.code,
    holderName: holder.name,
    issuerCode: issuer.code,
    issuerName: issuer.name,
    subjectKey,
    issuedAt: at.toISOString(),
    validUntil,
    verifyCode,
    sha256: createHash('sha256').update(pdf).digest('hex'),
    pdf,
  };
  return { row, content };
}
