// The one way the UI talks to netroot: the REST API under /api/v1 with a bearer token.
// The token lives in sessionStorage only (gone when the tab closes), never in localStorage.

const BASE = '/api/v1';
const KEY = 'netroot.token';

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {string|undefined} field */
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
  /** The message without its leading "field: " (the UI shows it beside that field). */
  get fieldMessage() {
    return this.field && this.message.startsWith(`${this.field}: `) ? this.message.slice(this.field.length + 2) : this.message;
  }
  /** True for "this route does not exist yet" (feature not configured), not "no such node". */
  get missingRoute() {
    return this.status === 404 && /^no API route/.test(this.message);
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(KEY);
  },
  set token(t) {
    if (t) sessionStorage.setItem(KEY, t);
    else sessionStorage.removeItem(KEY);
  },
  /** {name, role} once known; role 'unknown' when the server has no /whoami (then buttons show, the API still refuses). */
  who: null,
  get canWrite() {
    return !this.who || this.who.role !== 'readonly';
  },
};

/** Listeners for 401 (token revoked or wrong): the app signs out. */
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

export function authHeaders(token = session.token) {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Calls the API. Resolves to the parsed JSON body (undefined for 204); rejects with ApiError
 * (network failures become status 0, code 'network').
 */
export async function api(method, path, body, opts = {}) {
  const headers = { ...authHeaders(opts.token), accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: opts.signal });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'cannot reach the netroot server (network error)');
  }
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: `http_${res.status}`, message: `${res.status} ${res.statusText}` };
    const e = new ApiError(res.status, err.code, err.message, err.field);
    if (res.status === 401 && !opts.token) for (const fn of unauthorizedListeners) fn(e);
    throw e;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);

/** Query string from an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** Path segment for a node key (MAC or FQDN). */
export const enc = encodeURIComponent;

/** Checks a token and learns its name and role. Throws ApiError(401) when the token is wrong. */
export async function signIn(token) {
  // /stats needs a valid token of any role: it proves the token before it is stored.
  await get('/stats', { token });
  let who = { name: '', role: 'unknown' };
  try {
    who = await get('/whoami', { token });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    who.role = await probeRole(token);
  }
  session.token = token;
  session.who = who;
  return who;
}

/**
 * Without /whoami: a write with an empty body changes nothing, and the API checks the role before
 * the body (403 for read-only tokens, 400 "required" for admin ones).
 */
async function probeRole(token) {
  try {
    await api('POST', '/nodes', {}, { token });
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return 'readonly';
    if (e instanceof ApiError && e.status === 400) return 'admin';
  }
  return 'unknown';
}
