// live.js: the seat-map WebSocket of API.md (GET /events/{id}/seats/ws):
// one snapshot, then deltas in version order with no gaps. A client that
// sees a gap, or loses the socket, reconnects and starts again from a fresh
// snapshot, so what it shows is always some exact version of the seat map.
//
// With {compact: true} it asks for ?format=compact: the snapshot is every
// seat's status packed two bits a seat (openapi.yaml SeatEncoding), and a
// delta covers versions from_version..version as [layout index, status]
// pairs, several versions gathered into one frame by the node.

const MAX_BACKOFF_MS = 5000;

// SERVICE_RESTART is the close code of a draining node (1012, reason
// "draining"): reconnect at once instead of backing off.
const SERVICE_RESTART = 1012;

/** SeatFeed keeps one event's seat statuses live until stop(). */
export class SeatFeed {
  /**
   * @param eventId the event's UUID
   * @param hooks   {onSnapshot(version, tickets), onDelta(version, changes), onState(state, detail)}
   *                state is "connecting", "live" or "reconnecting"; compact
   *                frames go to onPacked(version, statuses) (a Uint8Array of
   *                STATUS values) and onCompactDelta(version, [[index, status]])
   * @param opts    {compact: true} for the compact frames
   */
  constructor(eventId, hooks, opts = {}) {
    this.eventId = eventId;
    this.hooks = hooks;
    this.compact = !!opts.compact;
    this.version = null;
    this.backoff = 250;
    this.stopped = false;
    this.reconnects = 0;
    this.gaps = 0;
  }

  start() {
    this.connect();
    return this;
  }

  connect() {
    if (this.stopped) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = this.compact ? '?format=compact' : '';
    const ws = new WebSocket(`${proto}//${location.host}/events/${encodeURIComponent(this.eventId)}/seats/ws${query}`);
    this.ws = ws;
    this.version = null;
    this.hooks.onState?.(this.reconnects ? 'reconnecting' : 'connecting');
    ws.onmessage = (m) => this.receive(ws, m.data);
    ws.onclose = (e) => {
      if (this.ws !== ws || this.stopped) return;
      this.reconnects++;
      clearTimeout(this.timer);
      if (e.code === SERVICE_RESTART && !this.drained) {
        // The node drains (1012 "draining"): another node serves the
        // same address behind the load balancer, so reconnect at once
        // (once: if the same node answers again, back off as usual).
        this.drained = true;
        this.hooks.onState?.('reconnecting', 'the server is restarting');
        this.connect();
        return;
      }
      this.hooks.onState?.('reconnecting', 'connection lost');
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    };
  }

  receive(ws, data) {
    if (this.ws !== ws) return;
    let msg;
    try { msg = JSON.parse(data); } catch { return; }
    if (msg.type === 'snapshot') {
      this.version = msg.version;
      this.backoff = 250;
      this.drained = false;
      if (msg.data !== undefined) this.hooks.onPacked?.(msg.version, unpack(msg.data, msg.seats));
      else this.hooks.onSnapshot?.(msg.version, msg.tickets);
      this.hooks.onState?.('live');
      return;
    }
    if (msg.type !== 'delta' || this.version == null || msg.version <= this.version) return;
    // A compact frame covers from_version..version; one that starts at or
    // before our next version holds each changed seat's status at version.
    const from = msg.from_version ?? msg.version;
    if (from > this.version + 1) {
      // A missed delta: our picture is no longer exact. Start over.
      this.gaps++;
      this.hooks.onState?.('reconnecting', `missed version ${this.version + 1}`);
      this.reconnectNow();
      return;
    }
    this.version = msg.version;
    if (this.compact) this.hooks.onCompactDelta?.(msg.version, msg.changes);
    else this.hooks.onDelta?.(msg.version, msg.changes);
  }

  /** reconnectNow drops the socket and opens a new one at once. */
  reconnectNow() {
    const old = this.ws;
    this.ws = null;
    old.onclose = null;
    old.close();
    this.reconnects++;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
  }
}

/**
 * unpack reads n statuses packed two bits a seat, lowest bits first
 * (openapi.yaml SeatEncoding "2bit-lsb"), from base64; 3 reads as booked.
 */
export function unpack(base64, n) {
  const bin = atob(base64);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const code = (bin.charCodeAt(i >> 2) >> ((i & 3) * 2)) & 3;
    out[i] = code === 3 ? 2 : code;
  }
  return out;
}
