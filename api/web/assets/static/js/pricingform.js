// pricingform.js (h19ui): the dashboard's pricing fields of an event (docs/
// pricing.md): ticket types, fees and tax, promo codes, as a few lines of
// text each, for the new-event form (catalog.js) and the event edit form
// (lists.js). One line per item:
//   types:  "adult" or "child: A=20.00, Floor=10.00" (the first is the default)
//   fees:   "Service fee = 1.50" (per ticket) or "VAT = 20%" (tax)
//   promos: "HALF 50%" or "TENOFF 10.00", then optional "limit=100",
//           "from=2026-06-01T00:00", "until=2026-07-01", "sections=A,B", "types=child"

import { h } from './api.js';

const DECIMAL = /^\d+(\.\d{1,2})?$/;

/** pricingFields is a folded part of a form grid with the pricing textareas, prefilled from an event. */
export function pricingFields(prefix, ev = {}) {
  const area = (key, label, text, placeholder) => [
    h('label', { for: `${prefix}-${key}` }, label),
    h('textarea', { id: `${prefix}-${key}`, rows: 2, class: 'mono', placeholder, dataset: { pricing: key, initial: text } }, text),
  ];
  const fields = [
    ...area('types', 'Ticket types', typesText(ev.ticket_types), 'adult\nchild: A=20.00, B=10.00'),
    ...area('fees', 'Fees and tax', feesText(ev.fees), 'Service fee = 1.50\nVAT = 20%'),
    ...area('promos', 'Promo codes', promosText(ev.promo_codes), 'HALF 50% limit=100 types=child until=2026-07-01'),
  ];
  // Folded: most events sell one price per section.
  const open = !!(ev.ticket_types?.length || ev.fees?.length || ev.promo_codes?.length);
  return [h('details', { class: 'full pricing', id: `${prefix}-pricing`, open },
    h('summary', {}, 'Ticket types, fees and promo codes'),
    h('p', { class: 'muted small' }, 'One per line. Types: "child: A=20.00" (sections left out sell at the event price; the first type is the default). ',
      'Fees: "Service fee = 1.50" per ticket, "VAT = 20%" tax. Codes: "HALF 50%" or "TEN 10.00", then limit=100 from=2026-06-01 until=2026-07-01 sections=A,B types=child.'),
    h('div', { class: 'form' }, fields))];
}

/**
 * readPricing parses the fields of prefix into the body's ticket_types,
 * fees and promo_codes; changedOnly leaves out the fields not edited (a
 * PATCH then keeps them). It throws an Error saying which line is wrong.
 */
export function readPricing(root, prefix, changedOnly = false) {
  const out = {};
  const parsers = { types: ['ticket_types', parseType], fees: ['fees', parseFee], promos: ['promo_codes', parsePromo] };
  for (const [key, [field, parse]] of Object.entries(parsers)) {
    const el = root.querySelector(`#${prefix}-${key}`);
    if (!el) continue;
    const text = el.value.trim();
    if (changedOnly ? text === (el.dataset.initial || '').trim() : !text) continue;
    out[field] = text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      try {
        return parse(l);
      } catch (e) {
        throw new Error(`${el.labels?.[0]?.textContent || key}: "${l}": ${e.message}`);
      }
    });
  }
  return out;
}

function parseType(line) {
  const [name, rest] = splitOnce(line, ':');
  if (!name) throw new Error('a type needs a name');
  const t = { name };
  if (rest) {
    t.prices = {};
    for (const part of rest.split(',')) {
      const [s, v] = splitOnce(part, '=');
      if (!s || !DECIMAL.test(v)) throw new Error('prices are "section=amount" pairs, like A=20.00');
      t.prices[s] = Number(v).toFixed(2);
    }
  }
  return t;
}

function parseFee(line) {
  const [label, v] = splitOnce(line, '=');
  if (!label) throw new Error('a fee needs a label');
  if (v.endsWith('%') && /^\d+(\.\d{1,2})?$/.test(v.slice(0, -1).trim())) return { kind: 'tax', label, percent: v.slice(0, -1).trim() };
  if (DECIMAL.test(v)) return { kind: 'fee', label, amount: Number(v).toFixed(2) };
  throw new Error('write "label = 1.50" for a fee per ticket or "label = 20%" for a tax');
}

function parsePromo(line) {
  const [code, off, ...opts] = line.split(/\s+/);
  const p = { code };
  if (off?.endsWith('%') && DECIMAL.test(off.slice(0, -1))) p.percent = off.slice(0, -1);
  else if (DECIMAL.test(off || '')) p.amount = Number(off).toFixed(2);
  else throw new Error('a code is followed by a percent ("50%") or an amount ("5.00")');
  for (const o of opts) {
    const [k, v] = splitOnce(o, '=');
    if (k === 'limit' && /^\d+$/.test(v)) p.limit = Number(v);
    else if ((k === 'from' || k === 'until') && !Number.isNaN(Date.parse(v))) p[k === 'from' ? 'valid_from' : 'valid_until'] = new Date(v).toISOString().replace(/\.\d{3}Z$/, 'Z');
    else if (k === 'sections' && v) p.sections = v.split(',').filter(Boolean);
    else if (k === 'types' && v) p.ticket_types = v.split(',').filter(Boolean);
    else throw new Error(`"${o}" is not one of limit=N, from=date, until=date, sections=A,B, types=child`);
  }
  return p;
}

function splitOnce(s, sep) {
  const k = s.indexOf(sep);
  return k < 0 ? [s.trim(), ''] : [s.slice(0, k).trim(), s.slice(k + 1).trim()];
}

function typesText(types = []) {
  return types.map((t) => t.name + (t.prices && Object.keys(t.prices).length
    ? ': ' + Object.entries(t.prices).map(([s, v]) => `${s}=${v}`).join(', ') : '')).join('\n');
}

function feesText(fees = []) {
  return fees.map((f) => `${f.label} = ${f.kind === 'tax' ? `${f.percent}%` : f.amount}`).join('\n');
}

function promosText(codes = []) {
  return codes.map((p) => [p.code, p.percent ? `${p.percent}%` : p.amount,
    p.limit ? `limit=${p.limit}` : '', p.valid_from ? `from=${p.valid_from}` : '', p.valid_until ? `until=${p.valid_until}` : '',
    p.sections?.length ? `sections=${p.sections.join(',')}` : '', p.ticket_types?.length ? `types=${p.ticket_types.join(',')}` : '']
    .filter(Boolean).join(' ')).join('\n');
}
