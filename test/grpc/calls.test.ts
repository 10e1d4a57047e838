// Every kind of call, metadata both ways, statuses and interceptors, with the grpc-js client.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, unary, callError, collect, grpc, Status, GrpcError, TestClient } from './helpers.js';
import type { Harness, Msg } from './helpers.js';
import { Metadata } from '../../src/index.js';
import type { CallContext, ServerWriter, InterceptorContext, ServerInterceptor } from '../../src/index.js';

let h: Harness;
const ODD = 'héllo wörld ✓ 🚀 100% done\nsecond line\r\n\ttab %41 %';

before(async () => {
  h = await startHarness({
    Unary: async (req: Msg, ctx: CallContext) => {
      if (req.text === 'throw') throw new Error('handler blew up');
      if (req.text === 'throw-code') throw Object.assign(new Error('custom'), { code: Status.NOT_FOUND });
      if (req.text === 'odd') throw new GrpcError(Status.INVALID_ARGUMENT, ODD);
      if (req.text === 'reject') return Promise.reject(new GrpcError(Status.FAILED_PRECONDITION, 'rejected'));
      if (req.text === 'string') throw 'a string';
      if (req.text === 'metadata') {
        const md = new Metadata();
        md.set('x-echo', String(ctx.metadata.get('x-token')[0] ?? ''));
        md.set('x-echo-bin', ctx.metadata.get('x-data-bin')[0] as Buffer);
        ctx.sendHeaders(md);
        ctx.trailers.set('x-trailer', 'end');
        ctx.trailers.add('x-trailer-bin', Buffer.from([0, 1, 2, 255]));
        ctx.trailers.add('x-trailer-bin', Buffer.from('second'));
        return { text: `${ctx.metadata.get('user-agent').length > 0 ? 'ua' : 'no-ua'} ${ctx.peer.startsWith('ipv4:127.0.0.1:') ? 'peer' : ctx.peer}` };
      }
      if (req.text === 'err-md') {
        const md = new Metadata();
        md.set('x-why', 'because');
        md.set('grpc-status-details-bin', Buffer.from([8, 10, 18, 3, 0x61, 0x62, 0x63]));
        throw new GrpcError(Status.ABORTED, 'with metadata', md);
      }
      return { text: `echo ${req.text}`, count: req.count + 1, data: req.data };
    },
    ServerStream: async (req: Msg, out: ServerWriter<Partial<Msg>>) => {
      for (let i = 0; i < req.count; i++) await out.write({ text: `${req.text} ${i}`, count: i });
      if (req.text === 'fail-late') throw new GrpcError(Status.DATA_LOSS, 'after messages');
    },
    ClientStream: async (reqs: AsyncIterable<Msg>) => {
      let sum = 0;
      const texts: string[] = [];
      for await (const r of reqs) {
        sum += r.count;
        texts.push(r.text);
      }
      return { text: texts.join(','), count: sum };
    },
    Bidi: async function* (reqs: AsyncIterable<Msg>) {
      for await (const r of reqs) yield { text: r.text.toUpperCase(), count: r.count * 2 };
    },
  });
});
after(() => h.close());

test('unary', async () => {
  const res = await unary(h.client, 'Unary', { text: 'hi', count: 41, data: Buffer.from([1, 2, 3]) });
  assert.equal(res.text, 'echo hi');
  assert.equal(res.count, 42);
  assert.deepEqual(res.data, Buffer.from([1, 2, 3]));
  // An empty message (zero-length payload) works too.
  const empty = await unary(h.client, 'Unary', {});
  assert.equal(empty.text, 'echo ');
});

test('server streaming, including an error after messages', async () => {
  const r = await collect(h.client.ServerStream({ text: 'n', count: 5 }));
  assert.equal(r.error, null);
  assert.deepEqual(r.messages.map((m) => m.text), ['n 0', 'n 1', 'n 2', 'n 3', 'n 4']);
  const zero = await collect(h.client.ServerStream({ text: 'z', count: 0 }));
  assert.equal(zero.error, null);
  assert.equal(zero.messages.length, 0);
  const late = await collect(h.client.ServerStream({ text: 'fail-late', count: 3 }));
  assert.equal(late.messages.length, 3);
  assert.equal(late.error?.code, grpc.status.DATA_LOSS);
  assert.equal(late.error?.details, 'after messages');
});

test('client streaming', async () => {
  const res = await new Promise<Msg>((resolve, reject) => {
    const call = h.client.ClientStream((err: Error | null, r: Msg) => (err ? reject(err) : resolve(r)));
    for (let i = 1; i <= 10; i++) call.write({ text: `m${i}`, count: i });
    call.end();
  });
  assert.equal(res.count, 55);
  assert.equal(res.text.split(',').length, 10);
  const none = await new Promise<Msg>((resolve, reject) => {
    const call = h.client.ClientStream((err: Error | null, r: Msg) => (err ? reject(err) : resolve(r)));
    call.end();
  });
  assert.equal(none.count, 0);
});

test('bidi streaming, replies interleaved with requests', async () => {
  const call = h.client.Bidi();
  const got: Msg[] = [];
  // Write the next request only after the previous reply arrived: proves true interleaving.
  await new Promise<void>((resolve, reject) => {
    call.on('data', (m: Msg) => {
      got.push(m);
      if (got.length < 5) call.write({ text: `b${got.length}`, count: got.length });
      else call.end();
    });
    call.on('error', reject);
    call.on('status', (s: grpc.StatusObject) => (s.code === 0 ? resolve() : reject(new Error(s.details))));
    call.write({ text: 'b0', count: 0 });
  });
  assert.deepEqual(got.map((m) => m.text), ['B0', 'B1', 'B2', 'B3', 'B4']);
  assert.deepEqual(got.map((m) => m.count), [0, 2, 4, 6, 8]);
});

test('metadata both ways, -bin included, initial and trailing', async () => {
  const md = new grpc.Metadata();
  md.set('x-token', 'abc123');
  md.set('x-data-bin', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0]));
  let initial: grpc.Metadata | undefined;
  let trailing: grpc.Metadata | undefined;
  const res = await new Promise<Msg>((resolve, reject) => {
    const call = h.client.Unary({ text: 'metadata' }, md, (err: Error | null, r: Msg) => (err ? reject(err) : resolve(r)));
    call.on('metadata', (m: grpc.Metadata) => (initial = m));
    call.on('status', (s: grpc.StatusObject) => (trailing = s.metadata));
  });
  assert.equal(res.text, 'ua peer');
  assert.deepEqual(initial?.get('x-echo'), ['abc123']);
  assert.deepEqual(initial?.get('x-echo-bin'), [Buffer.from([0xde, 0xad, 0xbe, 0xef, 0])]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(trailing?.get('x-trailer'), ['end']);
  assert.deepEqual(trailing?.get('x-trailer-bin'), [Buffer.from([0, 1, 2, 255]), Buffer.from('second')]);
});

test('errors: status codes, odd characters in messages round-trip exactly, metadata on errors', async () => {
  const odd = await callError(unary(h.client, 'Unary', { text: 'odd' }));
  assert.equal(odd.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(odd.details, ODD);
  const rej = await callError(unary(h.client, 'Unary', { text: 'reject' }));
  assert.equal(rej.code, grpc.status.FAILED_PRECONDITION);
  const withMd = await callError(unary(h.client, 'Unary', { text: 'err-md' }));
  assert.equal(withMd.code, grpc.status.ABORTED);
  assert.deepEqual(withMd.metadata.get('x-why'), ['because']);
  // Rich error details (a serialized google.rpc.Status) pass through as grpc-status-details-bin.
  assert.deepEqual(withMd.metadata.get('grpc-status-details-bin'), [Buffer.from([8, 10, 18, 3, 0x61, 0x62, 0x63])]);
});

test('a throwing handler becomes a status and the server lives on', async () => {
  const e1 = await callError(unary(h.client, 'Unary', { text: 'throw' }));
  assert.equal(e1.code, grpc.status.UNKNOWN);
  assert.equal(e1.details, 'handler blew up');
  const e2 = await callError(unary(h.client, 'Unary', { text: 'throw-code' }));
  assert.equal(e2.code, grpc.status.NOT_FOUND);
  const e3 = await callError(unary(h.client, 'Unary', { text: 'string' }));
  assert.equal(e3.code, grpc.status.UNKNOWN);
  assert.equal((await unary(h.client, 'Unary', { text: 'still here' })).text, 'echo still here');
});

test('unknown method and unknown service -> UNIMPLEMENTED', async () => {
  // Unary methods with raw-bytes (de)serializers at paths the server does not serve.
  const rawUnary = (path: string) => {
    const id = (x: Buffer) => x;
    return { path, requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id };
  };
  const generic = grpc.makeGenericClientConstructor(
    { Nope: rawUnary('/edge.test.TestService/Nope'), Other: rawUnary('/no.Such/Service') },
    'Generic',
  );
  const c = new generic(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure()) as any;
  try {
    const details: Record<string, string> = {
      Nope: 'unknown method Nope for service edge.test.TestService',
      Other: 'unknown service no.Such',
    };
    for (const m of ['Nope', 'Other']) {
      const err = await callError(
        new Promise((resolve, reject) => c[m](Buffer.from([8, 1]), (e: Error | null, r: Buffer) => (e ? reject(e) : resolve(r)))),
      );
      assert.equal(err.code, grpc.status.UNIMPLEMENTED, m);
      assert.equal(err.details, details[m]);
    }
  } finally {
    c.close();
  }
});

test('interceptors: auth rejects without a token, logging sees every call and its status', async () => {
  const log: string[] = [];
  const logging: ServerInterceptor = async (ctx, next) => {
    try {
      await next();
      log.push(`${ctx.methodName} ${ctx.kind} OK`);
    } catch (err) {
      log.push(`${ctx.methodName} ${ctx.kind} ${Status[GrpcError.from(err).code]}`);
      throw err;
    }
  };
  const auth: ServerInterceptor = async (ctx: InterceptorContext, next) => {
    if (ctx.metadata.get('authorization')[0] !== 'Bearer good') {
      throw new GrpcError(Status.UNAUTHENTICATED, 'missing or bad token');
    }
    ctx.trailers.set('x-authed', ctx.service);
    await next();
  };
  const s = await startHarness(
    {
      Unary: (req: Msg) => ({ text: `ok ${req.text}` }),
      ServerStream: async (_req: Msg, out: ServerWriter<Partial<Msg>>) => {
        await out.write({ text: 'one' });
      },
    },
    { interceptors: [logging, auth] },
  );
  try {
    const denied = await callError(unary(s.client, 'Unary', { text: 'x' }));
    assert.equal(denied.code, grpc.status.UNAUTHENTICATED);
    assert.equal(denied.details, 'missing or bad token');
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer good');
    let trailers: grpc.Metadata | undefined;
    const res = await new Promise<Msg>((resolve, reject) => {
      const call = s.client.Unary({ text: 'y' }, md, (e: Error | null, r: Msg) => (e ? reject(e) : resolve(r)));
      call.on('status', (st: grpc.StatusObject) => (trailers = st.metadata));
    });
    assert.equal(res.text, 'ok y');
    const stream = await collect(s.client.ServerStream({ text: 's' }, md));
    assert.equal(stream.messages.length, 1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(trailers?.get('x-authed'), ['edge.test.TestService']);
    assert.deepEqual(log, ['Unary unary UNAUTHENTICATED', 'Unary unary OK', 'ServerStream server_streaming OK']);
  } finally {
    await s.close();
  }
});

test('addService fails at once on a missing method or a duplicate service', async () => {
  const { Server } = await import('../../src/index.js');
  const { testService } = await import('./helpers.js');
  const server = new Server();
  assert.throws(() => server.addService(testService(), { Unary: () => ({}) }), /no handler for methods ServerStream, ClientStream, Bidi/);
  const ok = () => ({});
  server.addService(testService(), { unary: ok, serverStream: ok, clientStream: ok, bidi: ok });
  assert.throws(() => server.addService(testService(), { Unary: ok, ServerStream: ok, ClientStream: ok, Bidi: ok }), /already registered/);
  server.forceShutdown();
  await server.terminated;
  assert.ok(TestClient());
});
