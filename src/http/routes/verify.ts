/**
 * Public verification: POST /v1/verify (a PDF → DSS-like report with the register's verdict), the page the QR code
 * opens (/verify/{id}/{code}, with a drop zone that posts the file to /v1/verify), a generic /verify page, and the
 * signed revocation lists (GET /v1/revocations). Rate-limited per client IP (VERIFY_RATE_LIMIT, 0 = off).
 */
import { randomBytes } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { signRevocationList, type FlattenedJws } from '../../signing/revocation-list.js';
import { applyRegister, registerUnavailable, trustAnchors, verifyPdf, type RegisterEntry, type TrustAnchors, type VerificationReport } from '../../verification/verify-pdf.js';
import { AppError } from '../../errors.js';
import { verifyOfd } from '../../verification/ofd/verify-ofd.js';
import type { CertificateRow } from '../../store/types.js';
import type { HttpDeps } from '../types.js';

/** China Standard Time calendar day (validity of a certificate is by the Shanghai date). */
function chinaToday(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

const Check = Type.Object({ id: Type.String(), result: Type.String(), detail: Type.String() });
const Report = Type.Object({
  indication: Type.String({ description: 'TOTAL_PASSED | TOTAL_FAILED | INDETERMINATE' }),
  subIndication: Type.Optional(Type.String()),
  sha256: Type.String(),
  size: Type.Number(),
  validationTime: Type.String(),
  certificateId: Type.Union([Type.String(), Type.Null()]),
  signature: Type.Object({}, { additionalProperties: true }),
  register: Type.Union([Type.Null(), Type.Object({}, { additionalProperties: true })]),
  checks: Type.Array(Check),
});

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

/**
 * Issue 17: a document signed with a revoked signing certificate fails, whatever else holds, with a check that says
 * which certificate was revoked, when and why.
 */
async function withSigningRevocation(deps: HttpDeps, report: VerificationReport): Promise<VerificationReport> {
  const signer = report.signature.signer;
  if (!signer) return report;
  const revoked = await deps.store.signingRevocations.get(signer.certificateSha256);
  if (!revoked) return report;
  const check = {
    id: 'signing-certificate-revocation',
    result: 'FAILED' as const,
    detail: `签章证书已吊销 the signing certificate (${signer.subject}) was revoked at ${revoked.revokedAt}: ${revoked.reason}`,
  };
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
    return applyRegister(v, entry, chinaToday(now));
  } catch {
    return registerUnavailable(v);
  }
}

export function verifyRoutes(deps: HttpDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
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
        const { id, code } = request.params as { id: string; code: string };
        const c = await deps.store.certificates.get(id);
        if (!c || c.verifyCode !== code) {
          return sendPage(reply, 404, '未找到证照', '<p class="bad">未找到该证照，或核验码不正确。请核对二维码或链接。</p>', null, maxBytes);
        }
        const revocation = c.status === 'revoked' ? await deps.store.revocations.get(c.id) : null;
        const status =
          c.status === 'valid'
            ? '<span class="ok">有效</span>'
            : c.status === 'revoked'
              ? `<span class="bad">已撤销</span>${revocation ? `（${esc(revocation.revokedAt)}，原因：${esc(revocation.reason)}）` : ''}`
              : '<span class="bad">已被替代</span>';
        const rows: Array<[string, string]> = [
          ['证照名称', deps.catalog.get(c.matter)?.def.output.certificate.title ?? c.matter],
          ['编号', c.number],
          ['证照标识', c.licenseId],
          ['持证主体', c.holderName],
          ['持证主体代码', maskCode(c.holderCode)],
          ['签发机关', c.issuerName],
          ['签发时间', c.issuedAt],
          ['有效期至', c.validUntil ?? '长期'],
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
.ok{color:#0a7a2f;font-weight:bold}.bad{color:#c00;font-weight:bold}.warn{color:#a60;font-weight:bold}.hint{color:#666;font-size:.9em}
#drop{display:block;border:2px dashed #999;border-radius:.6rem;padding:1.4rem 1rem;text-align:center;margin:1rem 0;cursor:pointer}#drop.over{border-color:#0a7a2f;background:#f3fbf5}
#drop input{display:block;margin:.6rem auto 0;max-width:100%}#verdict{font-size:1.15em;margin:.6rem 0}ul#checks{padding-left:1.2rem}ul#checks li{word-break:break-all}</style></head>
<body><h1>${esc(title)}</h1>${body}
<h2>核验文件</h2>
<label id="drop" for="file">将证照 PDF 文件拖到此处，或点击选择文件（OFD 版式文件亦可）<input id="file" type="file" accept="application/pdf,.pdf,application/ofd,.ofd"></label>
<div id="result" aria-live="polite"><p id="verdict"></p><table id="summary"></table><ul id="checks"></ul></div>
<p class="hint">核验在服务器端进行：检查文件是否只有一个覆盖全文的签名、签名与证书链是否指向本平台公布的信任锚（<a href="/v1/trust">/v1/trust</a>）、文件是否与签发登记一致及登记状态。也可用任一 PDF 阅读器或 <code>pdfsig</code> 独立核验签名。</p>
<script nonce="${nonce}">(function(){
var pageId=${JSON.stringify(certificateId)},max=${maxBytes};
var SUB={FORMAT_FAILURE:'文件格式或签名结构不符合要求（如签名后被追加修改、文件不完整）',HASH_FAILURE:'文件内容在签名后被改动',SIG_CRYPTO_FAILURE:'签名值无效',SIG_CONSTRAINTS_FAILURE:'签名属性不符合要求',CHAIN_CONSTRAINTS_FAILURE:'证书用途不符合要求',NO_SIGNING_CERTIFICATE_FOUND:'找不到签名证书',NO_CERTIFICATE_CHAIN_FOUND:'签名证书不是本平台信任的机构签发的',REVOKED:'证照已被撤销',EXPIRED:'证照或证书已过期',NOT_YET_VALID:'证书尚未生效',TRY_LATER:'登记簿暂时无法查询，请稍后再试',NOT_REGISTERED:'文件与签发登记不一致：不是签发的那份文件',SUPERSEDED:'证照已被新证照替代'};
var RES={PASSED:'✔',FAILED:'✘',INDETERMINATE:'？',NOT_APPLICABLE:'—'};
var $=function(id){return document.getElementById(id)};
function clear(el){while(el.firstChild)el.removeChild(el.firstChild)}
function row(k,v){var tr=document.createElement('tr'),th=document.createElement('th'),td=document.createElement('td');th.textContent=k;td.textContent=v;tr.appendChild(th);tr.appendChild(td);$('summary').appendChild(tr)}
function say(cls,text){var v=$('verdict');v.className=cls;v.textContent=text}
function show(r){clear($('summary'));clear($('checks'));
if(r.indication==='TOTAL_PASSED'){say('ok','✔ 核验通过：签名有效、文件未被改动，与签发登记一致，登记状态有效。')}
else{say(r.indication==='INDETERMINATE'?'warn':'bad',(r.indication==='INDETERMINATE'?'？ 无法确认：':'✘ 核验未通过：')+(SUB[r.subIndication]||r.subIndication||''))}
if(pageId&&r.register&&r.register.id!==pageId)row('注意','该文件不是本页所示的证照');
var s=r.signature||{};if(s.signer)row('签名者',(s.signer.organization||s.signer.commonName||'')+(s.signer.code?'（'+s.signer.code+'）':''));
if(s.signingTime)row('签名时间',s.signingTime);if(s.timestamp)row('时间戳',s.timestamp.genTime+(s.timestamp.trusted?'':'（时间戳机构未被信任）'));
row('签名覆盖全文',s.coversWholeFile?'是':'否');
if(r.register){row('编号',r.register.number);row('持证主体',r.register.holder.name);row('签发机关',r.register.issuer.name);row('登记状态',{valid:'有效',revoked:'已撤销',superseded:'已被替代'}[r.register.status]||r.register.status);if(r.register.revocationReason)row('撤销原因',r.register.revocationReason)}
row('文件 SHA-256',r.sha256);
(r.checks||[]).forEach(function(c){var li=document.createElement('li');li.textContent=(RES[c.result]||c.result)+' '+c.id+'：'+c.detail;$('checks').appendChild(li)})}
function check(f){if(!f)return;clear($('summary'));clear($('checks'));
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
