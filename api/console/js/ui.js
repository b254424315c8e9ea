// Small DOM helpers shared by every page: element builder, notices, China-time formatting,
// the labels of the API's closed sets, tables with paging, dialogs and bar charts (SVG).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat(Infinity)) if (c) el.append(c instanceof Node ? c : String(c));
  return el;
}

const notice = () => document.getElementById('notice');

/** Shows the API's Chinese message (and the request id, for support). */
export function showError(err) {
  if (err?.name === 'AbortError') return;
  const box = notice();
  const rid = err?.requestId ? h('span', { class: 'rid' }, '请求编号 ' + err.requestId) : null;
  clear(box, h('span', { class: 'msg' }, err?.message || String(err)), rid,
    h('button', { type: 'button', class: 'link', onclick: hideNotice }, '知道了'));
  box.className = '';
  box.hidden = false;
  box.dataset.code = err?.code || '';
  box.dataset.at = Date.now();
}

export function showInfo(text) {
  const box = notice();
  clear(box, h('span', { class: 'msg' }, text), h('button', { type: 'button', class: 'link', onclick: hideNotice }, '知道了'));
  box.className = 'info';
  box.hidden = false;
  box.dataset.code = '';
  box.dataset.at = Date.now();
}

export function hideNotice() { notice().hidden = true; }

/** On a page change: a notice from the page being left goes; one raised by the move stays. */
export function hideStaleNotice() {
  if (Date.now() - Number(notice().dataset.at || 0) > 1500) hideNotice();
}

/** Runs an action from a button: disables it meanwhile, shows any error. Returns the result or undefined. */
export async function act(button, fn) {
  if (button) button.disabled = true;
  try {
    const out = await fn();
    return out;
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

const TZ = 'Asia/Shanghai';
const dtf = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
const tf = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hour12: false });

export function fmtTime(iso) { return iso ? dtf.format(new Date(iso)) : '—'; }
export function fmtClock(iso) { return iso ? tf.format(new Date(iso)) : ''; }

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} 秒`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} 分钟`;
  const hrs = Math.floor(m / 60);
  return `${hrs} 小时 ${m % 60} 分钟`;
}

/** A count an admin may see; `null` is a cell hidden for being about fewer than 5 people. */
export function fmtCount(n) { return n === null || n === undefined ? '—（已隐藏）' : String(n); }

export function fmtRate(r) { return r === null || r === undefined ? '—' : (r * 100).toFixed(1) + '%'; }

/** Today (or a shifted day) in China time, as YYYY-MM-DD. */
export function chinaDate(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return new Intl.DateTimeFormat('sv-SE', { timeZone: TZ }).format(d);
}

/** A `datetime-local` value (read as China time) → RFC 3339 with +08:00. */
export function fromLocalInput(value) { return value ? value + ':00+08:00' : null; }
/** RFC 3339 → a `datetime-local` value in China time. */
export function toLocalInput(iso) {
  if (!iso) return '';
  const parts = new Intl.DateTimeFormat('sv-SE', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(iso));
  return parts.replace(' ', 'T');
}

/**
 * The words for the API's closed sets, from the server (`GET /labels`, the domain's own
 * labels), so that a status reads the same here as in the mini-program. Filled once at start
 * by `loadLabels`; each set keeps the server's order.
 */
export const LABELS = {};

/** The server's set names → the names the pages use. */
const LABEL_SETS = {
  consultation_status: 'status', priority: 'priority', sender: 'sender', article_status: 'articleStatus',
  article_kind: 'kind', audience: 'audience', lecture_status: 'lecture', booking_status: 'booking',
  risk_level: 'level', risk_source: 'source', staff_role: 'role', day: 'day', hours_kind: 'hoursKind',
  service: 'service',
};

export async function loadLabels(get) {
  const sets = await get('/labels', undefined, { anonymous: true });
  for (const [server, name] of Object.entries(LABEL_SETS)) {
    LABELS[name] = Object.fromEntries((sets[server] || []).map((l) => [l.value, l.label]));
  }
}

export function label(set, value) { return LABELS[set]?.[value] ?? value ?? '—'; }
export function badge(set, value, extra = '') { return h('span', { class: `badge ${value} ${extra}` }, label(set, value)); }

/**
 * A table: `columns` is [{ title, render(row) → node|string }]; `onRow` makes rows clickable.
 */
export function table(columns, rows, { onRow, empty = '暂无数据' } = {}) {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c.title)))),
    h('tbody', {}, rows.map((r) => h('tr', { class: onRow ? 'clickable' : null, onclick: onRow ? () => onRow(r) : null },
      columns.map((c) => h('td', {}, c.render(r)))))));
}

/** Prev/next for a `{page, page_size, total}` answer. */
export function pager(paged, go) {
  const pages = Math.max(1, Math.ceil(paged.total / paged.page_size));
  return h('div', { class: 'pager' },
    h('button', { type: 'button', disabled: paged.page <= 1, onclick: () => go(paged.page - 1) }, '上一页'),
    h('span', { class: 'muted' }, `第 ${paged.page} / ${pages} 页，共 ${paged.total} 条`),
    h('button', { type: 'button', disabled: paged.page >= pages, onclick: () => go(paged.page + 1) }, '下一页'));
}

/**
 * A modal form. `build(form)` fills it; resolves with `submit(form)`'s result, or null when
 * cancelled. A failure stays open with the API's message inside the dialog (the page's notice
 * is dimmed behind it).
 */
export function dialog(title, build, submit, { okText = '确定' } = {}) {
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog' });
    const ok = h('button', { type: 'submit', class: 'primary' }, okText);
    const problem = h('p', { class: 'problem', role: 'alert', hidden: true });
    const dlg = h('dialog', {}, h('h2', {}, title), form);
    build(form);
    form.append(problem, h('div', { class: 'actions' }, ok,
      h('button', { type: 'button', onclick: () => { dlg.close(); resolve(null); } }, '取消')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      problem.hidden = true;
      ok.disabled = true;
      try {
        const out = await submit(form);
        dlg.close();
        resolve(out);
      } catch (err) {
        showError(err);
        problem.textContent = err?.message || String(err);
        problem.hidden = false;
        problem.scrollIntoView({ block: 'nearest' });
      } finally {
        ok.disabled = false;
      }
    });
    dlg.addEventListener('close', () => { dlg.remove(); resolve(null); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** An inline confirmation (no native dialog: it would block the page). */
export function confirmDialog(text, okText = '确定') {
  return dialog('请确认', (f) => f.append(h('p', {}, text)), async () => true, { okText });
}

/**
 * What a detail page shows, loaded; on failure the API's message, `missing` and the way back
 * (`back()` builds the link) fill the view instead, and the result is null.
 */
export async function loadDetail(view, ctx, load, back, missing) {
  try {
    return await load();
  } catch (err) {
    if (ctx.signal.aborted) return null;
    showError(err);
    clear(view, back(), h('p', { class: 'muted' }, missing));
    return null;
  }
}

/** A field: label + control, for form grids. */
export function field(text, control) { return h('div', {}, h('label', {}, text), control); }

/**
 * A bar chart in SVG. `bars`: [{ label, value, alt? }]; `format` renders a value.
 */
export function barChart(bars, { height = 180, format = (v) => String(v), title = '' } = {}) {
  const ns = 'http://www.w3.org/2000/svg';
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const w = Math.max(320, bars.length * 56 + 20);
  const max = Math.max(1, ...bars.map((b) => b.value || 0));
  const svg = el('svg', { width: w, height: height + 40, viewBox: `0 0 ${w} ${height + 40}`, role: 'img', 'aria-label': title });
  bars.forEach((b, i) => {
    const x = 20 + i * 56;
    const bh = Math.round(((b.value || 0) / max) * (height - 20));
    const y = height - bh;
    svg.append(el('rect', { class: 'bar' + (b.alt ? ' alt' : ''), x, y, width: 36, height: bh, rx: 3 }));
    svg.append(el('text', { class: 'value', x: x + 18, y: y - 4, 'text-anchor': 'middle' }, b.value === null || b.value === undefined ? '—' : format(b.value)));
    svg.append(el('text', { x: x + 18, y: height + 16, 'text-anchor': 'middle' }, b.label));
  });
  return h('figure', { class: 'chart' }, title ? h('figcaption', { class: 'muted small' }, title) : null, svg);
}
