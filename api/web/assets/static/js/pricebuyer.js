// pricebuyer.js (h19ui): ticket types, promo codes and price lines on the
// seat page (docs/pricing.md). When the event has ticket types the buyer
// picks one per selected seat and per standing area (or one for all; the
// first type by default); a promo code goes with the reserve; the hold and
// "My bookings" show the booking's price lines beside its total.

import { $, h, money } from './api.js';

/** typesOf is the event's ticket types ([] for a one-price event). */
export function typesOf(page) {
  return page.event?.ticket_types || [];
}

/** standingKey is the type key of a standing area (seats use their index). */
export const standingKey = (name) => `standing:${name}`;

/** typeOf is the type chosen for key: its own, else the one for all, else the first. */
export function typeOf(page, key) {
  const types = typesOf(page);
  if (!types.length) return '';
  const known = (t) => t && types.some((x) => x.name === t);
  const own = page.types?.get(key);
  if (known(own)) return own;
  return known(page.typeAll) ? page.typeAll : types[0].name;
}

/** priceOf is what a ticket of section costs in key's type (base: the section's price). */
export function priceOf(page, key, section, base) {
  const name = typeOf(page, key);
  const t = typesOf(page).find((x) => x.name === name);
  return t?.prices?.[section] ?? base;
}

/** typeSelect is the type picker of one seat or standing area ('' without types). */
export function typeSelect(page, key, label) {
  const types = typesOf(page);
  if (!types.length) return '';
  const cur = typeOf(page, key);
  return h('select', {
    class: 'ticket-type', 'aria-label': `Ticket type for ${label}`, dataset: { key: String(key) },
    onchange: (e) => {
      page.types ||= new Map();
      page.types.set(key, e.target.value);
      page.renderSelection();
    },
  }, types.map((t) => h('option', { value: t.name, selected: t.name === cur }, t.name)));
}

/** renderPricing shows the "one type for all" picker when the event has types. */
export function renderPricing(page) {
  const types = typesOf(page);
  const all = $('type-all');
  if (!all) return;
  $('type-all-wrap').hidden = !types.length;
  if (!types.length) return;
  const cur = page.typeAll || types[0].name;
  if ([...all.options].map((o) => o.value).join('\n') !== types.map((t) => t.name).join('\n')) {
    all.replaceChildren(...types.map((t) => h('option', { value: t.name }, t.name)));
  }
  all.onchange = () => { // this page's (the view may have moved to another event)
    page.typeAll = all.value;
    page.types = new Map(); // one type for all: the per-seat picks are gone
    page.renderSelection();
  };
  all.value = cur;
}

/**
 * reserveExtras adds the types and the promo code to a reserve body: one
 * type per seat (in ticket_ids order) and a ticket_type per standing entry.
 */
export function reserveExtras(page, indices, standing) {
  showPromoError('');
  const out = {};
  if (typesOf(page).length) {
    if (indices.length) out.ticket_types = indices.map((i) => typeOf(page, i));
    for (const s of standing) s.ticket_type = typeOf(page, standingKey(s.section));
  }
  const code = $('promo-code')?.value.trim();
  if (code) out.promo_code = code;
  return out;
}

/** promoRefused shows the API's message beside the code input; false if e is not about the code. */
export function promoRefused(e) {
  if (e.code !== 'invalid_argument' || e.details?.field !== 'promo_code') return false;
  showPromoError(e.message);
  return true;
}

function showPromoError(message) {
  const el = $('promo-error');
  if (!el) return;
  el.textContent = message;
  el.hidden = !message;
}

/** priceLines are a booking's price lines as list items (data-amount: the API's decimal). */
export function priceLines(b) {
  return (b.price_lines || []).map((l) => h('li', { class: 'price-line', dataset: { kind: l.kind, amount: l.amount } },
    h('span', { class: 'label' }, l.label), h('span', { class: 'price' }, money(l.amount, b.currency))));
}
