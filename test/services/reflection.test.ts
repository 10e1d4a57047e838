// Server reflection through a reflection client of our own on @grpc/grpc-js (the v1alpha protocol,
// and v1 once): every request kind and every error on one long-lived stream, the files answered
// with their imports once per stream, and the descriptors, fetched by reflection alone, turned into
// a working grpc-js client by @grpc/proto-loader (protobufjs's descriptor reader).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import descriptorTypes from 'protobufjs/ext/descriptor/index.js';
import { Server, ServerCredentials, Status, loadServices } from '../../src/index.js';
import { HealthImplementation, healthFileDescriptors } from '../../src/services/health.js';
import { addReflection } from '../../src/services/reflection.js';
import type { ProtoFileDescriptor } from '../../src/services/reflection.js';
import { descriptor, fileDescriptors, serviceNames } from './generated/sensors.js';
import type { SensorsHandlers } from './generated/sensors.js';
import { clientPackage, unary, StreamReader, grpc } from '../interop/helpers.js';

const handlers: SensorsHandlers = {
  Read: (req) => ({
    sensor_id: req.sensor_id,
    samples: [{ quantity: { value: 21.5, unit: 'CELSIUS' }, quality: 'GOOD', position: { index: 1 } }],
    channel_units: { a: 'PERCENT' },
    bus: req.bus,
    note: 'ok',
    taken_at: { seconds: 1700000000, nanos: 5 },
    raw_counts: [-1, 2],
  }),
  Watch: async (req, out) => {
    await out.write({ sensor_id: req.sensor_id });
  },
};

let server: Server;
let port: number;
const clients: grpc.Client[] = [];

before(async () => {
  server = new Server();
  server.addService(loadServices(descriptor)[serviceNames.Sensors]!, handlers);
  new HealthImplementation().addToServer(server);
  addReflection(server, fileDescriptors, healthFileDescriptors);
  port = await server.bind('127.0.0.1:0', ServerCredentials.createInsecure());
  server.start();
});

after(async () => {
  for (const c of clients) c.close();
  server?.forceShutdown();
  await server?.terminated;
});

interface FileDescriptorProto {
  name: string;
  package?: string;
  dependency: string[];
  messageType: { name: string; nestedType: { name: string }[] }[];
  service: { name: string; method: { name: string }[] }[];
}

/** One ServerReflectionInfo stream: ask() writes a request and resolves with its response. */
class ReflectionStream {
  readonly call: grpc.ClientDuplexStream<unknown, any>;
  readonly reader: StreamReader<any>;

  constructor(version: 'v1' | 'v1alpha', at = port) {
    const pkg = clientPackage(`grpc/reflection/${version}/reflection.proto`);
    const client = new pkg.grpc.reflection[version].ServerReflection(`127.0.0.1:${at}`, grpc.credentials.createInsecure());
    clients.push(client);
    this.call = client.ServerReflectionInfo({ deadline: Date.now() + 15_000 }); // a broken server fails, not hangs
    this.reader = new StreamReader(this.call);
  }

  async ask(request: object): Promise<any> {
    this.call.write({ host: 'pi-zero', ...request });
    const res = await this.reader.next();
    assert.ok(res !== null, `the stream ended: ${this.reader.error?.message}`);
    return res;
  }

  /** The file names of a file_descriptor_response (decoded as FileDescriptorProtos). */
  async files(request: object): Promise<string[]> {
    const res = await this.ask(request);
    assert.equal(res.message_response, 'file_descriptor_response', JSON.stringify(res.error_response));
    return res.file_descriptor_response.file_descriptor_proto.map((b: Buffer) => decodeFile(b).name);
  }

  async end(): Promise<void> {
    this.call.end();
    assert.equal((await this.reader.status()).code, grpc.status.OK);
  }
}

function decodeFile(bytes: Buffer): FileDescriptorProto {
  return descriptorTypes.FileDescriptorProto.toObject(descriptorTypes.FileDescriptorProto.decode(bytes), {
    arrays: true,
  }) as unknown as FileDescriptorProto;
}

const SENSORS = 'edge/testing/sensors.proto';
const UNITS = 'edge/testing/units.proto';
const TIMESTAMP = 'google/protobuf/timestamp.proto';
const ANNOTATIONS = 'edge/testing/annotations.proto';
const ANNOTATIONS_MORE = 'edge/testing/annotations_more.proto';

test('list_services: every registered service, health and both reflection versions included, on v1alpha and v1', async () => {
  const want = ['edge.testing.Sensors', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];
  for (const version of ['v1alpha', 'v1'] as const) {
    const s = new ReflectionStream(version);
    const res = await s.ask({ list_services: '*' });
    assert.equal(res.message_response, 'list_services_response');
    assert.deepEqual(res.list_services_response.service.map((x: { name: string }) => x.name), want);
    assert.equal(res.valid_host, 'pi-zero');
    assert.equal(res.original_request.list_services, '*');
    await s.end();
  }
});

test('file_containing_symbol: services, methods, messages, nested messages, enums, enum values, fields; each file once per stream', async () => {
  const s = new ReflectionStream('v1alpha');
  // The first answer brings the file and everything it imports, directly or not.
  assert.deepEqual(await s.files({ file_containing_symbol: 'edge.testing.Sensors' }), [SENSORS, UNITS, TIMESTAMP]);
  // Later answers: the file asked for, and no file this stream already has.
  for (const symbol of [
    'edge.testing.Sensors.Watch', // method
    'edge.testing.Reading', // message
    'edge.testing.Reading.Sample', // nested message
    'edge.testing.Reading.Sample.Position', // nested twice
    'edge.testing.Bus', // enum
    'edge.testing.I2C', // enum value, protobuf's scoping
    'edge.testing.Bus.SPI', // enum value under its enum
    'edge.testing.Reading.Sample.Quality', // nested enum
    'edge.testing.Reading.Sample.GOOD',
    'edge.testing.Reading.Sample.Quality.SUSPECT',
    '.edge.testing.ReadRequest', // a leading dot is accepted
  ]) {
    assert.deepEqual(await s.files({ file_containing_symbol: symbol }), [SENSORS], symbol);
  }
  assert.deepEqual(await s.files({ file_containing_symbol: 'edge.testing.units.Unit' }), [UNITS]);
  assert.deepEqual(await s.files({ file_containing_symbol: 'google.protobuf.Timestamp' }), [TIMESTAMP]);
  assert.deepEqual(await s.files({ file_containing_symbol: 'grpc.health.v1.Health' }), ['grpc/health/v1/health.proto']);
  assert.deepEqual(await s.files({ file_containing_symbol: 'grpc.reflection.v1alpha.ServerReflection' }), ['grpc/reflection/v1alpha/reflection.proto']);
  assert.deepEqual(await s.files({ file_containing_symbol: 'edge.testing.ext.Holder.holder' }), [ANNOTATIONS]); // extension
  await s.end();

  // A new stream starts again from nothing.
  const again = new ReflectionStream('v1alpha');
  assert.deepEqual(await again.files({ file_containing_symbol: 'edge.testing.Reading.Sample' }), [SENSORS, UNITS, TIMESTAMP]);
  await again.end();
});

test('file_by_filename, file_containing_extension and all_extension_numbers_of_type', async () => {
  const s = new ReflectionStream('v1alpha');
  assert.deepEqual(await s.files({ file_by_filename: ANNOTATIONS_MORE }), [ANNOTATIONS_MORE, ANNOTATIONS]);
  assert.deepEqual(await s.files({ file_by_filename: UNITS }), [UNITS]);
  const ext = (containing_type: string, extension_number: number): object => ({ file_containing_extension: { containing_type, extension_number } });
  assert.deepEqual(await s.files(ext('edge.testing.ext.Annotated', 100)), [ANNOTATIONS]); // file level
  assert.deepEqual(await s.files(ext('edge.testing.ext.Annotated', 101)), [ANNOTATIONS]); // inside a message
  assert.deepEqual(await s.files(ext('edge.testing.ext.Annotated', 150)), [ANNOTATIONS_MORE]); // another file
  assert.deepEqual(await s.files(ext('edge.testing.ext.Annotated', 1000)), [ANNOTATIONS_MORE]);

  const numbers = await s.ask({ all_extension_numbers_of_type: 'edge.testing.ext.Annotated' });
  assert.equal(numbers.message_response, 'all_extension_numbers_response');
  assert.deepEqual(numbers.all_extension_numbers_response, { base_type_name: 'edge.testing.ext.Annotated', extension_number: [100, 101, 150, 1000] });
  const none = await s.ask({ all_extension_numbers_of_type: 'edge.testing.Reading' });
  assert.deepEqual(none.all_extension_numbers_response, { base_type_name: 'edge.testing.Reading', extension_number: [] });
  await s.end();
});

test('errors: NOT_FOUND or INVALID_ARGUMENT in an error_response, and the stream goes on', async () => {
  const s = new ReflectionStream('v1alpha');
  const cases: [object, Status, RegExp][] = [
    [{ file_by_filename: 'no/such.proto' }, Status.NOT_FOUND, /no\/such\.proto/],
    [{ file_by_filename: '' }, Status.INVALID_ARGUMENT, /empty/],
    [{ file_containing_symbol: 'edge.testing.Nope' }, Status.NOT_FOUND, /edge\.testing\.Nope/],
    [{ file_containing_symbol: 'edge.testing' }, Status.NOT_FOUND, /not found/], // a package is not a symbol
    [{ file_containing_symbol: 'edge.testing.Reading.note' }, Status.NOT_FOUND, /not found/], // nor is a plain field
    [{ file_containing_symbol: '' }, Status.INVALID_ARGUMENT, /empty/],
    [{ file_containing_extension: { containing_type: 'edge.testing.ext.Annotated', extension_number: 199 } }, Status.NOT_FOUND, /199/],
    [{ file_containing_extension: { containing_type: 'edge.testing.Nope', extension_number: 100 } }, Status.NOT_FOUND, /Nope/],
    [{ file_containing_extension: { containing_type: 'edge.testing.Sensors', extension_number: 100 } }, Status.NOT_FOUND, /message type/], // a service
    [{ file_containing_extension: { containing_type: '', extension_number: 100 } }, Status.INVALID_ARGUMENT, /containing_type/],
    [{ file_containing_extension: { containing_type: 'edge.testing.ext.Annotated', extension_number: 0 } }, Status.INVALID_ARGUMENT, /extension number 0/],
    [{ all_extension_numbers_of_type: 'edge.testing.Nope' }, Status.NOT_FOUND, /Nope/],
    [{ all_extension_numbers_of_type: 'edge.testing.Bus' }, Status.NOT_FOUND, /message type/], // an enum
    [{ all_extension_numbers_of_type: '' }, Status.INVALID_ARGUMENT, /empty/],
    [{}, Status.INVALID_ARGUMENT, /message_request/], // no request kind at all
  ];
  for (const [request, code, message] of cases) {
    const res = await s.ask(request);
    assert.equal(res.message_response, 'error_response', JSON.stringify(request));
    assert.equal(res.error_response.error_code, code, JSON.stringify(request));
    assert.match(res.error_response.error_message, message);
  }
  // Still open, and the failed requests sent no file: the next answer brings them all.
  assert.deepEqual(await s.files({ file_containing_symbol: 'edge.testing.Sensors.Read' }), [SENSORS, UNITS, TIMESTAMP]);
  await s.end();
});

test('descriptors fetched by reflection alone make a working grpc-js client (proto-loader)', async () => {
  const s = new ReflectionStream('v1alpha');
  const res = await s.ask({ file_containing_symbol: 'edge.testing.Sensors' });
  await s.end();
  // A FileDescriptorSet is `repeated FileDescriptorProto file = 1`: concatenate the files as field 1.
  const w = protobuf.Writer.create();
  for (const b of res.file_descriptor_response.file_descriptor_proto as Buffer[]) w.uint32(10).bytes(b);
  const def = protoLoader.loadFileDescriptorSetFromBuffer(Buffer.from(w.finish()), {
    keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.edge.testing.Sensors(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(client);
  const { response, status } = await unary(client, 'Read', { sensor_id: 't1', bus: 'SPI' });
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(response, {
    sensor_id: 't1',
    samples: [{ quantity: { value: 21.5, unit: 'CELSIUS' }, quality: 'GOOD', position: { index: 1 } }],
    // protobufjs's descriptor reader (ext/descriptor, which proto-loader uses) reads a map as its
    // repeated entry messages, whoever made the descriptor: buf build's bytes read the same.
    channel_units: [{ key: 'a', value: 'PERCENT' }],
    bus: 'SPI',
    source: 'bus',
    note: 'ok',
    _note: 'note',
    taken_at: { seconds: '1700000000', nanos: 5 },
    raw_counts: ['-1', '2'],
  });
});

test('reflection streams hold no job-queue slot: with maxRunning 1, calls run while two stay open', async () => {
  const small = new Server({ maxRunning: 1, maxWaiting: 1 });
  small.addService(loadServices(descriptor)[serviceNames.Sensors]!, handlers);
  addReflection(small, fileDescriptors);
  const at = await small.bind('127.0.0.1:0', ServerCredentials.createInsecure());
  small.start();
  try {
    // What buf curl and grpcurl do: the reflection stream stays open while they make the call.
    const a = new ReflectionStream('v1', at);
    const b = new ReflectionStream('v1alpha', at);
    assert.deepEqual(await a.files({ file_containing_symbol: 'edge.testing.Sensors' }), [SENSORS, UNITS, TIMESTAMP]);
    assert.equal((await b.ask({ list_services: '' })).message_response, 'list_services_response');
    assert.equal(small.stats.running, 0, 'open reflection streams take no running slot');
    const pkg = clientPackage('edge/testing/sensors.proto');
    const client = new pkg.edge.testing.Sensors(`127.0.0.1:${at}`, grpc.credentials.createInsecure());
    clients.push(client);
    for (let i = 0; i < 3; i++) {
      const { response, status } = await unary(client, 'Read', { sensor_id: `s${i}` }, new grpc.Metadata(), { deadline: Date.now() + 10_000 });
      assert.equal(status.code, grpc.status.OK, status.details);
      assert.equal(response.sensor_id, `s${i}`);
    }
    assert.deepEqual(await a.files({ file_containing_symbol: 'edge.testing.units.Unit' }), [UNITS]);
    await a.end();
    await b.end();
  } finally {
    small.forceShutdown();
    await small.terminated;
  }
});

test('list_services follows the server: services added later, removed, or without descriptors', async () => {
  const greeterLike = { name: 'other.Plain', methods: { Ping: { ...loadServices(descriptor)[serviceNames.Sensors]!.methods['Read']!, name: 'Ping', path: '/other.Plain/Ping' } } };
  server.addService(greeterLike, { Ping: handlers.Read });
  try {
    const s = new ReflectionStream('v1alpha');
    const listed = await s.ask({ list_services: '' });
    assert.ok(listed.list_services_response.service.some((x: { name: string }) => x.name === 'other.Plain'));
    // Listed, but no file describes it (none was passed to addReflection).
    const res = await s.ask({ file_containing_symbol: 'other.Plain' });
    assert.equal(res.error_response.error_code, Status.NOT_FOUND);
    server.removeService('other.Plain');
    const after = await s.ask({ list_services: '' });
    assert.ok(!after.list_services_response.service.some((x: { name: string }) => x.name === 'other.Plain'));
    await s.end();
  } finally {
    server.removeService('other.Plain');
  }
});

test('addReflection refuses what is not a server or not file descriptors', () => {
  assert.throws(() => addReflection({} as never), TypeError);
  const s = new Server();
  assert.throws(() => addReflection(s, 'x' as unknown as ProtoFileDescriptor[]), TypeError);
  assert.throws(() => addReflection(s, [{ name: 'x' } as ProtoFileDescriptor]), TypeError);
  assert.deepEqual(s.getServiceNames(), [], 'nothing registered after a refusal');
});
