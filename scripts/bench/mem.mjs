// Memory and CPU of a bundled Greeter under idle connections and hostile floods (issues 9 and 14).
//
//   node scripts/bench/mem.mjs idle [--n 2000] [--target host-x64] [--flags]
//   node scripts/bench/mem.mjs flood KIND [--seconds 30] [--conns 4] [--target pi-zero-2w] [--flags]
//        KIND: settings | ping | empty-data | continuation | hpack-bomb | ignore-goaway
//
// The server is scripts/bench/mem-server.ts (the Greeter), bundled for T by build.mjs into
// build/mem-bench/T/, started with --expose-gc and scripts/bench/mem-probe.cjs preloaded (and the
// profile's node flags: with --flags for idle, unless --no-flags for flood). Figures come from the probe (process.memoryUsage() after a full GC) and /proc (VmHWM, CPU).
//
// idle: N connections that send the preface, SETTINGS and the ACK of the server's SETTINGS, then
// nothing; reports the RSS and heap (heapUsed + external) growth per connection, then closes them,
// and does it all a second time: the second peak must not be more than 10% above the first.
// flood: CONNS connections run the attack for SECONDS, each reconnecting once the server closes
// it; reports peak RSS (VmHWM) against the profile's memoryBudgetMB, server CPU seconds, attacker
// connections ended, and RSS / heapUsed / external when idle before, and 10 s after the flood.
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
  const srv = spawnServer([process.execPath, ...flags, '--expose-gc', '-r', join(ROOT, 'scripts/bench/mem-probe.cjs'), bundle, '0'], { env });
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

/** RSS of `pid` by kind of mapping (MiB): files (code), [heap] (malloc's brk heap), anon (V8's heap, malloc's mmaps and arenas). */
function rssByKind(pid) {
  const by = { file: 0, heap: 0, anon: 0 };
  let kind = 'anon';
  for (const l of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (m) kind = m[1] === '' ? 'anon' : m[1] === '[heap]' ? 'heap' : m[1].startsWith('/') ? 'file' : 'other';
    else if (l.startsWith('Rss:') && kind in by) by[kind] += Number(/(\d+)/.exec(l)[1]) / 1024;
  }
  return `files ${by.file.toFixed(1)}, [heap] ${by.heap.toFixed(1)}, anon ${by.anon.toFixed(1)} MB`;
}

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
  const target = arg('target', 'host-x64');
  // the cap (host-x64: 1,024) would evict idle connections past it: raised above N
  const { srv, port } = await startServer(target, has('flags'), { MAX_CONNECTIONS: String(n + 100) });
  try {
    await sleep(500);
    const base = await srv.mem();
    const rounds = [];
    for (let round = 1; round <= 2; round++) {
      const socks = await openIdle(port, n);
      await sleep(1000);
      const m = await srv.mem();
      await closeAll(socks);
      await sleep(1000);
      const after = await srv.mem();
      rounds.push({ m, after });
      console.log(
        `round ${round}: ${n} idle connections  RSS ${MB(m.rss)} MB (+${KB((m.rss - base.rss) / n)} KB/conn)` +
          `  heap+external ${MB(m.heapUsed + m.external)} MB (+${KB((m.heapUsed + m.external - base.heapUsed - base.external) / n)} KB/conn:` +
          ` heapUsed +${KB((m.heapUsed - base.heapUsed) / n)}, external +${KB((m.external - base.external) / n)})` +
          `  peak ${MB(m.hwm)} MB; after close: RSS ${MB(after.rss)} MB heapUsed ${MB(after.heapUsed)} MB external ${MB(after.external)} MB`,
      );
    }
    console.log(`idle before: RSS ${MB(base.rss)} MB heapUsed ${MB(base.heapUsed)} MB external ${MB(base.external)} MB`);
    const [a, b] = rounds;
    console.log(`second peak vs first: ${(((b.m.hwm - a.m.hwm) / a.m.hwm) * 100).toFixed(1)}% (target <= 10%)`);
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

async function flood() {
  const kind = process.argv[3];
  const seconds = arg('seconds', 30);
  const conns = arg('conns', 4);
  const target = arg('target', 'pi-zero-2w');
  const withFlags = !has('no-flags');
  const { srv, port, profile } = await startServer(target, withFlags);
  try {
    await sleep(500);
    const base = await srv.mem();
    const baseKinds = rssByKind(srv.pid);
    resetPeakRss(srv.pid);
    const cpu0 = cpuSeconds(srv.pid);
    const stats = { sent: 0, connections: 0, ended: 0 };
    const until = Date.now() + seconds * 1000;
    for (let i = 0; i < conns; i++) attacker(port, kind, stats, until);
    let peakRss = 0;
    while (Date.now() < until) {
      await sleep(250);
      try {
        const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${srv.pid}/status`, 'utf8'));
        if (m) peakRss = Math.max(peakRss, Number(m[1]) * 1024);
      } catch {
        break;
      }
    }
    await sleep(200);
    const cpu = cpuSeconds(srv.pid) - cpu0;
    const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${srv.pid}/status`, 'utf8'))[1]) * 1024;
    await sleep(10000);
    // RSS as it is 10 s after (no forced GC), then after a GC for heapUsed / external
    const rssAfter = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${srv.pid}/status`, 'utf8'))[1]) * 1024;
    const afterKinds = rssByKind(srv.pid);
    const after = await srv.mem();
    const budget = profile.memoryBudgetMB * 1048576;
    const alive = srv.alive();
    console.log(
      `${kind} flood ${seconds} s x ${conns} conns on ${target}${withFlags ? ' (profile flags)' : ''}: ` +
        `${MB(stats.sent)} MB sent, ${stats.connections} connections (${stats.ended} ended by the server or us), server CPU ${cpu.toFixed(2)} s`,
    );
    console.log(`  peak RSS ${MB(hwm)} MB (sampled ${MB(peakRss)} MB) vs budget ${profile.memoryBudgetMB} MB: ${hwm <= budget ? 'PASS' : 'MISS'}; process ${alive ? 'up' : 'DOWN'}`);
    console.log(
      `  idle before: RSS ${MB(base.rss)} MB heapUsed ${MB(base.heapUsed)} MB external ${MB(base.external)} MB;` +
        ` 10 s after: RSS ${MB(rssAfter)} MB (${rssAfter <= base.rss * 1.2 ? 'PASS' : 'MISS'} <= +20%), after GC RSS ${MB(after.rss)} MB heapUsed ${MB(after.heapUsed)} MB external ${MB(after.external)} MB`,
    );
    console.log(`  RSS by kind, before: ${baseKinds}, heapTotal ${MB(base.heapTotal)} MB; 10 s after: ${afterKinds}, heapTotal ${MB(after.heapTotal)} MB`);
  } finally {
    await stopServer(srv);
  }
}

const mode = process.argv[2];
if (mode === 'idle') await idle();
else if (mode === 'flood') await flood();
else {
  console.error('usage: node scripts/bench/mem.mjs idle [--n N] [--target T] [--flags] | flood KIND [--seconds S] [--conns C] [--target T] [--no-flags]');
  process.exit(2);
}
