/**
 * The OFD of a certificate (issue 15, DESIGN.md §11): the same content as its PDF, laid out by
 * documents/ofd/certificate-ofd.ts, sealed with the issuing department's SM2 seal per GB/T 38540, stored once and
 * registered by its sha256. Departments on the `gm` suite get it in the issuing job (`onIssued`); every other
 * certificate gets it on first request (`get`), so the issuing path of `intl` departments does no extra work.
 * A `gm` certificate whose job stopped between the certificate and its OFD gets it on first request too.
 */
import type { LoadedMatter } from '../catalog/load-catalog.js';
import type { SignatureSuite } from '../config.js';
import { packOfd, renderCertificateOfd } from '../documents/ofd/certificate-ofd.js';
import type { CertificateContent } from '../documents/types.js';
import type { GmSeal } from '../signing/gm/gm-pki.js';
import { signOfdFiles } from '../signing/gm/sign-ofd.js';
import { createHash } from 'node:crypto';
import type { CertificateRow, OfdDocument, Store } from '../store/types.js';
import { certificateInputs } from './certificate-inputs.js';
import type { LookupFact } from './evaluate-rules.js';
import { chinaDay, verifyUrl } from './issue-certificate.js';
import { outputLine } from './prefill-fields.js';

export const OFD_PROVIDER = { name: '秒批秒办 OFD 签章', company: '秒批秒办', version: '1.0' };

export interface OfdCertificateDeps {
  store: Pick<Store, 'ofd' | 'applications'>;
  catalog: { get(code: string): LoadedMatter | undefined; getVersion(code: string, version: string): Promise<LoadedMatter | undefined> };
  /** The issuing department's SM2 seal (signer + GB/T 38540 seal). */
  departmentSeal(code: string): GmSeal;
  suiteOf(departmentCode: string): SignatureSuite;
  publicUrl: string;
  clock: () => Date;
}

export interface OfdCertificates {
  /** For issueCertificate: a `gm` department's new certificate gets its OFD now; others return at once. */
  onIssued(row: CertificateRow, content: CertificateContent): Promise<void>;
  /** The stored OFD, or one made, stored and registered now (idempotent: concurrent callers get the first). */
  get(row: CertificateRow): Promise<OfdDocument>;
}

/** Renders, seals (GB/T 38540, SM2) and packs one OFD certificate. */
export async function buildOfdCertificate(content: CertificateContent, seal: GmSeal, at: Date): Promise<Buffer> {
  const unsigned = renderCertificateOfd(content);
  const signature = await signOfdFiles(unsigned.files, { signer: seal.signer, seal: seal.seal, time: at, stamp: unsigned.stamp, provider: OFD_PROVIDER });
  return packOfd(new Map([...unsigned.files, ...signature]), at);
}

export function createOfdCertificates(deps: OfdCertificateDeps): OfdCertificates {
  async function store(row: CertificateRow, content: CertificateContent, suite: SignatureSuite): Promise<OfdDocument> {
    const at = deps.clock();
    const bytes = await buildOfdCertificate(content, deps.departmentSeal(row.issuerCode), at);
    const res = await deps.store.ofd.put({ certificateId: row.id, sha256: createHash('sha256').update(bytes).digest('hex'), bytes, suite, createdAt: at.toISOString() });
    return res.doc;
  }

  /** The content the PDF was made from, derived again from the stored decision receipt (as a manual approval does). */
  async function contentOf(row: CertificateRow): Promise<CertificateContent> {
    const app = await deps.store.applications.get(row.applicationId);
    if (!app?.receipt) throw new Error(`certificate ${row.id}: its filing has no decision receipt`);
    const matter = (await deps.catalog.getVersion(row.matter, app.receipt.rulesetVersion)) ?? deps.catalog.get(row.matter);
    if (!matter) throw new Error(`certificate ${row.id}: matter ${row.matter} is not in the catalog`);
    const facts = app.receipt.facts;
    const top = Object.fromEntries(matter.def.lookups.filter((l) => !l.forEach).map((l) => [l.id, facts[l.id] as LookupFact]));
    const { fields, withFields } = certificateInputs(matter, { applicant: facts.applicant as { code: string }, answers: app.answers, form: app.form }, top);
    const out = matter.def.output.certificate;
    const lines = out.lines.map((l) => outputLine(l, withFields, fields));
    if (out.note) lines.push({ label: '说明', value: out.note });
    return {
      title: out.title,
      number: row.number,
      licenseId: row.licenseId,
      holder: { name: row.holderName, code: row.holderCode },
      issuer: { name: row.issuerName, code: row.issuerCode },
      lines,
      issuedOn: chinaDay(new Date(row.issuedAt)),
      validUntil: row.validUntil,
      verifyUrl: verifyUrl(deps.publicUrl, row.id, row.verifyCode),
      registerId: row.id,
    };
  }

  return {
    async onIssued(row, content) {
      const suite = deps.suiteOf(row.issuerCode);
      if (suite !== 'gm') return;
      await store(row, content, suite);
    },
    async get(row) {
      const have = await deps.store.ofd.get(row.id);
      if (have) return have;
      return store(row, await contentOf(row), deps.suiteOf(row.issuerCode));
    },
  };
}
