// seatmap.js: a venue's seat map on a <canvas>, fast at 50,000 seats.
//
// Every seat gets one cell of a grid (sections are blocks of rows x seats,
// arranged in shelves). The grid is painted once into an offscreen bitmap,
// CELL x CELL pixels per seat; a status change repaints that one seat's
// pixels, and a frame is a single drawImage of the bitmap under the current
// zoom and pan, plus section labels and rings around the chosen seats. So a
// WebSocket delta costs a few pixel writes, never a redraw of 50,000 shapes.

export const STATUS = { available: 0, reserved: 1, booked: 2 };
export const STATUS_NAMES = ['available', 'reserved', 'booked'];
/** Marks are this browser's own view of a seat, drawn over its status. */
export const MARK = { none: 0, selected: 1, mine: 2 };

const CELL = 4; // bitmap pixels per seat cell: a 3x3 seat and a 1-pixel gap
const GAP = 3; // cells between section blocks
const LABEL = 3; // cells above a block for its name and price
const STAGE = 5; // cells for the stage band at the top

const RGB = {
  available: [46, 157, 91], reserved: [240, 160, 48], booked: [163, 170, 180],
  selected: [31, 111, 235], mine: [130, 80, 223],
};
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const pack = ([r, g, b]) => (LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r) : ((r << 24) | (g << 16) | (b << 8) | 255)) >>> 0;
const PIXEL = {
  status: [pack(RGB.available), pack(RGB.reserved), pack(RGB.booked)],
  mark: [0, pack(RGB.selected), pack(RGB.mine)],
};
const css = ([r, g, b]) => `rgb(${r},${g},${b})`;

/**
 * sectionsOf groups API.md tickets into sections and rows, in the order the
 * event lists them; each row holds ticket indices sorted by seat number.
 */
export function sectionsOf(tickets) {
  const sections = [];
  const bySection = new Map();
  tickets.forEach((t, i) => {
    let s = bySection.get(t.section);
    if (!s) {
      s = { name: t.section, rows: [], byRow: new Map(), price: t.price, currency: t.currency };
      bySection.set(t.section, s);
      sections.push(s);
    }
    let r = s.byRow.get(t.row);
    if (!r) {
      r = { name: t.row, seats: [] };
      s.byRow.set(t.row, r);
      s.rows.push(r);
    }
    r.seats.push(i);
  });
  for (const s of sections) for (const r of s.rows) r.seats.sort((a, b) => tickets[a].seat - tickets[b].seat);
  return sections;
}

/**
 * arrange places blocks of {w, h} cells in shelves, choosing the number per
 * shelf that brings the whole map's width/height nearest to aspect. It
 * returns the grid size and each block's top-left cell (below its label).
 */
export function arrange(sizes, aspect) {
  const shelvesOf = (cols) => {
    const shelves = [];
    for (let i = 0; i < sizes.length; i += cols) shelves.push(sizes.slice(i, i + cols));
    return shelves;
  };
  const widthOf = (shelf) => shelf.reduce((a, b) => a + b.w, 0) + GAP * (shelf.length - 1);
  let best = null;
  for (let cols = 1; cols <= Math.max(1, sizes.length); cols++) {
    const shelves = shelvesOf(cols);
    const W = Math.max(1, ...shelves.map(widthOf));
    const H = STAGE + shelves.reduce((a, sh) => a + LABEL + Math.max(...sh.map((b) => b.h)) + GAP, 0);
    const score = Math.abs(Math.log(W / H / aspect));
    if (!best || score < best.score - 1e-9) best = { score, cols, W, H };
  }
  const pos = [];
  let y = STAGE;
  for (const shelf of shelvesOf(best.cols)) {
    let x = Math.floor((best.W - widthOf(shelf)) / 2);
    for (const b of shelf) {
      pos.push({ x, y: y + LABEL });
      x += b.w + GAP;
    }
    y += LABEL + Math.max(...shelf.map((b) => b.h)) + GAP;
  }
  return { W: best.W, H: best.H, pos };
}

/**
 * sectionsOfLayout is sectionsOf for GET /events/{id}/layout: its rows are
 * index ranges already, and its blocks already have their place.
 */
export function sectionsOfLayout(layout) {
  return layout.sections.map((s) => ({
    name: s.name, price: layout.categories[s.category]?.price, currency: layout.currency,
    x: s.x, y: s.y, w: s.width, h: s.height,
    rows: s.rows.map((r) => ({ name: r.name, seats: Array.from({ length: r.seats }, (_, k) => r.first + k) })),
  }));
}

/**
 * ticketsOfLayout lists a layout's seats as API.md tickets (without
 * status), index for index, for the pages' labels, prices and reserves.
 */
export function ticketsOfLayout(layout) {
  const out = new Array(layout.seats);
  for (const s of layout.sections) {
    const price = layout.categories[s.category]?.price;
    // A standing section's places: no row, numbered 1..capacity.
    for (let k = 0; s.standing && k < s.standing.capacity; k++) {
      const i = s.standing.first + k;
      out[i] = { ticket_id: layout.ticket_ids[i], section: s.name, row: '', seat: k + 1, standing: true, price, currency: layout.currency };
    }
    for (const r of s.rows) {
      for (let k = 0; k < r.seats; k++) {
        const i = r.first + k;
        out[i] = { ticket_id: layout.ticket_ids[i], section: s.name, row: r.name, seat: k + 1, price, currency: layout.currency };
      }
      markAccess(out, r);
    }
  }
  return out;
}

/** markAccess (h19access) flags a layout row's wheelchair spaces and companion seats on its tickets. */
function markAccess(out, r) {
  for (const n of r.wheelchair || []) out[r.first + n - 1].access = 'wheelchair';
  for (const n of r.companion || []) out[r.first + n - 1].access = 'companion';
}

/** SeatMap draws one event's seats and turns pointer input into seat picks. */
export class SeatMap {
  /**
   * @param canvas  the <canvas> to draw on (sized by CSS)
   * @param tickets API.md tickets (section, row, seat, price, status)
   * @param hooks   {onPick(i), onHover(i, clientX, clientY)}; i is -1 for no seat
   * @param opts    {layout, statuses}: the node's layout (GET
   *                /events/{id}/layout) places the seats instead of the
   *                tickets' order; statuses (STATUS values) replace theirs
   */
  constructor(canvas, tickets, hooks = {}, opts = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.tickets = tickets;
    this.hooks = hooks;
    this.status = new Uint8Array(tickets.length);
    this.mark = new Uint8Array(tickets.length);
    this.marked = new Set();
    this.hover = -1;
    this.focus = -1; // the keyboard's seat (seatkeys.js), ringed
    // h19ui: wheelchair spaces and companion seats, outlined over the bitmap.
    this.access = [];
    tickets.forEach((t, i) => { if (t.access) this.access.push(i); });
    this.sections = opts.layout ? sectionsOfLayout(opts.layout) : sectionsOf(tickets);
    if (opts.statuses) this.status.set(opts.statuses);
    else tickets.forEach((t, i) => { this.status[i] = STATUS[t.status] ?? STATUS.booked; });
    if (opts.layout) this.place(opts.layout);
    else this.layout(canvas.clientWidth / Math.max(1, canvas.clientHeight) || 1.6);
    this.paintAll();
    this.view = null;
    this.userMoved = false;
    this.listen();
    this.requestDraw();
  }

  /** layout gives every seat a grid cell and builds the cell -> seat index. */
  layout(aspect) {
    const blocks = this.sections.map((s) => ({ w: Math.max(1, ...s.rows.map((r) => r.seats.length)), h: s.rows.length }));
    const { W, H, pos } = arrange(blocks, aspect);
    this.W = W;
    this.H = H;
    this.cx = new Uint16Array(this.tickets.length);
    this.cy = new Uint16Array(this.tickets.length);
    this.grid = new Int32Array(W * H);
    this.sections.forEach((s, k) => {
      Object.assign(s, pos[k], blocks[k]);
      s.rows.forEach((r, ry) => {
        const x0 = s.x + Math.floor((s.w - r.seats.length) / 2);
        r.seats.forEach((i, rx) => {
          this.cx[i] = x0 + rx;
          this.cy[i] = s.y + ry;
          this.grid[(s.y + ry) * W + x0 + rx] = i + 1;
        });
      });
    });
    this.makeBitmap();
  }

  /** place takes the seats' cells from the node's layout (same grid units). */
  place(layout) {
    const W = (this.W = Math.max(1, layout.width));
    this.H = Math.max(1, layout.height);
    this.cx = Uint16Array.from(layout.x);
    this.cy = Uint16Array.from(layout.y);
    this.grid = new Int32Array(W * this.H);
    for (let i = 0; i < this.tickets.length; i++) this.grid[this.cy[i] * W + this.cx[i]] = i + 1;
    this.stage = layout.stage;
    this.makeBitmap();
  }

  makeBitmap() {
    this.bitmap = document.createElement('canvas');
    this.bitmap.width = this.W * CELL;
    this.bitmap.height = this.H * CELL;
    this.bctx = this.bitmap.getContext('2d');
    this.image = this.bctx.createImageData(this.bitmap.width, this.bitmap.height);
    this.pixels = new Uint32Array(this.image.data.buffer);
  }

  /** setStatuses replaces every status at once (a packed snapshot). */
  setStatuses(statuses) {
    this.status.set(statuses);
    this.paintAll();
    this.requestDraw();
  }

  /** paintAll repaints every seat into the bitmap (after a snapshot). */
  paintAll() {
    for (let i = 0; i < this.tickets.length; i++) this.paint(i, false);
    this.dirty = { x0: 0, y0: 0, x1: this.bitmap.width, y1: this.bitmap.height };
  }

  /** paint writes seat i's pixels and widens the dirty rectangle. */
  paint(i, track = true) {
    const color = this.mark[i] ? PIXEL.mark[this.mark[i]] : PIXEL.status[this.status[i]];
    const bw = this.bitmap.width;
    const x0 = this.cx[i] * CELL;
    const y0 = this.cy[i] * CELL;
    for (let dy = 0; dy < CELL - 1; dy++) this.pixels.fill(color, (y0 + dy) * bw + x0, (y0 + dy) * bw + x0 + CELL - 1);
    if (!track) return;
    const d = this.dirty || { x0, y0, x1: x0 + CELL, y1: y0 + CELL };
    this.dirty = { x0: Math.min(d.x0, x0), y0: Math.min(d.y0, y0), x1: Math.max(d.x1, x0 + CELL), y1: Math.max(d.y1, y0 + CELL) };
  }

  /** setStatus changes seat i's status (a STATUS value); it returns the old one. */
  setStatus(i, status) {
    const old = this.status[i];
    if (old !== status) {
      this.status[i] = status;
      this.paint(i);
      this.requestDraw();
    }
    return old;
  }

  /** setMark marks seat i as selected, mine or none. */
  setMark(i, mark) {
    if (this.mark[i] === mark) return;
    this.mark[i] = mark;
    if (mark) this.marked.add(i); else this.marked.delete(i);
    this.paint(i);
    this.requestDraw();
  }

  /** requestDraw schedules one frame; many changes in a tick cost one draw. */
  requestDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  fitView() {
    const cw = this.canvas.clientWidth;
    const ch = this.canvas.clientHeight;
    const s = Math.min(cw / this.bitmap.width, ch / this.bitmap.height) * 0.97;
    this.view = { s, ox: (cw - this.bitmap.width * s) / 2, oy: (ch - this.bitmap.height * s) / 2, fit: s };
  }

  /** fit shows the whole venue again. */
  fit() {
    this.userMoved = false;
    this.fitView();
    this.requestDraw();
  }

  /** zoomAt scales the view by factor around a point of the canvas (CSS px). */
  zoomAt(px, py, factor) {
    const v = this.view;
    const s = Math.min(Math.max(v.s * factor, v.fit * 0.8), 10);
    v.ox = px - ((px - v.ox) * s) / v.s;
    v.oy = py - ((py - v.oy) * s) / v.s;
    v.s = s;
    this.userMoved = true;
    this.requestDraw();
  }

  /**
   * reveal pans (and zooms in, when seats are too small to tell apart) so
   * that seats, a list of indices, are in view: "best available" may pick
   * seats outside the part of the venue on screen.
   */
  reveal(seats) {
    if (!seats.length) return;
    if (!this.view) this.fitView();
    const v = this.view;
    const cw = this.canvas.clientWidth;
    const ch = this.canvas.clientHeight;
    const xs = seats.map((i) => this.cx[i]);
    const ys = seats.map((i) => this.cy[i]);
    const x0 = Math.min(...xs) * CELL, x1 = (Math.max(...xs) + 1) * CELL;
    const y0 = Math.min(...ys) * CELL, y1 = (Math.max(...ys) + 1) * CELL;
    const minScale = 8 / CELL; // at least 8 CSS pixels per seat
    const inView = (s, ox, oy) => ox + x0 * s >= 0 && ox + x1 * s <= cw && oy + y0 * s >= 0 && oy + y1 * s <= ch;
    if (v.s >= minScale && inView(v.s, v.ox, v.oy)) return;
    const s = Math.min(Math.max(v.s, minScale), 10);
    v.ox = cw / 2 - ((x0 + x1) / 2) * s;
    v.oy = ch / 2 - ((y0 + y1) / 2) * s;
    v.s = s;
    this.userMoved = true;
    this.requestDraw();
  }

  /** zoom scales around the canvas centre (the +/- buttons). */
  zoom(factor) {
    this.zoomAt(this.canvas.clientWidth / 2, this.canvas.clientHeight / 2, factor);
  }

  draw() {
    const { canvas, ctx } = this;
    const dpr = window.devicePixelRatio || 1;
    const cw = canvas.clientWidth;
    const ch = canvas.clientHeight;
    if (!cw || !ch) return;
    if (canvas.width !== Math.round(cw * dpr) || canvas.height !== Math.round(ch * dpr)) {
      canvas.width = Math.round(cw * dpr);
      canvas.height = Math.round(ch * dpr);
      if (!this.userMoved) this.view = null;
    }
    if (!this.view) this.fitView();
    if (this.dirty) {
      const d = this.dirty;
      this.bctx.putImageData(this.image, 0, 0, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
      this.dirty = null;
    }
    const { s, ox, oy } = this.view;
    const unit = CELL * s; // CSS pixels per cell
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#f4f5f7';
    ctx.fillRect(0, 0, cw, ch);
    this.drawStage(ox, oy, unit);
    ctx.imageSmoothingEnabled = s < 1;
    ctx.drawImage(this.bitmap, ox, oy, this.bitmap.width * s, this.bitmap.height * s);
    this.drawLabels(ox, oy, unit);
    this.drawAccess(ox, oy, unit);
    this.drawRings(ox, oy, unit);
    this.drawFocus(ox, oy, unit);
  }

  /** setFocus (h19access) rings seat i as the keyboard's focus; -1 for none. */
  setFocus(i) {
    if (this.focus === i) return;
    this.focus = i;
    this.requestDraw();
  }

  /** drawFocus draws the keyboard focus: a thick ring that stands out on any seat colour. */
  drawFocus(ox, oy, unit) {
    if (this.focus < 0) return;
    const { ctx } = this;
    const i = this.focus;
    const r = Math.max(6, unit * 1.1);
    const x = ox + (this.cx[i] + 0.4) * unit, y = oy + (this.cy[i] + 0.4) * unit;
    ctx.lineWidth = 4;
    ctx.strokeStyle = '#fff';
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#111';
    ctx.stroke();
  }

  drawStage(ox, oy, unit) {
    const { ctx } = this;
    if (this.stage) {
      // The node's layout places the stage (or a stadium's pitch).
      const st = this.stage;
      const x = ox + st.x * unit, y = oy + st.y * unit, w = st.width * unit, hgt = Math.max(16, st.height * unit);
      ctx.fillStyle = '#2b3440';
      ctx.fillRect(x, y, w, hgt);
      ctx.fillStyle = '#fff';
      ctx.font = `600 ${Math.max(10, Math.min(28, hgt * 0.3))}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('STAGE', x + w / 2, y + hgt / 2);
      return;
    }
    // At least 16 CSS pixels tall (so "STAGE" is legible at any zoom),
    // ending just above the first row of section labels.
    const x = ox + this.W * 0.25 * unit;
    const w = this.W * 0.5 * unit;
    const hgt = Math.max(16, (STAGE - 2) * unit);
    const y = oy + (STAGE - 1) * unit - hgt;
    ctx.fillStyle = '#2b3440';
    ctx.fillRect(x, y, w, hgt);
    ctx.fillStyle = '#fff';
    ctx.font = `600 ${Math.min(14, hgt * 0.7)}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('STAGE', x + w / 2, y + hgt / 2);
  }

  drawLabels(ox, oy, unit) {
    const { ctx } = this;
    const size = Math.max(9, Math.min(15, LABEL * unit * 0.55));
    ctx.font = `600 ${size}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#2b3440';
    for (const s of this.sections) {
      const label = s.price ? `${s.name} · ${Number(s.price).toFixed(2)} ${s.currency || ''}` : s.name;
      ctx.fillText(label, ox + (s.x + s.w / 2) * unit, oy + (s.y - LABEL / 2) * unit);
    }
  }

  /**
   * drawAccess (h19ui) outlines the wheelchair spaces (solid, with a dot in
   * the middle) and companion seats (dashed), so they read apart from the
   * other seats in any status colour; the legend shows both.
   */
  drawAccess(ox, oy, unit) {
    if (!this.access.length) return;
    const { ctx } = this;
    const size = unit * 0.8;
    ctx.strokeStyle = '#0b3d91';
    ctx.lineWidth = Math.max(1, Math.min(2.5, unit * 0.15));
    for (const i of this.access) {
      const x = ox + this.cx[i] * unit, y = oy + this.cy[i] * unit;
      ctx.setLineDash(this.tickets[i].access === 'companion' ? [Math.max(2, unit * 0.2), Math.max(2, unit * 0.15)] : []);
      ctx.strokeRect(x - 1, y - 1, size + 2, size + 2);
      if (this.tickets[i].access === 'wheelchair' && unit >= 6) {
        ctx.fillStyle = '#0b3d91';
        ctx.beginPath();
        ctx.arc(x + size / 2, y + size / 2, Math.max(1.5, size * 0.18), 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.setLineDash([]);
  }

  drawRings(ox, oy, unit) {
    const { ctx } = this;
    const r = Math.max(4, unit * 0.75);
    ctx.lineWidth = 2;
    for (const i of this.marked) {
      ctx.strokeStyle = css(this.mark[i] === MARK.selected ? RGB.selected : RGB.mine);
      ctx.beginPath();
      ctx.arc(ox + (this.cx[i] + 0.4) * unit, oy + (this.cy[i] + 0.4) * unit, r, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (this.hover >= 0) {
      const i = this.hover;
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(ox + this.cx[i] * unit - 1, oy + this.cy[i] * unit - 1, unit * 0.8 + 2, unit * 0.8 + 2);
    }
  }

  /** seatAt is the seat under a viewport point, or -1. */
  seatAt(clientX, clientY) {
    if (!this.view) return -1;
    const rect = this.canvas.getBoundingClientRect();
    const { s, ox, oy } = this.view;
    const x = Math.floor((clientX - rect.left - ox) / s / CELL);
    const y = Math.floor((clientY - rect.top - oy) / s / CELL);
    if (x < 0 || y < 0 || x >= this.W || y >= this.H) return -1;
    return this.grid[y * this.W + x] - 1;
  }

  /** seatPoint is the viewport point at the centre of seat i (tooltips, tests). */
  seatPoint(i) {
    if (!this.view) this.fitView();
    const rect = this.canvas.getBoundingClientRect();
    const { s, ox, oy } = this.view;
    return {
      x: rect.left + ox + (this.cx[i] * CELL + (CELL - 1) / 2) * s,
      y: rect.top + oy + (this.cy[i] * CELL + (CELL - 1) / 2) * s,
      size: (CELL - 1) * s,
    };
  }

  listen() {
    const c = this.canvas;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    let down = null;
    // Two fingers on a touch screen pinch-zoom around their midpoint (the
    // canvas has touch-action: none, so the page itself does not zoom).
    const touches = new Map();
    let pinch = null;
    const spread = () => {
      const [a, b] = [...touches.values()];
      return { d: Math.hypot(a.x - b.x, a.y - b.y), x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
    };
    const lift = (e) => {
      touches.delete(e.pointerId);
      if (touches.size < 2) pinch = null;
    };
    c.addEventListener('pointerdown', (e) => {
      touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (touches.size === 2 && this.view) {
        pinch = spread();
        down = null; // a pinch is neither a pan nor a pick
        return;
      }
      down = { x: e.clientX, y: e.clientY, ox: this.view?.ox, oy: this.view?.oy, moved: false };
      c.setPointerCapture?.(e.pointerId);
    }, { signal });
    c.addEventListener('pointermove', (e) => {
      if (touches.has(e.pointerId)) touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (pinch) {
        const now = spread();
        const rect = c.getBoundingClientRect();
        if (pinch.d > 0 && now.d > 0) this.zoomAt(now.x - rect.left, now.y - rect.top, now.d / pinch.d);
        pinch = now;
        return;
      }
      if (down && this.view) {
        const dx = e.clientX - down.x;
        const dy = e.clientY - down.y;
        if (down.moved || Math.hypot(dx, dy) > 4) {
          down.moved = true;
          this.userMoved = true;
          this.view.ox = down.ox + dx;
          this.view.oy = down.oy + dy;
          this.requestDraw();
          return;
        }
      }
      const i = this.seatAt(e.clientX, e.clientY);
      if (i !== this.hover) {
        this.hover = i;
        this.requestDraw();
      }
      this.hooks.onHover?.(i, e.clientX, e.clientY);
    }, { signal });
    c.addEventListener('pointerup', (e) => {
      lift(e);
      const wasClick = down && !down.moved;
      down = null;
      if (wasClick) this.hooks.onPick?.(this.seatAt(e.clientX, e.clientY));
    }, { signal });
    c.addEventListener('pointercancel', (e) => {
      lift(e);
      down = null;
    }, { signal });
    c.addEventListener('pointerleave', () => {
      this.hover = -1;
      this.hooks.onHover?.(-1);
      this.requestDraw();
    }, { signal });
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const rect = c.getBoundingClientRect();
      this.zoomAt(e.clientX - rect.left, e.clientY - rect.top, Math.exp(-e.deltaY * 0.002));
    }, { passive: false, signal });
    this.resize = new ResizeObserver(() => this.requestDraw());
    this.resize.observe(c);
  }

  /** destroy detaches from the canvas (the page is leaving this event). */
  destroy() {
    this.abort.abort();
    this.resize.disconnect();
  }
}
