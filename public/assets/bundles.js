/* global window, document, crypto, setTimeout, clearTimeout */
// 一件事 page, mobile-first: sign in → choose the bundle → the shared questions and one form → one guide with the
// services pre-ticked → one consent → one submit → every member tracked on one screen (polling the API), with the
// certificates, the e-form and the signed result notice to download.
import { $, api, clear, claims, download, el, errorBox, session } from './common.js';

const auth = session('miaopi.portal.auth');
const state = { token: null, bundle: null, guide: null, answers: {}, id: null, timer: null, key: null };
const SECTIONS = ['signin', 'home', 'apply', 'track'];
const MEMBER_STATUS = {
  queued: ['待办理', 'muted'], processing: ['办理中', 'warn'], approved: ['已办结', 'ok'], rejected: ['不予办理', 'bad'],
  manual_review: ['人工审核中', 'warn'], failed: ['办理异常', 'bad'],
};

function show(name) {
  for (const s of SECTIONS) $(`#${s}`).classList.toggle('hidden', s !== name);
  window.scrollTo(0, 0);
}
function setWho() {
  const c = state.token ? claims(state.token) : null;
  $('#who').textContent = c ? `当前：${c.sub}` : '';
  $('#signout').classList.toggle('hidden', !c);
}

async function renderSignin() {
  let cfg = { devSignIn: false };
  try { cfg = await api(null, 'GET', '/v1/portal/config'); } catch { /* token form only */ }
  const form = el('form', {},
    el('label', { class: 'field' }, el('span', {}, cfg.devSignIn ? '公民身份号码（开发环境登录）' : '访问令牌'), el('input', { id: 'signin-input', autocomplete: 'off', value: cfg.devSignIn ? '210104197203150028' : '' })),
    el('div', { class: 'actions' }, el('button', { class: 'primary', type: 'submit' }, '登录')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = $('#signin-input').value.trim();
    try {
      const token = cfg.devSignIn ? (await api(null, 'POST', '/v1/dev/token', { sub: v, role: 'applicant' })).token : v;
      const c = claims(token);
      if (!c || c.role !== 'applicant') throw new Error('不是申请人令牌');
      state.token = token;
      auth.set(token);
      setWho();
      await renderHome();
    } catch (err) { clear($('#signin-error'), errorBox(err)); }
  });
  clear($('#signin-body'), form);
  show('signin');
}

async function renderHome() {
  show('home');
  const [bundles, mine] = await Promise.all([api(null, 'GET', '/v1/bundles'), api(state.token, 'GET', '/v1/me/bundles')]);
  clear($('#bundle-list'), bundles.items.map((b) => el('li', { class: 'matter' },
    el('div', {}, el('div', { class: 'name' }, b.name), el('div', { class: 'hint' }, `${b.members.length} 项服务 · ${new Set(b.members.map((m) => m.department)).size} 个部门`)),
    el('button', { class: 'primary', type: 'button', onclick: () => void startApply(b.code) }, '申请'))));
  clear($('#my-bundles'), mine.items.length === 0 ? el('li', { class: 'hint' }, '暂无') : mine.items.map((a) => el('li', { class: 'matter' },
    el('div', {}, el('div', { class: 'name' }, a.name), el('div', { class: 'hint' }, `${a.createdAt.slice(0, 10)} · ${a.members.filter((m) => ['approved', 'rejected', 'manual_review', 'failed'].includes(m.status)).length}/${a.members.length} 项已办结`)),
    el('button', { type: 'button', onclick: () => void track(a.id) }, a.status === 'completed' ? '查看结果' : '查看进度'))));
}

async function startApply(code) {
  state.bundle = await api(null, 'GET', `/v1/bundles/${code}`);
  state.answers = {};
  state.key = crypto.randomUUID();
  $('#apply-title').textContent = state.bundle.name;
  clear($('#apply-questions'), state.bundle.questions.map((q) => el('div', { class: 'question' }, el('div', {}, q.text),
    el('div', { class: 'options' }, q.options.map((o) => el('label', {}, el('input', { type: 'radio', name: q.id, value: o, onchange: () => { state.answers[q.id] = o; onAnswers(); } }), o))))));
  const c = claims(state.token);
  $('#f-id').value = c ? c.sub : '';
  $('#guide-box').classList.add('hidden');
  clear($('#apply-error'));
  show('apply');
}

function onAnswers() {
  const guardian = state.answers.relation === '监护人代办';
  $('#guardian-fields').classList.toggle('hidden', !guardian);
  if (!guardian) $('#f-id').value = claims(state.token).sub;
}

function form() {
  const f = { disabledPerson: { name: $('#f-name').value.trim(), idNumber: $('#f-id').value.trim().toUpperCase() }, contactPhone: $('#f-phone').value.trim() };
  if ($('#f-bank').value.trim() || $('#f-account').value.trim()) f.bankAccount = { bank: $('#f-bank').value.trim(), accountNo: $('#f-account').value.trim() };
  if (state.answers.relation === '监护人代办' && $('#f-g-name').value.trim()) f.guardian = { name: $('#f-g-name').value.trim(), idNumber: claims(state.token).sub };
  return f;
}

async function showGuide() {
  clear($('#apply-error'));
  const f = form();
  try {
    state.guide = await api(state.token, 'POST', `/v1/bundles/${state.bundle.code}/guide`, { answers: state.answers, ...(f.disabledPerson.name && f.disabledPerson.idNumber ? { person: f.disabledPerson } : {}) });
  } catch (err) { return void clear($('#apply-error'), errorBox(err)); }
  const g = state.guide;
  if (g.openQuestions.length > 0) clear($('#apply-error'), el('div', { class: 'notice' }, `请先回答：${g.openQuestions.map((q) => q.text).join('、')}`));
  clear($('#members'), g.members.filter((m) => m.applies).map((m) => {
    const reasons = m.eligibility && m.eligibility.outcome === 'REJECT' && !m.preselected ? m.eligibility.reasons.map((r) => r.message).join('；') : '';
    return el('li', {},
      el('label', { class: 'matter' },
        el('span', {}, el('input', { type: 'checkbox', class: 'member-pick', value: m.matter, checked: m.preselected, disabled: m.mode === 'proactive' }), ' ', el('span', { class: 'name' }, m.name),
          m.mode === 'proactive' ? el('span', { class: 'badge ok' }, '免申即享') : null),
        el('span', { class: 'hint' }, `${m.department} · ${m.level}`)),
      reasons ? el('div', { class: 'hint' }, reasons) : null,
      m.dependsOn.length ? el('div', { class: 'hint' }, `在 ${m.dependsOn.map((d) => g.members.find((x) => x.matter === d)?.name ?? d).join('、')} 办结后自动办理`) : null);
  }));
  clear($('#materials'), g.materials.map((m) => el('li', { class: 'matter' }, el('span', {}, m.name), el('span', { class: `badge ${m.exempt ? 'ok' : 'warn'}` }, m.exempt ? `免交（${m.sourceName || m.how}）` : m.how))));
  $('#guide-box').classList.remove('hidden');
}

async function submit() {
  clear($('#submit-error'));
  const members = [...document.querySelectorAll('.member-pick')].filter((x) => x.checked && !x.disabled).map((x) => x.value);
  const body = { bundle: state.bundle.code, answers: state.answers, form: form(), consent: { dataSharing: $('#c-data').checked, sealAuthorization: $('#c-seal').checked }, members };
  try {
    const r = await api(state.token, 'POST', '/v1/applications', body, { 'idempotency-key': state.key });
    await track(r.id);
  } catch (err) { clear($('#submit-error'), errorBox(err)); }
}

async function track(id) {
  state.id = id;
  if (state.timer) clearTimeout(state.timer);
  show('track');
  const poll = async () => {
    let a;
    try { a = await api(state.token, 'GET', `/v1/applications/${id}`); } catch (err) { return void clear($('#track-error'), errorBox(err)); }
    const done = a.members.filter((m) => m.decision).length;
    $('#track-title').textContent = a.status === 'completed' ? '已全部办结' : '办理中';
    clear($('#track-summary'), el('p', {}, `共 ${a.members.length} 项服务，已办结 ${done} 项。`), a.notice ? el('p', { class: 'hint' }, `告知书编号：${a.notice.number}`) : null);
    $('#track-progress').classList.toggle('hidden', a.status === 'completed');
    $('#dl-notice').disabled = !a.notice;
    clear($('#track-members'), a.members.map((m) => {
      const [text, cls] = MEMBER_STATUS[m.status] || [m.status, 'muted'];
      const waiting = (m.waitingFor || []).map((w) => a.members.find((x) => x.matter === w)?.name ?? (w === 'disability-assessment' ? '残疾评定结果（评定机构回传后自动办理）' : w));
      return el('li', { class: 'card' },
        el('div', { class: 'matter' }, el('span', { class: 'name' }, m.name), el('span', { class: `badge ${cls}` }, text)),
        el('div', { class: 'hint' }, `${m.department} · ${m.level}${m.mode === 'proactive' ? ' · 免申即享' : ''}`),
        waiting.length ? el('div', { class: 'notice' }, `等待：${waiting.join('、')}`) : null,
        m.decision && m.decision.reasons.length ? el('ul', {}, m.decision.reasons.map((r) => el('li', {}, r.message))) : null,
        m.certificate ? el('div', { class: 'actions' }, el('button', { type: 'button', onclick: () => void download(state.token, `/v1/certificates/${m.certificate.id}/pdf`, `${m.certificate.number}.pdf`).catch((err) => clear($('#track-error'), errorBox(err))) }, `下载 ${m.certificate.number}`)) : null);
    }));
    if (a.status !== 'completed' || !a.notice) state.timer = setTimeout(() => void poll(), 2000);
  };
  await poll();
}

$('#guide-btn').addEventListener('click', () => void showGuide());
$('#submit-btn').addEventListener('click', () => void submit());
$('#back-home').addEventListener('click', () => void renderHome());
$('#track-home').addEventListener('click', () => { if (state.timer) clearTimeout(state.timer); void renderHome(); });
$('#dl-form').addEventListener('click', () => void download(state.token, `/v1/applications/${state.id}/form`, `form-${state.id}.pdf`).catch((err) => clear($('#track-error'), errorBox(err))));
$('#dl-notice').addEventListener('click', () => void download(state.token, `/v1/applications/${state.id}/notice`, `notice-${state.id}.pdf`).catch((err) => clear($('#track-error'), errorBox(err))));
$('#signout').addEventListener('click', () => { auth.clear(); state.token = null; setWho(); void renderSignin(); });

state.token = auth.get();
setWho();
if (state.token) void renderHome().catch(() => renderSignin());
else void renderSignin();
