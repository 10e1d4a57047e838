import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { loadServices, lookupType } from '../../src/proto/load.js';
import { descriptor as helloDescriptor } from '../../examples/greeter/generated/helloworld.js';
import { descriptor as testDescriptor } from '../../examples/interop/generated/test.js';
import { descriptor as healthDescriptor } from '../../src/services/generated/health.js';
import { clientDefinition } from '../interop/helpers.js';

test('helloworld: service keyed by full name, paths, kinds, round trip', () => {
  const services = loadServices(helloDescriptor);
  assert.deepEqual(Object.keys(services), ['helloworld.Greeter']);
  const greeter = services['helloworld.Greeter']!;
  assert.equal(greeter.name, 'helloworld.Greeter');
  assert.deepEqual(Object.keys(greeter.methods), ['SayHello', 'SayHelloAgain']);
  const m = greeter.methods['SayHello']!;
  assert.equal(m.name, 'SayHello');
  assert.equal(m.path, '/helloworld.Greeter/SayHello');
  assert.equal(m.kind, 'unary');
  // A HelloRequest is field 1, wire type 2 (length-delimited): 0x0a, length, UTF-8 bytes.
  const bytes = m.request.encode({ name: 'world' });
  assert.deepEqual(Buffer.from(bytes), Buffer.from([0x0a, 5, ...Buffer.from('world')]));
  assert.deepEqual(m.request.decode(bytes), { name: 'world' });
  assert.deepEqual(m.response.decode(m.response.encode({ message: 'hello world' })), { message: 'hello world' });
  // defaults: an empty message decodes with every field present.
  assert.deepEqual(m.request.decode(new Uint8Array(0)), { name: '' });
});

test('encodeFramed: the encoding behind 5 free octets; the shared writer and reader start clean after a failure', () => {
  const m = loadServices(testDescriptor)['grpc.testing.TestService']!.methods['UnaryCall']!;
  const req = { response_size: 314159, payload: { body: Buffer.alloc(40, 9) }, fill_username: true };
  const framed = m.request.encodeFramed!(req);
  assert.ok(Buffer.isBuffer(framed));
  assert.deepEqual(framed.subarray(5), Buffer.from(m.request.encode(req)));
  // Nested messages fork the writer; a wrong field type throws from fromObject, and a bad enum
  // name or truncated input from decode: none of that leaks into the next message.
  assert.throws(() => m.request.encode({ payload: 'not an object' }));
  assert.throws(() => m.request.decode(framed.subarray(5, 20)));
  const again = m.request.decode(m.request.encode(req));
  assert.equal(again.response_size, 314159);
  assert.deepEqual(again.payload.body, Buffer.alloc(40, 9));
  assert.deepEqual(Buffer.from(m.request.encode({})), Buffer.alloc(0));
  assert.equal(m.request.decode(Buffer.alloc(0)).response_size, 0);
});

test('the shared writer encodes exactly as a fresh protobufjs Writer: many fields, nested messages, negative int32, twice in a row', () => {
  const m = loadServices(testDescriptor)['grpc.testing.TestService']!.methods['StreamingOutputCall']!;
  const t = lookupType(testDescriptor, 'grpc.testing.StreamingOutputCallRequest');
  const req = {
    response_type: 'COMPRESSABLE',
    response_parameters: Array.from({ length: 100 }, (_, i) => ({ size: i * 1000, interval_us: -i, compressed: { value: i % 2 === 0 } })),
    payload: { body: Buffer.alloc(300, 1) },
    response_status: { code: 3, message: 'é'.repeat(70) },
  };
  const want = Buffer.from(t.encode(t.fromObject(req)).finish());
  for (let i = 0; i < 2; i++) assert.deepEqual(Buffer.from(m.request.encode(req)), want);
  // A small message after a large one: nothing left over from it.
  assert.deepEqual(Buffer.from(m.request.encode({ response_type: 'COMPRESSABLE' })), Buffer.from(t.encode(t.fromObject({ response_type: 'COMPRESSABLE' })).finish()));
  assert.equal(m.request.decode(want).response_parameters.length, 100);
});

test('interop TestService: all four kinds and both services', () => {
  const services = loadServices(testDescriptor);
  assert.deepEqual(Object.keys(services).sort(), ['grpc.testing.TestService', 'grpc.testing.UnimplementedService']);
  const kinds = Object.fromEntries(
    Object.values(services['grpc.testing.TestService']!.methods).map((m) => [m.name, m.kind]),
  );
  assert.deepEqual(kinds, {
    EmptyCall: 'unary',
    UnaryCall: 'unary',
    CacheableUnaryCall: 'unary',
    StreamingOutputCall: 'server_streaming',
    StreamingInputCall: 'client_streaming',
    FullDuplexCall: 'bidi_streaming',
    HalfDuplexCall: 'bidi_streaming',
    UnimplementedCall: 'unary',
  });
  assert.equal(
    services['grpc.testing.UnimplementedService']!.methods['UnimplementedCall']!.path,
    '/grpc.testing.UnimplementedService/UnimplementedCall',
  );
  const unary = services['grpc.testing.TestService']!.methods['UnaryCall']!;
  const req = unary.request.decode(
    unary.request.encode({ response_size: 314159, payload: { body: Buffer.alloc(3) }, response_compressed: { value: true } }),
  );
  // keepCase (snake_case names), enums as names, bytes as Buffer, unset sub-messages null.
  assert.equal(req.response_size, 314159);
  assert.equal(req.response_type, 'COMPRESSABLE');
  assert.ok(Buffer.isBuffer(req.payload.body));
  assert.deepEqual(req.payload, { type: 'COMPRESSABLE', body: Buffer.alloc(3) });
  assert.deepEqual(req.response_compressed, { value: true });
  assert.equal(req.expect_compressed, null);
  assert.equal(req.response_status, null);
  assert.deepEqual(req.orca_per_query_report, null);
});

test('health: Check unary, Watch server streaming, enum names', () => {
  const health = loadServices(healthDescriptor)['grpc.health.v1.Health']!;
  assert.equal(health.methods['Check']!.kind, 'unary');
  assert.equal(health.methods['Watch']!.kind, 'server_streaming');
  const res = health.methods['Check']!.response;
  assert.deepEqual(Buffer.from(res.encode({ status: 'SERVING' })), Buffer.from([0x08, 1]));
  assert.deepEqual(res.decode(res.encode({ status: 3 })), { status: 'SERVICE_UNKNOWN' });
  assert.deepEqual(res.decode(new Uint8Array(0)), { status: 'UNKNOWN' });
});

// A proto with the awkward cases: 64-bit ints, oneofs, maps, nested enums, repeated messages.
const KITCHEN = `
syntax = "proto3";
package kitchen.v1;
message Item { string item_name = 1; }
message Sink {
  enum Mode { MODE_OFF = 0; MODE_ON = 1; }
  int64 big = 1;
  uint64 ubig = 2;
  Mode mode = 3;
  repeated Item items = 4;
  map<string, int32> counts = 5;
  oneof choice { string text = 6; Item item = 7; }
  bytes blob = 8;
  repeated int32 packed = 9;
  optional string maybe = 10;
}
service Kitchen {
  rpc Wash(Sink) returns (Sink);
  rpc Dry(stream Sink) returns (Sink);
  rpc Stack(Sink) returns (stream Sink);
  rpc Serve(stream Sink) returns (stream Sink);
}
`;

function kitchenDescriptor(): object {
  const root = protobuf.parse(KITCHEN, { keepCase: true }).root;
  return root.toJSON();
}

test('kitchen sink: longs as strings, oneofs, maps, defaults, nested enums', () => {
  const d = kitchenDescriptor();
  const kitchen = loadServices(d)['kitchen.v1.Kitchen']!;
  assert.deepEqual(
    Object.values(kitchen.methods).map((m) => m.kind),
    ['unary', 'client_streaming', 'server_streaming', 'bidi_streaming'],
  );
  const codec = kitchen.methods['Wash']!.request;
  const empty = codec.decode(new Uint8Array(0));
  assert.deepEqual(empty, { big: '0', ubig: '0', mode: 'MODE_OFF', items: [], counts: {}, blob: Buffer.alloc(0), packed: [] });
  const full = codec.decode(
    codec.encode({
      big: '-9007199254740993', // not representable as a JS number
      ubig: '18446744073709551615',
      mode: 'MODE_ON',
      items: [{ item_name: 'cup' }, { item_name: 'plate' }],
      counts: { a: 1, b: -2 },
      item: { item_name: 'fork' },
      blob: Buffer.from([1, 2, 3]),
      packed: [1, 2, 300],
      maybe: '',
    }),
  );
  assert.deepEqual(full, {
    big: '-9007199254740993',
    ubig: '18446744073709551615',
    mode: 'MODE_ON',
    items: [{ item_name: 'cup' }, { item_name: 'plate' }],
    counts: { a: 1, b: -2 },
    item: { item_name: 'fork' },
    choice: 'item',
    blob: Buffer.from([1, 2, 3]),
    packed: [1, 2, 300],
    maybe: '',
    _maybe: 'maybe',
  });
  // Enums by number are accepted on encode.
  assert.equal(codec.decode(codec.encode({ mode: 1 })).mode, 'MODE_ON');
  // Wrong field types are refused, not written.
  assert.throws(() => codec.encode({ items: 'not a list' }), TypeError);
  // A plain Uint8Array (not a Buffer) decodes the same and bytes still come out as Buffers.
  const bytes = codec.encode({ blob: Buffer.from([9]) });
  const copy = new Uint8Array(bytes.length + 4).subarray(2, 2 + bytes.length);
  copy.set(bytes);
  const fromPlain = codec.decode(copy);
  assert.ok(Buffer.isBuffer(fromPlain.blob));
  assert.deepEqual(fromPlain.blob, Buffer.from([9]));
  // Malformed input throws (the call layer turns it into a status).
  assert.throws(() => codec.decode(Buffer.from([0x0a, 0x05, 0x01])));
  assert.equal(lookupType(d, 'kitchen.v1.Item').name, 'Item');
});

test('a descriptor referencing an unknown type is refused', () => {
  const bad = {
    nested: { p: { nested: { S: { methods: { M: { requestType: 'Nope', responseType: 'Nope' } } } } } },
  };
  assert.throws(() => loadServices(bad), /Nope/);
});

test('wire compatible with @grpc/proto-loader (what grpc-js clients use), both ways', () => {
  const pkg = clientDefinition('grpc/testing/test.proto');
  const theirs = pkg['grpc.testing.TestService'] as unknown as Record<
    string,
    {
      path: string;
      requestStream: boolean;
      responseStream: boolean;
      requestSerialize: (v: unknown) => Buffer;
      requestDeserialize: (b: Buffer) => any;
      responseSerialize: (v: unknown) => Buffer;
      responseDeserialize: (b: Buffer) => any;
    }
  >;
  const ours = loadServices(testDescriptor)['grpc.testing.TestService']!.methods;
  for (const [name, m] of Object.entries(ours)) {
    const t = theirs[name]!;
    assert.equal(t.path, m.path);
    assert.equal(t.requestStream, m.kind === 'client_streaming' || m.kind === 'bidi_streaming');
    assert.equal(t.responseStream, m.kind === 'server_streaming' || m.kind === 'bidi_streaming');
  }
  const reqValue = {
    response_type: 'COMPRESSABLE',
    response_parameters: [{ size: 31415, interval_us: 10, compressed: { value: true } }, { size: 9 }],
    payload: { body: Buffer.from('abc') },
    response_status: { code: 2, message: 'x' },
  };
  const theirBytes = theirs['FullDuplexCall']!.requestSerialize(reqValue);
  const ourBytes = Buffer.from(ours['FullDuplexCall']!.request.encode(reqValue));
  assert.deepEqual(ourBytes, theirBytes);
  assert.deepEqual(ours['FullDuplexCall']!.request.decode(theirBytes), theirs['FullDuplexCall']!.requestDeserialize(ourBytes));
  const resValue = { payload: { body: Buffer.alloc(10) }, username: 'u', grpclb_route_type: 'GRPCLB_ROUTE_TYPE_BACKEND' };
  const ourRes = Buffer.from(ours['UnaryCall']!.response.encode(resValue));
  assert.deepEqual(theirs['UnaryCall']!.responseDeserialize(ourRes), ours['UnaryCall']!.response.decode(ourRes));
  assert.deepEqual(ourRes, theirs['UnaryCall']!.responseSerialize(resValue));
});
