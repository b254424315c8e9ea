// 咨询工作台 (#/workbench, #/workbench/<consultation id>): my status, the people I serve, the
// queue in the order claiming will give it, and the open conversation (long poll).
import { api } from './api.js';
import {
  h, clear, act, showError, showInfo, hideNotice, table, pager, dialog, field, badge, label,
  fmtTime, fmtClock, fmtDuration,
} from './ui.js';

const SEEN = 'xinli.console.seen';
const seen = () => JSON.parse(sessionStorage.getItem(SEEN) || '{}');
function markSeen(id, seq) {
  const all = seen();
  if ((all[id] || 0) < seq) { all[id] = seq; sessionStorage.setItem(SEEN, JSON.stringify(all)); }
}

export async function render(view, [openId], ctx) {
  const statusBox = h('div', { class: 'card', id: 'status-card' });
  const servingBox = h('div', { class: 'card', id: 'serving-card' });
  const queueBox = h('div', { class: 'card', id: 'queue-card' });
  const pane = h('div', { class: 'grow', id: 'conversation' });
  // With a conversation open, the queue stays in sight in the side column.
  clear(view, h('div', { class: 'row' }, h('div', { class: 'col-side' }, statusBox, servingBox, openId ? queueBox : null), pane));
  if (!openId) pane.append(queueBox);

  let queuePage = 1;
  let unread = {};

  async function loadStatus() {
    const s = await api.get('/counselor/status', {}, { signal: ctx.signal });
    const online = h('input', { type: 'checkbox', id: 'status-online', checked: s.online });
    const capacity = h('input', { type: 'number', id: 'status-capacity', min: 1, max: 10, value: s.capacity });
    const save = h('button', { type: 'button', id: 'status-save', class: 'primary' }, '保存');
    save.addEventListener('click', () => act(save, async () => {
      await api.put('/counselor/status', { online: online.checked, capacity: Number(capacity.value) });
      await loadStatus();
      showInfo(online.checked ? '已在线，可以领取来访者' : '已离线，不会再分配新的来访者');
    }));
    clear(statusBox, h('h2', {}, '我的状态'),
      h('div', { class: 'toolbar' },
        h('label', { class: 'inline' }, online, '在线接待'),
        h('label', { class: 'inline' }, '同时接待', capacity, '人'), save),
      h('p', { class: 'muted small', id: 'status-line' },
        `${s.online ? '在线' : '离线'} · 正在服务 ${s.active} / ${s.capacity}`));
  }

  async function loadServing() {
    const list = await api.get('/counselor/consultations', {}, { signal: ctx.signal });
    const marks = seen();
    await Promise.all(list.filter((c) => c.id !== openId).map(async (c) => {
      try {
        const page = await api.get(`/consultations/${c.id}/messages`, { after: marks[c.id] || 0 }, { signal: ctx.signal });
        unread[c.id] = page.items.filter((m) => m.sender === 'user').length;
      } catch (err) { if (err.name === 'AbortError') throw err; }
    }));
    const total = list.reduce((n, c) => n + (c.id === openId ? 0 : unread[c.id] || 0), 0);
    document.title = (total ? `(${total}) ` : '') + '心嚟在线 · 工作台';
    clear(servingBox, h('h2', {}, `我正在服务（${list.length}）`),
      list.length ? h('div', { id: 'serving-list' }, list.map((c) =>
        h('div', { class: 'serving-item' + (c.id === openId ? ' current' : ''), dataset: { id: c.id },
          onclick: () => { location.hash = '#/workbench/' + c.id; } },
        badge('priority', c.priority), h('span', { class: 'grow' }, c.client_nickname || '来访者', ' · ', c.topic),
        unread[c.id] && c.id !== openId ? h('span', { class: 'badge new', title: '新消息' }, unread[c.id]) : null)))
        : h('p', { class: 'muted' }, '暂无。领取下一位来访者开始服务。'));
  }

  async function loadQueue() {
    const page = await api.get('/counselor/queue', { page: queuePage, page_size: 20 }, { signal: ctx.signal });
    const claim = h('button', { type: 'button', id: 'claim-next', class: 'primary' }, '领取下一位');
    claim.addEventListener('click', () => act(claim, async () => {
      const res = await api.post('/counselor/queue/claim');
      if (!res) { showInfo('队列中暂时没有可领取的来访者'); return refresh(); }
      hideNotice();
      location.hash = '#/workbench/' + res.id;
    }));
    clear(queueBox,
      h('div', { class: 'toolbar' }, h('h2', {}, `等待队列（${page.total} 人）`), h('span', { class: 'spacer' }), claim),
      h('p', { class: 'muted small' }, '按领取顺序排列：先处理指定给我的，再按优先级与等待时间。'),
      h('div', { id: 'queue-list' }, page.items.length ? page.items.map(queueItem) : h('p', { class: 'muted' }, '目前没有人在等待。')),
      page.total > page.page_size ? pager(page, (p) => { queuePage = p; loadQueue().catch(showError); }) : null);
  }

  function queueItem(c) {
    return h('div', { class: 'queue-item', dataset: { id: c.id } },
      h('div', { class: 'toolbar' }, badge('priority', c.priority),
        c.assigned_to_me ? h('span', { class: 'badge warn' }, '转给我的') : null,
        h('strong', {}, c.topic), h('span', { class: 'muted' }, `已等待 ${fmtDuration(c.waited_seconds)}`)),
      c.priority_reason ? h('div', { class: 'muted small' }, '优先原因：' + c.priority_reason) : null,
      c.description ? h('div', { class: 'desc' }, c.description) : null);
  }

  async function refresh() {
    await Promise.all([loadStatus(), loadServing(), loadQueue()]);
  }

  await refresh();
  ctx.every(5000, () => refresh().catch(showError));
  if (openId) await conversation(pane, openId, ctx, () => loadServing().catch(showError));
}

async function conversation(pane, id, ctx, onChange) {
  const c = (await api.get('/counselor/consultations', {}, { signal: ctx.signal })).find((x) => x.id === id);
  if (!c) {
    clear(pane, h('div', { class: 'card' }, h('p', {}, '这次咨询已不在你的服务列表中（已结束或已转接）。'),
      h('a', { href: '#/workbench' }, '返回工作台')));
    return;
  }
  const chat = h('div', { class: 'chat', id: 'chat' });
  const newPill = h('button', { type: 'button', class: 'link small', hidden: true, onclick: () => { chat.scrollTop = chat.scrollHeight; newPill.hidden = true; } }, '有新消息 ↓');
  const text = h('textarea', { id: 'composer-text', placeholder: '输入回复，Ctrl+Enter 发送', maxlength: 2000 });
  const send = h('button', { type: 'button', id: 'send', class: 'primary' }, '发送');
  const closeBtn = h('button', { type: 'button', id: 'close-consultation', class: 'danger' }, '结束咨询');
  const transferBtn = h('button', { type: 'button', id: 'transfer' }, '转接');
  const assessBtn = h('button', { type: 'button', id: 'client-assessments' }, '查看来访者测评');
  const assessBox = h('div', { id: 'assessments' });
  const statusLine = h('span', { class: 'muted' });
  const composer = h('div', { class: 'composer' }, text, send);
  const rendered = new Set();
  let after = 0;

  clear(pane, h('div', { class: 'card' },
    h('div', { class: 'toolbar' }, h('h2', {}, c.topic), badge('priority', c.priority), statusLine,
      h('span', { class: 'spacer' }), assessBtn, transferBtn, closeBtn),
    h('p', { class: 'muted small' }, `来访者：${c.client_nickname || '匿名'} · 提交于 ${fmtTime(c.created_at)}`,
      c.priority_reason ? ` · 优先原因：${c.priority_reason}` : ''),
    c.description ? h('p', { class: 'desc' }, c.description) : null,
    chat, newPill, composer),
  h('div', { class: 'card' }, h('h2', {}, '来访者测评'), assessBox,
    h('p', { class: 'muted small' }, '仅在服务期间可查看；每次查看都会记入审计日志。')));

  function setStatus(status) {
    statusLine.textContent = label('status', status);
    const serving = status === 'active';
    for (const b of [send, closeBtn, transferBtn, assessBtn, text]) b.disabled = !serving;
    composer.hidden = !serving;
  }
  setStatus(c.status);

  function append(items) {
    const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
    for (const m of items) {
      if (rendered.has(m.seq)) continue;
      rendered.add(m.seq);
      chat.append(h('div', { class: 'msg ' + m.sender, dataset: { seq: m.seq } },
        m.sender === 'system' ? null : h('div', { class: 'meta' }, label('sender', m.sender), ' ', fmtClock(m.created_at)),
        m.text));
      after = Math.max(after, m.seq);
    }
    markSeen(id, after);
    if (atBottom || items.some((m) => m.sender === 'counselor')) chat.scrollTop = chat.scrollHeight;
    else if (items.length) newPill.hidden = false;
  }
  chat.addEventListener('scroll', () => {
    if (chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40) newPill.hidden = true;
  });

  async function write() {
    const body = text.value.trim();
    if (!body) return;
    await act(send, async () => {
      const m = await api.post(`/consultations/${id}/messages`, { text: body });
      text.value = '';
      append([m]);
    });
    text.focus();
  }
  send.addEventListener('click', write);
  text.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) write(); });

  closeBtn.addEventListener('click', async () => {
    const done = await dialog('结束咨询', (f) => f.append(
      field('咨询记录（仅自己可见，不会发给来访者，也不会给管理员）', h('textarea', { name: 'note', id: 'close-note', rows: 5, maxlength: 2000 }))),
    (f) => api.post(`/consultations/${id}/close`, { note: f.elements.note.value.trim() || undefined }), { okText: '结束' });
    if (done) { showInfo('本次咨询已结束'); location.hash = '#/workbench'; }
  });

  transferBtn.addEventListener('click', async () => {
    const done = await dialog('转接', (f) => f.append(
      h('label', { class: 'inline' }, h('input', { type: 'radio', name: 'to', value: 'pool', checked: true }), '退回等待队列（排在最前）'),
      h('label', { class: 'inline' }, h('input', { type: 'radio', name: 'to', value: 'one' }), '转给指定咨询师'),
      field('咨询师账号 ID', h('input', { name: 'counselor', placeholder: '例如 0193a5d2-…' }))),
    (f) => api.post(`/consultations/${id}/transfer`, {
      counselor_id: f.elements.to.value === 'one' ? f.elements.counselor.value.trim() : null,
    }), { okText: '转接' });
    if (done) { showInfo('已转接'); location.hash = '#/workbench'; }
  });

  assessBtn.addEventListener('click', () => act(assessBtn, async () => {
    const rows = await api.get(`/consultations/${id}/client-assessments`, {}, { signal: ctx.signal });
    clear(assessBox, table([
      { title: '量表', render: (r) => r.scale },
      { title: '得分', render: (r) => String(r.score) },
      { title: '结果', render: (r) => h('span', { class: 'badge' + (r.level >= 3 ? ' danger' : '') }, r.band_label) },
      { title: '需关注条目', render: (r) => (r.critical_items.length ? h('span', { class: 'badge danger' }, r.critical_items.map((i) => `第 ${i} 题`).join('、')) : '—') },
      { title: '时间', render: (r) => fmtTime(r.created_at) },
    ], rows, { empty: '来访者近期没有做过测评。' }));
  }));

  // The conversation: one long poll at a time; it ends when the page is left.
  let failures = 0;
  while (!ctx.signal.aborted) {
    try {
      const page = await api.get(`/consultations/${id}/messages`, { after, wait: after === 0 ? 0 : 25 }, { signal: ctx.signal });
      failures = 0;
      append(page.items);
      setStatus(page.status);
      if (page.status !== 'active') { onChange(); break; }
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (err.status === 404) {
        // No longer this counselor's: closed (here or elsewhere), transferred, or taken back
        // by the service. Not an error to shout about: the page says so.
        setStatus('closed');
        statusLine.textContent = '已不在你的服务中';
        onChange();
        return;
      }
      failures += 1;
      if (failures === 3) showError(err);
      await new Promise((r) => setTimeout(r, Math.min(15000, 1000 * 2 ** failures)));
    }
  }
}
