/**
 * The one registry of error codes. Codes are public API: never rename or reuse one.
 * Every message is Chinese first, then English, and says what to fix.
 */
export interface ErrorDef {
  status: number;
  message: string;
}

export const ERRORS = {
  AUTH_TOKEN_MISSING: { status: 401, message: '缺少访问令牌 Missing bearer token: send Authorization: Bearer <JWT>' },
  AUTH_TOKEN_INVALID: { status: 401, message: '访问令牌无效或已过期 Invalid or expired token' },
  AUTH_TOKEN_TOO_LARGE: { status: 401, message: '访问令牌过长 The bearer token exceeds 8 KB; no identity platform issues such tokens' },
  AUTH_ROLE_FORBIDDEN: { status: 403, message: '当前角色无权执行此操作 This role may not perform this operation' },
  REQUEST_VALIDATION: { status: 400, message: '请求内容不符合要求 The request does not match the schema; see errors[]' },
  REQUEST_MALFORMED_JSON: { status: 400, message: '请求体不是有效的 JSON The request body is not valid JSON' },
  REQUEST_BODY_TOO_LARGE: { status: 413, message: '请求体过大 The request body exceeds the size limit' },
  REQUEST_MEDIA_TYPE: { status: 415, message: '不支持的内容类型 Unsupported Content-Type: send application/json' },
  IDEMPOTENCY_KEY_INVALID: { status: 400, message: 'Idempotency-Key 格式无效 Idempotency-Key must be 1–255 visible ASCII characters' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: '该 Idempotency-Key 已用于不同的请求内容 This Idempotency-Key was used with a different body' },
  CONSENT_REQUIRED: { status: 400, message: '须同意数据共享核验和电子印章授权 Consent to data sharing and seal authorisation is required for this matter' },
  APPLICANT_NOT_ACCEPTED: { status: 422, message: '该事项不受理此类申请主体 This matter does not accept filings from this kind of applicant' },
  MATTER_NOT_FOUND: { status: 404, message: '事项不存在 No such matter' },
  MATTER_UNKNOWN: { status: 400, message: '请求中的事项不存在 The matter named in the body does not exist; see GET /v1/matters' },
  APPLICATION_NOT_FOUND: { status: 404, message: '申请不存在 No such application' },
  FORM_NOT_READY: { status: 409, message: '申请表尚未生成，请稍后再试 The filled form is not generated yet; retry shortly' },
  FORM_NOT_SEALED: { status: 409, message: '申请表未能以申请人电子印章签章，已转人工办理，见办件决定中的原因 The form could not be sealed with the applicant\'s e-seal; a person handles the filing (see the decision\'s reasons)' },
  CERTIFICATE_NOT_FOUND: { status: 404, message: '证照不存在 No such certificate' },
  ROUTE_NOT_FOUND: { status: 404, message: '接口不存在 No such endpoint' },
  METHOD_NOT_ALLOWED: { status: 405, message: '不支持该请求方法 Method not allowed' },
  SERVICE_UNAVAILABLE: { status: 503, message: '服务暂不可用，请稍后重试 Service temporarily unavailable; retry later' },
  INTERNAL: { status: 500, message: '服务内部错误 Internal error' },
  FORM_TEMPLATE_INVALID: {
    status: 500,
    message: '申请表模板与事项定义不符 The department form template does not match the matter definition',
  },
  CERTIFICATE_UNPRINTABLE_TEXT: {
    status: 422,
    message: '证照内容含有字体无法显示的字符，已拒绝签发 The document text has characters no embedded font can draw; nothing was issued',
  },
  CERTIFICATE_TOO_LONG: { status: 422, message: '证照内容超出版面 The certificate content does not fit on its page' },
  CERTIFICATE_ALREADY_REVOKED: { status: 409, message: '证照已撤销 The certificate is revoked already' },
  VERIFY_NOT_PDF: { status: 400, message: '上传内容不是 PDF 文件 The body is not a PDF file (it must start with %PDF-)' },
  VERIFY_EMPTY: { status: 400, message: '请上传待核验的 PDF 文件 Send the PDF to verify as the request body' },
  RATE_LIMITED: { status: 429, message: '请求过于频繁，请稍后再试 Too many requests; retry later' },
  TIMESTAMP_UNAVAILABLE: { status: 503, message: '时间戳服务不可用 The time-stamping authority did not answer' },
  WEBHOOK_URL_FORBIDDEN: {
    status: 400,
    message: '回调地址不允许：须为 http(s) 公网地址，不得指向内网、本机、链路本地或云元数据地址 The webhook URL must be a public http(s) address (no private, loopback, link-local or metadata addresses)',
  },
  WEBHOOK_NOT_FOUND: { status: 404, message: '回调订阅不存在 No such webhook' },
  CURSOR_INVALID: { status: 400, message: '分页游标无效 The cursor is invalid; use nextCursor from the previous page' },
  DRAFT_INVALID: { status: 422, message: '事项定义草稿未通过校验 The matter definition does not pass the catalog checks; see errors[]' },
  DRAFT_NOT_FOUND: { status: 404, message: '草稿不存在 No such draft' },
  DRAFT_SELF_APPROVAL: { status: 403, message: '草稿须由本部门另一名管理员审批，起草人不能审批 A draft must be approved by another admin of the department, not its author' },
  DRAFT_ALREADY_APPROVED: { status: 409, message: '草稿已审批 The draft is approved already' },
  DRAFT_NOT_APPROVED: { status: 409, message: '草稿未经另一名管理员审批，不能发布 The draft needs the approval of a second admin before it is published' },
  DRAFT_TESTS_FAILING: { status: 409, message: '草稿的测试用例未全部通过，不能发布 The draft’s test cases do not all pass; it cannot be published' },
  DRAFT_STALE: { status: 409, message: '事项在草稿创建后已变更，请基于当前版本重新起草 The matter changed since this draft was made; make a new draft from the current version' },
  DRAFT_ALREADY_PUBLISHED: { status: 409, message: '草稿已发布 The draft is published already' },
  VERSION_NOT_FOUND: { status: 404, message: '事项版本不存在 No such version of this matter' },
  VERSION_ALREADY_CURRENT: { status: 409, message: '该版本已是当前版本 This version is the current one already' },
  REVIEW_NOT_PENDING: { status: 409, message: '该申请不在人工审核中或已有审核结论 The filing is not awaiting manual review, or was decided already' },
  CONSENT_NOT_FOUND: { status: 404, message: '授权记录不存在 No such consent' },
  MATERIAL_TYPE_UNSUPPORTED: { status: 415, message: '材料须为 PDF、JPEG 或 PNG 文件（按文件内容判断） The material must be a PDF, JPEG or PNG file (judged by its content, not its name)' },
  MATERIAL_TOO_LARGE: { status: 413, message: '材料文件过大 The material exceeds the size limit' },
  MATERIAL_EMPTY: { status: 400, message: '请上传材料文件 Send the material file' },
  MATERIAL_NOT_FOUND: {
    status: 404,
    message: '该申请没有此材料的文件（免交、承诺、系统生成或未提交） No file of this material in this filing (exempted, committed, generated or not submitted); see GET /v1/admin/applications/{id}/materials',
  },
  MATERIAL_NOT_ARCHIVABLE: { status: 422, message: '该材料无需上传（由共享数据核验、系统生成或仅可承诺） This material is not uploaded: it is verified from shared data, generated or committed to' },
  VERIFY_NOT_OFD: { status: 400, message: '上传内容不是 OFD 文件 The body is not an OFD package (a ZIP file starting with PK); send the .ofd file itself' },
  OFD_UNAVAILABLE: { status: 503, message: 'OFD 版式证照暂不可用，请稍后重试 The OFD of this certificate cannot be made right now; retry later or fetch the PDF' },
  // Issue 16: 都市圈通办, 证明在线开具 (授权查验), 快递取送.
  CITY_UNKNOWN: { status: 400, message: '该城市不是本节点的都市圈通办节点 The city named in the filing is not a peer of this node; see GET /v1/federation/peers' },
  FEDERATION_PEER_UNAVAILABLE: {
    status: 503,
    message: '对方城市节点暂不可达，且本节点尚无其事项目录，无法核验申请，请稍后重试 The owning city node cannot be reached and this node has no copy of its catalog to check the filing against; retry later',
  },
  FEDERATION_AUTH_INVALID: {
    status: 401,
    message: '节点身份认证失败：须为对方节点密钥签名的请求（证书链至其已固定的信任锚） Node authentication failed: send a request signed by a peer node key whose certificate chains to that peer’s pinned anchors',
  },
  FEDERATION_FILING_NOT_FOUND: { status: 404, message: '该节点未收到此转办申请 No filing forwarded by your node has this id' },
  PROOF_NOT_FOUND: { status: 404, message: '证明不存在或未获持证人授权 No such proof, or its holder has not authorised you to see it' },
  PROOF_CONSENT_NOT_FOUND: { status: 404, message: '授权查验记录不存在 No such proof consent' },
  PROOF_CONSENT_NOT_A_PROOF: { status: 422, message: '只能对证明（证明在线开具）授权查验 Only a proof (kind 证明) can be shared with a consumer; this certificate is not one' },
  DELIVERY_UNAVAILABLE: { status: 422, message: '本节点未开通快递取送，请不选择邮寄或到窗口领取 This node takes no express delivery (no courier configured); file without `delivery`' },
  MULTIPART_MALFORMED: { status: 400, message: 'multipart/form-data 格式错误 Malformed multipart/form-data body: send one file part and the fields matter, material, validUntil' },
  BUNDLE_UNKNOWN: { status: 400, message: '请求中的“一件事”不存在 The bundle named in the body does not exist; see GET /v1/bundles' },
  BUNDLE_NOT_FOUND: { status: 404, message: '“一件事”不存在 No such bundle' },
  FILING_TARGET_INVALID: { status: 400, message: 'matter（单一事项）与 bundle（一件事）只能填写一个 Send either matter (one matter) or bundle (a 一件事), not both' },
  NOTICE_NOT_READY: { status: 409, message: '办理结果告知书尚未生成（仍有服务在办理中），请稍后再试 The result notice is made once every member is decided; retry later' },
  DATA_SOURCE_NOT_FOUND: { status: 404, message: '数源不存在 No such data source; see rules/data-sources.yaml' },
  DATA_SOURCE_KEY_INVALID: { status: 400, message: '数源键值无效 The key is not valid for this data source (e.g. a 公民身份号码 with a wrong check digit)' },
  // Issue 17 (part B): per-subject throttles and upload quota, four-eyes rollback.
  SUBJECT_RATE_LIMITED: { status: 429, message: '请求过于频繁，请稍后再试（按用户计） Too many requests from this user; retry after the time in Retry-After' },
  UPLOAD_QUOTA_EXCEEDED: { status: 429, message: '今日上传材料已达上限，请明日再试 The daily upload quota of this user is used up; retry after the time in Retry-After (midnight, China time)' },
  REQUEST_TEXT_INVALID: {
    status: 400,
    message: '请求中含有不可打印或格式错误的字符（控制字符、双向文本控制符、孤立代理项），见 errors[] The request contains unprintable or ill-formed text (control characters, bidi overrides, lone surrogates); see errors[] for the field',
  },
  // Issue 17 (audit and history): four eyes on rollback.
  ROLLBACK_NOT_FOUND: { status: 404, message: '回退申请不存在 No such rollback request' },
  ROLLBACK_SELF_APPROVAL: { status: 403, message: '回退须由本部门另一名管理员批准，申请人不能批准 A rollback must be approved by another admin of the department, not the one who requested it' },
  ROLLBACK_NOT_PENDING: { status: 409, message: '该回退申请已处理 The rollback request was handled already' },
  ROLLBACK_STALE: { status: 409, message: '申请回退后事项版本已变更，回退未执行，请重新申请 The matter changed since the rollback was requested; it was not rolled back — request it again' },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldError {
  /** JSON Pointer into the request body, e.g. /form/responsiblePerson/idNumber */
  path: string;
  message: string;
}

/** An error the HTTP layer turns into `{code, message, requestId, errors?}`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, opts: { message?: string; errors?: FieldError[] } = {}) {
    super(opts.message ?? ERRORS[code].message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.errors = opts.errors;
  }

  /** Fastify's name for the status: a plugin's own error handler (the queue dashboard's) answers it, not a 500. */
  get statusCode(): number {
    return this.status;
  }
}

/**
 * A fault that retrying cannot fix (a matter missing from the catalog, text no font can draw): the worker fails the
 * job at once and records the message, which starts with `code` when there is one.
 */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
  readonly code: ErrorCode | null;

  constructor(message: string, code: ErrorCode | null = null) {
    super(code ? `${code}: ${message}` : message);
    this.code = code;
  }
}

export interface ValidationItem {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** At most this many field errors leave in one answer: a body with 100,000 bad items must not get a 14 MB reply. */
export const MAX_FIELD_ERRORS = 20;

/**
 * ajv errors → `[{path, message}]`, paths as JSON Pointers from the body root (prefix given). Capped at
 * MAX_FIELD_ERRORS, with a last entry saying how many more there were.
 */
export function fieldErrors(items: ValidationItem[], prefix = ''): FieldError[] {
  const out = items.slice(0, MAX_FIELD_ERRORS).map((e) => {
    let path = `${prefix}${e.instancePath ?? ''}`;
    let message = e.message ?? 'invalid';
    const p = e.params ?? {};
    switch (e.keyword) {
      case 'additionalProperties':
        path += `/${String(p.additionalProperty)}`;
        message = '不允许的字段 Unknown property: remove it';
        break;
      case 'required':
        path += `/${String(p.missingProperty)}`;
        message = '缺少必填字段 Required property is missing';
        break;
      case 'format':
        message =
          p.format === 'id-number'
            ? '公民身份号码无效（校验位或出生日期错误） Invalid 公民身份号码: check digit or birth date is wrong'
            : p.format === 'uscc'
              ? '统一社会信用代码无效（校验位错误） Invalid 统一社会信用代码: check character is wrong'
              : p.format === 'date'
                ? '日期格式应为 YYYY-MM-DD Date must be YYYY-MM-DD'
                : `格式不正确 ${message}`;
        break;
      case 'type':
        message = `类型错误 ${message}`;
        break;
      case 'enum':
        message = `取值不在允许范围内 ${message}: ${JSON.stringify(p.allowedValues)}`;
        break;
      case 'pattern':
        message = `格式不正确 ${message}`;
        break;
      case 'maxItems':
        message = `项数过多，最多 ${String(p.limit)} 项 Too many items: at most ${String(p.limit)}`;
        break;
      case 'maxLength':
        message = `内容过长，最多 ${String(p.limit)} 个字符 Too long: at most ${String(p.limit)} characters`;
        break;
      default:
        break;
    }
    return { path: path === '' ? '/' : path, message };
  });
  if (items.length > MAX_FIELD_ERRORS) {
    out.push({ path: prefix === '' ? '/' : prefix, message: `另有 ${items.length - MAX_FIELD_ERRORS} 处错误未列出 ${items.length - MAX_FIELD_ERRORS} more errors not listed: fix these first` });
  }
  return out;
}

