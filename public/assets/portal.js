/* global window, document, localStorage, history, location, crypto, AbortController, setTimeout, clearTimeout, fetch, URLSearchParams */
// 申请人门户: sign in → choose a matter (only those for the applicant's type) → guidance (only what no data source
// answers) → materials and pre-filled fields → the form (json-editor over the matter's form schema; each field's
// plain-Chinese message from the catalog, checked here first and cleared on edit) → pre-check → consent → submit →
// live status (SSE) → reasons or the certificate. 我的办件 lists the applicant's filings. Every step is a history
// entry (back/forward stay in the portal) and the draft (answers and form) is kept in localStorage per subject and
// matter, so a reload or a closed tab keeps what was typed; it is removed on submit and on sign-out.
import { $, api, clear, claims, download, el, errorBox, session, stream } from './common.js';
import { beijingTime, beijingToday, checkForm, editorPath, isIdNumber, isUscc, plainMessage, valueAt } from './form-check.js';

const auth = session('miaopi.portal.auth');
const state = { token: null, matter: null, def: null, userAnswers: {}, guide: null, editor: null, precheck: null, idempotencyKey: null, applicationId: null, abort: null, regions: null, fieldErrors: [], restoring: null, subjectName: null };
const SECTIONS = ['signin', 'matters', 'mine', 'guide', 'form', 'consent', 'status'];
const DEMO_SUBJECTS = [
  ['91210100MA0Q1A2B6L', '沈阳丰禾粮食购销有限公司（示例企业）'],
  ['91210102123456788E', '沈阳䶮盛粮贸有限公司（示例企业）'],
  ['91210106MA0U7G8H65', '示例企业（信用异常，转人工审核）'],
  ['92210106L0A9B8C750', '示例个体工商户'],
  ['210102199001011237', '示例个人（张伟）'],
];
const DRAFT_DAYS = 7;

function show(name) {
  for (const s of SECTIONS) $(`#${s}`).classList.toggle('hidden', s !== name);
  window.scrollTo(0, 0);
  const h = $(`#${name} h2`);
  if (h) { h.setAttribute('tabindex', '-1'); h.focus({ preventScroll: true }); }
}

// ---- history: one entry per step, so the browser's back button stays in the portal ----
function go(step, extra, opts) {
  const st = Object.assign({ step }, state.matter && step !== 'matters' && step !== 'mine' ? { matter: state.matter } : {}, extra || {});
  const q = new URLSearchParams(st);
  const url = step === 'matters' ? '/' : `/?${q}`;
  if (opts && opts.replace) history.replaceState(st, '', url);
  else if (!history.state || history.state.step !== step || history.state.matter !== st.matter || history.state.id !== st.id) history.pushState(st, '', url);
}

window.addEventListener('popstate', (e) => void restore(e.state || stateFromUrl()));

function stateFromUrl() {
  const q = new URLSearchParams(location.search);
  return q.get('step') ? Object.fromEntries(q.entries()) : { step: 'matters' };
}

/** Shows the step a history entry or URL names, rebuilding what it needs (matter, guide, draft) after a reload. */
async function restore(st) {
  if (!state.token) return;
  const step = st.step || 'matters';
  if (step === 'matters') return void renderMatters({ noHistory: true });
  if (step === 'mine') return void renderMine({ noHistory: true });
  if (step === 'status' && st.id) return void watch(st.id, { noHistory: true });
  if (!st.matter) return void renderMatters({ noHistory: true });
  if (state.matter !== st.matter || !state.def) {
    const ok = await startMatter(st.matter, { noHistory: true });
    if (!ok) return;
  }
  if (step === 'guide' || !state.guide || !state.guide.situation) {
    show('guide');
    if (step !== 'guide') go('guide', null, { replace: true });
    return;
  }
  if (step === 'consent' && state.precheck) return void renderConsent({ noHistory: true });
  await toFormStep({ noHistory: true });
  // After a reload the pre-check is gone: the form (kept in the draft) is where to continue.
  if (step === 'consent') go('form', null, { replace: true });
}

// ---- drafts (localStorage, per subject and matter) ----
function draftKey(matter) {
  const c = claims(state.token);
  return `miaopi.portal.draft.${c ? c.sub : 'anon'}.${matter}`;
}
function loadDraft(matter) {
  try {
    const d = JSON.parse(localStorage.getItem(draftKey(matter)) || 'null');
    if (!d || Date.now() - Date.parse(d.savedAt) > DRAFT_DAYS * 86400_000) return null;
    return d;
  } catch { return null; }
}
let saveTimer = null;
function saveDraft() {
  if (!state.matter || !state.token) return;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    const form = state.editor ? state.editor.getValue() : (loadDraft(state.matter) || {}).form;
    try {
      localStorage.setItem(draftKey(state.matter), JSON.stringify({ answers: state.userAnswers, form: form || null, savedAt: new Date().toISOString() }));
      const note = $('#draft-note');
      if (note) note.textContent = `草稿已自动保存（${beijingTime(new Date().toISOString())}）`;
    } catch { /* storage full or disabled: the filing still works */ }
  }, 300);
}
function dropDraft(matter) {
  try { localStorage.removeItem(draftKey(matter)); } catch { /* ignore */ }
}
function dropAllDrafts() {
  const c = claims(state.token);
  if (!c) return;
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const k = localStorage.key(i);
      if (k && k.startsWith(`miaopi.portal.draft.${c.sub}.`)) localStorage.removeItem(k);
    }
  } catch { /* ignore */ }
}

// ---- who is signed in ----
function subjectType(sub) {
  if (isIdNumber(sub)) return 'person';
  if (isUscc(sub)) return 'organisation';
  return null;
}

function setWho() {
  const c = state.token ? claims(state.token) : null;
  const demo = c && DEMO_SUBJECTS.find(([v]) => v === c.sub);
  const name = state.subjectName || (demo ? demo[1].replace(/（.*）$/, '') : null);
  const masked = c ? (c.sub.length > 8 ? `${c.sub.slice(0, 4)}…${c.sub.slice(-4)}` : c.sub) : '';
  $('#who').textContent = c ? `当前主体：${name || (subjectType(c.sub) === 'person' ? '个人' : '企业')}（${masked}）` : '';
  $('#signout').classList.toggle('hidden', !c);
  $('#nav').classList.toggle('hidden', !c);
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
    el('label', { class: 'field', for: 'signin-sub' }, el('span', {}, '统一社会信用代码或公民身份号码'),
      el('input', { id: 'signin-sub', list: 'demo-subjects', value: DEMO_SUBJECTS[0][0], autocomplete: 'off', inputmode: 'latin', autocapitalize: 'characters' })),
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

function signedIn(token, opts) {
  state.token = token;
  auth.set({ token, name: state.subjectName });
  setWho();
  if (opts && opts.restore) void restore(stateFromUrl());
  else void renderMatters();
}

// ---- matters ----
async function renderMatters(opts) {
  show('matters');
  if (!(opts && opts.noHistory)) go('matters', null, { replace: !history.state });
  const list = $('#matter-list');
  clear(list, el('li', {}, '加载中…'));
  const c = claims(state.token);
  const mine = c ? subjectType(c.sub) : null;
  try {
    const { matters } = await api(null, 'GET', '/v1/matters');
    // Only matters this kind of applicant may file: a citizen is never led into an enterprise's form.
    const offered = matters.filter((m) => !mine || !Array.isArray(m.applicantTypes) || m.applicantTypes.includes(mine));
    clear($('#matters-filter'), mine ? `已按您的身份（${mine === 'person' ? '个人' : '企业、个体工商户'}）列出可办理的 ${offered.length} 个事项。` : '');
    clear(list, offered.map((m) =>
      el('li', { class: 'matter' },
        el('div', {}, el('div', { class: 'name' }, m.name, m.autoApprove ? el('span', { class: 'badge ok' }, '秒批') : null, m.zeroMaterials ? el('span', { class: 'badge ok', title: '无需上传任何材料' }, '零材料') : null, m.kind === '证明' ? el('span', { class: 'badge muted' }, '证明在线开具') : null),
          el('div', { class: 'hint' }, `${m.kind} · ${m.department.name}`)),
        el('button', { class: 'primary', type: 'button', dataset: { code: m.code }, 'aria-label': `办理${m.name}`, onclick: () => void startMatter(m.code) }, loadDraft(m.code) ? '继续办理' : '办理'))));
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
      el('div', {}, el('div', { class: 'name' }, c.number, statusBadge(c.status)), el('div', { class: 'hint' }, `${c.issuer.name} · ${beijingTime(c.issuedAt, { dateOnly: true })}`)),
      el('button', { type: 'button', onclick: () => void download(state.token, `/v1/certificates/${c.id}/pdf`, `${c.number}.pdf`) }, '下载')))));
  } catch (err) {
    clear(box, errorBox(err));
  }
}

function statusBadge(s) {
  return el('span', { class: `badge ${s === 'valid' ? 'ok' : 'bad'}` }, { valid: '有效', revoked: '已撤销', superseded: '已变更' }[s] || s);
}

// ---- 我的办件 ----
async function renderMine(opts) {
  show('mine');
  if (!(opts && opts.noHistory)) go('mine');
  const list = $('#mine-list');
  clear(list, el('li', {}, '加载中…'));
  clear($('#mine-more'));
  await loadMine(null, true);
}

async function loadMine(cursor, fresh) {
  const list = $('#mine-list');
  try {
    const page = await api(state.token, 'GET', `/v1/me/applications?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const rows = page.items.map((a) => el('li', { class: 'matter', dataset: { application: a.id, status: a.status } },
      el('div', {},
        el('div', { class: 'name' }, a.matterName, el('span', { class: `badge ${TONE[a.status] || 'muted'}` }, statusText(a.status, a.kind))),
        el('div', { class: 'hint' }, `申请编号 ${a.number || a.id} · 提交于 ${beijingTime(a.createdAt)}${a.decidedAt && FINAL.has(a.status) ? ` · 办结于 ${beijingTime(a.decidedAt)}` : ''}`)),
      el('button', { type: 'button', 'aria-label': `查看${a.matterName}的办理进度`, onclick: () => void watch(a.id) }, '查看')));
    if (fresh) clear(list, rows.length ? rows : el('li', {}, el('p', { class: 'hint' }, '您还没有提交过申请。')));
    else list.append(...rows);
    clear($('#mine-more'), page.nextCursor ? el('button', { type: 'button', onclick: () => void loadMine(page.nextCursor, false) }, '加载更多') : null);
  } catch (err) {
    clear(list, el('li', {}, errorBox(err)));
  }
}

// ---- guidance ----
async function startMatter(code, opts) {
  if (state.matter !== code) state.editor = destroyEditor();
  state.matter = code;
  const draft = loadDraft(code);
  state.userAnswers = draft && draft.answers ? Object.assign({}, draft.answers) : {};
  state.guide = null;
  state.precheck = null;
  state.idempotencyKey = null;
  try {
    state.def = await api(null, 'GET', `/v1/matters/${encodeURIComponent(code)}`);
  } catch (err) {
    clear($('#matters-error'), errorBox(err));
    return false;
  }
  $('#guide-title').textContent = state.def.name;
  $('#guide-basis').textContent = `设定依据：${(state.def.legalBasis || []).join('；')}`;
  clear($('#guide-draft'), draft ? el('p', { class: 'notice' }, `已恢复您 ${beijingTime(draft.savedAt)} 保存的草稿。`, el('button', { type: 'button', id: 'discard-draft', onclick: () => { dropDraft(code); state.editor = destroyEditor(); void startMatter(code); } }, '重新填写')) : null);
  show('guide');
  if (!(opts && opts.noHistory)) go('guide');
  await refreshGuide();
  return true;
}

async function refreshGuide() {
  const errBox = $('#guide-error');
  clear(errBox);
  try {
    state.guide = await api(state.token, 'POST', `/v1/matters/${encodeURIComponent(state.matter)}/guide`, { answers: state.userAnswers });
  } catch (err) {
    return void clear(errBox, errorBox(err));
  }
  learnName();
  renderQuestions();
  renderPlan();
}

/** The subject's registered name, once a data source gave it (shown in the header instead of the code). */
function learnName() {
  const f = (state.guide.fields || []).find((x) => x.prefill && x.value && /(企业|单位|主体)名称$|^申请人$|^姓名$|申请人姓名$/.test(x.label));
  if (f && f.value !== state.subjectName) {
    state.subjectName = f.value;
    auth.set({ token: state.token, name: f.value });
    setWho();
  }
}

/**
 * Questions this applicant is asked: those no data source answered whose askWhen holds — also the ones that do not
 * choose the situation but go into the form (e.g. 公租房 保障方式意愿), which the guide does not list as open.
 */
function askedQuestions() {
  const g = state.guide;
  const fromData = new Map(g.answeredFromData.map((a) => [a.question, a]));
  const all = Object.assign({}, g.answers, state.userAnswers);
  return state.def.questions.filter((q) => !fromData.has(q.id) && Object.entries(q.askWhen || {}).every(([k, v]) => all[k] === v));
}

function renderQuestions() {
  const g = state.guide;
  const fromData = new Map(g.answeredFromData.map((a) => [a.question, a]));
  const open = new Set(g.openQuestions.map((q) => q.id));
  const asked = new Set(askedQuestions().map((q) => q.id));
  const rows = [];
  state.def.questions.forEach((q, index) => {
    const d = fromData.get(q.id);
    if (d) {
      rows.push(el('div', { class: 'question' }, el('div', {}, q.text), el('div', { class: 'hint' }, `已根据共享数据确定：${d.answer}（无需回答）`)));
      return;
    }
    if (!open.has(q.id) && !asked.has(q.id) && state.userAnswers[q.id] === undefined) return;
    rows.push(el('fieldset', { class: 'question' },
      el('legend', {}, q.text, el('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
      q.note ? el('div', { class: 'hint' }, q.note) : null,
      el('div', { class: 'options', role: 'radiogroup', 'aria-required': 'true' }, q.options.map((o) => el('label', {},
        el('input', { type: 'radio', name: `q-${q.id}`, value: o, checked: state.userAnswers[q.id] === o, onchange: () => answer(index, q.id, o) }), o)))));
  });
  clear($('#questions'), rows.length ? rows : el('p', { class: 'hint' }, '本事项无需回答问题。'));
  const missing = askedQuestions().filter((q) => state.userAnswers[q.id] === undefined && g.answers[q.id] === undefined);
  $('#situation').textContent = g.situation ? `适用情形：${g.situation.name}${missing.length ? `（还需回答：${missing.map((q) => q.text).join('、')}）` : ''}` : '请回答上面的问题，以确定适用情形。';
}

function answer(index, id, option) {
  // A changed answer may change which later questions are asked: those are asked again.
  state.def.questions.forEach((q, i) => { if (i > index) delete state.userAnswers[q.id]; });
  state.userAnswers[id] = option;
  saveDraft();
  void refreshGuide();
}

const MATERIAL_STATUS = {
  verified: ['ok', '免交', (m) => `已通过「${m.sourceName || m.source}」核验，无需提交`],
  'at-filing': ['ok', '免交', (m) => `提交后由「${m.sourceName || m.source}」${m.how}，无需提交`],
  reused: ['ok', '免交', () => '复用您档案中已提交的材料，无需提交'],
  pending: ['ok', '免交', () => '由相关部门业务协同送达，无需提交'],
  generated: ['muted', '系统生成', (m) => m.note || '系统根据填报内容生成，无需提交'],
  commitment: ['warn', '告知承诺', (m) => m.commitment || '以承诺代替提交'],
  upload: ['bad', '需提交', () => '须由申请人提交，提交后转人工核验'],
  not_found: ['bad', '需提交', (m) => `未能从「${m.sourceName || m.source}」查到，需提交后人工核验`],
  unknown: ['warn', '待核验', (m) => `「${m.sourceName || m.source}」暂时无法访问，提交后转人工核验`],
};

/** What a material row says: a 免交 material never tells the applicant to upload it (the catalog's note is for the other cases). */
function materialText(m, text) {
  if (m.exempt) {
    const note = m.note && !/上传|提交|提供/.test(m.note.replace(/无需(再次)?(上传|提交|提供)/g, '')) ? `；${m.note}` : '';
    return `${text(m)}${note}`;
  }
  return m.note || text(m);
}

function renderPlan() {
  const g = state.guide;
  const missing = askedQuestions().filter((q) => state.userAnswers[q.id] === undefined && g.answers[q.id] === undefined);
  const ready = Boolean(g.situation) && missing.length === 0;
  $('#plan').classList.toggle('hidden', !g.situation);
  $('#to-form').disabled = !ready;
  if (!g.situation) return;
  const exempt = g.materials.filter((m) => m.exempt).length;
  clear($('#materials'),
    el('p', { class: 'hint' }, `共 ${g.materials.length} 项材料，其中 ${exempt} 项免交。`),
    el('ul', { class: 'plain' }, g.materials.map((m) => {
      const [tone, label, text] = MATERIAL_STATUS[m.status] || ['muted', m.status, () => m.how];
      return el('li', { dataset: { material: m.id } }, el('div', {}, m.name, el('span', { class: `badge ${m.exempt ? 'ok' : tone}` }, m.exempt ? '免交' : label)), el('div', { class: 'hint' }, materialText(m, text)), uploader(m));
    })));
  const prefilled = g.fields.filter((f) => f.prefill);
  // A source that cannot answer now never blocks the filing: the applicant fills the field in instead (issue 19).
  const shown = (f) => (f.status === 'unavailable' ? `${f.note || '数源暂时无法提供'}${f.fallback ? '；请在申请表中填写' : ''}` : f.value !== undefined ? f.value : '提交后自动获取');
  clear($('#prefilled'),
    prefilled.length === 0 ? el('p', { class: 'hint' }, '本事项没有可免填的字段。') : el('dl', { class: 'kv' }, prefilled.flatMap((f) => [
      el('dt', {}, f.label),
      el('dd', {}, shown(f), el('span', { class: 'badge ok' }, '免填'), el('div', { class: 'hint' }, `来源：${f.prefill.sourceName}`)),
    ])),
    (g.choices || []).map((c) => el('p', { class: 'hint', dataset: { choice: c.path } },
      `您名下有多项记录，请在申请表中选择（${c.path.replace(/^form\./, '')}）：`, c.options.map((o) => `${o.value} ${o.label}`).join('；'))));
  // 后续服务: what the department does on its own once the filing is approved.
  const follow = g.followUps || [];
  $('#follow-ups-card').classList.toggle('hidden', follow.length === 0);
  clear($('#follow-ups'), follow.length ? el('ul', { class: 'plain' }, follow.map((f) => el('li', { dataset: { followUp: f.id } }, el('div', { class: 'name' }, f.name), el('div', { class: 'hint' }, f.note)))) : null);
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

const PHONE_PATTERN = /1\[3-9\]/;

/** Hint and keyboard for a field, from its schema: phones get the phone pad, codes and numbers the number pad. */
function fieldAid(key, node) {
  const pattern = node.pattern || '';
  if (PHONE_PATTERN.test(pattern) || /phone/i.test(key)) return { inputmode: 'tel', type: 'tel', autocomplete: 'tel', hint: '手机号码11位；固定电话请加区号，如 024-12345678' };
  if (node.format === 'id-number') return { inputmode: 'text', autocomplete: 'off', hint: '18位，最后一位可以是X' };
  if (node.format === 'uscc') return { inputmode: 'text', autocomplete: 'off', hint: '18位，见营业执照' };
  if (node.format === 'date') return { hint: '例如 2026-12-31' };
  if (node.type === 'number' || node.type === 'integer') return { inputmode: node.type === 'integer' ? 'numeric' : 'decimal' };
  if (/^\^\[0-9\]\{\d+(,\d+)?\}\$$/.test(pattern)) return { inputmode: 'numeric', hint: '只填数字' };
  return null;
}

/** The matter's form schema as json-editor renders it; the server keeps validating against the original. */
function editorSchema(schema, fields) {
  const s = JSON.parse(JSON.stringify(schema));
  s.title = '申请信息';
  // Objects without a title take the label of the printed field that comes from them (form.responsiblePerson.* → 负责人).
  const labelOf = (pointer) => {
    const f = (fields || []).find((x) => typeof x.from === 'string' && x.from.startsWith(`form.${pointer}.`));
    return f ? f.label : pointer.split('.').pop();
  };
  const regions = state.regions || [];
  (function walk(node, pointer, key) {
    if (!node || typeof node !== 'object') return;
    if (pointer && !node.title) node.title = labelOf(pointer);
    if (node.title) node.title = node.title.replace(/（行政区划代码）/, '');
    if (node.type === 'array' && node.items && !node.items.title) node.items.title = node.title;
    // Conditional requirements (if/then) are checked by form-check.js and the server.
    delete node.allOf;
    delete node.errorMessage;
    if (node.type === 'array' && node.uniqueItems && node.items && Array.isArray(node.items.enum)) {
      node.format = 'checkbox';
      node.items.type = node.items.type || 'string';
    }
    if (node.type === 'array' && node.items && node.items.type === 'object') node.format = node.format || 'tabs-top';
    if (node.enum && !node.type) node.type = 'string';
    // 区划: a district picker (GB/T 2260) instead of typing six digits.
    if (key && /RegionCode$/.test(key) && node.pattern === '^[0-9]{6}$' && regions.length) {
      node.enum = ['', ...regions.map((r) => r.code)];
      node.options = Object.assign({}, node.options, { enum_titles: ['请选择', ...regions.map((r) => `${r.name}`)] });
      delete node.pattern;
    } else if (node.type === 'string' || node.type === 'number' || node.type === 'integer') {
      const aid = fieldAid(key || '', node);
      if (aid) {
        const attrs = {};
        if (aid.inputmode) attrs.inputmode = aid.inputmode;
        if (aid.autocomplete) attrs.autocomplete = aid.autocomplete;
        node.options = Object.assign({}, node.options, { inputAttributes: attrs });
        if (aid.hint && !node.description) node.description = aid.hint;
      }
    }
    for (const [k, v] of Object.entries(node.properties || {})) walk(v, pointer ? `${pointer}.${k}` : k, k);
    if (node.items) walk(node.items, pointer, key);
  })(s, '', '');
  return s;
}

/**
 * Schema titles and descriptions are written by department admins; they are text, never markup. json-editor's
 * `cleanText` strips tags by parsing its argument as HTML (`div.innerHTML = text`) for headers, descriptions and tab
 * titles — so `<img src=… onerror=…>` in a title made the browser fetch (and, but for the CSP, run) it, and `<b>`
 * vanished. Made the identity, the library puts the same strings into `textContent` instead: shown as written,
 * parsed never (labels and select options already use text nodes). Issue 17, item 7.
 */
export function schemaTextAsText(JSONEditor) {
  const asText = (txt) => (txt === undefined || txt === null ? '' : String(txt));
  for (const proto of [JSONEditor.AbstractEditor && JSONEditor.AbstractEditor.prototype, JSONEditor.AbstractTheme && JSONEditor.AbstractTheme.prototype]) {
    if (!proto || typeof proto.cleanText !== 'function') throw new Error('json-editor without cleanText: review schemaTextAsText for this version');
    proto.cleanText = asText;
  }
}

function destroyEditor() {
  if (state.editor) state.editor.destroy();
  state.fieldErrors = [];
  return null;
}

/** 本人: the signed-in person's own ID number (and name, when a source gave it) go into the form, not retyped. */
function selfPrefill(value) {
  const c = claims(state.token);
  if (!c || subjectType(c.sub) !== 'person') return value;
  const answers = Object.assign({}, state.guide.answers, state.userAnswers);
  const props = state.def.formSchema.properties || {};
  const target = answers.relation === '监护人代办' ? (props.guardian ? 'guardian' : null)
    : Object.keys(props).find((k) => k !== 'guardian' && props[k].type === 'object' && props[k].properties && props[k].properties.idNumber && props[k].properties.idNumber.format === 'id-number');
  if (!target || (answers.relation !== undefined && answers.relation !== '本人' && target !== 'guardian')) return value;
  const out = Object.assign({}, value);
  const person = Object.assign({}, out[target]);
  if (!person.idNumber) person.idNumber = c.sub;
  if (!person.name && state.subjectName && props[target].properties.name) person.name = state.subjectName;
  out[target] = person;
  return out;
}

async function loadRegions() {
  if (state.regions) return;
  try { state.regions = (await api(null, 'GET', '/v1/regions')).regions; } catch { state.regions = []; }
}

async function toFormStep(opts) {
  await loadRegions();
  show('form');
  if (!(opts && opts.noHistory)) go('form');
  clear($('#form-error'));
  if (state.editor && state.editor.matter === state.matter) return;
  state.editor = destroyEditor();
  const JSONEditor = window.JSONEditor;
  schemaTextAsText(JSONEditor);
  JSONEditor.defaults.languages.zh = Object.assign({}, JSONEditor.defaults.languages.en, ZH);
  JSONEditor.defaults.language = 'zh';
  const schema = editorSchema(state.def.formSchema, state.def.fields);
  const draft = loadDraft(state.matter);
  const editor = new JSONEditor($('#form-editor'), {
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
  editor.matter = state.matter;
  state.editor = editor;
  editor.on('ready', () => {
    const start = selfPrefill(draft && draft.form ? draft.form : {});
    if (Object.keys(start).length) editor.setValue(Object.assign({}, editor.getValue(), start));
    editor.root.showValidationErrors([]);
    labelInputs();
    editor.on('change', onFormChange);
  });
}

/** json-editor's labels are not tied to their inputs: tie them (screen readers read the label with the field). */
function labelInputs() {
  let n = 0;
  for (const input of document.querySelectorAll('#form-editor input, #form-editor select, #form-editor textarea')) {
    if (input.type === 'checkbox' || input.type === 'radio' || input.type === 'hidden') continue;
    const holder = input.closest('.form-control') || input.parentElement;
    const label = holder && holder.querySelector('label');
    if (!label) continue;
    if (!input.id) input.id = `fe-${++n}`;
    label.setAttribute('for', input.id);
    if (label.classList.contains('required')) input.setAttribute('aria-required', 'true');
  }
}

/** An edit clears the message of the field edited; the draft is saved. */
function onFormChange() {
  labelInputs();
  saveDraft();
  if (!state.fieldErrors.length) return;
  const value = state.editor.getValue();
  state.fieldErrors = state.fieldErrors.filter((e) => JSON.stringify(valueAt(value, e.pointer)) === e.seen);
  // json-editor redraws its own (empty) messages on every change: the ones still standing are drawn again.
  renderFieldErrors();
}

/** Typing in a field clears its message at once (json-editor itself reports a change only when the field is left). */
function onFormInput(e) {
  const name = e.target && e.target.getAttribute && e.target.getAttribute('name');
  if (!name || !state.fieldErrors.length) return;
  const pointer = `/${name.replace(/^root\[?/, '').replace(/\]$/, '').split('][').join('/')}`;
  const before = state.fieldErrors.length;
  state.fieldErrors = state.fieldErrors.filter((x) => x.pointer !== pointer && !pointer.startsWith(`${x.pointer}/`));
  if (state.fieldErrors.length !== before) renderFieldErrors();
}

/** Problems ({pointer, message}) shown at their fields and listed above the buttons, in plain Chinese. */
function showFieldErrors(problems) {
  const value = state.editor ? state.editor.getValue() : {};
  state.fieldErrors = problems.map((p) => ({ pointer: p.pointer, message: p.message, seen: JSON.stringify(valueAt(value, p.pointer)) }));
  renderFieldErrors();
  $('#form-error').scrollIntoView({ block: 'center' });
}

function renderFieldErrors() {
  const errs = state.fieldErrors;
  if (state.editor) {
    state.editor.showValidationErrors(errs.map((e) => ({ path: editorPath(e.pointer), property: 'check', message: e.message })));
    // json-editor ends every message with an English full stop; ours are sentences of their own.
    for (const m of document.querySelectorAll('#form-editor .errmsg')) if (m.textContent.endsWith('.')) m.textContent = m.textContent.slice(0, -1);
    for (const input of document.querySelectorAll('#form-editor [aria-invalid]')) input.removeAttribute('aria-invalid');
    for (const e of errs) {
      const ed = state.editor.getEditor(editorPath(e.pointer));
      if (ed && ed.input) ed.input.setAttribute('aria-invalid', 'true');
    }
  }
  clear($('#form-error'), errs.length ? el('div', { class: 'errors', role: 'alert' },
    el('strong', {}, `还有 ${errs.length} 处需要修改：`),
    el('ul', {}, errs.map((e) => el('li', {}, el('a', { href: '#', onclick: (ev) => { ev.preventDefault(); focusField(e.pointer); } }, e.message))))) : null);
}

function focusField(pointer) {
  const ed = state.editor && state.editor.getEditor(editorPath(pointer));
  const input = ed && (ed.input || (ed.container && ed.container.querySelector('input, select, textarea')));
  if (input) { input.scrollIntoView({ block: 'center' }); input.focus(); }
}

/** API errors ({path: '/form/a/0/b'}) in the catalog's words at their fields; others in a box. */
function showFormErrors(err) {
  const formErrors = (err.errors || []).filter((e) => e.path.startsWith('/form') && !/must match "then"/.test(e.message));
  if (formErrors.length) {
    const seen = new Set();
    showFieldErrors(formErrors.map((e) => ({ pointer: e.path.slice('/form'.length) || '/', message: plainMessage(state.def.formSchema, e) })).filter((p) => !seen.has(p.pointer) && seen.add(p.pointer)));
    return;
  }
  clear($('#form-error'), errorBox(err));
  $('#form-error').scrollIntoView({ block: 'center' });
}

function formValue() {
  return state.editor ? state.editor.getValue() : {};
}

async function runPrecheck() {
  const btn = $('#precheck');
  const value = formValue();
  // The form is checked here first, field by field, in the catalog's words; the server checks again.
  const problems = checkForm(state.def.formSchema, value, { today: beijingToday() });
  if (problems.length) return void showFieldErrors(problems.map((p) => ({ pointer: p.path, message: p.message })));
  btn.disabled = true;
  clear($('#form-error'));
  try {
    state.precheck = await api(state.token, 'POST', `/v1/matters/${encodeURIComponent(state.matter)}/precheck`, { answers: state.guide.answers, form: value });
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

function renderConsent(opts) {
  show('consent');
  if (!(opts && opts.noHistory)) go('consent');
  const p = state.precheck;
  const d = p.decision;
  const kind = state.def.kind;
  clear($('#precheck-result'),
    el('div', { class: `result ${{ APPROVE: 'approved', REJECT: 'rejected', MANUAL: 'manual_review' }[d.outcome]}` }, `预检结果：${{ APPROVE: approvedText(kind), REJECT: '不符合条件', MANUAL: '需转人工审核' }[d.outcome]}`),
    d.reasons.length ? reasonList(d.reasons) : el('p', { class: 'hint' }, `按当前填报内容，提交后系统将自动办结${kind === '证明' ? '并开具电子证明' : '并签发电子证照'}。`),
    el('h3', {}, '将填入申请表的内容'),
    el('dl', { class: 'kv' }, p.form.flatMap((f) => [el('dt', {}, f.label), el('dd', {}, f.value, f.prefilledFrom ? el('span', { class: 'badge ok' }, '免填') : null, f.fallback ? el('div', { class: 'hint' }, f.fallback.note) : null)])));
  const c = state.def.consent || {};
  const person = subjectType((claims(state.token) || {}).sub) === 'person';
  const boxes = [];
  if (c.dataSharing) boxes.push(el('label', { class: 'field' }, el('input', { type: 'checkbox', id: 'consent-data', onchange: syncSubmit }), ` 同意为「${c.purpose}」查询、核验本${person ? '人' : '单位'}在政府部门的共享数据`));
  if (c.sealAuthorization) boxes.push(el('label', { class: 'field' }, el('input', { type: 'checkbox', id: 'consent-seal', onchange: syncSubmit }), person ? ' 同意以本人电子签名签署申请表' : ' 授权使用本单位电子印章签章生成申请表'));
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
    dropDraft(state.matter);
    state.editor = destroyEditor();
    void watch(r.id, { kind: state.def.kind, name: state.def.name });
  } catch (err) {
    btn.disabled = false;
    if ((err.errors || []).some((e) => e.path.startsWith('/form'))) {
      show('form');
      showFormErrors(err);
    } else clear($('#submit-error'), errorBox(err));
  }
}

// ---- status ----
const STEP_OF = { queued: 1, processing: 2, approved: 3, rejected: 3, manual_review: 2, failed: 3 };
const TONE = { approved: 'ok', rejected: 'bad', failed: 'bad', manual_review: 'warn', queued: 'muted', processing: 'muted' };
const FINAL = new Set(['approved', 'rejected', 'failed']);

/** What "approved" means for this kind of matter: 备案 is recorded, 许可 granted, 证明 issued, a service given. */
function approvedText(kind) {
  if (/备案/.test(kind || '')) return '准予备案';
  if (/许可/.test(kind || '')) return '准予许可';
  if (/证明/.test(kind || '')) return '证明已开具';
  return '审核通过';
}

function statusText(status, kind) {
  return {
    queued: '已受理，排队中',
    processing: '系统办理中',
    approved: `已办结：${approvedText(kind)}`,
    rejected: '已办结：不予通过',
    manual_review: '转人工审核，等待工作人员办理',
    failed: '办理失败，请联系办事窗口',
  }[status] || status;
}

function renderStatus(app, meta) {
  const kind = meta.kind;
  const final = FINAL.has(app.status);
  const step = final ? 4 : STEP_OF[app.status] || 1;
  // Steps done are green; the current one is marked; a finished filing has every step done (never a red end).
  $('#steps').querySelectorAll('li').forEach((li, i) => {
    li.classList.toggle('done', i < step);
    li.classList.toggle('now', !final && i === step);
    if (!final && i === step) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
  });
  $('#status-text').textContent = statusText(app.status, kind);
  $('#status-text').dataset.status = app.status;
  $('#working').classList.toggle('hidden', final || app.status === 'manual_review');
  const out = $('#outcome');
  if (!final && app.status !== 'manual_review') return void clear(out);
  const RESULT = {
    approved: kind === '证明' ? '审核通过，电子证明已开具。' : `审核通过（${approvedText(kind)}），电子证照已签发。`,
    rejected: '申请未通过，原因如下；修改后可重新申请。',
    manual_review: '申请已转人工审核，原因如下。',
    failed: '系统办理失败，请稍后查询或联系办事窗口。',
  };
  const parts = [el('div', { class: `result ${app.status}` }, RESULT[app.status] || statusText(app.status, kind))];
  if (app.certificate) {
    parts.push(el('dl', { class: 'kv' }, el('dt', {}, kind === '证明' ? '证明编号' : '证照编号'), el('dd', { id: 'cert-number' }, app.certificate.number)));
    parts.push(el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'primary', id: 'download-cert', onclick: () => void download(state.token, `/v1/certificates/${app.certificate.id}/pdf`, `${app.certificate.number}.pdf`).catch((e) => clear($('#status-error'), errorBox(e))) }, kind === '证明' ? '下载电子证明（PDF）' : '下载电子证照（PDF）'),
      el('button', { type: 'button', id: 'download-form', onclick: () => void download(state.token, `/v1/applications/${app.id}/form`, `申请表-${app.number || app.id}.pdf`).catch((e) => clear($('#status-error'), errorBox(e))) }, '下载已签章申请表')));
    parts.push(el('p', { class: 'hint' }, '电子证照含数字签名和二维码，可在核验页面或任何 PDF 签名验证工具中核验。'));
  }
  if (app.decision && app.decision.reasons.length && app.status !== 'approved') {
    parts.push(el('h3', {}, app.status === 'manual_review' ? '转人工审核的原因' : '原因'), reasonList(app.decision.reasons));
  }
  if (app.followUps && app.followUps.length) {
    parts.push(el('h3', {}, '后续服务'), el('ul', { class: 'plain', id: 'follow-up-status' }, app.followUps.map((f) => el('li', {},
      el('div', {}, f.name, el('span', { class: `badge ${f.status === 'done' ? 'ok' : 'muted'}` }, f.status === 'done' ? '已完成' : '已安排')),
      el('div', { class: 'hint' }, f.doneAt ? `完成于 ${beijingTime(f.doneAt)}${f.detail ? `：${f.detail}` : ''}` : f.dueAt ? `预计 ${beijingTime(f.dueAt, { dateOnly: true })} 办理` : '')))));
  }
  if (app.status === 'manual_review') parts.push(el('p', { class: 'hint' }, '工作人员将在规定时限内完成审核，结果会在“我的办件”中显示，也可随时回到此页面查看。'));
  clear(out, parts);
}

async function watch(id, opts) {
  show('status');
  if (!(opts && opts.noHistory)) go('status', { id });
  $('#application-id').textContent = id;
  clear($('#status-error'));
  const meta = { kind: opts && opts.kind, name: opts && opts.name };
  let last = null;
  try {
    last = await api(state.token, 'GET', `/v1/applications/${encodeURIComponent(id)}`);
  } catch (err) {
    return void clear($('#status-error'), errorBox(err));
  }
  if (!meta.kind) {
    try {
      const def = await api(null, 'GET', `/v1/matters/${encodeURIComponent(last.matter)}`);
      meta.kind = def.kind;
      meta.name = def.name;
    } catch { /* wording falls back to the generic one */ }
  }
  $('#status-matter').textContent = meta.name || '';
  if (last.number) $('#application-id').textContent = last.number;
  $('#submitted-at').textContent = last.createdAt ? beijingTime(last.createdAt) : '';
  renderStatus(last, meta);
  if (FINAL.has(last.status) || last.status === 'manual_review') return;
  if (state.abort) state.abort.abort();
  state.abort = new AbortController();
  try {
    await stream(state.token, `/v1/applications/${encodeURIComponent(id)}/events`, (name, data) => {
      if (name === 'status') { last = Object.assign({}, last, data); renderStatus(last, meta); }
    }, state.abort.signal);
  } catch (err) {
    if (err.name === 'AbortError') return;
  }
  // The stream ended (decision) or broke: make sure the page shows the final state.
  for (let i = 0; i < 120 && (!last || !(FINAL.has(last.status) || last.status === 'manual_review')); i++) {
    try { last = await api(state.token, 'GET', `/v1/applications/${encodeURIComponent(id)}`); renderStatus(last, meta); } catch (err) { clear($('#status-error'), errorBox(err)); }
    if (FINAL.has(last && last.status) || (last && last.status === 'manual_review')) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  try { renderStatus(await api(state.token, 'GET', `/v1/applications/${encodeURIComponent(id)}`), meta); } catch { /* shown already */ }
}

// ---- wiring ----
$('#to-form').addEventListener('click', () => void toFormStep());
$('#form-editor').addEventListener('input', onFormInput);
$('#back-to-guide').addEventListener('click', () => { show('guide'); go('guide'); });
$('#precheck').addEventListener('click', () => void runPrecheck());
$('#back-to-form').addEventListener('click', () => void toFormStep());
$('#submit').addEventListener('click', () => void submit());
$('#guide-back').addEventListener('click', () => void renderMatters());
$('#status-home').addEventListener('click', () => void renderMatters());
$('#status-mine').addEventListener('click', () => void renderMine());
$('#nav-home').addEventListener('click', () => void renderMatters());
$('#nav-mine').addEventListener('click', () => void renderMine());
$('#signout').addEventListener('click', () => { dropAllDrafts(); auth.clear(); state.token = null; state.subjectName = null; state.editor = destroyEditor(); setWho(); show('signin'); history.replaceState(null, '', '/'); void renderSignin(); });

// At load too, so nothing json-editor renders ever parses schema text (a test builds an editor on this page).
if (window.JSONEditor) schemaTextAsText(window.JSONEditor);

const saved = auth.get();
const savedClaims = saved && claims(saved.token);
if (savedClaims && savedClaims.exp * 1000 > Date.now()) {
  state.subjectName = saved.name || null;
  signedIn(saved.token, { restore: true });
} else { show('signin'); void renderSignin(); }
