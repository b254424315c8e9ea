// 咨询站点 (admin): the list with add / edit / delete, and one station's page — its summary,
// its closure days, and the day sheet of bookings where attendance is marked.
import { api } from './api.js';
import { h, clear, showInfo, act, table, confirmDialog, field, label, badge, fmtClock, chinaDate } from './ui.js';
import { hoursEditor, hoursText, audiencePicker, editDialog, buttonRow } from './hours.js';

const WEEK = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const utcDay = (ymd) => new Date(ymd + 'T00:00:00Z');
const weekday = (ymd) => label('day', WEEK[utcDay(ymd).getUTCDay()]);
function addDays(ymd, n) {
  const d = utcDay(ymd);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
const yesNo = (on, yes, no) => (on ? h('span', { class: 'badge ok' }, yes) : h('span', { class: 'badge' }, no));
const nowrap = (el) => { el.style.whiteSpace = 'nowrap'; return el; };

/** The add/edit dialog; resolves with the saved StationView, or null when cancelled. */
function editStation(s) {
  const v = s || {};
  const text = (attrs, value) => h('input', { ...attrs, value: value ?? '' });
  const num = (value, min, max) => h('input', { type: 'number', required: true, min, max, step: 1, value });
  const f = {
    name: text({ required: true, maxlength: 64 }, v.name),
    unit: text({ required: true, maxlength: 64, placeholder: '运营站点的单位' }, v.unit),
    region: text({ required: true, maxlength: 32, placeholder: '如 长沙市' }, v.region),
    phone: text({ maxlength: 20, pattern: '[0-9]+(-[0-9]+)*', title: '数字，可用单个连字符分段' }, v.phone),
    address: text({ maxlength: 200 }, v.address),
    note: h('textarea', { maxlength: 300, rows: 2, value: v.note ?? '', placeholder: '如：提前一周网上预约' }),
    seats: num(v.seats ?? 1, 1, 50),
    slot: num(v.slot_minutes ?? 50, 15, 240),
    gap: num(v.break_minutes ?? 10, 0, 120),
    window: num(v.booking_window_days ?? 7, 1, 60),
    notice: num(v.min_notice_hours ?? 2, 0, 168),
    cancel: num(v.cancel_hours ?? 2, 0, 168),
    active: h('input', { type: 'checkbox', checked: v.active ?? true }),
  };
  f.address.style.width = '100%';
  const audiences = audiencePicker(v.audiences);
  const hours = hoursEditor(v.hours ?? { kind: 'weekly', windows: [] }, { kinds: ['weekly', 'unknown'], overnight: false });

  return editDialog(s ? `编辑站点：${s.name}` : '新增站点', (form) => form.append(
    h('div', { class: 'form-grid' },
      field('名称', f.name), field('单位', f.unit), field('地区', f.region), field('电话（可选）', f.phone)),
    field('地址（可选，不填则不公布）', f.address),
    field('备注（可选，300 字以内）', f.note),
    h('h3', {}, '预约规则'),
    h('div', { class: 'form-grid' },
      field('每场人数（1–50）', f.seats), field('每场时长，分钟（15–240）', f.slot),
      field('场次间隔，分钟（0–120）', f.gap), field('可提前预约的天数（1–60）', f.window),
      field('最晚提前几小时预约（0–168）', f.notice), field('开始前几小时内不能取消（0–168）', f.cancel)),
    h('div', { class: 'actions' }, h('label', { class: 'inline' }, f.active, '启用（停用后小程序不再显示，也不能预约）')),
    audiences.el, hours.el,
    h('p', { class: 'muted small' }, '按周开放的站点可在线预约；选“未公布”时只展示站点信息。'),
  ), async () => {
    const opt = (el) => el.value.trim() || null;
    const body = {
      name: f.name.value.trim(), unit: f.unit.value.trim(), region: f.region.value.trim(),
      address: opt(f.address), phone: opt(f.phone), note: opt(f.note),
      audiences: audiences.read(), hours: hours.read(),
      seats: Number(f.seats.value), slot_minutes: Number(f.slot.value), break_minutes: Number(f.gap.value),
      booking_window_days: Number(f.window.value), min_notice_hours: Number(f.notice.value),
      cancel_hours: Number(f.cancel.value), active: f.active.checked,
      counselor_ids: v.counselor_ids ?? [], // not edited here: kept as they were
    };
    return s ? api.put(`/admin/stations/${s.id}`, body) : api.post('/admin/stations', body);
  });
}

/** Asks, deletes, says so. Resolves true when deleted. */
async function removeStation(button, s) {
  if (!await confirmDialog(`删除站点“${s.name}”后，它将不再显示，未来的预约会被取消并通知预约人。确定删除吗？`, '删除')) return false;
  return !!await act(button, async () => {
    await api.del(`/admin/stations/${s.id}`);
    showInfo(`已删除站点“${s.name}”`);
    return true;
  });
}

async function list(view, ctx) {
  const box = h('div', {}, h('p', { class: 'muted' }, '正在加载…'));
  const load = async () => {
    const rows = await api.get('/admin/stations', null, { signal: ctx.signal });
    clear(box, table(columns, rows, { empty: '还没有站点，点击“新增站点”添加。' }));
  };
  const edit = async (s) => {
    if (await editStation(s)) {
      await act(null, load);
      showInfo('已保存');
    }
  };
  const columns = [
    { title: '名称', render: (s) => h('a', { href: `#/stations/${s.id}` }, s.name) },
    { title: '单位', render: (s) => s.unit },
    { title: '地区', render: (s) => s.region },
    { title: '每场人数', render: (s) => s.seats },
    { title: '时长', render: (s) => nowrap(h('span', {}, `${s.slot_minutes} 分钟`)) },
    { title: '可预约', render: (s) => yesNo(s.bookable, '可预约', '不可预约') },
    { title: '启用', render: (s) => yesNo(s.active, '启用', '已停用') },
    { title: '当前状态', render: (s) => s.status_text },
    { title: '操作', render: (s) => {
      const del = h('button', { type: 'button', class: 'danger', onclick: async () => { if (await removeStation(del, s)) await act(null, load); } }, '删除');
      return buttonRow(h('button', { type: 'button', onclick: () => edit(s) }, '编辑'), del);
    } },
  ];
  clear(view,
    h('h1', {}, '咨询站点'),
    h('div', { class: 'toolbar' },
      h('span', { class: 'muted' }, '点击站点名称查看停诊安排和每日预约名单。'),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'primary', onclick: () => edit(null) }, '新增站点')),
    h('div', { class: 'card' }, box));
  await load();
}

function facts(pairs) {
  return h('div', { class: 'form-grid' }, pairs.map(([k, v]) =>
    h('div', {}, h('label', {}, k), h('div', {}, v === null || v === undefined || v === '' ? '—' : v))));
}

async function detail(view, id, ctx) {
  const signal = ctx.signal;
  const summary = h('div', { class: 'card' });
  const closures = h('div');
  const sheet = h('div');
  const back = h('p', {}, h('a', { href: '#/stations' }, '← 返回站点列表'));

  async function loadSummary() {
    const s = (await api.get('/admin/stations', null, { signal })).find((x) => x.id === id);
    if (!s) {
      clear(view, back, h('p', { class: 'muted' }, '没有找到这个站点，它可能已被删除。'));
      return null;
    }
    const del = h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (await removeStation(del, s)) location.hash = '#/stations';
    } }, '删除');
    const edit = h('button', { type: 'button', onclick: async () => {
      if (await editStation(s)) { await act(null, loadSummary); await act(null, loadSheet); showInfo('已保存'); }
    } }, '编辑');
    clear(summary,
      h('div', { class: 'toolbar' }, h('h1', {}, s.name), yesNo(s.active, '启用', '已停用'),
        yesNo(s.bookable, '可预约', '不可预约'), h('span', { class: 'spacer' }), edit, del),
      facts([
        ['单位', s.unit], ['地区', s.region], ['地址', s.address], ['电话', s.phone],
        ['服务对象', s.audiences.map((a) => label('audience', a)).join('、')],
        ['当前状态', s.status_text], ['服务时间', hoursText(s.hours)],
        ['场次', `每场 ${s.slot_minutes} 分钟，间隔 ${s.break_minutes} 分钟，每场 ${s.seats} 人`],
        ['预约规则', `可提前 ${s.booking_window_days} 天预约，至少提前 ${s.min_notice_hours} 小时；开始前 ${s.cancel_hours} 小时内不能取消`],
        ['值班咨询师', `${(s.counselor_ids || []).length} 位`], ['备注', s.note],
      ]));
    return s;
  }

  // Closure days: list, add (cancels that day's bookings), remove.
  const cDate = h('input', { type: 'date', required: true, min: chinaDate() });
  const cReason = h('input', { required: true, maxlength: 100, placeholder: '如：院内培训，暂停一次' });
  const cButton = h('button', { type: 'submit', class: 'primary' }, '设置停诊');
  const cForm = h('form', {}, h('div', { class: 'form-grid' }, field('日期', cDate), field('原因（会告知被取消预约的人）', cReason)),
    h('div', { class: 'actions' }, cButton));
  const cList = h('div');
  cForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const date = cDate.value;
    if (!await confirmDialog(`设置停诊后，${date}（${weekday(date)}）的所有预约都会被取消，并通知预约人。确定设置吗？`, '设置停诊')) return;
    const out = await act(cButton, () => api.post(`/admin/stations/${id}/closures`, { date, reason: cReason.value.trim() }));
    if (!out) return;
    cForm.reset();
    const n = out.cancelled_bookings ?? 0;
    showInfo(`已设置 ${out.date} 停诊。` + (n ? `当天的 ${n} 个预约已取消，并已通知预约人。` : '当天没有需要取消的预约。'));
    await act(null, loadClosures);
    if (sDate.value === out.date) await act(null, loadSheet);
  });
  async function loadClosures() {
    const rows = await api.get(`/admin/stations/${id}/closures`, null, { signal });
    clear(cList, table([
      { title: '日期', render: (c) => nowrap(h('span', {}, `${c.date}（${weekday(c.date)}）`)) },
      { title: '原因', render: (c) => c.reason },
      { title: '操作', render: (c) => {
        const b = h('button', { type: 'button', onclick: async () => {
          if (!await confirmDialog(`取消 ${c.date} 的停诊后，当天重新开放预约；此前因停诊取消的预约不会恢复。确定吗？`, '恢复开放')) return;
          await act(b, async () => {
            await api.del(`/admin/stations/${id}/closures/${c.date}`);
            showInfo(`${c.date} 已恢复开放`);
            await loadClosures();
            if (sDate.value === c.date) await loadSheet();
          });
        } }, '恢复开放');
        return nowrap(b);
      } },
    ], rows, { empty: '今天起没有停诊安排。' }));
  }
  clear(closures, h('h2', {}, '停诊安排'), cList, h('h3', {}, '新增停诊'), cForm);

  // The day sheet. Each read is written to the audit log, so it is fetched on request only.
  const sDate = h('input', { type: 'date', value: chinaDate(), 'aria-label': '日期' });
  const sBox = h('div');
  let seq = 0;
  async function loadSheet() {
    if (!sDate.value) sDate.value = chinaDate();
    const mine = ++seq;
    const data = await api.get(`/staff/stations/${id}/day-sheet`, { date: sDate.value }, { signal });
    if (mine === seq) clear(sBox, renderSheet(data));
  }
  const go = (date) => { sDate.value = date; act(null, loadSheet); };
  sDate.addEventListener('change', () => act(null, loadSheet));

  function mark(b, attended, text, cls) {
    const btn = h('button', { type: 'button', class: cls, title: attended ? null : '90 天内 3 次未到场，将暂停其预约 30 天',
      onclick: () => act(btn, async () => { await api.post(`/bookings/${b.id}/attendance`, { attended }); await loadSheet(); }) }, text);
    return btn;
  }
  const bookingColumns = [
    { title: '座位', render: (b) => b.seat },
    { title: '姓名', render: (b) => b.name || '—' },
    { title: '电话', render: (b) => b.phone || '—' },
    { title: '备注', render: (b) => b.note || '—' },
    { title: '状态', render: (b) => badge('booking', b.status, { attended: 'ok', no_show: 'warn' }[b.status] || '') },
    { title: '到场情况', render: (b) => {
      if (b.status === 'booked') return buttonRow(mark(b, true, '已到场', 'primary'), mark(b, false, '未到场'));
      if (b.status === 'attended') return mark(b, false, '改为未到场', 'link');
      if (b.status === 'no_show') return mark(b, true, '改为已到场', 'link');
      return '';
    } },
  ];
  function renderSheet(data) {
    const span = (s) => `${fmtClock(s.start_at)}–${fmtClock(s.end_at)}`;
    const taken = data.sessions.filter((s) => s.bookings.length).sort((a, b) => a.start_at.localeCompare(b.start_at));
    const free = data.closed ? [] : data.sessions.filter((s) => !s.bookings.length);
    const people = taken.reduce((n, s) => n + s.bookings.length, 0);
    return [
      h('p', {}, h('strong', {}, `${data.date}（${weekday(data.date)}）`), ' ',
        h('span', { class: 'muted' }, data.closed || !data.sessions.length ? '' : `共 ${data.sessions.length} 场，已预约 ${people} 人`)),
      data.closed && h('p', {}, h('span', { class: 'badge warn' }, '停诊'), ' ', data.closed),
      !data.sessions.length && !data.closed && h('p', { class: 'muted' }, '这一天没有开放的场次。'),
      taken.map((s) => h('div', {},
        h('h3', {}, span(s), ' ', h('span', { class: 'muted small' }, `已约 ${s.bookings.length} / ${s.seats}`)),
        table(bookingColumns, [...s.bookings].sort((a, b) => a.seat - b.seat)))),
      free.length > 0 && h('p', { class: 'muted small' }, `暂无预约的场次（${free.length} 场）：${free.map(span).join('、')}`),
    ];
  }
  clear(sheet,
    h('div', { class: 'toolbar' }, h('h2', {}, '预约名单'), h('span', { class: 'spacer' }),
      h('button', { type: 'button', onclick: () => go(addDays(sDate.value || chinaDate(), -1)) }, '前一天'), sDate,
      h('button', { type: 'button', onclick: () => go(addDays(sDate.value || chinaDate(), 1)) }, '后一天'),
      h('button', { type: 'button', onclick: () => go(chinaDate()) }, '今天'),
      h('button', { type: 'button', onclick: (e) => act(e.currentTarget, loadSheet) }, '刷新')),
    h('p', { class: 'muted small' }, '名单含预约人留下的姓名和电话，仅用于联系和签到；每次查看都会记入审计日志。场次开始后可标记到场情况。'),
    sBox);

  clear(view, back, summary, h('div', { class: 'row' },
    h('div', { class: 'card grow' }, sheet), h('div', { class: 'card col-side' }, closures)));
  summary.append(h('p', { class: 'muted' }, '正在加载…'));
  if (!await loadSummary()) return;
  await Promise.all([loadClosures(), loadSheet()]);
}

export async function render(view, params, ctx) {
  const [id] = params;
  return id ? detail(view, id, ctx) : list(view, ctx);
}
