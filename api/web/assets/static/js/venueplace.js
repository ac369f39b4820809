// venueplace.js: the venue builder's placed blocks (issue 20). With "Place
// the blocks" on, each section of the builder (catalog.js) gets a position
// (x, y: the middle of its first row), an angle and optionally an arc radius
// for curved rows and a row spacing, in venue units (a seat's width) with
// the stage or pitch at the origin; a canvas draws every seat of the placed
// blocks as the node's layout will (boxoffice.Placement, placement.go), and
// a block dragged there moves with the pointer.
// Kept apart from catalog.js so the builder's table and this panel change
// independently.

import { $, h, sizedCanvas } from './api.js';

const COLORS = ['#2e9d5b', '#1f6feb', '#8250df', '#f0a030', '#c93c37', '#66707c'];
const FIELDS = [
  { key: 'x', label: 'x', attrs: { step: 'any', min: -2000, max: 2000 } },
  { key: 'y', label: 'y', attrs: { step: 'any', min: -2000, max: 2000 } },
  { key: 'angle', label: 'angle', attrs: { step: 'any', min: -360, max: 360 } },
  { key: 'radius', label: 'arc radius', attrs: { step: 'any', min: 0, max: 10000 } },
  { key: 'row_spacing', label: 'row spacing', attrs: { step: 'any', min: 0, max: 10 } },
];

/**
 * pointOf is where the seat `along` units from the middle of row `row`
 * (0 = the first) of a block placed at `p` stands: the same geometry as
 * boxoffice.Placement.Point.
 */
export function pointOf(p, row, along) {
  const d = row * (p.row_spacing || 1);
  let lx = along;
  let ly = d;
  if (p.radius > 0) {
    const r = p.radius + d;
    lx = r * Math.sin(along / r);
    ly = r * Math.cos(along / r) - p.radius;
  }
  const a = ((p.angle || 0) * Math.PI) / 180;
  const s = Math.sin(a);
  const c = Math.cos(a);
  return { x: (p.x || 0) + lx * c - ly * s, y: (p.y || 0) + lx * s + ly * c };
}

/** BlockPlacer is the placement panel of the venue builder. */
export class BlockPlacer {
  /** @param catalog the Catalog, whose `sections` ({name, rows, seats, price}) this places. */
  constructor(catalog) {
    this.catalog = catalog;
    this.enabled = false;
    this.key = '';
    this.view = null; // {s, ox, oy}: canvas pixel = o + venue unit * s
    $('place-blocks').addEventListener('change', (e) => this.enable(e.target.checked));
    new ResizeObserver(() => this.draw()).observe($('placement-preview'));
    this.listenDrag($('placement-preview'));
  }

  /**
   * listenDrag lets the operator drag a block across the preview: the
   * block under the pointer follows it (in half units), its x and y inputs
   * too. The view of the drag's start converts the pointer throughout, so
   * the redraws' rescaling does not make the block run away.
   */
  listenDrag(c) {
    let drag = null;
    const at = (e, view) => {
      const r = c.getBoundingClientRect();
      return { x: (e.clientX - r.left - view.ox) / view.s, y: (e.clientY - r.top - view.oy) / view.s };
    };
    c.addEventListener('pointerdown', (e) => {
      if (!this.view) return;
      const p = at(e, this.view);
      let best = null;
      for (const q of this.seats()) {
        const d = Math.hypot(q.x - p.x, q.y - p.y);
        if (d < 2 && (!best || d < best.d)) best = { d, k: q.k };
      }
      if (!best) return;
      const s = this.catalog.sections[best.k];
      drag = { k: best.k, view: { ...this.view }, from: p, x: s.place.x, y: s.place.y };
      c.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    c.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const p = at(e, drag.view);
      const s = this.catalog.sections[drag.k];
      s.place.x = Math.round((drag.x + p.x - drag.from.x) * 2) / 2;
      s.place.y = Math.round((drag.y + p.y - drag.from.y) * 2) / 2;
      $(`place-${drag.k}-x`).value = s.place.x;
      $(`place-${drag.k}-y`).value = s.place.y;
      delete this.catalog.ids['venue-form']; // a changed venue is a new creation
      this.draw();
    });
    const end = () => { drag = null; };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
  }

  /** enable turns placing on (giving unplaced sections a spot in a line below the stage) or off. */
  enable(on) {
    this.enabled = on;
    $('placement-body').hidden = !on;
    // The builder's own preview shows the automatic arrangement: not while placing.
    $('builder-preview').style.display = on ? 'none' : '';
    if (on) this.sync();
  }

  /** sync follows the builder's sections: rows for new ones, a redraw for any change. */
  sync() {
    if (!this.enabled) return;
    const sections = this.catalog.sections;
    for (const s of sections) s.place ||= this.freeSpot(s);
    const key = sections.map((s) => s.name).join('\u0000');
    if (key !== this.key || $('placement').tBodies[0].rows.length !== sections.length) {
      this.key = key;
      this.render();
    }
    this.draw();
  }

  /** freeSpot is a place right of every placed block, 5 units below the stage. */
  freeSpot(s) {
    let right = -Infinity;
    for (const o of this.catalog.sections) {
      if (o === s || !o.place) continue;
      for (let r = 0; r < o.rows; r += Math.max(1, o.rows - 1)) {
        for (const along of [-(o.seats - 1) / 2, (o.seats - 1) / 2]) right = Math.max(right, pointOf(o.place, r, along).x);
      }
    }
    const x = right === -Infinity ? 0 : right + 4 + s.seats / 2;
    return { x: Math.round(x * 10) / 10, y: 5, angle: 0, radius: 0, row_spacing: 0 };
  }

  render() {
    $('placement').tBodies[0].replaceChildren(...this.catalog.sections.map((s, k) => h('tr', { dataset: { section: s.name } },
      h('td', {}, s.name),
      ...FIELDS.map((f) => h('td', {}, h('input', {
        type: 'number', ...f.attrs, value: s.place[f.key], 'aria-label': `Section ${s.name} ${f.label}`,
        id: `place-${k}-${f.key}`, dataset: { k, key: f.key },
        oninput: (e) => {
          const v = Number(e.target.value);
          s.place[f.key] = Number.isFinite(v) ? v : 0;
          this.draw();
        },
      }))))));
  }

  /** placeOf is the section's `place` for the request body, or nothing when placing is off. */
  placeOf(s) {
    if (!this.enabled || !s.place) return {};
    const p = s.place;
    const out = { x: p.x, y: p.y, angle: p.angle };
    if (p.radius) out.radius = p.radius;
    if (p.row_spacing) out.row_spacing = p.row_spacing;
    return { place: out };
  }

  /** seats yields every seat of the placed blocks: {k, x, y}. */
  * seats() {
    for (const [k, s] of this.catalog.sections.entries()) {
      if (!s.place) continue;
      for (let r = 0; r < s.rows; r++) {
        for (let i = 0; i < s.seats; i++) yield { k, ...pointOf(s.place, r, i - (s.seats - 1) / 2) };
      }
    }
  }

  /** draw paints every seat of the placed blocks around the stage at the origin. */
  draw() {
    const c = $('placement-preview');
    if (!this.enabled) return;
    const sized = sizedCanvas(c);
    if (!sized) return;
    const { ctx, w, h: hgt } = sized;
    let [x0, y0, x1, y1] = [-3, -3, 3, 3]; // the stage marker
    for (const p of this.seats()) {
      x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y);
    }
    const s = Math.min((w - 16) / (x1 - x0 + 1), (hgt - 16) / (y1 - y0 + 1));
    this.view = { s, ox: (w - (x1 - x0) * s) / 2 - x0 * s, oy: (hgt - (y1 - y0) * s) / 2 - y0 * s };
    const { ox, oy } = this.view;
    ctx.fillStyle = '#2b3440';
    ctx.fillRect(ox - 3 * s, oy - 3 * s, 6 * s, 6 * s);
    const sections = this.catalog.sections;
    const tiers = [...new Set(sections.map((x) => Number(x.price)))].sort((a, b) => b - a);
    const size = Math.max(1, s * 0.8);
    let drawn = 0;
    for (const p of this.seats()) {
      ctx.fillStyle = COLORS[tiers.indexOf(Number(sections[p.k].price)) % COLORS.length];
      ctx.fillRect(ox + p.x * s - size / 2, oy + p.y * s - size / 2, size, size);
      drawn++;
    }
    ctx.fillStyle = '#2b3440';
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const x of sections) {
      if (!x.place) continue;
      const mid = pointOf(x.place, (x.rows - 1) / 2, 0); // the block's middle
      ctx.fillStyle = 'rgba(255,255,255,.85)';
      ctx.fillRect(ox + mid.x * s - 9, oy + mid.y * s - 7, 18, 14);
      ctx.fillStyle = '#2b3440';
      ctx.fillText(x.name, ox + mid.x * s, oy + mid.y * s);
    }
    c.dataset.seats = drawn;
  }

  /** toScreen is a venue point's pixel in the preview (for tests and tools). */
  toScreen(x, y) {
    return this.view && { x: this.view.ox + x * this.view.s, y: this.view.oy + y * this.view.s };
  }
}
