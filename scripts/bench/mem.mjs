// Memory and CPU of a bundled Greeter under idle connections and hostile floods (issues 9 and 14).
//
//   node scripts/bench/mem.mjs idle [--n 2000] [--warm 200] [--target host-x64] [--no-flags]
//   node scripts/bench/mem.mjs flood KIND[,KIND...] [--seconds 30] [--settle 10] [--conns 4] [--target pi-zero-2w] [--no-flags]
//        KIND: settings | ping | empty-data | continuation | hpack-bomb | ignore-goaway | all
//
// The server is scripts/bench/mem-server.ts (the Greeter), bundled for T by build.mjs into
// build/mem-bench/T/, started with the profile's node flags (unless --no-flags: node's defaults),
// --expose-gc and scripts/bench/mem-probe.cjs preloaded. Figures come from the probe
// (process.memoryUsage(), the young generation's size) and /proc (VmRSS, VmHWM, smaps, CPU).
//
// idle: WARM connections opened and closed first (the code they run for the first time, compiled or
// paged in from the node binary, is not a per-connection cost), then N connections that send the
// preface, SETTINGS and the ACK of the server's SETTINGS, then nothing; reports the RSS and heap
// (heapUsed + external) growth per connection (after a full GC), then closes them, and does it all a
// second time: the second peak must not be more than 10% above the first.
// flood: one server for every KIND in turn (as on a board, what a flood leaves is there for the next),
// the probe in its no-GC mode (figures as the server leaves them). CONNS connections run the attack
// for SECONDS, each reconnecting once the server closes it; reports peak RSS (VmHWM) against the
// profile's memoryBudgetMB, server CPU seconds, attacker connections ended, and RSS / heapUsed /
// external SETTLE s after the flood, against the first idle level (issue 14: within 20%) and the one
// just before the flood.
import net from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, stopServer, cpuSeconds, resetPeakRss } from './proc.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return typeof def === 'number' ? Number(v) : v;
}
const has = (name) => process.argv.includes(`--${name}`);

// ---- frames ----

function frame(type, flags, id, payload = Buffer.alloc(0)) {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(id, 5);
  payload.copy(b, 9);
  return b;
}
const SETTINGS = (pairs = []) => {
  const p = Buffer.alloc(pairs.length * 3);
  for (let i = 0; i < pairs.length; i += 2) {
    p.writeUInt16BE(pairs[i], i * 3);
    p.writeUInt32BE(pairs[i + 1], i * 3 + 2);
  }
  return frame(4, 0, 0, p);
};
const SETTINGS_ACK = frame(4, 1, 0);
function hpackInt(v, bits, first = 0) {
  const max = (1 << bits) - 1;
  if (v < max) return [first | v];
  const out = [first | max];
  v -= max;
  while (v >= 128) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return out;
}
/** Literal header fields without indexing, new names, raw strings. */
function literals(list, first = 0x00) {
  const parts = [];
  for (let i = 0; i < list.length; i += 2) {
    const n = Buffer.from(list[i], 'latin1');
    const v = Buffer.from(list[i + 1], 'latin1');
    parts.push(Buffer.from([first]), Buffer.from(hpackInt(n.length, 7)), n, Buffer.from(hpackInt(v.length, 7)), v);
  }
  return Buffer.concat(parts);
}
const REQUEST = [':method', 'POST', ':scheme', 'http', ':path', '/helloworld.Greeter/SayHello', ':authority', 'x', 'content-type', 'application/grpc', 'te', 'trailers'];
const END_STREAM = 1;
const END_HEADERS = 4;

/** The attack's opening bytes (after preface + SETTINGS) and the batch it then repeats. */
function attack(kind) {
  const batch = (one, n) => Buffer.concat(Array.from({ length: n }, () => one));
  switch (kind) {
    case 'settings':
      return { start: Buffer.alloc(0), repeat: batch(SETTINGS([3, 100]), 256) };
    case 'ping':
      return { start: Buffer.alloc(0), repeat: batch(frame(6, 0, 0, Buffer.alloc(8, 7)), 256) };
    case 'empty-data':
      return { start: frame(1, END_HEADERS, 1, literals(REQUEST)), repeat: batch(frame(0, 0, 1), 256) };
    case 'continuation':
      return { start: frame(1, 0, 1, literals(REQUEST)), repeat: batch(frame(9, 0, 1), 256) };
    case 'hpack-bomb': {
      // one 4,000-octet entry in the dynamic table (index 62), then blocks of 16,000 references to it
      const value = 'b'.repeat(4000);
      const insert = Buffer.concat([literals(REQUEST), Buffer.from([0x40, 6]), Buffer.from('x-bomb'), Buffer.from(hpackInt(value.length, 7)), Buffer.from(value)]);
      const bombs = [];
      for (let i = 0; i < 64; i++) bombs.push(Buffer.concat([literals(REQUEST), Buffer.alloc(16000, 0x80 | 62)]));
      return { start: frame(1, END_HEADERS | END_STREAM, 1, insert), bombs };
    }
    case 'ignore-goaway':
      // DATA on stream 0 is a connection error; then 1 MB batches of unknown-type frames, never reading
      return { start: frame(0, 0, 0, Buffer.alloc(8)), repeat: batch(frame(0xfa, 0, 0, Buffer.alloc(16000)), 64), noRead: true };
    default:
      throw new Error(`unknown flood kind ${kind}`);
  }
}

// ---- the server ----

/** scripts/bench/mem-server.ts bundled for `target` (build.mjs; the profile baked in as in the Greeter bundle). */
function buildServer(target) {
  const outdir = join(ROOT, 'build', 'mem-bench');
  const r = spawnSync(process.execPath, ['scripts/build.mjs', '--target', target, '--entry', 'scripts/bench/mem-server.ts', '--outdir', outdir, '--quiet'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const file = join(outdir, target, 'mem-server.js');
  if (!existsSync(file)) throw new Error(`building ${file} failed:\n${r.stdout}${r.stderr}`);
  return file;
}

async function startServer(target, withFlags, env = {}) {
  const profile = JSON.parse(readFileSync(join(ROOT, 'targets', `${target}.json`), 'utf8'));
  const flags = withFlags ? profile.node.flags : [];
  const bundle = buildServer(target);
  const gc = flags.includes('--expose-gc') ? [] : ['--expose-gc'];
  const srv = spawnServer([process.execPath, ...flags, ...gc, '-r', join(ROOT, 'scripts/bench/mem-probe.cjs'), bundle, '0'], { env });
  srv.flags = [...flags, ...gc];
  const port = await srv.ready();
  let seen = 0;
  /** process.memoryUsage() after a full GC, and VmHWM, from the probe. */
  srv.mem = () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer from the memory probe')), 10000);
      const check = () => {
        const lines = srv.stdout().split('\n').filter((l) => l.startsWith('mem '));
        if (lines.length > seen) {
          seen = lines.length;
          clearTimeout(timer);
          srv.child.stdout.off('data', check);
          resolve(JSON.parse(lines[lines.length - 1].slice(4)));
        }
      };
      srv.child.stdout.on('data', check);
      srv.child.kill('SIGUSR2');
    });
  return { srv, port, profile };
}

/** RSS of `pid` by kind of mapping (KiB): files (code), [heap] (malloc's brk heap), anon (V8's heap, malloc's mmaps and arenas). */
function rssKinds(pid) {
  const by = { file: 0, heap: 0, anon: 0 };
  let kind = 'anon';
  for (const l of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (m) kind = m[1] === '' ? 'anon' : m[1] === '[heap]' ? 'heap' : m[1].startsWith('/') ? 'file' : 'other';
    else if (l.startsWith('Rss:') && kind in by) by[kind] += Number(/(\d+)/.exec(l)[1]);
  }
  return by;
}
function rssByKind(pid) {
  const by = rssKinds(pid);
  return `files ${(by.file / 1024).toFixed(1)}, [heap] ${(by.heap / 1024).toFixed(1)}, anon ${(by.anon / 1024).toFixed(1)} MB`;
}
const vmRss = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

const MB = (n) => (n / 1048576).toFixed(1);
const KB = (n) => (n / 1024).toFixed(1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- idle ----

function idleConnection(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', reject);
    s.once('connect', () => s.write(Buffer.concat([PREFACE, SETTINGS()])));
    s.once('data', () => {
      s.write(SETTINGS_ACK);
      s.on('data', () => {});
      resolve(s);
    });
  });
}

async function openIdle(port, n) {
  const socks = [];
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100); j++) batch.push(idleConnection(port));
    socks.push(...(await Promise.all(batch)));
  }
  return socks;
}

async function closeAll(socks) {
  await Promise.all(socks.map((s) => new Promise((r) => (s.destroyed ? r() : (s.once('close', r), s.destroy())))));
}

async function idle() {
  const n = arg('n', 2000);
  const warm = arg('warm', 200);
  const target = arg('target', 'host-x64');
  // the cap (host-x64: 1,024) would evict idle connections past it: raised above N
  const { srv, port } = await startServer(target, !has('no-flags'), { MAX_CONNECTIONS: String(n + 100) });
  try {
    await sleep(500);
    const start = await srv.mem();
    if (warm > 0) {
      await closeAll(await openIdle(port, warm));
      await sleep(500);
    }
    const base = await srv.mem();
    const baseKinds = rssKinds(srv.pid);
    console.log(
      `idle bundle ${target}, node ${srv.flags.join(' ')}: RSS ${MB(start.rss)} MB at start, ${MB(base.rss)} MB after ${warm} connections opened and closed` +
        ` (heapUsed ${MB(base.heapUsed)} MB, external ${MB(base.external)} MB, young generation ${MB(base.newSpace)} MB)`,
    );
    const rounds = [];
    const per = (x) => KB(x / n);
    for (let round = 1; round <= 2; round++) {
      const socks = await openIdle(port, n);
      await sleep(1000);
      const m = await srv.mem();
      const k = rssKinds(srv.pid);
      await closeAll(socks);
      await sleep(1000);
      const after = await srv.mem();
      rounds.push({ m, after });
      console.log(
        `round ${round}: ${n} idle connections  RSS ${MB(m.rss)} MB (+${per(m.rss - base.rss)} KB/conn)` +
          `  heap+external ${MB(m.heapUsed + m.external)} MB (+${per(m.heapUsed + m.external - base.heapUsed - base.external)} KB/conn:` +
          ` heapUsed +${per(m.heapUsed - base.heapUsed)}, external +${per(m.external - base.external)})  peak ${MB(m.hwm)} MB`,
      );
      console.log(
        `  RSS per connection by kind: files +${per((k.file - baseKinds.file) * 1024)}, [heap] +${per((k.heap - baseKinds.heap) * 1024)},` +
          ` anon +${per((k.anon - baseKinds.anon) * 1024)} (young generation +${per(m.newSpace - base.newSpace)}) KB;` +
          ` after close: RSS ${MB(after.rss)} MB heapUsed ${MB(after.heapUsed)} MB external ${MB(after.external)} MB`,
      );
    }
    const [a, b] = rounds;
    const perConn = (a.m.rss - base.rss) / n;
    console.log(`RSS per idle connection (round 1): ${KB(perConn)} KB (target <= 8 KB: ${perConn <= 8192 ? 'PASS' : 'MISS'})`);
    const ratio = (b.m.hwm - a.m.hwm) / a.m.hwm;
    console.log(`second peak vs first: ${(ratio * 100).toFixed(1)}% (target <= 10%: ${ratio <= 0.1 ? 'PASS' : 'MISS'})`);
  } finally {
    await stopServer(srv);
  }
}

// ---- floods ----

function attacker(port, kind, stats, until) {
  const a = attack(kind);
  const loop = () => {
    if (Date.now() >= until) return;
    const s = net.connect({ port, host: '127.0.0.1' });
    let open = true;
    let i = 0;
    s.setNoDelay(true);
    s.on('error', () => {});
    if (!a.noRead) s.on('data', () => {});
    else s.pause();
    const pump = () => {
      while (open && Date.now() < until) {
        const chunk = a.bombs !== undefined ? frame(1, END_HEADERS | END_STREAM, 3 + 2 * i++, a.bombs[i % a.bombs.length]) : a.repeat;
        stats.sent += chunk.length;
        if (!s.write(chunk)) return;
      }
      if (open) s.end();
    };
    s.on('drain', pump);
    s.once('connect', () => {
      stats.connections++;
      s.write(Buffer.concat([PREFACE, SETTINGS(), SETTINGS_ACK, a.start]));
      pump();
    });
    s.once('close', () => {
      open = false;
      stats.ended++;
      setImmediate(loop);
    });
  };
  loop();
}

const KINDS = ['settings', 'ping', 'empty-data', 'continuation', 'hpack-bomb', 'ignore-goaway'];

async function flood() {
  const kinds = process.argv[3] === 'all' ? KINDS : (process.argv[3] ?? '').split(',');
  for (const k of kinds) attack(k);
  const seconds = arg('seconds', 30);
  const settle = arg('settle', 10);
  const conns = arg('conns', 4);
  const target = arg('target', 'pi-zero-2w');
  const { srv, port, profile } = await startServer(target, !has('no-flags'), { MEM_PROBE_GC: '0' });
  const budget = profile.memoryBudgetMB * 1048576;
  try {
    await sleep(500);
    const idle = await srv.mem();
    console.log(
      `floods on ${target}, node ${srv.flags.join(' ')}; ${seconds} s x ${conns} conns each, ${settle} s settle; figures without a forced GC` +
        `\nidle: RSS ${MB(idle.rss)} MB heapUsed ${MB(idle.heapUsed)} MB external ${MB(idle.external)} MB; ${rssByKind(srv.pid)}`,
    );
    for (const kind of kinds) {
      const before = await srv.mem();
      resetPeakRss(srv.pid);
      const cpu0 = cpuSeconds(srv.pid);
      const stats = { sent: 0, connections: 0, ended: 0 };
      const until = Date.now() + seconds * 1000;
      for (let i = 0; i < conns; i++) attacker(port, kind, stats, until);
      while (Date.now() < until && srv.alive()) await sleep(250);
      await sleep(200);
      if (!srv.alive()) {
        console.log(`${kind}: the server is DOWN`);
        break;
      }
      const cpu = cpuSeconds(srv.pid) - cpu0;
      const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${srv.pid}/status`, 'utf8'))[1]) * 1024;
      const trace = [];
      for (let i = 1; i <= settle; i++) {
        await sleep(1000);
        trace.push(MB(vmRss(srv.pid)));
      }
      const after = await srv.mem();
      const vsIdle = after.rss / idle.rss - 1;
      console.log(
        `${kind}: ${MB(stats.sent)} MB sent, ${stats.connections} connections (${stats.ended} ended), server CPU ${cpu.toFixed(2)} s;` +
          ` peak RSS ${MB(hwm)} MB (budget ${profile.memoryBudgetMB} MB: ${hwm <= budget ? 'PASS' : 'MISS'})` +
          `\n  ${settle} s after: RSS ${MB(after.rss)} MB, ${(vsIdle * 100).toFixed(0)}% over the first idle (<= 20%: ${vsIdle <= 0.2 ? 'PASS' : 'MISS'}),` +
          ` ${((after.rss / before.rss - 1) * 100).toFixed(0)}% over just before (${MB(before.rss)} MB);` +
          ` heapUsed ${MB(after.heapUsed)} MB, external ${MB(after.external)} MB; ${rssByKind(srv.pid)}` +
          `\n  RSS each second after: ${trace.join(' ')}`,
      );
    }
  } finally {
    await stopServer(srv);
  }
}

const mode = process.argv[2];
if (mode === 'idle') await idle();
else if (mode === 'flood') await flood();
else {
  console.error('usage: node scripts/bench/mem.mjs idle [--n N] [--warm W] [--target T] [--no-flags] | flood KIND[,KIND...]|all [--seconds S] [--settle S] [--conns C] [--target T] [--no-flags]');
  process.exit(2);
}
