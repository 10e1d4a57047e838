// Parking (src/queue/job-queue.ts park/resume, src/grpc/call.ts write()): a call whose response
// waits for its client's flow-control window gives its running slot back while it waits, stays
// counted in its connection's share, and takes a slot again, before any waiting call, once the
// window opens. At most maxWaiting calls are parked; past that a blocked call keeps its slot. A
// parked call that is reset, cut with its connection or past its deadline gives its place back.
// Real peers: grpc-js, and raw HTTP/2 clients (test/support/frames.ts through H2Client) that give
// no window until told to, answering PINGs. No timing assertions: every honest call has a deadline
// far below the send-stall timeout, and nothing here is shed unless a test says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallContext, ServerWriter } from '../../src/index.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { FrameType } from '../../src/http2/frame/constants.js';
import { H2Client, headerValue, rawFrame, u32 } from '../support/h2-client.js';
import { collect, grpc, startHarness, unary, until, type Msg } from '../grpc/helpers.js';
import { openCall, zeroWindowClient } from './stall-helpers.js';

const STALL_MS = 20_000;
const deadline = () => ({ deadline: Date.now() + 6000 });

/** Handlers: `count` 4 KB messages for a raw client's call (endless when 0); 3 small ones for grpc-js. */
function handlers() {
  const seen = { started: 0, aborted: 0 };
  const ServerStream = async (req: Msg, call: ServerWriter<Msg>, ctx: CallContext) => {
    if (req.text === 'honest') {
      for (let i = 0; i < 3; i++) await call.write({ text: `r${i}` } as Msg);
      return;
    }
    seen.started++;
    ctx.signal.addEventListener('abort', () => seen.aborted++);
    const data = Buffer.alloc(4096, 1);
    for (let i = 0; req.count === 0 || i < req.count; i++) {
      if (ctx.signal.aborted) return;
      await call.write({ text: String(i), data } as Msg);
    }
  };
  return { seen, ServerStream };
}

/** The gRPC messages in a response body (5-octet prefix each). */
function countMessages(body: Buffer): number {
  let n = 0;
  for (let at = 0; at + 5 <= body.length; at += 5 + body.readUInt32BE(at + 1)) n++;
  return n;
}

test('a call whose client does not read parks: others run on its slot; when the client reads it resumes before waiting calls and completes', async () => {
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const seen = { aborted: 0 };
  let opened = false;
  const ServerStream = async (req: Msg, call: ServerWriter<Msg>, ctx: CallContext) => {
    if (req.text === 'honest') {
      for (let i = 0; i < 3; i++) await call.write({ text: `r${i}` } as Msg);
      return;
    }
    ctx.signal.addEventListener('abort', () => seen.aborted++);
    const data = Buffer.alloc(4096, 1);
    for (let i = 0; i < req.count; i++) {
      await call.write({ text: String(i), data } as Msg);
      // The first write to go on after the client gave window: the call had a slot again.
      if (opened && !order.includes('resumed')) order.push('resumed');
    }
  };
  const Unary = async (req: Msg) => {
    if (req.text === 'hold') await gate;
    order.push(req.text);
    return req;
  };
  const h = await startHarness({ Unary, ServerStream }, { maxRunning: 1, maxWaiting: 2, http2: { sendStallTimeoutMs: STALL_MS } });
  let c: H2Client | undefined;
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm');
    c = await zeroWindowClient(h.port);
    openCall(c, 1, 'x', 40); // 40 x 4 KB: past the stream's 64 KB write mark, so write() waits
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'the blocked call parked, off its slot');
    // The only running slot is free: honest calls run at once (before: they waited behind it).
    assert.equal((await unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), deadline())).text, 'honest');
    const r = await collect(h.client.ServerStream({ text: 'honest' }, new grpc.Metadata(), deadline()));
    assert.equal(r.error, null, String(r.error));
    assert.equal(r.messages.length, 3);

    // A call holds the slot, another waits; then the client reads (gives window).
    const held = unary(h.client, 'Unary', { text: 'hold' }, new grpc.Metadata(), deadline());
    await until(() => h.server.stats.running === 1, 'the held call running');
    const queued = unary(h.client, 'Unary', { text: 'queued' }, new grpc.Metadata(), deadline());
    await until(() => h.server.stats.waiting === 1, 'a call waiting');
    opened = true;
    c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(1 << 20)), rawFrame(FrameType.WINDOW_UPDATE, 0, 1, u32(1 << 20)));
    // The data queued before it parked goes out without a slot (the server tells the call the
    // stream takes writes again in the same flush); the handler waits for a slot.
    await c.waitUntil(() => c!.frames.some((f) => f.type === FrameType.DATA && f.streamId === 1), 'DATA on stream 1', 5000);
    assert.equal(h.server.stats.parked, 1, 'still parked: no free slot');
    assert.ok(!order.includes('resumed'));
    release();
    assert.equal((await held).text, 'hold');
    assert.equal((await queued).text, 'queued');
    // The freed slot went to the parked call before the call that waited.
    assert.deepEqual(order.filter((x) => x !== 'honest' && x !== 'warm'), ['hold', 'resumed', 'queued']);
    const res = await c.expectResponse(1, 5000);
    assert.equal(headerValue(res.trailers ?? [], 'grpc-status'), '0', c.history());
    assert.equal(countMessages(res.body), 40);
    const s = h.server.stats;
    assert.deepEqual([s.parked, s.running, s.waiting, seen.aborted], [0, 0, 0, 0]);
    assert.deepEqual([s.stalledShed, s.sendStallResets, s.rejected, s.fairDropped], [0, 0, 0, 0]);
  } finally {
    release();
    c?.close();
    await h.close();
  }
});

test('a parked call reset by its client, cut with its connection, or past its deadline gives its place back; ctx.signal aborts', async () => {
  const { seen, ServerStream } = handlers();
  // One parking place: the next call can only park once the previous one has given it back.
  const h = await startHarness({ Unary: (req: Msg) => req, ServerStream }, { maxRunning: 1, maxWaiting: 1, http2: { sendStallTimeoutMs: STALL_MS } });
  const peers: H2Client[] = [];
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm');
    // Reset by its client.
    const a = await zeroWindowClient(h.port);
    peers.push(a);
    openCall(a, 1);
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'A\'s call parked');
    a.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(ErrorCode.CANCEL)));
    await until(() => seen.aborted === 1 && h.server.stats.parked === 0, 'A\'s call aborted, its place free');
    // Its connection cut.
    const b = await zeroWindowClient(h.port);
    peers.push(b);
    openCall(b, 1);
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'B\'s call parked in the freed place');
    b.close();
    await until(() => seen.aborted === 2 && h.server.stats.parked === 0, 'B\'s call aborted, its place free');
    // Past its deadline: DEADLINE_EXCEEDED, and RST_STREAM(CANCEL) as for a running call.
    const d = await zeroWindowClient(h.port);
    peers.push(d);
    openCall(d, 1, 'x', 0, ['grpc-timeout', '300m']);
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'D\'s call parked');
    await d.expectRst(1, ErrorCode.CANCEL, 5000);
    await until(() => seen.aborted === 3 && h.server.stats.parked === 0, 'D\'s call aborted, its place free');
    // Everything given back: the next blocked call parks again, and an honest call runs.
    openCall(a, 3);
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'A\'s second call parked');
    assert.equal((await unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), deadline())).text, 'honest');
    const s = h.server.stats;
    assert.deepEqual([s.completed, s.stalledShed, s.sendStallResets, seen.started], [5, 0, 0, 4]);
  } finally {
    for (const c of peers) c.close();
    await h.close();
  }
});

test('parking is bounded by maxWaiting: the next blocked call keeps its slot, so at most maxRunning + maxWaiting calls are started', async () => {
  const { seen, ServerStream } = handlers();
  // sendStallTimeoutMs 0: no stall clock, nothing is shed; only the bounds decide.
  const h = await startHarness({ Unary: (req: Msg) => req, ServerStream }, { maxRunning: 1, maxWaiting: 2, http2: { sendStallTimeoutMs: 0 } });
  let a: H2Client | undefined;
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm');
    a = await zeroWindowClient(h.port);
    openCall(a, 1);
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'the first call parked');
    openCall(a, 3);
    await until(() => h.server.stats.parked === 2 && h.server.stats.running === 0, 'the second call parked');
    openCall(a, 5);
    await until(() => seen.started === 3 && h.server.stats.running === 1, 'the third call running');
    await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 5);
    openCall(a, 7);
    openCall(a, 9);
    await until(() => h.server.stats.waiting === 2, 'two calls waiting');
    assert.deepEqual([h.server.stats.running, h.server.stats.parked, seen.started], [1, 2, 3], 'the third kept its slot');
    // Full: the connection holding the most gives way (its newest waiting call), the honest call waits.
    const served = unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), deadline());
    const refused = await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 9);
    assert.equal(headerValue(refused.headerList ?? [], 'grpc-status'), String(grpc.status.RESOURCE_EXHAUSTED));
    assert.equal(h.server.stats.fairDropped, 1);
    // The never-reader goes away: its running, parked and waiting calls all let go.
    a.close();
    assert.equal((await served).text, 'honest');
    await until(() => seen.aborted === 3, 'the three started calls aborted');
    const s = h.server.stats;
    assert.deepEqual([s.running, s.parked, s.waiting, s.stalledShed, seen.started], [0, 0, 0, 0, 3]);
  } finally {
    a?.close();
    await h.close();
  }
});
