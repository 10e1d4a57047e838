// Running h2load with real unary gRPC requests and reading its results.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HELLO_WORLD_FRAME } from './probe.mjs';
import { pin } from './proc.mjs';

/** Write the request body (5-byte prefix + HelloRequest{name:"world"}) to a file in `dir`. */
export function writeBody(dir) {
  const file = join(dir, 'hello-world.grpc');
  writeFileSync(file, HELLO_WORLD_FRAME);
  return file;
}

/**
 * h2load -c <c> -m <m> -D <seconds> against /helloworld.Greeter/SayHello. Returns
 * { requests, succeeded, failed, errored, status2xx, statusOther, rps, meanMs, p50Ms, p99Ms, maxMs }
 * (latencies from the per-request --log-file; rps = done requests / duration).
 */
export async function h2load({ port, c, m, seconds, bodyFile, logFile, cpu, path = '/helloworld.Greeter/SayHello' }) {
  const args = [
    ...pin(cpu),
    'h2load',
    '-c', String(c),
    '-m', String(m),
    '-t', '1',
    '-D', `${Math.max(1, Math.round(seconds * 1000))}ms`,
    '-d', bodyFile,
    '-H', 'content-type: application/grpc',
    '-H', 'te: trailers',
    ...(logFile ? ['--log-file', logFile] : []),
    `http://127.0.0.1:${port}${path}`,
  ];
  if (logFile) rmSync(logFile, { force: true });
  const out = await new Promise((resolve, reject) => {
    const child = spawn(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let s = '';
    child.stdout.on('data', (d) => (s += d));
    child.stderr.on('data', (d) => (s += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`h2load exited with ${code}:\n${s}`))));
  });
  const num = (re) => {
    const x = re.exec(out);
    return x ? Number(x[1]) : NaN;
  };
  const r = {
    requests: num(/requests: \d+ total, \d+ started, (\d+) done/),
    succeeded: num(/(\d+) succeeded/),
    failed: num(/(\d+) failed/),
    errored: num(/(\d+) errored/),
    status2xx: num(/status codes: (\d+) 2xx/),
    statusOther: 0,
    h2loadRps: num(/finished in [\d.]+\w*, ([\d.]+) req\/s/),
    rps: NaN,
    meanMs: NaN,
    p50Ms: NaN,
    p99Ms: NaN,
    maxMs: NaN,
  };
  const other = /status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (other) r.statusOther = Number(other[1]) + Number(other[2]) + Number(other[3]);
  if (logFile) {
    // Each line: start time (µs since the epoch) \t HTTP status \t duration (µs).
    const lines = readFileSync(logFile, 'utf8').split('\n');
    const durs = [];
    let first = Infinity;
    let last = 0;
    for (const line of lines) {
      if (line === '') continue;
      const [start, status, dur] = line.split('\t');
      if (status !== '200') continue;
      const d = Number(dur);
      durs.push(d);
      const s = Number(start);
      if (s < first) first = s;
      if (s + d > last) last = s + d;
    }
    rmSync(logFile, { force: true });
    if (durs.length > 0) {
      const sorted = Float64Array.from(durs).sort();
      const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] / 1000;
      let sum = 0;
      for (const d of durs) sum += d;
      r.meanMs = sum / durs.length / 1000;
      r.p50Ms = pct(50);
      r.p99Ms = pct(99);
      r.maxMs = sorted[sorted.length - 1] / 1000;
      r.rps = durs.length / ((last - first) / 1e6);
    }
  }
  if (!Number.isFinite(r.rps)) r.rps = r.h2loadRps;
  r.raw = out;
  return r;
}
