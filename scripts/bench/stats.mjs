// Medians, ratios and the terminal table.

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
  { key: 'stream.perSecond', label: 'server-streaming msgs/s (grpc-js client)', unit: '', better: 'higher', digits: 0 },
  { key: 'stream.cpuPer100k', label: 'server CPU s per 100k streamed msgs', unit: 's', better: 'lower', digits: 2 },
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
 * Render the medians table. `medians`: { [serverId]: figures }, `columns`: [{ id, label }] with the
 * first two being grpc-edge and grpc-js (the ratio is columns[0] / columns[1]); extra columns follow.
 */
export function table(medians, columns) {
  const [a, b, ...extra] = columns;
  const head = ['figure', a.label, b.label, `${a.label} / ${b.label}`, 'target', '', ...extra.map((c) => c.label)];
  const rows = [head];
  for (const fig of FIGURES) {
    const va = get(medians[a.id], fig.key);
    const vb = get(medians[b.id], fig.key);
    const ratio = va / vb;
    const unit = fig.unit ? ` ${fig.unit}` : '';
    rows.push([
      fig.label,
      fmt(va, fig.digits) + (Number.isFinite(va) ? unit : ''),
      fmt(vb, fig.digits) + (Number.isFinite(vb) ? unit : ''),
      Number.isFinite(ratio) ? ratio.toFixed(2) + 'x' : '-',
      targetText(fig),
      verdict(fig, ratio),
      ...extra.map((c) => {
        const v = get(medians[c.id], fig.key);
        return fmt(v, fig.digits) + (Number.isFinite(v) ? unit : '');
      }),
    ]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Medians of every numeric leaf over rounds (array of figure objects). */
export function medianFigures(rounds) {
  const out = {};
  const walk = (path, sample) => {
    for (const [k, v] of Object.entries(sample)) {
      const p = path ? `${path}.${k}` : k;
      if (typeof v === 'number') setPath(out, p, median(rounds.map((r) => get(r, p))));
      else if (v && typeof v === 'object' && !Array.isArray(v)) walk(p, v);
    }
  };
  for (const r of rounds) walk('', r);
  return out;
}

function setPath(obj, key, value) {
  const ks = key.split('.');
  let o = obj;
  for (const k of ks.slice(0, -1)) o = o[k] ??= {};
  o[ks[ks.length - 1]] = value;
}
