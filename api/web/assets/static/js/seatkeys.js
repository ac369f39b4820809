// seatkeys.js (h19access): the seat map for the keyboard and screen
// readers. The canvas draws 50,000 seats but is one opaque picture to
// assistive technology, so a listbox sits over it (#seat-keys, focusable,
// pointer events passing through to the canvas). Its one option is the
// focused seat, named in words ("Section B, row 4, seat 12, 45.00 EUR,
// available"), and aria-activedescendant points at it, so a screen reader
// reads each seat as the arrow keys move. Arrow keys move between seats
// (left/right along the row, up/down between rows and on into the next
// section), Home/End go to the row's ends, Page Up/Down between sections,
// Enter or Space selects the seat as a click does. The map draws a focus
// ring around the seat (SeatMap.setFocus).

import { STATUS_NAMES, MARK } from './seatmap.js';

/** SeatKeys makes page's seat map keyboard-usable until destroy(). */
export class SeatKeys {
  /**
   * @param box  the listbox element over the canvas
   * @param page the EventPage (tickets, map, selection, toggle)
   */
  constructor(box, page) {
    this.box = box;
    this.page = page;
    // Seated sections only: a standing area is taken by quantity.
    this.sections = page.map.sections.filter((s) => s.rows.length && s.rows[0].seats.length && !page.tickets[s.rows[0].seats[0]].standing);
    this.pos = { s: 0, r: 0, k: 0 };
    this.option = box.querySelector('[role="option"]');
    this.abort = new AbortController();
    const signal = this.abort.signal;
    box.addEventListener('keydown', (e) => this.key(e), { signal });
    box.addEventListener('focus', () => this.show(), { signal });
    box.addEventListener('blur', () => page.map.setFocus(-1), { signal });
    box.hidden = !this.sections.length;
    this.update();
  }

  destroy() {
    this.abort.abort();
    this.page.map?.setFocus(-1);
  }

  /** seat is the focused seat's index. */
  seat() {
    const row = this.sections[this.pos.s]?.rows[this.pos.r];
    return row ? row.seats[Math.min(this.pos.k, row.seats.length - 1)] : -1;
  }

  /** name is seat i's accessible name: where, price, state. */
  name(i) {
    const p = this.page;
    const t = p.tickets[i];
    const mark = p.map.mark[i];
    const state = mark === MARK.mine ? 'yours' : p.selection.has(i) ? 'selected'
      : { available: 'available', reserved: 'on hold', booked: 'sold' }[STATUS_NAMES[p.map.status[i]]];
    const access = t.access === 'wheelchair' ? ', wheelchair space' : t.access === 'companion' ? ', companion seat' : '';
    return `Section ${t.section}, row ${t.row}, seat ${t.seat}, ${Number(t.price).toFixed(2)} ${t.currency}, ${state}${access}`;
  }

  /** update names the option after the focused seat (a move or a change of state). */
  update() {
    const i = this.seat();
    if (i < 0) return;
    const row = this.sections[this.pos.s].rows[this.pos.r];
    this.option.textContent = this.name(i);
    this.option.setAttribute('aria-selected', String(this.page.selection.has(i)));
    this.option.setAttribute('aria-posinset', String(Math.min(this.pos.k, row.seats.length - 1) + 1));
    this.option.setAttribute('aria-setsize', String(row.seats.length));
    this.option.dataset.index = String(i);
    this.box.setAttribute('aria-activedescendant', this.option.id);
  }

  /** show draws the focus ring and brings the seat into view. */
  show() {
    const i = this.seat();
    if (i < 0) return;
    this.update();
    this.page.map.setFocus(i);
    this.page.map.reveal([i]);
  }

  /** moveRow goes d rows down (negative: up), on into the next or previous section. */
  moveRow(d) {
    let { s, r } = this.pos;
    r += d;
    if (r < 0) {
      if (s === 0) return;
      s--;
      r = this.sections[s].rows.length - 1;
    } else if (r >= this.sections[s].rows.length) {
      if (s === this.sections.length - 1) return;
      s++;
      r = 0;
    }
    this.pos = { s, r, k: Math.min(this.pos.k, this.sections[s].rows[r].seats.length - 1) };
  }

  key(e) {
    const row = () => this.sections[this.pos.s].rows[this.pos.r];
    switch (e.key) {
      case 'ArrowRight': this.pos.k = Math.min(this.pos.k + 1, row().seats.length - 1); break;
      case 'ArrowLeft': this.pos.k = Math.max(Math.min(this.pos.k, row().seats.length - 1) - 1, 0); break;
      case 'ArrowDown': this.moveRow(1); break;
      case 'ArrowUp': this.moveRow(-1); break;
      case 'Home': this.pos.k = 0; break;
      case 'End': this.pos.k = row().seats.length - 1; break;
      case 'PageDown': if (this.pos.s < this.sections.length - 1) this.pos = { s: this.pos.s + 1, r: 0, k: 0 }; break;
      case 'PageUp': if (this.pos.s > 0) this.pos = { s: this.pos.s - 1, r: 0, k: 0 }; break;
      case 'Enter':
      case ' ':
        this.page.toggle(this.seat());
        break;
      default:
        return;
    }
    e.preventDefault();
    this.show();
  }
}
