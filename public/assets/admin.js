/* global window, document, location, fetch, URL */
// 管理控制台 (role admin, the token's dept): the department's matters and versions, drafts (validation errors,
// tests, back-test, four-eyes approval, publish), the manual review queue, certificates and revocation, figures as
// charts, and the queue dashboard (bull-board, behind a cookie the console obtains with the admin token).
import { $, api, ApiError, clear, claims, el, errorBox, session } from './common.js';
import { beijingTime, chineseOnly } from './form-check.js';

const auth = session('miaopi.admin.auth');
const state = { token: null, dept: null, tab: 'reviews' };
const TABS = [['reviews', '人工审核'], ['certificates', '证照与撤销'], ['matters', '事项与版本'], ['drafts', '规则草稿'], ['audit', '审计日志'], ['stats', '统计'], ['queues', '队列']];
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
    await ({ reviews, certificates, matters, drafts, audit, stats, queues })[id](pane);
  } catch (err) {
    clear(pane, errorBox(err));
  }
}

/** Times in Beijing time, as everywhere people read them. */
const short = (iso) => (iso ? beijingTime(iso) : '—');
let matterNames = null;
async function nameOf(code) {
  if (!matterNames) {
    try { matterNames = new Map((await api(null, 'GET', '/v1/matters')).matters.map((m) => [m.code, m])); } catch { matterNames = new Map(); }
  }
  const m = matterNames.get(code);
  return m ? m.name : code;
}

/**
 * A confirmation in a modal dialog, in Chinese. With `reason`, a text the admin must give (at least 2 characters):
 * confirming without it says so at the field and keeps the dialog open. Resolves { ok, reason }.
 */
function confirmDialog({ title, message, confirmText, reason, danger }) {
  return new Promise((resolve) => {
    const input = reason ? el('textarea', { id: 'confirm-reason', rows: 3, 'aria-required': 'true', 'aria-describedby': 'confirm-reason-error' }) : null;
    const err = el('div', { id: 'confirm-reason-error', class: 'field-error', role: 'alert' });
    const dlg = el('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      el('h2', { id: 'confirm-title' }, title),
      el('p', {}, message),
      reason ? el('label', { class: 'field', for: 'confirm-reason' }, el('span', {}, `${reason}（必填）`), input, err) : null,
      el('div', { class: 'actions' },
        el('button', { type: 'button', id: 'confirm-cancel', onclick: () => { dlg.close(); dlg.remove(); resolve({ ok: false }); } }, '取消'),
        el('button', { type: 'button', id: 'confirm-ok', class: danger ? 'primary' : 'primary', onclick: () => {
          const text = input ? input.value.trim() : '';
          if (input && text.length < 2) { err.textContent = `请填写${reason}，至少 2 个字。`; input.focus(); return; }
          dlg.close(); dlg.remove(); resolve({ ok: true, reason: text });
        } }, confirmText)));
    dlg.addEventListener('cancel', () => { dlg.remove(); resolve({ ok: false }); });
    document.body.append(dlg);
    dlg.showModal();
    if (input) input.focus();
  });
}

// ---- manual review ----
async function reviews(pane) {
  const data = await optional('/v1/admin/reviews');
  if (!data) return void clear(pane, el('p', { class: 'notice' }, '人工审核接口尚未部署。'));
  if (data.items.length === 0) return void clear(pane, el('div', { class: 'card' }, el('h2', {}, '人工审核'), el('p', { class: 'hint' }, '暂无待审核的申请。')));
  const names = await Promise.all(data.items.map((r) => nameOf(r.matter)));
  clear(pane, el('div', { class: 'card' }, el('h2', {}, `人工审核（${data.items.length}）`),
    el('ul', { class: 'plain', id: 'review-list' }, data.items.map((r, i) => {
      const note = el('input', { placeholder: '审核意见（不予通过时必填）', 'aria-label': '审核意见' });
      const out = el('div', { 'aria-live': 'polite' });
      const detail = el('div', { class: 'review-detail' });
      const act = async (kind) => {
        const text = note.value.trim();
        const asked = await confirmDialog(kind === 'approve'
          ? { title: '确认通过并发证', message: `将为「${names[i]}」（申请人 ${r.applicant}）签发电子证照。发证后只能以撤销纠正。`, confirmText: '确认通过' }
          : { title: '确认不予通过', message: `「${names[i]}」将不予通过，理由告知申请人。`, confirmText: '确认不予通过', reason: text ? undefined : '不予通过的理由' });
        if (!asked.ok) return;
        try {
          const body = kind === 'approve' ? (text ? { note: text } : {}) : { reason: text || asked.reason };
          const res = await call('POST', `/v1/admin/reviews/${encodeURIComponent(r.id)}/${kind}`, body);
          clear(out, el('div', { class: `result ${res.status}` }, res.status === 'approved' ? `已通过，证照 ${res.certificate.number}` : '已不予通过'));
        } catch (err) { clear(out, errorBox(err, { paths: true })); }
      };
      return el('li', { dataset: { application: r.id } },
        el('div', {}, el('strong', {}, names[i]), el('span', { class: 'badge warn' }, '待审核')),
        el('div', { class: 'hint' }, `申请人 ${r.applicant} · 提交于 ${short(r.createdAt)} · 申请编号 ${r.number || r.id}`),
        r.decision ? el('ul', {}, r.decision.reasons.map((x) => el('li', {}, `${x.message}（${x.result === 'UNKNOWN' ? '无法核验' : '未通过'}；依据：${x.basis}）`))) : null,
        el('div', { class: 'actions' }, el('button', { type: 'button', dataset: { action: 'open' }, onclick: () => void openFiling(r, names[i], detail) }, '查看申请表')),
        detail,
        note,
        el('div', { class: 'actions' },
          el('button', { type: 'button', class: 'primary', dataset: { action: 'approve' }, onclick: () => void act('approve') }, '通过并发证'),
          el('button', { type: 'button', dataset: { action: 'reject' }, onclick: () => void act('reject') }, '不予通过')),
        out);
    }))));
}

/** The reviewer's view of a filing: its status and reasons, the sealed e-form as filed, and the materials with their files. */
async function openFiling(r, name, box) {
  clear(box, el('p', { class: 'hint' }, '加载中…'));
  try {
    const app = await call('GET', `/v1/applications/${encodeURIComponent(r.id)}`);
    const res = await fetch(`/v1/applications/${encodeURIComponent(r.id)}/form`, { headers: { authorization: `Bearer ${state.token}` } });
    const parts = [el('dl', { class: 'kv' },
      el('dt', {}, '事项'), el('dd', {}, name),
      el('dt', {}, '申请人'), el('dd', {}, r.applicant),
      el('dt', {}, '提交时间'), el('dd', {}, short(app.createdAt)),
      el('dt', {}, '状态'), el('dd', {}, { manual_review: '待人工审核', approved: '已通过', rejected: '不予通过' }[app.status] || app.status))];
    if (res.ok) {
      const url = URL.createObjectURL(await res.blob());
      parts.push(el('object', { data: url, type: 'application/pdf', class: 'pdf', 'aria-label': '已签章申请表' }, el('a', { href: url, download: `申请表-${r.id}.pdf` }, '下载已签章申请表')));
      parts.push(el('p', {}, el('a', { href: url, download: `申请表-${r.id}.pdf`, id: 'download-eform' }, '下载已签章申请表（PDF，含材料清单）')));
    } else parts.push(el('p', { class: 'hint' }, '申请表尚未生成。'));
    parts.push(await materialsOf(r.id));
    clear(box, parts);
  } catch (err) { clear(box, errorBox(err, { paths: true })); }
}

/** How a material of the filing was obtained, in the reviewer's words (免交, 复用, 上传, 承诺 …). */
function materialStatus(m) {
  if (m.status === 'reused') return '复用（调取申请人档案）';
  if (m.category === 'exempted') return `免交（${m.how}${m.status === 'pending' ? '，待送达' : ''}）`;
  if (m.status === 'upload') return m.file ? '上传（申请人档案）' : '须上传，未提交';
  return { committed: '告知承诺', generated: '系统生成' }[m.category]
    || { not_found: '数源无记录，未提交', unknown: '数源未答复，未提交', pending: '待业务协同送达' }[m.status] || m.status;
}

const sizeText = (n) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} 字节`);

/** The filing's materials (issue 18): each with how it was obtained, and the applicant's file, which opens here. */
async function materialsOf(id) {
  const data = await optional(`/v1/admin/applications/${encodeURIComponent(id)}/materials`);
  if (!data) return null;
  const preview = el('div', { class: 'material-preview', 'aria-live': 'polite' });
  const open = async (m) => {
    clear(preview, el('p', { class: 'hint' }, '正在打开…'));
    try {
      const res = await fetch(m.file.href, { headers: { authorization: `Bearer ${state.token}` } });
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
      const url = URL.createObjectURL(await res.blob());
      const name = m.file.fileName || `${m.material}-${m.name}`;
      clear(preview, el('h4', {}, `${m.material} ${m.name}`),
        m.file.mediaType === 'application/pdf'
          ? el('object', { data: url, type: 'application/pdf', class: 'pdf', 'aria-label': m.name }, el('a', { href: url, download: name }, name))
          : el('img', { src: url, alt: m.name, class: 'material-image' }),
        el('p', {}, el('a', { href: url, download: name, dataset: { action: 'download-material' } }, `下载「${name}」`)));
    } catch (err) { clear(preview, errorBox(err)); }
  };
  return el('div', { class: 'materials' },
    el('h3', {}, '申请材料'),
    data.materials.length === 0 ? el('p', { class: 'hint' }, '办理结果生成后显示材料。') : el('div', { class: 'scroll' }, el('table', { class: 'list materials-table' },
      el('thead', {}, el('tr', {}, ['材料编码', '材料名称', '取得方式', '文件', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, data.materials.map((m) => el('tr', { dataset: { material: m.material } },
        el('td', {}, m.material), el('td', {}, m.name), el('td', {}, materialStatus(m)),
        el('td', {}, m.file ? [el('div', {}, `${m.file.fileName || '（未命名）'} · ${sizeText(m.file.size)}`), el('div', { class: 'hint' }, 'SHA-256 ', el('code', { class: 'sha' }, m.file.sha256))] : '—'),
        el('td', {}, m.file ? el('button', { type: 'button', dataset: { action: 'open-material' }, onclick: () => void open(m) }, '打开') : null)))))),
    preview);
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
        const cell = el('td');
        const out = el('div', { 'aria-live': 'polite' });
        const revoke = async () => {
          const asked = await confirmDialog({ title: '确认撤销电子证照', message: `撤销 ${c.number}（${c.holder.name}）后，核验服务将答复“已撤销”，撤销原因将公开。此操作不能恢复。`, confirmText: '确认撤销', reason: '撤销原因', danger: true });
          if (!asked.ok) return;
          try {
            await call('POST', `/v1/certificates/${encodeURIComponent(c.id)}/revoke`, { reason: asked.reason });
            void openTab('certificates');
          } catch (err) { clear(out, errorBox(err)); }
        };
        const revokeBtn = el('button', { type: 'button', dataset: { action: 'revoke' }, onclick: () => void revoke() }, '撤销…');
        if (c.status === 'valid') cell.append(revokeBtn, out);
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

const ORIGIN = { seed: '规则文件', draft: '草稿发布', rollback: '回退' };

async function versions(code, box) {
  const v = await call('GET', `/v1/admin/matters/${encodeURIComponent(code)}/versions`);
  const name = await nameOf(code);
  const out = el('div', { 'aria-live': 'polite' });
  const me = claims(state.token).sub;
  const rollback = async (x) => {
    const asked = await confirmDialog({ title: '申请回退版本', message: `申请将「${name}」回退到 ${short(x.createdAt)} 的版本 ${String(x.version).slice(0, 12)}；须本部门另一名管理员批准后生效，此后的申请按该版本审批。`, confirmText: '提交回退申请' });
    if (!asked.ok) return;
    try {
      await call('POST', `/v1/admin/matters/${encodeURIComponent(code)}/rollback`, { version: x.version });
      await versions(code, box);
    } catch (err) { clear(out, errorBox(err, { paths: true })); }
  };
  const approve = async (r) => {
    try {
      await call('POST', `/v1/admin/rollbacks/${encodeURIComponent(r.id)}/approve`);
      await versions(code, box);
    } catch (err) { clear(out, errorBox(err, { paths: true })); }
  };
  const pending = ((await optional('/v1/admin/rollbacks')) || { items: [] }).items.filter((r) => r.matter === code);
  clear(box, el('div', { class: 'card', id: 'versions' }, el('h2', {}, `「${name}」的版本`),
    el('p', { class: 'hint' }, '回退即让较早的版本重新生效；须一名管理员申请、本部门另一名管理员批准（四眼原则），两步均记入审计日志。'),
    pending.length === 0 ? null : el('ul', { class: 'plain', id: 'rollback-requests' }, pending.map((r) => el('li', {},
      `待批准：${r.requestedBy} 申请回退到 ${String(r.version).slice(0, 12)}（${short(r.requestedAt)}）`,
      r.requestedBy === me ? el('span', { class: 'hint' }, ' 待另一名管理员批准') : el('button', { type: 'button', dataset: { action: 'approve-rollback' }, onclick: () => void approve(r) }, '批准回退')))),
    el('div', { class: 'scroll' }, el('table', { class: 'list' },
      el('thead', {}, el('tr', {}, ['版本', '来源', '创建时间', '创建人', '状态', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, v.versions.map((x) => el('tr', { dataset: { version: x.version } }, el('td', {}, String(x.version).slice(0, 12)), el('td', {}, ORIGIN[x.origin] || x.origin || ''), el('td', {}, short(x.createdAt)), el('td', {}, x.createdBy || ''),
        el('td', {}, x.version === v.current ? el('span', { class: 'badge ok' }, '当前') : ''),
        el('td', {}, x.version === v.current ? '' : el('button', { type: 'button', dataset: { action: 'rollback' }, onclick: () => void rollback(x) }, '回退到此版本'))))))),
    out));
}

// ---- drafts ----
async function drafts(pane) {
  const data = await optional('/v1/admin/matters');
  if (!data) return void clear(pane, el('p', { class: 'notice' }, '规则编辑接口尚未部署。'));
  const me = claims(state.token).sub;
  const out = el('div', { id: 'draft-out', 'aria-live': 'polite' });
  const awaitingBox = el('div', { id: 'drafts-awaiting' });
  const mineBox = el('div', { id: 'drafts-mine' });
  const show = async (label, fn) => {
    try { clear(out, el('h3', {}, label), await fn()); } catch (err) { clear(out, el('h3', {}, label), errorBox(err, { paths: true })); }
    out.scrollIntoView({ block: 'start' });
  };
  const refresh = async () => {
    const [awaiting, mine] = await Promise.all([call('GET', '/v1/admin/drafts?for=awaiting'), call('GET', '/v1/admin/drafts?for=mine')]);
    clear(awaitingBox, draftList(awaiting.items, 'awaiting'));
    clear(mineBox, draftList(mine.items, 'mine'));
  };
  const draftList = (items, which) => {
    if (items.length === 0) return el('p', { class: 'hint' }, which === 'awaiting' ? '没有等待您审批的草稿。' : '您没有未发布的草稿。');
    return el('ul', { class: 'plain' }, items.map((d) => {
      const tests = d.testsPassed === null ? el('span', { class: 'badge muted' }, '未运行测试') : d.testsPassed ? el('span', { class: 'badge ok' }, '测试通过') : el('span', { class: 'badge bad' }, '测试未通过');
      const approval = d.approvedBy ? el('span', { class: 'badge ok' }, `已由 ${d.approvedBy} 审批`) : el('span', { class: 'badge warn' }, '待审批');
      const buttons = [
        el('button', { type: 'button', dataset: { action: 'diff' }, onclick: () => void show(`「${d.matterName}」草稿与现行版本的差异`, () => diffView(d)) }, '查看差异'),
        el('button', { type: 'button', dataset: { action: 'test' }, onclick: () => void show('测试用例', async () => { const r = await call('POST', `/v1/admin/drafts/${d.id}/test`); void refresh(); return testTable(r); }) }, '运行测试'),
        el('button', { type: 'button', dataset: { action: 'backtest' }, onclick: () => void show('回测（最近 100 件已办结申请）', async () => backtestTable(await call('POST', `/v1/admin/drafts/${d.id}/backtest`, {}))) }, '回测'),
      ];
      if (which === 'awaiting') {
        buttons.push(el('button', { type: 'button', class: 'primary', dataset: { action: 'approve' }, onclick: async () => {
          const asked = await confirmDialog({ title: '确认审批草稿', message: `您将以第二审核人身份审批 ${d.author} 编写的「${d.matterName}」草稿。审批后作者可以发布，新规则将用于此后的申请。`, confirmText: '确认审批' });
          if (!asked.ok) return;
          await show('审批', async () => { await call('POST', `/v1/admin/drafts/${d.id}/approve`); await refresh(); return el('div', { class: 'result approved' }, `已审批「${d.matterName}」草稿，等待作者发布。`); });
        } }, '审批通过'));
      } else {
        buttons.push(el('button', { type: 'button', class: 'primary', dataset: { action: 'publish' }, disabled: !d.approvedBy, onclick: async () => {
          const asked = await confirmDialog({ title: '确认发布', message: `「${d.matterName}」的新版本将立即生效，此后的申请按新规则审批。`, confirmText: '确认发布' });
          if (!asked.ok) return;
          await show('发布', async () => { const r = await call('POST', `/v1/admin/drafts/${d.id}/publish`); await refresh(); return el('div', { class: 'result approved' }, `已发布，当前版本 ${String(r.version).slice(0, 12)}。`); });
        } }, '发布'));
      }
      return el('li', { dataset: { draft: d.id } },
        el('div', {}, el('strong', {}, d.matterName), tests, approval, d.stale ? el('span', { class: 'badge bad' }, '现行版本已变，需重新起草') : null),
        el('div', { class: 'hint' }, `作者 ${d.author === me ? '我' : d.author} · 创建于 ${short(d.createdAt)} · 草稿版本 ${d.version.slice(0, 12)}`),
        el('div', { class: 'actions' }, buttons));
    }));
  };

  const select = el('select', { id: 'draft-matter' }, data.matters.map((m) => el('option', { value: m.code }, m.name)));
  const text = el('textarea', { id: 'draft-text', rows: 18, spellcheck: 'false', 'aria-label': '事项定义（YAML）', class: 'code' });
  const load = async () => {
    const m = data.matters.find((x) => x.code === select.value);
    const res = await fetch(`/v1/admin/matters/${encodeURIComponent(m.code)}/versions/${m.version}?format=yaml`, { headers: { authorization: `Bearer ${state.token}` } });
    text.value = res.ok ? await res.text() : '';
  };
  const save = () => show('保存草稿', async () => {
    const res = await fetch(`/v1/admin/matters/${encodeURIComponent(select.value)}/drafts`, { method: 'POST', headers: { authorization: `Bearer ${state.token}`, 'content-type': 'application/yaml' }, body: text.value });
    const body = await res.json();
    if (!res.ok) throw Object.assign(new Error(body.message), body);
    await refresh();
    return el('div', { class: 'result approved' }, `草稿已保存并通过校验（版本 ${body.version.slice(0, 12)}）。请运行测试，并请本部门另一名管理员审批。`);
  });
  select.addEventListener('change', () => void load());
  clear(pane,
    el('div', { class: 'card' }, el('h2', {}, '待我审批的草稿'), el('p', { class: 'hint' }, '本部门其他管理员编写、尚未审批的草稿（四眼原则：作者不能审批自己的草稿）。'), awaitingBox),
    el('div', { class: 'card' }, el('h2', {}, '我的草稿'), mineBox),
    out,
    el('div', { class: 'card' }, el('h2', {}, '新建草稿'),
      el('p', { class: 'hint' }, '以现行版本为底稿修改（YAML）。保存即校验；通过测试和回测后，由本部门另一名管理员审批，再发布。'),
      el('label', { class: 'field', for: 'draft-matter' }, el('span', {}, '事项'), select), text,
      el('div', { class: 'actions' }, el('button', { type: 'button', class: 'primary', id: 'draft-save', onclick: () => void save() }, '保存并校验'))));
  await Promise.all([refresh(), load()]);
}

/** Test cases and rule coverage as tables, in Chinese. */
function testTable(r) {
  const OUT = { APPROVE: '准予', REJECT: '不予通过', MANUAL: '转人工' };
  return el('div', {},
    el('div', { class: `result ${r.passed ? 'approved' : 'rejected'}` }, r.passed ? `全部 ${r.cases.length} 个测试用例通过，每条规则都有通过和不通过的用例。` : '测试未通过：见下表标红的行。'),
    el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'test-cases' },
      el('thead', {}, el('tr', {}, ['#', '用例', '情形', '结果', '未通过的规则', '结论'].map((h) => el('th', {}, h)))),
      el('tbody', {}, r.cases.map((c) => el('tr', { class: c.ok ? '' : 'bad' }, el('td', {}, String(c.index + 1)), el('td', {}, c.name), el('td', {}, c.situation || '—'), el('td', {}, OUT[c.outcome] || '—'),
        el('td', {}, c.failing.join('、') || '—'), el('td', {}, c.ok ? '✓ 通过' : `✗ ${c.problems.join('；')}`)))))),
    el('h3', {}, '规则覆盖'),
    el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'test-coverage' },
      el('thead', {}, el('tr', {}, ['规则', '通过的用例', '不通过的用例', '结论'].map((h) => el('th', {}, h)))),
      el('tbody', {}, r.coverage.map((c) => el('tr', { class: c.ok ? '' : 'bad' }, el('td', {}, c.rule), el('td', {}, String(c.pass)), el('td', {}, String(c.fail)), el('td', {}, c.ok ? '✓' : '✗ 须各有至少一个用例')))))));
}

/** The back-test as tables: outcome changes with examples, reason changes, skipped filings. */
function backtestTable(r) {
  const OUT = { APPROVE: '准予', REJECT: '不予通过', MANUAL: '转人工' };
  return el('div', {},
    el('dl', { class: 'kv' }, el('dt', {}, '回测申请'), el('dd', {}, `${r.filings} 件（重新评估 ${r.evaluated} 件，结果不变 ${r.unchanged} 件）`),
      el('dt', {}, '结果改变'), el('dd', {}, `${r.outcomeChanges.reduce((n, g) => n + g.count, 0)} 件`),
      el('dt', {}, '理由改变'), el('dd', {}, `${r.reasonChanges.count} 件`), el('dt', {}, '无法回测'), el('dd', {}, `${r.skipped.count} 件`)),
    r.outcomeChanges.length ? el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'backtest-flips' },
      el('thead', {}, el('tr', {}, ['原结果', '新结果', '件数', '示例（申请编号 · 新增理由）'].map((h) => el('th', {}, h)))),
      el('tbody', {}, r.outcomeChanges.map((g) => el('tr', {}, el('td', {}, OUT[g.from] || g.from), el('td', {}, OUT[g.to] || g.to), el('td', {}, String(g.count)),
        el('td', {}, g.examples.map((x) => el('div', {}, `${x.applicationId.slice(0, 8)} · ${x.after.reasons.join('、') || '—'}`)))))))) : el('p', { class: 'hint' }, '没有申请的结果会改变。'),
    r.reasonChanges.examples.length ? el('div', { class: 'scroll' }, el('table', { class: 'list' },
      el('thead', {}, el('tr', {}, ['申请', '新增理由', '去掉的理由'].map((h) => el('th', {}, h)))),
      el('tbody', {}, r.reasonChanges.examples.map((x) => el('tr', {}, el('td', {}, x.applicationId.slice(0, 8)), el('td', {}, x.added.join('、') || '—'), el('td', {}, x.removed.join('、') || '—')))))) : null,
    r.skipped.examples.length ? el('ul', {}, r.skipped.examples.map((x) => el('li', {}, `${x.applicationId.slice(0, 8)}：${chineseOnly(x.reason)}`))) : null);
}

/** Line diff (longest common subsequence) between the published YAML and the draft, changed hunks with context. */
function lineDiff(a, b) {
  const n = a.length, m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { ops.push([' ', a[i], i + 1, j + 1]); i++; j++; }
    else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) { ops.push(['+', b[j], null, j + 1]); j++; }
    else { ops.push(['-', a[i], i + 1, null]); i++; }
  }
  return ops;
}

async function diffView(d) {
  const full = await call('GET', `/v1/admin/drafts/${d.id}`);
  const res = d.currentVersion ? await fetch(`/v1/admin/matters/${encodeURIComponent(d.matter)}/versions/${d.currentVersion}?format=yaml`, { headers: { authorization: `Bearer ${state.token}` } }) : null;
  const before = res && res.ok ? await res.text() : '';
  const ops = lineDiff(before.split('\n').slice(0, 3000), String(full.source || '').split('\n').slice(0, 3000));
  const changed = ops.map((o, k) => (o[0] !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return el('p', { class: 'hint' }, '与现行版本没有文字差异。');
  const keep = new Set();
  for (const k of changed) for (let x = Math.max(0, k - 3); x <= Math.min(ops.length - 1, k + 3); x++) keep.add(x);
  const rows = [];
  let last = -1;
  for (let k = 0; k < ops.length; k++) {
    if (!keep.has(k)) continue;
    if (last >= 0 && k > last + 1) rows.push(el('tr', { class: 'gap' }, el('td', { colspan: '3' }, '⋯')));
    const [op, line, ln, rn] = ops[k];
    rows.push(el('tr', { class: op === '+' ? 'add' : op === '-' ? 'del' : '' }, el('td', { class: 'ln' }, ln ? String(ln) : ''), el('td', { class: 'ln' }, rn ? String(rn) : ''),
      el('td', { class: 'code' }, `${op === '+' ? '+ ' : op === '-' ? '− ' : '  '}${line}`)));
    last = k;
  }
  const added = ops.filter((o) => o[0] === '+').length, removed = ops.filter((o) => o[0] === '-').length;
  return el('div', {}, el('p', { class: 'hint' }, `左：现行版本 ${d.currentVersion ? d.currentVersion.slice(0, 12) : '（无）'}；右：草稿。新增 ${added} 行，删除 ${removed} 行。`),
    el('div', { class: 'scroll' }, el('table', { class: 'diff', id: 'draft-diff' }, el('thead', {}, el('tr', {}, el('th', {}, '现行'), el('th', {}, '草稿'), el('th', {}, '内容'))), el('tbody', {}, rows))));
}

// ---- audit ----
const ACTION = {
  'draft.create': '新建草稿', 'draft.approve': '审批草稿', 'version.publish': '发布版本', 'version.rollback-request': '申请回退', 'version.rollback': '回退版本',
  'application.manual-approve': '人工审核通过', 'application.manual-reject': '人工审核不予通过', 'certificate.revoke': '撤销证照',
};
const DETAIL = { draft: '草稿', version: '版本', previous: '原版本', baseVersion: '底稿版本', author: '作者', approvedBy: '审批人', reason: '原因', note: '意见', certificate: '证照', number: '编号', expected: '原版本' };

async function audit(pane) {
  const data = await optional('/v1/admin/audit?limit=200');
  if (!data) return void clear(pane, el('p', { class: 'notice' }, '审计接口尚未部署。'));
  const rows = data.entries.slice().reverse();
  const name = await Promise.all(rows.map((e) => nameOf(e.subject)));
  const show = (v) => (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? v.slice(0, 12) : typeof v === 'string' ? v : JSON.stringify(v));
  clear(pane, el('div', { class: 'card' }, el('h2', {}, '审计日志（本部门，新的在前）'),
    el('p', { class: 'hint' }, '每条记录与上一条以哈希相连，任何改动都会被 npm run audit -- verify 发现。'),
    rows.length === 0 ? el('p', { class: 'hint' }, '暂无记录。') : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'audit-table' },
      el('thead', {}, el('tr', {}, ['序号', '时间', '操作人', '操作', '对象', '详情'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map((e, k) => el('tr', { dataset: { seq: String(e.seq) } }, el('td', {}, String(e.seq)), el('td', {}, short(e.at)), el('td', {}, e.actor), el('td', {}, ACTION[e.action] || e.action), el('td', {}, name[k]),
        el('td', {}, Object.entries(e.details || {}).filter(([, v]) => v !== null && v !== undefined && v !== '').map(([key, v]) => el('div', {}, `${DETAIL[key] || key}：${show(v)}`))))))))));
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

