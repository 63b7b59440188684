/* global window, crypto, AbortController, setTimeout, fetch, URLSearchParams */
// 申请人门户: sign in → choose a matter → guidance (only what no data source answers) → materials and pre-filled
// fields → the form (json-editor over the matter's form schema; errors are the API's own messages) → pre-check →
// consent → submit → live status (SSE) → reasons or the certificate.
import { $, api, clear, claims, download, el, errorBox, OUTCOME_TEXT, session, STATUS_TEXT, stream } from './common.js';

const auth = session('miaopi.portal.auth');
const state = { token: null, matter: null, def: null, userAnswers: {}, guide: null, editor: null, precheck: null, idempotencyKey: null, applicationId: null, abort: null };
const SECTIONS = ['signin', 'matters', 'guide', 'form', 'consent', 'status'];
const DEMO_SUBJECTS = [
  ['91210100MA0Q1A2B6L', '沈阳丰禾粮食购销有限公司（示例企业）'],
  ['91210102123456788E', '沈阳䶮盛粮贸有限公司（示例企业）'],
  ['91210106MA0U7G8H65', '示例企业（信用异常，转人工审核）'],
  ['92210106L0A9B8C750', '示例个体工商户'],
];

function show(name) {
  for (const s of SECTIONS) $(`#${s}`).classList.toggle('hidden', s !== name);
  window.scrollTo(0, 0);
}

function setWho() {
  const c = state.token ? claims(state.token) : null;
  $('#who').textContent = c ? `当前主体：${c.sub}` : '';
  $('#signout').classList.toggle('hidden', !c);
}

// ---- sign in ----
async function renderSignin() {
  const box = $('#signin-body');
  let cfg = { devSignIn: false };
  try { cfg = await api(null, 'GET', '/v1/portal/config'); } catch { /* keep the token form */ }
  const tokenForm = el('form', { id: 'token-form' },
    el('label', { class: 'field' }, el('span', {}, '访问令牌（由统一身份认证平台签发）'), el('textarea', { id: 'signin-token', autocomplete: 'off', spellcheck: 'false' })),
    el('div', { class: 'actions' }, el('button', { class: 'primary', type: 'submit' }, '使用令牌登录')));
  tokenForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('#signin-token').value.trim();
    const c = claims(t);
    if (!c || c.role !== 'applicant') return void clear($('#signin-error'), errorBox(new Error('令牌无效，或不是申请人令牌')));
    signedIn(t);
  });
  if (!cfg.devSignIn) {
    clear(box, el('p', { class: 'hint' }, '请通过统一身份认证平台登录后再办理。'), tokenForm);
    return;
  }
  const form = el('form', { id: 'dev-form' },
    el('p', { class: 'notice' }, '开发环境：选择或输入示例主体即可登录。生产环境通过统一身份认证平台登录。'),
    el('label', { class: 'field' }, el('span', {}, '统一社会信用代码或公民身份号码'),
      el('input', { id: 'signin-sub', list: 'demo-subjects', value: DEMO_SUBJECTS[0][0], autocomplete: 'off', inputmode: 'latin' })),
    el('datalist', { id: 'demo-subjects' }, DEMO_SUBJECTS.map(([v, n]) => el('option', { value: v }, n))),
    el('div', { class: 'actions' }, el('button', { class: 'primary', type: 'submit', id: 'signin-btn' }, '登录')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api(null, 'POST', '/v1/dev/token', { sub: $('#signin-sub').value.trim(), role: 'applicant' });
      signedIn(r.token);
    } catch (err) {
      clear($('#signin-error'), errorBox(err));
    }
  });
  clear(box, form, el('details', {}, el('summary', {}, '已有访问令牌？'), tokenForm));
}

function signedIn(token) {
  state.token = token;
  auth.set({ token });
  setWho();
  void renderMatters();
}

// ---- matters ----
async function renderMatters() {
  show('matters');
  const list = $('#matter-list');
  clear(list, el('li', {}, '加载中…'));
  try {
    const { matters } = await api(null, 'GET', '/v1/matters');
    clear(list, matters.map((m) =>
      el('li', { class: 'matter' },
        el('div', {}, el('div', { class: 'name' }, m.name, m.autoApprove ? el('span', { class: 'badge ok' }, '秒批') : null, m.zeroMaterials ? el('span', { class: 'badge ok', title: '无需上传任何材料' }, '零材料') : null, m.kind === '证明' ? el('span', { class: 'badge muted' }, '证明在线开具') : null),
          el('div', { class: 'hint' }, `${m.kind} · ${m.department.name}`)),
        el('button', { class: 'primary', dataset: { code: m.code }, onclick: () => void startMatter(m.code) }, '办理'))));
  } catch (err) {
    clear(list, el('li', {}, errorBox(err)));
  }
  void renderMyCertificates();
}

async function renderMyCertificates() {
  const box = $('#my-certs');
  try {
    const { items } = await api(state.token, 'GET', '/v1/certificates?limit=20');
    if (items.length === 0) return void clear(box, el('p', { class: 'hint' }, '暂无电子证照。'));
    clear(box, el('ul', { class: 'plain' }, items.map((c) => el('li', { class: 'matter' },
      el('div', {}, el('div', { class: 'name' }, c.number, statusBadge(c.status)), el('div', { class: 'hint' }, `${c.issuer.name} · ${c.issuedAt.slice(0, 10)}`)),
      el('button', { onclick: () => void download(state.token, `/v1/certificates/${c.id}/pdf`, `${c.number}.pdf`) }, '下载')))));
  } catch (err) {
    clear(box, errorBox(err));
  }
}

function statusBadge(s) {
  return el('span', { class: `badge ${s === 'valid' ? 'ok' : 'bad'}` }, { valid: '有效', revoked: '已撤销', superseded: '已变更' }[s] || s);
}

// ---- guidance ----
async function startMatter(code) {
  state.matter = code;
  state.userAnswers = {};
  state.guide = null;
  state.precheck = null;
  state.idempotencyKey = null;
  try {
    state.def = await api(null, 'GET', `/v1/matters/${encodeURIComponent(code)}`);
  } catch (err) {
    return void clear($('#matters-error'), errorBox(err));
  }
  $('#guide-title').textContent = state.def.name;
  $('#guide-basis').textContent = `设定依据：${(state.def.legalBasis || []).join('；')}`;
  show('guide');
  await refreshGuide();
}

async function refreshGuide() {
  const errBox = $('#guide-error');
  clear(errBox);
  try {
    state.guide = await api(state.token, 'POST', `/v1/matters/${encodeURIComponent(state.matter)}/guide`, { answers: state.userAnswers });
  } catch (err) {
    return void clear(errBox, errorBox(err));
  }
  renderQuestions();
  renderPlan();
}

function renderQuestions() {
  const g = state.guide;
  const fromData = new Map(g.answeredFromData.map((a) => [a.question, a]));
  const open = new Set(g.openQuestions.map((q) => q.id));
  const rows = [];
  state.def.questions.forEach((q, index) => {
    const d = fromData.get(q.id);
    if (d) {
      rows.push(el('div', { class: 'question' }, el('div', {}, q.text), el('div', { class: 'hint' }, `已根据共享数据确定：${d.answer}（无需回答）`)));
      return;
    }
    if (!open.has(q.id) && state.userAnswers[q.id] === undefined) return;
    rows.push(el('fieldset', { class: 'question' },
      el('legend', {}, q.text),
      el('div', { class: 'options' }, q.options.map((o) => el('label', {},
        el('input', { type: 'radio', name: `q-${q.id}`, value: o, checked: state.userAnswers[q.id] === o, onchange: () => answer(index, q.id, o) }), o)))));
  });
  clear($('#questions'), rows.length ? rows : el('p', { class: 'hint' }, '本事项无需回答问题。'));
  $('#situation').textContent = g.situation ? `适用情形：${g.situation.name}` : '请回答上面的问题，以确定适用情形。';
}

function answer(index, id, option) {
  // A changed answer may change which later questions are asked: those are asked again.
  state.def.questions.forEach((q, i) => { if (i > index) delete state.userAnswers[q.id]; });
  state.userAnswers[id] = option;
  void refreshGuide();
}

const MATERIAL_STATUS = {
  verified: ['ok', '免交', (m) => `已通过「${m.sourceName || m.source}」核验，无需提交`],
  'at-filing': ['ok', '免交', (m) => `提交后由「${m.sourceName || m.source}」${m.how}，无需提交`],
  reused: ['ok', '免交', () => '复用您档案中已提交的材料'],
  pending: ['ok', '免交', () => '由相关部门业务协同送达'],
  generated: ['muted', '系统生成', (m) => m.note || '系统根据填报内容生成'],
  commitment: ['warn', '告知承诺', (m) => m.commitment || '以承诺代替提交'],
  upload: ['bad', '需提交', () => '须由申请人提交，提交后转人工核验'],
  not_found: ['bad', '需提交', (m) => `未能从「${m.sourceName || m.source}」查到，需提交后人工核验`],
  unknown: ['warn', '待核验', (m) => `「${m.sourceName || m.source}」暂时无法访问，提交后转人工核验`],
};

function renderPlan() {
  const g = state.guide;
  const ready = Boolean(g.situation);
  $('#plan').classList.toggle('hidden', !ready);
  $('#to-form').disabled = !ready;
  if (!ready) return;
  const exempt = g.materials.filter((m) => m.exempt).length;
  clear($('#materials'),
    el('p', { class: 'hint' }, `共 ${g.materials.length} 项材料，其中 ${exempt} 项免交。`),
    el('ul', { class: 'plain' }, g.materials.map((m) => {
      const [tone, label, text] = MATERIAL_STATUS[m.status] || ['muted', m.status, () => m.how];
      return el('li', { dataset: { material: m.id } }, el('div', {}, m.name, el('span', { class: `badge ${tone}` }, label)), el('div', { class: 'hint' }, m.note || text(m)), uploader(m));
    })));
  const prefilled = g.fields.filter((f) => f.prefill);
  // A source that cannot answer now never blocks the filing: the applicant fills the field in instead (issue 19).
  const shown = (f) => (f.status === 'unavailable' ? `${f.note || '数源暂时无法提供'}${f.fallback ? '；请在申请表中填写' : ''}` : f.value !== undefined ? f.value : '提交后自动获取');
  clear($('#prefilled'),
    prefilled.length === 0 ? el('p', { class: 'hint' }, '本事项没有可免填的字段。') : el('dl', { class: 'kv' }, prefilled.flatMap((f) => [
      el('dt', {}, f.label),
      el('dd', {}, shown(f), el('span', { class: 'badge ok' }, '免填'), el('div', { class: 'en' }, `来源：${f.prefill.sourceName}`)),
    ])),
    (g.choices || []).map((c) => el('p', { class: 'hint', dataset: { choice: c.path } },
      `您名下有多项记录，请在申请表中选择（${c.path.replace(/^form\./, '')}）：`, c.options.map((o) => `${o.value} ${o.label}`).join('；'))));
}

/** A file control for materials kept in the applicant's archive (upload / 材料复用): uploaded once, reused later. */
function uploader(m) {
  const def = (state.def.materials || []).find((x) => x.id === m.id);
  const archivable = def && (def.acquisition.includes('upload') || def.acquisition.includes('材料复用'));
  if (!archivable || m.exempt || m.archiveId) return null;
  const out = el('div');
  const input = el('input', { type: 'file', accept: 'application/pdf,image/jpeg,image/png', 'aria-label': `上传${m.name}` });
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    try {
      const q = new URLSearchParams({ matter: state.matter, material: m.id, fileName: file.name.slice(0, 200) });
      const res = await fetch(`/v1/materials?${q}`, { method: 'POST', headers: { authorization: `Bearer ${state.token}`, 'content-type': file.type || 'application/octet-stream' }, body: file });
      if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), await res.json().catch(() => ({})));
      await refreshGuide();
    } catch (err) {
      clear(out, errorBox(err));
    }
  });
  return el('label', { class: 'field' }, el('span', {}, '上传到我的档案（可代替承诺；以后办理可直接复用）'), input, out);
}

// ---- form ----
const ZH = {
  button_add_row_title: '添加{{0}}', button_delete_row_title: '删除{{0}}', button_delete_row_title_short: '删除', button_add: '添加',
  button_delete_all: '全部', button_delete_all_title: '全部删除', button_delete_last: '最后一项', button_delete_last_title: '删除最后一项',
  button_move_down_title: '下移', button_move_up_title: '上移', button_collapse: '收起', button_expand: '展开', button_copy_row_title: '复制{{0}}',
  button_copy_row_title_short: '复制', button_cancel: '取消', button_save: '保存',
};

/** The matter's form schema as json-editor renders it; the server keeps validating against the original. */
function editorSchema(schema, fields) {
  const s = JSON.parse(JSON.stringify(schema));
  s.title = '申请信息';
  // Objects without a title take the label of the printed field that comes from them (form.responsiblePerson.* → 负责人).
  const labelOf = (pointer) => {
    const f = (fields || []).find((x) => typeof x.from === 'string' && x.from.startsWith(`form.${pointer}.`));
    return f ? f.label : pointer.split('.').pop();
  };
  (function walk(node, pointer) {
    if (!node || typeof node !== 'object') return;
    if (pointer && !node.title) node.title = labelOf(pointer);
    if (node.type === 'array' && node.items && !node.items.title) node.items.title = node.title;
    // Conditional requirements (if/then) stay with the server's validation and its messages.
    delete node.allOf;
    if (node.type === 'array' && node.uniqueItems && node.items && Array.isArray(node.items.enum)) {
      node.format = 'checkbox';
      node.items.type = node.items.type || 'string';
    }
    if (node.type === 'array' && node.items && node.items.type === 'object') node.format = node.format || 'tabs-top';
    if (node.enum && !node.type) node.type = 'string';
    for (const [k, v] of Object.entries(node.properties || {})) walk(v, pointer ? `${pointer}.${k}` : k);
    if (node.items) walk(node.items, pointer);
  })(s, '');
  return s;
}

function toFormStep() {
  show('form');
  clear($('#form-error'));
  if (state.editor) state.editor.destroy();
  const JSONEditor = window.JSONEditor;
  JSONEditor.defaults.languages.zh = Object.assign({}, JSONEditor.defaults.languages.en, ZH);
  JSONEditor.defaults.language = 'zh';
  const schema = editorSchema(state.def.formSchema, state.def.fields);
  state.editor = new JSONEditor($('#form-editor'), {
    schema,
    theme: 'html',
    iconlib: null,
    show_errors: 'never',
    disable_edit_json: true,
    disable_properties: true,
    disable_collapse: true,
    disable_array_delete_all_rows: true,
    disable_array_delete_last_row: true,
    disable_array_reorder: true,
    prompt_before_delete: false,
    remove_empty_properties: true,
    no_additional_properties: true,
    array_controls_top: false,
  });
  // Messages come from the API only (same words as its 400 answers); json-editor's own first pass is cleared.
  state.editor.on('ready', () => state.editor.root.showValidationErrors([]));
}

/** API errors ({path: '/form/a/0/b'}) shown at their fields in json-editor ('root.a.0.b'), and listed. */
function showFormErrors(err) {
  const formErrors = (err.errors || []).filter((e) => e.path.startsWith('/form'));
  if (state.editor && formErrors.length) {
    state.editor.showValidationErrors(formErrors.map((e) => ({
      path: ['root', ...e.path.slice('/form'.length).split('/').filter(Boolean)].join('.'),
      property: 'server',
      message: e.message,
    })));
  }
  clear($('#form-error'), errorBox(err));
  $('#form-error').scrollIntoView({ block: 'center' });
}

function formValue() {
  return state.editor ? state.editor.getValue() : {};
}

async function runPrecheck() {
  const btn = $('#precheck');
  btn.disabled = true;
  clear($('#form-error'));
  try {
    state.precheck = await api(state.token, 'POST', `/v1/matters/${encodeURIComponent(state.matter)}/precheck`, { answers: state.guide.answers, form: formValue() });
    state.idempotencyKey = crypto.randomUUID();
    renderConsent();
  } catch (err) {
    showFormErrors(err);
  } finally {
    btn.disabled = false;
  }
}

// ---- consent and submit ----
function reasonList(reasons) {
  return el('ul', { class: 'plain' }, reasons.map((r) => el('li', {},
    el('div', {}, r.message, el('span', { class: `badge ${r.result === 'UNKNOWN' ? 'warn' : 'bad'}` }, r.result === 'UNKNOWN' ? '待人工核实' : '未通过')),
    el('div', { class: 'hint' }, `依据：${r.basis}`))));
}

function renderConsent() {
  show('consent');
  const p = state.precheck;
  const d = p.decision;
  clear($('#precheck-result'),
    el('div', { class: `result ${{ APPROVE: 'approved', REJECT: 'rejected', MANUAL: 'manual_review' }[d.outcome]}` }, `预检结果：${OUTCOME_TEXT[d.outcome]}`),
    d.reasons.length ? reasonList(d.reasons) : el('p', { class: 'hint' }, '按当前填报内容，提交后系统将自动办结并签发电子证照。'),
    el('h3', {}, '将填入申请表的内容'),
    el('dl', { class: 'kv' }, p.form.flatMap((f) => [el('dt', {}, f.label), el('dd', {}, f.value, f.prefilledFrom ? el('span', { class: 'badge ok' }, '免填') : null, f.fallback ? el('div', { class: 'hint' }, f.fallback.note) : null)])));
  const c = state.def.consent || {};
  const boxes = [];
  if (c.dataSharing) boxes.push(el('label', { class: 'field' }, el('input', { type: 'checkbox', id: 'consent-data', onchange: syncSubmit }), ` 同意为「${c.purpose}」查询、核验本主体在政府部门的共享数据`));
  if (c.sealAuthorization) boxes.push(el('label', { class: 'field' }, el('input', { type: 'checkbox', id: 'consent-seal', onchange: syncSubmit }), ' 授权使用本主体电子印章签章生成申请表'));
  clear($('#consent-boxes'), boxes.length ? boxes : el('p', { class: 'hint' }, '本事项无需授权。'));
  clear($('#submit-error'));
  syncSubmit();
}

function syncSubmit() {
  const need = state.def.consent || {};
  const ok = (!need.dataSharing || $('#consent-data').checked) && (!need.sealAuthorization || $('#consent-seal').checked);
  $('#submit').disabled = !ok;
}

async function submit() {
  const btn = $('#submit');
  btn.disabled = true;
  const consent = { dataSharing: Boolean($('#consent-data') && $('#consent-data').checked), sealAuthorization: Boolean($('#consent-seal') && $('#consent-seal').checked) };
  try {
    const r = await api(state.token, 'POST', '/v1/applications', { matter: state.matter, answers: state.guide.answers, form: formValue(), consent }, { 'idempotency-key': state.idempotencyKey });
    state.applicationId = r.id;
    void watch(r.id);
  } catch (err) {
    btn.disabled = false;
    if ((err.errors || []).some((e) => e.path.startsWith('/form'))) {
      show('form');
      showFormErrors(err);
    } else clear($('#submit-error'), errorBox(err));
  }
}

// ---- status ----
const STEP_OF = { queued: 1, processing: 2, approved: 3, rejected: 3, manual_review: 3, failed: 3 };

function renderStatus(app) {
  const step = STEP_OF[app.status] || 1;
  $('#steps').querySelectorAll('li').forEach((li, i) => {
    li.classList.toggle('done', i < step);
    li.classList.toggle('now', i === step);
  });
  $('#status-text').textContent = STATUS_TEXT[app.status] || app.status;
  $('#status-text').dataset.status = app.status;
  const final = step === 3;
  $('#working').classList.toggle('hidden', final);
  const out = $('#outcome');
  if (!final) return void clear(out);
  const RESULT = {
    approved: '系统已自动审核通过，电子证照已签发。',
    rejected: '申请未通过，原因如下；修改后可重新申请。',
    manual_review: '申请已转人工审核，原因如下。',
    failed: '系统办理失败，请稍后查询或联系办事窗口。',
  };
  const parts = [el('div', { class: `result ${app.status}` }, RESULT[app.status] || STATUS_TEXT[app.status])];
  if (app.certificate) {
    parts.push(el('dl', { class: 'kv' }, el('dt', {}, '证照编号'), el('dd', { id: 'cert-number' }, app.certificate.number)));
    parts.push(el('div', { class: 'actions' },
      el('button', { class: 'primary', id: 'download-cert', onclick: () => void download(state.token, `/v1/certificates/${app.certificate.id}/pdf`, `${app.certificate.number}.pdf`).catch((e) => clear($('#status-error'), errorBox(e))) }, '下载电子证照（PDF）'),
      el('button', { id: 'download-form', onclick: () => void download(state.token, `/v1/applications/${app.id}/form`, `申请表-${app.id}.pdf`).catch((e) => clear($('#status-error'), errorBox(e))) }, '下载已签章申请表')));
    parts.push(el('p', { class: 'hint' }, '电子证照含数字签名和二维码，可在 /verify 页面或任何 PDF 签名验证工具中核验。'));
  }
  if (app.decision && app.decision.reasons.length) {
    parts.push(el('h3', {}, app.status === 'manual_review' ? '转人工审核的原因' : '原因'), reasonList(app.decision.reasons));
  }
  if (app.status === 'manual_review') parts.push(el('p', { class: 'hint' }, '工作人员将在规定时限内完成审核，结果会在此页面和“我的证照”中显示。'));
  clear(out, parts);
}

async function watch(id) {
  show('status');
  $('#application-id').textContent = id;
  clear($('#status-error'));
  renderStatus({ id, status: 'queued' });
  if (state.abort) state.abort.abort();
  state.abort = new AbortController();
  let last = null;
  try {
    await stream(state.token, `/v1/applications/${encodeURIComponent(id)}/events`, (name, data) => {
      if (name === 'status') { last = data; renderStatus(data); }
    }, state.abort.signal);
  } catch (err) {
    if (err.name === 'AbortError') return;
  }
  // The stream ended (decision) or broke: make sure the page shows the final state.
  for (let i = 0; i < 120 && (!last || STEP_OF[last.status] !== 3); i++) {
    try { last = await api(state.token, 'GET', `/v1/applications/${encodeURIComponent(id)}`); renderStatus(last); } catch (err) { clear($('#status-error'), errorBox(err)); }
    if (STEP_OF[last && last.status] === 3) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---- wiring ----
$('#to-form').addEventListener('click', toFormStep);
$('#back-to-guide').addEventListener('click', () => show('guide'));
$('#precheck').addEventListener('click', () => void runPrecheck());
$('#back-to-form').addEventListener('click', () => show('form'));
$('#submit').addEventListener('click', () => void submit());
$('#guide-back').addEventListener('click', () => void renderMatters());
$('#status-home').addEventListener('click', () => void renderMatters());
$('#signout').addEventListener('click', () => { auth.clear(); state.token = null; setWho(); show('signin'); void renderSignin(); });

const saved = auth.get();
const savedClaims = saved && claims(saved.token);
if (savedClaims && savedClaims.exp * 1000 > Date.now()) signedIn(saved.token);
else { show('signin'); void renderSignin(); }
