// sendStallTimeoutMs (src/http2/keepalive.ts): response DATA that waits that long for flow-control
// window gets its stream reset with RST_STREAM(ENHANCE_YOUR_CALM) (ctx.signal aborts, the queue
// slot is freed, the connection can be evicted again), or, for the connection window, the
// connection gets GOAWAY(ENHANCE_YOUR_CALM). Once the peer has taken 16 KB (flow.ts
// STALL_PROGRESS, or all that was queued) the clock starts over, so a slow but progressing reader is
// never cut (one that trickles window: send-stall-trickle.test.ts). Real peers: a raw HTTP/2 client that never
// reads (and answers PINGs, so keepalive keeps it), and grpc-js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from '../../src/index.js';
import type { ServerWriter } from '../../src/index.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { Flag, FrameType, SettingId } from '../../src/http2/frame/constants.js';
import { getProfile, profileNames } from '../../src/server/profile.js';
import { H2Client, rawFrame, u32 } from '../support/h2-client.js';
import { collect, grpc, startHarness, unary, until, type Msg } from '../grpc/helpers.js';
import { endlessStream, msgRequest, neverReader, openCall, requestHeaders } from './stall-helpers.js';

/** The timeout the tests use (the profiles' 30-60 s, scaled down). */
const STALL_MS = 1000;

test('sendStallTimeoutMs: checked at new Server, set by every profile, counted in server.stats', () => {
  for (const bad of [-1, 1.5, NaN, 2 ** 31]) {
    assert.throws(() => new Server({ http2: { sendStallTimeoutMs: bad } }), /sendStallTimeoutMs must be an integer/);
  }
  for (const name of profileNames()) {
    const ms = getProfile(name).server.sendStallTimeoutMs;
    assert.ok(ms >= 10_000 && ms <= 120_000, `${name}: ${ms}`);
  }
  const s = new Server({ profile: 'pi-zero-2w' });
  assert.equal(getProfile('pi-zero-2w').server.sendStallTimeoutMs, 30_000);
  assert.deepEqual([s.stats.sendStallResets, s.stats.sendStallCloses], [0, 0]);
});

const Unary = (req: Msg) => ({ text: req.text }) as Msg;

test('a stream whose client gives no window parks, then is reset (ENHANCE_YOUR_CALM): signal aborted, place freed, connection evictable', async () => {
  const { seen, ServerStream } = endlessStream();
  // keepalive on and answered: it is not what ends this call. One running slot.
  const h = await startHarness({ Unary, ServerStream }, { maxConnections: 2, maxRunning: 1, http2: { sendStallTimeoutMs: STALL_MS, keepaliveTimeMs: 200 } });
  const c = await neverReader(h.port);
  try {
    await c.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
    // Blocked on the client, the call gives its running slot back meanwhile: another call runs.
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'the handler parked, off its slot');
    assert.equal((await unary(h.client, 'Unary', { text: 'meanwhile' })).text, 'meanwhile');
    await c.expectRst(1, ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    await until(() => seen.aborted === 1 && h.server.stats.parked === 0 && h.server.stats.running === 0, 'ctx.signal aborted and the place freed');
    assert.equal(h.server.stats.sendStallResets, 1);
    assert.equal(h.server.stats.sendStallCloses, 0);
    assert.ok(!c.closed, 'only the stream was reset');
    assert.ok(c.frames.some((f) => f.type === FrameType.PING && !f.ack), 'the server pinged it (and got answers)');
    // no call open on it now: a new connection at the cap evicts it (idle longer than grpc-js's)
    assert.equal((await unary(h.client, 'Unary', { text: 'in' })).text, 'in');
    const x = await H2Client.connect(h.port);
    x.close();
    const g = await c.expectGoaway(ErrorCode.NO_ERROR);
    assert.match(g.debug.toString(), /evicted/);
    assert.equal(h.server.stats.connectionsEvicted, 1);
  } finally {
    c.close();
    await h.close();
  }
});

test('window that lets 16 KB go starts the clock over; the clock runs again when updates stop', async () => {
  const { seen, ServerStream } = endlessStream();
  const h = await startHarness({ ServerStream }, { http2: { sendStallTimeoutMs: STALL_MS } });
  const c = await neverReader(h.port);
  try {
    await c.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
    // 2.4 timeouts' worth of window, 4 KB every STALL_MS / 5 (20 KB per timeout): each lets a
    // frame go, every 4th ends the stall
    let got = 0;
    for (let i = 0; i < 12; i++) {
      c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 1, u32(4096)));
      await c.expectFrame(FrameType.DATA, (f) => f.streamId === 1, 10 * STALL_MS);
      got++;
      await new Promise((r) => setTimeout(r, STALL_MS / 5));
    }
    assert.equal(got, 12);
    assert.ok(!c.frames.some((f) => f.type === FrameType.RST_STREAM), c.history());
    assert.equal(h.server.stats.sendStallResets, 0);
    // updates stop: reset
    await c.expectRst(1, ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    await until(() => seen.aborted === 1 && h.server.stats.running === 0, 'ctx.signal aborted and the slot freed');
    assert.equal(h.server.stats.sendStallResets, 1);
  } finally {
    c.close();
    await h.close();
  }
});

test('the connection window stays at 0 with data queued: GOAWAY(ENHANCE_YOUR_CALM), closed', async () => {
  const { seen, ServerStream } = endlessStream();
  const h = await startHarness({ ServerStream }, { http2: { sendStallTimeoutMs: STALL_MS } });
  // a large stream window, but the connection window stays at the default 65,535
  const c = await H2Client.connect(h.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, 1 << 20] });
  c.autoPong = true;
  openCall(c, 1);
  try {
    const g = await c.expectGoaway(ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    assert.match(g.debug.toString(), /send stall/);
    await c.expectClosed();
    await until(() => seen.aborted === 1 && h.server.stats.running === 0, 'ctx.signal aborted and the slot freed');
    assert.deepEqual([h.server.stats.sendStallCloses, h.server.stats.sendStallResets], [1, 0]);
    const sent = c.frames.filter((f) => f.type === FrameType.DATA).reduce((n, f) => n + (f as { data: Buffer }).data.length, 0);
    assert.equal(sent, 65535, 'the whole connection window was used');
  } finally {
    c.close();
    await h.close();
  }
});

test('grpc-js reading a large server stream with pauses shorter than the timeout (longer in sum) is never reset', async () => {
  const big = Buffer.alloc(16 * 1024, 7);
  const h = await startHarness(
    {
      ServerStream: async (req: Msg, call: ServerWriter<Msg>) => {
        for (let i = 0; i < req.count; i++) await call.write({ text: String(i), data: big } as Msg);
      },
    },
    { http2: { sendStallTimeoutMs: STALL_MS } },
  );
  try {
    const call = h.client.ServerStream({ text: 's', count: 120 });
    let n = 0;
    let paused = 0;
    call.on('data', () => {
      // every 20 messages (~320 KB, past grpc-js's windows) stop reading for STALL_MS / 3
      if (++n % 20 === 0) {
        call.pause();
        paused++;
        setTimeout(() => call.resume(), STALL_MS / 3);
      }
    });
    const r = await collect(call);
    assert.equal(r.error, null, String(r.error));
    assert.equal(n, 120);
    assert.ok((paused * STALL_MS) / 3 > STALL_MS, 'paused longer than the timeout in all');
    assert.equal(h.server.stats.sendStallResets, 0);
    assert.equal(h.server.stats.sendStallCloses, 0);
  } finally {
    await h.close();
  }
});

test('at a small connection cap, never-reading clients that answer PINGs lock an honest grpc-js client out only until the timeout', async () => {
  const MAX = 3;
  for (const stall of [0, STALL_MS]) {
    const { ServerStream } = endlessStream();
    const h = await startHarness(
      { Unary, ServerStream },
      { maxConnections: MAX, maxRunning: MAX, http2: { sendStallTimeoutMs: stall, keepaliveTimeMs: 200 } },
      { clientOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 300 } },
    );
    const bad: H2Client[] = [];
    try {
      for (let i = 0; i < MAX; i++) bad.push(await neverReader(h.port));
      // each holds a call open (parked: off its running slot, but its connection busy)
      await until(() => h.server.stats.parked === MAX, 'every never-reader\'s call parked');
      const deadline = Date.now() + (stall === 0 ? 2 : 15) * STALL_MS;
      // an honest client retries a refused call (grpc-js fails it with UNAVAILABLE at once)
      let r: Msg | Error = new Error('no try');
      let tries = 0;
      while (Date.now() < deadline) {
        tries++;
        r = await unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), { deadline }).catch((e) => e as Error);
        if (!(r instanceof Error)) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      if (stall === 0) {
        // the gap this closes: without the timeout they hold the cap
        assert.ok(r instanceof Error && tries > 1, 'locked out');
        assert.ok(h.server.stats.connectionsRefused >= 1);
        assert.equal(h.server.stats.parked, MAX);
      } else {
        assert.equal((r as Msg).text, 'honest', String(r));
        assert.ok(h.server.stats.sendStallResets >= 1 && h.server.stats.connectionsEvicted >= 1);
        assert.equal(h.server.stats.keepaliveTimeouts, 0, 'they answered the PINGs');
      }
    } finally {
      for (const c of bad) c.close();
      await h.close();
    }
  }
});

test('a unary request that never ends holds no job slot and is reset after the timeout; one that trickles in is served', async () => {
  // one running slot: a half-open request holding it would stall every other call
  const h = await startHarness({ Unary }, { maxRunning: 1, maxConnections: 2, http2: { sendStallTimeoutMs: STALL_MS } });
  const c = await H2Client.connect(h.port);
  c.autoPong = true;
  const headers = requestHeaders('Unary');
  const req = msgRequest('slow');
  try {
    // stream 1: HEADERS only, never END_STREAM
    c.send(c.headersFrame(1, headers));
    // stream 3: the request one octet at a time, STALL_MS / 4 apart (2 timeouts in all)
    c.send(c.headersFrame(3, headers));
    for (let i = 0; i < req.length; i++) {
      c.send(rawFrame(FrameType.DATA, i === req.length - 1 ? Flag.END_STREAM : 0, 3, req.subarray(i, i + 1)));
      if (i === 0) {
        // meanwhile the slot is free: grpc-js is served at once
        assert.equal((await unary(h.client, 'Unary', { text: 'honest' })).text, 'honest');
        assert.equal(h.server.stats.running, 0);
      }
      await new Promise((r) => setTimeout(r, STALL_MS / 4));
    }
    const r = await c.expectResponse(3, 10 * STALL_MS);
    assert.deepEqual([r.status, r.trailers?.[r.trailers.indexOf('grpc-status') + 1]], ['200', '0']);
    await c.expectRst(1, ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    assert.deepEqual([h.server.stats.requestStallResets, h.server.stats.sendStallResets], [1, 0]);
    assert.equal(h.server.stats.running, 0);
    // nothing open on it now: two new connections at the cap of 2 evict it (and grpc-js's)
    const x = [await H2Client.connect(h.port), await H2Client.connect(h.port)];
    await c.expectGoaway(ErrorCode.NO_ERROR);
    for (const y of x) y.close();
  } finally {
    c.close();
    await h.close();
  }
});
