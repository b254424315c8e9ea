// 讲座申请 (admin): the requests to review, one request with its decision form, and the
// figures that come back from it (the unit's screening report, the survey afterwards).
import { api } from './api.js';
import {
  h, clear, showError, showInfo, act, loadDetail, table, pager, confirmDialog, field, fmtTime, fmtRate,
  label, badge, LABELS, fromLocalInput, toLocalInput, barChart,
} from './ui.js';

const list = { status: 'submitted', page: 1 }; // kept while the console is open
const DECISIONS = { accept: '接受并安排', propose: '提议其他时间', decline: '婉拒' };
const ACTIONS = { submitted: ['accept', 'propose', 'decline'], proposed: ['decline'] };

export async function render(view, [id], ctx) {
  if (id) await renderDetail(view, id, ctx);
  else await renderList(view, ctx);
}

const dates = (ds) => (ds?.length ? ds.join('、') : '—');
let scaleNames = null; // code → short name, loaded once; codes stand in when it fails
const scalesOf = async (codes) => {
  scaleNames ??= api.get('/scales').then((all) => Object.fromEntries(all.map((s) => [s.code, s.short_name])), () => ({}));
  const names = await scaleNames;
  return codes.map((c) => names[c] || c.toUpperCase()).join('、');
};
const yesNo = (b) => (b ? '是' : '否');

// ——— the list ———

async function renderList(view, ctx) {
  const status = h('select', { onchange: () => { list.status = status.value; list.page = 1; load(); } },
    h('option', { value: '' }, '全部状态'),
    Object.entries(LABELS.lecture).map(([v, t]) => h('option', { value: v, selected: v === list.status }, t)));
  const body = h('div', {});
  clear(view,
    h('h1', {}, '讲座申请'),
    h('div', { class: 'toolbar' }, h('label', { class: 'inline' }, '状态', status), h('span', { class: 'spacer' }),
      h('span', { class: 'muted small' }, '按提交时间排列，最早的在前')),
    h('div', { class: 'card' }, body));

  let latest = 0; // a slow answer must not replace a newer one
  async function load() {
    const mine = ++latest;
    try {
      const paged = await api.get('/admin/lecture-requests', { status: list.status, page: list.page }, { signal: ctx.signal });
      const scales = await Promise.all(paged.items.map((r) => scalesOf(r.screening_scales)));
      if (mine !== latest) return;
      paged.items.forEach((r, i) => { r.scales = scales[i]; });
      clear(body,
        table([
          { title: '单位', render: (r) => r.unit_name },
          { title: '主题', render: (r) => r.topic_title || h('span', { class: 'muted' }, '自拟内容') },
          { title: '人数', render: (r) => r.attendees },
          { title: '期望日期', render: (r) => dates(r.preferred_dates) },
          { title: '筛查', render: (r) => (r.screening ? r.scales : h('span', { class: 'muted' }, '无')) },
          { title: '状态', render: (r) => badge('lecture', r.status) },
          { title: '提交时间', render: (r) => fmtTime(r.created_at) },
        ], paged.items, { onRow: (r) => { location.hash = '#/lectures/' + r.id; }, empty: '没有符合条件的申请' }),
        paged.total > paged.page_size ? pager(paged, (p) => { list.page = p; load(); }) : null);
    } catch (err) {
      showError(err);
    }
  }
  await load();
}

// ——— one request ———

const back = () => h('p', {}, h('a', { href: '#/lectures' }, '← 返回讲座申请列表'));

async function renderDetail(view, id, ctx) {
  const r = await loadDetail(view, ctx, () => api.get('/lecture-requests/' + encodeURIComponent(id), null, { signal: ctx.signal }),
    back, '无法打开这条申请。');
  if (!r) return;
  await showRequest(view, r);
}

async function showRequest(view, r) {
  const rerender = (next) => showRequest(view, next);
  const scales = await scalesOf(r.screening_scales);
  clear(view,
    back(),
    h('h1', {}, r.unit_name, ' ', badge('lecture', r.status)),
    h('div', { class: 'row' },
      h('div', { class: 'grow' }, requestCard(r, scales)),
      h('div', { class: 'col-side' }, actionCard(r, rerender), scheduleCard(r))),
    figuresCard(r));
}

function facts(rows) {
  return h('table', {}, h('tbody', {}, rows.filter(Boolean).map(([k, v]) =>
    h('tr', {}, h('th', {}, k), h('td', {}, v === null || v === undefined || v === '' ? '—' : v)))));
}

function contact(c) {
  if (!c) return '—';
  return [c.name, c.title ? `（${c.title}）` : '', `　手机 ${c.mobile}`, c.office_phone ? `　办公电话 ${c.office_phone}` : ''].join('');
}

function requestCard(r, scales) {
  return h('section', { class: 'card' }, h('h2', {}, '申请内容'), facts([
    ['单位名称', r.unit_name],
    ['单位地址', r.unit_address],
    ['所在地区', r.region],
    ['单位总人数', r.staff_total],
    ['参加人数', r.attendees],
    ['讲座主题', r.topic_title || '（未选菜单主题，见内容说明）'],
    ['内容说明', r.content_note ? h('div', { style: 'white-space: pre-wrap' }, r.content_note) : null],
    ['期望日期', dates(r.preferred_dates)],
    ['可与其他单位合办', yesNo(r.joint_ok)],
    ['心理普查', r.screening ? `需要（${scales || '未选量表'}）` : '不需要'],
    ['联络人', contact(r.liaison)],
    ['单位负责人', contact(r.head)],
    ['提交时间', fmtTime(r.created_at)],
    ['最近更新', fmtTime(r.updated_at)],
  ]));
}

function scheduleCard(r) {
  if (!r.scheduled_at && !r.reason && !r.screening_code) return null;
  const title = r.status === 'proposed' ? '已提议的时间' : '安排';
  return h('section', { class: 'card' }, h('h2', {}, title), facts([
    r.scheduled_at && ['讲座时间', fmtTime(r.scheduled_at)],
    r.lecturer && ['讲师', r.lecturer],
    r.location && ['地点', r.location],
    r.screening_code && ['参与码', h('strong', {}, r.screening_code)],
    r.reason && ['婉拒原因', r.reason],
  ]));
}

function actionCard(r, rerender) {
  const card = h('section', { class: 'card' }, h('h2', {}, '处理'));
  if (ACTIONS[r.status]) card.append(decisionForm(r, rerender));
  else if (r.status === 'accepted') {
    const done = h('button', { type: 'button', class: 'primary' }, '标记已完成');
    done.addEventListener('click', async () => {
      const early = r.scheduled_at && Date.parse(r.scheduled_at) > Date.now() ? `讲座安排在 ${fmtTime(r.scheduled_at)}，还没到时间。` : '';
      if (!(await confirmDialog(`${early}确认「${r.unit_name}」的讲座已经举办？标记后不能撤销。`, '标记已完成'))) return;
      const next = await act(done, () => api.post(`/admin/lecture-requests/${r.id}/done`));
      if (next) { showInfo('已标记为已完成'); rerender(next); }
    });
    card.append(h('p', { class: 'muted' }, '讲座举办后，请标记为已完成；之后参加者可以填写满意度问卷。'), h('div', { class: 'actions' }, done));
  } else {
    card.append(h('p', { class: 'muted' }, `此申请${label('lecture', r.status)}，无需处理。`));
  }
  return card;
}

function decisionForm(r, rerender) {
  const choices = ACTIONS[r.status];
  const lecturer = h('input', { maxlength: 64, placeholder: '如：张老师' });
  const when = h('input', { type: 'datetime-local', min: toLocalInput(new Date().toISOString()), value: toLocalInput(r.scheduled_at) });
  const location = h('input', { maxlength: 200, placeholder: '如：三楼会议室' });
  const reason = h('textarea', { maxlength: 300, rows: 3, placeholder: '会转告单位联络人' });
  const parts = {
    lecturer: field('讲师', lecturer),
    when: field('讲座时间', when),
    location: field('地点', location),
    reason: field('婉拒原因', reason),
  };
  const needs = { accept: ['lecturer', 'when', 'location'], propose: ['when'], decline: ['reason'] };
  let decision = choices[0];
  const submit = h('button', { type: 'submit', class: 'primary' });
  const show = () => {
    for (const [k, el] of Object.entries(parts)) el.hidden = !needs[decision].includes(k);
    submit.textContent = DECISIONS[decision];
    submit.className = decision === 'decline' ? 'danger' : 'primary';
  };
  const radios = choices.map((c) => h('label', { class: 'inline' },
    h('input', { type: 'radio', name: 'decision', value: c, checked: c === decision, onchange: () => { decision = c; show(); } }),
    DECISIONS[c]));
  const form = h('form', {},
    r.status === 'proposed' ? h('p', { class: 'muted small' }, '已向单位提议其他时间，正在等待联络人答复；如仍无法安排，可以婉拒。') : null,
    choices.length > 1 ? h('div', {}, radios) : null,
    h('p', { class: 'muted small' }, '单位期望日期：', dates(r.preferred_dates)),
    h('div', { class: 'form-grid' }, Object.values(parts)),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { decision };
    if (decision === 'accept') Object.assign(body, { lecturer: lecturer.value.trim(), location: location.value.trim() });
    if (decision !== 'decline') body.scheduled_at = fromLocalInput(when.value);
    else body.reason = reason.value.trim();
    const next = await act(submit, () => api.post(`/admin/lecture-requests/${r.id}/decision`, body));
    if (next) { showInfo(`已${DECISIONS[decision]}，单位联络人会收到通知`); rerender(next); }
  });
  show();
  return form;
}

// ——— figures: screening report and survey ———

function figuresCard(r) {
  const hasReport = r.screening && r.screening_code; // the code comes with acceptance
  const hasSurvey = ['accepted', 'done'].includes(r.status);
  if (!hasReport && !hasSurvey) return null;
  const out = h('div', {});
  const open = (text, fn) => {
    const b = h('button', { type: 'button' }, text);
    b.addEventListener('click', () => act(b, async () => clear(out, await fn())));
    return b;
  };
  return h('section', { class: 'card' }, h('h2', {}, '统计结果'),
    h('p', { class: 'muted small' }, '只显示汇总人数，不含任何个人信息。'),
    h('div', { class: 'toolbar' },
      hasReport ? open('查看普查报告', () => screeningReport(r.id)) : null,
      hasSurvey ? open('查看满意度问卷', () => surveyFigures(r.id)) : null),
    out);
}

async function screeningReport(id, closeNow) {
  const rep = closeNow
    ? await api.post(`/admin/lecture-requests/${id}/screening/close`, {})
    : await api.get(`/lecture-requests/${id}/screening-report`);
  const out = h('div', {});
  if (rep.state === 'open') {
    const close = h('button', { type: 'button', class: 'danger' }, '现在结束普查');
    close.addEventListener('click', () => act(close, async () => {
      if (!(await confirmDialog('结束后不能再参加本次普查，报告的人数随即冻结。确定现在结束吗？', '结束普查'))) return;
      out.replaceWith(await screeningReport(id, true));
    }));
    clear(out, h('div', {},
      h('h3', {}, `普查报告 · ${rep.unit_name}`),
      h('p', { class: 'muted small' }, `普查进行中，${fmtTime(rep.closes_at)} 结束。结束前只显示参加人数（向下取整到 5 的倍数），不显示分级。`),
      rep.scales.map((s) => h('p', {}, `${s.scale_name}：约 ${s.participants} 人`)),
      h('div', { class: 'actions' }, close)));
    return out;
  }
  clear(out, h('div', {},
    h('h3', {}, `普查报告 · ${rep.unit_name}`),
    h('p', { class: 'muted small' }, `普查已于 ${fmtTime(rep.closes_at)} 结束，人数冻结于 ${fmtTime(rep.frozen_at)}。${rep.rule}（显示为“—”）。`),
    rep.scales.length ? rep.scales.map((s) => h('div', {},
      h('h3', {}, s.scale_name, h('span', { class: 'muted' }, s.participants === null ? '　参加人数不足 10 人，不显示分布' : `　共 ${s.participants} 人`)),
      s.participants === null ? null : h('div', { class: 'row' },
        h('div', { style: 'flex: 0 0 340px' }, table([
          { title: '结果等级', render: (b) => b.label },
          { title: '人数', render: (b) => (b.suppressed ? h('span', { class: 'muted' }, '—（已隐藏）') : b.count) },
          { title: '占比', render: (b) => (b.suppressed || !s.participants ? '—' : fmtRate(b.count / s.participants)) },
        ], s.bands)),
        h('div', { class: 'grow' }, barChart(s.bands.map((b) => ({ label: b.label, value: b.count })), { height: 140 })))))
      : h('p', { class: 'muted' }, '尚无人参加普查。')));
  return out;
}

async function surveyFigures(id) {
  const s = await api.get(`/lecture-requests/${id}/survey`);
  if (s.state === 'open') {
    return h('div', {},
      h('h3', {}, '满意度问卷'),
      h('p', { class: 'muted small' }, `问卷进行中，${fmtTime(s.closes_at)} 结束。结束前只显示回收份数（向下取整到 5 的倍数），结束后显示比例和留言。`),
      h('div', { class: 'stat-tiles' }, h('div', { class: 'tile' }, h('div', { class: 'n' }, `约 ${s.responses}`), h('div', { class: 'l' }, '回收问卷（份）'))));
  }
  return h('div', {},
    h('h3', {}, '满意度问卷'),
    h('p', { class: 'muted small' }, `问卷已于 ${fmtTime(s.closes_at)} 结束。少于 10 份时不显示比例；留言不按时间排列，触及风险词的留言不在此显示。`),
    h('div', { class: 'stat-tiles' }, [
      [s.responses, '回收问卷（份）'],
      [fmtRate(s.content_very_satisfied_rate), '对内容“非常满意”'],
      [fmtRate(s.gain_very_rate), '认为“收获很大”'],
    ].map(([n, l]) => h('div', { class: 'tile' }, h('div', { class: 'n' }, n), h('div', { class: 'l' }, l)))),
    h('h3', {}, `留言（${s.comments.length}）`),
    s.comments.length ? h('ul', {}, s.comments.map((c) => h('li', { style: 'white-space: pre-wrap' }, c))) : h('p', { class: 'muted' }, '暂无留言'));
}
