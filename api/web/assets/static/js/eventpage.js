// eventpage.js: one event's page: the live seat map, seat selection (by
// click or keyboard, seatkeys.js), "best available" (the server picks and
// holds, checkout.js) and the checkout card.

import { call, $, h, money, when, eventNames } from './api.js';
import { SeatMap, STATUS, STATUS_NAMES, MARK, ticketsOfLayout } from './seatmap.js';
import { SeatFeed, unpack } from './live.js';
import { Checkout } from './checkout.js';
import { SeatKeys } from './seatkeys.js';
import { renderPricing, typeSelect, priceOf, standingKey } from './pricebuyer.js';

/** MAX_SEATS is API.md's limit of seats per hold. */
export const MAX_SEATS = 10;

/** EventPage shows one event until destroy(). */
export class EventPage {
  /** @param ctx {session, notice, onSignInNeeded()} from the app */
  constructor(eventId, ctx) {
    this.eventId = eventId;
    this.session = ctx.session;
    this.notice = ctx.notice;
    this.onSignInNeeded = ctx.onSignInNeeded;
    this.selection = new Set();
    this.pending = null; // seats of a reserve in flight: their deltas are ours
    this.abort = new AbortController();
    this.checkout = new Checkout(this);
  }

  /**
   * load fetches the event, draws its map and goes live. The seats come
   * from the layout (static, cached by the browser under its versioned URL,
   * so a second visit does not download it) and the packed availability;
   * the compact WebSocket keeps them live.
   */
  async load() {
    $('event-name').textContent = 'Loading…';
    $('event-meta').textContent = '';
    document.body.dataset.live = 'false';
    const t0 = performance.now();
    const base = `/events/${encodeURIComponent(this.eventId)}`;
    const [data, avail] = await Promise.all([call('GET', `${base}?tickets=false`), call('GET', `${base}/availability`)]);
    if (this.destroyed) return;
    const tm = performance.now();
    const layout = await call('GET', avail.layout);
    if (this.destroyed) return;
    const t1 = performance.now();
    Object.assign(this, { event: data.event, venue: data.venue, performer: data.performer, tickets: ticketsOfLayout(layout) });
    this.index = new Map(this.tickets.map((t, i) => [t.ticket_id, i]));
    // Standing sections (API.md "General admission"): taken by quantity.
    this.standing = layout.sections.filter((s) => s.standing).map((s) => ({
      name: s.name, first: s.standing.first, capacity: s.standing.capacity, qty: 0,
      price: layout.categories[s.category]?.price, currency: layout.currency,
    }));
    eventNames.put(this.eventId, this.event.name);
    document.title = `${this.event.name}: boxoffice`;
    $('event-name').textContent = this.event.name;
    const meta = [when(this.event.starts_at), `${this.venue.name}, ${this.venue.city}`, this.performer.name,
      `${this.tickets.length.toLocaleString()} seats`];
    if (this.event.waiting_room?.enabled) meta.push('waiting room on');
    this.meta = meta;
    this.renderMeta();
    this.watchSale();
    const fresh = $('seatmap').cloneNode(false);
    $('seatmap').replaceWith(fresh);
    this.map = new SeatMap(fresh, this.tickets, {
      onPick: (i) => this.toggle(i),
      onHover: (i, x, y) => this.tip(i, x, y),
    }, { layout, statuses: unpack(avail.data, avail.seats) });
    this.version = avail.version;
    document.body.dataset.version = avail.version;
    // What the page took, in milliseconds (for people in the console, and
    // logged by the browser test): fetch and parse the event, lay out and
    // paint the map, apply the WebSocket's first snapshot, and all of it.
    // fetch_ms includes layout_ms, the layout's part (near 0 from the cache).
    this.timings = { start: t0, fetch_ms: Math.round(t1 - t0), layout_ms: Math.round(t1 - tm), map_ms: Math.round(performance.now() - t1) };
    this.keys?.destroy();
    this.keys = new SeatKeys($('seat-keys'), this); // h19access: keyboard and screen readers
    $('legend-access').hidden = !this.map.access.length; // h19ui
    this.renderPrices();
    this.renderStanding();
    this.renderSelection();
    this.wire();
    this.feed = new SeatFeed(this.eventId, {
      onSnapshot: (v, list) => this.snapshot(v, list),
      onDelta: (v, changes) => this.delta(v, changes),
      onPacked: (v, statuses) => this.packed(v, statuses),
      onCompactDelta: (v, changes) => this.compactDelta(v, changes),
      onState: (state, detail) => this.liveState(state, detail),
    }, { compact: true }).start();
  }

  /** packed applies a compact snapshot: every status, in layout order. */
  packed(version, statuses) {
    const t0 = performance.now();
    this.map.setStatuses(statuses);
    this.applied(version, t0);
  }

  /** compactDelta applies [index, status] pairs. */
  compactDelta(version, changes) {
    for (const [i, st] of changes) {
      if (i < this.tickets.length) this.map.setStatus(i, st > STATUS.booked ? STATUS.booked : st);
    }
    this.version = version;
    this.dropTaken();
    this.updateStandingLeft();
    this.keys?.update();
    document.body.dataset.version = version;
  }

  wire() {
    const on = (id, type, fn) => $(id).addEventListener(type, fn, { signal: this.abort.signal });
    on('zoom-in', 'click', () => this.map.zoom(1.6));
    on('zoom-out', 'click', () => this.map.zoom(1 / 1.6));
    on('zoom-fit', 'click', () => this.map.fit());
    on('best-button', 'click', () => this.checkout.holdBest(Number($('best-count').value) || 2, $('best-accessible').checked));
    on('clear-button', 'click', () => this.clearSelection());
    on('hold-button', 'click', () => this.checkout.holdSelected());
    on('pay-button', 'click', () => this.checkout.pay());
    on('release-button', 'click', () => this.checkout.release());
    on('queue-leave', 'click', () => this.checkout.leaveQueue());
  }

  destroy() {
    this.destroyed = true;
    this.abort.abort();
    this.feed?.stop();
    this.keys?.destroy();
    this.map?.destroy();
    this.checkout.destroy();
    for (const id of ['hold-card', 'confirm-card', 'queue-card', 'seat-tip']) $(id).hidden = true;
    document.body.dataset.live = 'false';
  }

  label(i) {
    const t = this.tickets[i];
    if (t.standing) return `${t.section} · standing · place ${t.seat}`;
    const access = t.access === 'wheelchair' ? ' · wheelchair space' : t.access === 'companion' ? ' · companion seat' : '';
    return `Section ${t.section} · Row ${t.row} · Seat ${t.seat}${access}`;
  }

  /** standingLeft is how many places of standing area a are available. */
  standingLeft(a) {
    let n = 0;
    for (let i = a.first; i < a.first + a.capacity; i++) if (this.map.status[i] === STATUS.available) n++;
    return n;
  }

  /** standingCount is how many standing places are asked for. */
  standingCount() {
    return this.standing.reduce((n, a) => n + a.qty, 0);
  }

  /** renderStanding lists the standing areas with places left and a quantity each. */
  renderStanding() {
    const list = $('standing');
    list.hidden = !this.standing.length;
    list.replaceChildren(...this.standing.map((a) => h('li', { dataset: { section: a.name } },
      h('span', {}, `${a.name} · standing`),
      h('span', { class: 'left' }, `${this.standingLeft(a)} left`),
      h('input', {
        type: 'number', min: 0, max: MAX_SEATS, value: a.qty, class: 'narrow standing-qty', 'aria-label': `Standing places in ${a.name}`,
        oninput: (e) => { a.qty = Math.max(0, Math.min(MAX_SEATS, Math.floor(Number(e.target.value)) || 0)); this.renderSelection(); },
      }))));
  }

  /** updateStandingLeft refreshes the places left as statuses change. */
  updateStandingLeft() {
    for (const a of this.standing || []) {
      const el = $('standing').querySelector(`li[data-section="${CSS.escape(a.name)}"] .left`);
      if (el) el.textContent = `${this.standingLeft(a)} left`;
    }
  }

  /** addStanding asks for one more place of the area holding place i. */
  addStanding(i) {
    const a = this.standing.find((x) => i >= x.first && i < x.first + x.capacity);
    if (!a) return;
    if (this.selection.size + this.standingCount() >= MAX_SEATS) {
      this.notice.show(`You can pick up to ${MAX_SEATS} seats and places at a time.`, 'error', 4000);
      return;
    }
    a.qty++;
    this.renderStanding();
    this.renderSelection();
  }

  /** statusOf is a seat's live status by ticket ID (for people and tests). */
  statusOf(ticketId) {
    const i = this.index?.get(ticketId);
    return i === undefined || !this.map ? undefined : STATUS_NAMES[this.map.status[i]];
  }

  snapshot(version, list) {
    const t0 = performance.now();
    const fast = list.length === this.tickets.length;
    list.forEach((t, k) => {
      const i = fast && this.tickets[k].ticket_id === t.ticket_id ? k : this.index.get(t.ticket_id);
      if (i !== undefined) this.map.setStatus(i, STATUS[t.status] ?? STATUS.booked);
    });
    this.applied(version, t0);
  }

  /** applied records a snapshot's version (and, the first time, the timings). */
  applied(version, t0) {
    this.version = version;
    this.dropTaken();
    this.updateStandingLeft();
    document.body.dataset.version = version;
    if (this.timings.snapshot_ms === undefined) {
      this.timings.snapshot_ms = Math.round(performance.now() - t0);
      this.timings.live_ms = Math.round(performance.now() - this.timings.start);
    }
  }

  delta(version, changes) {
    for (const c of changes) {
      const i = this.index.get(c.ticket_id);
      if (i !== undefined) this.map.setStatus(i, STATUS[c.status] ?? STATUS.booked);
    }
    this.version = version;
    this.dropTaken();
    this.updateStandingLeft();
    document.body.dataset.version = version;
  }

  /** dropTaken unselects seats someone else took, and says so. */
  dropTaken() {
    const taken = [...this.selection].filter((i) => this.map.status[i] !== STATUS.available && !this.pending?.has(i));
    if (!taken.length) return;
    for (const i of taken) this.unselect(i);
    this.notice.show(`${taken.map((i) => this.label(i)).join(', ')} ${taken.length > 1 ? 'were' : 'was'} just taken by someone else and removed from your selection.`, 'error');
  }

  liveState(state, detail) {
    const el = $('live-state');
    el.dataset.state = state;
    el.textContent = state === 'live' ? 'live' : state === 'connecting' ? 'connecting…' : `reconnecting${detail ? ` (${detail})` : ''}…`;
    document.body.dataset.live = String(state === 'live');
  }

  tip(i, x, y) {
    const tip = $('seat-tip');
    if (i < 0) {
      tip.hidden = true;
      return;
    }
    const t = this.tickets[i];
    const mark = this.map.mark[i];
    const state = mark === MARK.mine ? 'yours' : mark === MARK.selected ? 'selected' : { available: 'available', reserved: 'on hold', booked: 'sold' }[STATUS_NAMES[this.map.status[i]]];
    tip.textContent = `${this.label(i)} · ${money(t.price, t.currency)} · ${state}`;
    const box = tip.parentElement.getBoundingClientRect();
    tip.style.left = `${x - box.left + 14}px`;
    tip.style.top = `${y - box.top + 14}px`;
    tip.hidden = false;
  }

  /** holding says (and reports) that a hold must be paid or released first. */
  holding() {
    if (!this.checkout.hold) return false;
    this.notice.show('Pay for or release the seats you are holding before picking others.', 'error');
    return true;
  }

  toggle(i) {
    if (i < 0 || this.holding()) return;
    if (this.tickets[i].standing) {
      this.addStanding(i);
      return;
    }
    if (this.selection.has(i)) {
      this.unselect(i);
    } else if (this.map.mark[i] === MARK.mine) {
      this.notice.show('That seat is already yours.', 'info', 3000);
    } else if (this.map.status[i] !== STATUS.available) {
      this.notice.show(`${this.label(i)} is ${this.map.status[i] === STATUS.booked ? 'sold' : 'on hold for someone else'}; pick a green seat.`, 'error', 4000);
    } else if (this.selection.size >= MAX_SEATS) {
      this.notice.show(`You can pick up to ${MAX_SEATS} seats at a time.`, 'error', 4000);
    } else {
      this.selection.add(i);
      this.map.setMark(i, MARK.selected);
      this.notice.clear();
    }
    this.renderSelection();
  }

  unselect(i) {
    this.selection.delete(i);
    if (this.map.mark[i] === MARK.selected) this.map.setMark(i, MARK.none);
    this.renderSelection();
  }

  clearSelection() {
    for (const i of [...this.selection]) this.unselect(i);
  }

  /**
   * onSale says whether a hold can succeed now: the sale window of API.md
   * (sale_starts_at, sale_ends_at, cancelled). The server decides; the page
   * only keeps people from clicking into a sure not_on_sale.
   */
  onSale() {
    const e = this.event, now = Date.now();
    if (!e || e.status === 'cancelled') return false;
    if (e.sale_starts_at && now < Date.parse(e.sale_starts_at)) return false;
    return !(e.sale_ends_at && now >= Date.parse(e.sale_ends_at));
  }

  /** saleText describes the event's status for people. */
  saleText() {
    const e = this.event, now = Date.now();
    if (e.status === 'cancelled') return 'cancelled';
    if (e.sale_starts_at && now < Date.parse(e.sale_starts_at)) return `on sale from ${when(e.sale_starts_at)}`;
    if (e.sale_ends_at && now >= Date.parse(e.sale_ends_at)) return 'sale ended';
    const limit = e.max_tickets_per_user ? ` · up to ${e.max_tickets_per_user} tickets per person` : '';
    return `on sale until ${when(e.sale_ends_at)}${limit}`;
  }

  renderMeta() {
    $('event-meta').textContent = [...this.meta, this.saleText()].join(' · ');
  }

  /** watchSale re-renders when the sale opens or closes while the page is open. */
  watchSale() {
    const now = Date.now();
    const next = [this.event.sale_starts_at, this.event.sale_ends_at].map((t) => Date.parse(t || ''))
      .filter((t) => t > now).sort((a, b) => a - b)[0];
    if (!next || next - now > 2 ** 31 - 1) return;
    const timer = setTimeout(() => {
      if (this.destroyed) return;
      this.renderMeta();
      this.renderSelection();
      this.watchSale();
    }, next - now + 50);
    this.abort.signal.addEventListener('abort', () => clearTimeout(timer));
  }

  renderSelection() {
    const list = $('selection');
    const seats = [...this.selection];
    // h19ui: a ticket type per seat and standing area when the event has types.
    renderPricing(this);
    const seatPrice = (i) => priceOf(this, i, this.tickets[i].section, this.tickets[i].price);
    const placePrice = (a) => priceOf(this, standingKey(a.name), a.name, a.price);
    list.replaceChildren(...seats.map((i) => h('li', {},
      h('span', {}, this.label(i)), typeSelect(this, i, this.label(i)), h('span', { class: 'price' }, money(seatPrice(i), this.tickets[i].currency)),
      h('button', { type: 'button', class: 'x', title: 'Remove', onclick: () => this.unselect(i) }, '×'))));
    const places = this.standing || [];
    for (const a of places.filter((x) => x.qty > 0)) {
      list.append(h('li', {}, h('span', {}, `${a.qty} × ${a.name} (standing)`), typeSelect(this, standingKey(a.name), `${a.name} (standing)`),
        h('span', { class: 'price' }, money(a.qty * Number(placePrice(a)), a.currency))));
    }
    const n = seats.length + places.reduce((k, a) => k + a.qty, 0);
    if (!n) list.append(h('li', { class: 'muted' }, 'No seats selected: click green seats on the map.'));
    const total = seats.reduce((a, i) => a + Number(seatPrice(i)), 0) + places.reduce((k, a) => k + a.qty * Number(placePrice(a)), 0);
    $('selection-total').textContent = n ? `${n} seat${n > 1 ? 's' : ''} · ${money(total, this.tickets[0].currency)}` : '';
    const queued = !!this.checkout.place;
    const onSale = this.onSale();
    $('hold-button').disabled = !onSale || !n || n > MAX_SEATS || !!this.checkout.hold || this.checkout.busy || queued;
    $('hold-button').textContent = !onSale ? 'Not on sale' : queued ? 'Waiting for your turn…' : 'Hold seats';
    this.keys?.update();
  }

  renderPrices() {
    const sections = [...this.map.sections].sort((a, b) => Number(b.price) - Number(a.price));
    $('prices').replaceChildren(...sections.map((s) => h('li', {},
      h('span', {}, `Section ${s.name}`), h('span', { class: 'price' }, money(s.price, s.currency)))));
  }
}
