// 热线 (admin): the directory as stored, with add / edit / delete. Inactive lines stay here and
// are hidden from the public.
import { api } from './api.js';
import { h, clear, showInfo, act, table, pager, confirmDialog, field, label } from './ui.js';
import { hoursEditor, audiencePicker, editDialog, buttonRow } from './hours.js';

const PAGE_SIZE = 20;

function statusBadge(line) {
  const cls = line.open_now === true ? 'badge ok' : line.open_now === false ? 'badge' : 'badge warn';
  return h('span', { class: cls }, line.status_text);
}

/** The add/edit dialog; resolves with the saved HotlineView, or null when cancelled. */
function editHotline(line) {
  const v = line || {};
  const text = (attrs, value) => h('input', { ...attrs, value: value ?? '' });
  const f = {
    name: text({ required: true, maxlength: 64 }, v.name),
    number: text({ required: true, minlength: 3, maxlength: 20, pattern: '[0-9]+(-[0-9]+)*',
      placeholder: '如 962525 或 021-39590800', title: '数字，可用单个连字符分段，3–20 位' }, v.number),
    region: text({ required: true, maxlength: 32, placeholder: '如 上海市；全国性热线填“全国”' }, v.region),
    sort: h('input', { type: 'number', required: true, min: 0, max: 10000, step: 1, value: v.sort_order ?? 100 }),
    description: h('textarea', { maxlength: 500, rows: 3, value: v.description ?? '' }),
    crisis: h('input', { type: 'checkbox', checked: !!v.crisis }),
    active: h('input', { type: 'checkbox', checked: v.active ?? true }),
  };
  const dial = h('span', { class: 'muted small' });
  const showDial = () => { dial.textContent = `拨号时使用：${f.number.value.replace(/\D/g, '') || '—'}（由号码自动生成）`; };
  f.number.addEventListener('input', showDial);
  showDial();
  const audiences = audiencePicker(v.audiences);
  const hours = hoursEditor(v.hours, { note: true });

  return editDialog(line ? `编辑热线：${line.name}` : '新增热线', (form) => form.append(
    h('div', { class: 'form-grid' },
      field('名称', f.name), field('号码', f.number), field('地区', f.region), field('排序（小的在前，0–10000）', f.sort)),
    dial,
    field('简介（可选，500 字以内）', f.description),
    h('div', { class: 'actions' },
      h('label', { class: 'inline' }, f.crisis, '危机热线（在测评结果和咨询排队时推荐）'),
      h('label', { class: 'inline' }, f.active, '启用（停用后小程序不再显示）')),
    audiences.el, hours.el,
  ), async () => {
    const { note, ...hoursBody } = hours.read();
    const body = {
      name: f.name.value.trim(),
      number: f.number.value.trim(),
      region: f.region.value.trim(),
      description: f.description.value.trim(),
      crisis: f.crisis.checked,
      active: f.active.checked,
      sort_order: Number(f.sort.value),
      audiences: audiences.read(),
      hours: hoursBody,
      hours_note: note,
    };
    return line ? api.put(`/admin/hotlines/${line.id}`, body) : api.post('/admin/hotlines', body);
  });
}

export async function render(view, params, ctx) {
  let page = 1;
  const list = h('div', {}, h('p', { class: 'muted' }, '正在加载…'));

  async function load(p = page) {
    const data = await api.get('/admin/hotlines', { page: p, page_size: PAGE_SIZE }, { signal: ctx.signal });
    if (!data.items.length && data.page > 1) return load(data.page - 1); // the last row of a page was deleted
    page = data.page;
    clear(list, table(columns, data.items, { empty: '还没有热线，点击“新增热线”添加。' }),
      data.total > data.page_size ? pager(data, (n) => act(null, () => load(n))) : null);
  }

  async function edit(line) {
    if (await editHotline(line)) {
      await act(null, () => load());
      showInfo('已保存');
    }
  }

  async function remove(button, line) {
    if (!await confirmDialog(`删除热线“${line.name}”后，小程序中不再显示（拨打统计会保留）。确定删除吗？`, '删除')) return;
    await act(button, async () => {
      await api.del(`/admin/hotlines/${line.id}`);
      await load();
      showInfo(`已删除热线“${line.name}”`);
    });
  }

  const columns = [
    { title: '名称', render: (l) => l.name },
    { title: '号码', render: (l) => l.number },
    { title: '地区', render: (l) => l.region },
    { title: '服务对象', render: (l) => l.audiences.map((a) => label('audience', a)).join('、') },
    { title: '危机热线', render: (l) => (l.crisis ? h('span', { class: 'badge danger' }, '是') : h('span', { class: 'muted' }, '否')) },
    { title: '启用', render: (l) => (l.active ? h('span', { class: 'badge ok' }, '启用') : h('span', { class: 'badge' }, '已停用')) },
    { title: '当前状态', render: statusBadge },
    { title: '排序', render: (l) => l.sort_order },
    { title: '操作', render: (l) => {
      const del = h('button', { type: 'button', class: 'danger', onclick: () => remove(del, l) }, '删除');
      return buttonRow(h('button', { type: 'button', onclick: () => edit(l) }, '编辑'), del);
    } },
  ];

  clear(view,
    h('h1', {}, '热线'),
    h('div', { class: 'toolbar' },
      h('span', { class: 'muted' }, '小程序按“正在服务”优先、再按排序显示；停用的热线不对外显示。'),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'primary', onclick: () => edit(null) }, '新增热线')),
    h('div', { class: 'card' }, list));
  await load(1);
}
