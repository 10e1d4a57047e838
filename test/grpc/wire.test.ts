// The gRPC layer seen frame by frame (test/grpc/raw-h2.ts): deadlines and the RST_STREAM after
// them, grpc-timeout units, request messages cut across DATA frames, metadata and grpc-message
// exactly as they go on the wire, Trailers-Only, when initial metadata leaves, GOAWAY on stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startHarness, deferred, gatedUnary, Status, GrpcError } from './helpers.js';
import type { Msg } from './helpers.js';
import { Metadata } from '../../src/index.js';
import type { CallContext, ServerWriter, ServerInterceptor } from '../../src/index.js';
import { RawH2Client, grpcMessage, textMsg, header, headerAll, DATA, HEADERS, RST_STREAM, GOAWAY, END_STREAM } from './raw-h2.js';

const UNARY = '/edge.test.TestService/Unary';
const CLIENT_STREAM = '/edge.test.TestService/ClientStream';
const BIDI = '/edge.test.TestService/Bidi';
const CANCEL = 0x8;

const untilAborted = (ctx: CallContext): Promise<Msg> =>
  new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({} as Msg), { once: true }));

test('deadline: DEADLINE_EXCEEDED as the status, then the stream reset when the client is still sending; RST_STREAM(CANCEL) when the status cannot go out', async () => {
  const h = await startHarness({
    Unary: (_req: Msg, ctx: CallContext) => untilAborted(ctx),
    Bidi: (_reqs: AsyncIterable<Msg>, _out: ServerWriter<Msg>, ctx: CallContext) => untilAborted(ctx).then(() => {}),
    // 100 kB: more than the client's 65535-octet stream window, so the status waits behind DATA.
    ServerStream: async (_req: Msg, out: ServerWriter<Msg>, ctx: CallContext) => {
      void out.write({ data: Buffer.alloc(100_000) } as Msg);
      await untilAborted(ctx);
    },
  });
  const c = await RawH2Client.connect(h.port);
  try {
    // Unary: request complete (half-closed remote) while the handler waits for its deadline.
    const a = c.request(UNARY, [['grpc-timeout', '200m']]);
    c.data(a, [grpcMessage(textMsg('a'))], true);
    // Bidi: the client never ends its side.
    const b = c.request(BIDI, [['grpc-timeout', '200m']]);
    c.data(b, [grpcMessage(textMsg('b'))]);
    // Server streaming whose client does not read (never sends WINDOW_UPDATE for the stream).
    const s = c.request('/edge.test.TestService/ServerStream', [['grpc-timeout', '200m']]);
    c.data(s, [grpcMessage(textMsg('s'))], true);
    for (const id of [a, b, s]) await c.ended(id);
    await c.ping(); // whatever the server sent after ending the streams is here now
    const status = (id: number) => c.stream(id).find((f) => f.type === HEADERS && header(f, 'grpc-status') !== undefined);
    // a: the status closes the stream (both sides ended); RFC 9113 5.1: "An endpoint MUST NOT send
    // frames other than PRIORITY on a closed stream", so no RST_STREAM may follow.
    const sa = status(a);
    assert.equal(header(sa, 'grpc-status'), String(Status.DEADLINE_EXCEEDED));
    assert.ok((sa!.flags & END_STREAM) !== 0);
    assert.equal(c.stream(a).at(-1), sa, 'nothing after the status on a closed stream');
    // b: the status, then RST_STREAM so the client stops sending. The HTTP/2 layer resets with
    // NO_ERROR after a complete response (RFC 9113 8.1); grpc-go/grpc-java use CANCEL at a deadline.
    const sb = status(b);
    assert.equal(header(sb, 'grpc-status'), String(Status.DEADLINE_EXCEEDED));
    assert.ok((sb!.flags & END_STREAM) !== 0);
    const rb = c.stream(b).find((f) => f.type === RST_STREAM);
    assert.ok(rb !== undefined && c.stream(b).indexOf(rb) > c.stream(b).indexOf(sb!), 'RST_STREAM after the status');
    assert.ok(rb.code === 0 || rb.code === CANCEL, String(rb.code));
    // s: the status is stuck behind flow control: the stream is reset with CANCEL (the client's own
    // deadline gives it DEADLINE_EXCEEDED, as with grpc-java's servers).
    const rs = c.stream(s).find((f) => f.type === RST_STREAM);
    assert.equal(rs?.code, CANCEL);
    assert.equal(status(s), undefined);
  } finally {
    c.close();
    await h.close();
  }
});

test('grpc-timeout in every unit (H M S m u n) reaches the handler as its deadline', async () => {
  const seen = new Map<string, number>();
  // An interceptor runs as the call is admitted, before the deadline can pass.
  const record: ServerInterceptor = async (ctx, next) => {
    seen.set(String(ctx.metadata.get('x-unit')[0]), ctx.deadline);
    await next();
  };
  const h = await startHarness({ Unary: (req: Msg) => ({ text: req.text }) as Msg }, { interceptors: [record] });
  const c = await RawH2Client.connect(h.port);
  try {
    const cases: [string, number][] = [['2H', 7_200_000], ['3M', 180_000], ['4S', 4000], ['5000m', 5000], ['6000000u', 6000], ['99999999n', 99.999999], ['1500u', 1.5]];
    for (const [value, ms] of cases) {
      const unit = value.slice(-1) + value;
      const before = Date.now();
      const id = c.request(UNARY, [['grpc-timeout', value], ['x-unit', unit]]);
      c.data(id, [grpcMessage(textMsg('t'))], true);
      await c.ended(id);
      const after = Date.now();
      const deadline = seen.get(unit);
      assert.ok(deadline !== undefined, value);
      assert.ok(deadline >= before + ms && deadline <= after + ms, `${value}: deadline ${deadline - before} ms after the request, expected ${ms}`);
    }
    // No grpc-timeout: no deadline.
    const id = c.request(UNARY, [['x-unit', 'none']]);
    c.data(id, [grpcMessage(textMsg('t'))], true);
    await c.ended(id);
    assert.equal(seen.get('none'), Infinity);
  } finally {
    c.close();
    await h.close();
  }
});

test('request messages cut into 1-byte DATA frames and several messages in one DATA frame', async () => {
  const h = await startHarness({
    ClientStream: async (reqs: AsyncIterable<Msg>) => {
      const texts: string[] = [];
      for await (const r of reqs) texts.push(r.text);
      return { text: texts.join(',') } as Msg;
    },
  });
  const c = await RawH2Client.connect(h.port);
  try {
    const id = c.request(CLIENT_STREAM);
    const one = grpcMessage(textMsg('split'));
    c.data(id, [...one].map((b) => Buffer.from([b])));
    // Three messages in one DATA frame, the last one cut in two frames with an empty one between.
    const three = Buffer.concat([grpcMessage(textMsg('x')), grpcMessage(Buffer.alloc(0)), grpcMessage(textMsg('yz'))]);
    c.data(id, [three.subarray(0, three.length - 2), Buffer.alloc(0), three.subarray(three.length - 2)], true);
    await c.ended(id);
    const frames = c.stream(id);
    const data = frames.find((f) => f.type === DATA)!;
    assert.ok(data.payload.subarray(5).equals(textMsg('split,x,,yz')));
    assert.equal(header(frames.at(-1), 'grpc-status'), '0');
  } finally {
    c.close();
    await h.close();
  }
});

test('metadata on the wire: -bin padded or not, repeated or comma-joined; reserved headers never user metadata', async () => {
  let got: Metadata | undefined;
  const h = await startHarness({
    Unary: (_req: Msg, ctx: CallContext) => {
      got = ctx.metadata;
      const md = new Metadata();
      md.add('x-out-bin', Buffer.from([0xff]));
      md.add('x-out-bin', Buffer.from([1, 2, 3, 4]));
      md.add('x-out', 'a');
      md.add('x-out', 'b');
      ctx.sendHeaders(md);
      ctx.trailers.set('x-tr-bin', Buffer.from('hi'));
      return { text: 'ok' } as Msg;
    },
  });
  const c = await RawH2Client.connect(h.port);
  try {
    const id = c.request(UNARY, [
      ['x-a-bin', 'AQIDBA=='], // padded
      ['x-a-bin', 'AQIDBA'], // unpadded, repeated header
      ['x-b-bin', 'AQ==,Ag'], // several values comma-joined
      ['x-c', 'one'],
      ['x-c', 'two'],
      ['grpc-timeout', '10S'],
      ['grpc-accept-encoding', 'identity'],
      ['grpc-custom', 'reserved for gRPC'],
      ['user-agent', 'raw-h2'],
    ]);
    c.data(id, [grpcMessage(textMsg('m'))], true);
    await c.ended(id);
    assert.ok(got !== undefined);
    assert.deepEqual([...got.keys()].sort(), ['user-agent', 'x-a-bin', 'x-b-bin', 'x-c']);
    assert.deepEqual(got.get('x-a-bin'), [Buffer.from([1, 2, 3, 4]), Buffer.from([1, 2, 3, 4])]);
    assert.deepEqual(got.get('x-b-bin'), [Buffer.from([1]), Buffer.from([2])]);
    assert.deepEqual(got.get('x-c'), ['one', 'two']);
    const [first, , last] = c.stream(id).filter((f) => f.type === HEADERS || f.type === DATA);
    // Sent un-padded, one header per value.
    assert.deepEqual(headerAll(first, 'x-out-bin'), ['/w', 'AQIDBA']);
    assert.deepEqual(headerAll(first, 'x-out'), ['a', 'b']);
    assert.deepEqual(headerAll(last, 'x-tr-bin'), ['aGk']);
    assert.equal(header(last, 'grpc-status'), '0');
  } finally {
    c.close();
    await h.close();
  }
});

test('errors on the wire: grpc-message percent-encoded as the spec says, Trailers-Only before any message, trailers after one, status details passed through', async () => {
  const raw = 'a\u0000b\u001fc\u007fd%e é✓ ~\r\n';
  const h = await startHarness({
    Unary: () => {
      const md = new Metadata();
      md.set('grpc-status-details-bin', Buffer.from([8, 3]));
      throw new GrpcError(Status.INVALID_ARGUMENT, raw, md);
    },
    Bidi: async (reqs: AsyncIterable<Msg>, out: ServerWriter<Msg>) => {
      for await (const r of reqs) {
        await out.write({ text: r.text } as Msg);
        throw new GrpcError(Status.ABORTED, 'after one');
      }
    },
  });
  const c = await RawH2Client.connect(h.port);
  try {
    const a = c.request(UNARY);
    c.data(a, [grpcMessage(textMsg('m'))], true);
    await c.ended(a);
    const fa = c.stream(a).filter((f) => f.type !== 0x8 /* WINDOW_UPDATE */);
    // Trailers-Only: one HEADERS with END_STREAM carrying :status, content-type and the status.
    assert.equal(fa.length, 1);
    assert.equal(fa[0]!.type, HEADERS);
    assert.ok((fa[0]!.flags & END_STREAM) !== 0);
    assert.equal(header(fa[0], ':status'), '200');
    assert.equal(header(fa[0], 'content-type'), 'application/grpc');
    assert.equal(header(fa[0], 'grpc-status'), String(Status.INVALID_ARGUMENT));
    // Percent-Byte-Unencoded -> 1*( %x20-%x24 / %x26-%x7E ): everything else as %XX of its UTF-8 octets.
    assert.equal(header(fa[0], 'grpc-message'), 'a%00b%1Fc%7Fd%25e %C3%A9%E2%9C%93 ~%0D%0A');
    assert.equal(header(fa[0], 'grpc-status-details-bin'), 'CAM');

    const b = c.request(BIDI);
    c.data(b, [grpcMessage(textMsg('one'))]);
    await c.ended(b);
    const fb = c.stream(b).filter((f) => f.type === HEADERS || f.type === DATA);
    assert.deepEqual(fb.map((f) => f.type), [HEADERS, DATA, HEADERS]);
    assert.equal(header(fb[0], 'grpc-status'), undefined);
    assert.equal(header(fb[2], 'grpc-status'), String(Status.ABORTED));
    assert.equal(header(fb[2], 'grpc-message'), 'after one');
    assert.ok((fb[2]!.flags & END_STREAM) !== 0);
  } finally {
    c.close();
    await h.close();
  }
});

test('initial metadata: sendHeaders() sends it at once; otherwise the headers go with the first message', async () => {
  const read = deferred();
  const h = await startHarness({
    Bidi: async (reqs: AsyncIterable<Msg>, out: ServerWriter<Msg>, ctx: CallContext) => {
      for await (const r of reqs) {
        if (r.text === 'explicit') {
          const md = new Metadata();
          md.set('x-early', 'yes');
          ctx.sendHeaders(md);
        } else if (r.text === 'quiet') {
          read.resolve();
        } else {
          await out.write({ text: r.text } as Msg);
        }
      }
    },
  });
  const c = await RawH2Client.connect(h.port);
  try {
    const a = c.request(BIDI);
    c.data(a, [grpcMessage(textMsg('explicit'))]);
    const hs = await c.until((f) => f.streamId === a && f.type === HEADERS, 'explicit headers');
    assert.equal(header(hs, 'x-early'), 'yes');
    assert.equal(c.stream(a).filter((f) => f.type === DATA).length, 0);
    c.data(a, [], true);
    await c.ended(a);

    const b = c.request(BIDI);
    c.data(b, [grpcMessage(textMsg('quiet'))]);
    await read.promise;
    await c.ping(); // whatever the server wrote while handling 'quiet' is here now
    assert.equal(c.stream(b).filter((f) => f.type === HEADERS).length, 0, 'no headers before the first message');
    c.data(b, [grpcMessage(textMsg('reply'))], true);
    await c.ended(b);
    const fb = c.stream(b).filter((f) => f.type === HEADERS || f.type === DATA);
    assert.deepEqual(fb.map((f) => f.type), [HEADERS, DATA, HEADERS]);
    assert.equal(header(fb[0], ':status'), '200');
  } finally {
    c.close();
    await h.close();
  }
});

test('stop(grace): GOAWAY(NO_ERROR), the call in flight completes, new connections are refused, terminated settles', async () => {
  const { gate, started, Unary } = gatedUnary();
  const h = await startHarness({ Unary });
  const c = await RawH2Client.connect(h.port);
  try {
    const id = c.request(UNARY);
    c.data(id, [grpcMessage(textMsg('a'))], true);
    await started.promise;
    let terminated = false;
    const stopped = h.server.stop(60_000).then(() => (terminated = true));
    // RFC 9113 6.8: a first GOAWAY with 2^31-1 may come first; the last one names the call in flight.
    const goaway = await c.until((f) => f.type === GOAWAY && (f.payload.readUInt32BE(0) & 0x7fffffff) === id, 'GOAWAY naming the call in flight');
    for (const g of c.frames.filter((f) => f.type === GOAWAY)) assert.equal(g.code, 0, 'GOAWAY(NO_ERROR)');
    assert.ok(goaway);
    await assert.rejects(
      new Promise<void>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: h.port }, () => {
          s.destroy();
          resolve();
        });
        s.once('error', reject);
      }),
      /ECONNREFUSED/,
    );
    assert.equal(terminated, false);
    gate.resolve();
    await c.ended(id);
    const last = c.stream(id).at(-1);
    assert.equal(header(last, 'grpc-status'), '0');
    await stopped;
    assert.equal(terminated, true);
  } finally {
    c.close();
    await h.close();
  }
});

test('request checks: the HTTP status or grpc-status the spec prescribes, at once, even while the client is still sending', async () => {
  const h = await startHarness({ Unary: (req: Msg) => ({ text: req.text }) as Msg });
  const c = await RawH2Client.connect(h.port);
  const base = (method: string, contentType?: string): [string, string][] => {
    const l: [string, string][] = [[':method', method], [':scheme', 'http'], [':path', UNARY], [':authority', 'localhost']];
    if (contentType !== undefined) l.push(['content-type', contentType]);
    return l;
  };
  try {
    const cases: [[string, string][], string][] = [
      [base('PUT', 'application/grpc'), '405'],
      [base('POST'), '415'], // no content-type
      [base('POST', 'application/json'), '415'],
      [base('POST', 'application/grpc-web'), '415'],
    ];
    for (const [headers, want] of cases) {
      const id = c.requestHeaders(headers);
      c.data(id, [grpcMessage(textMsg('x'))]); // and the client does not end its side
      const end = await c.ended(id);
      const first = c.stream(id).find((f) => f.type === HEADERS);
      assert.equal(header(first, ':status'), want, JSON.stringify(headers));
      assert.ok(end === first || end.type === RST_STREAM);
    }
    // content-type with +proto, parameters and upper case is gRPC.
    const ok = c.requestHeaders([...base('POST', 'Application/GRPC+proto; charset=utf-8'), ['te', 'trailers']]);
    c.data(ok, [grpcMessage(textMsg('fine'))], true);
    await c.ended(ok);
    assert.equal(header(c.stream(ok).at(-1), 'grpc-status'), '0');
    // The default receive limit is 4 MiB, checked from the 5-octet prefix before any payload.
    const big = c.request(UNARY);
    const prefix = Buffer.from([0, 0, 0x40, 0, 1]); // 4 MiB + 1
    c.data(big, [prefix]);
    await c.ended(big);
    const st = c.stream(big).find((f) => f.type === HEADERS && header(f, 'grpc-status') !== undefined);
    assert.equal(header(st, 'grpc-status'), String(Status.RESOURCE_EXHAUSTED));
    assert.equal(header(st, 'grpc-message'), 'received message larger than max (4194305 vs. 4194304)');
  } finally {
    c.close();
    await h.close();
  }
});

test("a client's RST_STREAM aborts the handler's signal with CANCELLED and frees its running slot (unary and bidi)", async () => {
  const reasons = new Map([['unary', deferred<unknown>()], ['bidi', deferred<unknown>()]]);
  const started = new Map([['unary', deferred<void>()], ['bidi', deferred<void>()]]);
  const wait = (kind: string, ctx: CallContext): Promise<void> => {
    started.get(kind)!.resolve(undefined);
    return new Promise((resolve) =>
      ctx.signal.addEventListener('abort', () => {
        reasons.get(kind)!.resolve(ctx.signal.reason);
        resolve();
      }),
    );
  };
  const h = await startHarness({
    Unary: async (_req: Msg, ctx: CallContext) => {
      await wait('unary', ctx);
      return {} as Msg;
    },
    Bidi: async (_reqs: AsyncIterable<Msg>, _out: ServerWriter<Msg>, ctx: CallContext) => wait('bidi', ctx),
  });
  const c = await RawH2Client.connect(h.port);
  try {
    const a = c.request(UNARY);
    c.data(a, [grpcMessage(textMsg('a'))], true);
    const b = c.request(BIDI);
    c.data(b, [grpcMessage(textMsg('b'))]);
    await started.get('unary')!.promise;
    await started.get('bidi')!.promise;
    assert.equal(h.server.stats.running, 2);
    c.rst(a, CANCEL);
    c.rst(b, CANCEL);
    for (const kind of ['unary', 'bidi']) {
      const why = await reasons.get(kind)!.promise;
      assert.ok(why instanceof GrpcError && why.code === Status.CANCELLED, `${kind}: ${String(why)}`);
    }
    await c.ping();
    // Nothing is sent on a stream the client reset (RFC 9113 5.1), the slots are free again.
    for (const id of [a, b]) assert.equal(c.stream(id).filter((f) => f.type === HEADERS || f.type === DATA).length, 0);
    assert.equal(h.server.stats.running, 0);
  } finally {
    c.close();
    await h.close();
  }
});
