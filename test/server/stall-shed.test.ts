// At a full job queue a call whose response is stalled on flow control is shed before a new call
// is refused (server.ts onFull, the connection cap's rule: evict the idle before refusing). A
// running call counts once its response DATA has been queued and blocked for min(1 s,
// sendStallTimeoutMs); it is reset as the send-stall timeout would (RST_STREAM(ENHANCE_YOUR_CALM),
// ctx.signal aborted, slot freed). Real peers: raw HTTP/2 clients that give no window and never
// read (answering PINGs), and grpc-js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallContext, ServerWriter } from '../../src/index.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { Flag, FrameType, SettingId } from '../../src/http2/frame/constants.js';
import { H2Client, rawFrame } from '../support/h2-client.js';
import { callError, grpc, startHarness, unary, until, type Msg } from '../grpc/helpers.js';

/** sendStallTimeoutMs here: the shed threshold is then its 1 s cap. */
const STALL_MS = 3000;

/** A never-reading client (window 0, PINGs answered) with `calls` ServerStream calls open on streams 1, 3, ... */
async function neverReader(port: number, calls = 1): Promise<H2Client> {
  const c = await H2Client.connect(port, { settings: [SettingId.INITIAL_WINDOW_SIZE, 0] });
  c.autoPong = true;
  const pb = Buffer.from([0x0a, 1, 0x78]); // Msg { text: 'x' }
  const msg = Buffer.concat([Buffer.from([0, 0, 0, 0, pb.length]), pb]);
  const headers = [
    ':method', 'POST', ':scheme', 'http', ':path', '/edge.test.TestService/ServerStream', ':authority', 'localhost',
    'content-type', 'application/grpc', 'te', 'trailers',
  ];
  for (let id = 1; id < 2 * calls; id += 2) c.send(c.headersFrame(id, headers), rawFrame(FrameType.DATA, Flag.END_STREAM, id, msg));
  return c;
}

test('full queue (1 running, 1 waiting) of never-readers: refused before the threshold, the stalled call shed after it', async () => {
  const seen = { started: 0, aborted: 0 };
  const ServerStream = async (_req: Msg, call: ServerWriter<Msg>, ctx: CallContext) => {
    seen.started++;
    ctx.signal.addEventListener('abort', () => seen.aborted++);
    const data = Buffer.alloc(4096, 1);
    while (!ctx.signal.aborted) await call.write({ text: 'm', data } as Msg);
  };
  const Unary = (req: Msg) => ({ text: req.text }) as Msg;
  const h = await startHarness({ Unary, ServerStream }, { maxRunning: 1, maxWaiting: 1, http2: { sendStallTimeoutMs: STALL_MS } });
  const peers: H2Client[] = [];
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm'); // grpc-js connected
    const a = await neverReader(h.port);
    peers.push(a);
    await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
    await until(() => h.server.stats.running === 1, 'the first never-reader running');
    const b = await neverReader(h.port);
    peers.push(b);
    await until(() => h.server.stats.waiting === 1, 'the second never-reader waiting');

    // Control: the running call's data has been blocked for less than 1 s: refused, nothing shed.
    const refused = await callError(unary(h.client, 'Unary', { text: 'early' }));
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED, refused.message);
    assert.match(refused.details, /job queue full/);
    assert.equal(h.server.stats.stalledShed, 0);
    assert.equal(seen.aborted, 0);

    // Past the threshold (and well before the stall timeout): the stalled call is shed, the new one admitted.
    await new Promise((r) => setTimeout(r, 1300));
    const served = unary(h.client, 'Unary', { text: 'honest' });
    await a.expectRst(1, ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    await until(() => seen.aborted >= 1, 'the shed call\'s ctx.signal aborted');
    assert.equal(h.server.stats.stalledShed, 1);
    assert.equal(h.server.stats.sendStallResets, 0, 'shed, not timed out');
    // The waiting never-reader got the slot (its connection holds one slot, as the honest one does:
    // the older goes first); the honest call waits behind it until it is shed in turn.
    assert.equal((await served).text, 'honest');
    assert.equal(seen.started, 2);
    assert.ok(h.server.stats.rejected === 1, `rejected ${h.server.stats.rejected}`);
  } finally {
    for (const c of peers) c.close();
    await h.close();
  }
});

test('a shed call takes its connection\'s waiting calls along: the honest newcomer runs at once, not behind them', async () => {
  const seen = { started: 0, aborted: 0 };
  const ServerStream = async (_req: Msg, call: ServerWriter<Msg>, ctx: CallContext) => {
    seen.started++;
    ctx.signal.addEventListener('abort', () => seen.aborted++);
    const data = Buffer.alloc(4096, 1);
    while (!ctx.signal.aborted) await call.write({ text: 'm', data } as Msg);
  };
  // A stall timeout far beyond the honest call's deadline: only shedding can let it through in time.
  const h = await startHarness(
    { Unary: (req: Msg) => ({ text: req.text }) as Msg, ServerStream },
    { maxRunning: 1, maxWaiting: 3, http2: { sendStallTimeoutMs: 20_000 } },
  );
  let a: H2Client | undefined;
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm'); // grpc-js connected
    a = await neverReader(h.port, 4); // streams 1 (runs, stalls), 3, 5, 7 (wait)
    await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
    await until(() => h.server.stats.running === 1 && h.server.stats.waiting === 3, 'one never-reader call running, three waiting');
    await new Promise((r) => setTimeout(r, 1300));

    const served = await unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), { deadline: Date.now() + 5000 });
    assert.equal(served.text, 'honest');
    for (const id of [1, 3, 5, 7]) await a.expectRst(id, ErrorCode.ENHANCE_YOUR_CALM, 5000);
    assert.equal(h.server.stats.stalledShed, 4);
    assert.equal(h.server.stats.sendStallResets, 0, 'shed, not timed out');
    assert.equal(h.server.stats.waiting, 0);
    assert.equal(seen.started, 1, 'the dropped waiting calls never started');
    await until(() => seen.aborted === 1, 'the shed running call\'s ctx.signal aborted');
  } finally {
    a?.close();
    await h.close();
  }
});

test('a connection that has shown a stall has its waiting calls dropped too, not only the shed call\'s', async () => {
  const seen = { started: 0 };
  const ServerStream = async (_req: Msg, call: ServerWriter<Msg>, ctx: CallContext) => {
    seen.started++;
    const data = Buffer.alloc(4096, 1);
    while (!ctx.signal.aborted) await call.write({ text: 'm', data } as Msg);
  };
  const h = await startHarness(
    { Unary: (req: Msg) => ({ text: req.text }) as Msg, ServerStream },
    { maxRunning: 1, maxWaiting: 3, http2: { sendStallTimeoutMs: 20_000 } },
  );
  const peers: H2Client[] = [];
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm'); // grpc-js connected
    // B: one call runs and stalls (window 0), then B cancels it itself; B still never hands window back.
    const b = await neverReader(h.port, 1);
    peers.push(b);
    await b.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
    await until(() => h.server.stats.running === 1, 'B\'s first call running');
    await new Promise((r) => setTimeout(r, 50)); // its DATA queued and blocked
    b.send(rawFrame(FrameType.RST_STREAM, 0, 1, Buffer.from([0, 0, 0, ErrorCode.CANCEL])));
    await until(() => h.server.stats.running === 0, 'B\'s first call cancelled');
    // A: streams 1 (runs, stalls), 3 (waits); then B: streams 3, 5 (wait). Full: 1 running, 3 waiting.
    const a = await neverReader(h.port, 2);
    peers.push(a);
    await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
    await until(() => h.server.stats.running === 1 && h.server.stats.waiting === 1, 'A running and waiting');
    const pb = Buffer.from([0x0a, 1, 0x78]);
    const msg = Buffer.concat([Buffer.from([0, 0, 0, 0, pb.length]), pb]);
    const headers = [
      ':method', 'POST', ':scheme', 'http', ':path', '/edge.test.TestService/ServerStream', ':authority', 'localhost',
      'content-type', 'application/grpc', 'te', 'trailers',
    ];
    for (const id of [3, 5]) b.send(b.headersFrame(id, headers), rawFrame(FrameType.DATA, Flag.END_STREAM, id, msg));
    await until(() => h.server.stats.running === 1 && h.server.stats.waiting === 3, 'one call running, three waiting');
    await new Promise((r) => setTimeout(r, 1300));

    // A's running call is shed, A's and B's waiting calls dropped: the honest call runs at once
    // (before: it waited behind B's two calls, each stalled for the 20 s timeout).
    const served = await unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), { deadline: Date.now() + 4000 });
    assert.equal(served.text, 'honest');
    for (const id of [1, 3]) await a.expectRst(id, ErrorCode.ENHANCE_YOUR_CALM, 5000);
    for (const id of [3, 5]) await b.expectRst(id, ErrorCode.ENHANCE_YOUR_CALM, 5000);
    assert.equal(h.server.stats.stalledShed, 4);
    assert.equal(h.server.stats.sendStallResets, 0, 'shed, not timed out');
    assert.equal(h.server.stats.waiting, 0);
    assert.equal(seen.started, 2, 'the dropped waiting calls never started');
  } finally {
    for (const c of peers) c.close();
    await h.close();
  }
});

test('sendStallTimeoutMs 0 (no stall clock): a full queue of never-readers refuses, nothing is shed', async () => {
  const ServerStream = async (_req: Msg, call: ServerWriter<Msg>, ctx: CallContext) => {
    const data = Buffer.alloc(4096, 1);
    while (!ctx.signal.aborted) await call.write({ text: 'm', data } as Msg);
  };
  const h = await startHarness({ Unary: (req: Msg) => req, ServerStream }, { maxRunning: 1, maxWaiting: 0, http2: { sendStallTimeoutMs: 0 } });
  let a: H2Client | undefined;
  try {
    a = await neverReader(h.port);
    await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
    await until(() => h.server.stats.running === 1, 'the never-reader running');
    await new Promise((r) => setTimeout(r, 1200));
    const refused = await callError(unary(h.client, 'Unary', { text: 'x' }));
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED, refused.message);
    assert.equal(h.server.stats.stalledShed, 0);
  } finally {
    a?.close();
    await h.close();
  }
});
