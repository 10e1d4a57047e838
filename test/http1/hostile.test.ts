// Hostile HTTP/1.1 peers against src/http1's transport (node:http's parser), on a server with
// src/observe on (web off: what a Prometheus-scraped board runs) and on one with the web protocols,
// each with an honest grpc-js client calling on the same port all along: every honest call must
// succeed. Raw `net` sockets on 127.0.0.1; limits shortened by server options, no timed assertions.
//
// What an HTTP/1.1 attacker controls, and the limit that answers it (src/http1/server.ts's header):
// - the request head: slow (slowloris, an octet at a time) -> 408 after handshakeTimeoutMs, on every
//   request of a keep-alive connection; too large, or many small headers -> 431 past
//   maxHeaderListSize octets; framing llhttp refuses (Content-Length with Transfer-Encoding, two
//   Content-Lengths, obs-fold, bare LF, a bad chunk size, NUL) -> 400; the connection closes.
// - the request body: slow or trickled (slow POST, which holds its call's running slot) -> 408 and
//   close when not complete within sendStallTimeoutMs; a huge declared length or an endless chunked
//   body -> the call's maxReceiveMessageLength (or the route's early answer), then close, after
//   reading a bounded amount.
// - pipelining: node:http dispatches every pipelined request at once (200 pipelined calls took 32
//   running + 168 waiting slots from ONE connection): served one at a time here, at most PIPELINE
//   read ahead, one more closes the connection.
// - not reading: a response (streamed, or finished and not taken) that waits sendStallTimeoutMs
//   closes the connection (before, a non-reading pipeliner kept a busy, unevictable connection for ever).
// - connections: idle keep-alive and half-sent heads count toward maxConnections as idle (evicted
//   first, as HTTP/2's); churn leaves nothing behind; maxConnectionAgeMs applies (connection: close).
// Each close is counted (grpc_edge_connections_ended_total's HTTP/1.1 reasons).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ServerOptions } from '../../src/index.js';
import { enableObserve } from '../../src/observe/index.js';
import { PIPELINE } from '../../src/http1/server.js';
import { startHarness } from '../grpc/helpers.js';
import { GREETER_PROTO, startWebServer } from '../web/helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Target {
  server: import('../../src/index.js').Server;
  port: number;
  /** One honest unary call over HTTP/2 (grpc-js). */
  call(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Observe on, web off: the Test service, grpc-js's Unary as the honest call. */
async function observed(opts: ServerOptions = {}): Promise<Target> {
  const h = await startHarness({ Unary: (req: { text: string }) => ({ text: req.text }) }, opts);
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  return {
    server: h.server,
    port: h.port,
    call: (text) =>
      new Promise((resolve, reject) =>
        h.client.Unary({ text }, { deadline: Date.now() + 10_000 }, (err: Error | null, r: { text: string }) => (err ? reject(err) : r.text === text ? resolve() : reject(new Error(`got ${r.text}`)))),
      ),
    close: async () => {
      observe.stop();
      await h.close();
    },
  };
}

/** Web protocols on (Greeter and Probe), observe on too; grpc-js's SayHello as the honest call. */
async function web(opts: ServerOptions = {}): Promise<Target> {
  const s = await startWebServer(opts);
  const observe = enableObserve(s.server, { renderCacheMs: 0 });
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(GREETER_PROTO)) as any;
  const client = new pkg.helloworld.Greeter(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure());
  return {
    server: s.server,
    port: s.port,
    call: (name) =>
      new Promise((resolve, reject) =>
        client.SayHello({ name }, { deadline: Date.now() + 10_000 }, (err: Error | null, r: { message: string }) =>
          err ? reject(err) : r.message === `hello ${name}` ? resolve() : reject(new Error(`got ${r.message}`)),
        ),
      ),
    close: async () => {
      client.close();
      observe.stop();
      await s.close();
    },
  };
}

/** The HTTP/1.1 reasons of grpc_edge_connections_ended_total, read from /metrics over HTTP/1.1 itself. */
async function metricsOf(port: number): Promise<Record<string, number>> {
  const r = await exchange(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const out: Record<string, number> = {};
  for (const m of r.text.matchAll(/^grpc_edge_connections_ended_total\{reason="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** An honest grpc-js client calling in a loop until stopped; every call must succeed. */
function honest(t: Target): { stop(): Promise<{ ok: number; failed: string[] }> } {
  let run = true;
  const failed: string[] = [];
  let ok = 0;
  const loop = (async () => {
    for (let i = 0; run || ok === 0; i++) {
      try {
        await t.call(`h${i}`);
        ok++;
      } catch (e) {
        failed.push((e as Error).message);
        if (failed.length > 20) break;
      }
      await sleep(2);
    }
  })();
  return {
    stop: async () => {
      run = false;
      await loop;
      return { ok, failed };
    },
  };
}

interface Peer {
  sock: net.Socket;
  text: string;
  /** The server ended its side (FIN) or the socket closed. */
  ended: boolean;
  closed: Promise<void>;
  /** Octets of ours the kernel took (what the server could read at most). */
  accepted(): number;
}

/** A raw TCP peer; `read: false` never reads (a paused socket). */
async function peer(port: number, read = true): Promise<Peer> {
  const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const p: Peer = {
    sock,
    text: '',
    ended: false,
    closed: new Promise((r) => sock.once('close', () => r())),
    accepted: () => sock.bytesWritten - sock.writableLength,
  };
  sock.on('error', () => {});
  sock.once('end', () => (p.ended = true));
  sock.once('close', () => (p.ended = true));
  if (read) sock.on('data', (d: Buffer) => (p.text += d.toString('latin1')));
  else sock.pause();
  await new Promise((r) => sock.once('connect', r));
  return p;
}

/** Write `data`, then collect everything until the server ends the connection. */
async function exchange(port: number, data: string): Promise<Peer> {
  const p = await peer(port);
  p.sock.write(data);
  await until(() => p.ended, 'the server ends the connection');
  p.sock.destroy();
  return p;
}

/** Poll /metrics until the HTTP/1.1 reason `reason` of grpc_edge_connections_ended_total reaches `n`. */
async function untilMetric(port: number, reason: string, n: number): Promise<void> {
  let m: Record<string, number> = {};
  for (let i = 0; i < 500; i++) {
    m = await metricsOf(port);
    if ((m[reason] ?? 0) >= n) return;
    await sleep(20);
  }
  throw new Error(`${reason} never reached ${n}: ${JSON.stringify(m)}`);
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

/** Trickle `data` one octet every `everyMs` until the server ends the connection (or it is all sent). */
async function trickle(p: Peer, data: string, everyMs: number): Promise<void> {
  for (let i = 0; i < data.length && !p.ended; i++) {
    p.sock.write(data[i]!);
    await sleep(everyMs);
  }
  await until(() => p.ended, 'the server ends the trickling connection');
}

const SHORT = { http2: { handshakeTimeoutMs: 300, sendStallTimeoutMs: 400 } };

test('slowloris: heads trickled an octet at a time get 408 and are closed, also the second request of a keep-alive connection; honest gRPC unaffected', async () => {
  for (const start of [observed, web]) {
    const t = await start({ ...SHORT, maxConnections: 8 });
    const h = honest(t);
    try {
      const head = 'GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: ' + 'a'.repeat(200) + '\r\n\r\n';
      const peers = await Promise.all(Array.from({ length: 6 }, () => peer(t.port)));
      await Promise.all(peers.map((p) => trickle(p, head, 20)));
      for (const p of peers) assert.match(p.text, /^HTTP\/1\.1 408 Request Timeout\r\nConnection: close\r\n\r\n$/);
      // A complete request first (answered, keep-alive), then a head that never completes.
      const ka = await peer(t.port);
      ka.sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      await trickle(ka, 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'b'.repeat(200), 20);
      assert.match(ka.text, /^HTTP\/1\.1 200 OK\r\n[^]*HTTP\/1\.1 408 Request Timeout\r\nConnection: close\r\n\r\n$/);
      const m = await metricsOf(t.port);
      assert.ok(m.header_timeout! >= 7, `header_timeout ${m.header_timeout}`);
    } finally {
      const r = await h.stop();
      await t.close();
      assert.deepEqual(r.failed, []);
      assert.ok(r.ok > 0);
    }
  }
});

test('heads past maxHeaderListSize (one large header, or thousands of small ones) get 431; framing llhttp refuses (smuggling shapes) gets 400; each closes, none reaches a handler', async () => {
  const t = await web({ ...SHORT, http2: { ...SHORT.http2, maxHeaderListSize: 4096 } });
  const h = honest(t);
  try {
    const big = await exchange(t.port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    assert.match(big.text, /^HTTP\/1\.1 431 /);
    const many = await exchange(t.port, `GET /metrics HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(3000)}\r\n`);
    assert.match(many.text, /^HTTP\/1\.1 431 /);
    const POST = 'POST /helloworld.Greeter/SayHello HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n';
    const shapes: [string, string][] = [
      ['Content-Length and Transfer-Encoding', `${POST}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`],
      ['two Content-Lengths', `${POST}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x`],
      ['Transfer-Encoding: chunked, identity', `${POST}Transfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n`],
      ['Transfer-Encoding not ending in chunked', `${POST}Transfer-Encoding: gzip\r\n\r\n{}`],
      ['obs-fold', 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'],
      ['space before the colon', `${POST}Content-Length : 2\r\n\r\n{}`],
      ['negative Content-Length', `${POST}Content-Length: -1\r\n\r\n`],
      ['bare LF', 'GET /metrics HTTP/1.1\nHost: x\n\n'],
      ['NUL in a value', 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n'],
      ['chunk size past 64 bits', `${POST}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n`],
      ['a smuggled second request after a bad chunk', `${POST}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\nzz\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n`],
    ];
    for (const [what, bytes] of shapes) {
      const r = await exchange(t.port, bytes);
      assert.match(r.text, /^HTTP\/1\.1 400 Bad Request\r\nConnection: close\r\n\r\n$/, what);
    }
    const ext = await exchange(t.port, `${POST}Transfer-Encoding: chunked\r\n\r\n2;${'e'.repeat(100_000)}\r\n{}\r\n0\r\n\r\n`);
    assert.match(ext.text, /^HTTP\/1\.1 413 /, 'chunk extensions past node:http\'s limit');
    const m = await metricsOf(t.port);
    assert.equal(m.headers_too_large, 2);
    assert.equal(m.bad_request, shapes.length + 1);
  } finally {
    const r = await h.stop();
    await t.close();
    assert.deepEqual(r.failed, []);
  }
});

test('slow POST: bodies trickled into calls holding both running slots get 408 and are closed within sendStallTimeoutMs; honest calls get the slots back', async () => {
  // Two running slots: without the request stall, two trickling peers would hold both for ever.
  const t = await web({ ...SHORT, maxRunning: 2, maxWaiting: 64 });
  const h = honest(t);
  try {
    const body = JSON.stringify({ name: 'x'.repeat(2000) });
    const peers = await Promise.all(Array.from({ length: 4 }, () => peer(t.port)));
    for (const p of peers) p.sock.write(`POST /helloworld.Greeter/SayHello HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
    await Promise.all(peers.map((p) => trickle(p, body, 20)));
    for (const p of peers) {
      assert.match(p.text, /^HTTP\/1\.1 408 Request Timeout\r\nConnection: close\r\n\r\n$/);
      assert.ok(p.accepted() < body.length, 'cut off before the body was complete');
    }
    await until(() => t.server.stats.running === 0 || t.server.stats.connections <= 1, 'the slots are free');
    const m = await metricsOf(t.port);
    assert.ok(m.request_stall! >= 4, `request_stall ${m.request_stall}`);
  } finally {
    const r = await h.stop();
    await t.close();
    assert.deepEqual(r.failed, []);
    assert.ok(r.ok > 0);
  }
});

test('a huge declared Content-Length or an endless chunked body: answered and closed after a bounded read', async () => {
  for (const start of [observed, web]) {
    const t = await start({ ...SHORT, maxReceiveMessageLength: 64 * 1024 });
    const h = honest(t);
    try {
      const heads = [
        'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n',
        'POST /helloworld.Greeter/SayHello HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000000000000\r\n\r\n{"name":"',
        'POST /helloworld.Greeter/SayHello HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
      ];
      const LIMIT = 64 * 1024 * 1024;
      for (const head of heads) {
        const p = await peer(t.port);
        p.sock.write(head);
        const chunked = head.includes('chunked');
        const piece = chunked ? Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(65536, 0x61), Buffer.from('\r\n')]) : Buffer.alloc(65536, 0x61);
        // Writing on until the server closes: it must, long before LIMIT octets.
        while (!p.ended && !p.sock.destroyed && p.accepted() < LIMIT) {
          await new Promise((r) => p.sock.write(piece, r));
          await sleep(1);
        }
        await until(() => p.ended || p.sock.destroyed, 'closed');
        assert.ok(p.accepted() < LIMIT, `${head.split('\r\n')[0]}: closed after ${p.accepted()} octets`);
        // The server answers without reading the rest, then closes; our octets still arriving make
        // that close a reset, which can drop the answer on our side before we read it (node:http has
        // no lingering close). When it arrived: /metrics' answer; SayHello's resource_exhausted
        // (web), or 404 (observe alone: no such route).
        if (p.text !== '') assert.match(p.text, /^HTTP\/1\.1 (200 OK|429 Too Many Requests|404 Not Found)\r\n/, head);
        p.sock.destroy();
      }
    } finally {
      const r = await h.stop();
      await t.close();
      assert.deepEqual(r.failed, []);
    }
  }
});

test(`pipelining: one request served at a time per connection, answers in order; more than ${PIPELINE} read ahead closes the connection`, async () => {
  const t = await web({ ...SHORT, maxRunning: 4 });
  const h = honest(t);
  try {
    const sleep1 = (ms: number): string => `POST /webtest.Probe/Sleep HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${JSON.stringify({ ms }).length}\r\n\r\n${JSON.stringify({ ms })}`;
    const p = await peer(t.port);
    p.sock.write(Array.from({ length: 8 }, (_, i) => sleep1(20 + i)).join(''));
    let most = 0;
    while ((p.text.match(/HTTP\/1\.1 200/g) ?? []).length < 8) {
      // The honest client's calls are the only other ones: this connection runs one at a time.
      most = Math.max(most, t.server.stats.running + t.server.stats.waiting);
      await sleep(2);
    }
    assert.ok(most <= 2, `one pipelining connection held ${most} slots`);
    assert.equal((p.text.match(/\r\n\r\n\{\}/g) ?? []).length, 8);
    p.sock.destroy();

    // A flood of pipelined requests on one connection that does not read: closed, bounded.
    let n = 0;
    for (const req of [sleep1(1000), 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n']) {
      const f = await peer(t.port, false);
      f.sock.write(req.repeat(5000));
      await untilMetric(t.port, 'pipeline', ++n);
      await until(() => t.server.stats.running <= 1, 'its calls gone');
      f.sock.destroy();
    }
    const m = await metricsOf(t.port);
    assert.equal(m.pipeline, 2);
  } finally {
    const r = await h.stop();
    await t.close();
    assert.deepEqual(r.failed, []);
  }
});

test('a client that pipelines within the limit and never reads: closed once an answer waits sendStallTimeoutMs (send_stall), not held busy for ever', async () => {
  const t = await web({ ...SHORT, maxReceiveMessageLength: 2 * 1024 * 1024, maxSendMessageLength: 4 * 1024 * 1024 });
  const h = honest(t);
  try {
    const f = await peer(t.port, false);
    // PIPELINE Connect unary Echo calls of 1 MB each, never read: 16 MB of answers, more than the
    // kernel's socket buffers hold.
    const body = JSON.stringify({ name: 'e'.repeat(1024 * 1024) });
    const req = `POST /webtest.Probe/Echo HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    for (let i = 0; i < PIPELINE; i++) f.sock.write(req);
    // (our writes still pending fail once the server has closed: how a peer that does not read finds out)
    await until(() => f.sock.destroyed, 'the server closed the non-reading connection');
    const m = await metricsOf(t.port);
    assert.ok(m.send_stall! >= 1, `send_stall ${m.send_stall}`);
    assert.equal(m.pipeline, 0);
    f.sock.destroy();
  } finally {
    const r = await h.stop();
    await t.close();
    assert.deepEqual(r.failed, []);
  }
});

test('idle keep-alive connections and half-sent heads count toward maxConnections and are evicted first; churn leaves nothing open', async () => {
  for (const start of [observed, web]) {
    const t = await start({ ...SHORT, http2: { ...SHORT.http2, handshakeTimeoutMs: 60_000 }, maxConnections: 8 });
    const h = honest(t);
    try {
      const idle: Peer[] = [];
      for (let i = 0; i < 30; i++) {
        const p = await peer(t.port);
        p.sock.write(i % 2 === 0 ? 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' : 'GET /metrics HTTP/1.1\r\nHost:');
        if (i % 2 === 0) await until(() => p.text.includes('# EOF') || /\r\n\r\n[^]*\n$/.test(p.text), 'answered');
        idle.push(p);
        assert.ok(t.server.stats.connections <= 8, `${t.server.stats.connections} open`);
      }
      await until(() => idle.filter((p) => p.ended).length >= 30 - 7, 'evicted');
      assert.ok(t.server.stats.connectionsEvicted >= 30 - 7);
      // Churn: connect, half a head (or nothing), drop.
      for (let i = 0; i < 300; i++) {
        const p = await peer(t.port);
        if (i % 2 === 0) p.sock.write('GET /met');
        p.sock.destroy();
      }
      for (const p of idle) p.sock.destroy();
      await until(() => t.server.stats.connections <= 1, 'nothing left open but the honest client');
      // Heads cut off (by the peer, or by an eviction) are no framing error.
      assert.equal((await metricsOf(t.port)).bad_request, 0);
    } finally {
      const r = await h.stop();
      await t.close();
      assert.deepEqual(r.failed, []);
    }
  }
});

test('maxConnectionAgeMs applies to HTTP/1.1: an idle connection closes, a busy one answers with connection: close, then closes', async () => {
  const t = await web({ ...SHORT, http2: { ...SHORT.http2, maxConnectionAgeMs: 300, maxConnectionAgeGraceMs: 5000 } });
  try {
    const idle = await peer(t.port);
    idle.sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    const busy = await peer(t.port);
    busy.sock.write('POST /webtest.Probe/Sleep HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{"ms":800}');
    await until(() => idle.ended && busy.ended, 'both closed');
    assert.match(idle.text, /^HTTP\/1\.1 200 /);
    assert.match(busy.text, /^HTTP\/1\.1 200 OK\r\n[^]*[Cc]onnection: close\r\n\r\n\{\}$/);
    const m = await metricsOf(t.port);
    assert.ok(m.max_age! >= 2, `max_age ${m.max_age}`);
  } finally {
    await t.close();
  }
});

test('server.stop(grace) applies to HTTP/1.1: an idle keep-alive connection closes at once, a busy one when the grace is over (its call aborted)', async () => {
  const s = await startWebServer();
  const idle = await peer(s.port);
  idle.sock.write('GET /nope HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => idle.text.includes('\r\n\r\n'), 'answered');
  const busy = await peer(s.port);
  busy.sock.write('POST /webtest.Probe/Sleep HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{"ms":60000}');
  await until(() => s.server.stats.running === 1, 'the call runs');
  await s.server.stop(300);
  assert.equal(s.server.stats.connections, 0);
  await until(() => idle.ended && busy.ended, 'both closed, as seen by the peers');
  assert.equal(busy.text, '', 'no answer: the call was cut off, not answered');
  await until(() => s.state.aborted.length === 1, 'the sleeping call was aborted');
});
