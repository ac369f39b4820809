// charts.js: the admin dashboard's charts, from the node's GET /admin/api/metrics
// (Prometheus text format) sampled every few seconds while the page is
// open: reserves per second (boxoffice_engine_commands_total{op="reserve"},
// accepted and refused) and journal commit latency (mean and p99 of
// boxoffice_journal_commit_seconds between two samples).

import { sizedCanvas } from './api.js';

const SAMPLE_EVERY_MS = 2000;
const WINDOW_MS = 5 * 60 * 1000;

/**
 * parseMetrics reads the Prometheus text format into a list of
 * {name, labels, value}; comments and malformed lines are skipped.
 */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** reading is the part of one /metrics sample that the charts use. */
function reading(metrics, at) {
  const r = { at, reserveOK: 0, reserveRefused: 0, commitSum: 0, commitCount: 0, buckets: new Map() };
  for (const m of metrics) {
    if (m.name === 'boxoffice_engine_commands_total' && m.labels.op === 'reserve') {
      // replayed: a repeated keyed reserve answered with its first reply, neither.
      if (m.labels.result === 'ok') r.reserveOK += m.value;
      else if (m.labels.result !== 'replayed') r.reserveRefused += m.value;
    } else if (m.name === 'boxoffice_journal_commit_seconds_sum') {
      r.commitSum = m.value;
    } else if (m.name === 'boxoffice_journal_commit_seconds_count') {
      r.commitCount = m.value;
    } else if (m.name === 'boxoffice_journal_commit_seconds_bucket') {
      r.buckets.set(m.labels.le, m.value);
    }
  }
  return r;
}

/** quantile estimates q from the difference of two cumulative histograms. */
function quantile(q, prev, cur) {
  const les = [...cur.buckets.keys()].sort((a, b) => Number(a) - Number(b));
  const total = (cur.buckets.get('+Inf') || 0) - (prev.buckets.get('+Inf') || 0);
  if (total <= 0) return null;
  const want = q * total;
  let lower = 0;
  for (const le of les) {
    const n = (cur.buckets.get(le) || 0) - (prev.buckets.get(le) || 0);
    if (n >= want) return le === '+Inf' ? lower : Number(le);
    lower = Number(le);
  }
  return lower;
}

/** MetricsCharts samples /metrics and draws two line charts. */
export class MetricsCharts {
  /** token returns the admin's bearer token: the charts read GET /admin/api/metrics. */
  constructor(reservesCanvas, latencyCanvas, labels, token) {
    this.token = token;
    this.canvases = { reserves: reservesCanvas, latency: latencyCanvas };
    this.labels = labels;
    this.prev = null;
    this.points = []; // {at, ok, refused, mean, p99} per interval
    this.timer = 0;
  }

  start() {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = 0;
  }

  async sample() {
    let text;
    try {
      const resp = await fetch('/admin/api/metrics', {
        headers: { Accept: 'text/plain', Authorization: `Bearer ${this.token()}` },
      });
      if (!resp.ok) return;
      text = await resp.text();
    } catch {
      return; // the cluster poll reports a lost node
    }
    const cur = reading(parseMetrics(text), Date.now());
    const prev = this.prev;
    this.prev = cur;
    if (prev) {
      const secs = (cur.at - prev.at) / 1000;
      const commits = cur.commitCount - prev.commitCount;
      this.points.push({
        at: cur.at,
        ok: Math.max(0, cur.reserveOK - prev.reserveOK) / secs,
        refused: Math.max(0, cur.reserveRefused - prev.reserveRefused) / secs,
        mean: commits > 0 ? ((cur.commitSum - prev.commitSum) / commits) * 1000 : null,
        p99: commits > 0 ? quantile(0.99, prev, cur) * 1000 : null,
      });
      while (this.points.length && this.points[0].at < cur.at - WINDOW_MS) this.points.shift();
    }
    this.draw();
  }

  draw() {
    const last = this.points[this.points.length - 1];
    if (last) {
      this.labels.rate.textContent = `now ${last.ok.toFixed(1)}/s held, ${last.refused.toFixed(1)}/s refused`;
      this.labels.latency.textContent = last.mean == null ? 'no commits in the last interval'
        : `now mean ${last.mean.toFixed(1)} ms, p99 ≤ ${last.p99.toFixed(1)} ms`;
    }
    lineChart(this.canvases.reserves, this.points, [
      { key: 'ok', color: '#2e9d5b', label: 'held' },
      { key: 'refused', color: '#c93c37', label: 'refused' },
    ]);
    lineChart(this.canvases.latency, this.points, [
      { key: 'mean', color: '#1f6feb', label: 'mean' },
      { key: 'p99', color: '#f0a030', label: 'p99 (bucket bound)' },
    ]);
  }
}

/** lineChart draws series of points over the last WINDOW_MS on a canvas. */
function lineChart(canvas, points, series) {
  const sized = sizedCanvas(canvas);
  if (!sized) return;
  const { ctx, w, h: hgt } = sized;
  const pad = { l: 44, r: 8, t: 18, b: 20 };
  const now = points.length ? points[points.length - 1].at : Date.now();
  let top = 0;
  for (const p of points) for (const s of series) if (p[s.key] != null) top = Math.max(top, p[s.key]);
  top = niceCeil(top || 1);
  const x = (at) => pad.l + ((at - (now - WINDOW_MS)) / WINDOW_MS) * (w - pad.l - pad.r);
  const y = (v) => hgt - pad.b - (v / top) * (hgt - pad.t - pad.b);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#66707c';
  ctx.strokeStyle = '#e6e9ed';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, y(v));
    ctx.lineTo(w - pad.r, y(v));
    ctx.stroke();
    ctx.fillText(String(Number(v.toPrecision(3))), pad.l - 6, y(v));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let m = 0; m <= 5; m++) ctx.fillText(m === 0 ? 'now' : `-${m}m`, x(now - m * 60000), hgt - pad.b + 4);
  let lx = pad.l + 4;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    let drawing = false;
    for (const p of points) {
      if (p[s.key] == null) { drawing = false; continue; }
      if (drawing) ctx.lineTo(x(p.at), y(p[s.key])); else ctx.moveTo(x(p.at), y(p[s.key]));
      drawing = true;
    }
    ctx.stroke();
    ctx.fillStyle = s.color;
    for (const p of points) {
      if (p[s.key] == null) continue;
      ctx.beginPath();
      ctx.arc(x(p.at), y(p[s.key]), 2.2, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.fillRect(lx, 5, 10, 3);
    ctx.fillStyle = '#1d232b';
    ctx.fillText(s.label, lx + 14, 7);
    lx += ctx.measureText(s.label).width + 30;
  }
  if (!points.length) {
    ctx.fillStyle = '#66707c';
    ctx.textAlign = 'center';
    ctx.fillText('collecting samples…', (pad.l + w - pad.r) / 2, hgt / 2);
  }
}

/** niceCeil rounds up to 1, 2 or 5 times a power of ten. */
function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
