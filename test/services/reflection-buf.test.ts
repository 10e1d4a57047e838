// Server reflection with a foreign client: `buf curl` (the Go binary the npm package @bufbuild/buf
// ships), which knows no .proto file here and learns everything through reflection (v1 first, then
// v1alpha). It lists services and methods and calls the Greeter, every TestService method of the
// interop server it can drive with JSON (unary, server-, client- and bidi-streaming), and the test
// Sensors service whose messages use an imported file, nested types, enums, a map, a oneof and a
// well-known type.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials, loadServices } from '../../src/index.js';
import { addReflection } from '../../src/services/reflection.js';
import { startGreeterWithReflection } from '../../examples/greeter/server-reflection.js';
import { startInteropServer } from '../../examples/interop/server.js';
import type { InteropServer } from '../../examples/interop/server.js';
import { descriptor, fileDescriptors, serviceNames } from './generated/sensors.js';
import type { SensorsHandlers } from './generated/sensors.js';
import { bufCurl, bufMessages } from '../support/buf.js';

async function ok(args: string[], stdin?: string): Promise<unknown[]> {
  const r = await bufCurl(args, stdin);
  assert.equal(r.code, 0, `buf curl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return bufMessages(r.stdout);
}

let greeter: Server;
let greeterUrl: string;
let interop: InteropServer;
let interopUrl: string;
let sensors: Server;
let sensorsUrl: string;

before(async () => {
  const g = await startGreeterWithReflection({ address: '127.0.0.1:0' });
  greeter = g.server;
  greeterUrl = `http://127.0.0.1:${g.port}`;
  interop = await startInteropServer({ host: '127.0.0.1', port: 0 });
  interopUrl = `http://127.0.0.1:${interop.port}`;
  sensors = new Server();
  const handlers: SensorsHandlers = {
    Read: (req) => ({
      sensor_id: req.sensor_id,
      samples: [{ quantity: { value: 21.5, unit: 'CELSIUS' }, quality: 'GOOD', position: { index: 1 } }],
      channel_units: { a: 'PERCENT' },
      bus: req.bus,
      taken_at: { seconds: 1700000000, nanos: 0 },
    }),
    Watch: async (req, out) => {
      for (let i = 0; i < 2; i++) await out.write({ sensor_id: `${req.sensor_id}-${i}` });
    },
  };
  sensors.addService(loadServices(descriptor)[serviceNames.Sensors]!, handlers);
  addReflection(sensors, fileDescriptors);
  sensorsUrl = `http://127.0.0.1:${await sensors.bind('127.0.0.1:0', ServerCredentials.createInsecure())}`;
  sensors.start();
});

after(async () => {
  for (const s of [greeter, interop?.server, sensors]) s?.forceShutdown();
  await Promise.all([greeter, interop?.server, sensors].map((s) => s?.terminated));
});

test('buf curl lists the Greeter example\'s services and methods through reflection, v1 and v1alpha', async () => {
  for (const protocol of ['grpc-v1', 'grpc-v1alpha']) {
    const services = await bufCurl(['--reflect-protocol', protocol, '--list-services', greeterUrl]);
    assert.equal(services.code, 0, services.stderr);
    assert.deepEqual(services.stdout.trim().split('\n').sort(), [
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
      'helloworld.Greeter',
    ]);
    const methods = await bufCurl(['--reflect-protocol', protocol, '--list-methods', greeterUrl]);
    assert.equal(methods.code, 0, methods.stderr);
    const lines = methods.stdout.trim().split('\n');
    for (const m of ['helloworld.Greeter/SayHello', 'helloworld.Greeter/SayHelloAgain', 'grpc.health.v1.Health/Check', 'grpc.health.v1.Health/Watch']) {
      assert.ok(lines.includes(m), `${m} missing from ${lines.join(', ')}`);
    }
  }
});

test('buf curl calls SayHello with JSON, knowing only what reflection told it', async () => {
  assert.deepEqual(await ok(['-d', '{"name":"pi"}', `${greeterUrl}/helloworld.Greeter/SayHello`]), [{ message: 'hello pi' }]);
  assert.deepEqual(await ok(['--reflect-protocol', 'grpc-v1alpha', '-d', '{"name":"alpha"}', `${greeterUrl}/helloworld.Greeter/SayHelloAgain`]), [
    { message: 'hello alpha' },
  ]);
  assert.deepEqual(await ok(['-d', '{"service":"helloworld.Greeter"}', `${greeterUrl}/grpc.health.v1.Health/Check`]), [{ status: 'SERVING' }]);
  // A method the server does not have: buf curl says so before calling.
  const missing = await bufCurl(['-d', '{}', `${greeterUrl}/helloworld.Greeter/SayGoodbye`]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /SayGoodbye/);
});

test('buf curl drives every TestService method of the interop server with JSON', async () => {
  const svc = `${interopUrl}/grpc.testing.TestService`;
  const methods = await bufCurl(['--list-methods', interopUrl]);
  assert.equal(methods.code, 0, methods.stderr);
  for (const m of ['EmptyCall', 'UnaryCall', 'CacheableUnaryCall', 'StreamingOutputCall', 'StreamingInputCall', 'FullDuplexCall', 'HalfDuplexCall', 'UnimplementedCall']) {
    assert.ok(methods.stdout.split('\n').includes(`grpc.testing.TestService/${m}`), m);
  }

  // Independent calls, run side by side (each buf curl process fetches the schema anew).
  const twoRequests = '{"responseParameters": [{"size": 1}]}\n{"responseParameters": [{"size": 2}]}\n';
  await Promise.all([
    (async () => assert.deepEqual(await ok(['-d', '{}', `${svc}/EmptyCall`]), [{}]))(),
    (async () =>
      assert.deepEqual(await ok(['-d', '{"responseSize": 3, "fillServerId": true}', `${svc}/UnaryCall`]), [
        { payload: { body: 'AAAA' }, serverId: 'grpc-edge-interop' },
      ]))(),
    (async () => {
      const [cached] = (await ok(['-d', '{}', `${svc}/CacheableUnaryCall`])) as { payload: { body: string } }[];
      assert.match(Buffer.from(cached!.payload.body, 'base64').toString(), /^\d+$/);
    })(),
    (async () =>
      assert.deepEqual(await ok(['-d', '{"responseParameters": [{"size": 1}, {"size": 2}]}', `${svc}/StreamingOutputCall`]), [
        { payload: { body: 'AA==' } },
        { payload: { body: 'AAA=' } },
      ]))(),
    // Client streaming: several JSON documents on stdin, one message each.
    (async () =>
      assert.deepEqual(await ok(['-d', '@-', `${svc}/StreamingInputCall`], '{"payload": {"body": "AAAA"}}\n{"payload": {"body": "AA=="}}\n'), [
        { aggregatedPayloadSize: 4 },
      ]))(),
    ...['FullDuplexCall', 'HalfDuplexCall'].map(async (bidi) =>
      assert.deepEqual(await ok(['-d', '@-', `${svc}/${bidi}`], twoRequests), [{ payload: { body: 'AA==' } }, { payload: { body: 'AAA=' } }], bidi),
    ),
    // Echo Status: the status comes back; buf curl exits with the code shifted left by 3.
    (async () => {
      const failed = await bufCurl(['-d', '{"responseStatus": {"code": 2, "message": "boom"}}', `${svc}/UnaryCall`]);
      assert.equal(failed.code, 2 << 3, failed.stderr);
      assert.match(failed.stderr, /boom/);
    })(),
    (async () => {
      const unimplemented = await bufCurl(['-d', '{}', `${svc}/UnimplementedCall`]);
      assert.equal(unimplemented.code, 12 << 3, unimplemented.stderr);
    })(),
  ]);
});

test('buf curl reads nested types, enums, a map, a oneof, an imported file and a well-known type from our descriptors', async () => {
  const methods = await bufCurl(['--list-methods', sensorsUrl]);
  assert.equal(methods.code, 0, methods.stderr);
  assert.ok(methods.stdout.split('\n').includes('edge.testing.Sensors/Read'));
  assert.deepEqual(await ok(['-d', '{"sensorId": "t1", "bus": "SPI"}', `${sensorsUrl}/edge.testing.Sensors/Read`]), [
    {
      sensorId: 't1',
      samples: [{ quantity: { value: 21.5, unit: 'CELSIUS' }, quality: 'GOOD', position: { idx: 1 } }],
      channelUnits: { a: 'PERCENT' },
      bus: 'SPI',
      takenAt: '2023-11-14T22:13:20Z',
    },
  ]);
  assert.deepEqual(await ok(['-d', '{"sensorId": "w"}', `${sensorsUrl}/edge.testing.Sensors/Watch`]), [{ sensorId: 'w-0' }, { sensorId: 'w-1' }]);
  // A request buf curl cannot map onto the message: it refuses it before calling.
  const bad = await bufCurl(['-d', '{"bus": "CAN"}', `${sensorsUrl}/edge.testing.Sensors/Read`]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /CAN|bus/);
});
