// checkout.js: holding the selected seats (POST /booking/reserve), the
// countdown to the hold's expiry, paying (POST /booking/confirm), releasing,
// and the waiting room (POST /events/{id}/queue, then the place's WebSocket,
// or polling if it fails, until admitted, then reserving with
// X-Admission-Token).

import { call, $, h, money, when, uuid, plainWords } from './api.js';
import { MARK } from './seatmap.js';
import { reserveExtras, promoRefused, priceLines } from './pricebuyer.js';

const QUEUE_POLL_MS = 1000;
// Stripe counts these currencies in whole units (the platform in hundredths).
const ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND',
  'VUV', 'XAF', 'XOF', 'XPF']);

/** Checkout is the booking flow of one EventPage. */
export class Checkout {
  constructor(page) {
    this.page = page;
    this.hold = null; // the in-progress booking, with indices, deadline and idempotency keys
    this.admission = null; // {token, expires} from the waiting room
    this.place = null; // our waiting-room place
    this.busy = false;
  }

  destroy() {
    clearInterval(this.countdownTimer);
    clearInterval(this.queueTimer);
    this.closeQueueSocket();
  }

  setBusy(busy) {
    this.busy = busy;
    $('pay-button').disabled = busy;
    $('release-button').disabled = busy;
    this.page.renderSelection();
  }

  /** holdSelected reserves the selected seats, queueing first if the event needs it. */
  async holdSelected() {
    const p = this.page;
    const best = this.best; // h19access: a best-available request (holdBest)
    const indices = best ? [] : [...p.selection];
    const standing = best ? [] : (p.standing || []).filter((a) => a.qty > 0).map((a) => ({ section: a.name, quantity: a.qty }));
    if ((!indices.length && !standing.length && !best) || this.busy || this.hold) return;
    if (!p.session.signedIn) {
      p.notice.show('Sign in (top right) to hold seats.', 'error');
      p.onSignInNeeded();
      return;
    }
    const headers = {};
    if (this.admission && this.admission.expires > Date.now()) headers['X-Admission-Token'] = this.admission.token;
    p.pending = new Set(indices);
    this.setBusy(true);
    try {
      const b = await call('POST', '/booking/reserve', {
        token: p.session.token, headers,
        body: {
          event_id: p.eventId,
          ...(indices.length ? { ticket_ids: indices.map((i) => p.tickets[i].ticket_id) } : {}),
          ...(standing.length ? { standing } : {}),
          ...(best ? { best_available: best } : {}),
          ...(best ? {} : reserveExtras(p, indices, standing)), // h19ui: types and promo code
        },
      });
      this.best = null;
      if (standing.length) {
        // The server picked the places: the hold is every ticket it names.
        for (const a of p.standing) a.qty = 0;
        p.renderStanding();
      }
      this.start(b, b.ticket_ids.map((id) => p.index.get(id)).filter((i) => i !== undefined));
      p.notice.show('Seats held. Pay before the countdown runs out.', 'ok', 5000);
    } catch (e) {
      if (e.code !== 'queue_required') this.best = null;
      if (e.code === 'queue_required') {
        this.admission = null;
        this.joinQueue();
      } else if (promoRefused(e)) {
        p.notice.show(`The promo code was not accepted: ${e.message}. Nothing was held.`, 'error');
      } else if (best && this.bestFailed(e, best)) {
        // said by bestFailed
      } else if (e.code === 'seat_unavailable' && e.details.section) {
        p.notice.show(`Sorry, ${e.details.section} has only ${e.details.left} place${e.details.left === 1 ? '' : 's'} left. Nothing was held; ask for fewer and try again.`, 'error');
      } else if (e.code === 'seat_unavailable') {
        const taken = (e.details.ticket_ids || []).map((id) => p.index.get(id)).filter((i) => i !== undefined);
        for (const i of taken) p.unselect(i);
        const names = taken.map((i) => p.label(i)).join(', ') || 'Some of your seats';
        p.notice.show(`Sorry, ${names} ${taken.length > 1 ? 'were' : 'was'} taken by someone else meanwhile. Nothing was held; pick other seats and try again.`, 'error');
      } else {
        p.notice.error(e);
      }
    } finally {
      p.pending = null;
      this.setBusy(false);
      if (!this.hold) p.dropTaken();
    }
  }

  /**
   * holdBest (h19access) asks the server for the best n seats and holds
   * them in one step (best_available): the server picks, so two buyers
   * never race for the same seats. accessible asks for a wheelchair space
   * and companion seats beside it. The waiting room applies as for any hold.
   */
  holdBest(n, accessible) {
    const p = this.page;
    if (p.holding()) return;
    p.clearSelection();
    this.best = { quantity: Math.min(Math.max(1, Math.floor(n)), 10), ...(accessible ? { accessible: true } : {}) };
    return this.holdSelected();
  }

  /** bestFailed says why a best-available hold found nothing; false for other errors. */
  bestFailed(e, best) {
    if (e.code !== 'seat_unavailable') return false;
    const what = best.accessible ? `a wheelchair space with ${best.quantity - 1} seat${best.quantity === 2 ? '' : 's'} beside it` : `${best.quantity} seat${best.quantity > 1 ? 's' : ''}`;
    this.page.notice.show(`Sorry, there is no ${what} left. Nothing was held; ask for fewer or pick seats on the map.`, 'error');
    return true;
  }

  /** start shows a new hold: the seats turn "yours" and the countdown runs. */
  start(b, indices) {
    const p = this.page;
    // The hold's length by the server's clock, counted on ours: immune to skew.
    const ttl = b.created_at ? Date.parse(b.expires_at) - Date.parse(b.created_at) : Date.parse(b.expires_at) - Date.now();
    this.hold = { ...b, indices, deadline: Date.now() + ttl, keys: {} };
    for (const i of indices) {
      p.selection.delete(i);
      p.map.setMark(i, MARK.mine);
    }
    p.renderSelection();
    // h19ui: each ticket's type (b.ticket_types, in ticket_ids order) and its price.
    const typeOfId = new Map((b.ticket_types || []).map((ty, k) => [b.ticket_ids[k], ty]));
    const typed = (i) => {
      const ty = typeOfId.get(p.tickets[i].ticket_id);
      const t = ty && (p.event.ticket_types || []).find((x) => x.name === ty);
      return { ty, price: t?.prices?.[p.tickets[i].section] ?? p.tickets[i].price };
    };
    $('hold-seats').replaceChildren(...indices.map((i) => h('li', {}, h('span', {}, p.label(i) + (typed(i).ty ? ` · ${typed(i).ty}` : '')),
      h('span', { class: 'price' }, money(typed(i).price, p.tickets[i].currency)))));
    $('hold-total').textContent = `Total ${money(b.total_price, b.currency)}`;
    $('hold-total').dataset.total = b.total_price;
    $('hold-lines').replaceChildren(...priceLines(b)); // h19ui: tickets, discount, fees, tax
    $('confirm-card').hidden = true;
    $('hold-card').hidden = false;
    this.mountStripe(b);
    clearInterval(this.countdownTimer);
    this.tick();
    this.countdownTimer = setInterval(() => this.tick(), 250);
  }

  tick() {
    if (!this.hold) return;
    const left = Math.max(0, this.hold.deadline - Date.now());
    const s = Math.ceil(left / 1000);
    const el = $('countdown');
    el.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    el.dataset.urgent = String(s <= 60);
    if (left <= 0) this.end('Your hold ran out before payment, so the seats went back on sale. Please pick seats again.');
  }

  /** end forgets the hold (expired or released); its seats stop being ours. */
  end(message, tone = 'error') {
    const p = this.page;
    if (!this.hold) return;
    for (const i of this.hold.indices) p.map.setMark(i, MARK.none);
    this.hold = null;
    clearInterval(this.countdownTimer);
    $('hold-card').hidden = true;
    p.renderSelection();
    if (message) p.notice.show(message, tone);
  }

  /**
   * mountStripe shows Stripe's Payment Element for the hold when the page
   * is in stripe mode (the node put a #payment-element mount point with
   * the publishable key in place of the test cards). Kept thin: Stripe.js
   * cannot be loaded in this repository's tests.
   */
  mountStripe(b) {
    const el = $('payment-element');
    if (!el || !window.Stripe) return;
    this.stripe ||= window.Stripe(el.dataset.stripeKey);
    const units = Number(b.total_price) * (ZERO_DECIMAL.has(b.currency.toUpperCase()) ? 1 : 100);
    this.elements = this.stripe.elements({ mode: 'payment', amount: Math.round(units), currency: b.currency.toLowerCase(),
      paymentMethodCreation: 'manual' });
    this.elements.create('payment').mount(el);
  }

  /** cardToken is what confirm sends: a test card, or a Stripe PaymentMethod id. */
  async cardToken() {
    if (!$('payment-element')) return $('card-token').value;
    if (!this.elements) throw new Error('the card form of Stripe could not be loaded');
    const { error: invalid } = await this.elements.submit();
    if (invalid) throw new Error(invalid.message);
    const { paymentMethod, error } = await this.stripe.createPaymentMethod({ elements: this.elements });
    if (error) throw new Error(error.message);
    return paymentMethod.id;
  }

  /** pay confirms the hold with the chosen test card (or Stripe's form). */
  async pay() {
    const p = this.page;
    const hold = this.hold;
    if (!hold || this.busy) return;
    let card;
    try {
      card = await this.cardToken();
    } catch (e) {
      p.notice.error(e);
      return;
    }
    // One key per booking and card: a retried click never charges twice,
    // and a new card after a decline is a new attempt.
    hold.keys[card] ||= uuid();
    this.setBusy(true);
    p.notice.show('Paying…', 'info');
    try {
      const b = await call('POST', '/booking/confirm', {
        token: p.session.token, headers: { 'Idempotency-Key': hold.keys[card] },
        body: { booking_id: hold.booking_id, payment: { method: 'card', token: card } },
      });
      if (b.status === 'payment-pending' && b.next_action && b.next_action.url) {
        // 3-D Secure: the bank's page; the seats stay held until it settles.
        window.location.assign(b.next_action.url);
        return;
      }
      this.confirmed(b, hold.indices);
    } catch (e) {
      if (e.code === 'hold_expired') this.end(plainWords(e));
      else p.notice.error(e);
    } finally {
      this.setBusy(false);
    }
  }

  confirmed(b, indices) {
    const p = this.page;
    this.hold = null;
    clearInterval(this.countdownTimer);
    $('hold-card').hidden = true;
    $('confirm-text').textContent = `Booking ${b.booking_id.slice(0, 8)} is confirmed: ${indices.length} seat${indices.length > 1 ? 's' : ''}, ${money(b.total_price, b.currency)}, paid ${when(b.confirmed_at)}.`;
    $('confirm-seats').replaceChildren(...indices.map((i) => h('li', {}, p.label(i))));
    $('confirm-card').hidden = false;
    $('confirm-card').dataset.bookingId = b.booking_id;
    p.renderSelection();
    p.notice.show('Payment accepted: your seats are booked. See "My bookings" any time.', 'ok', 8000);
  }

  /** release gives the held seats back at once. */
  async release() {
    const p = this.page;
    if (!this.hold || this.busy) return;
    this.setBusy(true);
    try {
      await call('DELETE', `/booking/${this.hold.booking_id}`, { token: p.session.token });
      this.end('Your seats were released.', 'info');
    } catch (e) {
      if (e.code === 'hold_expired' || e.code === 'booking_state') this.end(plainWords(e));
      else p.notice.error(e);
    } finally {
      this.setBusy(false);
    }
  }

  /** adopt resumes an in-progress booking of this event from "My bookings". */
  adopt(b) {
    const p = this.page;
    const indices = b.ticket_ids.map((id) => p.index.get(id)).filter((i) => i !== undefined);
    if (this.hold || !indices.length) return;
    p.clearSelection();
    this.start(b, indices);
  }

  // --- the waiting room ---

  async joinQueue() {
    const p = this.page;
    clearInterval(this.queueTimer);
    try {
      const place = await call('POST', `/events/${p.eventId}/queue`, { token: p.session.token });
      this.firstPosition = place.position;
      this.showPlace(place);
      if (place.state !== 'admitted' && place.state !== 'open') this.watchQueue(place.queue_id);
    } catch (e) {
      p.notice.error(e);
    }
  }

  /**
   * watchQueue follows our place on the queue WebSocket (admission is
   * pushed at once, the position every few seconds); if the socket fails
   * or closes while we still wait, it polls GET .../queue/{id} instead.
   */
  watchQueue(queueId) {
    this.closeQueueSocket();
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/events/${encodeURIComponent(this.page.eventId)}/queue/${encodeURIComponent(queueId)}/ws`);
    this.queueSocket = ws;
    ws.onmessage = (m) => {
      this.queueDrained = false;
      try { this.showPlace(JSON.parse(m.data)); } catch { /* a garbled frame: the next one or the poll corrects it */ }
    };
    ws.onclose = (e) => {
      if (this.queueSocket !== ws) return;
      this.queueSocket = null;
      if (e.code === 1012 && this.place && this.place.state === 'waiting' && !this.queueDrained) {
        // The node drains (1012 "draining"): the place lives on in the
        // cluster, so follow it again at once through another node.
        this.queueDrained = true;
        this.watchQueue(this.place.queue_id);
      } else if (this.place && this.place.state === 'expired') {
        this.page.notice.show('Your place in the waiting room expired; joining again.', 'info');
        this.joinQueue();
      } else if (this.place) {
        clearInterval(this.queueTimer);
        this.queueTimer = setInterval(() => this.pollQueue(), QUEUE_POLL_MS);
      }
    };
  }

  closeQueueSocket() {
    const ws = this.queueSocket;
    this.queueSocket = null;
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
  }

  async pollQueue() {
    if (!this.place) return;
    try {
      const place = await call('GET', `/events/${this.page.eventId}/queue/${this.place.queue_id}`);
      if (place.state === 'expired') {
        this.page.notice.show('Your place in the waiting room expired; joining again.', 'info');
        this.joinQueue();
        return;
      }
      this.showPlace(place);
    } catch (e) {
      if (e.code !== 'network' && e.code !== 'unavailable') this.page.notice.error(e);
    }
  }

  showPlace(place) {
    if (place.state === 'expired') {
      this.place = place; // the socket's close (or the poll) joins again
      return;
    }
    this.place = place;
    const card = $('queue-card');
    if (place.state === 'open') {
      // The room is off: holding needs no token. Try again a moment later,
      // so that a node still catching up with the switch is not asked in a loop.
      clearInterval(this.queueTimer);
      this.closeQueueSocket();
      card.hidden = true;
      this.place = null;
      this.admission = null;
      setTimeout(() => this.holdSelected(), QUEUE_POLL_MS);
      return;
    }
    card.hidden = false;
    if (place.state === 'admitted') {
      clearInterval(this.queueTimer);
      this.closeQueueSocket();
      card.hidden = true;
      this.place = null;
      this.page.renderSelection();
      this.admission = { token: place.admission_token, expires: place.expires_at ? Date.parse(place.expires_at) : Date.now() + 60000 };
      this.page.notice.show("It's your turn! Holding your seats…", 'ok');
      this.holdSelected();
      return;
    }
    const wait = place.estimated_wait_seconds;
    $('queue-text').textContent = `This event is busy, so you are in a waiting room. You are number ${place.position.toLocaleString()} in line` +
      (wait != null ? `; the estimated wait is ${wait < 60 ? `${wait} s` : `${Math.ceil(wait / 60)} min`}.` : '.') +
      ' Keep this page open: your seats are held as soon as it is your turn.';
    const done = this.firstPosition ? 1 - place.position / this.firstPosition : 0;
    $('queue-bar').style.width = `${Math.round(Math.min(1, Math.max(0.03, done)) * 100)}%`;
    this.page.renderSelection();
  }

  leaveQueue() {
    clearInterval(this.queueTimer);
    this.closeQueueSocket();
    this.place = null;
    this.page.renderSelection();
    $('queue-card').hidden = true;
    this.page.notice.show('You left the waiting room.', 'info', 3000);
  }
}
