// lists.js: the admin dashboard's catalog lists (GET /admin/api/events,
// /venues, /performers, paged by cursor) with an edit form per item (PATCH
// /admin/api/events/{id}, /venues/{id}, /performers/{id}). An organiser's
// token lists its own organisation's items only (the server scopes them),
// and the event form picks venues and performers from these lists instead
// of pasted ids.

import { call, $, h, when } from './api.js';
import { pricingFields, readPricing } from './pricingform.js';

const PAGE = 50;

/** The edit form's fields per kind: [field, label]. */
const FIELDS = {
  event: [['name', 'Name'], ['description', 'Description']],
  venue: [['name', 'Name'], ['city', 'City'], ['address', 'Address']],
  performer: [['name', 'Name'], ['biography', 'Biography']],
};

const PATHS = { event: '/admin/api/events/', venue: '/admin/api/venues/', performer: '/admin/api/performers/' };

/** Lists draws the three lists and the edit form. */
export class Lists {
  /** @param ctx {session, notice, watch} */
  constructor(ctx) {
    this.session = ctx.session;
    this.notice = ctx.notice;
    this.watch = ctx.watch;
    this.cursors = {};
    this.editing = null; // {kind, id}
    for (const kind of ['events', 'venues', 'performers']) {
      $(`${kind}-more`).addEventListener('click', () => this.load(kind, true).catch((e) => this.notice.error(e)));
    }
    $('edit-form').addEventListener('submit', (e) => { e.preventDefault(); this.save(); });
    $('edit-cancel').addEventListener('click', () => this.closeEdit());
  }

  /** refresh reloads the first page of every list. */
  async refresh() {
    await Promise.all(['events', 'venues', 'performers'].map((k) => this.load(k, false)));
    document.body.dataset.listsReady = 'true';
  }

  /** load fetches one page of a list: the first, or the next (more). */
  async load(kind, more) {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (more && this.cursors[kind]) q.set('cursor', this.cursors[kind]);
    const r = await call('GET', `/admin/api/${kind}?${q}`, { token: this.session.token });
    this.cursors[kind] = r.next_cursor || '';
    $(`${kind}-more`).hidden = !r.next_cursor;
    const rows = r[kind].map((item) => this.row(kind, item));
    const body = $(`${kind}-list`).tBodies[0];
    if (more) body.append(...rows); else body.replaceChildren(...rows);
    if (!body.rows.length) body.replaceChildren(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, `No ${kind} yet.`)));
    if (kind === 'venues') this.options('venue-options', r.venues.map((x) => [x.venue.venue_id, `${x.venue.name}, ${x.venue.city}`]), more);
    if (kind === 'performers') this.options('performer-options', r.performers.map((x) => [x.performer.performer_id, x.performer.name]), more);
  }

  /** options fills a datalist, so the event form picks ids by name. */
  options(id, pairs, more) {
    const opts = pairs.map(([value, label]) => h('option', { value, label }));
    if (more) $(id).append(...opts); else $(id).replaceChildren(...opts);
  }

  row(kind, item) {
    const org = item.org_id ? h('span', { class: 'mono small' }, item.org_id.slice(0, 8)) : h('span', { class: 'muted small' }, 'shared');
    if (kind === 'events') {
      const e = item.event;
      return h('tr', { dataset: { id: e.event_id } },
        h('td', {}, h('a', { href: `/admin/?event=${e.event_id}`, onclick: (x) => { x.preventDefault(); this.watch(e.event_id); } }, e.name)),
        h('td', { class: 'small' }, `${when(e.starts_at)} · ${e.status}`),
        h('td', {}, org),
        h('td', {}, this.editButton('event', e.event_id, e)));
    }
    if (kind === 'venues') {
      const v = item.venue;
      return h('tr', { dataset: { id: v.venue_id } },
        h('td', {}, v.name), h('td', { class: 'small' }, `${v.city} · ${v.capacity.toLocaleString()} seats`),
        h('td', {}, org), h('td', {}, this.editButton('venue', v.venue_id, v)));
    }
    const p = item.performer;
    return h('tr', { dataset: { id: p.performer_id } },
      h('td', {}, p.name), h('td', { class: 'small muted' }, (p.biography || '').slice(0, 60)),
      h('td', {}, org), h('td', {}, this.editButton('performer', p.performer_id, p)));
  }

  editButton(kind, id, item) {
    return h('button', { type: 'button', class: 'ghost edit', dataset: { kind, id }, onclick: () => this.openEdit(kind, id, item) }, 'Edit');
  }

  openEdit(kind, id, item) {
    this.editing = { kind, id };
    $('edit-title').textContent = `Edit ${kind} ${item.name}`;
    $('edit-fields').replaceChildren(...FIELDS[kind].flatMap(([f, label]) => [
      h('label', { for: `edit-${f}` }, label),
      h('input', { id: `edit-${f}`, value: item[f] || '', dataset: { field: f } }),
    ]));
    // h19ui: an event's pricing; a PATCH sends only the parts edited, and
    // ticket types may only be appended (docs/pricing.md).
    if (kind === 'event') $('edit-fields').append(...pricingFields('edit', item));
    $('edit-card').hidden = false;
    $('edit-card').scrollIntoView({ block: 'nearest' });
  }

  closeEdit() {
    this.editing = null;
    $('edit-card').hidden = true;
  }

  async save() {
    if (!this.editing) return;
    const { kind, id } = this.editing;
    const body = {};
    for (const input of $('edit-fields').querySelectorAll('input[data-field]')) body[input.dataset.field] = input.value.trim();
    try {
      if (kind === 'event') Object.assign(body, readPricing($('edit-fields'), 'edit', true));
    } catch (e) {
      this.notice.show(e.message, 'error');
      return;
    }
    try {
      await call('PATCH', PATHS[kind] + id, { token: this.session.token, body });
    } catch (e) {
      this.notice.error(e);
      return;
    }
    this.notice.show(`Saved the ${kind}.`, 'ok', 3000);
    this.closeEdit();
    await this.refresh().catch((e) => this.notice.error(e));
  }
}
