// reportview.js: an event's sales report on the admin dashboard (GET
// /admin/api/events/{id}/report): totals, sales by section and over time as
// plain SVG bar charts, check-ins at the door by section and over time
// (beside the tickets each section has valid) and by gate, sales by ticket
// type, promo uses, and the CSV export
// (?format=csv, fetched with the bearer token and saved as a file). The
// report is read when an event is picked and on "Refresh", not polled: on a
// sold-out stadium it is a few hundred milliseconds of database work.

import { call, $, money } from './api.js';

const SVG = 'http://www.w3.org/2000/svg';
const SOLD = '#2e9d5b';
const REFUNDED = '#c93c37';
const CHECKED_IN = '#2f6fb0';
const VALID = '#b8c2cc';

/** svg builds an SVG element with attributes and children. */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** minor formats an amount in minor units in the report's currency. */
const minor = (amount, currency) => money((Number(amount) / 100).toFixed(2), currency);

/** niceCeil rounds up to 1, 2 or 5 times a power of ten. */
function niceCeil(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * barChart draws groups of bars (one per series: sold, refunded) on an SVG,
 * one group per item; each bar is a <rect> with data-group, data-series and
 * data-value and a <title> for screen readers and hover.
 */
export function barChart(el, items, { label, value, format, series, integer = false, empty = 'no sales yet' }) {
  const W = 640, H = 200, pad = { l: 64, r: 8, t: 22, b: 34 };
  el.replaceChildren();
  el.setAttribute('viewBox', `0 0 ${W} ${H}`);
  el.setAttribute('role', 'img');
  let top = 0;
  for (const it of items) for (const s of series) top = Math.max(top, value(it, s.key));
  top = niceCeil(top);
  if (integer) top = Math.ceil(top / 4) * 4; // whole numbers on every grid line
  const y = (v) => H - pad.b - (v / top) * (H - pad.t - pad.b);
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    el.append(svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), stroke: '#e6e9ed' }),
      svg('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#66707c' }, format(v)));
  }
  let lx = pad.l;
  for (const s of series) {
    el.append(svg('rect', { x: lx, y: 6, width: 10, height: 8, fill: s.color }),
      svg('text', { x: lx + 14, y: 14, 'font-size': 11, fill: '#1d232b' }, s.label));
    lx += 90;
  }
  if (!items.length) {
    el.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', 'font-size': 12, fill: '#66707c' }, empty));
    return;
  }
  const slot = (W - pad.l - pad.r) / items.length;
  const bw = Math.max(1, Math.min(28, (slot * 0.8) / series.length));
  const every = Math.ceil(items.length / 12); // at most ~12 axis labels
  items.forEach((it, i) => {
    const x0 = pad.l + i * slot + (slot - bw * series.length) / 2;
    series.forEach((s, j) => {
      const v = value(it, s.key);
      const rect = svg('rect', { x: x0 + j * bw, y: y(v), width: bw, height: Math.max(0, y(0) - y(v)), fill: s.color },
        svg('title', {}, `${label(it)}: ${s.label} ${format(v)}`));
      rect.dataset.group = label(it);
      rect.dataset.series = s.key;
      rect.dataset.value = String(v);
      el.append(rect);
    });
    if (i % every === 0) {
      el.append(svg('text', { x: pad.l + i * slot + slot / 2, y: H - pad.b + 14, 'text-anchor': 'middle', 'font-size': 11, fill: '#66707c' }, label(it)));
    }
  });
}

/** ReportView fills the dashboard's report card for one event. */
export class ReportView {
  /** @param ctx {session, notice} */
  constructor(ctx) {
    this.session = ctx.session;
    this.notice = ctx.notice;
    this.id = '';
    this.seq = 0;
    $('report-refresh').addEventListener('click', () => this.load());
    $('report-bucket').addEventListener('change', () => this.load());
    $('report-csv').addEventListener('click', () => this.download());
  }

  /** show makes id the reported event and reads its report. */
  show(id) {
    this.id = id;
    $('report-card').hidden = false;
    return this.load();
  }

  async load() {
    if (!this.id) return;
    const id = this.id;
    const seq = ++this.seq;
    const card = $('report-card');
    card.dataset.loaded = 'false';
    let r;
    try {
      const q = new URLSearchParams({ bucket: $('report-bucket').value });
      r = await call('GET', `/admin/api/events/${encodeURIComponent(id)}/report?${q}`, { token: this.session.token });
    } catch (e) {
      if (seq === this.seq) this.notice.error(e);
      return;
    }
    if (seq !== this.seq) return; // a later pick or refresh won
    this.render(r);
    card.dataset.eventId = id;
    card.dataset.loaded = 'true';
  }

  render(r) {
    const cur = r.currency;
    const n = (v) => Number(v).toLocaleString();
    $('rp-sold').textContent = `${n(r.sold.tickets)} (${minor(r.sold.amount_minor, cur)})`;
    $('rp-refunded').textContent = `${n(r.refunded.tickets)} (${minor(r.refunded.amount_minor, cur)})`;
    $('rp-revenue').textContent = minor(r.revenue_minor, cur);
    $('rp-revenue').dataset.minor = String(r.revenue_minor);
    $('rp-fees').textContent = minor(r.fees_minor, cur);
    $('rp-checkins').textContent = `${n(r.check_ins)} / ${n(r.sold.tickets - r.refunded.tickets)}`;
    const series = [
      { key: 'sold', label: 'sold', color: SOLD },
      { key: 'refunded', label: 'refunded', color: REFUNDED },
    ];
    const amount = (it, k) => Number(it[k].amount_minor);
    const fmt = (v) => minor(v, cur);
    const sections = $('chart-sections');
    barChart(sections, r.by_section, { label: (s) => s.section, value: amount, format: fmt, series });
    sections.setAttribute('aria-label', 'Sales by section: ' + (r.by_section.map((s) =>
      `${s.section} ${minor(s.sold.amount_minor, cur)} sold, ${minor(s.refunded.amount_minor, cur)} refunded`).join('; ') || 'none'));
    const day = r.bucket === 'day';
    const stamp = (b) => {
      const d = new Date(b.start);
      return day ? d.toISOString().slice(5, 10) : d.toISOString().slice(5, 13).replace('T', ' ') + 'h';
    };
    // over_time also lists buckets with check-ins only; the sales chart
    // leaves those out, the check-in chart keeps only them.
    const sales = r.over_time.filter((b) => b.sold.tickets > 0 || b.refunded.tickets > 0);
    const time = $('chart-time');
    barChart(time, sales, { label: stamp, value: (it, k) => it[k].tickets, format: (v) => Number(v).toLocaleString(), series, integer: true });
    time.setAttribute('aria-label', `Tickets sold and refunded per ${r.bucket} (UTC): ` + (sales.map((b) =>
      `${stamp(b)} ${b.sold.tickets} sold, ${b.refunded.tickets} refunded`).join('; ') || 'none'));
    this.renderCheckIns(r, stamp);
    const types = $('report-types').tBodies[0];
    types.replaceChildren(...r.by_type.map((t) => {
      const tr = document.createElement('tr');
      for (const c of [t.type, n(t.sold.tickets), minor(t.sold.amount_minor, cur), n(t.refunded.tickets), minor(t.refunded.amount_minor, cur)]) {
        tr.append(Object.assign(document.createElement('td'), { textContent: c }));
      }
      return tr;
    }));
    $('report-promos').textContent = r.promo_uses.length
      ? 'Promo codes: ' + r.promo_uses.map((p) => `${p.code} ×${p.uses} (−${minor(p.discount_minor, cur)})`).join(', ')
      : 'No promo codes used.';
  }

  /**
   * renderCheckIns draws the check-ins: per section beside the section's
   * valid tickets (sold less refunded), per time bucket (when scanned), and
   * the gates as a line of text.
   */
  renderCheckIns(r, stamp) {
    const n = (v) => Number(v).toLocaleString();
    const valid = new Map(r.by_section.map((s) => [s.section, s.sold.tickets - s.refunded.tickets]));
    const items = r.check_ins_by_section.map((s) => ({ section: s.section, check_ins: s.check_ins, valid: valid.get(s.section) || 0 }));
    const count = { label: (s) => s.section || '(none)', value: (it, k) => it[k], format: n, integer: true, empty: 'no check-ins yet' };
    const sections = $('chart-checkin-sections');
    barChart(sections, items, { ...count, series: [
      { key: 'check_ins', label: 'checked in', color: CHECKED_IN },
      { key: 'valid', label: 'valid', color: VALID },
    ] });
    sections.setAttribute('aria-label', 'Check-ins by section: ' + (items.map((s) =>
      `${count.label(s)} ${n(s.check_ins)} of ${n(s.valid)} checked in`).join('; ') || 'none'));
    const buckets = r.over_time.filter((b) => b.check_ins > 0);
    const time = $('chart-checkin-time');
    barChart(time, buckets, { ...count, label: stamp, series: [{ key: 'check_ins', label: 'checked in', color: CHECKED_IN }] });
    time.setAttribute('aria-label', `Check-ins per ${r.bucket} (UTC, when scanned): ` + (buckets.map((b) =>
      `${stamp(b)} ${n(b.check_ins)}`).join('; ') || 'none'));
    $('report-gates').textContent = r.check_ins_by_gate.length
      ? 'Check-ins by gate: ' + r.check_ins_by_gate.map((g) => `${g.gate || '(no gate)'} ${n(g.check_ins)}`).join(', ')
      : 'No check-ins yet.';
  }

  /** download fetches the CSV with the token and saves it as a file. */
  async download() {
    if (!this.id) return;
    try {
      const resp = await fetch(`/admin/api/events/${encodeURIComponent(this.id)}/report?format=csv`, {
        headers: { Authorization: `Bearer ${this.session.token}` },
      });
      if (!resp.ok) throw new Error(`the export failed (HTTP ${resp.status})`);
      const url = URL.createObjectURL(await resp.blob());
      const a = Object.assign(document.createElement('a'), { href: url, download: `event-${this.id}-sales.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      $('report-card').dataset.exported = 'true';
    } catch (e) {
      this.notice.error(e);
    }
  }
}
