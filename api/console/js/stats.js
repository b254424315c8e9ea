// 统计 (admin): figures for a period of whole months (China time), drawn in the browser from
// the admin figure routes. Each part loads on its own: one that fails says so in place.
import { api } from './api.js';
import { h, clear, showError, fmtDuration, fmtRate, fmtCount, chinaDate, barChart, table, badge, label, LABELS } from './ui.js';

const MAX_MONTHS = 12; // the server takes at most 366 days per request
let period = null; // { from: 'YYYY-MM', to: 'YYYY-MM' }, kept while the console is open

// ——— months ———

const pad = (n) => String(n).padStart(2, '0');
const monthIndex = (s) => { const [y, m] = s.split('-').map(Number); return y * 12 + m - 1; };
const monthOf = (i) => `${Math.floor(i / 12)}-${pad((i % 12) + 1)}`;
const daysIn = (m) => { const [y, mm] = m.split('-').map(Number); return new Date(Date.UTC(y, mm, 0)).getUTCDate(); };

/** The calendar months of a period, each with its first and last day (both included). */
function monthsOf({ from, to }) {
  const out = [];
  for (let i = monthIndex(from); i <= monthIndex(to); i++) {
    const month = monthOf(i);
    out.push({ month, from: `${month}-01`, to: `${month}-${pad(daysIn(month))}` });
  }
  return out;
}

const sum = (xs, f) => xs.reduce((a, x) => a + (f(x) || 0), 0);
/** One bar per month of the period, summing `key` over the rows of that month. */
const perMonth = (months, rows, key) =>
  months.map((m) => ({ label: m.month, value: sum(rows.filter((r) => r.month === m.month), (r) => r[key]) }));

// ——— page ———

export async function render(view, _params, ctx) {
  const now = chinaDate().slice(0, 7);
  period ??= { from: monthOf(monthIndex(now) - 5), to: now };
  const month = (value) => h('input', { type: 'month', value, max: now, required: true, placeholder: '如 2026-07' });
  const from = month(period.from);
  const to = month(period.to);
  const quick = (n) => h('button', { type: 'button', onclick: () => { from.value = monthOf(monthIndex(now) - n + 1); to.value = now; apply(); } }, `最近 ${n} 个月`);
  const body = h('div', {});
  const form = h('form', { class: 'toolbar' },
    h('label', { class: 'inline' }, '从', from), h('label', { class: 'inline' }, '至', to),
    h('button', { type: 'submit', class: 'primary' }, '查看'), quick(3), quick(6), quick(12),
    h('span', { class: 'spacer' }), h('span', { class: 'muted small' }, '按中国时间统计；只有人数、比例与时长，不含任何个人信息'));
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  clear(view, h('h1', {}, '统计'), form, body);

  function apply() {
    const p = { from: from.value, to: to.value };
    const problem = problemOf(p, now);
    if (problem) { showError({ message: problem }); return; }
    period = p;
    draw();
  }

  function draw() {
    const months = monthsOf(period);
    const range = { from: months[0].from, to: months.at(-1).to };
    const get = (path, query = range) => api.get(path, query, { signal: ctx.signal });
    clear(body,
      h('p', { class: 'muted' }, `统计区间：${range.from} 至 ${range.to}（共 ${months.length} 个月）`),
      section('总览', () => get('/admin/stats'), overview),
      section('每月咨询', () => Promise.all(months.map((m) => get('/admin/stats', { from: m.from, to: m.to }))),
        (list) => monthly(months, list)),
      h('div', { class: 'row' },
        h('div', { class: 'grow' }, section('各项服务满意度', () => get('/admin/satisfaction'), satisfaction)),
        h('div', { class: 'grow' }, section('风险预警', () => get('/admin/alert-stats'), alerts))),
      section('热线拨打', () => get('/admin/hotline-dials'), (d) => dials(months, d)),
      section('心理讲座', () => get('/admin/lecture-stats'), (rows) => lectures(months, rows)),
      section('站点预约', () => get('/admin/station-stats'), (rows) => stations(months, rows)));
  }
  draw();
}

/** What is wrong with a chosen period, in words; null when it can be shown. */
function problemOf(p, now) {
  const valid = /^\d{4}-(0[1-9]|1[0-2])$/;
  if (!valid.test(p.from) || !valid.test(p.to)) return '请选择起止月份（格式如 2026-07）';
  if (p.to > now) return '不能选择未来的月份';
  if (p.from > p.to) return '开始月份不能晚于结束月份';
  if (monthIndex(p.to) - monthIndex(p.from) >= MAX_MONTHS) return `统计区间最长 ${MAX_MONTHS} 个月`;
  return null;
}

/** A card that fills itself when `load` answers, or shows the failure in place. */
function section(title, load, draw) {
  const body = h('div', {}, h('p', { class: 'muted' }, '正在加载…'));
  load().then(draw).then((node) => clear(body, node)).catch((err) => {
    if (err?.name === 'AbortError') return;
    clear(body, h('p', {}, h('span', { class: 'badge danger' }, '加载失败'), ' ', err?.message || String(err),
      err?.requestId ? h('span', { class: 'muted small' }, `（请求编号 ${err.requestId}）`) : null));
  });
  return h('section', { class: 'card' }, h('h2', {}, title), body);
}

const tiles = (items) => h('div', { class: 'stat-tiles' },
  items.map(([n, l]) => h('div', { class: 'tile' }, h('div', { class: 'n' }, n ?? '—'), h('div', { class: 'l' }, l))));

/** A line of labelled counts, in the order of the label set. */
function counts(title, set, entries) {
  const order = Object.keys(LABELS[set]);
  const rank = ([k]) => (order.includes(k) ? order.indexOf(k) : order.length);
  return h('p', { class: 'small' }, h('span', { class: 'muted' }, title + '：'),
    entries.length ? [...entries].sort((a, b) => rank(a) - rank(b)).map(([k, n]) => [badge(set, k), ` ${fmtCount(n)}　`])
      : h('span', { class: 'muted' }, '无'));
}

/** Two charts side by side, or one above the other when a period's bars would not fit. */
const charts = (months, ...figures) => (months.length > 8 ? h('div', {}, figures)
  : h('div', { class: 'row' }, figures.map((f) => h('div', { class: 'grow' }, f))));

// ——— the parts ———

function overview(s) {
  const c = s.consultations;
  return h('div', {},
    tiles([
      [c.total, '咨询请求（人次）'],
      [fmtDuration(c.wait_median_seconds), '等待时长 · 中位数'],
      [fmtDuration(c.wait_p90_seconds), '等待时长 · 90% 在此之内'],
      [fmtDuration(c.handling_median_seconds), '咨询时长 · 中位数'],
      [fmtRate(s.satisfaction.satisfaction_rate), `咨询满意度（${fmtCount(s.satisfaction.ratings)} 条评价）`],
      [fmtCount(s.satisfaction.flagged_for_review), '低分评价（待复核）'],
      [s.hotline_dials, '热线拨打点击'],
      [sum(s.assessments, (a) => a.submitted), '测评提交（份）'],
    ]),
    counts('咨询状态', 'status', c.by_status.map((x) => [x.status, x.count])),
    counts('优先级', 'priority', c.by_priority.map((x) => [x.status, x.count])),
    s.assessments.length ? table([
      { title: '量表', render: (a) => a.scale.toUpperCase() },
      { title: '提交（份）', render: (a) => fmtCount(a.submitted) },
      { title: '含危机条目作答', render: (a) => fmtCount(a.with_crisis_answer) },
    ], s.assessments) : null);
}

function monthly(months, list) {
  const bars = (f) => months.map((m, i) => ({ label: m.month, value: f(list[i].consultations) }));
  return charts(months,
    barChart(bars((c) => c.total), { title: '咨询请求（人次）' }),
    barChart(bars((c) => c.wait_median_seconds), { title: '等待时长中位数', format: fmtDuration }));
}

function satisfaction(rows) {
  return h('div', {},
    barChart(rows.map((r) => ({ label: label('service', r.service), value: r.satisfied_rate })), { title: '满意度（4 分与 5 分所占比例）', format: fmtRate }),
    table([
      { title: '服务', render: (r) => label('service', r.service) },
      { title: '评价数', render: (r) => fmtCount(r.responses) },
      { title: '满意度', render: (r) => fmtRate(r.satisfied_rate) },
      { title: '非常满意', render: (r) => fmtRate(r.very_satisfied_rate) },
      { title: '问卷（份）', render: (r) => fmtCount(r.survey_responses) },
      { title: '内容非常满意', render: (r) => fmtRate(r.content_very_satisfied_rate) },
      { title: '收获很大', render: (r) => fmtRate(r.gain_very_rate) },
    ], rows));
}

function alerts(a) {
  const minutes = (m) => (m === null || m === undefined ? '—' : fmtDuration(m * 60));
  return h('div', {},
    tiles([
      [a.raised, '预警总数'],
      [a.open, '尚未确认'],
      [a.acknowledged, '已确认'],
      [a.escalated, '已升级（超时或无人值班）'],
      [minutes(a.ack_minutes_median), '确认用时 · 中位数'],
      [minutes(a.ack_minutes_p90), '确认用时 · 90% 在此之内'],
    ]),
    counts('按级别', 'level', Object.entries(a.by_level)),
    counts('按来源', 'source', Object.entries(a.by_source)));
}

function dials(months, d) {
  const today = chinaDate();
  const perDay = new Map();
  const perLine = new Map();
  for (const it of d.items) {
    perDay.set(it.date, (perDay.get(it.date) || 0) + it.count);
    const line = perLine.get(it.hotline_id) || { name: it.hotline_name, number: it.number, count: 0 };
    line.count += it.count;
    perLine.set(it.hotline_id, line);
  }
  const chart = h('div', {});
  const showMonth = (month) => {
    const bars = [];
    for (let day = 1; day <= daysIn(month) && `${month}-${pad(day)}` <= today; day++) {
      bars.push({ label: String(day), value: perDay.get(`${month}-${pad(day)}`) || 0 });
    }
    clear(chart, barChart(bars, { title: `${month} 每日拨打点击（次）` }));
  };
  const pick = h('select', { onchange: () => showMonth(pick.value) },
    months.map((m, i) => h('option', { value: m.month, selected: i === months.length - 1 }, m.month)));
  showMonth(pick.value);
  return h('div', {},
    h('div', { class: 'toolbar' }, h('strong', {}, `本期间共 ${d.total} 次`), h('span', { class: 'spacer' }),
      h('label', { class: 'inline' }, '查看月份', pick)),
    chart,
    h('h3', {}, '各热线合计'),
    table([
      { title: '热线', render: (l) => l.name },
      { title: '号码', render: (l) => l.number },
      { title: '拨打点击', render: (l) => l.count },
    ], [...perLine.values()].sort((x, y) => y.count - x.count), { empty: '本期间没有拨打记录' }));
}

function lectures(months, rows) {
  return h('div', {},
    charts(months,
      barChart(perMonth(months, rows, 'lectures'), { title: '已举办讲座（场）' }),
      barChart(perMonth(months, rows, 'attendees'), { title: '参加人数（单位申报）' })),
    table([
      { title: '月份', render: (r) => r.month },
      { title: '单位', render: (r) => r.unit_name },
      { title: '讲座', render: (r) => r.lectures },
      { title: '参加人数', render: (r) => r.attendees },
      { title: '普查', render: (r) => r.screenings },
      { title: '普查结果', render: (r) => fmtCount(r.screening_results) },
      { title: '接受转介', render: (r) => fmtCount(r.referrals_accepted) },
      { title: '问卷（份）', render: (r) => fmtCount(r.survey_responses) },
      { title: '内容非常满意', render: (r) => fmtRate(r.content_very_satisfied_rate) },
    ], rows, { empty: '本期间没有已举办的讲座' }));
}

function stations(months, rows) {
  return h('div', {},
    charts(months,
      barChart(perMonth(months, rows, 'bookings'), { title: '预约（次，含已取消）' }),
      barChart(perMonth(months, rows, 'attended'), { title: '到场（次）' })),
    table([
      { title: '月份', render: (r) => r.month },
      { title: '站点', render: (r) => r.station_name },
      { title: '预约', render: (r) => fmtCount(r.bookings) },
      { title: '到场', render: (r) => fmtCount(r.attended) },
      { title: '未到场', render: (r) => fmtCount(r.no_shows) },
      { title: '已取消', render: (r) => fmtCount(r.cancelled) },
      { title: '未标记', render: (r) => fmtCount(r.unmarked) },
      { title: '平均评分', render: (r) => (r.average_rating === null ? '—' : `${r.average_rating.toFixed(2)}（${fmtCount(r.ratings)} 条）`) },
    ], rows, { empty: '本期间没有站点预约' }));
}
