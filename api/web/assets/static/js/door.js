// door.js: the door page (GET /door/). Door staff pick the event and their
// gate, sign in as scanner, and check tickets with the camera (jsQR reads
// the QR code from the video) or a typed or pasted code. Online, every
// scan is POST /checkin and the server's answer is shown. When the server
// cannot be reached, the page checks the code's signature itself against
// the cached ticket keys (GET /tickets/keys), admits it provisionally,
// queues the scan with its gate and time, and syncs the queue when the
// network returns; what the server refuses then (a ticket another gate
// scanned first) is listed under "Sync reports".

import { call, ApiError, Session, Notice, $, h, plainWords, uuid } from './api.js';
import { parseCode, KeyRing, InvalidCode } from './ticketcode.js';
import { store, ticketKey } from './doorstore.js';

const session = new Session('boxoffice.door.session');
const notice = new Notice($('notice'));
/**
 * CHECKIN_TIMEOUT bounds a scan's wait for the server before it is queued;
 * localStorage "boxoffice.door.checkin_timeout_ms" overrides it (a slow
 * link, or a test that must never take the offline path by accident).
 */
const CHECKIN_TIMEOUT = 8000;
/** SYNC_EVERY is how often a non-empty queue is retried, beside the online event. */
const SYNC_EVERY = 5000;
/**
 * SAME_CODE_GAP: the camera reads the same code again only after this many
 * frames in a row without it (about a second); counted in frames, not
 * time, so that a busy device never turns one held-up ticket into two scans.
 */
const SAME_CODE_GAP = 8;
const MAX_HISTORY = 50;

let ring = new KeyRing();
let syncing = false;
let checking = false;

// ---- the answer --------------------------------------------------------

/** seatLabel is "Section A · Row 3 · Seat 12" (parts that exist). */
function seatLabel(t) {
  const parts = [];
  if (t.section) parts.push('Section ' + t.section);
  if (t.row) parts.push('Row ' + t.row);
  if (t.seat) parts.push('Seat ' + t.seat);
  return parts.join(' · ') || 'General admission';
}

/** clock formats a time as the door needs it: the time, and the day if not today. */
function clock(iso) {
  if (!iso) return 'an earlier time';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const t = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return d.toDateString() === new Date().toDateString() ? t : `${d.toLocaleDateString()} ${t}`;
}

/**
 * earlier describes a previous admission: "at 19:02:11 at gate North"; the
 * time is when it was scanned (scanned_at, for a scan made offline) or else
 * when the server admitted it.
 */
function earlier(at, gate, lead = 'Already') {
  return `${lead} admitted at ${clock(at)}${gate ? ' at gate ' + gate : ''}`;
}

/**
 * show puts the big answer on screen and in the history.
 * verdict: admitted | refused | error; reason: a short code for tests
 * (admitted, offline, already_admitted, invalid_ticket, ticket_revoked,
 * wrong_event, ...).
 */
function show(verdict, reason, title, seat, text, ticket) {
  const v = $('verdict');
  v.dataset.verdict = verdict;
  v.dataset.reason = reason;
  v.dataset.ticket = ticket || '';
  v.dataset.seq = String(Number(v.dataset.seq || 0) + 1);
  $('verdict-title').textContent = title;
  $('verdict-seat').textContent = seat || '';
  $('verdict-reason').textContent = text || '';
  const item = h('li', { dataset: { verdict, reason, ticket: ticket || '' } },
    h('span', { class: 'dot' }), h('strong', {}, title), ' ', seat || '', text ? ` (${text})` : '',
    h('span', { class: 'muted small' }, ' ' + clock(new Date().toISOString())));
  $('history').prepend(item);
  while ($('history').children.length > MAX_HISTORY) $('history').lastChild.remove();
}

// ---- checking a code ---------------------------------------------------

/** offlineError says whether err means "the server did not answer". */
function offlineError(err) {
  return err instanceof ApiError && (err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504);
}

/** check handles one scanned or typed code. */
async function check(text) {
  const eventId = store.eventId;
  if (!eventId) {
    show('error', 'no_event', 'Pick the event first', '', 'choose the event this door admits to');
    return;
  }
  let c;
  try {
    c = parseCode(text);
  } catch (e) {
    show('refused', 'invalid_ticket', 'Invalid ticket', '', e.message);
    return;
  }
  if (c.eventId !== eventId) {
    show('refused', 'wrong_event', 'Wrong event', seatLabel(c), 'this ticket is for another event', '');
    return;
  }
  const key = ticketKey(c.eventId, c.index, c.bookingId);
  const seen = store.admitted(key);
  if (seen) {
    show('refused', 'already_admitted', 'Already admitted', seatLabel(c), earlier(seen.at, seen.gate), key);
    return;
  }
  const gate = gateName(store.gate);
  const scannedAt = new Date().toISOString();
  if (!navigator.onLine) {
    await admitOffline(c, key, gate, scannedAt);
    return;
  }
  if (!session.signedIn) {
    show('error', 'unauthenticated', 'Sign in first', seatLabel(c), 'sign in as door staff to check tickets');
    return;
  }
  const body = { code: c.code };
  if (gate) body.gate = gate;
  try {
    const r = await checkin(body);
    store.markAdmitted(key, { at: r.admitted_at, gate });
    show('admitted', 'admitted', 'Admitted', seatLabel(r), '', key);
  } catch (e) {
    if (offlineError(e)) {
      await admitOffline(c, key, gate, scannedAt, true);
      return;
    }
    refuse(e, c, key);
  }
}

/**
 * gateName is the gate as the server accepts it: printable (Go's
 * unicode.IsPrint: letters, marks, numbers, punctuation, symbols, the ASCII
 * space), at most 64 bytes of UTF-8 (boxoffice.MaxGateLen), cut at a
 * character boundary, so that no scan is refused for its gate's name.
 */
function gateName(text) {
  let out = '';
  let bytes = 0;
  for (const ch of String(text).replace(/[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/gu, '').trim()) {
    bytes += new TextEncoder().encode(ch).length;
    if (bytes > 64) break;
    out += ch;
  }
  return out;
}

/** checkin is POST /checkin with a deadline: a hung network counts as none. */
async function checkin(body) {
  const timeout = new Promise((_, reject) => setTimeout(
    () => reject(new ApiError(0, 'network', 'The server did not answer in time.')), store.checkinTimeout || CHECKIN_TIMEOUT));
  return Promise.race([call('POST', '/checkin', { token: session.token, body }), timeout]);
}

/** refuse shows the server's refusal of a scan. */
function refuse(e, c, key) {
  const d = (e && e.details) || {};
  switch (e.code) {
    case 'already_admitted':
      store.markAdmitted(key, { at: d.scanned_at || d.admitted_at, gate: d.gate });
      show('refused', 'already_admitted', 'Already admitted', seatLabel(c), earlier(d.scanned_at || d.admitted_at, d.gate), key);
      return;
    case 'invalid_ticket':
      show('refused', 'invalid_ticket', 'Invalid ticket', '', 'forged, altered or not from this box office', key);
      return;
    case 'ticket_revoked':
      show('refused', 'ticket_revoked', 'Ticket revoked', seatLabel(c), 'refunded or cancelled', key);
      return;
    case 'unauthenticated':
      show('error', 'unauthenticated', 'Sign in again', seatLabel(c), 'your door session has ended');
      return;
    case 'forbidden':
      show('error', 'forbidden', 'Not allowed', seatLabel(c), 'this account may not check in this event');
      return;
  }
  show('error', e.code || 'error', 'Not checked', seatLabel(c), plainWords(e));
}

/**
 * admitOffline checks the code against the cached keys and, if it is
 * genuine, admits it provisionally and queues the scan for the server.
 * sentOnline: the scan was sent to the server first, without an answer.
 */
async function admitOffline(c, key, gate, scannedAt, sentOnline = false) {
  if (!ring.size) {
    show('error', 'no_keys', 'Cannot check offline', seatLabel(c), 'no ticket keys cached: open this page online once');
    return;
  }
  try {
    await ring.verify(c.code);
  } catch (e) {
    if (!(e instanceof InvalidCode)) throw e;
    show('refused', 'invalid_ticket', 'Invalid ticket', '', e.message + ' (checked offline)', key);
    return;
  }
  store.enqueue({ id: uuid(), code: c.code, gate, scanned_at: scannedAt, event_id: c.eventId,
    index: c.index, booking_id: c.bookingId, section: c.section, row: c.row, seat: c.seat, sent_online: sentOnline });
  store.markAdmitted(key, { at: scannedAt, gate, offline: true });
  show('admitted', 'offline', 'Admitted', seatLabel(c), 'offline: checked here, will sync', key);
  renderQueue();
}

// ---- syncing -----------------------------------------------------------

/**
 * sync sends the queued scans, oldest first, with their gate and time.
 * A scan the server answers (admitted or refused) leaves the queue; a
 * refusal becomes a report. Without network, a session or a working
 * server it stops and tries again later.
 */
async function sync() {
  if (syncing || !navigator.onLine || !session.signedIn || store.queue().length === 0) return;
  syncing = true;
  $('sync-button').disabled = true;
  try {
    for (const s of store.queue()) {
      if (!(await deliver(s))) break;
      renderQueue();
    }
  } finally {
    syncing = false;
    $('sync-button').disabled = false;
    renderQueue();
    renderReports();
  }
}

/** deliver sends one queued scan; false means "stop, try again later". */
async function deliver(s) {
  const body = { code: s.code, scanned_at: s.scanned_at };
  if (s.gate) body.gate = s.gate;
  for (;;) {
    try {
      await checkin(body);
      store.dequeue(s.id);
      return true;
    } catch (e) {
      if (offlineError(e) || ['unauthenticated', 'forbidden', 'rate_limited'].includes(e.code)) {
        if (!offlineError(e)) notice.show('Syncing stopped: ' + plainWords(e), 'error');
        return false;
      }
      if (e.code === 'invalid_argument' && e.details && e.details.field === 'scanned_at' && body.scanned_at) {
        // This device's clock is off (a scan "in the future"): the
        // admission still counts, at the server's time.
        delete body.scanned_at;
        continue;
      }
      store.dequeue(s.id);
      if (!(e.code === 'already_admitted' && ownAdmission(s, e.details))) {
        store.addReport({ ...s, code: undefined, reason: e.code, details: e.details || {}, message: e.message,
          reported_at: new Date().toISOString() });
      }
      return true;
    }
  }
}

/**
 * ownAdmission says whether the server's first admission of a ticket is
 * this very scan, delivered before while its answer was lost (a timeout,
 * a network that dropped mid-request): same gate and same scan time, or,
 * for a scan first sent online without a time, the same gate.
 */
function ownAdmission(s, d) {
  if (!d || (d.gate || '') !== (s.gate || '')) return false;
  if (d.scanned_at) return Date.parse(d.scanned_at) === Date.parse(s.scanned_at);
  return !!s.sent_online;
}

function renderQueue() {
  const n = store.queue().length;
  const el = $('queue-state');
  el.dataset.count = String(n);
  el.textContent = n === 0 ? 'nothing to sync' : `${n} scan${n > 1 ? 's' : ''} waiting to sync`;
}

/** reportText explains one refused offline scan to the door staff. */
function reportText(r) {
  const mine = `scanned${r.gate ? ' at gate ' + r.gate : ''} at ${clock(r.scanned_at)} while offline`;
  switch (r.reason) {
    case 'already_admitted':
      return `${mine}, but ${earlier(r.details.scanned_at || r.details.admitted_at, r.details.gate, 'already')}: the first scan counts; check this guest.`;
    case 'ticket_revoked': return `${mine}, but the ticket was revoked (refunded or cancelled).`;
    case 'invalid_ticket': return `${mine}, but the server does not accept the code.`;
  }
  return `${mine}, refused by the server: ${r.message || r.reason}.`;
}

function renderReports() {
  $('reports').replaceChildren(...store.reports().map((r) =>
    h('li', { dataset: { verdict: 'refused', reason: r.reason, ticket: ticketKey(r.event_id, r.index, r.booking_id) } },
      h('span', { class: 'dot' }), h('strong', {}, seatLabel(r)), ': ', reportText(r))));
}

// ---- the event, the keys and the session -------------------------------

function renderEvent() {
  const e = store.event(store.eventId);
  const el = $('event-chosen');
  el.dataset.eventId = store.eventId;
  if (!store.eventId) {
    el.textContent = 'No event chosen yet.';
    return;
  }
  el.replaceChildren(h('strong', {}, e ? e.name : store.eventId),
    e && e.starts_at ? h('span', { class: 'muted' }, ` · ${new Date(e.starts_at).toLocaleString()}`) : '',
    e && e.venue ? h('span', { class: 'muted' }, ` · ${e.venue.name}, ${e.venue.city}`) : '');
}

/** choose makes id the event this door admits to. */
function choose(e) {
  store.putEvent({ event_id: e.event_id, name: e.name, starts_at: e.starts_at,
    venue: e.venue ? { name: e.venue.name, city: e.venue.city } : null });
  store.eventId = e.event_id;
  const u = new URL(location.href);
  u.searchParams.set('event', e.event_id);
  history.replaceState(null, '', u);
  $('event-results').replaceChildren();
  renderEvent();
  // A development scanner token names its event: get one for this event.
  if (session.signedIn && session.email && session.event_id !== e.event_id && navigator.onLine) {
    signIn(session.email).catch((err) => notice.error(err));
  }
}

/** loadEvent fetches the name of an event named in the address. */
async function loadEvent(id) {
  try {
    const r = await call('GET', `/events/${encodeURIComponent(id)}`);
    choose({ ...r.event, venue: r.venue });
  } catch (e) {
    if (!offlineError(e)) notice.error(e);
  }
}

async function findEvents() {
  const p = new URLSearchParams({ page_size: '10' });
  const q = $('event-q').value.trim();
  if (q) p.set('q', q); else p.set('sort', 'date');
  try {
    const r = await call('GET', '/search?' + p);
    $('event-results').replaceChildren(...r.results.map((e) => h('li', {},
      h('button', { type: 'button', class: 'ghost', dataset: { eventId: e.event_id }, onclick: () => choose(e) },
        h('strong', {}, e.name), ` · ${new Date(e.starts_at).toLocaleString()} · ${e.venue.name}, ${e.venue.city}`))));
    if (r.results.length === 0) notice.show('No event matches.', 'info', 4000);
  } catch (e) {
    notice.error(e);
  }
}

/**
 * loadKeys uses the cached ticket keys at once and refreshes them from
 * GET /tickets/keys when the server answers, so that a door that starts
 * offline still verifies codes.
 */
async function loadKeys() {
  const cached = store.jwks;
  if (cached) {
    try { ring = await KeyRing.fromJWKS(cached.jwks); } catch (e) { notice.error('The cached ticket keys are unusable: ' + e.message); }
  }
  renderKeys(cached && cached.fetched_at);
  try {
    const jwks = await call('GET', '/tickets/keys');
    const fresh = await KeyRing.fromJWKS(jwks);
    ring = fresh;
    store.jwks = { jwks, fetched_at: new Date().toISOString() };
    renderKeys(store.jwks.fetched_at);
  } catch (e) {
    if (!offlineError(e)) notice.error(e);
  }
}

function renderKeys(fetchedAt) {
  const el = $('keys-state');
  el.dataset.keys = String(ring.size);
  el.textContent = ring.size
    ? `${ring.size} ticket key${ring.size > 1 ? 's' : ''} cached (fetched ${clock(fetchedAt)}): offline checks are ready.`
    : 'No ticket keys yet: offline checks need one visit online.';
}

/**
 * signIn asks the development POST /auth/token for a scanner token for
 * the chosen event and those of queued scans (a scanner may check in only
 * the events its token names). With real sign-in, the organiser hands out the token instead.
 */
async function signIn(email) {
  const eventId = store.eventId;
  const body = { email, name: email.split('@')[0], roles: ['scanner'] };
  // The events of scans still queued too, so that a door that moved to
  // another event can still sync them.
  const events = [...new Set([eventId, ...store.queue().map((s) => s.event_id)])].filter(Boolean);
  if (events.length) body.event_ids = events;
  const r = await call('POST', '/auth/token', { body });
  const s = { token: r.token, user_id: r.user_id, email, name: body.name, event_id: eventId };
  Object.assign(session, s);
  localStorage.setItem(session.key, JSON.stringify(s));
  renderSession();
}

function renderSession() {
  const on = session.signedIn;
  $('signin-form').hidden = on;
  $('signed-in').hidden = !on;
  $('signed-in-as').textContent = on ? (session.email || 'scanner token') : '';
}

function renderNet() {
  const el = $('net-state');
  el.dataset.state = navigator.onLine ? 'online' : 'offline';
  el.textContent = navigator.onLine ? 'online' : 'offline: scans are queued';
}

// ---- the camera --------------------------------------------------------

const camera = { stream: null, timer: 0, last: '', missed: 0, canvas: null };

/** startCamera reads QR codes from the back camera with jsQR. */
async function startCamera() {
  if (typeof window.jsQR !== 'function') {
    notice.show('The QR reader did not load; type the codes instead.', 'error');
    return;
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    notice.show('This browser gives the page no camera (it needs HTTPS); type the codes instead.', 'error');
    return;
  }
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch (e) {
    notice.show(`The camera is not available (${e.message || e.name}); type the codes instead.`, 'error');
    return;
  }
  const video = $('camera');
  video.srcObject = camera.stream;
  video.hidden = false;
  await video.play().catch(() => {});
  camera.canvas = document.createElement('canvas');
  $('camera-button').textContent = 'Stop camera';
  $('camera-button').dataset.on = '1';
  scanFrame();
}

function stopCamera() {
  clearTimeout(camera.timer);
  if (camera.stream) camera.stream.getTracks().forEach((t) => t.stop());
  camera.stream = null;
  $('camera').hidden = true;
  $('camera-button').textContent = 'Start camera';
  delete $('camera-button').dataset.on;
}

/** scanFrame decodes the current video frame, then schedules the next. */
async function scanFrame() {
  if (!camera.stream) return;
  const video = $('camera');
  try {
    if (video.readyState >= 2 && video.videoWidth && !checking) {
      const scale = Math.min(1, 800 / video.videoWidth);
      const w = Math.round(video.videoWidth * scale);
      const ht = Math.round(video.videoHeight * scale);
      const cv = camera.canvas;
      if (cv.width !== w || cv.height !== ht) { cv.width = w; cv.height = ht; }
      const ctx = cv.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, w, ht);
      const qr = window.jsQR(ctx.getImageData(0, 0, w, ht).data, w, ht, { inversionAttempts: 'attemptBoth' });
      await cameraFrame(qr && qr.data);
    }
  } finally {
    camera.timer = setTimeout(scanFrame, 120);
  }
}

/**
 * cameraFrame handles what one frame showed (a code's text, or nothing): a
 * code is checked unless it is the one still in front of the camera, so a
 * ticket held up for a second is one scan, not twenty.
 */
async function cameraFrame(text) {
  if (!text) {
    if (++camera.missed >= SAME_CODE_GAP) camera.last = '';
    return;
  }
  camera.missed = 0;
  if (text === camera.last) return;
  camera.last = text;
  await guarded(text);
}

/** guarded runs one check at a time. */
async function guarded(text) {
  if (checking) return;
  checking = true;
  try {
    await check(text);
  } catch (e) {
    show('error', 'error', 'Not checked', '', e.message || String(e));
  } finally {
    checking = false;
  }
}

// ---- wiring ------------------------------------------------------------

function init() {
  const fromURL = new URLSearchParams(location.search).get('event');
  $('gate').value = store.gate;
  $('gate').addEventListener('input', () => { store.gate = $('gate').value; });
  $('event-form').addEventListener('submit', (e) => { e.preventDefault(); findEvents(); });
  $('code-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('code-input').value;
    $('code-input').value = '';
    await guarded(text);
    $('code-input').focus();
  });
  $('camera-button').addEventListener('click', () => (camera.stream ? stopCamera() : startCamera()));
  $('sync-button').addEventListener('click', () => sync());
  $('signin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const email = $('signin-email').value.trim();
    try {
      await signIn(email);
      sync();
    } catch (err) {
      notice.error(err);
    }
  });
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token-input').value.trim();
    if (token.split('.').length !== 3) {
      notice.show('That is not a token: it has three parts separated by dots.', 'error');
      return;
    }
    Object.assign(session, { token, email: '' });
    localStorage.setItem(session.key, JSON.stringify({ token }));
    $('token-input').value = '';
    renderSession();
  });
  $('signout-button').addEventListener('click', () => { session.signOut(); renderSession(); });
  window.addEventListener('online', () => { renderNet(); sync(); });
  window.addEventListener('offline', renderNet);
  setInterval(sync, SYNC_EVERY);

  if (fromURL) store.eventId = fromURL;
  renderSession();
  renderNet();
  renderEvent();
  renderQueue();
  renderReports();
  if (store.eventId && (!store.event(store.eventId) || fromURL)) loadEvent(store.eventId);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/door/sw.js', { scope: '/door/' }).catch(() => { /* the page works without it */ });
  }
  loadKeys().finally(() => {
    document.body.dataset.ready = '1';
    sync();
  });
}

init();
