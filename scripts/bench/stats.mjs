// Medians, ranges (min-max over rounds), ratios and the terminal table.

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * The figures, in table order. `better`: 'higher' or 'lower'. `target`: the goal for
 * grpc-edge / grpc-js (>= for higher, <= for lower), or undefined.
 */
export const FIGURES = [
  { key: 'unary1.rps', label: 'req/s, 1 call at a time (-c1 -m1)', unit: '', better: 'higher', target: 1.6, digits: 0 },
  { key: 'unary1.meanMs', label: 'mean latency, -c1 -m1', unit: 'ms', better: 'lower', digits: 3 },
  { key: 'unary1.p99Ms', label: 'p99 latency, -c1 -m1', unit: 'ms', better: 'lower', digits: 3 },
  { key: 'unary1.cpuPer100k', label: 'CPU s per 100k calls, -c1 -m1', unit: 's', better: 'lower', digits: 2 },
  { key: 'unary8.rps', label: 'req/s, -c8 -m16', unit: '', better: 'higher', target: 3, digits: 0 },
  { key: 'unary8.meanMs', label: 'mean latency, -c8 -m16', unit: 'ms', better: 'lower', digits: 2 },
  { key: 'unary8.p99Ms', label: 'p99 latency, -c8 -m16', unit: 'ms', better: 'lower', target: 0.5, digits: 2 },
  { key: 'unary8.cpuPer100k', label: 'CPU s per 100k calls, -c8 -m16', unit: 's', better: 'lower', target: 1 / 3, digits: 2 },
  { key: 'idleRssMiB', label: 'idle RSS (after 1 call)', unit: 'MiB', better: 'lower', target: 0.8, digits: 1 },
  { key: 'peakRssMiB', label: 'peak RSS under -c8 -m16', unit: 'MiB', better: 'lower', target: 0.4, digits: 1 },
  { key: 'coldStartMs', label: 'cold start (spawn to 1st answer)', unit: 'ms', better: 'lower', target: 0.6, digits: 0 },
  { key: 'coldStartMinMs', label: 'cold start, fastest of a round', unit: 'ms', better: 'lower', digits: 0 },
  { key: 'stream.perSecond', label: 'stream msgs/s (grpc-js client)', unit: '', better: 'higher', digits: 0 },
  { key: 'stream.cpuPer100k', label: 'CPU s per 100k streamed msgs', unit: 's', better: 'lower', digits: 2 },
  { key: 'bundle.rawKB', label: 'bundle size, minified', unit: 'KB', better: 'lower', digits: 1 },
  { key: 'bundle.gzipKB', label: 'bundle size, gzipped', unit: 'KB', better: 'lower', digits: 1 },
];

export function get(obj, key) {
  let v = obj;
  for (const k of key.split('.')) v = v?.[k];
  return typeof v === 'number' ? v : NaN;
}

function fmt(x, digits) {
  if (!Number.isFinite(x)) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Verdict of a ratio against a figure's target: 'ok', 'MISS' or ''. */
export function verdict(fig, ratio) {
  if (fig.target === undefined || !Number.isFinite(ratio)) return '';
  const ok = fig.better === 'higher' ? ratio >= fig.target : ratio <= fig.target;
  return ok ? 'ok' : 'MISS';
}

function targetText(fig) {
  if (fig.target === undefined) return '';
  const t = fig.target === 1 / 3 ? '1/3' : String(fig.target);
  return (fig.better === 'higher' ? '>= ' : '<= ') + t;
}

/**
 * A compact "min-max" for a table cell: no unit, thousands as k with three significant digits
 * (4.61-4.90k, 12.9-13.5k, 101-106k), smaller values with the figure's digits. '' for fewer than
 * two samples; one value when both ends print alike.
 */
export function fmtRange(r, digits) {
  if (!r || !(r.n >= 2) || !Number.isFinite(r.min) || !Number.isFinite(r.max)) return '';
  let lo;
  let hi;
  if (Math.abs(r.max) >= 1000) {
    const k = r.max / 1000;
    const d = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(k))));
    lo = (r.min / 1000).toFixed(d);
    hi = k.toFixed(d) + 'k';
  } else {
    lo = r.min.toFixed(digits);
    hi = r.max.toFixed(digits);
  }
  return lo === hi.replace(/k$/, '') ? hi : `${lo}-${hi}`;
}

const MAX_WIDTH = 120;

/** Lay rows out in columns (first left-aligned, the rest right-aligned); one space apart if two would pass MAX_WIDTH. */
function layout(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const total = widths.reduce((a, w) => a + w, 0);
  const sep = total + 2 * (widths.length - 1) > MAX_WIDTH ? ' ' : '  ';
  const line = (r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(sep).trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join(sep).trimEnd(), ...rows.slice(1).map(line)].join('\n');
}

/**
 * Render the medians table. `medians`: { [serverId]: figures }, `columns`: [{ id, label }] with the
 * first two being grpc-edge and grpc-js (the ratio is columns[0] / columns[1]); extra columns follow.
 * `ranges` ({ [serverId]: rangeFigures(...) }, optional): the first two servers get a "range" column
 * (min-max over rounds) after their medians.
 */
export function table(medians, columns, ranges = {}) {
  const [a, b, ...extra] = columns;
  const head = ['figure', a.label, 'range', b.label, 'range', 'ratio', 'target', '', ...extra.map((c) => c.label)];
  const rows = [head];
  for (const fig of FIGURES) {
    const va = get(medians[a.id], fig.key);
    const vb = get(medians[b.id], fig.key);
    const ratio = va / vb;
    const unit = fig.unit ? ` ${fig.unit}` : '';
    rows.push([
      fig.label,
      fmt(va, fig.digits) + (Number.isFinite(va) ? unit : ''),
      fmtRange(ranges[a.id]?.[fig.key], fig.digits),
      fmt(vb, fig.digits) + (Number.isFinite(vb) ? unit : ''),
      fmtRange(ranges[b.id]?.[fig.key], fig.digits),
      Number.isFinite(ratio) ? ratio.toFixed(2) + 'x' : '-',
      targetText(fig),
      verdict(fig, ratio),
      ...extra.map((c) => {
        const v = get(medians[c.id], fig.key);
        return fmt(v, fig.digits) + (Number.isFinite(v) ? unit : '');
      }),
    ]);
  }
  return layout(rows);
}

/** The figures printed for the node floor (a reference server), in order. */
const FLOOR_FIGURES = [
  ['unary1.rps', 'req/s 1 at a time'],
  ['unary8.rps', 'req/s -c8 -m16'],
  ['unary8.cpuPer100k', 'CPU s/100k calls -c8 -m16'],
  ['idleRssMiB', 'idle RSS'],
  ['peakRssMiB', 'peak RSS'],
  ['coldStartMs', 'cold start'],
];

/**
 * The node floor's figures as "label median unit (range)" items, wrapped into lines of at most
 * MAX_WIDTH characters (each starting with `indent`). No ratio: it is a reference, not a competitor.
 */
export function floorLines(figures, range = {}, indent = '  ') {
  const items = [];
  for (const [key, label] of FLOOR_FIGURES) {
    const fig = FIGURES.find((f) => f.key === key);
    const v = get(figures, key);
    if (!Number.isFinite(v)) continue;
    const r = fmtRange(range[key], fig.digits);
    items.push(`${label} ${fmt(v, fig.digits)}${fig.unit ? ' ' + fig.unit : ''}${r ? ` (${r})` : ''}`);
  }
  const lines = [];
  let cur = '';
  for (const item of items) {
    const next = cur ? `${cur}, ${item}` : indent + item;
    if (cur && next.length > MAX_WIDTH - 1) {
      lines.push(cur + ',');
      cur = indent + item;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** The dotted path ('unary1.rps', ...) of every numeric leaf in any of the rounds, once each. */
function leafPaths(rounds) {
  const out = new Set();
  const walk = (path, sample) => {
    for (const [k, v] of Object.entries(sample)) {
      const p = path ? `${path}.${k}` : k;
      if (typeof v === 'number') out.add(p);
      else if (v && typeof v === 'object' && !Array.isArray(v)) walk(p, v);
    }
  };
  for (const r of rounds) walk('', r);
  return out;
}

/** Medians of every numeric leaf over rounds (array of figure objects). */
export function medianFigures(rounds) {
  const out = {};
  for (const p of leafPaths(rounds)) setPath(out, p, median(rounds.map((r) => get(r, p))));
  return out;
}

function setPath(obj, key, value) {
  const ks = key.split('.');
  let o = obj;
  for (const k of ks.slice(0, -1)) o = o[k] ??= {};
  o[ks[ks.length - 1]] = value;
}

/**
 * Min, max and count of every numeric leaf over rounds (array of figure objects), keyed by dotted
 * path ('unary1.rps', ...). Cold start is the exception: its range is over every single start of
 * every round (coldStartsMs), not over the per-round medians, and says so (`over: 'starts'`).
 */
export function rangeFigures(rounds) {
  const out = {};
  const span = (xs) => {
    const v = xs.filter((x) => Number.isFinite(x));
    return v.length === 0 ? undefined : { min: Math.min(...v), max: Math.max(...v), n: v.length };
  };
  for (const p of leafPaths(rounds)) out[p] = span(rounds.map((r) => get(r, p)));
  const starts = span(rounds.flatMap((r) => (Array.isArray(r.coldStartsMs) ? r.coldStartsMs : [])));
  if (starts) out.coldStartMs = { ...starts, over: 'starts' };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}
