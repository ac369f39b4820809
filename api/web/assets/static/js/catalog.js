// catalog.js: the admin dashboard's catalog forms: a venue with a seat-map
// builder (sections x rows x seats, a price tier per section), a performer
// and an event (POST /admin/api/venues, /performers, /events). Each form
// sends a client-chosen "id" and keeps it until the request succeeds or the
// form changes, so a retry after a timeout never creates a duplicate.

import { call, $, h, sizedCanvas, uuid } from './api.js';
import { BlockPlacer } from './venueplace.js';
import { pricingFields, readPricing } from './pricingform.js';

const MAX_ROWS = 500;
const MAX_SEATS_PER_ROW = 500;

/** Catalog wires the three forms. */
export class Catalog {
  /** @param ctx {session, notice} */
  constructor(ctx) {
    this.session = ctx.session;
    this.notice = ctx.notice;
    this.ids = {}; // form -> the id of its pending creation
    this.sections = [
      { name: 'A', rows: 10, seats: 20, price: '150.00' },
      { name: 'B', rows: 15, seats: 25, price: '90.00' },
      { name: 'C', rows: 20, seats: 30, price: '45.00' },
    ];
    this.placer = new BlockPlacer(this); // placed blocks (venueplace.js)
    this.renderBuilder();
    // The dashboard may be hidden (0 x 0) when this runs: draw again on resize.
    new ResizeObserver(() => this.preview()).observe($('builder-preview'));
    $('add-section').addEventListener('click', () => {
      const k = this.sections.length;
      this.sections.push({ name: sectionName(k), rows: 10, seats: 20, price: '50.00' });
      this.renderBuilder();
    });
    for (const form of ['venue-form', 'performer-form', 'event-form']) {
      $(form).addEventListener('input', () => { delete this.ids[form]; });
    }
    $('venue-form').addEventListener('submit', (e) => { e.preventDefault(); this.createVenue(); });
    $('performer-form').addEventListener('submit', (e) => { e.preventDefault(); this.createPerformer(); });
    $('event-form').addEventListener('submit', (e) => { e.preventDefault(); this.createEvent(); });
    const d = new Date(Date.now() + 30 * 86400000);
    d.setMinutes(0, 0, 0);
    d.setHours(20);
    $('e-starts').value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T20:00`;
    $('e-desc').after(...pricingFields('e')); // h19ui: ticket types, fees, promo codes
  }

  renderBuilder() {
    const body = $('builder').tBodies[0];
    body.replaceChildren(...this.sections.map((s, k) => {
      const field = (key, attrs) => h('input', {
        ...attrs, value: s[key], 'aria-label': `Section ${k + 1} ${key}`, dataset: { k, key },
        oninput: (e) => {
          s[key] = attrs.type === 'number' ? Math.floor(Number(e.target.value) || 0) : e.target.value.trim();
          this.renderTotals();
        },
      });
      return h('tr', {},
        h('td', {}, field('name', { type: 'text', required: true, maxlength: 50 })),
        h('td', {}, field('rows', { type: 'number', min: 1, max: MAX_ROWS, required: true })),
        h('td', {}, field('seats', { type: 'number', min: 1, max: MAX_SEATS_PER_ROW, required: true })),
        h('td', {}, field('price', { type: 'text', inputmode: 'decimal', pattern: '\\d+(\\.\\d{1,2})?', required: true })),
        h('td', {}, wheelchairField(s, k, () => this.renderTotals())),
        h('td', {}, this.sections.length > 1 ? h('button', {
          type: 'button', class: 'x', title: 'Remove section',
          onclick: () => { this.sections.splice(k, 1); delete this.ids['venue-form']; this.renderBuilder(); },
        }, '×') : ''));
    }));
    this.renderTotals();
  }

  renderTotals() {
    const seats = this.sections.reduce((a, s) => a + s.rows * s.seats, 0);
    $('builder-total').textContent = `${this.sections.length} section${this.sections.length > 1 ? 's' : ''}, ${seats.toLocaleString()} seats`;
    this.preview();
    this.placer?.sync();
  }

  /** preview draws the sections as blocks of seats, side by side. */
  preview() {
    const c = $('builder-preview');
    const sized = sizedCanvas(c);
    if (!sized) return;
    const { ctx, w, h: hgt } = sized;
    const gap = 2;
    const cols = this.sections.reduce((a, s) => a + Math.max(1, s.seats), 0) + gap * (this.sections.length - 1);
    const rows = Math.max(1, ...this.sections.map((s) => s.rows)) + 4;
    const cell = Math.max(0.5, Math.min((w - 10) / cols, (hgt - 10) / rows));
    let x = (w - cols * cell) / 2;
    const y0 = 5 + 2 * cell;
    ctx.fillStyle = '#2b3440';
    ctx.fillRect(w * 0.3, 2, w * 0.4, Math.max(3, cell * 1.2));
    const tiers = [...new Set(this.sections.map((s) => Number(s.price)))].sort((a, b) => b - a);
    const colors = ['#2e9d5b', '#1f6feb', '#8250df', '#f0a030', '#c93c37', '#66707c'];
    for (const s of this.sections) {
      ctx.fillStyle = colors[tiers.indexOf(Number(s.price)) % colors.length];
      const size = cell > 2 ? cell - 1 : cell;
      for (let r = 0; r < Math.min(s.rows, MAX_ROWS); r++) {
        if (cell > 2) for (let k = 0; k < s.seats; k++) ctx.fillRect(x + k * cell, y0 + r * cell, size, size);
        else ctx.fillRect(x, y0 + r * cell, s.seats * cell, size);
      }
      x += (Math.max(1, s.seats) + gap) * cell;
    }
  }

  /** idFor is the pending creation id of a form, made on first use. */
  idFor(form) {
    this.ids[form] ||= uuid();
    return this.ids[form];
  }

  async submit(form, button, path, body, done) {
    $(button).disabled = true;
    try {
      const r = await call('POST', path, { token: this.session.token, body: { id: this.idFor(form), ...body } });
      delete this.ids[form];
      done(r);
      document.dispatchEvent(new CustomEvent('catalog-changed'));
    } catch (e) {
      this.notice.error(e);
      $(form.replace('-form', '-result')).textContent = '';
    } finally {
      $(button).disabled = false;
    }
  }

  createVenue() {
    const bad = this.sections.find((s) => !s.name || s.rows < 1 || s.rows > MAX_ROWS || s.seats < 1 || s.seats > MAX_SEATS_PER_ROW || !/^\d+(\.\d{1,2})?$/.test(s.price));
    if (bad) {
      this.notice.show(`Section "${bad.name || '?'}" needs a name, 1..${MAX_ROWS} rows, 1..${MAX_SEATS_PER_ROW} seats per row and a price like 49.50.`, 'error');
      return;
    }
    const tooMany = this.sections.find((s) => 2 * (s.wheelchair || 0) > s.seats);
    if (tooMany) {
      this.notice.show(`Section "${tooMany.name}" has room for at most ${Math.floor(tooMany.seats / 2)} wheelchair spaces (each with a companion seat) in its last row.`, 'error');
      return;
    }
    const names = new Set(this.sections.map((s) => s.name));
    if (names.size !== this.sections.length) {
      this.notice.show('Every section needs its own name.', 'error');
      return;
    }
    const body = {
      name: $('v-name').value.trim(), city: $('v-city').value.trim(), address: $('v-address').value.trim(),
      location: { lat: Number($('v-lat').value), lon: Number($('v-lon').value) },
      seat_map: {
        sections: this.sections.map((s) => ({
          name: s.name, rows: withWheelchair(s, Array.from({ length: s.rows }, (_, r) => ({ name: String(r + 1), seats: s.seats }))),
          ...this.placer.placeOf(s),
        })),
      },
    };
    this.submit('venue-form', 'venue-create', '/admin/api/venues', body, (v) => {
      $('venue-result').replaceChildren('Created ', h('strong', {}, v.name), ` (${v.capacity.toLocaleString()} seats): `, h('span', { class: 'mono' }, v.venue_id));
      $('venue-result').dataset.venueId = v.venue_id;
      $('e-venue').value = v.venue_id;
      $('e-prices').value = this.sections.map((s) => `${s.name}=${Number(s.price).toFixed(2)}`).join(', ');
      this.notice.show(`Venue ${v.name} created; the event form below now uses it.`, 'ok', 4000);
    });
  }

  createPerformer() {
    const body = { name: $('p-name').value.trim(), biography: $('p-bio').value.trim() };
    this.submit('performer-form', 'performer-create', '/admin/api/performers', body, (p) => {
      $('performer-result').replaceChildren('Created ', h('strong', {}, p.name), ': ', h('span', { class: 'mono' }, p.performer_id));
      $('performer-result').dataset.performerId = p.performer_id;
      $('e-performer').value = p.performer_id;
      this.notice.show(`Performer ${p.name} created.`, 'ok', 4000);
    });
  }

  createEvent() {
    const prices = {};
    for (const part of $('e-prices').value.split(',')) {
      const [k, v] = part.split('=').map((x) => (x || '').trim());
      if (!k || !/^\d+(\.\d{1,2})?$/.test(v || '')) {
        this.notice.show('Prices are "section=amount" pairs separated by commas, like A=149.50, B=89.00.', 'error');
        return;
      }
      prices[k] = Number(v).toFixed(2);
    }
    const starts = new Date($('e-starts').value);
    if (Number.isNaN(starts.getTime())) {
      this.notice.show('Pick when the event starts.', 'error');
      return;
    }
    const body = {
      name: $('e-name').value.trim(), type: $('e-type').value, description: $('e-desc').value.trim(),
      starts_at: starts.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      venue_id: $('e-venue').value.trim(), performer_id: $('e-performer').value.trim(),
      currency: $('e-currency').value.trim().toUpperCase(), prices,
    };
    try {
      Object.assign(body, readPricing($('event-form'), 'e')); // h19ui
    } catch (e) {
      this.notice.show(e.message, 'error');
      return;
    }
    this.submit('event-form', 'event-create', '/admin/api/events', body, (r) => {
      const id = r.event.event_id;
      $('event-result').replaceChildren('Created ', h('a', { href: `/events/${id}` }, r.event.name),
        ` with ${r.tickets.toLocaleString()} tickets. `, h('a', { href: `/admin/?event=${id}` }, 'Live view'));
      $('event-result').dataset.eventId = id;
      $('event-result').dataset.tickets = r.tickets;
      this.notice.show(`Event ${r.event.name} is on sale.`, 'ok', 4000);
    });
  }
}

function sectionName(k) {
  let s = '';
  for (k += 1; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

const pad = (n) => String(n).padStart(2, '0');

// h19access: accessible seats in the builder. A section's wheelchair spaces
// are in its last row (where a platform usually is), from the left: space j
// is seat 2j+1 and its companion seat 2j+2, beside it.

/** wheelchairField is the builder's input for a section's wheelchair spaces. */
function wheelchairField(s, k, changed) {
  return h('input', {
    type: 'number', min: 0, max: MAX_SEATS_PER_ROW, value: s.wheelchair || 0, class: 'narrow',
    'aria-label': `Section ${k + 1} wheelchair spaces`, dataset: { k, key: 'wheelchair' },
    oninput: (e) => {
      s.wheelchair = Math.max(0, Math.floor(Number(e.target.value) || 0));
      changed();
    },
  });
}

/** withWheelchair flags the wheelchair spaces and companion seats on a section's last row. */
function withWheelchair(s, rows) {
  const n = s.wheelchair || 0;
  if (!n || !rows.length) return rows;
  const last = rows[rows.length - 1];
  last.wheelchair = Array.from({ length: n }, (_, j) => 2 * j + 1);
  last.companion = Array.from({ length: n }, (_, j) => 2 * j + 2);
  return rows;
}
