// 风险预警 (supervisor): duty, the alerts (refreshed every 10 s), and one alert with the words
// that raised it (an audited read) and its acknowledgement.
import { api } from './api.js';
import {
  h, clear, showError, showInfo, act, loadDetail, table, pager, confirmDialog, field, fmtTime, fmtClock, label, badge,
} from './ui.js';

const FILTERS = { open: '待确认', acknowledged: '已确认', all: '全部' };
const list = { status: 'open', page: 1 }; // kept while the console is open
const since = Date.now(); // alerts raised after the console opened are marked 新 until opened
const opened = new Set();

export async function render(view, [id], ctx) {
  if (id) await renderDetail(view, id, ctx);
  else await renderList(view, ctx);
}

/** The level in the server's own words for supervisors (`level_label`). */
const level = (a) => h('span', { class: `badge ${a.level}` }, a.level_label || label('level', a.level));

const facts = (rows) => h('table', {}, h('tbody', {}, rows.filter(Boolean).map(([k, v]) =>
  h('tr', {}, h('th', {}, k), h('td', {}, v ?? '—')))));

const consultation = (c) => (c
  ? [c.topic, ' ', badge('priority', c.priority), ' ', label('status', c.status), h('div', { class: 'muted small' }, c.counselor_name ? `咨询师：${c.counselor_name}` : '尚无咨询师接待')]
  : h('span', { class: 'muted' }, '咨询已不存在'));

const acknowledged = (a) => (a.acknowledged_at
  ? [h('span', { class: 'badge ok' }, '已确认'), h('div', { class: 'muted small' }, `${a.acknowledged_by || '—'} · ${fmtTime(a.acknowledged_at)}`)]
  : h('span', { class: 'badge danger' }, '待确认'));

// ——— the list ———

async function renderList(view, ctx) {
  const duty = h('div', { class: 'toolbar' });
  const filter = h('select', { onchange: () => { list.status = filter.value; list.page = 1; load(); } },
    Object.entries(FILTERS).map(([v, t]) => h('option', { value: v, selected: v === list.status }, t)));
  const stamp = h('span', { class: 'muted small' });
  const body = h('div', {});
  clear(view,
    h('h1', {}, '风险预警'),
    h('section', { class: 'card' }, duty),
    h('div', { class: 'toolbar' }, h('label', { class: 'inline' }, '显示', filter), h('span', { class: 'spacer' }), stamp),
    h('div', { class: 'card' }, body),
    h('p', { class: 'muted small' }, '列表只显示风险词库中匹配到的词语。打开一条预警会显示触发它的原话，查看记录将写入审计日志。'));

  let latest = 0; // a slow answer must not replace a newer one
  async function load() {
    const mine = ++latest;
    try {
      const paged = await api.get('/supervisor/alerts', { status: list.status, page: list.page }, { signal: ctx.signal });
      if (mine !== latest) return;
      clear(body,
        table([
          { title: '级别', render: level },
          { title: '匹配词', render: (a) => a.matched },
          { title: '来源', render: (a) => label('source', a.source) },
          { title: '咨询', render: (a) => consultation(a.consultation) },
          { title: '发生时间', render: (a) => [fmtTime(a.created_at), isNew(a) ? [' ', h('span', { class: 'badge new' }, '新')] : null] },
          { title: '升级', render: escalation },
          { title: '确认', render: acknowledged },
        ], paged.items, { onRow: (a) => { location.hash = '#/alerts/' + a.id; }, empty: emptyText() }),
        paged.total > paged.page_size ? pager(paged, (p) => { list.page = p; load(); }) : null);
      stamp.textContent = `每 10 秒自动刷新 · 最近更新 ${new Date().toLocaleTimeString('zh-CN', { hour12: false })}`;
    } catch (err) {
      showError(err);
    }
  }

  async function setDuty(on, button) {
    if (!on && !(await confirmDialog('结束值班后，新的预警会立即升级给所有督导；如您是最后一位值班督导，未确认的预警也会一并升级。确定结束值班吗？', '结束值班'))) return;
    const next = await act(button, () => api.put('/supervisor/status', { on_duty: on }));
    if (!next) return;
    showDuty(next.on_duty);
    showInfo(next.on_duty ? '已开始值班，新的预警会立即显示在这里' : '已结束值班');
    load();
  }

  function showDuty(on) {
    const button = h('button', { type: 'button', class: on ? null : 'primary' }, on ? '结束值班' : '开始值班');
    button.addEventListener('click', () => setDuty(!on, button));
    clear(duty,
      h('strong', {}, '值班状态'), h('span', { class: on ? 'badge ok' : 'badge' }, on ? '值班中' : '未值班'),
      h('span', { class: 'muted small' }, on
        ? '值班时，每条新预警都会立即显示给您。'
        : '未值班时，只显示已升级的预警（超时未确认，或发生时无人值班）和已确认的记录。'),
      h('span', { class: 'spacer' }), button);
  }

  ctx.every(10000, load);
  await Promise.all([load(), api.get('/supervisor/status', null, { signal: ctx.signal }).then((s) => showDuty(s.on_duty), showError)]);
}

function isNew(a) { return !a.acknowledged_at && !opened.has(a.id) && Date.parse(a.created_at) > since; }

function escalation(a) {
  if (a.escalated) return h('span', { class: 'badge warn' }, '已升级');
  if (a.acknowledged_at) return h('span', { class: 'muted' }, '—');
  if (Date.parse(a.escalate_at) <= Date.now()) return h('span', { class: 'muted small' }, '即将升级');
  return h('span', { class: 'muted small' }, `${fmtClock(a.escalate_at)} 前未确认将升级`);
}

function emptyText() {
  return list.status === 'open' ? '目前没有待确认的预警' : '没有符合条件的预警';
}

// ——— one alert ———

const back = () => h('p', {}, h('a', { href: '#/alerts' }, '← 返回预警列表'));

async function renderDetail(view, id, ctx) {
  const d = await loadDetail(view, ctx, () => api.get('/supervisor/alerts/' + encodeURIComponent(id), null, { signal: ctx.signal }),
    back, '无法打开这条预警（未值班时，只能查看已升级或已确认的预警）。');
  if (!d) return;
  opened.add(id);
  showAlert(view, d.alert, d.text);
}

function showAlert(view, a, text) {
  const c = a.consultation;
  clear(view,
    back(),
    h('h1', {}, '风险预警 ', level(a)),
    h('div', { class: 'row' },
      h('div', { class: 'grow' },
        h('section', { class: 'card' }, h('h2', {}, '触发预警的原话'),
          h('p', { class: 'muted small' }, '本次查看已记入审计日志（查看人、时间、所属咨询）。原话仅用于评估风险，请勿转述给无关人员。'),
          text
            ? h('blockquote', { style: 'white-space: pre-wrap; margin: 0; padding: 10px 12px; background: #fdf6f5; border-left: 3px solid #c0392b; border-radius: 4px' }, text)
            : h('p', { class: 'muted' }, a.source === 'assessment' ? '此预警由测评中的危机条目触发，没有原话。' : '原话已不可查看（账号已删除或超过保存期限）。')),
        h('section', { class: 'card' }, h('h2', {}, '预警信息'), facts([
          ['级别', level(a)],
          ['匹配词', a.matched],
          ['来源', label('source', a.source)],
          ['发生时间', fmtTime(a.created_at)],
          ['升级', a.escalated ? '已升级，所有督导可见' : `未升级（若 ${fmtTime(a.escalate_at)} 前仍未确认，将升级给所有督导）`],
          ['咨询主题', c ? c.topic : '咨询已不存在'],
          c && ['优先级', badge('priority', c.priority)],
          c && ['咨询状态', label('status', c.status)],
          c && ['咨询师', c.counselor_name || '尚无咨询师接待'],
          c && ['咨询发起时间', fmtTime(c.created_at)],
        ]))),
      h('div', { class: 'col-side' }, ackCard(a, (next) => showAlert(view, next, text)))));
}

function ackCard(a, rerender) {
  const card = h('section', { class: 'card' }, h('h2', {}, '确认处理'));
  if (a.acknowledged_at) {
    card.append(facts([['确认人', a.acknowledged_by], ['确认时间', fmtTime(a.acknowledged_at)], ['处理记录', a.note || '（未填写）']]));
    return card;
  }
  const note = h('textarea', { rows: 4, maxlength: 500, placeholder: '如：已电话联系，本人安全，咨询师已接入' });
  const submit = h('button', { type: 'submit', class: 'primary' }, '确认已处理');
  const form = h('form', {},
    h('p', { class: 'muted small' }, '确认后，此预警不再升级，其他督导会看到由您处理。'),
    field('处理记录（选填，最多 500 字）', note),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const next = await api.post(`/supervisor/alerts/${a.id}/ack`, { note: note.value.trim() || null });
      showInfo('已确认此预警');
      rerender(next);
    } catch (err) {
      if (err?.details?.length) err.message += '：' + err.details.map((d) => d.message).join('；');
      showError(err);
      if (err?.code === 'alert_acknowledged') {
        clear(card, h('h2', {}, '确认处理'), h('p', {}, '此预警已由其他督导确认。'), back());
      }
    } finally {
      submit.disabled = false;
    }
  });
  card.append(form);
  return card;
}
