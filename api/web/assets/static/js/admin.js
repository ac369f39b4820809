// admin.js: the cluster admin dashboard (/admin/): the nodes and where each
// active event lives (GET /admin/api/cluster), a live view of one event
// (GET /admin/api/events/{id}) with its waiting-room switch (PATCH
// /admin/api/events/{id}), the metrics charts (charts.js) and the catalog
// forms (catalog.js). Everything is polled: the admin API has no push.

import { call, $, h, Session, Notice, eventNames } from './api.js';
import { MetricsCharts } from './charts.js';
import { Catalog } from './catalog.js';
import { Lists } from './lists.js';
import { ReportView } from './reportview.js';

const CLUSTER_EVERY_MS = 2000;
const EVENT_EVERY_MS = 1000;

const session = new Session('boxoffice.admin');
const notice = new Notice($('notice'));
const charts = new MetricsCharts($('chart-reserves'), $('chart-latency'), { rate: $('rate-now'), latency: $('latency-now') }, () => session.token);
const catalog = new Catalog({ session, notice });
const lists = new Lists({ session, notice, watch: (id) => watch(id) });
const report = new ReportView({ session, notice });
const LISTS_EVERY_TICKS = 5; // lists refresh every 5th cluster poll

let clusterTimer = 0;
let armedDrain = ''; // node ID whose "Drain this node" awaits the confirming click
let eventTimer = 0;
let current = null; // {id, event} of the live event view
const events = new Map(); // event ID -> event (name, waiting_room), from GET /events/{id}
const loading = new Map(); // event ID -> the in-flight GET /events/{id}

function renderAccount() {
  const signedIn = session.signedIn;
  $('signin-form').hidden = signedIn;
  $('signed-in').hidden = !signedIn;
  $('signed-in-as').textContent = signedIn ? `Signed in as ${session.email}` : '';
}

/** lock shows the sign-in card (with why) and stops polling. */
function lock(why) {
  clearInterval(clusterTimer);
  clearInterval(eventTimer);
  charts.stop();
  $('dashboard').hidden = true;
  $('locked').hidden = false;
  if (why) $('locked-text').textContent = why;
  document.body.dataset.ready = 'false';
}

/** unlock shows the dashboard once the admin API answers. */
async function unlock() {
  // An admin sees the cluster; an organiser (403 there) its own
  // organisation's events, venues and performers only.
  let role = 'admin';
  try {
    await refreshCluster();
  } catch (e) {
    if (e.code === 'forbidden') {
      try {
        await lists.refresh();
        role = 'organiser';
      } catch {
        lock(`${session.email} has neither the admin nor the organiser role. Sign out and sign in again with this form, which asks for it.`);
        return;
      }
    } else if (e.code === 'unauthenticated') { session.signOut(); renderAccount(); lock('Your session ended; please sign in again.'); return; }
    else { notice.error(e); lock(); return; }
  }
  document.body.dataset.role = role;
  const admin = role === 'admin';
  for (const id of ['cluster-cards', 'chart-cards', 'charts-note']) $(id).hidden = !admin;
  $('lists-scope').textContent = admin
    ? 'Every organisation\'s items and the shared catalog.'
    : `Your organisation's items${session.org_id ? ` (${session.org_id})` : ''}; venues and performers include the shared catalog you may build on.`;
  $('locked').hidden = true;
  $('dashboard').hidden = false;
  clearInterval(clusterTimer);
  let ticks = 0;
  clusterTimer = setInterval(() => {
    if (admin) refreshCluster().catch(onPollError);
    refreshWebhooks().catch(() => {});
    if (++ticks % LISTS_EVERY_TICKS === 0) lists.refresh().catch(onPollError);
  }, CLUSTER_EVERY_MS);
  refreshWebhooks().catch(() => {});
  if (admin) {
    charts.start();
    await lists.refresh().catch((e) => notice.error(e));
  }
  document.body.dataset.ready = 'true';
  const wanted = new URLSearchParams(location.search).get('event');
  if (wanted && !current) watch(wanted);
}

function onPollError(e) {
  if (e.code === 'unauthenticated' || e.code === 'forbidden') {
    session.signOut();
    renderAccount();
    lock('Your session ended; please sign in again.');
    return;
  }
  notice.show(`The dashboard lost contact with the node: ${e.message}. Retrying…`, 'error');
}

/** refreshCluster redraws the node and placement tables. */
async function refreshCluster() {
  const c = await call('GET', '/admin/api/cluster', { token: session.token });
  if (notice.el.dataset.tone === 'error' && notice.el.textContent.startsWith('The dashboard lost')) notice.clear();
  const now = Date.now();
  // The spread: each node's share of the active events and of the reserves.
  const totalActors = c.nodes.reduce((s, n) => s + n.actors, 0);
  const totalRate = c.nodes.reduce((s, n) => s + (n.reserves_per_second || 0), 0);
  const share = (part, whole) => (whole > 0 ? ` (${Math.round((100 * part) / whole)} %)` : '');
  $('nodes').tBodies[0].replaceChildren(...c.nodes.map((n) => h('tr', { dataset: { nodeId: n.id, actors: String(n.actors), reserves: String(n.reserves ?? 0) } },
    h('td', { class: 'mono' }, n.id),
    h('td', {}, n.address ? h('a', { href: n.address + '/admin/' }, n.address) : '-'),
    h('td', {}, h('span', { class: `badge ${n.status}` }, n.status)),
    h('td', {}, n.started_at ? duration(now - Date.parse(n.started_at)) : '-'),
    h('td', { class: 'num spread-actors' }, String(n.actors) + share(n.actors, totalActors)),
    h('td', { class: 'num spread-rate', title: `${n.reserves ?? 0} reserves decided since the node started` },
      (n.reserves_per_second || 0).toFixed(1) + share(n.reserves_per_second || 0, totalRate)),
    h('td', {}, drainButton(n)))));
  const rows = c.placements.map((p) => {
    const tr = h('tr', { class: current?.id === p.event_id ? 'active clickable' : 'clickable', dataset: { eventId: p.event_id }, onclick: () => watch(p.event_id) },
      h('td', {}, h('span', { class: 'ev-name' }, events.get(p.event_id)?.name || eventNames.get(p.event_id) || p.event_id)),
      h('td', { class: 'mono' }, p.node_id));
    return tr;
  });
  if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: 2, class: 'muted' }, 'No event actor is active: one starts with the first hold or view of seats.')));
  $('placements').tBodies[0].replaceChildren(...rows);
  $('cluster-updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  for (const p of c.placements) if (!events.has(p.event_id)) loadEvent(p.event_id).catch(() => {});
}

/**
 * drainButton is a node row's "Drain this node" (a second click confirms;
 * the armed node survives the table's redraws), or what the node is doing.
 */
function drainButton(n) {
  if (n.status === 'draining') return h('span', { class: 'muted small drain-state' }, 'draining…');
  if (n.status !== 'alive') return null;
  const armed = armedDrain === n.id;
  return h('button', { type: 'button', class: 'ghost small drain', dataset: { armed: String(armed) }, onclick: () => drainNode(n.id) },
    armed ? 'Sure? Drain and stop it' : 'Drain this node');
}

/**
 * drainNode asks POST /admin/api/nodes/{id}/drain on the first click after
 * arming: the node fails /readyz, hands its events to the others, tells
 * its WebSocket clients to reconnect elsewhere, then stops.
 */
async function drainNode(id) {
  if (armedDrain !== id) {
    armedDrain = id;
  } else {
    armedDrain = '';
    try {
      await call('POST', `/admin/api/nodes/${encodeURIComponent(id)}/drain`, { token: session.token });
      notice.show(`${id} is draining: it hands its events to the other nodes, then stops.`, 'ok', 6000);
    } catch (err) {
      notice.error(err);
    }
  }
  refreshCluster().catch(onPollError);
}

/**
 * refreshWebhooks writes the webhooks line (GET /admin/api/webhooks):
 * deliveries are retried quietly, so this is where failures show.
 */
async function refreshWebhooks() {
  const r = await call('GET', '/admin/api/webhooks', { token: session.token });
  const hooks = r.webhooks || [];
  const sum = (k) => hooks.reduce((a, w) => a + (w[k] || 0), 0);
  const failing = hooks.filter((w) => w.pending > 0 && w.last_error);
  let text = hooks.length
    ? `Webhooks: ${hooks.length} registered, ${sum('delivered')} delivered, ${sum('pending')} pending.`
    : 'Webhooks: none registered (POST /admin/api/webhooks).';
  if (failing.length) {
    text += ' Failing: ' + failing.map((w) => `${w.url} (${w.attempts} attempts, last error: ${w.last_error})`).join('; ');
  }
  const line = $('webhooks-line');
  line.textContent = text;
  line.dataset.failing = String(failing.length);
}

/**
 * loadEvent fetches an event's catalog entry once (its name and waiting
 * room). Concurrent callers (the cluster poll and a click) share one request,
 * so a click while the poll's fetch is in flight still gets the event.
 */
function loadEvent(id) {
  if (events.has(id)) return Promise.resolve(events.get(id));
  if (loading.has(id)) return loading.get(id);
  const p = call('GET', `/events/${encodeURIComponent(id)}`).then((r) => {
    events.set(id, r.event);
    eventNames.put(id, r.event.name);
    for (const el of document.querySelectorAll(`[data-event-id="${id}"] .ev-name`)) el.textContent = r.event.name;
    return r.event;
  }).finally(() => loading.delete(id));
  loading.set(id, p);
  return p;
}

/** watch makes the event the live per-event view. */
async function watch(id) {
  current = { id, event: null };
  // A new event's form starts clean: edits made for another event are gone.
  $('wr-form').dataset.dirty = 'false';
  $('wr-form').dataset.eventId = '';
  history.replaceState(null, '', `/admin/?event=${encodeURIComponent(id)}`);
  for (const tr of $('placements').tBodies[0].rows) tr.classList.toggle('active', tr.dataset.eventId === id);
  $('event-card').hidden = false;
  $('ev-id').textContent = id;
  $('ev-title').textContent = events.get(id)?.name || eventNames.get(id) || 'Event';
  $('cancel-event').dataset.armed = '';
  $('cancel-event').textContent = 'Cancel event';
  $('cancel-event').disabled = false;
  clearInterval(eventTimer);
  refreshEvent();
  report.show(id);
  eventTimer = setInterval(refreshEvent, EVENT_EVERY_MS);
  try {
    const ev = await loadEvent(id);
    if (current?.id !== id || !ev) return;
    current.event = ev;
    $('ev-title').textContent = ev.name;
    showWaitingRoom(ev.waiting_room);
  } catch (e) {
    notice.error(e);
  }
}

async function refreshEvent() {
  const id = current?.id;
  if (!id) return;
  let s;
  try {
    s = await call('GET', `/admin/api/events/${encodeURIComponent(id)}`, { token: session.token });
  } catch (e) {
    if (e.code === 'not_found') {
      clearInterval(eventTimer);
      notice.show('That event does not exist.', 'error');
      return;
    }
    onPollError(e);
    return;
  }
  if (current?.id !== id) return;
  const n = (v) => Number(v).toLocaleString();
  $('st-version').textContent = n(s.version);
  $('st-available').textContent = n(s.counts.available);
  $('st-reserved').textContent = n(s.counts.reserved);
  $('st-booked').textContent = n(s.counts.booked);
  $('st-admitted').textContent = `${n(s.admitted ?? 0)} / ${n(s.counts.booked)}`;
  $('st-holds').textContent = n(s.holds);
  $('st-lag').textContent = n(s.journal_lag);
  $('st-snapshot').textContent = s.last_snapshot_version ? `v${n(s.last_snapshot_version)}` : 'none';
  $('st-node').textContent = s.node_id || '-';
  const total = s.counts.available + s.counts.reserved + s.counts.booked || 1;
  const [a, r, b] = $('ev-bar').children;
  a.style.width = `${(100 * s.counts.available) / total}%`;
  r.style.width = `${(100 * s.counts.reserved) / total}%`;
  b.style.width = `${(100 * s.counts.booked) / total}%`;
  $('event-card').dataset.version = s.version;
  showRefunds(s.refunds);
}

/** showRefunds shows the event's refunds: a cancellation's job progress. */
function showRefunds(r) {
  const el = $('ev-refunds');
  el.dataset.done = r ? r.done : 0;
  el.dataset.total = r ? r.total : 0;
  el.textContent = r && r.total ? `${r.done.toLocaleString()} of ${r.total.toLocaleString()} refunded` : 'no refunds';
}

/**
 * showWaitingRoom shows an event's waiting room. The form's inputs are
 * refreshed only while the admin has not started editing them (or when
 * force says the values were just saved), so a background refresh never
 * overwrites what the admin is typing; data-event-id tells which event the
 * form belongs to once it is filled.
 */
function showWaitingRoom(wr, force = false) {
  const form = $('wr-form');
  if (force || form.dataset.dirty !== 'true') {
    $('wr-enabled').checked = !!wr?.enabled;
    if (wr?.rate_per_second) $('wr-rate').value = wr.rate_per_second;
    form.dataset.dirty = 'false';
  }
  form.dataset.eventId = current?.id || '';
  $('wr-state').textContent = wr?.enabled ? `on: ${wr.rate_per_second} admitted per second` : 'off: anyone may hold seats';
}

for (const id of ['wr-enabled', 'wr-rate']) {
  $(id).addEventListener('input', () => { $('wr-form').dataset.dirty = 'true'; });
  $(id).addEventListener('change', () => { $('wr-form').dataset.dirty = 'true'; });
}

$('wr-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!current) return;
  const enabled = $('wr-enabled').checked;
  const rate = Math.floor(Number($('wr-rate').value) || 0);
  $('wr-save').disabled = true;
  try {
    const ev = await call('PATCH', `/admin/api/events/${encodeURIComponent(current.id)}`, {
      token: session.token, body: { waiting_room: { enabled, rate_per_second: rate } },
    });
    events.set(current.id, ev);
    current.event = ev;
    showWaitingRoom(ev.waiting_room, true);
    notice.show(`Waiting room ${enabled ? `on at ${rate}/s` : 'off'} for ${ev.name}.`, 'ok', 4000);
  } catch (err) {
    notice.error(err);
  } finally {
    $('wr-save').disabled = false;
  }
});

// Refund one booking by its id (an admin may refund at any time).
$('refund-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const id = $('refund-booking').value.trim();
  if (!current || !id) return;
  $('refund-submit').disabled = true;
  try {
    const b = await call('POST', `/booking/${encodeURIComponent(id)}/refund`, { token: session.token });
    notice.show(`Booking ${b.booking_id.slice(0, 8)} is ${b.status}; its seats are on sale again.`, 'ok', 5000);
    $('refund-booking').value = '';
    refreshEvent();
  } catch (err) {
    notice.error(err);
  } finally {
    $('refund-submit').disabled = false;
  }
});

// Cancel the event: a second click confirms. Every confirmed booking is
// refunded by a job on the node; its progress shows beside the button.
$('cancel-event').addEventListener('click', async () => {
  const button = $('cancel-event');
  if (!current) return;
  if (button.dataset.armed !== current.id) {
    button.dataset.armed = current.id;
    button.textContent = 'Sure? Cancel and refund all';
    return;
  }
  button.disabled = true;
  try {
    const ev = await call('POST', `/admin/api/events/${encodeURIComponent(current.id)}/cancel`, { token: session.token });
    events.set(current.id, ev);
    current.event = ev;
    notice.show(`${ev.name} is ${ev.status}; every booking is being refunded.`, 'ok', 6000);
    button.textContent = 'Cancelled';
    refreshEvent();
  } catch (err) {
    button.disabled = false;
    notice.error(err);
  }
});

$('find-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = $('find-q').value.trim();
  const p = new URLSearchParams({ page_size: '8' });
  if (q) p.set('q', q); else p.set('sort', 'date');
  try {
    const r = await call('GET', '/search?' + p);
    $('find-results').replaceChildren(...r.results.map((ev) => {
      eventNames.put(ev.event_id, ev.name);
      return h('li', {}, h('a', { href: `/admin/?event=${ev.event_id}`, dataset: { eventId: ev.event_id },
        onclick: (x) => { x.preventDefault(); watch(ev.event_id); } }, ev.name),
      h('span', { class: 'muted small' }, ` ${ev.venue.name}, ${ev.venue.city}`));
    }));
    if (!r.results.length) $('find-results').replaceChildren(h('li', { class: 'muted' }, 'No events match.'));
  } catch (err) {
    notice.error(err);
  }
});

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const email = $('signin-email').value.trim();
  const org = $('signin-org').value.trim();
  try {
    if (org) await session.signIn(email, email.split('@')[0], ['organiser'], org);
    else await session.signIn(email, email.split('@')[0], ['admin']);
  } catch (err) {
    notice.error(err.code === 'not_found' ? 'This node is in production mode: sign in with a token from your identity provider.' : err);
    return;
  }
  renderAccount();
  unlock();
});

$('signout-button').addEventListener('click', () => {
  session.signOut();
  renderAccount();
  lock('Signed out.');
});

/** duration formats milliseconds as "3d 4h", "2h 5m", "4m 10s" or "12s". */
function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const hr = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

document.addEventListener('catalog-changed', () => lists.refresh().catch((e) => notice.error(e)));

window.boxofficeAdmin = { session, charts, catalog, lists, watch, report };

renderAccount();
if (session.signedIn) unlock(); else lock();
