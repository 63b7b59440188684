/**
 * Public verification: POST /v1/verify (a PDF → DSS-like report with the register's verdict), the page the QR code
 * opens (/verify/{id}/{code}, with a drop zone that posts the file to /v1/verify), a generic /verify page, and the
 * signed revocation lists (GET /v1/revocations). Rate-limited per client IP (VERIFY_RATE_LIMIT, 0 = off).
 */
import { randomBytes } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { signRevocationList, type FlattenedJws } from '../../signing/revocation-list.js';
import {
  applyRegister,
  registerUnavailable,
  trustAnchors,
  verifyPdf,
  type ChainCertificate,
  type Check,
  type Indication,
  type RegisterEntry,
  type SubIndication,
  type TrustAnchors,
  type VerificationReport,
} from '../../verification/verify-pdf.js';
import { AppError } from '../../errors.js';
import { formatBeijingDateTime, formatChineseDate } from '../../documents/layout.js';
import { verifyOfd } from '../../verification/ofd/verify-ofd.js';
import type { CertificateRow } from '../../store/types.js';
import type { HttpDeps } from '../types.js';

/** China Standard Time calendar day (validity of a certificate is by the Shanghai date). */
function chinaToday(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

const Check = Type.Object(
  { id: Type.String({ description: 'pdf-format, byte-range, cms-structure, certificate-chain, register-hash, …' }), result: Type.String({ description: 'PASSED | FAILED | INDETERMINATE | NOT_APPLICABLE' }), detail: Type.String() },
  { title: 'VerificationCheck' },
);
const Report = Type.Object(
  {
    indication: Type.String({ description: 'TOTAL_PASSED（核验通过）| TOTAL_FAILED（未通过）| INDETERMINATE（无法确认）' }),
    subIndication: Type.Optional(Type.String({ description: 'Why not passed: HASH_FAILURE, FORMAT_FAILURE, NO_CERTIFICATE_CHAIN_FOUND, NOT_REGISTERED, REVOKED, EXPIRED, SUPERSEDED, TRY_LATER, …' })),
    sha256: Type.String({ description: 'SHA-256 of the uploaded file' }),
    size: Type.Number(),
    validationTime: Type.String(),
    certificateId: Type.Union([Type.String(), Type.Null()], { description: 'The certificate id the signed file names, if any' }),
    signature: Type.Object({}, { additionalProperties: true, description: 'coversWholeFile, subFilter, signingTime, timestamp, signer, chain (signer → intermediates → anchor: role, subject, sha256)' }),
    register: Type.Union([Type.Null(), Type.Object({}, { additionalProperties: true })], { description: '登记簿 The register entry (id, status, number, holder, issuer, sha256Matches, …); null when the register has no such file' }),
    checks: Type.Array(Check),
  },
  {
    title: 'VerificationReport',
    examples: [
      {
        indication: 'TOTAL_PASSED',
        sha256: '179068df16863744fe4ab64c500ac210bf27f980273fa714b1574548bb00d294',
        size: 53498,
        validationTime: '2026-12-04T06:30:00.000Z',
        certificateId: '0193a3f2-80aa-7c55-8e11-2b3c4d5e6f70',
        signature: { coversWholeFile: true, subFilter: 'ETSI.CAdES.detached', signingTime: '2026-12-04T06:24:27.000Z', timestamp: null, signer: { organization: '沈阳市粮食和物资储备局', code: '11210100MB0E12346R' } },
        register: { id: '0193a3f2-80aa-7c55-8e11-2b3c4d5e6f70', status: 'valid', number: '沈粮收备〔2026〕000001号', sha256Matches: true },
        checks: [{ id: 'register-hash', result: 'PASSED', detail: '文件 SHA-256 与签发登记一致 the file sha256 is the registered one' }],
      },
    ],
  },
);

async function registerEntry(deps: HttpDeps, row: CertificateRow): Promise<RegisterEntry> {
  const revocation = row.status === 'revoked' ? await deps.store.revocations.get(row.id) : null;
  return {
    id: row.id,
    status: row.status,
    number: row.number,
    licenseId: row.licenseId,
    holderName: row.holderName,
    holderCode: row.holderCode,
    issuerName: row.issuerName,
    issuerCode: row.issuerCode,
    issuedAt: row.issuedAt,
    validUntil: row.validUntil,
    sha256: row.sha256,
    revokedAt: revocation?.revokedAt ?? null,
    revocationReason: revocation?.reason ?? null,
  };
}

/** Verifies `pdf` and adds the register: by the file's hash, else by the id a trusted signature vouches for. */
export async function verifyWithRegister(deps: HttpDeps, anchors: { roots: TrustAnchors; tsaRoots: TrustAnchors | null }, pdf: Uint8Array): Promise<VerificationReport> {
  const now = deps.clock();
  const v = verifyPdf(pdf, { roots: anchors.roots, tsaRoots: anchors.tsaRoots, now, maxBytes: deps.config.verify.maxBytes });
  if (v.subIndication === 'NO_CERTIFICATE_CHAIN_FOUND' && deps.federation) {
    // 都市圈通办: a peer city's certificate — its pinned anchors and its own register decide.
    const peer = await deps.federation.verifyPeerCertificate(pdf, { now, maxBytes: deps.config.verify.maxBytes, today: chinaToday(now), tsaRoots: deps.config.tsaRootsPem });
    if (peer) return peer;
  }
  try {
    let row = await deps.store.certificates.bySha256(v.sha256);
    if (!row && v.certificateId) row = await deps.store.certificates.get(v.certificateId);
    return await withSigningRevocation(deps, applyRegister(v, row ? await registerEntry(deps, row) : null, chinaToday(now)));
  } catch {
    return registerUnavailable(v);
  }
}

/** What the revocation check reads of a PDF or OFD report. */
interface SignedReport {
  indication: Indication;
  subIndication?: SubIndication;
  checks: Check[];
  signature: { signer: { subject: string; certificateSha256: string } | null; chain?: ChainCertificate[] };
}

const ROLE: Record<ChainCertificate['role'], string> = {
  signer: '签章证书已吊销 the signing certificate',
  intermediate: '签发签章证书的中间 CA 证书已吊销 the intermediate CA certificate',
  anchor: '信任锚（根证书）已吊销 the trust anchor',
  'seal-maker': '制章人证书已吊销 the seal maker certificate',
};

/**
 * Issue 17: a document whose signing chain holds a revoked certificate — the signer's own, an intermediate CA that
 * issued it (e.g. a department CA), the anchor it chained to, or an OFD seal's maker — fails, whatever else holds,
 * with a check that says which certificate (subject, sha256) was revoked, when and why.
 */
async function withSigningRevocation<R extends SignedReport>(deps: HttpDeps, report: R): Promise<R> {
  const signer = report.signature.signer;
  const chain = report.signature.chain?.length ? report.signature.chain : signer ? [{ role: 'signer' as const, subject: signer.subject, sha256: signer.certificateSha256 }] : [];
  if (chain.length === 0) return report;
  const found = new Map((await deps.store.signingRevocations.find(chain.map((c) => c.sha256))).map((r) => [r.certificateSha256, r]));
  const revoked = chain.flatMap((c) => {
    const r = found.get(c.sha256.toLowerCase());
    return r ? [`${ROLE[c.role]} ${c.subject} (sha256 ${c.sha256}) was revoked at ${r.revokedAt}: ${r.reason}`] : [];
  });
  if (revoked.length === 0) return report;
  const check: Check = { id: 'signing-certificate-revocation', result: 'FAILED', detail: revoked.join('；') };
  return { ...report, indication: 'TOTAL_FAILED', subIndication: 'REVOKED', checks: [check, ...report.checks] };
}

/**
 * Verifies an OFD certificate (issue 15) and adds the register: by the file's sha256 among the stored OFDs, else by
 * the CertificateId a trusted seal signature vouches for; the register hash of an OFD is the stored OFD's sha256.
 */
export async function verifyOfdWithRegister(deps: HttpDeps, roots: TrustAnchors, ofd: Uint8Array) {
  const now = deps.clock();
  const v = verifyOfd(ofd, { roots, now, maxBytes: deps.config.verify.maxBytes });
  try {
    const id = (await deps.store.ofd.certificateIdBySha256(v.sha256)) ?? v.certificateId;
    const row = id ? await deps.store.certificates.get(id) : null;
    const stored = row ? await deps.store.ofd.get(row.id) : null;
    // A certificate whose OFD was never issued has no OFD hash: the file cannot be the registered one.
    const entry = row ? { ...(await registerEntry(deps, row)), sha256: stored?.sha256 ?? '' } : null;
    return await withSigningRevocation(deps, applyRegister(v, entry, chinaToday(now)));
  } catch {
    return registerUnavailable(v);
  }
}

export function verifyRoutes(deps: HttpDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const perMinute = deps.config.verify.rateLimitPerMinute;
    if (perMinute > 0) {
      await app.register(rateLimit, { global: false, errorResponseBuilder: () => new AppError('RATE_LIMITED') });
    }
    // Without the plugin registered a rateLimit config would be ignored anyway; omit it to keep routes plain.
    const limited: { rateLimit?: { max: number; timeWindow: number } } = perMinute > 0 ? { rateLimit: { max: perMinute, timeWindow: 60_000 } } : {};
    const anchors = { roots: trustAnchors(deps.rootsPem), tsaRoots: deps.config.tsaRootsPem ? trustAnchors(deps.config.tsaRootsPem) : null };
    const maxBytes = deps.config.verify.maxBytes;

    // The PDF arrives as raw bytes, bounded; nothing else in this scope parses bodies differently.
    const gmAnchors = trustAnchors(deps.gmRootsPem ?? '');
    app.addContentTypeParser(['application/pdf', 'application/ofd', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) => {
      done(null, body);
    });

    app.post(
      '/v1/verify',
      {
        bodyLimit: maxBytes,
        config: limited,
        schema: {
          summary: '核验电子证照 Verify a certificate (body: the PDF as application/pdf, or the OFD as application/ofd)',
          description:
            'Checks the one PAdES signature (ByteRange, CMS, signingCertificateV2, chain to the roots of /v1/trust, key usage, validity, timestamp) and the register (sha256, status). Bad PDFs give TOTAL_FAILED with the failing check; non-PDF bodies 400.',
          tags: ['certificates'],
          response: { 200: Report },
        },
      },
      async (request) => {
        const body = request.body;
        if (body !== undefined && body !== null && !Buffer.isBuffer(body)) {
          throw new AppError('REQUEST_MEDIA_TYPE', { message: '请以 Content-Type: application/pdf 上传 PDF 文件 Send the PDF itself with Content-Type: application/pdf' });
        }
        if (!body || body.length === 0) throw new AppError('VERIFY_EMPTY');
        const type = String(request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
        const zip = body.length >= 4 && body.readUInt32LE(0) === 0x04034b50;
        if (type === 'application/ofd' || (type === 'application/octet-stream' && zip)) {
          if (!zip) throw new AppError('VERIFY_NOT_OFD');
          const report = await verifyOfdWithRegister(deps, gmAnchors, new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
          request.log.info({ format: 'ofd', indication: report.indication, subIndication: report.subIndication, sha256: report.sha256 }, 'verification');
          return report;
        }
        if (body.subarray(0, 1024).indexOf('%PDF-', 0, 'latin1') < 0) throw new AppError('VERIFY_NOT_PDF');
        const report = await verifyWithRegister(deps, anchors, new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
        request.log.info({ indication: report.indication, subIndication: report.subIndication, sha256: report.sha256 }, 'verification');
        return report;
      },
    );

    app.get('/verify', { config: limited, schema: { hide: true } }, async (_request, reply) => sendPage(reply, 200, '电子证照核验', '', null, maxBytes));

    // The page the QR code opens: the register entry (holder masked where personal) and a drop zone. Wrong code → 404.
    app.get(
      '/verify/:id/:code',
      { config: limited, schema: { hide: true, params: Type.Object({ id: Type.String({ maxLength: 64 }), code: Type.String({ maxLength: 64 }) }) } },
      async (request, reply) => {
        const { id, code } = request.params;
        const c = await deps.store.certificates.get(id);
        if (!c || c.verifyCode !== code) {
          return sendPage(reply, 404, '未找到证照', '<p class="bad">未找到该证照，或核验码不正确。请核对二维码或链接。</p>', null, maxBytes);
        }
        const revocation = c.status === 'revoked' ? await deps.store.revocations.get(c.id) : null;
        const status =
          c.status === 'valid'
            ? '<span class="ok">有效</span>'
            : c.status === 'revoked'
              ? `<span class="bad">已撤销</span>${revocation ? `（${esc(formatBeijingDateTime(revocation.revokedAt))}，原因：${esc(revocation.reason)}）` : ''}`
              : '<span class="bad">已被替代</span>';
        const rows: Array<[string, string]> = [
          ['证照名称', deps.catalog.get(c.matter)?.def.output.certificate.title ?? c.matter],
          ['编号', c.number],
          ['证照标识', c.licenseId],
          ['持证主体', c.holderName],
          ['持证主体代码', maskCode(c.holderCode)],
          ['签发机关', c.issuerName],
          ['签发时间（北京时间）', formatBeijingDateTime(c.issuedAt)],
          ['有效期至', c.validUntil ? formatChineseDate(c.validUntil) : '长期'],
          ['文件 SHA-256', c.sha256],
        ];
        const body = `<p>登记状态：${status}</p><table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
        return sendPage(reply, 200, '电子证照核验', body, c.id, maxBytes);
      },
    );

    app.get(
      '/v1/revocations',
      {
        schema: {
          summary: '撤销列表 Signed revocation lists, one per issuing department',
          description:
            'Each list is a flattened JWS (RS256) whose payload is {type:"revocation-list", version, issuer, generatedAt, entries[]}, signed by the department seal key; x5c[0] is its certificate, which chains to /v1/trust.',
          tags: ['certificates'],
        },
      },
      async (_request, reply) => {
        if (!deps.departmentSigner) throw new AppError('SERVICE_UNAVAILABLE');
        const signerOf = (code: string) => deps.departmentSigner!(code);
        const generatedAt = deps.clock().toISOString();
        const lists: FlattenedJws[] = [];
        for (const d of deps.departments ?? []) {
          const entries = (await deps.store.revocations.list(d.code)).map((r) => ({
            certificateId: r.certificateId,
            number: r.number,
            licenseId: r.licenseId,
            sha256: r.sha256,
            revokedAt: r.revokedAt,
            reason: r.reason,
          }));
          lists.push(await signRevocationList({ type: 'revocation-list', version: 1, issuer: { code: d.code, name: d.name }, generatedAt, entries }, signerOf(d.code)));
        }
        return reply.header('cache-control', 'public, max-age=60').send({ generatedAt, lists });
      },
    );
  };
}

/** 身份号码 of a natural person shown as 2101**********1237; an organisation's code is public. */
export function maskCode(code: string): string {
  return /^\d{17}[\dX]$/.test(code) ? `${code.slice(0, 4)}**********${code.slice(-4)}` : code;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]!);

function sendPage(reply: FastifyReply, status: number, title: string, body: string, certificateId: string | null, maxBytes: number) {
  const nonce = randomBytes(16).toString('base64');
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    )
    .send(page(title, body, nonce, certificateId, maxBytes));
}

/**
 * The page: register data (server-rendered), then a drop zone whose small inline script posts the chosen file to
 * /v1/verify and shows the verdict. Everything from the report is inserted as text, never as HTML.
 */
function page(title: string, body: string, nonce: string, certificateId: string | null, maxBytes: number): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style nonce="${nonce}">body{font-family:system-ui,"Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.6}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;word-break:break-all;vertical-align:top}th{white-space:nowrap;color:#555}
.ok{color:#0a7a2f;font-weight:bold}.bad{color:#c00;font-weight:bold}.warn{color:#8a5300;font-weight:bold}.hint{color:#595959;font-size:.9em}
#verdict.ok,#verdict.bad,#verdict.warn{border-left:.35rem solid;padding:.3rem .6rem}#verdict.ok{background:#eef8f1}#verdict.bad{background:#fdeeee}#verdict.warn{background:#fdf5e6}
ul#states{padding-left:1.2rem;font-size:.9em;color:#333}
#drop{display:block;border:2px dashed #999;border-radius:.6rem;padding:1.4rem 1rem;text-align:center;margin:1rem 0;cursor:pointer}#drop.over{border-color:#0a7a2f;background:#f3fbf5}
#drop input{display:block;margin:.6rem auto 0;max-width:100%}#verdict{font-size:1.15em;margin:.6rem 0}ul#checks{padding-left:1.2rem}ul#checks li{word-break:break-all}</style></head>
<body><h1>${esc(title)}</h1>${body}
<h2>核验文件</h2>
<label id="drop" for="file">将证照 PDF 文件拖到此处，或点击选择文件（OFD 版式文件亦可）<input id="file" type="file" accept="application/pdf,.pdf,application/ofd,.ofd"></label>
<div id="result" aria-live="polite"><p id="verdict" role="status"></p><table id="summary"></table><details id="details" hidden><summary>逐项检查结果（技术细节）</summary><ul id="checks"></ul></details></div>
<ul id="states" aria-label="核验结果的含义">
<li><span class="ok">✔ 核验通过</span>：签名有效、文件未被改动，与签发登记一致且登记状态有效${certificateId ? '，就是本页所示的证照' : ''}。</li>
<li><span class="bad">✘ 核验未通过</span>：文件被改动、签名无效或不是本平台信任的机构签发，或登记簿中没有这份文件，不能作为有效证照使用。</li>
${certificateId ? '<li><span class="bad">✘ 不是本页的证照</span>：上传的是另一份证照，即使它本身有效，也不能证明本页所示的证照。</li>\n' : ''}<li><span class="warn">？ 暂时无法确认</span>：签名或登记状态暂时无法核实（如登记簿暂时无法查询），请稍后再试，在此之前不要把它当作有效证照。</li>
</ul>
<p class="hint">核验在服务器端进行：检查文件是否只有一个覆盖全文的签名、签名与证书链是否指向本平台公布的信任锚（<a href="/v1/trust">/v1/trust</a>）、文件是否与签发登记一致及登记状态。也可用任一 PDF 阅读器或 <code>pdfsig</code> 独立核验签名。</p>
<script nonce="${nonce}">(function(){
var pageId=${JSON.stringify(certificateId)},max=${maxBytes};
var SUB={FORMAT_FAILURE:'文件格式或签名结构不符合要求（如签名后被追加修改、文件不完整）',HASH_FAILURE:'文件内容在签名后被改动',SIG_CRYPTO_FAILURE:'签名值无效',SIG_CONSTRAINTS_FAILURE:'签名属性不符合要求',CHAIN_CONSTRAINTS_FAILURE:'证书用途不符合要求',NO_SIGNING_CERTIFICATE_FOUND:'找不到签名证书',NO_CERTIFICATE_CHAIN_FOUND:'签名证书不是本平台信任的机构签发的',REVOKED:'证照已被撤销',EXPIRED:'证照或证书已过期',NOT_YET_VALID:'证书尚未生效',TRY_LATER:'登记簿暂时无法查询，请稍后再试',NOT_REGISTERED:'文件与签发登记不一致：不是签发的那份文件',SUPERSEDED:'证照已被新证照替代'};
var RES={PASSED:'✔',FAILED:'✘',INDETERMINATE:'？',NOT_APPLICABLE:'—'};
var $=function(id){return document.getElementById(id)};
function bj(iso){var t=new Date(iso);if(isNaN(t.getTime()))return String(iso||'');var b=new Date(t.getTime()+288e5),p=function(n){return(n<10?'0':'')+n};return b.getUTCFullYear()+'年'+(b.getUTCMonth()+1)+'月'+b.getUTCDate()+'日 '+p(b.getUTCHours())+':'+p(b.getUTCMinutes())+':'+p(b.getUTCSeconds())+'（北京时间）'}
function day(d){var m=/^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(d||'');return m?m[1]+'年'+Number(m[2])+'月'+Number(m[3])+'日':(d||'长期')}
function clear(el){while(el.firstChild)el.removeChild(el.firstChild)}
function row(k,v){var tr=document.createElement('tr'),th=document.createElement('th'),td=document.createElement('td');th.textContent=k;td.textContent=v;tr.appendChild(th);tr.appendChild(td);$('summary').appendChild(tr)}
function say(cls,text,state){var v=$('verdict');v.className=cls;v.textContent=text;v.setAttribute('data-state',state||'')}
/* The page's verdict: green only for the registered, untouched file of this page; a file the register does not know
   is red whatever the signature says; amber only when a later retry could still pass. */
function verdict(r){var why=SUB[r.subIndication]||r.subIndication||'';
var unknown=!r.register&&(r.checks||[]).some(function(c){return c.id==='register-entry'&&c.result==='FAILED'});
if(pageId&&r.register&&r.register.id!==pageId)return['bad','other','✘ 不是本页的证照：上传的是另一份证照（编号 '+r.register.number+'），不能证明本页所示的证照。'];
if(r.indication==='TOTAL_PASSED')return['ok','passed','✔ 核验通过：签名有效、文件未被改动，与签发登记一致，登记状态有效'+(pageId?'，就是本页所示的证照。':'。')];
if(r.indication==='INDETERMINATE'&&!unknown)return['warn','indeterminate','？ 暂时无法确认：'+why+'。'];
if(unknown&&r.subIndication!=='NOT_REGISTERED')return['bad','failed','✘ 核验未通过：'+why+'；登记簿中也没有这份文件。'];
return['bad','failed','✘ 核验未通过：'+why+'。']}
function show(r){clear($('summary'));clear($('checks'));$('details').hidden=!(r.checks&&r.checks.length);
var v=verdict(r);say(v[0],v[2],v[1]);
if(pageId&&!r.register)row('注意','登记簿中没有这份文件，它不是本页所示的证照');
var s=r.signature||{};if(s.signer)row('签名者',(s.signer.organization||s.signer.commonName||'')+(s.signer.code?'（'+s.signer.code+'）':''));
if(s.signingTime)row('签名时间',bj(s.signingTime));if(s.timestamp)row('时间戳',bj(s.timestamp.genTime)+(s.timestamp.trusted?'':'（时间戳机构未被信任）'));
row('签名覆盖全文',s.coversWholeFile?'是':'否');
if(r.register){row('编号',r.register.number);row('持证主体',r.register.holder.name);row('签发机关',r.register.issuer.name);if(r.register.issuedAt)row('签发时间',bj(r.register.issuedAt));if(r.register.validUntil!==undefined)row('有效期至',day(r.register.validUntil));row('登记状态',{valid:'有效',revoked:'已撤销',superseded:'已被替代'}[r.register.status]||r.register.status);if(r.register.revokedAt)row('撤销时间',bj(r.register.revokedAt));if(r.register.revocationReason)row('撤销原因',r.register.revocationReason)}
row('文件 SHA-256',r.sha256);
(r.checks||[]).forEach(function(c){var li=document.createElement('li');li.textContent=(RES[c.result]||c.result)+' '+c.id+'：'+String(c.detail).replace(/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/g,bj);$('checks').appendChild(li)})}
function check(f){if(!f)return;clear($('summary'));clear($('checks'));$('details').hidden=true;
if(f.size>max){say('bad','文件过大（上限 '+Math.round(max/1048576)+' MB）');return}
say('','正在核验…');
fetch('/v1/verify',{method:'POST',headers:{'content-type':/[.]ofd$/i.test(f.name)?'application/ofd':'application/pdf'},body:f}).then(function(res){return res.json().then(function(b){return{ok:res.ok,b:b}})})
.then(function(x){if(!x.ok){say('bad','✘ '+(x.b&&x.b.message||'核验失败'));return}show(x.b)})
.catch(function(){say('bad','网络错误，请稍后重试')})}
var d=$('drop');$('file').addEventListener('change',function(e){check(e.target.files[0])});
d.addEventListener('dragover',function(e){e.preventDefault();d.className='over'});d.addEventListener('dragleave',function(){d.className=''});
d.addEventListener('drop',function(e){e.preventDefault();d.className='';check(e.dataTransfer.files[0])});
})();</script></body></html>`;
}
