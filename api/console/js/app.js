// The console shell: login, the navigation each role sees, and a hash router. Each page is a
// module exporting `render(view, params, ctx)`; `ctx.signal` aborts when the page is left,
// and `ctx.every(ms, fn)` runs a refresh that stops with it.
import { api, login, logout, me, onSession } from './api.js';
import { h, clear, showError, hideNotice, hideStaleNotice, act, label, loadLabels } from './ui.js';

const PAGES = {
  counselor: [['#/workbench', '咨询工作台']],
  supervisor: [['#/alerts', '风险预警']],
  admin: [
    ['#/articles', '科普文章'],
    ['#/hotlines', '热线'],
    ['#/stations', '咨询站点'],
    ['#/lectures', '讲座申请'],
    ['#/stats', '统计'],
  ],
};

const ROUTES = [
  [/^#\/workbench(?:\/([\w-]+))?$/, 'counselor', () => import('./counselor.js')],
  [/^#\/alerts(?:\/([\w-]+))?$/, 'supervisor', () => import('./alerts.js')],
  [/^#\/articles(?:\/([\w-]+))?$/, 'admin', () => import('./articles.js')],
  [/^#\/hotlines$/, 'admin', () => import('./hotlines.js')],
  [/^#\/stations(?:\/([\w-]+))?$/, 'admin', () => import('./stations.js')],
  [/^#\/lectures(?:\/([\w-]+))?$/, 'admin', () => import('./lectures.js')],
  [/^#\/stats$/, 'admin', () => import('./stats.js')],
];

const view = document.getElementById('view');
let leave = null;

function home(user) { return PAGES[user.role]?.[0]?.[0] || '#/login'; }

function renderLogin() {
  document.getElementById('topbar').hidden = true;
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, '登录');
  const form = h('form', { class: 'card login', id: 'login-form' },
    h('h1', {}, '心嚟在线 · 工作台'),
    h('p', { class: 'muted' }, '咨询师、督导与运营人员登录'),
    h('label', { for: 'username' }, '账号'), user,
    h('label', { for: 'password' }, '密码'), pass,
    h('div', { class: 'actions' }, submit));
  user.id = 'username';
  pass.id = 'password';
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const who = await act(submit, () => login(user.value.trim(), pass.value));
    if (who) {
      hideNotice();
      location.hash = home(who);
    }
  });
  clear(view, form);
  user.focus();
}

function renderChrome(user) {
  const bar = document.getElementById('topbar');
  bar.hidden = false;
  clear(document.getElementById('nav'), (PAGES[user.role] || []).map(([href, text]) =>
    h('a', { href, class: location.hash.startsWith(href) ? 'current' : null }, text)));
  document.getElementById('who').textContent = `${user.display_name}（${label('role', user.role)}）`;
}

async function route() {
  if (leave) { leave(); leave = null; }
  hideStaleNotice();
  const user = me();
  const hash = location.hash || '';
  if (!user) {
    if (hash !== '#/login') { location.hash = '#/login'; return; }
    renderLogin();
    return;
  }
  if (hash === '#/login' || hash === '' || hash === '#/') { location.hash = home(user); return; }
  const found = ROUTES.find(([re]) => re.test(hash));
  if (!found || found[1] !== user.role) { location.hash = home(user); return; }
  renderChrome(user);
  const [re, , load] = found;
  const params = hash.match(re).slice(1);
  const controller = new AbortController();
  const timers = [];
  leave = () => { controller.abort(); timers.forEach(clearInterval); };
  const ctx = {
    signal: controller.signal,
    every(ms, fn) { timers.push(setInterval(() => { if (!document.hidden) fn(); }, ms)); },
  };
  clear(view, h('p', { class: 'muted' }, '正在加载…'));
  try {
    const page = await load();
    if (controller.signal.aborted) return;
    await page.render(view, params, ctx);
  } catch (err) {
    if (controller.signal.aborted) return;
    showError(err);
    clear(view, h('p', { class: 'muted' }, '页面没有加载成功。', h('a', { href: location.hash, onclick: (e) => { e.preventDefault(); route(); } }, '重试')));
  }
}

// Leave the page first: a logout asked for is not a lost session (no warning).
document.getElementById('logout').addEventListener('click', async () => {
  location.hash = '#/login';
  await logout();
});

onSession((s) => {
  if (!s && location.hash !== '#/login') {
    showError({ message: '登录已失效，请重新登录' });
    location.hash = '#/login';
  }
});

// Uncaught errors are kept for support and for the browser tests.
window.xinliConsole = { api, errors: [] };
window.addEventListener('error', (e) => window.xinliConsole.errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.xinliConsole.errors.push(String(e.reason?.message || e.reason)));

// The words for every status come from the server before the first page is drawn.
async function start() {
  try {
    await loadLabels(api.get);
  } catch (err) {
    showError(err);
    clear(view, h('p', { class: 'muted' }, '控制台没有加载成功。', h('a', { href: location.hash, onclick: (e) => { e.preventDefault(); start(); } }, '重试')));
    return;
  }
  window.addEventListener('hashchange', route);
  route();
}
start();
