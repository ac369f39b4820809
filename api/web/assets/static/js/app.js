// app.js: the seat-map page: sign-in, "My bookings", and switching between
// the search view (/) and one event's view (/events/<id>, which the node
// serves to browsers; /?event=<id> is the same view).

import { call, $, h, money, when, Session, Notice, eventNames } from './api.js';
import { SearchView } from './search.js';
import { EventPage } from './eventpage.js';
import { priceLines } from './pricebuyer.js';

const session = new Session('boxoffice.session');
const notice = new Notice($('notice'));
let page = null;

const search = new SearchView({ notice, onOpen: (id) => go(id) });

function eventIdFromLocation() {
  const q = new URLSearchParams(location.search).get('event');
  if (q) return q;
  const m = location.pathname.match(/^\/events\/([0-9a-fA-F-]{36})\/?$/);
  return m ? m[1] : null;
}

/** go shows an event (or the search with null) and records it in history. */
function go(id) {
  history.pushState({ from: 'app' }, '', id ? `/events/${encodeURIComponent(id)}` : '/');
  route();
}

function route() {
  const id = eventIdFromLocation();
  $('search-view').hidden = !!id;
  $('event-view').hidden = !id;
  notice.clear();
  if (page && page.eventId !== id) {
    page.destroy();
    page = null;
  }
  if (!id) {
    document.title = 'boxoffice: find and book seats';
    if (!search.loaded) search.run(1);
    return;
  }
  if (!page) {
    page = new EventPage(id, { session, notice, onSignInNeeded: () => $('signin-email').focus() });
    page.load().catch((e) => {
      $('event-name').textContent = 'This event cannot be shown';
      notice.error(e);
    });
  }
}

function renderAccount() {
  const signedIn = session.signedIn;
  $('signin-form').hidden = signedIn;
  $('signed-in').hidden = !signedIn;
  $('signed-in-as').textContent = signedIn ? `Signed in as ${session.name || session.email}` : '';
  if (!signedIn) $('bookings-panel').hidden = true;
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await session.signIn($('signin-email').value.trim(), $('signin-name').value.trim());
    renderAccount();
    notice.show(`Welcome, ${session.name}.`, 'ok', 3000);
  } catch (err) {
    notice.error(err.code === 'not_found' ? 'Sign-in is only available on a development node (make run).' : err);
  }
});

$('signout-button').addEventListener('click', () => {
  session.signOut();
  renderAccount();
});

$('bookings-button').addEventListener('click', () => {
  const panel = $('bookings-panel');
  panel.hidden = !panel.hidden;
  if (!panel.hidden) loadBookings();
});
$('bookings-close').addEventListener('click', () => { $('bookings-panel').hidden = true; });

/**
 * loadBookings lists GET /user/bookings, newest first, following its pages
 * (next_cursor) up to 1,000 bookings.
 */
async function loadBookings() {
  const list = $('bookings-list');
  list.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const r = await call('GET', '/user/bookings?limit=200', { token: session.token });
    for (let i = 1; r.next_cursor && i < 5; i++) {
      const p = await call('GET', '/user/bookings?limit=200&cursor=' + encodeURIComponent(r.next_cursor), { token: session.token });
      r.bookings = r.bookings.concat(p.bookings);
      r.next_cursor = p.next_cursor;
    }
    if (!r.bookings.length) {
      list.replaceChildren(h('p', { class: 'muted' }, 'No bookings yet.'));
      return;
    }
    list.replaceChildren(h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ['Event', 'Seats', 'Total', 'Status', 'When', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, r.bookings.map(bookingRow))));
  } catch (e) {
    list.replaceChildren(h('p', { class: 'error' }, e.message));
    notice.error(e);
  }
}

function bookingRow(b) {
  const here = page && page.eventId === b.event_id && page.index;
  const seats = here ? b.ticket_ids.map((id) => page.index.get(id)).filter((i) => i !== undefined).map((i) => {
    const t = page.tickets[i];
    return `${t.section}-${t.row}-${t.seat}`;
  }).join(', ') : `${b.ticket_ids.length} seat${b.ticket_ids.length > 1 ? 's' : ''}`;
  const name = eventNames.get(b.event_id) || b.event_id.slice(0, 8);
  const resume = b.status === 'in-progress' && here && !page.checkout.hold
    ? h('button', { type: 'button', class: 'ghost', onclick: () => { page.checkout.adopt(b); $('bookings-panel').hidden = true; } }, 'Resume')
    : b.status === 'in-progress' && !here ? h('a', { href: `/events/${b.event_id}` }, 'Open')
      : b.status === 'confirmed' ? h('button', { type: 'button', class: 'ghost', onclick: (e) => showTickets(b, e.target.closest('tr')) }, 'Tickets') : '';
  const refund = b.status === 'confirmed'
    ? h('button', { type: 'button', class: 'ghost refund', onclick: (e) => refundBooking(b, e.target) }, 'Refund') : '';
  return h('tr', { dataset: { bookingId: b.booking_id, status: b.status } },
    h('td', {}, h('a', { href: `/events/${b.event_id}` }, name)),
    h('td', {}, seats),
    h('td', {}, money(b.total_price, b.currency), b.price_lines?.length > 1 ? h('ul', { class: 'price-lines small' }, priceLines(b)) : ''),
    h('td', {}, h('span', { class: `badge ${b.status}` }, b.status)),
    h('td', {}, when(b.confirmed_at || b.created_at)),
    h('td', {}, resume, refund));
}

/**
 * refundBooking asks POST /booking/{id}/refund on a second click (the first
 * one asks "Sure?"), then lists the bookings again: the booking shows as
 * refunded and its seats are on sale again. After the event's refund
 * window the node refuses (booking_state) and the notice says why.
 */
async function refundBooking(b, button) {
  if (button.dataset.armed !== 'true') {
    button.dataset.armed = 'true';
    button.textContent = 'Sure? Refund';
    return;
  }
  button.disabled = true;
  try {
    await call('POST', `/booking/${b.booking_id}/refund`, { token: session.token });
    notice.show('Refunded: the money goes back to your card and the seats are on sale again.', 'ok', 8000);
    await loadBookings();
  } catch (e) {
    button.disabled = false;
    notice.error(e);
  }
}

/**
 * fetchBlob GETs a binary route with the session's token (an <img> cannot
 * send it) and returns it as a Blob.
 */
async function fetchBlob(path) {
  const resp = await fetch(path, { headers: { Authorization: 'Bearer ' + session.token } });
  if (!resp.ok) throw new Error(`${path}: ${resp.status}`);
  return resp.blob();
}

/** dataURL reads a Blob as a data: URL, which the page's CSP allows for images. */
function dataURL(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

/**
 * showTickets opens a row under a confirmed booking with each ticket's seat
 * and QR code: the codes from GET /booking/{id}/tickets, the images drawn by
 * the server (GET .../tickets/{ticketId}/qr.png), and a link to the PDF.
 */
async function showTickets(b, row) {
  const open = row.nextElementSibling;
  if (open && open.classList.contains('tickets-row')) { open.remove(); return; }
  const cell = h('td', { colspan: 6 }, h('p', { class: 'muted' }, 'Loading tickets…'));
  row.after(h('tr', { class: 'tickets-row', dataset: { bookingId: b.booking_id } }, cell));
  try {
    const base = `/booking/${b.booking_id}/tickets`;
    const r = await call('GET', base, { token: session.token });
    const cards = await Promise.all(r.tickets.map(async (t) => h('figure', { class: 'ticket', dataset: { ticketId: t.ticket_id, code: t.code } },
      h('img', { src: await dataURL(await fetchBlob(`${base}/${t.ticket_id}/qr.png`)), alt: `QR code of ticket ${t.section}-${t.row}-${t.seat}`, width: 160, height: 160 }),
      h('figcaption', {}, `Section ${t.section}, row ${t.row}, seat ${t.seat}`))));
    const pdf = h('button', { type: 'button', class: 'ghost', onclick: async () => window.open(URL.createObjectURL(await fetchBlob(base + '.pdf')), '_blank') }, 'PDF');
    cell.replaceChildren(h('div', { class: 'tickets' }, cards), pdf);
  } catch (e) {
    cell.replaceChildren(h('p', { class: 'error' }, e.message));
    notice.error(e);
  }
}

$('back-link').addEventListener('click', (e) => {
  e.preventDefault();
  if (history.state && history.state.from === 'app') history.back(); else go(null);
});
$('home-link').addEventListener('click', (e) => {
  e.preventDefault();
  go(null);
});
window.addEventListener('popstate', route);

// For people poking at the page from the console, and for the browser tests.
window.boxoffice = {
  session,
  search,
  get page() { return page; },
};

renderAccount();
route();
