// search.js: the search box (GET /search with its filters: text, type,
// city, near me, dates, sort) and the result list.

import { call, $, h, money, eventNames } from './api.js';

const PAGE_SIZE = 20;

/** SearchView owns the search form and the result list. */
export class SearchView {
  /** @param ctx {notice, onOpen(eventId)} */
  constructor(ctx) {
    this.notice = ctx.notice;
    this.onOpen = ctx.onOpen;
    this.page = 1;
    this.coords = null;
    this.loaded = false;
    $('search-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.run(1);
    });
    $('more-button').addEventListener('click', () => this.run(this.page + 1));
    $('near').addEventListener('change', () => this.nearMe());
  }

  /** nearMe asks the browser where we are, for near= and distance sorting. */
  nearMe() {
    if (!$('near').checked) {
      this.coords = null;
      if ($('sort').value === 'distance') $('sort').value = '';
      return;
    }
    if (!navigator.geolocation) {
      $('near').checked = false;
      this.notice.show('This browser cannot tell where you are; type a city instead.', 'error');
      return;
    }
    navigator.geolocation.getCurrentPosition((pos) => {
      this.coords = { lat: pos.coords.latitude, lon: pos.coords.longitude };
      if (!$('sort').value) $('sort').value = 'distance';
      this.run(1);
    }, (err) => {
      $('near').checked = false;
      this.coords = null;
      this.notice.show(`Your location is not available (${err.message || 'permission denied'}); type a city instead.`, 'error');
    }, { timeout: 10000, maximumAge: 600000 });
  }

  params(page) {
    const p = new URLSearchParams();
    const add = (k, v) => { if (v) p.set(k, v); };
    add('q', $('q').value.trim());
    add('type', $('type').value);
    add('city', $('city').value.trim());
    add('from', $('from').value);
    add('to', $('to').value);
    let sort = $('sort').value;
    if (this.coords) {
      p.set('near', `${this.coords.lat.toFixed(5)},${this.coords.lon.toFixed(5)}`);
      add('radius_km', $('radius').value);
    } else if (sort === 'distance') {
      sort = '';
    }
    if (sort === '' && !p.has('q')) sort = 'date';
    add('sort', sort);
    p.set('page', page);
    p.set('page_size', PAGE_SIZE);
    return p;
  }

  /** run searches and shows page `page` (appended when it is not the first). */
  async run(page = 1) {
    this.loaded = true;
    $('search-button').disabled = true;
    try {
      const r = await call('GET', '/search?' + this.params(page));
      this.page = page;
      this.render(r, page > 1);
    } catch (e) {
      this.notice.error(e);
    } finally {
      $('search-button').disabled = false;
    }
  }

  render(r, append) {
    const items = r.results.map((e) => this.item(e));
    if (append) $('results').append(...items); else $('results').replaceChildren(...items);
    const shown = $('results').children.length;
    $('search-summary').textContent = r.total === 0 ? 'No events match. Try fewer words or filters.'
      : `${r.total.toLocaleString()} event${r.total > 1 ? 's' : ''}${shown < r.total ? `, showing ${shown}` : ''}`;
    $('more-button').hidden = shown >= r.total;
  }

  item(e) {
    eventNames.put(e.event_id, e.name);
    const d = new Date(e.starts_at);
    const open = (ev) => {
      ev.preventDefault();
      this.onOpen(e.event_id);
    };
    return h('li', {},
      h('a', { class: 'result', href: `/events/${e.event_id}`, dataset: { eventId: e.event_id }, onclick: open },
        h('div', { class: 'date' },
          h('span', { class: 'day' }, d.toLocaleDateString(undefined, { day: 'numeric' })),
          h('span', { class: 'mon' }, d.toLocaleDateString(undefined, { month: 'short', year: 'numeric' }))),
        h('div', { class: 'what' },
          h('strong', { class: 'name' }, e.name),
          h('span', { class: 'muted' }, `${e.performer.name} · ${e.venue.name}, ${e.venue.city} · ${d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`),
          h('span', { class: 'tag' }, e.type)),
        h('div', { class: 'from' },
          e.min_price ? h('span', {}, 'from ', h('strong', {}, money(e.min_price, e.currency))) : null,
          h('span', { class: 'muted small' }, saleLabel(e)))));
  }
}

/** saleLabel is a result's availability in words, by its status. */
function saleLabel(e) {
  switch (e.status) {
    case 'scheduled': return `on sale from ${new Date(e.sale_starts_at).toLocaleDateString()}`;
    case 'sale-ended': return 'sale ended';
    case 'cancelled': return 'cancelled';
  }
  return e.available_seats > 0 ? `${e.available_seats.toLocaleString()} seats left` : 'sold out';
}
