// Fair shares of the job queue between connections (src/queue/job-queue.ts owners, server.ts): at a
// full queue the connection holding the most slots gives way (its newest waiting call is refused
// with RESOURCE_EXHAUSTED) before a call of a connection holding fewer is refused; a freed slot goes
// to the connection holding fewest; a call that waits behind a running call stalled on flow
// control gets it shed within min(1 s, sendStallTimeoutMs) even when nothing else arrives. Real
// peers: grpc-js clients, raw HTTP/2 clients that give no window and never read (answering PINGs),
// and a raw rapid-reset client. No timing assertions: each honest call has a deadline far below
// the send-stall timeout, which is what would free the slots without these rules. A blocked call
// parks (gives its running slot back) while one of the maxWaiting parking places is free: the
// tests that need a stalled call on a running slot fill those places first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallContext, ServerWriter } from '../../src/index.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { Flag, FrameType } from '../../src/http2/frame/constants.js';
import { H2Client, headerValue, rawFrame } from '../support/h2-client.js';
import { TestClient, collect, grpc, startHarness, unary, until, type Msg } from '../grpc/helpers.js';
import { endlessStream, msgRequest, neverReader, openCall, requestHeaders } from './stall-helpers.js';

/** Far beyond every honest deadline here: only shedding can free a stalled call's slot in time. */
const STALL_MS = 20_000;
const DEADLINE_MS = 6000;

const MSG = msgRequest('x');

/** A handler that writes until its call is aborted (it stalls on a client that gives no window). */
const { ServerStream: endless } = endlessStream();

const deadline = () => ({ deadline: Date.now() + DEADLINE_MS });

test('a connection holding the waiting line gives way: the honest call is admitted, not refused, and served', async () => {
  const h = await startHarness({ Unary: (req: Msg) => req, ServerStream: endless }, { maxRunning: 1, maxWaiting: 2, http2: { sendStallTimeoutMs: STALL_MS } });
  let a: H2Client | undefined;
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm'); // grpc-js connected
    // Streams 1 and 3 park, 5 runs and stalls on its slot (parking is full), 7 and 9 wait: the queue is full.
    a = await neverReader(h.port, 1);
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'stream 1 parked');
    openCall(a, 3);
    await until(() => h.server.stats.parked === 2 && h.server.stats.running === 0, 'stream 3 parked');
    openCall(a, 5);
    await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 5);
    openCall(a, 7);
    openCall(a, 9);
    await until(() => h.server.stats.running === 1 && h.server.stats.waiting === 2, 'one call running, two waiting');

    // Before: RESOURCE_EXHAUSTED at once (the stall is younger than the shed threshold).
    const served = unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), deadline());
    // The never-reader's newest waiting call is refused in its place (Trailers-Only, status 8).
    const refused = await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 9);
    assert.equal(headerValue(refused.headerList ?? [], 'grpc-status'), String(grpc.status.RESOURCE_EXHAUSTED));
    assert.equal(h.server.stats.fairDropped, 1);
    assert.equal(h.server.stats.rejected, 0);
    // Served once the stalled call is shed (its connection's waiting calls go with it).
    assert.equal((await served).text, 'honest');
    for (const id of [5, 7]) await a.expectRst(id, ErrorCode.ENHANCE_YOUR_CALM, 5000);
    assert.equal(h.server.stats.sendStallResets, 0, 'shed, not timed out');
    assert.equal(h.server.stats.stalledShed, 2);
    assert.equal(h.server.stats.parked, 2, 'streams 1 and 3 hold no slot: left parked');
  } finally {
    a?.close();
    await h.close();
  }
});

test('a call waiting behind a stalled one is served though nothing else arrives (no full-queue check)', async () => {
  const h = await startHarness({ Unary: (req: Msg) => req, ServerStream: endless }, { maxRunning: 1, maxWaiting: 1, http2: { sendStallTimeoutMs: STALL_MS } });
  let a: H2Client | undefined;
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm');
    a = await neverReader(h.port, 1);
    await until(() => h.server.stats.parked === 1 && h.server.stats.running === 0, 'stream 1 parked');
    openCall(a, 3);
    await a.expectFrame(FrameType.HEADERS, (f) => f.streamId === 3);
    await until(() => h.server.stats.running === 1, 'stream 3 running (no parking place left)');
    // Before: it waited for the 20 s stall timeout, past its deadline.
    assert.equal((await unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), deadline())).text, 'honest');
    await a.expectRst(3, ErrorCode.ENHANCE_YOUR_CALM, 5000);
    assert.equal(h.server.stats.stalledShed, 1);
    assert.equal(h.server.stats.sendStallResets, 0);
    assert.equal(h.server.stats.rejected + h.server.stats.fairDropped, 0);
  } finally {
    a?.close();
    await h.close();
  }
});

test('a freed slot goes to the connection holding fewest slots: the light client before a heavy one\'s backlog', async () => {
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const Unary = async (req: Msg) => {
    if (req.text === 'hold') await gate;
    order.push(req.text);
    return req;
  };
  const h = await startHarness({ Unary, ServerStream: endless }, { maxRunning: 1, maxWaiting: 4, http2: { sendStallTimeoutMs: STALL_MS } });
  // Their own channels (not the harness client's subchannel): other connections.
  const own = { 'grpc.use_local_subchannel_pool': 1 };
  const heavy = new (TestClient())(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure(), own);
  const holder = new (TestClient())(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure(), own);
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm');
    assert.equal((await unary(heavy, 'Unary', { text: 'warm' })).text, 'warm');
    assert.equal((await unary(holder, 'Unary', { text: 'warm' })).text, 'warm');
    order.length = 0;
    // A third connection's call holds the only running slot until released.
    const held = unary(holder, 'Unary', { text: 'hold' }, new grpc.Metadata(), deadline());
    await until(() => h.server.stats.running === 1, 'the holder running');
    const backlog = [0, 1, 2].map((i) => unary(heavy, 'Unary', { text: `heavy ${i}` }, new grpc.Metadata(), deadline()));
    await until(() => h.server.stats.waiting === 3, 'the heavy client\'s three calls waiting');
    const light = unary(h.client, 'Unary', { text: 'light' }, new grpc.Metadata(), deadline());
    await until(() => h.server.stats.waiting === 4, 'the light call waiting behind them');
    release();
    assert.equal((await held).text, 'hold');
    assert.equal((await light).text, 'light');
    assert.deepEqual((await Promise.all(backlog)).map((m) => m.text), ['heavy 0', 'heavy 1', 'heavy 2']);
    // FIFO would have run the heavy backlog first.
    assert.deepEqual(order, ['hold', 'light', 'heavy 0', 'heavy 1', 'heavy 2']);
  } finally {
    release();
    heavy.close();
    holder.close();
    await h.close();
  }
});

test('never-readers and a rapid-reset client against the Zero\'s queue (2 + 16): every honest call succeeds', async () => {
  const h = await startHarness({ Unary: (req: Msg) => req, ServerStream: async (req: Msg, call: ServerWriter<Msg>, ctx: CallContext) => {
    if (req.text === 'honest') {
      for (let i = 0; i < 3; i++) await call.write({ text: `r${i}` } as Msg);
      return;
    }
    await endless(req, call, ctx);
  } }, { profile: 'pi-zero-2w' });
  const peers: H2Client[] = [];
  let stop = false;
  let resets = 0;
  // HEADERS + DATA + RST_STREAM(CANCEL) on new streams, 16 per turn of the event loop, reconnecting when closed.
  const rapidReset = async (): Promise<void> => {
    while (!stop) {
      const c = await H2Client.connect(h.port);
      peers.push(c);
      for (let id = 1; !stop && !c.closed && id < 0x7fff0000; ) {
        const parts: Buffer[] = [];
        for (let j = 0; j < 16; j++, id += 2) {
          parts.push(c.headersFrame(id, requestHeaders('Unary')), rawFrame(FrameType.DATA, Flag.END_STREAM, id, MSG), rawFrame(FrameType.RST_STREAM, 0, id, Buffer.from([0, 0, 0, ErrorCode.CANCEL])));
        }
        c.send(...parts);
        resets += 16;
        await new Promise((r) => setImmediate(r));
      }
      c.close();
    }
  };
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'warm' })).text, 'warm');
    const attack = rapidReset();
    for (let i = 0; i < 4; i++) peers.push(await neverReader(h.port, 8)); // 32 endless calls for 18 slots
    await until(() => h.server.stats.running === 2, 'never-readers running');
    let ok = 0;
    const failures: string[] = [];
    for (let i = 0; i < 30; i++) {
      if (i % 2 === 0) {
        await unary(h.client, 'Unary', { text: 'honest' }, new grpc.Metadata(), deadline()).then(
          (m) => (m.text === 'honest' ? ok++ : failures.push(`unary ${m.text}`)),
          (e: grpc.ServiceError) => failures.push(`unary ${e.code} ${e.details}`),
        );
      } else {
        const r = await collect(h.client.ServerStream({ text: 'honest' }, new grpc.Metadata(), deadline()));
        if (r.error === null && r.messages.length === 3) ok++;
        else failures.push(`stream ${r.error?.code} ${r.error?.details} after ${r.messages.length}`);
      }
    }
    stop = true;
    await attack;
    assert.deepEqual(failures, []);
    assert.equal(ok, 30);
    const s = h.server.stats;
    assert.ok(resets > 0);
    assert.ok(s.stalledShed > 0, `stalledShed ${s.stalledShed}`);
    assert.equal(s.sendStallResets, 0, 'shed, not timed out');
  } finally {
    stop = true;
    for (const c of peers) c.close();
    await h.close();
  }
});
