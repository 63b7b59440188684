/**
 * Strict verification of a signed certificate PDF, modelled on EU DSS reports: `verifyPdf(bytes, opts)` is pure
 * (no I/O, no clock unless `now` is omitted) and synchronous; `applyRegister` adds the register's verdict.
 *
 * Untrusted bytes are never rendered, decompressed or interpreted: the file is scanned for its one signature
 * dictionary, which a small bounded parser reads; the CMS is read by the strict DER reader; every loop is bounded
 * by the input size, so a bounded input is verified in bounded time.
 */
import { X509Certificate, createHash } from 'node:crypto';
import {
  OIDS,
  attribute,
  formatName,
  hashOf,
  messageDigestOf,
  parseCertificate,
  parseSignedData,
  parseTstInfo,
  signerCertificate,
  signingCertificateV2Of,
  verifySignerInfo,
  type ParsedCertificate,
  type ParsedSignedData,
  type ParsedSignerInfo,
} from './cms.js';
import { TAG, UNIVERSAL, bytesEqual, rawOf, valueOf } from './der.js';

export type Indication = 'TOTAL_PASSED' | 'TOTAL_FAILED' | 'INDETERMINATE';
export type SubIndication =
  | 'FORMAT_FAILURE'
  | 'HASH_FAILURE'
  | 'SIG_CRYPTO_FAILURE'
  | 'SIG_CONSTRAINTS_FAILURE'
  | 'CHAIN_CONSTRAINTS_FAILURE'
  | 'NO_SIGNING_CERTIFICATE_FOUND'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'REVOKED'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'TRY_LATER'
  // Register verdicts (our extension of the DSS vocabulary):
  | 'NOT_REGISTERED'
  | 'SUPERSEDED';
export type CheckResult = 'PASSED' | 'FAILED' | 'NOT_APPLICABLE' | 'INDETERMINATE';

export interface Check {
  id: string;
  result: CheckResult;
  detail: string;
}

export interface TimestampInfo {
  genTime: string;
  tsa: string;
  serialNumber: string;
  /** Imprint equals the hash of the signature value and the TSA's signature verifies. */
  verified: boolean;
  /** The TSA certificate chains to a trusted root (ours or a configured TSA root). */
  trusted: boolean;
}

/**
 * One certificate of a signature's chain as verified: the signer's (leaf), the intermediates it chained through and
 * the pinned anchor it reached (OFD: also the seal maker's). The sha256 is of the certificate's DER, as revocations
 * of signing certificates name it (`npm run audit -- revoke-signing-cert --sha256 …`).
 */
export interface ChainCertificate {
  role: 'signer' | 'intermediate' | 'anchor' | 'seal-maker';
  subject: string;
  sha256: string;
}

export interface SignatureReport {
  signer: {
    commonName: string | null;
    organization: string | null;
    /** serialNumber attribute: the department's 统一社会信用代码. */
    code: string | null;
    subject: string;
    issuer: string;
    certificateSha256: string;
    notBefore: string;
    notAfter: string;
  } | null;
  /** /M of the signature dictionary (claimed signing time), ISO-8601. */
  signingTime: string | null;
  subFilter: string | null;
  byteRange: number[] | null;
  coversWholeFile: boolean;
  /** DocMDP permission level (1 = no changes allowed), null when not a certification signature. */
  docMdp: number | null;
  timestamp: TimestampInfo | null;
  /** Signer → intermediates → anchor, as far as the chain was built (empty before the signer is found). */
  chain: ChainCertificate[];
}

export interface PdfVerification {
  indication: Indication;
  subIndication?: SubIndication;
  /** SHA-256 of the whole file (hex). */
  sha256: string;
  size: number;
  /** The time certificates were checked at: a trusted timestamp's genTime, else `now`. */
  validationTime: string;
  signature: SignatureReport;
  checks: Check[];
  /**
   * `/CertificateId` of the document information dictionary, reported only when the signature is intact, covers
   * the whole file and chains to a pinned root — i.e. when these bytes are exactly what a trusted key signed.
   */
  certificateId: string | null;
}

/** What the register holds about one certificate (the store's row, as the verifier needs it). */
export interface RegisterEntry {
  id: string;
  status: 'valid' | 'revoked' | 'superseded';
  number: string;
  licenseId: string;
  holderName: string;
  holderCode: string;
  issuerName: string;
  issuerCode: string;
  issuedAt: string;
  validUntil: string | null;
  sha256: string;
  revokedAt?: string | null;
  revocationReason?: string | null;
}

export interface RegisterReport {
  id: string;
  status: 'valid' | 'revoked' | 'superseded';
  number: string;
  licenseId: string;
  holder: { name: string; code: string };
  issuer: { name: string; code: string };
  issuedAt: string;
  validUntil: string | null;
  sha256Matches: boolean;
  revokedAt?: string;
  revocationReason?: string;
}

export interface VerificationReport extends PdfVerification {
  register: RegisterReport | null;
}

/** Parsed trust anchors (PEM bundle → certificates). Build once and reuse. */
export interface TrustAnchors {
  readonly certificates: readonly ParsedCertificate[];
}

export function trustAnchors(pem: string): TrustAnchors {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return { certificates: blocks.map((b) => parseCertificate(new X509Certificate(b).raw)) };
}

const anchorCache = new Map<string, TrustAnchors>();
function anchorsOf(a: TrustAnchors | string | null | undefined): TrustAnchors {
  if (!a) return { certificates: [] };
  if (typeof a !== 'string') return a;
  let hit = anchorCache.get(a);
  if (!hit) {
    hit = trustAnchors(a);
    if (anchorCache.size > 16) anchorCache.clear();
    anchorCache.set(a, hit);
  }
  return hit;
}

export interface VerifyPdfOptions {
  /** The pinned roots (PEM or prepared): the only anchors a signature may chain to. */
  roots: TrustAnchors | string;
  /** Extra anchors for timestamp authorities only. */
  tsaRoots?: TrustAnchors | string | null;
  now?: Date;
  /** Larger inputs are refused at once (default 10 MiB). */
  maxBytes?: number;
}

export const DEFAULT_VERIFY_MAX_BYTES = 10 * 1024 * 1024;
/** Largest CMS accepted in /Contents (our placeholder is 16 KiB). */
const MAX_CMS_BYTES = 64 * 1024;
const MAX_CHAIN = 6;

/** How a non-passing check decides the overall indication (first decisive check wins, in check order). */
const EFFECT: Record<string, [Indication, SubIndication]> = {
  'pdf-format': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'single-signature': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'byte-range': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'covers-whole-file': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'sub-filter': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  docmdp: ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'cms-structure': ['TOTAL_FAILED', 'FORMAT_FAILURE'],
  'signer-certificate': ['INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND'],
  'message-digest': ['TOTAL_FAILED', 'HASH_FAILURE'],
  'signature-value': ['TOTAL_FAILED', 'SIG_CRYPTO_FAILURE'],
  'signed-attributes': ['INDETERMINATE', 'SIG_CONSTRAINTS_FAILURE'],
  'signing-certificate-v2': ['INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND'],
  'certificate-chain': ['INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND'],
  'key-usage': ['INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE'],
  'certificate-validity': ['INDETERMINATE', 'EXPIRED'],
  timestamp: ['TOTAL_FAILED', 'SIG_CRYPTO_FAILURE'],
  'register-entry': ['TOTAL_FAILED', 'NOT_REGISTERED'],
  'register-hash': ['TOTAL_FAILED', 'NOT_REGISTERED'],
  'register-status': ['TOTAL_FAILED', 'REVOKED'],
};

interface InternalCheck extends Check {
  /** Overrides EFFECT's sub-indication (e.g. NOT_YET_VALID, SUPERSEDED). */
  sub?: SubIndication;
  /** A check that could not run because an earlier one failed, or whose INDETERMINATE does not decide. */
  inert?: boolean;
}

function decide(checks: InternalCheck[]): { indication: Indication; subIndication?: SubIndication } {
  for (const c of checks) {
    if (c.result === 'PASSED' || c.result === 'NOT_APPLICABLE' || c.inert) continue;
    const effect = EFFECT[c.id];
    if (!effect) continue;
    return { indication: effect[0], subIndication: c.sub ?? effect[1] };
  }
  return { indication: 'TOTAL_PASSED' };
}

const publicCheck = ({ id, result, detail }: InternalCheck): Check => ({ id, result, detail });

// ---------------------------------------------------------------------------------------------------------------
// A bounded reader for one PDF object (the signature dictionary).

type PdfValue =
  | { t: 'dict'; v: Map<string, PdfValue> }
  | { t: 'array'; v: PdfValue[] }
  | { t: 'name'; v: string }
  | { t: 'num'; v: number }
  | { t: 'str'; v: Buffer }
  | { t: 'hex'; v: string; start: number; end: number }
  | { t: 'ref'; num: number; gen: number }
  | { t: 'bool'; v: boolean }
  | { t: 'null' };

class PdfSyntaxError extends Error {}

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
const isDelim = (c: number) =>
  isWs(c) || c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;

class ObjectReader {
  private tokens = 0;
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly limit: number,
  ) {}

  private peek(): number {
    return this.pos < this.limit ? (this.buf[this.pos] as number) : -1;
  }

  private skipWs(): void {
    for (;;) {
      const c = this.peek();
      if (c === -1) return;
      if (isWs(c)) this.pos++;
      else if (c === 0x25) while (this.pos < this.limit && this.buf[this.pos] !== 0x0a && this.buf[this.pos] !== 0x0d) this.pos++;
      else return;
    }
  }

  value(depth: number): PdfValue {
    if (depth > 16) throw new PdfSyntaxError('nesting deeper than 16 levels');
    if (++this.tokens > 10_000) throw new PdfSyntaxError('more than 10000 tokens in the signature dictionary');
    this.skipWs();
    const c = this.peek();
    if (c === -1) throw new PdfSyntaxError('unexpected end of data');
    if (c === 0x3c && this.buf[this.pos + 1] === 0x3c) return this.dict(depth);
    if (c === 0x3c) return this.hex();
    if (c === 0x5b) return this.array(depth);
    if (c === 0x2f) return { t: 'name', v: this.name() };
    if (c === 0x28) return { t: 'str', v: this.literal() };
    const word = this.word();
    if (word === 'true' || word === 'false') return { t: 'bool', v: word === 'true' };
    if (word === 'null') return { t: 'null' };
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) throw new PdfSyntaxError(`unexpected token ${JSON.stringify(word.slice(0, 20))}`);
    const n = Number(word);
    if (/^\d+$/.test(word)) {
      // `num gen R` ?
      const save = this.pos;
      this.skipWs();
      const gen = this.word();
      if (/^\d+$/.test(gen)) {
        this.skipWs();
        if (this.word() === 'R') return { t: 'ref', num: n, gen: Number(gen) };
      }
      this.pos = save;
    }
    return { t: 'num', v: n };
  }

  private word(): string {
    const start = this.pos;
    while (this.pos < this.limit && !isDelim(this.buf[this.pos] as number) && this.pos - start < 64) this.pos++;
    return this.buf.toString('latin1', start, this.pos);
  }

  private name(): string {
    this.pos++; // '/'
    const start = this.pos;
    while (this.pos < this.limit && !isDelim(this.buf[this.pos] as number)) {
      if (this.pos - start > 127) throw new PdfSyntaxError('name longer than 127 bytes');
      this.pos++;
    }
    return this.buf.toString('latin1', start, this.pos).replace(/#([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }

  private dict(depth: number): PdfValue {
    this.pos += 2;
    const v = new Map<string, PdfValue>();
    for (;;) {
      this.skipWs();
      const c = this.peek();
      if (c === 0x3e && this.buf[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return { t: 'dict', v };
      }
      if (c !== 0x2f) throw new PdfSyntaxError('dictionary key is not a name');
      const key = this.name();
      if (v.has(key)) throw new PdfSyntaxError(`duplicate key /${key}`);
      v.set(key, this.value(depth + 1));
    }
  }

  private array(depth: number): PdfValue {
    this.pos++;
    const v: PdfValue[] = [];
    for (;;) {
      this.skipWs();
      if (this.peek() === 0x5d) {
        this.pos++;
        return { t: 'array', v };
      }
      if (this.peek() === -1) throw new PdfSyntaxError('unterminated array');
      v.push(this.value(depth + 1));
    }
  }

  private hex(): PdfValue {
    const start = this.pos;
    const close = this.buf.indexOf(0x3e, start + 1);
    if (close < 0 || close >= this.limit) throw new PdfSyntaxError('unterminated hex string');
    this.pos = close + 1;
    return { t: 'hex', v: this.buf.toString('latin1', start + 1, close), start, end: close + 1 };
  }

  private literal(): Buffer {
    this.pos++;
    let depth = 1;
    const out: number[] = [];
    while (this.pos < this.limit) {
      const c = this.buf[this.pos++] as number;
      if (c === 0x5c) {
        const e = this.buf[this.pos++] as number;
        const map: Record<number, number> = { 0x6e: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x66: 12 };
        if (map[e] !== undefined) out.push(map[e]);
        else if (e >= 0x30 && e <= 0x37) {
          let o = e - 0x30;
          for (let k = 0; k < 2 && (this.buf[this.pos] as number) >= 0x30 && (this.buf[this.pos] as number) <= 0x37; k++) {
            o = o * 8 + ((this.buf[this.pos++] as number) - 0x30);
          }
          out.push(o & 0xff);
        } else if (e !== 0x0a && e !== 0x0d) out.push(e);
        continue;
      }
      if (c === 0x28) depth++;
      if (c === 0x29 && --depth === 0) return Buffer.from(out);
      out.push(c);
      if (out.length > 4096) throw new PdfSyntaxError('string longer than 4096 bytes');
    }
    throw new PdfSyntaxError('unterminated string');
  }
}

const get = (d: PdfValue | undefined, key: string): PdfValue | undefined => (d?.t === 'dict' ? d.v.get(key) : undefined);
const nameOf = (v: PdfValue | undefined): string | null => (v?.t === 'name' ? v.v : null);

/** PDF date `D:YYYYMMDDHHmmSSOHH'mm'` → ISO-8601, or null. */
export function parsePdfDate(s: string): string | null {
  const m = /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?/.exec(s);
  if (!m) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', se = '00', tz = 'Z'] = m;
  let offset = 0;
  if (tz !== 'Z') {
    const t = /([+-])(\d{2})'?(\d{2})/.exec(tz);
    if (t) offset = (t[1] === '-' ? -1 : 1) * (Number(t[2]) * 60 + Number(t[3]));
  }
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se)) - offset * 60_000;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** Offsets of `needle` in `buf` that are followed by a PDF delimiter (whole tokens only). */
function tokenOffsets(buf: Buffer, needle: string, max = 1000): number[] {
  const out: number[] = [];
  for (let i = buf.indexOf(needle, 0, 'latin1'); i >= 0 && out.length < max; i = buf.indexOf(needle, i + 1, 'latin1')) {
    const next = buf[i + needle.length];
    if (next === undefined || isDelim(next)) out.push(i);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

interface ChainResult {
  ok: boolean;
  chain: ParsedCertificate[];
  detail: string;
}

/** Builds signer → … → pinned root using only the CMS's own certificates as intermediates. */
function buildChain(leaf: ParsedCertificate, pool: readonly ParsedCertificate[], anchors: TrustAnchors): ChainResult {
  const chain = [leaf];
  let cur = leaf;
  const signedBy = (c: ParsedCertificate, issuer: ParsedCertificate) => {
    try {
      return bytesEqual(c.issuerDer, issuer.subjectDer) && c.x509.verify(issuer.x509.publicKey);
    } catch {
      return false;
    }
  };
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const root = anchors.certificates.find((a) => signedBy(cur, a));
    if (root) {
      chain.push(root);
      return { ok: true, chain, detail: `信任链 chain: ${chain.map((c) => c.subject.CN ?? formatName(c.subject)).join(' → ')}` };
    }
    const next = pool.find((c) => !chain.includes(c) && signedBy(cur, c));
    if (!next) break;
    chain.push(next);
    cur = next;
  }
  return {
    ok: false,
    chain,
    detail: `未连到受信任的根证书 the chain does not reach a pinned root (issuer of the last certificate: ${formatName(cur.issuer)})`,
  };
}

function signerView(c: ParsedCertificate): NonNullable<SignatureReport['signer']> {
  return {
    commonName: c.subject.CN ?? null,
    organization: c.subject.O ?? null,
    code: c.subject.serialNumber ?? null,
    subject: formatName(c.subject),
    issuer: formatName(c.issuer),
    certificateSha256: c.sha256,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
  };
}

function verifyTimestamp(
  si: ParsedSignerInfo,
  sd: ParsedSignedData,
  anchors: TrustAnchors,
): { check: InternalCheck; info: TimestampInfo | null; genTime: Date | null } {
  const attrs = attribute(si, OIDS.signatureTimeStampToken, true);
  if (attrs.length === 0) {
    return { check: { id: 'timestamp', result: 'NOT_APPLICABLE', detail: '无时间戳 no signature timestamp (PAdES B-B)' }, info: null, genTime: null };
  }
  const fail = (detail: string, sub: SubIndication = 'SIG_CRYPTO_FAILURE') => ({
    check: { id: 'timestamp', result: 'FAILED' as const, detail, sub },
    info: null,
    genTime: null,
  });
  if (attrs.length !== 1 || attrs[0]?.values.length !== 1) return fail('时间戳属性应恰有一个 exactly one timestamp token expected', 'FORMAT_FAILURE');
  let token: ParsedSignedData;
  try {
    token = parseSignedData(rawOf(sd.buf, attrs[0].values[0]!));
  } catch (err) {
    return fail(`时间戳无法解析 the timestamp token is malformed: ${(err as Error).message}`, 'FORMAT_FAILURE');
  }
  const tsi = token.signerInfos[0];
  if (token.eContentType !== OIDS.tstInfo || !token.eContent || token.signerInfos.length !== 1 || !tsi) {
    return fail('时间戳不是 TSTInfo the token is not a single-signer TSTInfo', 'FORMAT_FAILURE');
  }
  let tst: ReturnType<typeof parseTstInfo>;
  try {
    tst = parseTstInfo(token.eContent);
  } catch (err) {
    return fail(`TSTInfo 无法解析 malformed TSTInfo: ${(err as Error).message}`, 'FORMAT_FAILURE');
  }
  const imprintHash = hashOf(tst.hashAlgorithm);
  if (!imprintHash || !createHash(imprintHash).update(si.signature).digest().equals(tst.hashedMessage)) {
    return fail('时间戳的摘要与签名值不符 the timestamp imprint is not the hash of the signature value', 'HASH_FAILURE');
  }
  const tsaCert = signerCertificate(token, tsi);
  const contentHash = hashOf(tsi.digestAlgorithm);
  const md = messageDigestOf(tsi, token.buf);
  if (!tsaCert) return fail('时间戳中无 TSA 证书 the token does not carry the TSA certificate', 'NO_SIGNING_CERTIFICATE_FOUND');
  if (!contentHash || !md || !createHash(contentHash).update(token.eContent).digest().equals(md)) {
    return fail('时间戳 messageDigest 不符 the token messageDigest does not match its TSTInfo', 'HASH_FAILURE');
  }
  const sig = verifySignerInfo(tsi, tsaCert);
  if (!sig.ok) return fail(`TSA 签名无效 the TSA signature does not verify: ${sig.detail}`);
  const chain = buildChain(tsaCert, token.certificates, anchors);
  const eku = tsaCert.extKeyUsage.includes(OIDS.timeStamping);
  const withinValidity = tst.genTime >= tsaCert.notBefore && tst.genTime <= tsaCert.notAfter;
  const trusted = chain.ok && eku && withinValidity;
  const info: TimestampInfo = {
    genTime: tst.genTime.toISOString(),
    tsa: formatName(tsaCert.subject),
    serialNumber: tst.serialNumber,
    verified: true,
    trusted,
  };
  if (!trusted) {
    const why = !chain.ok ? 'TSA 证书不受信任 the TSA certificate does not chain to a trusted root' : !eku ? 'TSA 证书无 timeStamping 用途 no timeStamping EKU' : 'genTime 不在 TSA 证书有效期内 genTime outside the TSA certificate validity';
    // An untrusted timestamp proves nothing, but does not invalidate the signature: validation falls back to now.
    return { check: { id: 'timestamp', result: 'INDETERMINATE', detail: `时间戳验证通过但${why}`, inert: true }, info, genTime: null };
  }
  return {
    check: { id: 'timestamp', result: 'PASSED', detail: `时间戳 RFC 3161 ${info.genTime} by ${info.tsa}` },
    info,
    genTime: tst.genTime,
  };
}

/**
 * Verifies the one PAdES signature of `bytes` against the pinned `roots`. Never throws for bad input: anything
 * malformed becomes TOTAL_FAILED/FORMAT_FAILURE with the failing check named.
 */
export function verifyPdf(bytes: Uint8Array, opts: VerifyPdfOptions): PdfVerification {
  try {
    return verifyPdfUnguarded(bytes, opts);
  } catch (err) {
    // Last resort: every parser above reports its own failures; this only keeps a surprise from becoming a 500.
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      indication: 'TOTAL_FAILED',
      subIndication: 'FORMAT_FAILURE',
      sha256: createHash('sha256').update(buf).digest('hex'),
      size: buf.length,
      validationTime: (opts.now ?? new Date()).toISOString(),
      signature: { signer: null, signingTime: null, subFilter: null, byteRange: null, coversWholeFile: false, docMdp: null, timestamp: null, chain: [] },
      checks: [{ id: 'pdf-format', result: 'FAILED', detail: `文件结构异常 unexpected structure: ${(err as Error).message}` }],
      certificateId: null,
    };
  }
}

function verifyPdfUnguarded(bytes: Uint8Array, opts: VerifyPdfOptions): PdfVerification {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const now = opts.now ?? new Date();
  const maxBytes = opts.maxBytes ?? DEFAULT_VERIFY_MAX_BYTES;
  const checks: InternalCheck[] = [];
  const sig: SignatureReport = { signer: null, signingTime: null, subFilter: null, byteRange: null, coversWholeFile: false, docMdp: null, timestamp: null, chain: [] };
  let validationTime = now;
  let certificateId: string | null = null;
  const sha256 = createHash('sha256').update(buf).digest('hex');

  const ALL = [
    'pdf-format', 'single-signature', 'byte-range', 'covers-whole-file', 'sub-filter', 'docmdp', 'cms-structure',
    'signer-certificate', 'message-digest', 'signature-value', 'signed-attributes', 'signing-certificate-v2',
    'certificate-chain', 'key-usage', 'certificate-validity', 'timestamp',
  ];
  const finish = (): PdfVerification => {
    const done = new Set(checks.map((c) => c.id));
    const first = checks.find((c) => c.result === 'FAILED' || (c.result === 'INDETERMINATE' && !c.inert));
    for (const id of ALL) {
      if (!done.has(id)) checks.push({ id, result: 'INDETERMINATE', detail: `未执行：${first?.id ?? '前置'} 检查未通过 not evaluated: an earlier check did not pass`, inert: true });
    }
    return { ...decide(checks), sha256, size: buf.length, validationTime: validationTime.toISOString(), signature: sig, checks: checks.map(publicCheck), certificateId };
  };
  const fail = (id: string, detail: string, sub?: SubIndication) => {
    checks.push({ id, result: 'FAILED', detail, ...(sub ? { sub } : {}) });
    return finish();
  };
  const pass = (id: string, detail: string) => checks.push({ id, result: 'PASSED', detail });

  // --- the file as a whole ---------------------------------------------------------------------------------
  if (buf.length === 0) return fail('pdf-format', '文件为空 the file is empty');
  if (buf.length > maxBytes) return fail('pdf-format', `文件过大 the file exceeds ${maxBytes} bytes`);
  if (buf.subarray(0, 1024).indexOf('%PDF-', 0, 'latin1') < 0) return fail('pdf-format', '不是 PDF 文件 no %PDF- header in the first 1024 bytes');
  if (buf.subarray(Math.max(0, buf.length - 1024)).indexOf('%%EOF', 0, 'latin1') < 0) {
    return fail('pdf-format', '文件不完整 no %%EOF marker at the end of the file (truncated?)');
  }
  if (tokenOffsets(buf, '/Encrypt', 1).length > 0) return fail('pdf-format', '文件已加密 the PDF is encrypted; certificates are never encrypted');
  pass('pdf-format', `PDF, ${buf.length} bytes, not encrypted`);

  const brOffsets = tokenOffsets(buf, '/ByteRange', 16);
  const objStreams = tokenOffsets(buf, '/ObjStm', 1).length;
  if (brOffsets.length !== 1) return fail('single-signature', `应恰有一个签名，实有 ${brOffsets.length} 个 expected exactly one signature dictionary, found ${brOffsets.length}`);
  if (objStreams > 0) return fail('single-signature', '含对象流，无法排除隐藏的签名 object streams present: hidden signature dictionaries cannot be ruled out');

  // The signature dictionary: from its `N G obj` header, read with the bounded parser.
  const brAt = brOffsets[0] as number;
  const windowStart = Math.max(0, brAt - 4096);
  const head = buf.toString('latin1', windowStart, brAt);
  const objMatches = [...head.matchAll(/(\d{1,10})\s+(\d{1,5})\s+obj\s*<</g)];
  const objMatch = objMatches[objMatches.length - 1];
  if (!objMatch) return fail('single-signature', '签名字典不是间接对象 the signature dictionary is not an indirect object');
  const objNum = Number(objMatch[1]);
  const dictAt = windowStart + (objMatch.index ?? 0) + objMatch[0].length - 2;
  let dict: PdfValue;
  try {
    dict = new ObjectReader(buf, dictAt, Math.min(buf.length, dictAt + 2 * MAX_CMS_BYTES + 16_384)).value(0);
  } catch (err) {
    return fail('single-signature', `签名字典无法解析 the signature dictionary is malformed: ${(err as Error).message}`);
  }
  if (dict.t !== 'dict' || !dict.v.has('ByteRange')) return fail('single-signature', '签名字典无法解析 /ByteRange is not in a dictionary');
  const type = nameOf(get(dict, 'Type'));
  if (type !== null && type !== 'Sig') return fail('single-signature', `签名字典类型错误 /Type /${type}`);
  pass('single-signature', `恰有一个签名字典 one signature dictionary (object ${objNum})`);

  // --- ByteRange ----------------------------------------------------------------------------------------------
  const brV = get(dict, 'ByteRange');
  const contents = get(dict, 'Contents');
  const br = brV?.t === 'array' && brV.v.length === 4 && brV.v.every((x) => x.t === 'num' && Number.isSafeInteger(x.v) && x.v >= 0)
    ? brV.v.map((x) => (x as { v: number }).v)
    : null;
  if (!br) return fail('byte-range', '/ByteRange 应为四个非负整数 /ByteRange must be four non-negative integers');
  sig.byteRange = br;
  const [a, b, c, d] = br as [number, number, number, number];
  if (a !== 0) return fail('byte-range', `/ByteRange 须从 0 开始 must start at 0, starts at ${a}`);
  if (contents?.t !== 'hex') return fail('byte-range', '/Contents 不是十六进制字符串 /Contents is not a hex string');
  if (b !== contents.start || c !== contents.end) {
    return fail('byte-range', `签名间隙不是 /Contents the gap ${b}–${c} is not this signature's /Contents (${contents.start}–${contents.end})`);
  }
  if (c + d > buf.length) return fail('covers-whole-file', `/ByteRange 超出文件 ends at ${c + d}, past the end of the ${buf.length}-byte file (truncated?)`);
  pass('byte-range', `ByteRange [0 ${b} ${c} ${d}]: the gap is exactly /Contents`);
  sig.coversWholeFile = c + d === buf.length;
  if (!sig.coversWholeFile) {
    return fail('covers-whole-file', `签名后追加了 ${buf.length - c - d} 字节 ${buf.length - c - d} bytes follow the signed range (incremental update after signing)`);
  }
  pass('covers-whole-file', '签名覆盖整个文件 the signature covers the entire file');

  const subFilter = nameOf(get(dict, 'SubFilter'));
  sig.subFilter = subFilter;
  const m = get(dict, 'M');
  sig.signingTime = m?.t === 'str' ? parsePdfDate(m.v.toString('latin1')) : null;
  if (subFilter !== 'ETSI.CAdES.detached') return fail('sub-filter', `SubFilter 应为 ETSI.CAdES.detached, found ${subFilter ?? 'none'}`);
  pass('sub-filter', '/SubFilter /ETSI.CAdES.detached (PAdES)');

  const ref = get(dict, 'Reference');
  const mdp = ref?.t === 'array' ? ref.v.find((r) => nameOf(get(r, 'TransformMethod')) === 'DocMDP') : undefined;
  const p = get(get(mdp, 'TransformParams'), 'P');
  sig.docMdp = mdp ? (p?.t === 'num' ? p.v : 2) : null;
  const permsAt = tokenOffsets(buf, '/Perms', 2);
  const perms = permsAt.length === 1 ? /^\/Perms\s*<<\s*\/DocMDP\s+(\d+)\s+\d+\s+R/.exec(buf.toString('latin1', permsAt[0], (permsAt[0] as number) + 200)) : null;
  if (sig.docMdp !== 1) return fail('docmdp', `应为 DocMDP P=1 的认证签名 expected a certification signature with DocMDP P=1, found ${sig.docMdp ?? 'none'}`);
  if (!perms || Number(perms[1]) !== objNum) return fail('docmdp', '目录 /Perms /DocMDP 未指向该签名 the catalog /Perms /DocMDP does not point at this signature');
  pass('docmdp', '认证签名 DocMDP P=1: no changes permitted');

  // --- CMS ----------------------------------------------------------------------------------------------------
  const hex = /\s/.test(contents.v) ? contents.v.replace(/\s+/g, '') : contents.v;
  const cmsBytes = hex.length <= 2 * MAX_CMS_BYTES && hex.length % 2 === 0 ? Buffer.from(hex, 'hex') : null;
  // Buffer.from stops at the first non-hex character: a short result means the string was not all hex.
  if (!cmsBytes || cmsBytes.length * 2 !== hex.length) {
    return fail('cms-structure', '/Contents 不是有效的十六进制 /Contents is not valid hex of a bounded size');
  }
  let sd: ParsedSignedData;
  try {
    sd = parseSignedData(cmsBytes);
  } catch (err) {
    return fail('cms-structure', `CMS 无法解析 the CMS does not parse: ${(err as Error).message}`);
  }
  const si = sd.signerInfos[0];
  if (sd.signerInfos.length !== 1 || !si) return fail('cms-structure', `CMS 应恰有一个签名者 expected one SignerInfo, found ${sd.signerInfos.length}`);
  if (sd.eContent !== null || sd.eContentType !== OIDS.data) return fail('cms-structure', 'CMS 应为分离式签名 the CMS must be detached over id-data');
  const digestName = hashOf(si.digestAlgorithm);
  if (!digestName) return fail('cms-structure', `不支持的摘要算法 unsupported digest algorithm ${si.digestAlgorithm}`);
  pass('cms-structure', `CMS SignedData, detached, one SignerInfo, ${digestName}, ${sd.length} bytes`);

  const signer = signerCertificate(sd, si);
  if (!signer) return fail('signer-certificate', 'CMS 中找不到签名证书 the CMS does not carry the certificate its SignerInfo names');
  sig.signer = signerView(signer);
  pass('signer-certificate', `签名者 signer: ${sig.signer.subject}`);

  const md = messageDigestOf(si, sd.buf);
  const actual = createHash(digestName).update(buf.subarray(0, b)).update(buf.subarray(c, c + d)).digest();
  if (!md) return fail('message-digest', '缺少 messageDigest 属性 no messageDigest signed attribute');
  if (!md.equals(actual)) return fail('message-digest', '文件内容与签名摘要不符 the signed bytes do not match messageDigest: the file was changed after signing');
  pass('message-digest', `messageDigest equals the ${digestName} of the ByteRange`);

  const sv = verifySignerInfo(si, signer);
  if (!sv.ok) return fail('signature-value', `签名值无效 ${sv.detail}`);
  pass('signature-value', `签名值有效 signature over the signed attributes verifies (${sv.detail})`);

  const ct = attribute(si, OIDS.contentType);
  const ctOk = ct.length === 1 && ct[0]?.values.length === 1 && (() => {
    const v = ct[0].values[0]!;
    return v.cls === UNIVERSAL && v.tag === TAG.OID && bytesEqual(valueOf(sd.buf, v), Buffer.from('2a864886f70d010701', 'hex'));
  })();
  const oids = si.signedAttrs.map((x) => x.oid);
  if (!ctOk) return fail('signed-attributes', 'contentType 属性应为 id-data contentType must be id-data');
  if (oids.includes(OIDS.signingTime)) return fail('signed-attributes', 'PAdES 不允许 signing-time 属性 PAdES baseline forbids the signing-time attribute (the time is /M)');
  if (new Set(oids).size !== oids.length) return fail('signed-attributes', '签名属性重复 duplicate signed attributes');
  pass('signed-attributes', 'contentType, messageDigest, signingCertificateV2; no signing-time');

  let scv: ReturnType<typeof signingCertificateV2Of>;
  try {
    scv = signingCertificateV2Of(si, sd.buf);
  } catch {
    scv = null;
  }
  if (!scv || !scv.hash) return fail('signing-certificate-v2', '缺少或无法解析 signingCertificateV2 the signingCertificateV2 attribute is missing or malformed');
  if (!createHash(scv.hash).update(signer.der).digest().equals(scv.certHash)) {
    return fail('signing-certificate-v2', 'signingCertificateV2 的证书摘要与签名证书不符 the certHash is not the signer certificate');
  }
  if (scv.serial && !bytesEqual(scv.serial, signer.serial)) return fail('signing-certificate-v2', 'signingCertificateV2 的序列号不符 issuerSerial does not match the signer');
  pass('signing-certificate-v2', `signingCertificateV2 ${scv.hash} certHash equals the signer certificate`);

  const anchors = anchorsOf(opts.roots);
  const chain = buildChain(signer, sd.certificates, anchors);
  sig.chain = chain.chain.map((c, i): ChainCertificate => ({
    role: i === 0 ? 'signer' : chain.ok && i === chain.chain.length - 1 ? 'anchor' : 'intermediate',
    subject: formatName(c.subject),
    sha256: c.sha256,
  }));
  if (!chain.ok) return fail('certificate-chain', chain.detail);
  pass('certificate-chain', chain.detail);
  // Bytes exactly as a trusted key signed them: the embedded register id is authentic.
  const idAt = buf.indexOf('/CertificateId (', 0, 'latin1');
  if (idAt >= 0 && buf.indexOf('/CertificateId (', idAt + 1, 'latin1') < 0) {
    const idm = /^\/CertificateId \(([0-9A-Za-z._-]{1,64})\)/.exec(buf.toString('latin1', idAt, idAt + 100));
    certificateId = idm?.[1] ?? null;
  }

  const ku = signer.keyUsage;
  if (!ku || !(ku.digitalSignature || ku.nonRepudiation)) return fail('key-usage', '签名证书无 digitalSignature/nonRepudiation 用途 the signer certificate may not sign documents');
  if (signer.isCa) return fail('key-usage', '签名证书是 CA 证书 the signer certificate is a CA certificate');
  for (const ca of chain.chain.slice(1)) {
    if (ca.isCa !== true || (ca.keyUsage && !ca.keyUsage.keyCertSign)) return fail('key-usage', `上级证书不是 CA ${formatName(ca.subject)} may not issue certificates`);
  }
  pass('key-usage', `密钥用途 key usage: ${[ku.digitalSignature && 'digitalSignature', ku.nonRepudiation && 'nonRepudiation'].filter(Boolean).join(', ')}`);

  const ts = verifyTimestamp(si, sd, anchorsOf(mergeAnchors(anchors, anchorsOf(opts.tsaRoots))));
  sig.timestamp = ts.info;
  if (ts.genTime) validationTime = ts.genTime;
  for (const cert of chain.chain) {
    if (validationTime < cert.notBefore) {
      checks.push({ id: 'certificate-validity', result: 'FAILED', sub: 'NOT_YET_VALID', detail: `证书尚未生效 ${formatName(cert.subject)} is valid from ${cert.notBefore.toISOString()}` });
      checks.push(ts.check);
      return finish();
    }
    if (validationTime > cert.notAfter) {
      checks.push({ id: 'certificate-validity', result: 'FAILED', sub: 'EXPIRED', detail: `证书已过期 ${formatName(cert.subject)} expired ${cert.notAfter.toISOString()}` });
      checks.push(ts.check);
      return finish();
    }
  }
  // /M is a claim, not evidence (PAdES B-B): noted, never decisive.
  const claimed = sig.signingTime ? new Date(sig.signingTime) : null;
  const note = claimed && (claimed < signer.notBefore || claimed > signer.notAfter) ? '；注意：/M 不在签名证书有效期内 note: the claimed /M lies outside the signer validity' : '';
  pass('certificate-validity', `证书在 ${validationTime.toISOString()} 有效 certificates valid at ${ts.genTime ? 'the timestamp' : 'validation time'}${note}`);
  checks.push(ts.check);
  return finish();
}

function mergeAnchors(x: TrustAnchors, y: TrustAnchors): TrustAnchors {
  return y.certificates.length === 0 ? x : { certificates: [...x.certificates, ...y.certificates] };
}

// ---------------------------------------------------------------------------------------------------------------

/** A person's name shows its first character only; an organisation's name is public. */
export function maskHolder(name: string, code: string): { name: string; code: string } {
  if (!/^\d{17}[\dX]$/.test(code)) return { name, code };
  const chars = [...name];
  return { name: `${chars[0] ?? ''}${'*'.repeat(Math.max(1, chars.length - 1))}`, code: `${code.slice(0, 4)}**********${code.slice(-4)}` };
}

/**
 * Adds the register's verdict to a verification: the entry (found by the file's hash, or by the authenticated
 * `/CertificateId`), whether the file's sha256 is the issued one, and the entry's status and validity.
 * `today` is the China calendar day (YYYY-MM-DD) the validity is checked against.
 */
/** What the register step needs of a verification (PDF or OFD: verify-ofd.ts has the same shape). */
type Verified = { indication: Indication; subIndication?: SubIndication; sha256: string; checks: Check[] };
type WithRegister<V extends Verified> = Omit<V, 'subIndication'> & { indication: Indication; subIndication?: SubIndication; register: RegisterReport | null };

export function applyRegister<V extends Verified = PdfVerification>(v: V, entry: RegisterEntry | null, today: string): WithRegister<V> {
  const checks: InternalCheck[] = [];
  let register: RegisterReport | null = null;
  if (!entry) {
    checks.push({ id: 'register-entry', result: 'FAILED', detail: '登记簿中没有与该文件对应的证照 no register entry matches this file (its hash is not an issued one)' });
    checks.push({ id: 'register-hash', result: 'INDETERMINATE', detail: '未执行 not evaluated: no register entry', inert: true });
    checks.push({ id: 'register-status', result: 'INDETERMINATE', detail: '未执行 not evaluated: no register entry', inert: true });
  } else {
    const sha256Matches = entry.sha256 === v.sha256;
    register = {
      id: entry.id,
      status: entry.status,
      number: entry.number,
      licenseId: entry.licenseId,
      holder: maskHolder(entry.holderName, entry.holderCode),
      issuer: { name: entry.issuerName, code: entry.issuerCode },
      issuedAt: entry.issuedAt,
      validUntil: entry.validUntil,
      sha256Matches,
      ...(entry.revokedAt ? { revokedAt: entry.revokedAt } : {}),
      ...(entry.revocationReason ? { revocationReason: entry.revocationReason } : {}),
    };
    checks.push({ id: 'register-entry', result: 'PASSED', detail: `登记簿 register entry ${entry.number}` });
    if (sha256Matches) {
      checks.push({ id: 'register-hash', result: 'PASSED', detail: '文件 SHA-256 与签发登记一致 the file sha256 is the registered one' });
    } else {
      checks.push({ id: 'register-hash', result: 'FAILED', detail: '文件 SHA-256 与签发登记不一致：这不是签发的那份文件 the file sha256 is not the registered one: this is not the issued file' });
    }
    if (entry.status === 'revoked') {
      checks.push({ id: 'register-status', result: 'FAILED', sub: 'REVOKED', detail: `证照已撤销 revoked${entry.revokedAt ? ` at ${entry.revokedAt}` : ''}${entry.revocationReason ? `：${entry.revocationReason}` : ''}` });
    } else if (entry.status === 'superseded') {
      checks.push({ id: 'register-status', result: 'FAILED', sub: 'SUPERSEDED', detail: '证照已被新证照替代 superseded by a newer certificate' });
    } else if (entry.validUntil !== null && entry.validUntil < today) {
      checks.push({ id: 'register-status', result: 'FAILED', sub: 'EXPIRED', detail: `证照已过有效期 expired on ${entry.validUntil}` });
    } else {
      checks.push({ id: 'register-status', result: 'PASSED', detail: '登记状态有效 the register status is valid' });
    }
  }
  // The signature's verdict comes first; the register decides only for a file whose signature passed.
  const { subIndication: _old, ...rest } = v;
  const verdict = v.indication !== 'TOTAL_PASSED' ? { indication: v.indication, ...(v.subIndication ? { subIndication: v.subIndication } : {}) } : decide(checks);
  return { ...rest, ...verdict, checks: [...v.checks, ...checks.map(publicCheck)], register };
}

/** The register could not be asked (database away): the signature's verdict stands, the register's is unknown. */
export function registerUnavailable<V extends Verified = PdfVerification>(v: V): WithRegister<V> {
  const check: Check = { id: 'register-entry', result: 'INDETERMINATE', detail: '登记簿暂时无法查询 the register is unavailable; retry later' };
  const { subIndication: _old, ...rest } = v;
  const verdict =
    v.indication !== 'TOTAL_PASSED'
      ? { indication: v.indication, ...(v.subIndication ? { subIndication: v.subIndication } : {}) }
      : { indication: 'INDETERMINATE' as const, subIndication: 'TRY_LATER' as const };
  return { ...rest, ...verdict, checks: [...v.checks, check], register: null };
}
