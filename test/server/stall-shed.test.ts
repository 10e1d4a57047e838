// At a full job queue a call whose response is stalled on flow control is shed before a new call
// is refused (server.ts onFull, the connection cap's rule: evict the idle before refusing). A
// running call counts once its response DATA has been queued and blocked for min(1 s,
// sendStallTimeoutMs); it is reset as the send-stall timeout would (RST_STREAM(ENHANCE_YOUR_CALM),
// ctx.signal aborted, slot freed). A blocked call first parks (gives its running slot back) while
// one of the maxWaiting parking places is free: these tests fill them, and when they are full the
// oldest parked call stalled that long is shed for the next blocked one. Real peers: raw HTTP/2
// clients that give no window and never read (answering PINGs), and grpc-js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/http2/errors.js';
import { FrameType } from '../../src/http2/frame/constants.js';
import { H2Client, rawFrame } from '../support/h2-client.js';
import { callError, grpc, startHarness, unary, until, type Msg } from '../grpc/helpers.js';
import { endlessStream, neverReader, openCall } from './stall-helpers.js';

/** sendStallTimeoutMs here: the shed threshold is then its 1 s cap. */
const STALL_MS = 3000;

// A blocked call parks (gives its running slot back) while a parking place is free (maxWaiting of
// them); past that it keeps its slot, and it is such a call that stalls the queue and is shed.

test('parking full (1 running, 1 parked, 1 waiting): refused before the threshold; past it the blocked running call is shed, then the oldest parked one for the next blocked call', async () => {
  const { seen, ServerStream } = endlessStream();
  const Unary = (req: Msg) => ({ text: req.text }) as Msg;
  const h = await startHarness({ Unary, ServerStream }, { maxRunning: 1, maxWaiting: 1, http2: { sendStallTimeoutMs: STALL_MS } });
  const peers: H2Client[] = [];
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm'); // grpc-js connected
    const a = await neverReader(h.port);
    peers.push(a);
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'the first never-reader parked');
    const b = await neverReader(h.port);
    peers.push(b);
    await b.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
    await until(() => h.server.stats.running === 1, 'the second never-reader running (no parking place left)');
    const queued = unary(h.client, 'Unary', { text: 'queued' }, new grpc.Metadata(), { deadline: Date.now() + 5000 });
    await until(() => h.server.stats.waiting === 1, 'an honest call waiting');

    // Control: the running call's data has been blocked for less than 1 s: refused, nothing shed.
    const refused = await callError(unary(h.client, 'Unary', { text: 'early' }));
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED, refused.message);
    assert.match(refused.details, /job queue full/);
    assert.equal(h.server.stats.stalledShed, 0);
    assert.equal(seen.aborted, 0);

    // Past the threshold (well before the stall timeout) the running blocked call is shed; the waiting call runs.
    assert.equal((await queued).text, 'queued');
    await b.expectRst(1, ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    assert.equal(h.server.stats.stalledShed, 1);
    assert.equal(h.server.stats.parked, 1, 'the parked call holds no slot: not shed for a waiting call');
    // A third never-reader blocks: parking is full and the parked call has stalled past the threshold.
    const c = await neverReader(h.port);
    peers.push(c);
    await a.expectRst(1, ErrorCode.ENHANCE_YOUR_CALM, 10 * STALL_MS);
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'the third never-reader parked in its place');
    assert.equal((await unary(h.client, 'Unary', { text: 'honest' })).text, 'honest');
    await until(() => seen.aborted === 2, 'the shed calls\' ctx.signal aborted');
    assert.deepEqual([h.server.stats.stalledShed, h.server.stats.sendStallResets, h.server.stats.rejected, seen.started], [2, 0, 1, 3]);
  } finally {
    for (const c of peers) c.close();
    await h.close();
  }
});

test('a shed call takes its connection\'s waiting calls along: the honest newcomer runs at once, not behind them', async () => {
  const { seen, ServerStream } = endlessStream();
  // A stall timeout far beyond the honest call's deadline: only shedding can let it through in time.
  const h = await startHarness(
    { Unary: (req: Msg) => ({ text: req.text }) as Msg, ServerStream },
    { maxRunning: 1, maxWaiting: 2, http2: { sendStallTimeoutMs: 20_000 } },
  );
  let a: H2Client | undefined;
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm'); // grpc-js connected
    a = await neverReader(h.port); // streams 1, 3 park; 5 runs and keeps its slot; 7, 9 wait
    await until(() => h.server.stats.parked === 1, 'stream 1 parked');
    openCall(a, 3);
    await until(() => h.server.stats.parked === 2, 'stream 3 parked');
    openCall(a, 5);
    await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 5);
    openCall(a, 7);
    openCall(a, 9);
    await until(() => h.server.stats.running === 1 && h.server.stats.waiting === 2, 'one call running, two waiting');
    await new Promise((r) => setTimeout(r, 1300));

    const served = await unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), { deadline: Date.now() + 5000 });
    assert.equal(served.text, 'honest');
    for (const id of [5, 7, 9]) await a.expectRst(id, ErrorCode.ENHANCE_YOUR_CALM, 5000);
    assert.equal(h.server.stats.stalledShed, 3);
    assert.equal(h.server.stats.sendStallResets, 0, 'shed, not timed out');
    assert.equal(h.server.stats.waiting, 0);
    assert.equal(seen.started, 3, 'the dropped waiting calls never started');
    await until(() => seen.aborted === 1, 'the shed running call\'s ctx.signal aborted');
  } finally {
    a?.close();
    await h.close();
  }
});

test('a connection that has shown a stall has its waiting calls dropped too, not only the shed call\'s', async () => {
  const { seen, ServerStream } = endlessStream();
  const h = await startHarness(
    { Unary: (req: Msg) => ({ text: req.text }) as Msg, ServerStream },
    { maxRunning: 1, maxWaiting: 2, http2: { sendStallTimeoutMs: 20_000 } },
  );
  const peers: H2Client[] = [];
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm'); // grpc-js connected
    // B: one call stalls (window 0, parked), then B cancels it itself; B still never hands window back.
    const b = await neverReader(h.port, 1);
    peers.push(b);
    await until(() => h.server.stats.parked === 1, 'B\'s first call parked (its DATA blocked)');
    b.send(rawFrame(FrameType.RST_STREAM, 0, 1, Buffer.from([0, 0, 0, ErrorCode.CANCEL])));
    await until(() => h.server.stats.parked === 0, 'B\'s first call cancelled');
    // A: streams 1, 3 park, 5 runs and keeps its slot; then B: streams 3, 5 wait. Full.
    const a = await neverReader(h.port, 1);
    peers.push(a);
    await until(() => h.server.stats.parked === 1, 'A\'s stream 1 parked');
    openCall(a, 3);
    await until(() => h.server.stats.parked === 2, 'A\'s stream 3 parked');
    openCall(a, 5);
    await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 5);
    for (const id of [3, 5]) openCall(b, id);
    await until(() => h.server.stats.running === 1 && h.server.stats.waiting === 2, 'one call running, two waiting');
    await new Promise((r) => setTimeout(r, 1300));

    // A's running call is shed, B's waiting calls dropped: the honest call runs at once
    // (before: it waited behind B's two calls, each stalled for the 20 s timeout).
    const served = await unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), { deadline: Date.now() + 4000 });
    assert.equal(served.text, 'honest');
    await a.expectRst(5, ErrorCode.ENHANCE_YOUR_CALM, 5000);
    for (const id of [3, 5]) await b.expectRst(id, ErrorCode.ENHANCE_YOUR_CALM, 5000);
    assert.equal(h.server.stats.stalledShed, 3);
    assert.equal(h.server.stats.sendStallResets, 0, 'shed, not timed out');
    assert.equal(h.server.stats.waiting, 0);
    assert.equal(seen.started, 4, 'the dropped waiting calls never started');
  } finally {
    for (const c of peers) c.close();
    await h.close();
  }
});

test('sendStallTimeoutMs 0 (no stall clock), maxWaiting 0 (no parking place): a full queue of never-readers refuses, nothing is shed', async () => {
  const { ServerStream } = endlessStream();
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
