// The soak's attackers, all in this one process (apart from the honest client's): raw sockets to
// 127.0.0.1 writing hand-made HTTP/2 frames built with test/support/frames.ts and h2-client.ts
// (compiled into build/ by scripts/compile.mjs, which scripts/soak.mjs runs first).
//
//   node scripts/soak/attack.mjs <port>
//
// It prints "armed"; then each stdin line is one run's JSON config
//     { "pattern": "mixed" | "settings" | "ping" | "empty-data" | "continuation" | "hpack-bomb" |
//       "ignore-goaway", "ms": 30000, ...counts (see DEFAULTS) }
// for which it attacks for `ms`, closes every socket it opened, and prints one JSON line of
// counters. EOF on stdin ends the process. Every loop checks the deadline and a count limit, and a
// hard timer ends the process shortly after a run's deadline whatever happens. Only 127.0.0.1 is
// ever connected to.
//
// Patterns:
//   mixed          (issue 9) all at once: `idle` connections that send the preface and SETTINGS,
//                  then nothing; `slowloris` connections trickling a partial preface or a partial
//                  frame one octet at a time; `zeroWindow` connections with INITIAL_WINDOW_SIZE 0
//                  that open streams (unary and server-streaming calls) and never read their
//                  socket (a probe frame a second finds out when the server closed one: it reconnects);
//                  `churn` loops that connect and drop at once; `rapidReset` connections
//                  sending HEADERS + RST_STREAM(CANCEL) pairs; `trickle` connections with
//                  INITIAL_WINDOW_SIZE 0 that open server streams, read their socket, and hand
//                  back 1 octet of window on the connection and each stream every 100 ms.
//   flood rows     (issue 14) `conns` connections, each reconnecting as soon as it sees a GOAWAY
//                  (or the close): SETTINGS, PING, empty-DATA and CONTINUATION floods; the HPACK
//                  bomb (a ~4 KB header inserted into the dynamic table once, then HEADERS that
//                  reference it `bombRefs` times each); and a peer that ignores GOAWAY: it makes a
//                  connection error (DATA on stream 0) and keeps writing until the socket closes.
//   HTTP/1.1 rows  (the soak server's src/observe on: /metrics over HTTP/1.1) `h1-slowloris`:
//                  `h1Slow` connections trickling request heads one octet every 500 ms (from the
//                  start, or after a complete request on a keep-alive connection) or holding
//                  keep-alive connections idle; `h1-pipeline`: `conns` connections, half pipelining
//                  GET /metrics 8 at a time and reading (a scrape flood), half writing 256 at once
//                  and never reading; one loop of requests llhttp refuses (smuggling shapes).
import net from 'node:net';
import { createInterface } from 'node:readline';
import { PREFACE, S, concat, continuation, data, frame, headers, ping, rst, settings, settingsAck, windowUpdate } from '../../build/test/support/frames.js';
import { hpackInt, literalBlock } from '../../build/test/support/h2-client.js';

export const DEFAULTS = {
  conns: 4, // flood rows: attacking connections
  idle: 1000, // mixed: idle connections held open (the soak passes a figure past the profile's cap)
  slowloris: 40,
  zeroWindow: 8,
  zeroWindowStreams: 8, // streams per zero-window connection
  churn: 4, // parallel connect/drop loops
  rapidReset: 2,
  trickle: 2, // mixed: connections trickling 1-octet WINDOW_UPDATEs
  trickleStreams: 4, // server streams per trickling connection
  bombRefs: 4000, // references to the dynamic-table entry per HPACK-bomb header block
  maxConnectsPerLoop: 200000,
  h1Slow: 96, // h1-slowloris: connections (past pi-zero-2w's maxConnections of 64)
};

const PORT = Number(process.argv[2]);
const HOST = '127.0.0.1';
if (!(PORT > 0)) throw new Error('usage: attack.mjs <port>');
/** The current run's config. */
let cfg = { ...DEFAULTS };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));
let deadline = Infinity;
const timeLeft = () => Date.now() < deadline;

/** Counters per sub-attack, printed at the end of a run. */
let counters = {};
function count(name) {
  return (counters[name] ??= { connects: 0, connectErrors: 0, closedByServer: 0, goaways: {}, bytesWritten: 0 });
}

const GOAWAY_NAMES = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED'];

const open = new Set();

/**
 * The bookkeeping every attacking socket shares: in `open` until it closes; `c.k` counts its connect
 * (or connect error) and a close the server made; `resolve` gets `c` once connected, null if the
 * connect fails; `onClose` runs at the close.
 */
function track(c, resolve, onClose) {
  const { sock, k } = c;
  open.add(sock);
  let connected = false;
  sock.on('error', () => {});
  sock.once('close', () => {
    c.closed = true;
    open.delete(sock);
    if (connected && !c.destroyedByUs) k.closedByServer++;
    onClose?.();
    if (!connected) k.connectErrors++, resolve(null);
  });
  sock.once('connect', () => {
    connected = true;
    k.connects++;
    resolve(c);
  });
}

/**
 * One attacking connection. `c.goaway` turns true at the first GOAWAY the server sends (found by a
 * small frame scanner that skips payloads), `c.closed` when the socket closes. With `ack`, the
 * server's SETTINGS are acknowledged as an honest peer would; with `read: false` the socket is
 * never read at all (zero window at the TCP level too: the server's writes back up).
 */
function connect(name, { ack = true, read = true } = {}) {
  const k = count(name);
  return new Promise((resolve) => {
    // allowHalfOpen: the server's FIN does not end our side (Node's default would): a hostile peer
    // keeps writing after the server has ended its side.
    const sock = net.connect({ host: HOST, port: PORT, allowHalfOpen: true });
    const c = { sock, goaway: false, closed: false, k, waiters: [] };
    sock.setNoDelay(true);
    const wake = () => {
      const w = c.waiters;
      c.waiters = [];
      for (const f of w) f();
    };
    track(c, resolve, wake);
    sock.on('drain', wake);
    if (!read) {
      sock.pause();
      return;
    }
    // Frame scanner state: 9 header octets, then the payload (the first 8 octets kept for GOAWAY).
    const hdr = Buffer.alloc(9);
    let hdrFill = 0;
    let left = 0;
    let type = 0;
    let flags = 0;
    let pay = [];
    sock.on('data', (chunk) => {
      let i = 0;
      while (i < chunk.length) {
        if (left === 0 && hdrFill < 9) {
          const n = Math.min(9 - hdrFill, chunk.length - i);
          chunk.copy(hdr, hdrFill, i, i + n);
          hdrFill += n;
          i += n;
          if (hdrFill < 9) break;
          left = (hdr[0] << 16) | (hdr[1] << 8) | hdr[2];
          type = hdr[3];
          flags = hdr[4];
          pay = [];
          if (type === 0x4 && !(flags & 1) && ack && !c.closed) sock.write(settingsAck());
          if (left > 0) continue;
        }
        const n = Math.min(left, chunk.length - i);
        if (type === 0x7 && pay.length < 8) for (let j = 0; j < n && pay.length < 8; j++) pay.push(chunk[i + j]);
        left -= n;
        i += n;
        if (left === 0) {
          if (type === 0x7) {
            const code = pay.length >= 8 ? ((pay[4] << 24) | (pay[5] << 16) | (pay[6] << 8) | pay[7]) >>> 0 : -1;
            const cname = GOAWAY_NAMES[code] ?? String(code);
            k.goaways[cname] = (k.goaways[cname] ?? 0) + 1;
            c.goaway = true;
            wake();
          }
          hdrFill = 0;
        }
      }
    });
  });
}

/** Write, counting octets; resolves at once, or on drain / close / GOAWAY (unless ignored) / deadline. */
function write(c, buf, ignoreGoaway = false) {
  if (c.closed) return Promise.resolve();
  c.k.bytesWritten += buf.length;
  if (c.sock.write(buf)) return tick();
  return new Promise((resolve) => {
    c.waiters.push(resolve);
    const t = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 5);
    c.waiters.push(() => clearTimeout(t));
    if (!ignoreGoaway && c.goaway) resolve();
  });
}

function drop(c) {
  if (!c) return;
  c.destroyedByUs = !c.closed;
  c.sock.destroy();
}

// ---- request pieces ----

const REQUEST = (path) => [':method', 'POST', ':scheme', 'http', ':path', path, ':authority', '127.0.0.1', 'content-type', 'application/grpc', 'te', 'trailers'];
const SAY_HELLO = literalBlock(REQUEST('/helloworld.Greeter/SayHello'));
const STREAM = literalBlock(REQUEST('/bench.Streamer/Stream'));

function varint(n) {
  const out = [];
  while (n > 127) out.push((n & 127) | 128), (n = Math.floor(n / 128));
  out.push(n);
  return out;
}
/** A length-prefixed gRPC message around protobuf `fields`. */
function grpcMessage(fields) {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(fields.length, 1);
  return Buffer.concat([head, fields]);
}
const str = (tag, s) => Buffer.concat([Buffer.from([tag]), Buffer.from(varint(Buffer.byteLength(s))), Buffer.from(s)]);
/** HelloRequest{name} */
const helloMsg = (name) => grpcMessage(str(0x0a, name));
/** StreamRequest{name, count} */
const streamMsg = (name, n) => grpcMessage(Buffer.concat([str(0x0a, name), Buffer.from([0x10, ...varint(n)])]));

const HELLO_WORLD = helloMsg('world');
const handshake = (pairs = []) => concat(PREFACE, settings(pairs));

/** `n` copies of one frame in one buffer. */
const repeat = (f, n) => Buffer.concat(Array.from({ length: n }, () => f));

// ---- flood rows ----

/**
 * One flood worker: connect, write `init`, then `next()` chunks until GOAWAY (or until the close,
 * with `ignoreGoaway`), drop the socket, reconnect at once.
 */
async function floodWorker({ name, init, next, onConnect, ignoreGoaway = false }) {
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await connect(name);
    if (!c) {
      await sleep(5);
      continue;
    }
    onConnect?.();
    await write(c, init, ignoreGoaway);
    while (timeLeft() && !c.closed && (ignoreGoaway || !c.goaway)) await write(c, next(), ignoreGoaway);
    drop(c);
  }
}

/** Each returns one worker's { name, init, next, onConnect?, ignoreGoaway? } (a worker's own state). */
const FLOODS = {
  settings: () => {
    const chunk = repeat(settings([]), 1024);
    return { name: 'settings', init: handshake(), next: () => chunk };
  },
  ping: () => {
    const chunk = repeat(ping(Buffer.from('soakping')), 1024);
    return { name: 'ping', init: handshake(), next: () => chunk };
  },
  'empty-data': () => {
    // A stream stays open (no END_STREAM): empty DATA frames on it.
    const chunk = repeat(data(1, Buffer.alloc(0)), 1024);
    return { name: 'empty-data', init: concat(handshake(), headers(1, SAY_HELLO, { endStream: false })), next: () => chunk };
  },
  continuation: () => {
    // A header block that never ends: HEADERS without END_HEADERS, then empty CONTINUATIONs.
    const chunk = repeat(continuation(1, Buffer.alloc(0), false), 1024);
    return { name: 'continuation', init: concat(handshake(), headers(1, SAY_HELLO, { endStream: true, endHeaders: false })), next: () => chunk };
  },
  'hpack-bomb': () => {
    // Literal with incremental indexing, new name: "x-bomb" with a 4,000-octet value (entry size
    // 4,038 of the default 4,096-octet table). Index 62 is then that entry; 0xbe references it.
    const value = Buffer.alloc(4000, 'a');
    const name = Buffer.from('x-bomb');
    const insert = Buffer.concat([Buffer.from([0x40, ...hpackInt(name.length, 7)]), name, Buffer.from(hpackInt(value.length, 7)), value]);
    const bomb = Buffer.concat([SAY_HELLO, Buffer.alloc(cfg.bombRefs, 0xbe)]);
    let id = 1;
    return {
      name: 'hpack-bomb',
      init: concat(handshake(), headers(1, Buffer.concat([SAY_HELLO, insert]), { endStream: true })),
      onConnect: () => (id = 1),
      // Four bombs per write, each on a new stream.
      next: () => {
        const parts = [];
        for (let i = 0; i < 4 && id < 0x7fff0000; i++) parts.push(headers((id += 2), bomb, { endStream: true }));
        return Buffer.concat(parts);
      },
    };
  },
  'ignore-goaway': () => {
    // DATA on stream 0 is a connection error (PROTOCOL_ERROR); then 256 KB writes regardless.
    const junk = repeat(ping(Buffer.from('ignoring')), Math.floor((256 * 1024) / 17));
    return { name: 'ignore-goaway', init: concat(handshake(), data(0, Buffer.from('x'))), next: () => junk, ignoreGoaway: true };
  },
};

const flood = (pattern) => Promise.all(Array.from({ length: cfg.conns }, () => floodWorker(FLOODS[pattern]())));

// ---- the mixed run ----

/** Hold one idle connection (preface + SETTINGS, then nothing); reopen when the server closes it. */
async function idleSlot() {
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await connect('idle', { ack: false });
    if (c) {
      await write(c, handshake());
      while (timeLeft() && !c.closed) await sleep(200);
      drop(c);
    }
    if (timeLeft()) await sleep(100);
  }
}

/** One octet every `everyMs`, of a partial preface (odd slots) or, after a whole handshake, of a frame that never completes. */
async function slowlorisSlot(i) {
  const everyMs = 500;
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await connect('slowloris', { ack: false });
    if (c) {
      let bytes;
      if (i % 2 === 1) {
        bytes = concat(PREFACE, settings([]));
      } else {
        await write(c, handshake());
        bytes = headers(1, SAY_HELLO, { endStream: true }); // its 9-octet header, then the block, one octet at a time
      }
      for (let j = 0; timeLeft() && !c.closed && j < bytes.length - 1; j++) {
        await write(c, bytes.subarray(j, j + 1));
        await sleep(everyMs);
      }
      while (timeLeft() && !c.closed) await sleep(200);
      drop(c);
    }
    if (timeLeft()) await sleep(100);
  }
}

// An empty frame of an unknown type (RFC 9113 5.5: ignored), not a PING, which the ping policy would strike.
const ZW_PROBE = frame(0xfa, 0, 0);
/** INITIAL_WINDOW_SIZE 0, streams opened (unary with a 1 KB name, and server streams), socket never read. */
async function zeroWindowSlot() {
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await connect('zero-window', { read: false });
    if (c) {
      const parts = [handshake([S.INITIAL_WINDOW_SIZE, 0])];
      const big = helloMsg('z'.repeat(1024));
      const streamReq = streamMsg('zero', 100000);
      for (let s = 0; s < cfg.zeroWindowStreams; s++) {
        const id = 1 + 2 * s;
        const isStream = s % 2 === 1;
        parts.push(headers(id, isStream ? STREAM : SAY_HELLO, { endStream: false }), data(id, isStream ? streamReq : big, { endStream: true }));
      }
      await write(c, Buffer.concat(parts));
      // A probe a second: the socket is never read, so only a failing write shows that the server
      // closed it (evicted at the cap before it read our streams, or reset): then reconnect.
      for (let t = 1; timeLeft() && !c.closed; t++) {
        await sleep(200);
        if (t % 5 === 0 && !c.closed) c.sock.write(ZW_PROBE);
      }
      drop(c);
    }
    if (timeLeft()) await sleep(200);
  }
}

/**
 * INITIAL_WINDOW_SIZE 0, server streams opened, the socket read (the server's SETTINGS ACKed); then
 * 1 octet of window on the connection and on each stream every 100 ms: a reader that makes a
 * pretence of progress. Until the server ends the connection (the send stall, or at the cap).
 */
async function trickleSlot() {
  const streamReq = streamMsg('trickle', 100000);
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await connect('trickle');
    if (c) {
      const parts = [handshake([S.INITIAL_WINDOW_SIZE, 0])];
      const ids = [];
      for (let s = 0; s < cfg.trickleStreams; s++) {
        const id = 1 + 2 * s;
        ids.push(id);
        parts.push(headers(id, STREAM, { endStream: false }), data(id, streamReq, { endStream: true }));
      }
      await write(c, Buffer.concat(parts));
      const drip = Buffer.concat([windowUpdate(0, 1), ...ids.map((id) => windowUpdate(id, 1))]);
      while (timeLeft() && !c.closed && !c.goaway) {
        await sleep(100);
        await write(c, drip);
      }
      drop(c);
    }
    if (timeLeft()) await sleep(200);
  }
}

/** Connect and drop at once: with nothing written, after the preface, or after a half-sent one. */
async function churnLoop(i) {
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await connect('churn', { ack: false });
    if (!c) {
      await sleep(5);
      continue;
    }
    const how = (n + i) % 3;
    if (how === 1) c.sock.write(handshake());
    if (how === 2) c.sock.write(PREFACE.subarray(0, 12));
    c.destroyedByUs = true;
    c.sock.destroy();
    await tick();
  }
}

/** HEADERS + DATA + RST_STREAM(CANCEL) for a SayHello, 50 pairs per write, reconnect after GOAWAY. */
async function rapidResetLoop() {
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await connect('rapid-reset');
    if (!c) {
      await sleep(5);
      continue;
    }
    await write(c, handshake());
    let id = 1;
    while (timeLeft() && !c.closed && !c.goaway && id < 0x7fff0000) {
      const parts = [];
      for (let j = 0; j < 50; j++, id += 2) parts.push(headers(id, SAY_HELLO, { endStream: false }), data(id, HELLO_WORLD, { endStream: true }), rst(id, 8));
      await write(c, Buffer.concat(parts));
    }
    drop(c);
  }
}

async function mixed() {
  const tasks = [];
  for (let i = 0; i < cfg.slowloris; i++) tasks.push(slowlorisSlot(i));
  for (let i = 0; i < cfg.zeroWindow; i++) tasks.push(zeroWindowSlot());
  for (let i = 0; i < cfg.churn; i++) tasks.push(churnLoop(i));
  for (let i = 0; i < cfg.rapidReset; i++) tasks.push(rapidResetLoop());
  for (let i = 0; i < cfg.trickle; i++) tasks.push(trickleSlot());
  // Idle connections arrive in bursts of 50 (a listen backlog is finite; a real flood ramps too).
  for (let i = 0; i < cfg.idle; i++) {
    if (i > 0 && i % 50 === 0) await sleep(10);
    if (!timeLeft()) break;
    tasks.push(idleSlot());
  }
  await Promise.all(tasks);
}

// ---- HTTP/1.1 rows (the soak server has src/observe on for them: /metrics over HTTP/1.1) ----

const H1_GET = 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: soak\r\n\r\n';
// llhttp refuses these (400): request smuggling shapes.
const H1_BAD = [
  'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n',
  'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc',
];

/**
 * An HTTP/1.1 connection: counts the answers' status codes (`k.status`) and octets read; `read:
 * false` never reads. `c.answers` counts status lines seen.
 */
function h1connect(name, { read = true } = {}) {
  const k = count(name);
  k.status ??= {};
  k.bytesRead ??= 0;
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port: PORT, allowHalfOpen: true });
    const c = { sock, closed: false, k, answers: 0 };
    track(c, resolve);
    sock.once('end', () => (c.closed = true));
    if (!read) return void sock.pause();
    sock.on('data', (chunk) => {
      k.bytesRead += chunk.length;
      for (const m of chunk.toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)) {
        k.status[m[1]] = (k.status[m[1]] ?? 0) + 1;
        c.answers++;
      }
    });
  });
}

function h1write(c, text) {
  if (c.closed) return;
  c.k.bytesWritten += text.length;
  c.sock.write(text);
}

/**
 * h1-slowloris: `h1Slow` connections, reopened when the server closes them, one octet of a request
 * head every 500 ms: a head from the start (a third), or after one complete GET /metrics on the
 * same keep-alive connection (a third); the last third send a complete GET /metrics and then hold
 * the keep-alive connection idle. Answered 408 after handshakeTimeoutMs; all count toward
 * maxConnections as idle.
 */
async function h1SlowSlot(i) {
  const head = 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ' + 's'.repeat(400) + '\r\n\r\n';
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await h1connect('h1-slowloris');
    if (c) {
      if (i % 3 !== 0) h1write(c, H1_GET);
      if (i % 3 !== 2) {
        for (let j = 0; timeLeft() && !c.closed && j < head.length - 1; j++) {
          h1write(c, head[j]);
          await sleep(500);
        }
      }
      while (timeLeft() && !c.closed) await sleep(200);
      drop(c);
    }
    if (timeLeft()) await sleep(100);
  }
}

/** A reader: batches of 8 pipelined GET /metrics, the next once all 8 are answered (a scrape flood). */
async function h1PipelineReader() {
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await h1connect('h1-pipeline-read');
    if (!c) {
      await sleep(5);
      continue;
    }
    while (timeLeft() && !c.closed) {
      const want = c.answers + 8;
      h1write(c, H1_GET.repeat(8));
      while (timeLeft() && !c.closed && c.answers < want) await sleep(1);
    }
    drop(c);
  }
}

/** A non-reader: 256 pipelined GET /metrics at once, never reading; reconnect when closed. */
async function h1PipelineFlood() {
  const batch = H1_GET.repeat(256);
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await h1connect('h1-pipeline-flood', { read: false });
    if (!c) {
      await sleep(5);
      continue;
    }
    h1write(c, batch);
    // Not reading, only a failing write shows the close: a probe octet of a new head every 200 ms.
    for (let t = 0; timeLeft() && !c.closed && !c.sock.destroyed; t++) {
      await sleep(200);
      if (!c.closed) c.sock.write('G');
    }
    drop(c);
  }
}

/** Requests llhttp refuses (400 and close), one per connection, in a loop. */
async function h1BadLoop() {
  for (let n = 0; timeLeft() && n < cfg.maxConnectsPerLoop; n++) {
    const c = await h1connect('h1-bad');
    if (!c) {
      await sleep(5);
      continue;
    }
    h1write(c, H1_BAD[n % H1_BAD.length]);
    while (timeLeft() && !c.closed) await sleep(5);
    drop(c);
    await sleep(5);
  }
}

const H1 = {
  'h1-slowloris': () => Promise.all(Array.from({ length: cfg.h1Slow }, (_, i) => h1SlowSlot(i))),
  // `conns` connections: half scrape-flood readers, half non-reading pipeliners; one loop of bad framing.
  'h1-pipeline': () =>
    Promise.all([...Array.from({ length: cfg.conns }, (_, i) => (i % 2 === 0 ? h1PipelineReader() : h1PipelineFlood())), h1BadLoop()]),
};

// ---- main ----

const PATTERNS = ['mixed', ...Object.keys(FLOODS), ...Object.keys(H1)];

async function run(line) {
  cfg = { ...DEFAULTS, ...JSON.parse(line) };
  if (!PATTERNS.includes(cfg.pattern)) throw new Error(`attack.mjs: pattern is one of ${PATTERNS.join(', ')}`);
  if (!(cfg.ms > 0)) throw new Error('attack.mjs: ms must be > 0');
  counters = {};
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const result = (extra) => {
    const u = process.cpuUsage(cpu0);
    return JSON.stringify({ pattern: cfg.pattern, seconds: (Date.now() - t0) / 1000, cpuSeconds: (u.user + u.system) / 1e6, counters, ...extra });
  };
  deadline = t0 + cfg.ms;
  // Whatever happens (a loop stuck on a socket), this process ends soon after the deadline.
  const hardStop = setTimeout(() => {
    for (const s of open) s.destroy();
    console.log(result({ hardStop: true }));
    process.exit(0);
  }, cfg.ms + 3000);
  await (cfg.pattern === 'mixed' ? mixed() : cfg.pattern in H1 ? H1[cfg.pattern]() : flood(cfg.pattern));
  clearTimeout(hardStop);
  for (const s of open) s.destroy();
  console.log(result());
}

console.log('armed');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
for (;;) {
  const { value, done } = await lines.next();
  if (done) break;
  if (value.trim() !== '') await run(value);
}
process.exit(0);
