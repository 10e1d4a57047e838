// Deadlines, cancellation from both ends, the job queue (RESOURCE_EXHAUSTED, waiting, leaving),
// graceful stop and forced shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, unary, callError, collect, deferred, gatedUnary, until, grpc, Status, GrpcError } from './helpers.js';
import type { Msg } from './helpers.js';
import type { CallContext, ServerWriter } from '../../src/index.js';

const aborted = (signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });

test('client deadline: DEADLINE_EXCEEDED and the handler signal aborted', async () => {
  const reason = deferred<unknown>();
  let deadlineSeen = 0;
  const h = await startHarness({
    Unary: async (req: Msg, ctx: CallContext) => {
      if (req.text === 'quick') return { text: 'quick' };
      deadlineSeen = ctx.deadline;
      reason.resolve(await aborted(ctx.signal));
      return { text: 'too late' };
    },
  });
  try {
    // Warm up the connection so the call surely reaches the handler before its deadline.
    assert.equal((await unary(h.client, 'Unary', { text: 'quick' })).text, 'quick');
    const before = Date.now();
    const err = await callError(unary(h.client, 'Unary', { text: 'x' }, new grpc.Metadata(), { deadline: Date.now() + 1500 }));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    const r = await reason.promise;
    assert.ok(r instanceof GrpcError);
    // Our timer (DEADLINE_EXCEEDED) or the client's RST_STREAM (CANCELLED), whichever came first.
    assert.ok(r.code === Status.DEADLINE_EXCEEDED || r.code === Status.CANCELLED, String(r.code));
    assert.ok(deadlineSeen >= before && Number.isFinite(deadlineSeen));
    assert.equal((await unary(h.client, 'Unary', { text: 'quick' })).text, 'quick');
    await until(() => h.server.stats.running === 0, 'the slot to be freed');
  } finally {
    await h.close();
  }
});

test('client cancel mid-stream aborts the handler signal with CANCELLED', async () => {
  const reason = deferred<unknown>();
  const h = await startHarness({
    ServerStream: async (_req: Msg, out: ServerWriter<Partial<Msg>>, ctx: CallContext) => {
      let i = 0;
      while (!ctx.signal.aborted) {
        await out.write({ text: 'tick', count: i++ });
        if (i > 2) await Promise.race([aborted(ctx.signal), new Promise((r) => setTimeout(r, 20))]);
      }
      reason.resolve(ctx.signal.reason);
    },
  });
  try {
    const call = h.client.ServerStream({ text: 'go' });
    const done = collect(call);
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.cancel();
    const r = await done;
    assert.equal(r.error?.code, grpc.status.CANCELLED);
    const why = await reason.promise;
    assert.ok(why instanceof GrpcError && why.code === Status.CANCELLED);
    await until(() => h.server.stats.running === 0, 'the slot to be freed');
  } finally {
    await h.close();
  }
});

test('a handler that ignores ctx.signal and keeps writing is stopped: write() rejects once the call is cancelled (client cancel, end of the grace period)', { timeout: 60_000 }, async () => {
  let ended = deferred<unknown>();
  let writes = 0;
  const h = await startHarness({
    ServerStream: async (_req: Msg, out: ServerWriter<Partial<Msg>>) => {
      try {
        for (;;) await out.write({ text: 'tick', count: writes++ });
      } catch (err) {
        ended.resolve(err);
        throw err;
      }
    },
  });
  try {
    const call = h.client.ServerStream({ text: 'go' });
    const done = collect(call);
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.cancel();
    const why = await ended.promise;
    assert.ok(why instanceof GrpcError && why.code === Status.CANCELLED, String(why));
    assert.equal((await done).error?.code, grpc.status.CANCELLED);
    await until(() => h.server.stats.running === 0, 'the slot to be freed');
    // The same handler still running when stop()'s grace period ends.
    ended = deferred<unknown>();
    const call2 = h.client.ServerStream({ text: 'go' });
    const done2 = collect(call2);
    await new Promise<void>((resolve) => call2.once('data', () => resolve()));
    await h.server.stop(50);
    const why2 = await ended.promise;
    assert.ok(why2 instanceof GrpcError && why2.code === Status.CANCELLED, String(why2));
    assert.notEqual((await done2).error, null);
    await until(() => h.server.stats.running === 0, 'the slot to be freed');
  } finally {
    await h.close();
  }
});

test('server-side cancel: a handler ending with CANCELLED mid-stream, and forceShutdown mid-call', async () => {
  const started = deferred();
  const reason = deferred<unknown>();
  const h = await startHarness({
    ServerStream: async (req: Msg, out: ServerWriter<Partial<Msg>>, ctx: CallContext) => {
      await out.write({ text: 'first' });
      if (req.text === 'cancel') throw new GrpcError(Status.CANCELLED, 'server gave up');
      started.resolve();
      reason.resolve(await aborted(ctx.signal));
    },
  });
  try {
    const r = await collect(h.client.ServerStream({ text: 'cancel' }));
    assert.equal(r.messages.length, 1);
    assert.equal(r.error?.code, grpc.status.CANCELLED);
    assert.equal(r.error?.details, 'server gave up');
    const pending = collect(h.client.ServerStream({ text: 'hang' }));
    await started.promise;
    h.server.forceShutdown();
    const why = await reason.promise;
    assert.ok(why instanceof GrpcError && why.code === Status.CANCELLED);
    const r2 = await pending;
    assert.equal(r2.messages.length, 1);
    assert.notEqual(r2.error, null);
    await h.server.terminated;
  } finally {
    await h.close();
  }
});

test('job queue: full -> RESOURCE_EXHAUSTED at once; waiting calls run in turn; a cancelled waiting call leaves', async () => {
  const gate = deferred();
  const running: string[] = [];
  const h = await startHarness(
    {
      Unary: async (req: Msg) => {
        running.push(req.text);
        await gate.promise;
        return { text: req.text };
      },
    },
    { maxRunning: 1, maxWaiting: 2 },
  );
  try {
    const a = unary(h.client, 'Unary', { text: 'a' });
    await until(() => running.length === 1, 'a to run');
    const b = unary(h.client, 'Unary', { text: 'b' });
    await until(() => h.server.stats.waiting === 1, 'b to wait');
    const w = h.client.Unary({ text: 'w' }, () => {});
    await until(() => h.server.stats.waiting === 2, 'w to wait');
    const c = await callError(unary(h.client, 'Unary', { text: 'c' }));
    assert.equal(c.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(h.server.stats.rejected, 1);
    w.cancel();
    await until(() => h.server.stats.waiting === 1, 'w to leave the queue');
    assert.equal(h.server.stats.cancelled, 1);
    gate.resolve();
    assert.equal((await a).text, 'a');
    assert.equal((await b).text, 'b');
    assert.deepEqual(running, ['a', 'b']);
    await until(() => h.server.stats.running === 0 && h.server.stats.waiting === 0, 'the queue to empty');
    // The counters the application reads: a and b completed, c rejected, w cancelled while waiting.
    const { completed, rejected, cancelled } = h.server.stats;
    assert.deepEqual({ completed, rejected, cancelled }, { completed: 2, rejected: 1, cancelled: 1 });
  } finally {
    await h.close();
  }
});

test('job queue: waiting time counts against the deadline, and the call leaves the queue', async () => {
  const gate = deferred();
  let ran = 0;
  const h = await startHarness(
    {
      Unary: async (req: Msg) => {
        ran++;
        if (req.text === 'block') await gate.promise;
        return { text: req.text };
      },
    },
    { maxRunning: 1, maxWaiting: 4 },
  );
  try {
    const blocker = unary(h.client, 'Unary', { text: 'block' });
    await until(() => ran === 1, 'the blocker to run');
    const late = callError(unary(h.client, 'Unary', { text: 'late' }, new grpc.Metadata(), { deadline: Date.now() + 1500 }));
    await until(() => h.server.stats.waiting === 1 || h.server.stats.cancelled === 1, 'the late call to reach the queue');
    const err = await late;
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    await until(() => h.server.stats.cancelled === 1, 'the late call to leave the queue');
    assert.equal(h.server.stats.waiting, 0);
    gate.resolve();
    assert.equal((await blocker).text, 'block');
    assert.equal(ran, 1, 'the expired call never ran');
  } finally {
    await h.close();
  }
});

test('stop(grace): running calls finish, new calls are refused, terminated resolves', async () => {
  const { gate, started, Unary } = gatedUnary();
  const h = await startHarness({ Unary });
  try {
    const inflight = unary(h.client, 'Unary', { text: 'a' });
    await started.promise;
    const stopped = h.server.stop(60_000);
    let terminated = false;
    void stopped.then(() => (terminated = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(terminated, false);
    gate.resolve();
    assert.equal((await inflight).text, 'done a');
    await stopped;
    assert.equal(terminated, true);
  } finally {
    await h.close();
  }
});

test('stop(grace): calls still running at the end of the grace period are cancelled', async () => {
  const started = deferred();
  const reason = deferred<unknown>();
  const h = await startHarness({
    Unary: async (_req: Msg, ctx: CallContext) => {
      started.resolve();
      reason.resolve(await aborted(ctx.signal));
      return { text: 'x' };
    },
  });
  try {
    const inflight = callError(unary(h.client, 'Unary', { text: 'a' }));
    await started.promise;
    await h.server.stop(50);
    const why = await reason.promise;
    assert.ok(why instanceof GrpcError && why.code === Status.CANCELLED);
    const err = await inflight;
    assert.notEqual(err.code, grpc.status.OK);
  } finally {
    await h.close();
  }
});

test('no unhandled rejections: un-awaited failing write, interceptor dropping next()', async () => {
  const h = await startHarness(
    {
      ServerStream: async (req: Msg, out: ServerWriter<Partial<Msg>>) => {
        void out.write({ data: Buffer.alloc(req.count) }); // too big, not awaited
      },
      Unary: async () => {
        throw new GrpcError(Status.PERMISSION_DENIED, 'no');
      },
    },
    {
      maxSendMessageLength: 100,
      interceptors: [
        async (ctx, next) => {
          if (ctx.methodName === 'Unary') {
            void next(); // dropped: the handler's rejection must not escape
            throw new GrpcError(Status.ABORTED, 'interceptor said no');
          }
          await next();
        },
      ],
    },
  );
  try {
    const r = await collect(h.client.ServerStream({ count: 1000 }));
    assert.equal(r.error?.code, grpc.status.RESOURCE_EXHAUSTED);
    const e = await callError(unary(h.client, 'Unary', {}));
    assert.equal(e.code, grpc.status.ABORTED);
    // Let the dropped handler's rejection surface, if it were unhandled the runner would fail this file.
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await collect(h.client.ServerStream({ count: 10 }))).error, null);
  } finally {
    await h.close();
  }
});
