import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCertificate, renderForm } from '../../../src/documents/pdf/certificate-pdf.js';
import { ensureDevPki } from '../../../src/signing/pki.js';
import type { DevPki } from '../../../src/signing/pki.js';
import { signPdf } from '../../../src/signing/sign-pdf.js';
import {
  extractCms,
  opensslCmsPrint,
  pdfText,
  pdfToPng,
  run,
  tempDir,
  verifyCertificate,
  writeTemp,
  zbarDecode,
} from '../../support/pdf-tools.js';
import { DEPT, HOLDER, META, VERIFY_URL, certificateContent, formContent } from './sample.js';
import { applicantSealSigner } from '../../support/seals.js';

let tmp: ReturnType<typeof tempDir>;
let pki: DevPki;
let rootsPath: string;
let certPath: string;
let signedCert: Uint8Array;

beforeAll(async () => {
  tmp = tempDir('signed-cert-');
  pki = await ensureDevPki(`${tmp.dir}/pki`, [DEPT]);
  rootsPath = writeTemp(tmp.dir, 'roots.pem', pki.rootsPem);
  signedCert = await signPdf(await renderCertificate(certificateContent(), META), pki.departmentSigner(DEPT.code));
  certPath = writeTemp(tmp.dir, 'cert.pdf', signedCert);
});

afterAll(() => tmp?.cleanup());

describe('a certificate rendered and signed with the department seal', () => {
  it('passes the shared verifier (pdfsig, openssl cms, qpdf, text) with the holder name outside GB2312', async () => {
    const r = await verifyCertificate(certPath, rootsPath, [HOLDER.name, DEPT.name]);
    expect(r.stdout).toContain('ALL PASS');
    expect(r.code).toBe(0);
  });

  it('has the holder name, the 证照标识 and the verify URL in its text layer', async () => {
    const text = await pdfText(certPath);
    expect(text).toContain('沈阳䶮盛粮贸有限公司');
    expect(text).toContain(certificateContent().licenseId);
    expect(text).toContain('王㵘');
    expect(text).toContain(VERIFY_URL);
  });

  it('renders in poppler without font errors and its QR code decodes to exactly the verify URL', async () => {
    const { pngs, stderr, code } = await pdfToPng(certPath, 150);
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/font|error/i);
    expect(pngs).toHaveLength(1);
    expect(await zbarDecode(pngs[0] as string)).toEqual([VERIFY_URL]);
  });

  it('embeds one subset CJK font with a ToUnicode map', async () => {
    const r = await run('pdffonts', [certPath]);
    const rows = r.stdout.split('\n').slice(2).filter((l) => l.trim() !== '');
    expect(rows).toHaveLength(1);
    // A TrueType (glyf) subset of Noto Sans SC: CIDFontType2 with a FontFile2.
    expect(rows[0]).toMatch(/^[A-Z]{6}\+NotoSansSC-Regular\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/);
  });

  it('carries a CMS with signingCertificateV2 and no signingTime attribute', async () => {
    const printed = await opensslCmsPrint(tmp.dir, extractCms(signedCert));
    const attrs = printed.slice(printed.indexOf('signedAttrs:'), printed.indexOf('signatureAlgorithm:', printed.indexOf('signedAttrs:')));
    const objects = [...attrs.matchAll(/object: (\S+)/g)].map((m) => m[1]);
    expect(objects.sort()).toEqual(['contentType', 'id-smime-aa-signingCertificateV2', 'messageDigest']);
    expect(printed).not.toMatch(/signingTime/);
  });

  it('is a DocMDP certification signature whose /M is the signing time', () => {
    const s = Buffer.from(signedCert).toString('latin1');
    expect(s).toMatch(/\/SubFilter \/ETSI\.CAdES\.detached/);
    expect(s).toMatch(/\/TransformMethod \/DocMDP/);
    expect(s).toMatch(/\/P 1\b/);
    expect(s).toMatch(/\/Perms <<\s*\/DocMDP \d+ 0 R/);
    expect(s).toMatch(/\/SigFlags 3/);
    expect(s).toContain('/M (D:20240501020000Z)');
  });

  it('fails the shared verifier once bytes are appended after signing', async () => {
    const tampered = writeTemp(tmp.dir, 'tampered.pdf', signedCert);
    appendFileSync(tampered, '\n% appended after signing\n');
    const r = await verifyCertificate(tampered, rootsPath, [HOLDER.name]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('SOME CHECKS FAILED');
  });

  it('fails the shared verifier when one signed byte is changed', async () => {
    const bytes = Buffer.from(readFileSync(certPath));
    const i = bytes.indexOf('/Title');
    bytes[i + 1] = 'X'.charCodeAt(0); // /Title → /Xitle: still a well-formed PDF, but not the signed one
    const r = await verifyCertificate(writeTemp(tmp.dir, 'flipped.pdf', bytes), rootsPath);
    expect(r.code).not.toBe(0);
  });

  it('fails the shared verifier against a different trust anchor', async () => {
    const other = await ensureDevPki(`${tmp.dir}/other-pki`, []);
    const r = await verifyCertificate(certPath, writeTemp(tmp.dir, 'other-roots.pem', other.rootsPem));
    expect(r.code).not.toBe(0);
  });
});

describe('the filled e-form signed with the enterprise e-seal', () => {
  it('passes the shared verifier with the enterprise name in its text', async () => {
    const signer = await applicantSealSigner(pki, HOLDER);
    const pdf = await signPdf(
      await renderForm(formContent(), { ...META, signerName: HOLDER.name, reason: '申请人电子签章' }),
      signer,
    );
    const file = writeTemp(tmp.dir, 'form.pdf', pdf);
    const r = await verifyCertificate(file, rootsPath, [HOLDER.name, '（免填：市场主体登记）']);
    expect(r.stdout).toContain('ALL PASS');
    expect(r.code).toBe(0);
    const { stderr } = await pdfToPng(file, 72);
    expect(stderr).not.toMatch(/font|error/i);
  });
});
