// The gRPC interop test cases (doc/interop-test-descriptions.md of the gRPC project), run by a
// grpc-js client we drive against our interop server, asserting what the descriptions assert.
// Per-message compression flags, which grpc-js cannot show, are checked in compression.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInteropServer } from '../../examples/interop/server.js';
import type { InteropServer } from '../../examples/interop/server.js';
import { clientPackage, unary, clientStream, StreamReader, waitFor, grpc } from './helpers.js';

const pkg = clientPackage('grpc/testing/test.proto');
const GZIP = 2; // grpc-js compression algorithm id for gzip

let srv: InteropServer;
let client: any;
let gzipClient: any;
let unimplementedClient: any;

before(async () => {
  srv = await startInteropServer({ host: '127.0.0.1', port: 0 });
  const target = `127.0.0.1:${srv.port}`;
  const insecure = grpc.credentials.createInsecure();
  client = new pkg.grpc.testing.TestService(target, insecure);
  gzipClient = new pkg.grpc.testing.TestService(target, insecure, { 'grpc.default_compression_algorithm': GZIP });
  unimplementedClient = new pkg.grpc.testing.UnimplementedService(target, insecure);
});

after(async () => {
  client?.close();
  gzipClient?.close();
  unimplementedClient?.close();
  srv?.server.forceShutdown();
  await srv?.server.terminated;
});

const zeros = (n: number): Buffer => Buffer.alloc(n);
const isZeros = (b: Buffer): boolean => b.every((x) => x === 0);

test('empty_unary', async () => {
  const r = await unary(client, 'EmptyCall', {});
  assert.equal(r.error, undefined);
  assert.deepEqual(r.response, {});
});

test('large_unary', async () => {
  const r = await unary(client, 'UnaryCall', { response_size: 314159, payload: { body: zeros(271828) } });
  assert.equal(r.error, undefined);
  assert.equal(r.response.payload.body.length, 314159);
  assert.ok(isZeros(r.response.payload.body));
  assert.equal(r.response.payload.type, 'COMPRESSABLE');
});

test('cacheable_unary (server side: distinct timestamps, cache-control header)', async () => {
  const a = await unary(client, 'CacheableUnaryCall', { payload: { body: Buffer.from('t') } });
  const b = await unary(client, 'CacheableUnaryCall', { payload: { body: Buffer.from('t') } });
  assert.equal(a.error, undefined);
  assert.notDeepEqual(a.response.payload.body, b.response.payload.body);
  assert.deepEqual(a.initial!.get('cache-control'), ['max-age=60, public']);
});

test('client_compressed_unary', async () => {
  const req = (expect: boolean) => ({
    expect_compressed: { value: expect },
    response_size: 314159,
    payload: { body: zeros(271828) },
  });
  // The feature probe: an uncompressed request that claims to be compressed.
  const probe = await unary(client, 'UnaryCall', req(true));
  assert.equal(probe.error?.code, grpc.status.INVALID_ARGUMENT);
  const compressed = await unary(gzipClient, 'UnaryCall', req(true));
  assert.equal(compressed.error, undefined, compressed.error?.message);
  assert.equal(compressed.response.payload.body.length, 314159);
  const plain = await unary(client, 'UnaryCall', req(false));
  assert.equal(plain.error, undefined);
  assert.equal(plain.response.payload.body.length, 314159);
});

test('server_compressed_unary (sizes; flags in compression.test.ts)', async () => {
  for (const value of [true, false]) {
    const r = await unary(client, 'UnaryCall', {
      response_compressed: { value },
      response_size: 314159,
      payload: { body: zeros(271828) },
    });
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(r.response.payload.body.length, 314159);
    assert.ok(isZeros(r.response.payload.body));
  }
});

test('client_streaming', async () => {
  const sizes = [27182, 8, 1828, 45904];
  const r = await clientStream(client, 'StreamingInputCall', sizes.map((n) => ({ payload: { body: zeros(n) } })));
  assert.equal(r.error, undefined);
  assert.equal(r.response.aggregated_payload_size, 74922);
});

test('client_compressed_streaming', async () => {
  const probe = await clientStream(client, 'StreamingInputCall', [
    { expect_compressed: { value: true }, payload: { body: zeros(27182) } },
  ]);
  assert.equal(probe.error?.code, grpc.status.INVALID_ARGUMENT);
  // grpc-js compresses every message of a gzip channel; the uncompressed second message of the
  // description is covered by compression.test.ts.
  const r = await clientStream(gzipClient, 'StreamingInputCall', [
    { expect_compressed: { value: true }, payload: { body: zeros(27182) } },
    { expect_compressed: { value: false }, payload: { body: zeros(45904) } },
  ]);
  assert.equal(r.error, undefined, r.error?.message);
  assert.equal(r.response.aggregated_payload_size, 73086);
});

test('server_streaming', async () => {
  const sizes = [31415, 9, 2653, 58979];
  const reader = new StreamReader(
    client.StreamingOutputCall({ response_parameters: sizes.map((size) => ({ size })) }),
  );
  const { messages, status } = await reader.rest();
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(
    messages.map((m) => m.payload.body.length),
    sizes,
  );
  assert.ok(messages.every((m) => isZeros(m.payload.body)));
});

test('server_compressed_streaming (sizes; flags in compression.test.ts)', async () => {
  const reader = new StreamReader(
    client.StreamingOutputCall({
      response_parameters: [
        { compressed: { value: true }, size: 31415 },
        { compressed: { value: false }, size: 92653 },
      ],
    }),
  );
  const { messages, status } = await reader.rest();
  assert.equal(status.code, grpc.status.OK, status.details);
  assert.deepEqual(
    messages.map((m) => m.payload.body.length),
    [31415, 92653],
  );
});

test('ping_pong', async () => {
  const call = client.FullDuplexCall();
  const reader = new StreamReader(call);
  const steps = [
    [31415, 27182],
    [9, 8],
    [2653, 1828],
    [58979, 45904],
  ] as const;
  for (const [size, body] of steps) {
    call.write({ response_parameters: [{ size }], payload: { body: zeros(body) } });
    const reply = await reader.next();
    assert.ok(reply !== null, 'stream ended early');
    assert.equal(reply.payload.body.length, size);
  }
  call.end();
  const { messages, status } = await reader.rest();
  assert.equal(messages.length, 0);
  assert.equal(status.code, grpc.status.OK);
});

test('half duplex: all requests read, then answered in order', async () => {
  const call = client.HalfDuplexCall();
  const reader = new StreamReader(call);
  call.write({ response_parameters: [{ size: 3 }, { size: 5 }] });
  call.write({ response_parameters: [{ size: 7 }] });
  call.end();
  const { messages, status } = await reader.rest();
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(
    messages.map((m) => m.payload.body.length),
    [3, 5, 7],
  );
});

test('empty_stream', async () => {
  const call = client.FullDuplexCall();
  const reader = new StreamReader(call);
  call.end();
  const { messages, status } = await reader.rest();
  assert.equal(status.code, grpc.status.OK);
  assert.equal(messages.length, 0);
});

function echoMetadata(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-grpc-test-echo-initial', 'test_initial_metadata_value');
  md.set('x-grpc-test-echo-trailing-bin', Buffer.from([0xab, 0xab, 0xab]));
  return md;
}

test('custom_metadata', async () => {
  const r = await unary(client, 'UnaryCall', { response_size: 314159, payload: { body: zeros(271828) } }, echoMetadata());
  assert.equal(r.error, undefined);
  assert.deepEqual(r.initial!.get('x-grpc-test-echo-initial'), ['test_initial_metadata_value']);
  assert.deepEqual(r.status.metadata.get('x-grpc-test-echo-trailing-bin'), [Buffer.from([0xab, 0xab, 0xab])]);

  const call = client.FullDuplexCall(echoMetadata());
  const reader = new StreamReader(call);
  call.write({ response_parameters: [{ size: 314159 }], payload: { body: zeros(271828) } });
  call.end();
  const { messages, status } = await reader.rest();
  assert.equal(status.code, grpc.status.OK);
  assert.equal(messages.length, 1);
  assert.deepEqual(reader.initial!.get('x-grpc-test-echo-initial'), ['test_initial_metadata_value']);
  assert.deepEqual(status.metadata.get('x-grpc-test-echo-trailing-bin'), [Buffer.from([0xab, 0xab, 0xab])]);
});

test('status_code_and_message', async () => {
  const response_status = { code: 2, message: 'test status message' };
  const r = await unary(client, 'UnaryCall', { response_status });
  assert.equal(r.status.code, 2);
  assert.equal(r.status.details, 'test status message');

  const call = client.FullDuplexCall();
  const reader = new StreamReader(call);
  call.write({ response_status });
  call.end();
  const { status } = await reader.rest();
  assert.equal(status.code, 2);
  assert.equal(status.details, 'test status message');
});

test('special_status_message', async () => {
  const message = '\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP \uD83D\uDE08\t\n';
  const r = await unary(client, 'UnaryCall', { response_status: { code: 2, message } });
  assert.equal(r.status.code, 2);
  assert.equal(r.status.details, message);
});

test('echo status and metadata together: trailers carry the echoed metadata on errors too', async () => {
  const r = await unary(client, 'UnaryCall', { response_status: { code: 9, message: 'nope' } }, echoMetadata());
  assert.equal(r.status.code, 9);
  assert.deepEqual(r.status.metadata.get('x-grpc-test-echo-trailing-bin'), [Buffer.from([0xab, 0xab, 0xab])]);
});

test('unsupported response_type is INVALID_ARGUMENT', async () => {
  const r = await unary(client, 'UnaryCall', { response_type: 7, response_size: 1 });
  assert.equal(r.status.code, grpc.status.INVALID_ARGUMENT);
});

test('unimplemented_method', async () => {
  const r = await unary(client, 'UnimplementedCall', {});
  assert.equal(r.status.code, grpc.status.UNIMPLEMENTED);
});

test('unimplemented_service', async () => {
  const r = await unary(unimplementedClient, 'UnimplementedCall', {});
  assert.equal(r.status.code, grpc.status.UNIMPLEMENTED);
});

test('cancel_after_begin', async () => {
  // A channel of its own: grpc-js may send the HEADERS of a call cancelled this early without ever
  // sending its RST_STREAM (seen with node:http2 servers too), so the server only learns of the
  // cancellation when the connection goes. Closing the channel must then release the slot.
  const own = new pkg.grpc.testing.TestService(`127.0.0.1:${srv.port}`, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  try {
    assert.equal((await unary(own, 'EmptyCall', {})).error, undefined); // connect first
    const r = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = own.StreamingInputCall((err: grpc.ServiceError | null) => resolve(err));
      call.cancel();
    });
    assert.equal((await r)?.code, grpc.status.CANCELLED);
  } finally {
    own.close();
  }
  await waitFor(() => srv.server.stats.running === 0, 'the cancelled call to release its slot');
});

test('cancel_after_first_response', async () => {
  const call = client.FullDuplexCall();
  const reader = new StreamReader(call);
  call.write({ response_parameters: [{ size: 31415 }], payload: { body: zeros(27182) } });
  const first = await reader.next();
  assert.equal(first?.payload.body.length, 31415);
  call.cancel();
  const status = await reader.status();
  assert.equal(status.code, grpc.status.CANCELLED);
  await waitFor(() => srv.server.stats.running === 0, 'the cancelled call to release its slot');
});

test('timeout_on_sleeping_server', async () => {
  const call = client.FullDuplexCall({ deadline: Date.now() + 1 });
  const reader = new StreamReader(call);
  call.on('error', () => {});
  call.write({ payload: { body: zeros(27182) } });
  const status = await reader.status();
  assert.equal(status.code, grpc.status.DEADLINE_EXCEEDED);
  await waitFor(() => srv.server.stats.running === 0, 'the timed-out call to release its slot');
});

test('server-side deadline: a call with a short deadline on a sleeping handler ends DEADLINE_EXCEEDED', async () => {
  // interval_us makes the handler sleep long before replying; the server's deadline must cut it.
  const call = client.StreamingOutputCall(
    { response_parameters: [{ size: 1, interval_us: 60_000_000 }] },
    { deadline: Date.now() + 200 },
  );
  const reader = new StreamReader(call);
  call.on('error', () => {});
  const { messages, status } = await reader.rest();
  assert.equal(messages.length, 0);
  assert.equal(status.code, grpc.status.DEADLINE_EXCEEDED);
  await waitFor(() => srv.server.stats.running === 0, 'the sleeping handler to be cut off');
});
