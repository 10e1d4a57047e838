#!/usr/bin/env node
// grpc-edge against grpc-js, side by side, on this machine, in one run.
//
//   npm run bench                      3 rounds, 5 s per load shape (a few minutes)
//   npm run bench -- --quick           1 round, 2 s per shape (smoke run)
//   npm run bench -- --rounds 5 --seconds 10 --warmup 2 --cold-starts 5   (cold start: median of N starts per round)
//   npm run bench -- --profile-flags   also run grpc-edge with the host-x64 profile's node flags
//   npm run bench -- --node-flags "--max-semi-space-size=16"   flags for every Node server
//   npm run bench -- --no-python --no-stream --no-build --no-floor
//   npm run bench -- --cpu-prof        instead of the bench: profile grpc-edge under the -c8 -m16 load
//   npm run bench -- --sea             also: single executable vs bundle cold starts and sizes, host and
//                                      qemu arm64/armv7l (scripts/bench/sea-cold.mjs; a few minutes more)
//   npm run bench -- --sea-only [--sea-runs 10] [--sea-platforms host,arm64,armv7l]   that section alone
//   npm run bench -- --metrics         also the npm-start Greeter (examples/greeter/start.ts: metrics
//                                      and status page on), column edge+metrics, unary only
//   npm run bench -- --baseline /work/main   also the Greeter bundle built from another checkout
//                                      (column edge@base, unary only): before/after in one run
//   npm run bench -- --jemalloc [--jemalloc-lib PATH] [--malloc-conf CONF]   also grpc-edge on jemalloc (column edge+jemalloc:
//                                      the same bundles and flags, LD_PRELOAD of Debian's libjemalloc2 and
//                                      MALLOC_CONF=dirty_decay_ms:1000,muzzy_decay_ms:0 in that server's
//                                      environment only, scripts/bench/allocator.mjs), with its ratios to grpc-edge
//
// Servers (each its own process, pinned to CPU 0; the load generators and this script on CPU 1):
//   grpc-edge   the Greeter bundle (npm run build -- --target host-x64 --entry examples/greeter/server.ts)
//   grpc-js     scripts/bench/grpcjs-greeter.mjs (@grpc/grpc-js + @grpc/proto-loader)
//   grpcio      scripts/bench/grpcio-greeter.py (Python grpcio), when installed; no targets, for reference
//   node floor  scripts/bench/floor-server.cjs: a bare Node process answering every call with
//               precomputed bytes (no HPACK decoding, no protobuf), what Node itself costs on this
//               machine; unary only, printed under the table as a reference (no ratio). About 12 s
//               per round at the default schedule; --no-floor leaves it out.
// Load: h2load sending real unary gRPC calls to /helloworld.Greeter/SayHello (-c1 -m1 and -c8 -m16),
// and a grpc-js client pulling a server stream (bench.Streamer, scripts/bench/stream.proto, served by
// scripts/bench/edge-stream.ts and scripts/bench/grpcjs-stream.mjs). Servers take turns (A B A B ...),
// every figure is the median over the rounds, printed with its range (min-max over the rounds; cold
// start: over every start of every round), and every round goes to bench-results/<timestamp>.json
// (with "medians" and "ranges" per server).
//
// Reading the figures: h2load only sees HTTP statuses, so each server's answer (reply and
// grpc-status 0) is checked with a grpc-js client before and after the load. On a shared or busy
// machine req/s and latencies move a lot between runs (look at the load average printed at the
// start); CPU seconds per 100k calls and RSS are the steadier figures. Same Node flags for every
// server unless --profile-flags adds a grpc-edge column with the host-x64 profile's flags.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { h2load, writeBody } from './bench/h2load.mjs';
import { verifyWithGrpcJs, waitFirstAnswer } from './bench/probe.mjs';
import { HAVE_TASKSET, cpuSeconds, freePort, pin, pinSelf, resetPeakRss, spawnServer, statusMiB, stopServer } from './bench/proc.mjs';
import { allocatorSetting, checkAllocator, describeAllocator } from './bench/allocator.mjs';
import { FIGURES, floorLines, get, median, medianFigures, rangeFigures, table, verdict } from './bench/stats.mjs';
import { cpuProfile } from './bench/cpu-profile.mjs';
import { seaColdStarts } from './bench/sea-cold.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER_CPU = 0;
const LOAD_CPU = 1;

function parseArgs(argv) {
  const o = { rounds: 3, seconds: 5, warmup: 1, coldStarts: 3, python: true, stream: true, build: true, floor: true, profileFlags: false, nodeFlags: [], cpuProf: false, out: undefined, sea: false, seaOnly: false, seaRuns: 10, seaPlatforms: ['host', 'arm64', 'armv7l'], metrics: false, baseline: undefined, jemalloc: false, jemallocLib: undefined, mallocConf: undefined };
  let quick = false;
  const set = { rounds: false, seconds: false, warmup: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = () => {
      const n = Number(val());
      if (!(n > 0)) throw new Error(`${a} needs a positive number`);
      return n;
    };
    if (a === '--quick') quick = true;
    else if (a === '--rounds') (o.rounds = Math.round(num())), (set.rounds = true);
    else if (a === '--seconds') (o.seconds = num()), (set.seconds = true);
    else if (a === '--warmup') (o.warmup = Number(val())), (set.warmup = true);
    else if (a === '--cold-starts') o.coldStarts = Math.round(num());
    else if (a === '--no-python') o.python = false;
    else if (a === '--no-stream') o.stream = false;
    else if (a === '--no-build') o.build = false;
    else if (a === '--floor') o.floor = true;
    else if (a === '--no-floor') o.floor = false;
    else if (a === '--profile-flags') o.profileFlags = true;
    else if (a === '--node-flags') o.nodeFlags = val().split(/\s+/).filter(Boolean);
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--sea') o.sea = true;
    else if (a === '--sea-only') (o.sea = true), (o.seaOnly = true);
    else if (a === '--sea-runs') o.seaRuns = Math.round(num());
    else if (a === '--sea-platforms') o.seaPlatforms = val().split(',').filter(Boolean);
    else if (a === '--out') o.out = val();
    else if (a === '--metrics') o.metrics = true;
    else if (a === '--baseline') o.baseline = val();
    else if (a === '--jemalloc') o.jemalloc = true;
    else if (a === '--jemalloc-lib') (o.jemalloc = true), (o.jemallocLib = val());
    else if (a === '--malloc-conf') (o.jemalloc = true), (o.mallocConf = val());
    else if (a === '-h' || a === '--help') {
      const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
      console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (quick) {
    if (!set.rounds) o.rounds = 1;
    if (!set.seconds) o.seconds = 2;
    if (!set.warmup) o.warmup = 0.5;
  }
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', ...opts });
  return { ok: r.status === 0, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

function fileSizes(file) {
  const code = readFileSync(file);
  return { rawKB: code.length / 1024, gzipKB: gzipSync(code, { level: 9 }).length / 1024 };
}

/**
 * The grpc-edge bundles (Greeter, and the streaming bench server), written outside the repository
 * (its package.json says "type": "module", which would make a CommonJS bundle fail to load).
 */
async function buildEdge(tmp, opts) {
  const outdir = join(tmp, 'dist');
  const greeter = join(outdir, 'host-x64', 'greeter.js');
  const stream = join(outdir, 'host-x64', 'edge-stream.js');
  const res = { greeter: undefined, greeterKind: 'bundle', stream: undefined, notes: [] };
  if (opts.build) {
    const g = run(process.execPath, ['scripts/build.mjs', '--target', 'host-x64', '--entry', 'examples/greeter/server.ts', '--outdir', outdir, '--quiet']);
    // build.mjs exits 1 when the bundle is over its size budget but still writes it.
    if (existsSync(greeter)) res.greeter = greeter;
    if (!g.ok) res.notes.push(`build.mjs (greeter): ${g.out.trim()}`);
    const s = run(process.execPath, ['scripts/build.mjs', '--target', 'host-x64', '--entry', 'scripts/bench/edge-stream.ts', '--outdir', outdir, '--quiet']);
    if (existsSync(stream)) res.stream = stream;
    else res.notes.push(`build.mjs (edge-stream): ${s.out.trim()}`);
  } else {
    for (const f of [join(ROOT, 'dist/host-x64/greeter.js')]) if (existsSync(f)) (res.greeter = join(tmp, 'greeter.js')), writeFileSync(res.greeter, readFileSync(f));
  }
  if (res.stream === undefined) {
    // Bundle it ourselves, the way build.mjs does (no profile baked in: the default is host-x64).
    const { build } = await import('esbuild');
    await build({
      entryPoints: [join(ROOT, 'scripts/bench/edge-stream.ts')],
      outfile: stream,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node18',
      minify: true,
      logLevel: 'silent',
    });
    res.stream = stream;
  }
  if (res.greeter === undefined) {
    // Fallback: the transpiled, unbundled Greeter.
    const c = run(process.execPath, ['scripts/compile.mjs']);
    if (!c.ok) throw new Error(`no grpc-edge Greeter bundle, and scripts/compile.mjs failed:\n${c.out}`);
    res.greeter = join(ROOT, 'build/examples/greeter/server.js');
    res.greeterKind = 'unbundled (build/, after compile.mjs)';
    res.notes.push('using the unbundled Greeter: the bundle could not be built');
  }
  if (opts.metrics) {
    const out = join(tmp, 'dist-metrics');
    const m = run(process.execPath, ['scripts/build.mjs', '--target', 'host-x64', '--entry', 'examples/greeter/start.ts', '--outdir', out, '--quiet']);
    const f = join(out, 'host-x64', 'start.js');
    if (existsSync(f)) res.metrics = f;
    else res.notes.push(`build.mjs (greeter with metrics): ${m.out.trim()}`);
  }
  if (opts.baseline !== undefined) {
    const out = join(tmp, 'dist-base');
    const b = run(process.execPath, ['scripts/build.mjs', '--target', 'host-x64', '--entry', 'examples/greeter/server.ts', '--outdir', out, '--quiet'], { cwd: opts.baseline });
    const f = join(out, 'host-x64', 'greeter.js');
    if (existsSync(f)) res.baseline = f;
    else res.notes.push(`build.mjs in ${opts.baseline}: ${b.out.trim()}`);
  }
  return res;
}

/** Minified bundle sizes: the grpc-edge Greeter vs an equivalent grpc-js Greeter bundled alike. */
async function bundleSizes(tmp, edgeGreeter, edgeKind) {
  const out = { edge: edgeKind === 'bundle' ? fileSizes(edgeGreeter) : undefined, grpcjs: undefined };
  try {
    const { bundleGrpcJs } = await import('./build.mjs');
    const g = await bundleGrpcJs(join(tmp, 'dist-grpcjs'));
    out.grpcjs = { rawKB: g.raw / 1024, gzipKB: g.gzip / 1024, file: 'scripts/build/grpcjs-greeter.mjs' };
  } catch {
    const { build } = await import('esbuild');
    const outfile = join(tmp, 'grpcjs-greeter.js');
    await build({ entryPoints: [join(ROOT, 'scripts/bench/grpcjs-greeter.mjs')], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node18', minify: true, logLevel: 'silent' });
    out.grpcjs = { ...fileSizes(outfile), file: 'scripts/bench/grpcjs-greeter.mjs' };
  }
  return out;
}

function pythonHasGrpc() {
  return existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import grpc'], { stdio: 'ignore' }).status === 0;
}

function checkLoad(r, what, allowNone = false) {
  const problems = [];
  if (!(r.requests > 0) && !allowNone) problems.push('no requests completed');
  if (r.failed !== 0 || r.errored !== 0) problems.push(`${r.failed} failed, ${r.errored} errored`);
  if (r.succeeded !== r.requests) problems.push(`${r.succeeded} of ${r.requests} succeeded`);
  if (r.statusOther !== 0) problems.push(`${r.statusOther} non-2xx statuses`);
  if (problems.length > 0) throw new Error(`${what}: ${problems.join(', ')}\n${r.raw}`);
}

async function measureUnary(pid, port, c, m, seconds, ctx) {
  const cpu0 = cpuSeconds(pid);
  const r = await h2load({ port, c, m, seconds, bodyFile: ctx.body, logFile: join(ctx.tmp, 'h2load.log'), cpu: LOAD_CPU });
  const cpu = cpuSeconds(pid) - cpu0;
  checkLoad(r, `-c${c} -m${m}`);
  return {
    rps: r.h2loadRps,
    meanMs: r.meanMs,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    maxMs: r.maxMs,
    requests: r.requests,
    cpuSeconds: cpu,
    cpuPer100k: (cpu / r.requests) * 1e5,
  };
}

/** One server's unary session: cold start, idle RSS, warm-up, -c1 -m1, -c8 -m16 (peak RSS). */
async function unarySession(s, ctx) {
  // Cold start is short and noisy: time several fresh starts, the last of which stays up for the load.
  const colds = [];
  for (let i = 1; i < ctx.opts.coldStarts; i++) {
    const p = await freePort();
    const extra = spawnServer(s.unary(p), { cpu: SERVER_CPU, env: s.env });
    try {
      colds.push(await waitFirstAnswer(p, extra.t0, 20000, extra.alive));
    } finally {
      await stopServer(extra);
    }
  }
  const port = await freePort();
  const srv = spawnServer(s.unary(port), { cpu: SERVER_CPU, env: s.env });
  try {
    colds.push(await waitFirstAnswer(port, srv.t0, 20000, srv.alive));
    if (s.allocator) checkAllocator(srv.pid, s.allocator);
    const coldStartMs = median(colds);
    await verifyWithGrpcJs(port);
    await sleep(200);
    const idleRssMiB = statusMiB(srv.pid, 'VmRSS');
    if (ctx.opts.warmup > 0) {
      const w = await h2load({ port, c: 8, m: 16, seconds: ctx.opts.warmup, bodyFile: ctx.body, cpu: LOAD_CPU });
      checkLoad(w, 'warm-up', true); // a short warm-up of a slow starter may complete nothing
    }
    const unary1 = await measureUnary(srv.pid, port, 1, 1, ctx.opts.seconds, ctx);
    const hwmReset = resetPeakRss(srv.pid);
    const unary8 = await measureUnary(srv.pid, port, 8, 16, ctx.opts.seconds, ctx);
    const peakRssMiB = statusMiB(srv.pid, 'VmHWM');
    await verifyWithGrpcJs(port);
    return { coldStartMs, coldStartMinMs: Math.min(...colds), coldStartsMs: colds, idleRssMiB, peakRssMiB, peakRssSinceStart: !hwmReset, unary1, unary8 };
  } finally {
    await stopServer(srv);
  }
}

/** One server's streaming session: a grpc-js client (own process, load CPU) pulling messages. */
async function streamSession(s, ctx) {
  const srv = spawnServer(s.stream(0), { cpu: SERVER_CPU, env: s.env });
  try {
    const port = await srv.ready();
    if (s.allocator) checkAllocator(srv.pid, s.allocator);
    const cpu0 = cpuSeconds(srv.pid);
    const argv = [...pin(LOAD_CPU), process.execPath, join(ROOT, 'scripts/bench/stream-client.mjs'), String(port), String(Math.round(ctx.opts.seconds * 1000))];
    const out = await new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      child.stdout.on('data', (d) => (o += d));
      child.stderr.on('data', (d) => (o += d));
      child.on('exit', (code) => (code === 0 ? resolve(o) : reject(new Error(`stream client exited with ${code}: ${o}`))));
    });
    const cpu = cpuSeconds(srv.pid) - cpu0;
    const r = JSON.parse(out.trim().split('\n').pop());
    return { perSecond: r.perSecond, messages: r.messages, cpuSeconds: cpu, cpuPer100k: (cpu / r.messages) * 1e5, clientCpuSeconds: r.clientCpuSeconds };
  } finally {
    await stopServer(srv);
  }
}

function machine() {
  const h2 = spawnSync('h2load', ['--version'], { encoding: 'utf8' }).stdout?.trim();
  return {
    date: new Date().toISOString(),
    nproc: Number(spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim()) || os.cpus().length,
    node: process.version,
    cpu: os.cpus()[0]?.model,
    kernel: os.release(),
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    h2load: h2,
    taskset: HAVE_TASKSET,
    commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim(),
  };
}

/** The figures compared between grpc-edge on glibc and on jemalloc. */
const AB_FIGURES = ['unary1.rps', 'unary8.rps', 'unary8.p99Ms', 'unary1.cpuPer100k', 'unary8.cpuPer100k', 'stream.perSecond', 'stream.cpuPer100k', 'idleRssMiB', 'peakRssMiB', 'coldStartMs'];

/** edge+jemalloc / grpc-edge: the ratio of the medians, and the range of the same-round ratios. */
function allocatorRatioFigures(rounds, medians) {
  const out = {};
  for (const key of AB_FIGURES) {
    const perRound = [];
    for (const r of rounds.filter((x) => x.server === 'edge' && !x.error)) {
      const j = rounds.find((x) => x.server === 'edgeJemalloc' && x.round === r.round && !x.error);
      if (j) perRound.push(get(j.figures, key) / get(r.figures, key));
    }
    const ok = perRound.filter(Number.isFinite);
    out[key] = { ratio: get(medians.edgeJemalloc, key) / get(medians.edge, key), min: ok.length ? Math.min(...ok) : NaN, max: ok.length ? Math.max(...ok) : NaN };
  }
  return out;
}

function allocatorRatios(rounds, medians) {
  const r = allocatorRatioFigures(rounds, medians);
  const label = (key) => FIGURES.find((f) => f.key === key)?.label ?? key;
  return AB_FIGURES.map((k) => `  ${label(k)}: ${Number.isFinite(r[k].ratio) ? r[k].ratio.toFixed(3) + 'x' : '-'}${Number.isFinite(r[k].min) ? ` (${r[k].min.toFixed(3)}-${r[k].max.toFixed(3)})` : ''}`).join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // a missing library fails before anything is built
  const jemalloc = opts.jemalloc ? allocatorSetting('jemalloc', { library: opts.jemallocLib, ...(opts.mallocConf !== undefined ? { conf: opts.mallocConf } : {}) }) : undefined;
  if (opts.seaOnly) {
    await seaColdStarts({ runs: opts.seaRuns, platforms: opts.seaPlatforms });
    return;
  }
  const host = machine(); // before pinning: nproc counts the CPUs this process may use
  const nproc = os.availableParallelism?.() ?? os.cpus().length;
  if (HAVE_TASKSET && nproc >= 2) pinSelf(LOAD_CPU);
  else console.log('note: taskset or a second CPU is missing; servers and load share the CPUs');
  const tmp = mkdtempSync(join(os.tmpdir(), 'grpc-edge-bench-'));
  try {
    const edge = await buildEdge(tmp, opts);
    for (const n of edge.notes) console.log('note: ' + n);
    const hostProfile = JSON.parse(readFileSync(join(ROOT, 'targets/host-x64.json'), 'utf8'));
    if (opts.cpuProf) {
      await cpuProfile({ root: ROOT, tmp, opts, loadCpu: LOAD_CPU, serverCpu: SERVER_CPU, body: writeBody(tmp) });
      return;
    }
    const node = (flags, file) => (port) => [process.execPath, ...flags, file, String(port)];
    const servers = [
      { id: 'edge', label: 'grpc-edge', unary: node(opts.nodeFlags, edge.greeter), stream: node(opts.nodeFlags, edge.stream), env: { HOST: '127.0.0.1' } },
      {
        id: 'grpcjs',
        label: 'grpc-js',
        unary: node(opts.nodeFlags, join(ROOT, 'scripts/bench/grpcjs-greeter.mjs')),
        stream: node(opts.nodeFlags, join(ROOT, 'scripts/bench/grpcjs-stream.mjs')),
      },
    ];
    if (edge.baseline !== undefined) {
      servers.push({ id: 'edgeBase', label: 'edge@base', unary: node(opts.nodeFlags, edge.baseline), env: { HOST: '127.0.0.1' } });
    }
    if (edge.metrics !== undefined) {
      servers.push({ id: 'edgeMetrics', label: 'edge+metrics', unary: node(opts.nodeFlags, edge.metrics), env: { HOST: '127.0.0.1' } });
    }
    if (opts.profileFlags) {
      const flags = [...opts.nodeFlags, ...hostProfile.node.flags];
      servers.push({ id: 'edgeFlags', label: 'edge+flags', unary: node(flags, edge.greeter), stream: node(flags, edge.stream), env: { HOST: '127.0.0.1' } });
    }
    if (jemalloc) {
      // The A/B pair: grpc-edge checked to run on glibc's malloc, edge+jemalloc on jemalloc.
      servers[0].allocator = allocatorSetting('glibc');
      servers.push({ id: 'edgeJemalloc', label: 'edge+jemalloc', allocator: jemalloc, unary: node(opts.nodeFlags, edge.greeter), stream: node(opts.nodeFlags, edge.stream), env: { HOST: '127.0.0.1', ...jemalloc.env } });
    }
    if (opts.python && pythonHasGrpc()) {
      const py = join(ROOT, 'scripts/bench/grpcio-greeter.py');
      servers.push({ id: 'grpcio', label: 'grpcio (py)', unary: (p) => ['/usr/bin/python3', py, String(p)], stream: (p) => ['/usr/bin/python3', py, String(p), '--stream'] });
    }
    if (opts.floor) {
      // A reference, not a competitor: unary only, no ratio, printed under the table.
      servers.push({ id: 'floor', label: 'node floor', reference: true, unary: node(opts.nodeFlags, join(ROOT, 'scripts/bench/floor-server.cjs')) });
    }
    const sizes = await bundleSizes(tmp, edge.greeter, edge.greeterKind);
    const ctx = { opts, tmp, body: writeBody(tmp) };
    const meta = { ...host, options: opts, edgeGreeter: edge.greeterKind, profileFlags: hostProfile.node.flags };
    if (meta.loadavg[0] > 0.5) console.log(`note: load average ${meta.loadavg.join(' ')} before the bench: other work on this machine makes figures noisy`);
    console.log(
      `grpc-edge bench: ${meta.date}, nproc ${meta.nproc}, node ${meta.node}, ${meta.cpu}; ${opts.rounds} round(s) x ${opts.seconds} s per shape` +
        (opts.nodeFlags.length ? `, node flags ${opts.nodeFlags.join(' ')}` : ''),
    );
    const rounds = [];
    let failures = 0;
    for (let round = 1; round <= opts.rounds; round++) {
      for (const s of servers) {
        const entry = { round, server: s.id, figures: {} };
        try {
          entry.figures = await unarySession(s, ctx);
          if (opts.stream && s.stream) entry.figures.stream = await streamSession(s, ctx);
        } catch (err) {
          failures++;
          entry.error = String(err?.message ?? err);
          console.error(`round ${round} ${s.label}: FAILED: ${entry.error}`);
        }
        rounds.push(entry);
        const f = entry.figures;
        if (!entry.error) {
          console.log(
            `round ${round} ${s.label.padEnd(11)} c1 ${f.unary1.rps.toFixed(0).padStart(6)} req/s  c8m16 ${f.unary8.rps.toFixed(0).padStart(6)} req/s` +
              ` p99 ${f.unary8.p99Ms.toFixed(2)} ms  cold ${f.coldStartMs.toFixed(0)} ms  rss ${f.idleRssMiB.toFixed(1)}/${f.peakRssMiB.toFixed(1)} MiB` +
              (f.stream ? `  stream ${f.stream.perSecond.toFixed(0)} msg/s` : ''),
          );
        }
      }
    }
    const medians = {};
    const ranges = {};
    for (const s of servers) {
      const ok = rounds.filter((r) => r.server === s.id && !r.error).map((r) => r.figures);
      medians[s.id] = ok.length > 0 ? medianFigures(ok) : {};
      ranges[s.id] = rangeFigures(ok);
    }
    if (sizes.edge) medians.edge.bundle = sizes.edge;
    medians.grpcjs.bundle = { rawKB: sizes.grpcjs.rawKB, gzipKB: sizes.grpcjs.gzipKB };
    const ratios = {};
    for (const fig of FIGURES) {
      const ratio = get(medians.edge, fig.key) / get(medians.grpcjs, fig.key);
      ratios[fig.key] = { ratio, target: fig.target, verdict: verdict(fig, ratio) };
    }
    console.log(`\nmedians of ${opts.rounds} round(s), ${meta.date.slice(0, 16).replace('T', ' ')} UTC, nproc ${meta.nproc}, node ${meta.node}` + (HAVE_TASKSET ? ', servers on CPU 0, load on CPU 1' : ''));
    const starts = ranges.edge.coldStartMs?.n;
    console.log(table(medians, servers.filter((s) => !s.reference).map((s) => ({ id: s.id, label: s.label })), ranges));
    console.log(
      `ratio = grpc-edge / grpc-js (medians); range = min-max over the ${opts.rounds} round(s)` + (starts ? `, cold start: over all ${starts} starts` : ''),
    );
    if (jemalloc) {
      console.log(`edge+jemalloc: ${describeAllocator(jemalloc)}; edge+jemalloc / grpc-edge (medians, and min-max of the per-round ratios):`);
      console.log(allocatorRatios(rounds, medians));
    }
    if (opts.floor) {
      console.log('node floor (scripts/bench/floor-server.cjs: bare Node answering precomputed bytes, no HPACK decoding, no protobuf):');
      const lines = floorLines(medians.floor, ranges.floor);
      console.log(lines.length > 0 ? lines.join('\n') : '  no figures (every round failed)');
    }
    if (edge.greeterKind !== 'bundle') console.log(`note: grpc-edge ran ${edge.greeterKind}`);
    console.log(`bundles: grpc-edge examples/greeter (host-x64) vs grpc-js ${sizes.grpcjs.file}, both esbuild-minified`);
    const sea = opts.sea ? (await seaColdStarts({ runs: opts.seaRuns, platforms: opts.seaPlatforms })).results : undefined;
    const resultsDir = join(ROOT, 'bench-results');
    mkdirSync(resultsDir, { recursive: true });
    const file = opts.out ?? join(resultsDir, meta.date.replace(/[:.]/g, '-') + '.json');
    mkdirSync(dirname(file), { recursive: true });
    const serverList = servers.map((s) => ({ id: s.id, label: s.label, ...(s.reference ? { reference: true } : {}) }));
    const extra = { ...(sea ? { sea } : {}), ...(jemalloc ? { jemalloc: { library: jemalloc.library, mallocConf: jemalloc.conf, ratios: allocatorRatioFigures(rounds, medians) } } : {}) };
    writeFileSync(file, JSON.stringify({ meta, servers: serverList, sizes, rounds, medians, ranges, ratios, ...extra }, null, 2) + '\n');
    console.log(`every round: ${relative(ROOT, file)}`);
    if (failures > 0) {
      console.error(`${failures} session(s) failed`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error('bench failed: ' + (err?.stack ?? err));
  process.exit(1);
});
