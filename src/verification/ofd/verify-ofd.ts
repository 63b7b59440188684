/**
 * Verification of a signed OFD certificate (GB/T 33190 package, GB/T 38540 seal signature) in the DSS-style shape
 * of verify-pdf.ts, so `applyRegister` and the verification page treat both formats alike. Pure and synchronous
 * (no I/O; the clock only when `now` is omitted), never throws for bad input, every loop bounded by the input.
 *
 * Checks, in order: ofd-package (bounded ZIP: no traversal, no bombs), ofd-structure (OFD.xml → Signatures.xml →
 * the one Signature.xml and SignedValue.dat), references-complete (every file but the signature files is signed),
 * check-values (SM3 of each), ses-structure, data-hash (TBS_Sign.dataHash = SM3(Signature.xml)), signer-certificate,
 * signature-value (SM2 over TBS_Sign), seal-signature (the maker's SM2 over SES_SealInfo), seal-signer (the signer's
 * certificate is one the seal names), certificate-chain (signer and seal maker → pinned SM2 roots), key-usage,
 * seal-validity (at the signing time), certificate-validity (now).
 */
import { createHash } from 'node:crypto';
import { OFD_PATHS } from '../../documents/ofd/paths.js';
import { GM_OIDS, sm2Verify, sm3 } from '../../signing/gm/sm2.js';
import { formatName, parseCertificate, type ParsedCertificate } from '../cms.js';
import { CONTEXT, TAG, UNIVERSAL, bytesEqual, children, expectTlv, isTlv, oidOf, rawOf, readTlv, stringOf, timeOf, valueOf, type Tlv } from '../der.js';
import type { ChainCertificate, Check, Indication, SubIndication, TrustAnchors } from '../verify-pdf.js';
import { childrenNamed, onlyChild, parseXml, rootNamespace, type XmlElement } from './xml.js';
import { readZip, DEFAULT_ZIP_LIMITS, type ZipArchive } from './zip-reader.js';

export interface OfdSignatureReport {
  signer: {
    commonName: string | null;
    organization: string | null;
    code: string | null;
    subject: string;
    issuer: string;
    certificateSha256: string;
    notBefore: string;
    notAfter: string;
  } | null;
  /** TBS_Sign.timeInfo (claimed signing time), ISO-8601. */
  signingTime: string | null;
  /** Every file of the package except the signature's own files is covered by a check value. */
  coversWholeFile: boolean;
  /** Files covered by the signature (package paths). */
  signedFiles: string[];
  seal: { esId: string; name: string; vendor: string; validStart: string; validEnd: string; maker: string } | null;
  algorithm: string | null;
  timestamp: null;
  /** The signer's and the seal maker's certificates and the pinned SM2 root(s) they chain to, as far as built. */
  chain: ChainCertificate[];
}

export interface OfdVerification {
  indication: Indication;
  subIndication?: SubIndication;
  sha256: string;
  size: number;
  validationTime: string;
  signature: OfdSignatureReport;
  checks: Check[];
  /** CustomData CertificateId of OFD.xml, only when the signature is intact, complete and chains to a pinned root. */
  certificateId: string | null;
}

export interface VerifyOfdOptions {
  /** The pinned SM2 roots: the only anchors a signer or seal maker may chain to. */
  roots: TrustAnchors;
  now?: Date;
  maxBytes?: number;
}

const MAX_XML_BYTES = 1024 * 1024;
const MAX_SIGNED_VALUE_BYTES = 512 * 1024;
/** A signing time this far past `now` is a claim from the future (clock skew allowance). */
const FUTURE_SKEW_MS = 5 * 60_000;

const EFFECT: Record<string, [Indication, SubIndication]> = {
  'ofd-package': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'ofd-structure': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'references-complete': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'check-values': ['TOTAL_FAILED', 'HASH_FAILURE'],
  'ses-structure': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'data-hash': ['TOTAL_FAILED', 'HASH_FAILURE'],
  'signer-certificate': ['INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND'],
  'signature-value': ['TOTAL_FAILED', 'SIG_CRYPTO_FAILURE'],
  'seal-signature': ['TOTAL_FAILED', 'SIG_CRYPTO_FAILURE'],
  'seal-signer': ['TOTAL_FAILED', 'SIG_CONSTRAINTS_FAILURE'],
  'certificate-chain': ['INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND'],
  'key-usage': ['INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE'],
  'seal-validity': ['TOTAL_FAILED', 'EXPIRED'],
  'certificate-validity': ['INDETERMINATE', 'EXPIRED'],
};

interface InternalCheck extends Check {
  sub?: SubIndication;
}

/** An SM2 certificate's signed part, signature and public key, read with the strict DER reader. */
interface Sm2Cert {
  parsed: ParsedCertificate;
  tbs: Uint8Array;
  signatureAlgorithm: string;
  signature: Uint8Array;
  /** 04‖x‖y hex, or null when the key is not SM2. */
  publicKeyHex: string | null;
}

function bitStringBytes(buf: Uint8Array, t: Tlv, what: string): Uint8Array {
  const v = valueOf(buf, expectTlv(t, UNIVERSAL, TAG.BIT_STRING, what));
  if (v[0] !== 0) throw new Error(`${what}: BIT STRING with unused bits`);
  return v.subarray(1);
}

function readSm2Cert(der: Uint8Array): Sm2Cert {
  const buf = Buffer.from(der);
  const top = readTlv(buf, 0);
  if (top.end !== buf.length) throw new Error('trailing bytes after the certificate');
  const [tbsT, algT, sigT] = children(buf, expectTlv(top, UNIVERSAL, TAG.SEQUENCE, 'Certificate'), 3);
  const f = children(buf, expectTlv(tbsT, UNIVERSAL, TAG.SEQUENCE, 'TBSCertificate'), 12);
  const spki = f[isTlv(f[0], CONTEXT, 0) ? 6 : 5];
  const [spkiAlg, spkiKey] = children(buf, expectTlv(spki, UNIVERSAL, TAG.SEQUENCE, 'SubjectPublicKeyInfo'), 2);
  const algParts = children(buf, expectTlv(spkiAlg, UNIVERSAL, TAG.SEQUENCE, 'AlgorithmIdentifier'), 2);
  const isSm2 = oidOf(buf, algParts[0] as Tlv) === GM_OIDS.ecPublicKey && isTlv(algParts[1], UNIVERSAL, TAG.OID) && oidOf(buf, algParts[1]) === GM_OIDS.sm2Curve;
  const key = bitStringBytes(buf, spkiKey as Tlv, 'subjectPublicKey');
  const [sigAlgOid] = children(buf, expectTlv(algT, UNIVERSAL, TAG.SEQUENCE, 'signatureAlgorithm'), 2);
  return {
    parsed: parseCertificate(buf),
    tbs: rawOf(buf, tbsT as Tlv),
    signatureAlgorithm: oidOf(buf, sigAlgOid as Tlv),
    signature: bitStringBytes(buf, sigT as Tlv, 'signatureValue'),
    publicKeyHex: isSm2 && key.length === 65 && key[0] === 4 ? Buffer.from(key).toString('hex') : null,
  };
}

const anchorCache = new WeakMap<TrustAnchors, Sm2Cert[]>();
function sm2Anchors(roots: TrustAnchors): Sm2Cert[] {
  let hit = anchorCache.get(roots);
  if (!hit) {
    hit = [];
    for (const c of roots.certificates) {
      try {
        const r = readSm2Cert(c.der);
        if (r.publicKeyHex) hit.push(r);
      } catch {
        // not an SM2 anchor: irrelevant here
      }
    }
    anchorCache.set(roots, hit);
  }
  return hit;
}

function signedBy(c: Sm2Cert, issuer: Sm2Cert): boolean {
  return (
    bytesEqual(c.parsed.issuerDer, issuer.parsed.subjectDer) &&
    c.signatureAlgorithm === GM_OIDS.sm2WithSm3 &&
    issuer.publicKeyHex !== null &&
    sm2Verify(c.tbs, c.signature, issuer.publicKeyHex)
  );
}

function buildChain(leaf: Sm2Cert, roots: TrustAnchors): { ok: boolean; detail: string; root: Sm2Cert | null } {
  // GB/T 38540 carries one certificate per role and no intermediates: the signer and the seal maker are issued by a
  // pinned root itself.
  const root = sm2Anchors(roots).find((a) => signedBy(leaf, a)) ?? null;
  if (root) return { ok: true, root, detail: [leaf, root].map((c) => c.parsed.subject.CN ?? formatName(c.parsed.subject)).join(' → ') };
  return { ok: false, root, detail: `未连到受信任的国密根证书 ${formatName(leaf.parsed.subject)} does not chain to a pinned SM2 root (issuer: ${formatName(leaf.parsed.issuer)})` };
}

interface Seal {
  sealInfo: Uint8Array;
  esId: string;
  vendor: string;
  name: string;
  signerCerts: Uint8Array[];
  validStart: Date;
  validEnd: Date;
  makerCert: Uint8Array;
  algorithm: string;
  signedValue: Uint8Array;
}

interface Ses {
  tbs: Uint8Array;
  seal: Seal;
  time: Date;
  dataHash: Uint8Array;
  propertyInfo: string;
  signerCert: Uint8Array;
  algorithm: string;
  signature: Uint8Array;
}

function readSes(der: Uint8Array): Ses {
  const buf = Buffer.from(der);
  const top = readTlv(buf, 0);
  if (top.end !== buf.length) throw new Error('trailing bytes after SES_Signature');
  const s = children(buf, expectTlv(top, UNIVERSAL, TAG.SEQUENCE, 'SES_Signature'), 5);
  const tbsT = expectTlv(s[0], UNIVERSAL, TAG.SEQUENCE, 'TBS_Sign');
  const t = children(buf, tbsT, 6);
  const version = valueOf(buf, expectTlv(t[0], UNIVERSAL, TAG.INTEGER, 'version'));
  if (version.length !== 1 || version[0] !== 4) throw new Error('TBS_Sign.version is not 4 (GB/T 38540-2020)');
  const sealT = expectTlv(t[1], UNIVERSAL, TAG.SEQUENCE, 'SESeal');
  const se = children(buf, sealT, 4);
  const infoT = expectTlv(se[0], UNIVERSAL, TAG.SEQUENCE, 'SES_SealInfo');
  const info = children(buf, infoT, 5);
  const header = children(buf, expectTlv(info[0], UNIVERSAL, TAG.SEQUENCE, 'SES_Header'), 3);
  if (stringOf(buf, expectTlv(header[0], UNIVERSAL, TAG.IA5String, 'header.id')) !== 'ES') throw new Error('SES_Header.id is not "ES"');
  const prop = children(buf, expectTlv(info[2], UNIVERSAL, TAG.SEQUENCE, 'SES_ESPropertyInfo'), 7);
  const listType = valueOf(buf, expectTlv(prop[2], UNIVERSAL, TAG.INTEGER, 'certListType'));
  if (listType.length !== 1 || listType[0] !== 1) throw new Error('only certListType 1 (certificates) is accepted');
  const certs = children(buf, expectTlv(prop[3], UNIVERSAL, TAG.SEQUENCE, 'certList'), 16).map((c) => Buffer.from(valueOf(buf, expectTlv(c, UNIVERSAL, TAG.OCTET_STRING, 'cert'))));
  return {
    tbs: rawOf(buf, tbsT),
    seal: {
      sealInfo: rawOf(buf, infoT),
      vendor: stringOf(buf, expectTlv(header[2], UNIVERSAL, TAG.IA5String, 'vid')),
      esId: stringOf(buf, expectTlv(info[1], UNIVERSAL, TAG.IA5String, 'esID')),
      name: stringOf(buf, expectTlv(prop[1], UNIVERSAL, TAG.UTF8String, 'name')),
      signerCerts: certs,
      validStart: timeOf(buf, expectTlv(prop[5], UNIVERSAL, TAG.GeneralizedTime, 'validStart')),
      validEnd: timeOf(buf, expectTlv(prop[6], UNIVERSAL, TAG.GeneralizedTime, 'validEnd')),
      makerCert: valueOf(buf, expectTlv(se[1], UNIVERSAL, TAG.OCTET_STRING, 'seal cert')),
      algorithm: oidOf(buf, se[2] as Tlv),
      signedValue: bitStringBytes(buf, se[3] as Tlv, 'signedValue'),
    },
    time: timeOf(buf, expectTlv(t[2], UNIVERSAL, TAG.GeneralizedTime, 'timeInfo')),
    dataHash: bitStringBytes(buf, t[3] as Tlv, 'dataHash'),
    propertyInfo: stringOf(buf, expectTlv(t[4], UNIVERSAL, TAG.IA5String, 'propertyInfo')),
    signerCert: valueOf(buf, expectTlv(s[1], UNIVERSAL, TAG.OCTET_STRING, 'cert')),
    algorithm: oidOf(buf, s[2] as Tlv),
    signature: bitStringBytes(buf, s[3] as Tlv, 'signature'),
  };
}

/** A package path as written in OFD (`/a/b`, `a/b`, or relative to `base`), normalised; null when it escapes. */
function resolvePath(ref: string, base = ''): string | null {
  const joined = ref.startsWith('/') ? ref.slice(1) : `${base}${ref}`;
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(seg);
  }
  return out.join('/');
}

function xmlOf(zip: ZipArchive, path: string, rootName: string): XmlElement {
  const bytes = zip.read(path);
  if (!bytes) throw new Error(`${path} is missing`);
  if (bytes.length > MAX_XML_BYTES) throw new Error(`${path} is larger than ${MAX_XML_BYTES} bytes`);
  const root = parseXml(bytes.toString('utf8'));
  if (root.name !== rootName || rootNamespace(root) !== 'http://www.ofdspec.org/2016') throw new Error(`${path} is not an ofd:${rootName} document`);
  return root;
}

/** Verifies one OFD package against the pinned SM2 `roots`. Never throws for bad input. */
export function verifyOfd(bytes: Uint8Array, opts: VerifyOfdOptions): OfdVerification {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const now = opts.now ?? new Date();
  const checks: InternalCheck[] = [];
  const sig: OfdSignatureReport = { signer: null, signingTime: null, coversWholeFile: false, signedFiles: [], seal: null, algorithm: null, timestamp: null, chain: [] };
  let certificateId: string | null = null;
  const finish = (): OfdVerification => {
    let verdict: { indication: Indication; subIndication?: SubIndication } = { indication: 'TOTAL_PASSED' };
    for (const c of checks) {
      if (c.result === 'PASSED' || c.result === 'NOT_APPLICABLE') continue;
      const e = EFFECT[c.id];
      if (e) {
        verdict = { indication: e[0], subIndication: c.sub ?? e[1] };
        break;
      }
    }
    return {
      ...verdict,
      sha256: createHash('sha256').update(buf).digest('hex'),
      size: buf.length,
      validationTime: now.toISOString(),
      signature: sig,
      checks: checks.map(({ id, result, detail }) => ({ id, result, detail })),
      certificateId: verdict.indication === 'TOTAL_PASSED' ? certificateId : null,
    };
  };
  const pass = (id: string, detail: string) => checks.push({ id, result: 'PASSED', detail });
  const fail = (id: string, detail: string, sub?: SubIndication) => {
    checks.push({ id, result: 'FAILED', detail, ...(sub ? { sub } : {}) });
    return finish();
  };
  const addToChain = (role: ChainCertificate['role'], c: Sm2Cert) => {
    if (!sig.chain.some((x) => x.sha256 === c.parsed.sha256)) sig.chain.push({ role, subject: formatName(c.parsed.subject), sha256: c.parsed.sha256 });
  };
  try {
    return run();
  } catch (err) {
    // Every parser reports its own failures; this only keeps a surprise from becoming a 500.
    return fail('ofd-structure', `文件结构异常 unexpected structure: ${(err as Error).message}`);
  }

  function run(): OfdVerification {
    const maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    if (buf.length > maxBytes) return fail('ofd-package', `文件过大 larger than ${maxBytes} bytes`);
    let zip: ZipArchive;
    try {
      zip = readZip(buf, DEFAULT_ZIP_LIMITS);
    } catch (err) {
      return fail('ofd-package', `OFD 包结构不安全或损坏 unsafe or damaged package: ${(err as Error).message}`);
    }
    pass('ofd-package', `ZIP, ${zip.names.length} files within the limits`);

    let signatureXml: Buffer;
    let signedValue: Buffer;
    let refs: Array<{ path: string; value: string }>;
    let stampOk: boolean;
    try {
      const ofd = xmlOf(zip, OFD_PATHS.root, 'OFD');
      const bodies = childrenNamed(ofd, 'DocBody');
      if (bodies.length !== 1) throw new Error('OFD.xml must hold exactly one DocBody');
      const body = bodies[0] as XmlElement;
      const sigsRef = onlyChild(body, 'Signatures')?.text.trim();
      if (!sigsRef || resolvePath(sigsRef) !== OFD_PATHS.signatures) throw new Error(`DocBody/Signatures must name ${OFD_PATHS.signatures}`);
      const docRoot = onlyChild(body, 'DocRoot')?.text.trim();
      if (!docRoot || !zip.read(resolvePath(docRoot) ?? '')) throw new Error('DocBody/DocRoot is missing or names no file');
      const id = onlyChild(body, 'DocInfo') && onlyChild(onlyChild(body, 'DocInfo') as XmlElement, 'CustomDatas');
      const idEl = id ? childrenNamed(id, 'CustomData').filter((c) => c.attrs.Name === 'CertificateId') : [];
      const idText = idEl.length === 1 ? (idEl[0] as XmlElement).text.trim() : null;

      const sigs = xmlOf(zip, OFD_PATHS.signatures, 'Signatures');
      const entries = childrenNamed(sigs, 'Signature');
      if (entries.length !== 1) throw new Error(`Signatures.xml must list exactly one signature, found ${entries.length}`);
      const base = resolvePath((entries[0] as XmlElement).attrs.BaseLoc ?? '', 'Doc_0/Signs/');
      if (base !== OFD_PATHS.signature) throw new Error(`the signature must be ${OFD_PATHS.signature}, found ${String(base)}`);
      const sx = xmlOf(zip, OFD_PATHS.signature, 'Signature');
      signatureXml = zip.read(OFD_PATHS.signature) as Buffer;
      const info = onlyChild(sx, 'SignedInfo');
      const references = info && onlyChild(info, 'References');
      if (!info || !references) throw new Error('Signature.xml has no SignedInfo/References');
      if ((references.attrs.CheckMethod ?? '') !== GM_OIDS.sm3) throw new Error(`References/@CheckMethod must be SM3 (${GM_OIDS.sm3})`);
      const svPath = resolvePath(onlyChild(sx, 'SignedValue')?.text.trim() ?? '', 'Doc_0/Signs/Sign_0/');
      if (svPath !== OFD_PATHS.signedValue) throw new Error(`SignedValue must be ${OFD_PATHS.signedValue}`);
      const sv = zip.read(OFD_PATHS.signedValue);
      if (!sv || sv.length > MAX_SIGNED_VALUE_BYTES) throw new Error('SignedValue.dat is missing or too large');
      signedValue = sv;
      refs = childrenNamed(references, 'Reference').map((r) => ({ path: resolvePath(r.attrs.FileRef ?? '') ?? '', value: onlyChild(r, 'CheckValue')?.text.trim() ?? '' }));
      const stamps = childrenNamed(info, 'StampAnnot');
      stampOk = stamps.length === 1;
      if (idText && /^[0-9A-Za-z._-]{1,64}$/.test(idText)) certificateId = idText;
    } catch (err) {
      return fail('ofd-structure', `OFD 结构不符合要求 ${(err as Error).message}`);
    }
    pass('ofd-structure', `OFD.xml → ${OFD_PATHS.signatures} → ${OFD_PATHS.signature} + SignedValue.dat${stampOk ? ', one stamp annotation' : ''}`);

    const referenced = new Set<string>();
    for (const r of refs) {
      if (r.path === '' || referenced.has(r.path)) return fail('references-complete', `签名引用重复或为空 duplicate or empty reference ${JSON.stringify(r.path)}`);
      if (OFD_PATHS.signatureFiles.includes(r.path)) return fail('references-complete', `签名文件不能被自身引用 ${r.path} cannot be covered by its own signature`);
      referenced.add(r.path);
    }
    const unsigned = zip.names.filter((n) => !referenced.has(n) && !OFD_PATHS.signatureFiles.includes(n));
    const missing = [...referenced].filter((p) => !zip.names.includes(p));
    if (unsigned.length > 0) return fail('references-complete', `包内存在未签名的文件 files not covered by the signature: ${unsigned.slice(0, 10).join(', ')}`);
    if (missing.length > 0) return fail('references-complete', `签名引用的文件不存在 referenced files missing: ${missing.slice(0, 10).join(', ')}`);
    sig.coversWholeFile = true;
    sig.signedFiles = [...referenced].sort();
    pass('references-complete', `签名覆盖包内全部 ${referenced.size} 个文件 every file but the signature's own is covered`);

    for (const r of refs) {
      const data = zip.read(r.path) as Buffer;
      if (sm3(data).toString('base64') !== r.value) return fail('check-values', `文件在签章后被改动 ${r.path} changed after signing (SM3 check value differs)`);
    }
    pass('check-values', `SM3 check values of ${refs.length} files match`);

    let ses: Ses;
    try {
      ses = readSes(signedValue);
      if (ses.algorithm !== GM_OIDS.sm2WithSm3 || ses.seal.algorithm !== GM_OIDS.sm2WithSm3) throw new Error('signature algorithms must be SM2-with-SM3');
      if (resolvePath(ses.propertyInfo) !== OFD_PATHS.signature) throw new Error(`propertyInfo must name ${OFD_PATHS.signature}`);
    } catch (err) {
      return fail('ses-structure', `电子签章数据无法解析 SES_Signature: ${(err as Error).message}`);
    }
    sig.algorithm = 'SM2-with-SM3';
    sig.signingTime = ses.time.toISOString();
    pass('ses-structure', `SES_Signature v4, seal ${ses.seal.esId}`);

    if (!bytesEqual(ses.dataHash, sm3(signatureXml))) return fail('data-hash', '签名描述文件被替换或改动 Signature.xml is not the one signed (TBS_Sign.dataHash differs)');
    pass('data-hash', 'TBS_Sign.dataHash = SM3(Signature.xml)');

    let signer: Sm2Cert;
    let maker: Sm2Cert;
    try {
      signer = readSm2Cert(ses.signerCert);
      maker = readSm2Cert(ses.seal.makerCert);
      if (!signer.publicKeyHex || !maker.publicKeyHex) throw new Error('not an SM2 key');
    } catch (err) {
      return fail('signer-certificate', `签章人或制章人证书无法解析 ${(err as Error).message}`);
    }
    const p = signer.parsed;
    sig.signer = {
      commonName: p.subject.CN ?? null,
      organization: p.subject.O ?? null,
      code: p.subject.serialNumber ?? null,
      subject: formatName(p.subject),
      issuer: formatName(p.issuer),
      certificateSha256: p.sha256,
      notBefore: p.notBefore.toISOString(),
      notAfter: p.notAfter.toISOString(),
    };
    sig.seal = { esId: ses.seal.esId, name: ses.seal.name, vendor: ses.seal.vendor, validStart: ses.seal.validStart.toISOString(), validEnd: ses.seal.validEnd.toISOString(), maker: formatName(maker.parsed.subject) };
    pass('signer-certificate', `签章人 signer: ${sig.signer.subject}`);

    if (!sm2Verify(ses.tbs, ses.signature, signer.publicKeyHex)) return fail('signature-value', '电子签章签名值无效 the SM2 signature over TBS_Sign does not verify');
    pass('signature-value', 'SM2 signature over TBS_Sign verifies (SM3, ID 1234567812345678)');
    if (!sm2Verify(ses.seal.sealInfo, ses.seal.signedValue, maker.publicKeyHex)) return fail('seal-signature', '电子印章签名值无效 the seal maker signature over SES_SealInfo does not verify');
    pass('seal-signature', `印章由制章人签名 seal signed by ${formatName(maker.parsed.subject)}`);
    if (!ses.seal.signerCerts.some((c) => bytesEqual(c, ses.signerCert))) return fail('seal-signer', '签章人证书不在印章的证书列表中 the signer certificate is not one the seal names');
    pass('seal-signer', 'the signer certificate is listed in the seal');

    for (const [who, role, c] of [['签章人 signer', 'signer', signer], ['制章人 seal maker', 'seal-maker', maker]] as const) {
      const chain = buildChain(c, opts.roots);
      addToChain(role, c);
      if (chain.root) addToChain('anchor', chain.root);
      if (!chain.ok) return fail('certificate-chain', `${who}: ${chain.detail}`);
    }
    pass('certificate-chain', `签章人与制章人证书均连到受信任的国密根证书 signer and seal maker chain to a pinned SM2 root`);

    for (const [who, c] of [['signer', signer.parsed], ['seal maker', maker.parsed]] as const) {
      const ku = c.keyUsage;
      if (c.isCa || !ku || !(ku.digitalSignature || ku.nonRepudiation)) return fail('key-usage', `${who} ${formatName(c.subject)} may not sign`);
    }
    pass('key-usage', 'digitalSignature / nonRepudiation, not CA');

    if (ses.time.getTime() > now.getTime() + FUTURE_SKEW_MS) return fail('seal-validity', `签章时间晚于当前时间 the signing time ${sig.signingTime} lies in the future`, 'NOT_YET_VALID');
    if (ses.time < ses.seal.validStart) return fail('seal-validity', `签章时印章尚未生效 the seal is valid from ${sig.seal.validStart}, signed ${sig.signingTime}`, 'NOT_YET_VALID');
    if (ses.time > ses.seal.validEnd) return fail('seal-validity', `签章时印章已过期 the seal expired ${sig.seal.validEnd}, signed ${sig.signingTime}`, 'EXPIRED');
    pass('seal-validity', `印章在签章时有效 the seal was valid at ${sig.signingTime}`);

    for (const c of [signer.parsed, maker.parsed]) {
      if (now < c.notBefore) return fail('certificate-validity', `证书尚未生效 ${formatName(c.subject)} is valid from ${c.notBefore.toISOString()}`, 'NOT_YET_VALID');
      if (now > c.notAfter) return fail('certificate-validity', `证书已过期 ${formatName(c.subject)} expired ${c.notAfter.toISOString()}`, 'EXPIRED');
    }
    pass('certificate-validity', `证书在 ${now.toISOString()} 有效 certificates valid at validation time`);
    return finish();
  }
}
