// doorstore.js: what the door page keeps in localStorage so that it works
// without a network and survives a reload: the chosen event and gate, the
// cached ticket keys (JWKS), the scans waiting to be synced, the tickets
// this device has admitted, and the sync reports.

const PREFIX = 'boxoffice.door.';
const MAX_REPORTS = 200;

function read(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(PREFIX + key) || 'null');
    return v == null ? fallback : v;
  } catch {
    return fallback; // a garbled entry reads as empty
  }
}

function write(key, value) {
  localStorage.setItem(PREFIX + key, JSON.stringify(value));
}

/**
 * ticketKey names one ticket: a seat of an event in one sale. A seat
 * refunded and sold again is a new ticket, admitted afresh.
 */
export const ticketKey = (eventId, index, bookingId) => `${eventId}/${index}/${bookingId}`;

/** store is the door page's persistent state. */
export const store = {
  get gate() { return read('gate', ''); },
  set gate(v) { write('gate', v); },

  get eventId() { return read('event', ''); },
  set eventId(v) { write('event', v); },

  /** event returns the cached {event_id, name, starts_at, venue} of id. */
  event(id) { return read('events', {})[id]; },
  putEvent(e) {
    const all = read('events', {});
    all[e.event_id] = e;
    write('events', all);
  },

  /** checkinTimeout overrides how long a scan waits for the server (ms, 0: the default). */
  get checkinTimeout() { return Number(read('checkin_timeout_ms', 0)) || 0; },

  /** jwks is the last GET /tickets/keys reply, with when it was fetched. */
  get jwks() { return read('jwks', null); },
  set jwks(v) { write('jwks', v); },

  /** queue is the scans made offline, oldest first. */
  queue() { return read('queue', []); },
  enqueue(item) {
    const q = read('queue', []);
    q.push(item);
    write('queue', q);
  },
  /** dequeue drops the scan with id once the server has answered it. */
  dequeue(id) { write('queue', read('queue', []).filter((s) => s.id !== id)); },

  /** admitted says when and where this device admitted a ticket. */
  admitted(key) { return read('admitted', {})[key]; },
  markAdmitted(key, rec) {
    const all = read('admitted', {});
    all[key] = rec;
    write('admitted', all);
  },

  /** reports are what the syncs found (duplicates, refusals), newest first. */
  reports() { return read('reports', []); },
  addReport(r) {
    const all = read('reports', []);
    all.unshift(r);
    write('reports', all.slice(0, MAX_REPORTS));
  },
};
