// Parts shared by the hotline and station pages: the weekly-hours editor (HoursView in,
// HoursBody out), the audience checkboxes, a readable summary of hours, a table cell's button
// row, and a wide edit dialog.
import { h, dialog, label, LABELS } from './ui.js';

// Read when drawn: the labels arrive from the server when the console starts.
const days = () => Object.keys(LABELS.day);
const CLOCK = '([01][0-9]|2[0-3]):[0-5][0-9]';
const CLOCK_END = `(${CLOCK}|24:00)`;

/** "周一 09:00–12:00、14:30–17:30；周三 …", or the label of always/unknown. */
export function hoursText(hours) {
  if (hours?.kind !== 'weekly') return label('hoursKind', hours?.kind);
  const byDay = days().map((d) => [d, hours.windows.filter((w) => w.day === d)]).filter(([, ws]) => ws.length);
  if (!byDay.length) return '未设置时段';
  return byDay.map(([d, ws]) => `${label('day', d)} ${ws.map((w) => `${w.start}–${w.end}`).join('、')}`).join('；');
}

function timeInput(cls, value, pattern) {
  return h('input', { class: cls, value, required: true, pattern, size: 5, maxlength: 5, placeholder: '09:00',
    title: '请按“时:分”填写，如 09:00；结束可填 24:00' });
}

function windowRow(w) {
  const row = h('div', { class: 'toolbar window' },
    h('select', { class: 'day', 'aria-label': '星期' },
      days().map((d) => h('option', { value: d, selected: d === w.day }, label('day', d)))),
    timeInput('start', w.start, CLOCK), h('span', { class: 'muted' }, '至'), timeInput('end', w.end, CLOCK_END),
    h('button', { type: 'button', class: 'danger', onclick: () => row.remove() }, '移除'));
  return row;
}

const readRow = (r) => ({
  day: r.querySelector('.day').value,
  start: r.querySelector('.start').value.trim(),
  end: r.querySelector('.end').value.trim(),
});

/**
 * The hours editor. `kinds`: the kinds offered; `note`: also edit the hours note; `overnight`:
 * whether a window may cross midnight (hotlines yes, stations no — only the hint differs).
 * Returns { el, read() }; read() gives a HoursBody (with `note` when asked) or throws.
 */
export function hoursEditor(hours, { kinds = Object.keys(LABELS.hoursKind), note = false, overnight = true } = {}) {
  const start = kinds.includes(hours?.kind) ? hours.kind : kinds[0];
  const kind = h('select', { 'aria-label': '服务时间类型' },
    kinds.map((k) => h('option', { value: k, selected: k === start }, label('hoursKind', k))));
  const rows = h('div', {}, (hours?.kind === 'weekly' ? hours.windows : []).map(windowRow));
  const add = () => {
    const last = rows.lastElementChild ? readRow(rows.lastElementChild) : null;
    const day = last ? days()[(days().indexOf(last.day) + 1) % 7] : 'mon';
    rows.append(windowRow({ day, start: last?.start || '09:00', end: last?.end || '17:00' }));
  };
  // A fieldset: when disabled (kind is not weekly) its inputs are left out of form validation.
  const weekly = h('fieldset', {},
    h('p', { class: 'muted small' }, overnight ? '中国时间。结束不晚于开始表示跨过午夜（如 22:00 至 02:00）。'
      : '中国时间。每个时段须在同一天内，结束可填 24:00。'),
    rows, h('button', { type: 'button', onclick: add }, '添加时段'));
  Object.assign(weekly.style, { border: '0', padding: '0', margin: '0' });
  const sync = () => {
    weekly.disabled = weekly.hidden = kind.value !== 'weekly';
    if (kind.value === 'weekly' && !rows.children.length) add();
  };
  kind.addEventListener('change', sync);
  sync();
  const noteInput = note ? h('input', { maxlength: 200, value: hours?.note ?? '', placeholder: '如：节假日除外，或时间的信息来源' }) : null;
  const el = h('div', {}, h('label', {}, '服务时间'), kind, weekly,
    noteInput && h('div', {}, h('label', {}, '时间说明（可选）'), noteInput));
  if (noteInput) noteInput.style.width = '100%';
  return {
    el,
    read() {
      const body = { kind: kind.value };
      if (kind.value === 'weekly') {
        body.windows = [...rows.children].map(readRow);
        if (!body.windows.length) throw new Error('请至少添加一个开放时段');
      }
      if (noteInput) body.note = noteInput.value.trim() || null;
      return body;
    },
  };
}

/** Checkboxes over LABELS.audience. Returns { el, read() }; read() throws when none is ticked. */
export function audiencePicker(selected = ['general']) {
  const boxes = Object.keys(LABELS.audience).map((a) => h('input', { type: 'checkbox', value: a, checked: selected.includes(a) }));
  return {
    el: h('div', {}, h('label', {}, '服务对象'), boxes.map((b) => h('label', { class: 'inline' }, b, label('audience', b.value)))),
    read() {
      const out = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!out.length) throw new Error('请至少选择一个服务对象');
      return out;
    },
  };
}

/** Buttons side by side in a table cell, never wrapped. */
export function buttonRow(...buttons) {
  const row = h('div', { class: 'row' }, buttons);
  Object.assign(row.style, { gap: '6px', whiteSpace: 'nowrap' });
  return row;
}

/** ui.dialog for a long edit form: wide enough for a form grid. `submit(form)` saves and returns the saved record. */
export function editDialog(title, build, submit) {
  return dialog(title, (form) => {
    form.style.width = 'min(780px, calc(100vw - 80px))';
    build(form);
  }, submit, { okText: '保存' });
}
