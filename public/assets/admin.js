/* global window, document, location, fetch */
// 管理控制台 (role admin, the token's dept): the department's matters and versions, drafts (validation errors,
// tests, back-test, four-eyes approval, publish), the manual review queue, certificates and revocation, figures as
// charts, and the queue dashboard (bull-board, behind a cookie the console obtains with the admin token).
import { $, api, clear, claims, el, errorBox, session } from './common.js';

const auth = session('miaopi.admin.auth');
const state = { token: null, dept: null, tab: 'reviews' };
const TABS = [['reviews', '人工审核'], ['certificates', '证照与撤销'], ['matters', '事项与版本'], ['drafts', '规则草稿'], ['stats', '统计'], ['queues', '队列']];
const DEPARTMENTS = [
  ['11210100MB0E12346R', '沈阳市粮食和物资储备局'],
  ['11210100MB0E23459Q', '沈阳市城乡建设局'],
  ['11210100MB0E34561M', '沈阳市房产局'],
  ['11210100MB0E45674L', '沈阳市残疾人联合会'],
];
const SVG = 'http://www.w3.org/2000/svg';

function call(method, path, body) {
  return api(state.token, method, path, body);
}

async function optional(path) {
  try { return await call('GET', path); } catch (err) { if (err.status === 404 && err.code === 'ROUTE_NOT_FOUND') return null; throw err; }
}

// ---- sign in ----
async function renderSignin() {
  $('#console').classList.add('hidden');
  $('#signin').classList.remove('hidden');
  let cfg = { devSignIn: false };
  try { cfg = await api(null, 'GET', '/v1/portal/config'); } catch { /* token form only */ }
  const tokenForm = el('form', {}, el('label', { class: 'field' }, el('span', {}, '管理员访问令牌'), el('textarea', { id: 'admin-token' })),
    el('div', { class: 'actions' }, el('button', { class: 'primary', type: 'submit' }, '使用令牌登录')));
  tokenForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('#admin-token').value.trim();
    const c = claims(t);
    if (!c || c.role !== 'admin') return void clear($('#signin-error'), errorBox(new Error('不是管理员令牌')));
    signedIn(t);
  });
  if (!cfg.devSignIn) return void clear($('#signin-body'), tokenForm);
  const form = el('form', {},
    el('p', { class: 'notice' }, '开发环境：选择部门即以该部门管理员身份登录。'),
    el('label', { class: 'field' }, el('span', {}, '部门'), el('select', { id: 'admin-dept' }, DEPARTMENTS.map(([code, name]) => el('option', { value: code }, name)))),
    el('label', { class: 'field' }, el('span', {}, '工号'), el('input', { id: 'admin-sub', value: 'ADMIN-01', autocomplete: 'off' })),
    el('div', { class: 'actions' }, el('button', { class: 'primary', type: 'submit', id: 'admin-signin' }, '登录')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api(null, 'POST', '/v1/dev/token', { sub: $('#admin-sub').value.trim(), role: 'admin', dept: $('#admin-dept').value });
      signedIn(r.token);
    } catch (err) { clear($('#signin-error'), errorBox(err)); }
  });
  clear($('#signin-body'), form, el('details', {}, el('summary', {}, '已有访问令牌？'), tokenForm));
}

function signedIn(token) {
  state.token = token;
  const c = claims(token);
  state.dept = c.dept;
  auth.set({ token });
  const dept = DEPARTMENTS.find(([code]) => code === c.dept);
  $('#who').textContent = `${dept ? dept[1] : c.dept} · ${c.sub}`;
  $('#signout').classList.remove('hidden');
  $('#signin').classList.add('hidden');
  $('#console').classList.remove('hidden');
  clear($('#tabs'), TABS.map(([id, name]) => el('button', { type: 'button', dataset: { tab: id }, onclick: () => void openTab(id) }, name)));
  void openTab(state.tab);
}

async function openTab(id) {
  state.tab = id;
  for (const b of $('#tabs').querySelectorAll('button')) b.classList.toggle('active', b.dataset.tab === id);
  const pane = $('#pane');
  clear(pane, el('p', { class: 'hint' }, '加载中…'));
  try {
    await ({ reviews, certificates, matters, drafts, stats, queues })[id](pane);
  } catch (err) {
    clear(pane, errorBox(err));
  }
}

const short = (iso) => (iso ? iso.replace('T', ' ').slice(0, 19) : '—');

// ---- manual review ----
async function reviews(pane) {
  const data = await optional('/v1/admin/reviews');
  if (!data) return void clear(pane, el('p', { class: 'notice' }, '人工审核接口尚未部署。'));
  if (data.items.length === 0) return void clear(pane, el('div', { class: 'card' }, el('h2', {}, '人工审核'), el('p', { class: 'hint' }, '暂无待审核的申请。')));
  clear(pane, el('div', { class: 'card' }, el('h2', {}, `人工审核（${data.items.length}）`),
    el('ul', { class: 'plain', id: 'review-list' }, data.items.map((r) => {
      const note = el('input', { placeholder: '审核意见（不予通过时必填）', 'aria-label': '审核意见' });
      const out = el('div');
      const act = async (kind) => {
        try {
          const body = kind === 'approve' ? (note.value.trim() ? { note: note.value.trim() } : {}) : { reason: note.value.trim() };
          const res = await call('POST', `/v1/admin/reviews/${encodeURIComponent(r.id)}/${kind}`, body);
          clear(out, el('div', { class: `result ${res.status}` }, res.status === 'approved' ? `已通过，证照 ${res.certificate.number}` : '已不予通过'));
        } catch (err) { clear(out, errorBox(err)); }
      };
      return el('li', { dataset: { application: r.id } },
        el('div', {}, el('strong', {}, r.matter), el('span', { class: 'badge warn' }, '待审核')),
        el('div', { class: 'hint' }, `申请人 ${r.applicant} · 提交 ${short(r.createdAt)} · 申请编号 ${r.id}`),
        r.decision ? el('ul', {}, r.decision.reasons.map((x) => el('li', {}, `${x.message}（${x.result === 'UNKNOWN' ? '无法核验' : '未通过'}；${x.basis}）`))) : null,
        note,
        el('div', { class: 'actions' },
          el('button', { class: 'primary', dataset: { action: 'approve' }, onclick: () => void act('approve') }, '通过并发证'),
          el('button', { dataset: { action: 'reject' }, onclick: () => void act('reject') }, '不予通过')),
        out);
    }))));
}

// ---- certificates ----
async function certificates(pane) {
  const { items, nextCursor } = await call('GET', '/v1/certificates?limit=100');
  const rows = items.slice().reverse();
  clear(pane, el('div', { class: 'card' }, el('h2', {}, '本部门签发的电子证照'),
    el('p', { class: 'hint' }, '撤销后，核验服务对该证照答复“已撤销”，并写入本部门签名的撤销列表。撤销原因将公开。'),
    rows.length === 0 ? el('p', { class: 'hint' }, '暂无证照。') : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'cert-table' },
      el('thead', {}, el('tr', {}, ['证照编号', '持证主体', '签发时间', '状态', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map((c) => {
        const reason = el('input', { placeholder: '撤销原因', 'aria-label': '撤销原因' });
        const cell = el('td');
        const revoke = async () => {
          try {
            await call('POST', `/v1/certificates/${encodeURIComponent(c.id)}/revoke`, { reason: reason.value.trim() });
            void openTab('certificates');
          } catch (err) { clear(cell, errorBox(err), reason, revokeBtn); }
        };
        const revokeBtn = el('button', { dataset: { action: 'revoke' }, onclick: () => void revoke() }, '撤销');
        if (c.status === 'valid') cell.append(reason, revokeBtn);
        return el('tr', { dataset: { certificate: c.id } }, el('td', {}, c.number), el('td', {}, c.holder.name), el('td', {}, short(c.issuedAt)),
          el('td', {}, el('span', { class: `badge ${c.status === 'valid' ? 'ok' : 'bad'}` }, { valid: '有效', revoked: '已撤销', superseded: '已变更' }[c.status] || c.status)), cell);
      })))),
    nextCursor ? el('p', { class: 'hint' }, '仅显示最早的 100 张。') : null));
}

// ---- matters and versions ----
async function matters(pane) {
  const data = await optional('/v1/admin/matters');
  const list = data ? data.matters : (await call('GET', '/v1/matters')).matters.filter((m) => m.department.code === state.dept);
  const detail = el('div');
  clear(pane, el('div', { class: 'card' }, el('h2', {}, '本部门事项'),
    el('ul', { class: 'plain' }, list.map((m) => el('li', { class: 'matter' },
      el('div', {}, el('div', { class: 'name' }, m.name, m.autoApprove ? el('span', { class: 'badge ok' }, '秒批') : el('span', { class: 'badge muted' }, '预审')),
        el('div', { class: 'hint' }, `${m.code} · 当前版本 ${m.version.slice(0, 12)}`)),
      data ? el('button', { onclick: () => void versions(m.code, detail) }, '版本') : null)))), detail);
}

async function versions(code, box) {
  const v = await call('GET', `/v1/admin/matters/${encodeURIComponent(code)}/versions`);
  clear(box, el('div', { class: 'card' }, el('h2', {}, `${code} 的版本`),
    el('div', { class: 'scroll' }, el('table', { class: 'list' },
      el('thead', {}, el('tr', {}, ['版本', '来源', '创建', '状态'].map((h) => el('th', {}, h)))),
      el('tbody', {}, v.versions.map((x) => el('tr', {}, el('td', {}, String(x.version).slice(0, 12)), el('td', {}, x.origin || ''), el('td', {}, `${short(x.createdAt)} ${x.createdBy || ''}`),
        el('td', {}, x.version === v.current ? el('span', { class: 'badge ok' }, '当前') : ''))))))));
}

// ---- drafts ----
async function drafts(pane) {
  const data = await optional('/v1/admin/matters');
  if (!data) return void clear(pane, el('p', { class: 'notice' }, '规则编辑接口尚未部署。'));
  const select = el('select', { id: 'draft-matter' }, data.matters.map((m) => el('option', { value: m.code }, m.name)));
  const text = el('textarea', { id: 'draft-text', rows: 18, spellcheck: 'false', style: 'font-family: monospace; font-size: .85rem' });
  const out = el('div', { id: 'draft-out' });
  let draftId = null;
  const load = async () => {
    const m = data.matters.find((x) => x.code === select.value);
    const res = await fetch(`/v1/admin/matters/${encodeURIComponent(m.code)}/versions/${m.version}?format=yaml`, { headers: { authorization: `Bearer ${state.token}` } });
    text.value = res.ok ? await res.text() : '';
  };
  const step = async (label, fn) => {
    try {
      const r = await fn();
      clear(out, el('h3', {}, label), summary(r));
    } catch (err) { clear(out, el('h3', {}, label), errorBox(err)); }
  };
  const save = () => step('草稿校验', async () => {
    const res = await fetch(`/v1/admin/matters/${encodeURIComponent(select.value)}/drafts`, { method: 'POST', headers: { authorization: `Bearer ${state.token}`, 'content-type': 'application/yaml' }, body: text.value });
    const body = await res.json();
    if (!res.ok) throw Object.assign(new Error(body.message), body);
    draftId = body.id;
    return body;
  });
  const on = (label, path, body) => () => step(label, () => { if (!draftId) throw new Error('请先保存草稿'); return call('POST', `/v1/admin/drafts/${draftId}/${path}`, body); });
  select.addEventListener('change', () => void load());
  clear(pane, el('div', { class: 'card' }, el('h2', {}, '规则草稿'),
    el('p', { class: 'hint' }, '以当前版本为底稿修改（YAML）。保存即校验；通过测试和回测后，由本部门另一名管理员审批，再发布。'),
    el('label', { class: 'field' }, el('span', {}, '事项'), select), text,
    el('div', { class: 'actions' },
      el('button', { class: 'primary', onclick: () => void save() }, '保存并校验'),
      el('button', { onclick: () => void on('测试用例', 'test')() }, '运行测试'),
      el('button', { onclick: () => void on('回测', 'backtest', {})() }, '回测'),
      el('button', { onclick: () => void on('审批', 'approve')() }, '审批（四眼原则）'),
      el('button', { onclick: () => void on('发布', 'publish')() }, '发布')),
    out));
  await load();
}

/** A JSON answer as a readable list (two levels), not raw JSON. */
function summary(v) {
  if (v === null || typeof v !== 'object') return el('p', {}, String(v));
  return el('dl', { class: 'kv' }, Object.entries(v).flatMap(([k, x]) => [el('dt', {}, k),
    el('dd', {}, x !== null && typeof x === 'object' ? JSON.stringify(x).slice(0, 600) : String(x))]));
}

// ---- figures ----
function bars(title, rows, fmt) {
  const max = Math.max(1, ...rows.map((r) => r[1]));
  const h = 28 * rows.length + 10;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('viewBox', `0 0 600 ${h}`);
  svg.setAttribute('width', '100%');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  rows.forEach(([label, value], i) => {
    const y = 5 + i * 28;
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('x', '0'); t.setAttribute('y', String(y + 16)); t.textContent = label;
    const r = document.createElementNS(SVG, 'rect');
    r.setAttribute('x', '200'); r.setAttribute('y', String(y + 3)); r.setAttribute('height', '18');
    r.setAttribute('width', String(Math.max(1, (value / max) * 320))); r.setAttribute('fill', '#c8161d');
    const v = document.createElementNS(SVG, 'text');
    v.setAttribute('x', String(206 + (value / max) * 320)); v.setAttribute('y', String(y + 16)); v.textContent = fmt ? fmt(value) : String(value);
    svg.append(t, r, v);
  });
  return el('div', {}, el('h3', {}, title), svg);
}

const ACQ = ['证照共享', '数据核验', '材料复用', '业务协同', '告知承诺', 'upload', '系统生成'];
const ACQ_LABEL = { upload: '上传', missing: '未取得' };

/** The catalog's once-only figures beside the seed's, and what real filings got (issue 19). */
function onceOnlyCard(data, pct) {
  const t = data.totals;
  const c = t.catalog;
  const scope = { 'city-wide': '全市', department: '本部门', matter: '本事项' }[t.scope] ?? t.scope;
  const frac = (a, b, r) => `${a} / ${b}（${pct(r)}）`;
  return el('div', { class: 'card', id: 'once-only' },
    el('h2', {}, `“只提交一次”成效（${scope}）`),
    el('table', { class: 'list', id: 'once-only-totals' },
      el('thead', {}, el('tr', {}, el('th', {}, '指标'), el('th', {}, `目录（${c.matters} 个事项）`), el('th', {}, '种子数据'))),
      el('tbody', {},
        el('tr', {}, el('td', {}, '材料只交一次（免交、复用、承诺、系统生成）'),
          el('td', {}, frac(c.materials.onceOnly, c.materials.total, c.materials.onceOnlyRate)),
          el('td', {}, frac(data.seed.materials.onceOnly, data.seed.materials.total, data.seed.materials.onceOnlyRate))),
        el('tr', {}, el('td', {}, '字段免填'),
          el('td', {}, frac(c.fields.prefilled, c.fields.total, c.fields.prefilledRate)),
          el('td', {}, `商品房预售许可 ${frac(data.seed.presaleFields.prefilled, data.seed.presaleFields.total, data.seed.presaleFields.prefilledRate)}`)),
        el('tr', {}, el('td', {}, '零材料事项 / 情形'), el('td', {}, `${c.zeroMaterialMatters} 个事项；${c.situations.zeroMaterial} / ${c.situations.total} 个情形`), el('td', {}, '—')),
        el('tr', {}, el('td', {}, '实际办件：零上传'), el('td', {}, frac(t.measured.zeroUploadFilings, t.measured.decided, t.measured.zeroUploadRate)), el('td', {}, '—')),
        el('tr', {}, el('td', {}, '实际办件：字段免填'), el('td', {}, `${frac(t.measured.fields.total - t.measured.fields.typed, t.measured.fields.total, t.measured.fields.prefilledRate)}；数源未答复改由申请人填写 ${t.measured.fields.typedFallback} 项`), el('td', {}, '—')))),
    t.topFalloutReasons && t.topFalloutReasons.length
      ? bars('未能自动审批的主要原因', t.topFalloutReasons.map((r) => [`${r.rule}（${(data.matters.find((m) => m.matter === r.matter) || {}).name || r.matter}）`, r.count]))
      : null);
}

function matterOnceOnly(m, pct) {
  if (!m.catalog) return null;
  const c = m.catalog;
  const measured = m.onceOnly;
  return el('div', { class: 'once-only-matter', dataset: { matter: m.matter } },
    el('dl', { class: 'kv' },
      el('dt', {}, '目录：材料只交一次'), el('dd', {}, `${c.materials.onceOnly} / ${c.materials.total}（${pct(c.materials.onceOnlyRate)}）`),
      el('dt', {}, '目录：字段免填 / 填写'), el('dd', {}, `${c.fields.prefilled} / ${c.fields.typed}（免填 ${pct(c.fields.prefilledRate)}）${c.fields.typedFields.length ? `；须填写：${c.fields.typedFields.join('、')}` : ''}`),
      el('dt', {}, '目录：零材料'), el('dd', {}, c.zeroMaterial ? '是' : `否（${c.situations.zeroMaterial} / ${c.situations.total} 个情形零材料）`),
      el('dt', {}, '实际：零上传办件'), el('dd', {}, `${measured.zeroUploadFilings} / ${measured.decided}（${pct(measured.zeroUploadRate)}）`),
      el('dt', {}, '实际：字段免填'), el('dd', {}, `${pct(measured.fields.prefilledRate)}；数源未答复改由申请人填写 ${measured.fields.typedFallback} 项`)),
    bars('目录：材料获取方式', ACQ.map((a) => [ACQ_LABEL[a] ?? a, c.materials.byAcquisition[a] ?? 0])),
    Object.keys(measured.materialsByAcquisition).length
      ? bars('实际：材料获取方式', Object.entries(measured.materialsByAcquisition).map(([a, n]) => [ACQ_LABEL[a] ?? a, n]))
      : null);
}

async function stats(pane) {
  const data = await optional('/v1/stats');
  if (!data) return void clear(pane, el('p', { class: 'notice' }, '统计接口尚未部署。'));
  const pct = (x) => (x === null || x === undefined ? '—' : `${Math.round(x * 100)}%`);
  clear(pane, el('p', { class: 'hint' }, `生成时间 ${short(data.generatedAt)}`), data.totals ? onceOnlyCard(data, pct) : null, data.matters.map((m) => el('div', { class: 'card' },
    el('h2', {}, m.name),
    el('dl', { class: 'kv' }, el('dt', {}, '申请数'), el('dd', {}, String(m.filings)), el('dt', {}, '自动审批率'), el('dd', {}, pct(m.autoApprovalRate)),
      el('dt', {}, '办理用时（中位数 / P95）'), el('dd', {}, `${m.timeToDecisionMs.median ?? '—'} ms / ${m.timeToDecisionMs.p95 ?? '—'} ms`)),
    bars('办理结果', [['准予', m.outcomes.approved], ['不予通过', m.outcomes.rejected], ['人工审核', m.outcomes.manualReview], ['失败', m.outcomes.failed], ['办理中', m.outcomes.inProgress]]),
    bars('材料（免交 / 复用 / 上传 / 承诺）', [['免交', m.materials.exempted], ['复用', m.materials.reused], ['上传', m.materials.uploaded], ['承诺', m.materials.committed]]),
    bars('字段（免填 / 填写）', [['免填', m.fields.prefilled], ['填写', m.fields.typed]]),
    m.onceOnly ? matterOnceOnly(m, pct) : null,
    m.topFalloutReasons.length ? bars('未能自动审批的原因', m.topFalloutReasons.map((r) => [r.rule, r.count])) : null)));
}

// ---- queue dashboard ----
async function queues(pane) {
  const open = async () => {
    try {
      const s = await call('POST', '/admin/queues/session');
      window.open(s.path, '_blank', 'noopener');
    } catch (err) { clear($('#queue-error'), errorBox(err)); }
  };
  clear(pane, el('div', { class: 'card' }, el('h2', {}, '队列看板'),
    el('p', { class: 'hint' }, '查看申请办理队列和回调投递队列（只读）。看板含各部门任务，仅运维角色（ops）可打开，部门管理员会得到 403；凭会话 Cookie 访问，随令牌过期。'),
    el('div', { class: 'actions' }, el('button', { class: 'primary', id: 'open-board', onclick: () => void open() }, '打开队列看板')),
    el('div', { id: 'queue-error' })));
}

$('#signout').addEventListener('click', () => {
  auth.clear();
  void fetch('/admin/queues/session', { method: 'DELETE' });
  location.reload();
});

const saved = auth.get();
const c = saved && claims(saved.token);
if (c && c.role === 'admin' && c.exp * 1000 > Date.now()) signedIn(saved.token);
else void renderSignin();

