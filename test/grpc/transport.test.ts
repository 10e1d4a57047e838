// Transport-level behaviour: compression both ways, message size limits, many concurrent calls,
// raw HTTP/2 requests (HTTP status codes, Trailers-Only, deadline reset), unix sockets, TLS, mTLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { startHarness, unary, callError, fixture, grpc } from './helpers.js';
import type { Msg } from './helpers.js';
import { grpcMessage, textMsg } from './raw-h2.js';
import { Server, ServerCredentials } from '../../src/index.js';
import type { CallContext, MessageCodec } from '../../src/index.js';

const echo = {
  Unary: (req: Msg, ctx: CallContext) => {
    if (req.text === 'compress-me') ctx.setCompression('deflate');
    return { text: req.text, count: req.data.length, data: req.data };
  },
};

test('compression: gzip and deflate requests, compressed responses', async () => {
  for (const [alg, name] of [[2, 'gzip'], [1, 'deflate']] as const) {
    const h = await startHarness(echo, {}, { clientOptions: { 'grpc.default_compression_algorithm': alg } });
    try {
      const data = Buffer.alloc(100_000, 'x');
      const res = await unary(h.client, 'Unary', { text: name, data });
      assert.equal(res.count, data.length);
      assert.deepEqual(res.data, data);
    } finally {
      await h.close();
    }
  }
  const h = await startHarness(echo, { compression: 'gzip' });
  try {
    const res = await unary(h.client, 'Unary', { text: 'server gzip', data: Buffer.alloc(50_000, 'y') });
    assert.equal(res.count, 50_000);
  } finally {
    await h.close();
  }
});

/** One raw HTTP/2 request; resolves with what came back. */
function raw(port: number, headers: http2.OutgoingHttpHeaders, body?: Buffer, endStream = true) {
  return new Promise<{ headers: http2.IncomingHttpHeaders; data: Buffer; trailers: http2.IncomingHttpHeaders | null; rstCode: number }>((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request(
      { ':method': 'POST', ':path': '/edge.test.TestService/Unary', 'content-type': 'application/grpc', te: 'trailers', ...headers },
      { endStream: body === undefined && endStream },
    );
    let resHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | null = null;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (resHeaders = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('close', () => {
      const rstCode = req.rstCode ?? 0;
      session.close();
      resolve({ headers: resHeaders, data: Buffer.concat(chunks), trailers, rstCode });
    });
    if (body !== undefined) {
      if (endStream) req.end(body);
      else req.write(body);
    }
  });
}

test('raw HTTP/2: 405 for GET, 415 for other content types, Trailers-Only errors, server compression on the wire', async () => {
  const h = await startHarness(echo, { compression: 'gzip' });
  try {
    assert.equal((await raw(h.port, { ':method': 'GET' })).headers[':status'], 405);
    assert.equal((await raw(h.port, { 'content-type': 'text/plain' }, grpcMessage(textMsg('a')))).headers[':status'], 415);
    assert.equal((await raw(h.port, { 'content-type': 'application/grpc+json' }, grpcMessage(textMsg('a')))).headers[':status'], 415);
    // Parameters and +proto are fine; te missing is tolerated.
    const ok = await raw(h.port, { 'content-type': 'application/grpc+proto; charset=utf-8', te: undefined as never }, grpcMessage(textMsg('hi')));
    assert.equal(ok.headers[':status'], 200);
    assert.equal(ok.headers['content-type'], 'application/grpc');
    assert.equal(ok.trailers?.['grpc-status'], '0');
    // Unsupported request encoding: UNIMPLEMENTED, Trailers-Only, with grpc-accept-encoding.
    const unsup = await raw(h.port, { 'grpc-encoding': 'snappy' }, grpcMessage(textMsg('a'), true));
    assert.equal(unsup.headers[':status'], 200);
    assert.equal(unsup.headers['grpc-status'], '12');
    assert.match(String(unsup.headers['grpc-accept-encoding']), /gzip/);
    assert.equal(unsup.trailers, null);
    // Compressed flag without grpc-encoding: INTERNAL.
    const noenc = await raw(h.port, {}, grpcMessage(gzipSync(textMsg('a')), true));
    assert.equal(noenc.headers['grpc-status'] ?? noenc.trailers?.['grpc-status'], '13');
    // Malformed grpc-timeout: INTERNAL; unknown path: UNIMPLEMENTED.
    assert.equal((await raw(h.port, { 'grpc-timeout': '123456789S' }, grpcMessage(textMsg('a')))).headers['grpc-status'], '13');
    assert.equal((await raw(h.port, { ':path': '/x.Y/Z' }, grpcMessage(textMsg('a')))).headers['grpc-status'], '12');
    // The server compresses its reply when the client accepts gzip.
    const gz = await raw(h.port, { 'grpc-accept-encoding': 'identity,gzip' }, grpcMessage(textMsg('zip')));
    assert.equal(gz.headers['grpc-encoding'], 'gzip');
    assert.equal(gz.data[0], 1);
    assert.deepEqual(gunzipSync(gz.data.subarray(5)).subarray(0, 5), textMsg('zip'));
    // ... and not when it does not; a per-call setCompression picks another coding.
    const plain = await raw(h.port, { 'grpc-accept-encoding': 'identity' }, grpcMessage(textMsg('zip')));
    assert.equal(plain.headers['grpc-encoding'], undefined);
    assert.equal(plain.data[0], 0);
    const df = await raw(h.port, { 'grpc-accept-encoding': 'deflate,gzip' }, grpcMessage(textMsg('compress-me')));
    assert.equal(df.headers['grpc-encoding'], 'deflate');
  } finally {
    await h.close();
  }
});

test('raw HTTP/2: the server deadline sends DEADLINE_EXCEEDED and resets the stream', async () => {
  const h = await startHarness({ Unary: (_req: Msg, ctx: CallContext) => new Promise((r) => ctx.signal.addEventListener('abort', () => r({})) ) });
  try {
    const res = await raw(h.port, { 'grpc-timeout': '100m' }, grpcMessage(textMsg('a')), false);
    assert.equal(res.headers['grpc-status'], '4');
    // The client never ended its side, yet the stream closed: the server reset it after the status
    // (NO_ERROR, RFC 9113 8.1, once the status is out; CANCEL when it could not be sent first).
    assert.ok(res.rstCode === http2.constants.NGHTTP2_NO_ERROR || res.rstCode === http2.constants.NGHTTP2_CANCEL, String(res.rstCode));
  } finally {
    await h.close();
  }
});

test('4 MiB messages both ways; over the limit is RESOURCE_EXHAUSTED, also after decompression', async () => {
  const limit = 4 * 1024 * 1024;
  const h = await startHarness(echo, {}, { clientOptions: { 'grpc.max_receive_message_length': -1 } });
  try {
    const big = Buffer.alloc(limit - 64, 7);
    const res = await unary(h.client, 'Unary', { text: 'big', data: big });
    assert.equal(res.count, big.length);
    assert.deepEqual(res.data, big);
    const err = await callError(unary(h.client, 'Unary', { text: 'too big', data: Buffer.alloc(limit + 1) }));
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
    // The server is still fine afterwards.
    assert.equal((await unary(h.client, 'Unary', { text: 'ok' })).text, 'ok');
  } finally {
    await h.close();
  }
  const z = await startHarness(echo, { maxReceiveMessageLength: 1024 * 1024 }, { clientOptions: { 'grpc.default_compression_algorithm': 2 } });
  try {
    // Compresses to a few KiB, inflates past the 1 MiB limit.
    const err = await callError(unary(z.client, 'Unary', { text: 'bomb', data: Buffer.alloc(2 * 1024 * 1024) }));
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
  } finally {
    await z.close();
  }
});

test('a reply over maxSendMessageLength is RESOURCE_EXHAUSTED', async () => {
  const h = await startHarness(echo, { maxSendMessageLength: 1000 });
  try {
    const err = await callError(unary(h.client, 'Unary', { text: 'x', data: Buffer.alloc(2000) }));
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
  } finally {
    await h.close();
  }
});

test('a hand-made codec without encodeFramed: replies framed, compressed or not, and size-checked', async () => {
  const json: MessageCodec<unknown> = {
    encode: (m) => new TextEncoder().encode(JSON.stringify(m)),
    decode: (b) => JSON.parse(Buffer.from(b).toString()),
  };
  const path = '/edge.test.TestService/Unary';
  const server = new Server({ compression: 'gzip', maxSendMessageLength: 100 });
  server.addService(
    { name: 'edge.test.TestService', methods: { Unary: { name: 'Unary', path, kind: 'unary', request: json, response: json } } },
    { Unary: (req: { n: number }) => ({ got: req, pad: 'x'.repeat(req.n) }) },
  );
  const port = await server.bind('127.0.0.1:0', ServerCredentials.createInsecure());
  server.start();
  try {
    const body = (n: number) => grpcMessage(Buffer.from(JSON.stringify({ n })));
    const plain = await raw(port, {}, body(3));
    const want = Buffer.from('{"got":{"n":3},"pad":"xxx"}');
    assert.equal(plain.trailers?.['grpc-status'], '0');
    assert.deepEqual(plain.data, grpcMessage(want));
    const gz = await raw(port, { 'grpc-accept-encoding': 'gzip' }, body(3));
    assert.equal(gz.headers['grpc-encoding'], 'gzip');
    assert.equal(gz.data[0], 1);
    assert.equal(gz.data.readUInt32BE(1), gz.data.length - 5);
    assert.deepEqual(gunzipSync(gz.data.subarray(5)), want);
    const big = await raw(port, {}, body(100));
    assert.equal(big.headers['grpc-status'] ?? big.trailers?.['grpc-status'], String(grpc.status.RESOURCE_EXHAUSTED));
  } finally {
    await server.stop(0);
  }
});

test('1000 concurrent calls', async () => {
  const h = await startHarness(
    { Unary: async (req: Msg) => { await new Promise((r) => setImmediate(r)); return { text: req.text, count: req.count * 2 }; } },
    { maxRunning: 64, maxWaiting: 1000 },
  );
  try {
    const calls = [];
    for (let i = 0; i < 1000; i++) calls.push(unary(h.client, 'Unary', { text: `c${i}`, count: i }));
    const res = await Promise.all(calls);
    for (let i = 0; i < 1000; i++) {
      assert.equal(res[i]!.text, `c${i}`);
      assert.equal(res[i]!.count, i * 2);
    }
    assert.equal(h.server.stats.rejected, 0);
  } finally {
    await h.close();
  }
});

test('unix socket bind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-edge-'));
  const path = join(dir, 's.sock');
  const peers: string[] = [];
  const h = await startHarness(
    { Unary: (req: Msg, ctx: CallContext) => { peers.push(ctx.peer); return { text: req.text }; } },
    {},
    { address: `unix:${path}`, target: `unix:${path}` },
  );
  try {
    assert.equal(h.port, 0);
    assert.equal((await unary(h.client, 'Unary', { text: 'over unix' })).text, 'over unix');
    assert.deepEqual(peers, [`unix:${path}`]);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bind: clear errors for a port in use and bad addresses', async () => {
  const a = new Server();
  const b = new Server();
  try {
    const port = await a.bind('127.0.0.1:0');
    await assert.rejects(b.bind(`127.0.0.1:${port}`), /already in use/);
    await assert.rejects(b.bind('nonsense'), /host:port/);
    await assert.rejects(b.bind('127.0.0.1:99999'), /port must be/);
    await assert.rejects(b.bind('::1:50051'), /brackets/);
  } finally {
    a.forceShutdown();
    b.forceShutdown();
    await Promise.all([a.terminated, b.terminated]);
  }
});

const ca = readFileSync(fixture('ca.pem'));
const serverKey = { private_key: readFileSync(fixture('server.key')), cert_chain: readFileSync(fixture('server.pem')) };

test('createSsl: a bad PEM, a key that does not match its certificate, bad root certificates fail at once with a clear message', () => {
  const junk = Buffer.from('not a pem');
  assert.throws(() => ServerCredentials.createSsl(null, [{ private_key: junk, cert_chain: serverKey.cert_chain }]), /createSsl: key\/certificate pair 0 cannot be used/);
  assert.throws(
    () => ServerCredentials.createSsl(null, [{ private_key: readFileSync(fixture('client.key')), cert_chain: serverKey.cert_chain }]),
    /createSsl: key\/certificate pair 0 cannot be used: .*key values mismatch/,
  );
  assert.throws(() => ServerCredentials.createSsl(junk, [serverKey], true), /createSsl: rootCerts cannot be used/);
  assert.throws(() => ServerCredentials.createSsl(null, [serverKey], true), /needs rootCerts/);
  assert.ok(ServerCredentials.createSsl(ca, [serverKey], true).secure);
});

test('TLS with ALPN h2', async () => {
  const h = await startHarness(
    { Unary: (req: Msg, ctx: CallContext) => ({ text: `${req.text} ${ctx.peerCertificate === undefined ? 'anon' : 'cert'}` }) },
    {},
    {
      credentials: ServerCredentials.createSsl(null, [serverKey]),
      clientCredentials: grpc.credentials.createSsl(ca),
      target: 'localhost:0',
    },
  ).catch((e) => {
    throw e;
  });
  // The harness dialled port 0; make a real client now that the port is known.
  h.client.close();
  const Ctor = (await import('./helpers.js')).TestClient();
  const client = new Ctor(`localhost:${h.port}`, grpc.credentials.createSsl(ca)) as any;
  try {
    assert.equal((await unary(client, 'Unary', { text: 'secure' })).text, 'secure anon');
  } finally {
    client.close();
    await h.close();
  }
});

test('mTLS: a client certificate is required and seen by the handler', async () => {
  const h = await startHarness(
    {
      Unary: (req: Msg, ctx: CallContext) => {
        const cert = ctx.peerCertificate as { subject?: { CN?: string } } | undefined;
        return { text: `${req.text} ${cert?.subject?.CN ?? 'none'}` };
      },
    },
    {},
    { credentials: ServerCredentials.createSsl(ca, [serverKey], true), target: 'localhost:0', clientCredentials: grpc.credentials.createSsl(ca) },
  );
  h.client.close();
  const Ctor = (await import('./helpers.js')).TestClient();
  const withCert = new Ctor(
    `localhost:${h.port}`,
    grpc.credentials.createSsl(ca, readFileSync(fixture('client.key')), readFileSync(fixture('client.pem'))),
  ) as any;
  const without = new Ctor(`localhost:${h.port}`, grpc.credentials.createSsl(ca)) as any;
  try {
    assert.equal((await unary(withCert, 'Unary', { text: 'mutual' })).text, 'mutual test-client');
    const err = await callError(unary(without, 'Unary', { text: 'anon' }));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  } finally {
    withCert.close();
    without.close();
    await h.close();
  }
});

test('backpressure: write() waits while the client does not read, then everything arrives', async () => {
  const total = 200;
  let written = 0;
  let waiting = false;
  const chunk = Buffer.alloc(64 * 1024, 3);
  const h = await startHarness(
    {
      ServerStream: async (_req: Msg, out: { write(m: Partial<Msg>): Promise<void> }) => {
        for (let i = 0; i < total; i++) {
          const p = out.write({ count: i, data: chunk });
          waiting = true;
          await p;
          waiting = false;
          written++;
        }
      },
    },
    {},
    { clientOptions: { 'grpc.max_receive_message_length': -1 } },
  );
  try {
    const call = h.client.ServerStream({ text: 'flood' });
    const got: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: Msg) => {
        got.push(m.count);
        if (got.length === 1) call.pause();
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    // The handler ends up blocked in write() long before it has written everything (and parks:
    // off its running slot while it waits for the client).
    const { until } = await import('./helpers.js');
    await until(() => waiting && written < total && h.server.stats.parked === 1 && h.server.stats.running === 0, 'write() to block');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(written < total, `handler wrote ${written} of ${total} messages without a reader`);
    call.resume();
    await done;
    assert.equal(got.length, total);
    assert.deepEqual(got.slice(0, 3), [0, 1, 2]);
    assert.deepEqual([h.server.stats.parked, h.server.stats.running], [0, 0]);
  } finally {
    await h.close();
  }
});

test('request backpressure: a streaming handler that does not read holds the client to the stream window', async () => {
  const { testService, deferred, until } = await import('./helpers.js');
  const gate = deferred();
  const h = await startHarness(
    {
      Bidi: async (reqs: AsyncIterable<Msg>, out: { write(m: Partial<Msg>): Promise<void> }) => {
        await gate.promise;
        let n = 0;
        let bytes = 0;
        for await (const r of reqs) {
          n++;
          bytes += r.data.length;
        }
        await out.write({ count: n, text: String(bytes) });
      },
    },
    { http2: { initialWindowSize: 65535 } },
  );
  const codec = testService().methods['Bidi']!.request;
  const count = 40;
  const payload = grpcMessage(Buffer.from(codec.encode({ data: Buffer.alloc(32 * 1024, 1) })));
  const session = http2.connect(`http://127.0.0.1:${h.port}`);
  try {
    const req = session.request({
      ':method': 'POST',
      ':path': '/edge.test.TestService/Bidi',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((resolve) => req.on('close', () => resolve()));
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('trailers', (t) => (trailers = t));
    for (let i = 0; i < count; i++) req.write(payload);
    req.end();
    // 40 x 32 KiB cannot fit a 64 KiB stream window: node:http2 keeps what it may not send yet in
    // the request's writable buffer. Once the handler runs (it is admitted at once) nothing lets
    // the window open again until it reads, so the buffer stays non-empty.
    await until(() => h.server.stats.running === 1, 'the handler to start');
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(req.writableLength > 0, 'the client sent everything to a handler that does not read');
    gate.resolve();
    await closed;
    assert.equal(trailers?.['grpc-status'], '0');
    const body = Buffer.concat(chunks);
    const reply = testService().methods['Bidi']!.response.decode(body.subarray(5)) as Msg;
    assert.equal(reply.count, count);
    assert.equal(reply.text, String(count * 32 * 1024));
  } finally {
    session.close();
    await h.close();
  }
});

test('requireTeTrailers: a request without "te: trailers" is refused with INTERNAL', async () => {
  const h = await startHarness(echo, { requireTeTrailers: true });
  try {
    const noTe = await raw(h.port, { te: undefined as never }, grpcMessage(textMsg('a')));
    assert.equal(noTe.headers['grpc-status'], '13');
    assert.match(String(noTe.headers['grpc-message']), /te: trailers/);
    const withTe = await raw(h.port, {}, grpcMessage(textMsg('a')));
    assert.equal(withTe.trailers?.['grpc-status'], '0');
  } finally {
    await h.close();
  }
});
