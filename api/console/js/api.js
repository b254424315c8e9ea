// The console's only way to the server: the public API under /api/v1, as any integrator
// would call it. Tokens live in sessionStorage (gone when the tab closes); an expired access
// token is refreshed once, transparently; every failure becomes an ApiError carrying the
// server's Chinese `message`, its `code` and the request id.

const BASE = '/api/v1';
const KEY = 'xinli.console.session';

export class ApiError extends Error {
  constructor(status, body) {
    // A validation failure names its fields in `details`: the person sees them all at once.
    const details = (body?.details || []).map((d) => d.message).filter(Boolean);
    super((body?.message || `请求失败（HTTP ${status}）`) + (details.length ? '：' + details.join('；') : ''));
    this.status = status;
    this.code = body?.code || 'http_' + status;
    this.requestId = body?.request_id || null;
    this.details = body?.details || null;
  }
}

let session = null;
try { session = JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { session = null; }
const listeners = new Set();

function save(next) {
  session = next;
  if (next) sessionStorage.setItem(KEY, JSON.stringify(next));
  else sessionStorage.removeItem(KEY);
  for (const fn of listeners) fn(session);
}

/** Called with the new session (or null) whenever it changes. */
export function onSession(fn) { listeners.add(fn); }
export function me() { return session?.user || null; }

function store(tokens) {
  save({ access: tokens.access_token, refresh: tokens.refresh_token, user: tokens.user });
}

export async function login(username, password) {
  const tokens = await request('POST', '/auth/staff', { body: { username, password }, anonymous: true });
  if (!['counselor', 'supervisor', 'admin'].includes(tokens.user?.role)) {
    throw new ApiError(403, { message: '该账号不能登录工作台' });
  }
  store(tokens);
  return tokens.user;
}

export async function logout() {
  const refresh = session?.refresh;
  save(null);
  if (refresh) {
    try { await request('POST', '/auth/logout', { body: { refresh_token: refresh }, anonymous: true }); } catch { /* already gone */ }
  }
}

let refreshing = null;
async function refresh() {
  if (!session?.refresh) return false;
  refreshing ??= request('POST', '/auth/refresh', { body: { refresh_token: session.refresh }, anonymous: true })
    .then((tokens) => { store(tokens); return true; })
    .catch((err) => { if (err.status === 401 || err.status === 403) save(null); return false; })
    .finally(() => { refreshing = null; });
  return refreshing;
}

function url(path, query) {
  const u = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, v);
  }
  return u;
}

async function request(method, path, { query, body, signal, anonymous = false, raw = false } = {}, retried = false) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (!anonymous && session?.access) headers.Authorization = 'Bearer ' + session.access;
  let res;
  try {
    res = await fetch(url(path, query), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, { message: '无法连接服务器，请检查网络后重试' });
  }
  if (res.status === 401 && !anonymous && !retried && session?.refresh) {
    if (await refresh()) return request(method, path, { query, body, signal, anonymous, raw }, true);
  }
  if (res.status === 401 && !anonymous) save(null);
  if (res.ok && raw) return res;
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const api = {
  get: (path, query, opts = {}) => request('GET', path, { ...opts, query }),
  post: (path, body = {}, opts = {}) => request('POST', path, { ...opts, body }),
  put: (path, body = {}, opts = {}) => request('PUT', path, { ...opts, body }),
  patch: (path, body = {}, opts = {}) => request('PATCH', path, { ...opts, body }),
  del: (path, opts = {}) => request('DELETE', path, opts),
  /** The raw Response (for images such as mini-program codes). */
  blob: async (path) => (await request('GET', path, { raw: true })).blob(),
};
