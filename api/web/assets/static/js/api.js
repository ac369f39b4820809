// api.js: what both pages share: a fetch wrapper for API.md's JSON routes,
// the signed-in session kept in localStorage, errors in plain words, a tiny
// DOM builder and number/date formatting.

/** ApiError is a non-2xx reply: API.md's {"error": {code, message, details}}. */
export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.retryAfter = retryAfter;
  }
}

/**
 * call sends one JSON request and resolves to the decoded reply, or rejects
 * with an ApiError (status 0, code "network" when the server is unreachable).
 */
export async function call(method, path, { body, token, headers } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (token) init.headers.Authorization = 'Bearer ' + token;
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(resp.status, e.code || 'http_' + resp.status, e.message || resp.statusText,
      e.details, resp.headers.get('Retry-After'));
  }
  return data;
}

/** plainWords turns an error into a sentence a ticket buyer understands. */
export function plainWords(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong in this page: ' + (err && err.message || err);
  switch (err.code) {
    case 'network': return err.message;
    case 'unauthenticated': return 'Please sign in first (your session may have ended).';
    case 'forbidden': return 'Your account is not allowed to do that.';
    case 'hold_expired': return 'Your hold ran out before payment, so the seats went back on sale. Please pick seats again.';
    case 'payment_failed': return 'Your card was declined and nothing was charged. Try another card before your hold runs out.';
    case 'seat_unavailable': return 'Some of those seats were taken by someone else meanwhile. Please pick other seats.';
    case 'booking_state': return 'This booking can no longer be changed: ' + err.message;
    case 'queue_required': return 'This event has a waiting room; you need to queue before holding seats.';
    case 'not_found': return 'That could not be found; it may have been removed.';
    case 'rate_limited': return `Too many requests. Wait ${err.retryAfter || 'a few'} seconds and try again.`;
    case 'unavailable': return 'The booking service is briefly unavailable. Nothing was changed; please try again in a moment.';
    case 'invalid_argument': return 'That was not accepted: ' + err.message;
    default: return 'Something went wrong (' + err.code + '): ' + err.message;
  }
}

/** Session is a development sign-in kept in localStorage under key. */
export class Session {
  constructor(key) {
    this.key = key;
    this.token = null;
    try {
      const s = JSON.parse(localStorage.getItem(key) || 'null');
      if (s && s.token && tokenExpiry(s.token) > Date.now() + 5000) Object.assign(this, s);
    } catch { /* a garbled entry is no session */ }
  }
  get signedIn() { return !!this.token && tokenExpiry(this.token) > Date.now(); }
  /** signIn asks POST /auth/token (development mode) for a token. */
  async signIn(email, name, roles, orgId) {
    const body = { email, name: name || email.split('@')[0] };
    if (roles) body.roles = roles;
    if (orgId) body.org_id = orgId; // an organiser of that organisation (API.md Roles)
    const r = await call('POST', '/auth/token', { body });
    const org_id = orgId || '';
    Object.assign(this, { token: r.token, user_id: r.user_id, email, name: body.name, org_id });
    localStorage.setItem(this.key, JSON.stringify({ token: r.token, user_id: r.user_id, email, name: body.name, org_id }));
  }
  signOut() {
    this.token = null;
    localStorage.removeItem(this.key);
  }
}

/** tokenExpiry reads a JWT's exp claim in milliseconds (0 when unreadable). */
function tokenExpiry(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)).exp * 1000;
  } catch {
    return 0;
  }
}

/** h builds an element: h('a', {href, onclick}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** $ is document.getElementById. */
export const $ = (id) => document.getElementById(id);

/**
 * sizedCanvas sizes canvas c's backing store to its CSS box at the device's
 * pixel ratio (sharp on high-DPI screens) and clears it, so that drawing
 * code works in CSS pixels: { ctx, w, h }, or null while c has no size
 * (hidden).
 */
export function sizedCanvas(c) {
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth;
  const h = c.clientHeight;
  if (!w || !h) return null;
  c.width = Math.round(w * dpr);
  c.height = Math.round(h * dpr);
  const ctx = c.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

/** money formats API.md's decimal string ("149.50") in its currency. */
export function money(amount, currency) {
  const n = Number(amount);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'EUR' }).format(n);
  } catch {
    return `${n.toFixed(2)} ${currency || ''}`.trim();
  }
}

/** when formats an RFC 3339 time for people, in their time zone. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** uuid is a random RFC 4122 v4 ID (crypto.randomUUID needs HTTPS or localhost). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Notice shows one message at a time in an element, with a tone. */
export class Notice {
  constructor(el) {
    this.el = el;
    this.timer = 0;
    el.title = 'Click to dismiss';
    el.addEventListener('click', () => this.clear());
  }
  show(text, tone = 'info', ms = 0) {
    clearTimeout(this.timer);
    this.el.textContent = text;
    this.el.dataset.tone = tone;
    this.el.hidden = false;
    if (ms) this.timer = setTimeout(() => this.clear(), ms);
  }
  error(err) { this.show(typeof err === 'string' ? err : plainWords(err), 'error'); }
  clear() { this.el.hidden = true; this.el.textContent = ''; }
}

/** eventNames remembers event names seen in this browser, for "My bookings". */
export const eventNames = {
  get(id) {
    try { return JSON.parse(localStorage.getItem('boxoffice.events') || '{}')[id]; } catch { return undefined; }
  },
  put(id, name) {
    try {
      const m = JSON.parse(localStorage.getItem('boxoffice.events') || '{}');
      if (m[id] === name) return;
      m[id] = name;
      localStorage.setItem('boxoffice.events', JSON.stringify(m));
    } catch { /* storage full or off: names are a nicety */ }
  },
};
