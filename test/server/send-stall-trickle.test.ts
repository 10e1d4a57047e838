// A peer that trickles flow-control window (a 1-octet WINDOW_UPDATE now and then) used to end its
// send stall with each update and so held its stream (job slot, queued response DATA) or its
// connection for ever while reading almost nothing. A stall now ends only once STALL_PROGRESS
// (16 KB) of DATA went out since it began, or everything queued did (src/http2/flow.ts). Real
// peers: raw HTTP/2 clients trickling window, grpc-js beside them on the same server, and nghttp
// reading a long server stream through a 1 KB window (an honest slow reader, never cut).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerWriter } from '../../src/index.js';
import { enableObserve } from '../../src/observe/index.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { STALL_PROGRESS } from '../../src/http2/flow.js';
import { FrameType, SettingId } from '../../src/http2/frame/constants.js';
import { H2Client, rawFrame, settingsPayload, u32 } from '../support/h2-client.js';
import { startHarness, unary, until, type Msg } from '../grpc/helpers.js';
import { endlessStream, msgRequest, openCall, requestHeaders, zeroWindowClient } from './stall-helpers.js';

const STALL_MS = 1000;
const Unary = (req: Msg) => ({ text: req.text }) as Msg;

/** DATA octets `c` received on `id`. */
const dataOf = (c: H2Client, id: number): number =>
  c.frames.filter((f) => f.type === FrameType.DATA && f.streamId === id).reduce((n, f) => n + (f as { data: Buffer }).data.length, 0);

/** Send `frame()` every `ms` until stopped. */
function every(c: H2Client, ms: number, frame: (i: number) => Buffer): () => void {
  let i = 0;
  const t = setInterval(() => {
    if (!c.closed) c.send(frame(i++));
  }, ms);
  return () => clearInterval(t);
}

/** One line of /metrics (HTTP/1.1, observe's own route). */
async function metric(port: number, line: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

test('a stream whose client trickles 1-octet WINDOW_UPDATEs is reset after the timeout (ENHANCE_YOUR_CALM), honest calls served', async () => {
  const { seen, ServerStream } = endlessStream();
  const h = await startHarness({ Unary, ServerStream }, { http2: { sendStallTimeoutMs: STALL_MS } });
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  const c = await zeroWindowClient(h.port);
  openCall(c, 1);
  const stop = every(c, 20, () => rawFrame(FrameType.WINDOW_UPDATE, 0, 1, u32(1)));
  try {
    await c.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
    assert.equal((await unary(h.client, 'Unary', { text: 'meanwhile' })).text, 'meanwhile');
    await c.expectRst(1, ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    stop();
    await until(() => seen.aborted === 1 && h.server.stats.parked === 0 && h.server.stats.running === 0, 'ctx.signal aborted and the place freed');
    assert.deepEqual([h.server.stats.sendStallResets, h.server.stats.sendStallCloses], [1, 0]);
    const got = dataOf(c, 1);
    assert.ok(got > 0 && got < STALL_PROGRESS, `the trickle let ${got} octets go`);
    assert.equal(await metric(h.port, 'grpc_edge_calls_shed_total{reason="send_stall"}'), 1);
    assert.ok(!c.closed, 'only the stream was reset');
    assert.equal((await unary(h.client, 'Unary', { text: 'after' })).text, 'after');
  } finally {
    stop();
    c.close();
    observe.stop();
    await h.close();
  }
});

test('a connection whose client trickles 1-octet connection WINDOW_UPDATEs gets GOAWAY(ENHANCE_YOUR_CALM, send stall), honest calls served', async () => {
  const { seen, ServerStream } = endlessStream();
  const h = await startHarness({ Unary, ServerStream }, { http2: { sendStallTimeoutMs: STALL_MS } });
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  // a large stream window: the connection window (65,535) is what runs out
  const c = await H2Client.connect(h.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, 1 << 20] });
  c.autoPong = true;
  openCall(c, 1);
  let stop = () => {};
  try {
    await c.waitUntil(() => dataOf(c, 1) === 65535, 'the connection window used up', 5 * STALL_MS);
    stop = every(c, 20, () => rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(1)));
    assert.equal((await unary(h.client, 'Unary', { text: 'meanwhile' })).text, 'meanwhile');
    const g = await c.expectGoaway(ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    assert.match(g.debug.toString(), /send stall/);
    await c.expectClosed();
    stop();
    await until(() => seen.aborted === 1 && h.server.stats.running === 0, 'ctx.signal aborted and the slot freed');
    assert.deepEqual([h.server.stats.sendStallCloses, h.server.stats.sendStallResets], [1, 0]);
    const got = dataOf(c, 1) - 65535;
    assert.ok(got > 0 && got < STALL_PROGRESS, `the trickle let ${got} octets go`);
    assert.equal(await metric(h.port, 'grpc_edge_connections_ended_total{reason="send_stall"}'), 1);
    assert.equal((await unary(h.client, 'Unary', { text: 'after' })).text, 'after');
  } finally {
    stop();
    c.close();
    observe.stop();
    await h.close();
  }
});

test('a client that stops reading its socket (windows wide open) but keeps writing frames is closed after the timeout (send stall), honest calls served', async () => {
  const { seen, ServerStream } = endlessStream();
  const h = await startHarness({ Unary, ServerStream }, { http2: { sendStallTimeoutMs: STALL_MS } });
  // stream and connection windows far larger than what the socket buffers hold: only TCP stops us
  const c = await H2Client.connect(h.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, 0x7fffffff] });
  c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(0x7fffffff - 65535)));
  c.socket.pause();
  openCall(c, 1);
  // a frame of an unknown type every 50 ms (ignored, RFC 9113 5.5): the server keeps reading, so
  // keepalive sees a live peer, and its output never passes maxOutboundBufferBytes
  const stop = every(c, 50, () => rawFrame(0xfa, 0, 0, Buffer.alloc(0)));
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'meanwhile' })).text, 'meanwhile');
    await until(() => h.server.stats.sendStallCloses === 1, 'the connection closed for its send stall', 10 * STALL_MS);
    await until(() => seen.aborted === 1 && h.server.stats.running === 0 && h.server.stats.parked === 0, 'ctx.signal aborted and the place freed');
    assert.deepEqual([h.server.stats.sendStallResets, h.server.stats.keepaliveTimeouts], [0, 0]);
    assert.equal((await unary(h.client, 'Unary', { text: 'after' })).text, 'after');
  } finally {
    stop();
    c.close();
    await h.close();
  }
});

test('a client that reads its socket in bursts (10 ms of every STALL_MS / 2) is never cut, over 3 timeouts', async () => {
  const { ServerStream } = endlessStream();
  const h = await startHarness({ ServerStream }, { http2: { sendStallTimeoutMs: STALL_MS } });
  const c = await H2Client.connect(h.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, 0x7fffffff] });
  c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(0x7fffffff - 65535)));
  c.socket.pause();
  openCall(c, 1);
  const keep = every(c, 50, () => rawFrame(0xfa, 0, 0, Buffer.alloc(0)));
  let bursts = 0;
  const t = setInterval(() => {
    c.socket.resume();
    bursts++;
    setTimeout(() => c.socket.pause(), 10);
  }, STALL_MS / 2);
  try {
    await c.waitUntil(() => bursts >= 6, 'three timeouts of bursts', 10 * STALL_MS);
    assert.equal(h.server.stats.sendStallCloses, 0);
    assert.ok(!c.closed);
    // DATA frames parsed: far past what the socket buffers hold (the frames are 4 KB messages)
    assert.ok(c.frames.filter((f) => f.type === FrameType.DATA).length > 100, c.history().slice(-400));
  } finally {
    clearInterval(t);
    keep();
    c.close();
    await h.close();
  }
});

test('WINDOW_UPDATEs and SETTINGS on a request that never ends do not stop its clock (requestStallResets)', async () => {
  const h = await startHarness({ Unary }, { http2: { sendStallTimeoutMs: STALL_MS } });
  const c = await H2Client.connect(h.port);
  c.autoPong = true;
  // a unary request: HEADERS and part of its message, never END_STREAM
  c.send(c.headersFrame(1, requestHeaders('Unary')), rawFrame(FrameType.DATA, 0, 1, msgRequest('half').subarray(0, 3)));
  // window for its response, and the initial window changed up and down (each used to clear the clock)
  const stop = every(c, 50, (i) =>
    i % 2 === 0 ? rawFrame(FrameType.WINDOW_UPDATE, 0, 1, u32(1)) : rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.INITIAL_WINDOW_SIZE, 65535 + (i % 4)])),
  );
  try {
    await c.expectRst(1, ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    assert.deepEqual([h.server.stats.requestStallResets, h.server.stats.sendStallResets], [1, 0]);
    assert.ok(!c.closed);
  } finally {
    stop();
    c.close();
    await h.close();
  }
});

test('nghttp reading a long server stream through a 1 KB stream window (-w 10) is never cut, the stream lasting longer than the timeout', async () => {
  const big = Buffer.alloc(64 * 1024, 7);
  const N = 120; // 7.5 MB (msgRequest takes a count below 128)
  const h = await startHarness(
    {
      ServerStream: async (req: Msg, call: ServerWriter<Msg>) => {
        for (let i = 0; i < req.count; i++) await call.write({ text: String(i), data: big } as Msg);
      },
    },
    // shorter than the stream takes through this window (~0.5 s here, load 3-4): each stall
    // ends by accumulating many small updates, none of them STALL_PROGRESS by itself
    { http2: { sendStallTimeoutMs: 150 } },
  );
  const dir = mkdtempSync(join(tmpdir(), 'trickle-'));
  try {
    const body = join(dir, 'req');
    writeFileSync(body, msgRequest('n', N));
    const started = Date.now();
    const out = await new Promise<{ err: Error | null; stdout: Buffer; stderr: string }>((resolve) =>
      execFile(
        'nghttp',
        ['-w', '10', '-W', '16', '-d', body, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `http://127.0.0.1:${h.port}/edge.test.TestService/ServerStream`],
        { encoding: 'buffer', maxBuffer: 8 << 20, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ err, stdout, stderr: stderr.toString() }),
      ),
    );
    const took = Date.now() - started;
    assert.equal(out.err, null, out.stderr);
    // N messages of 64 KB + their text and framing
    assert.ok(out.stdout.length > N * big.length, `got ${out.stdout.length} octets`);
    assert.deepEqual([h.server.stats.sendStallResets, h.server.stats.sendStallCloses], [0, 0], `in ${took} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await h.close();
  }
});

