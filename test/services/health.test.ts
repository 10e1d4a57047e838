// grpc.health.v1.Health through a grpc-js client: Check and Watch against a real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials } from '../../src/index.js';
import { HealthImplementation, healthServiceDefinition } from '../../src/services/health.js';
import { clientPackage, unary, StreamReader, waitFor, grpc } from '../interop/helpers.js';

const pkg = clientPackage('grpc/health/v1/health.proto');

let server: Server;
let health: HealthImplementation;
let client: any;

before(async () => {
  server = new Server();
  health = new HealthImplementation({ 'helloworld.Greeter': 'SERVING', 'other.Svc': 'NOT_SERVING' });
  health.addToServer(server);
  const port = await server.bind('127.0.0.1:0', ServerCredentials.createInsecure());
  server.start();
  client = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client?.close();
  server?.forceShutdown();
  await server?.terminated;
});

test('definition: grpc.health.v1.Health with Check (unary) and Watch (server streaming)', () => {
  const def = healthServiceDefinition();
  assert.equal(def.name, 'grpc.health.v1.Health');
  assert.equal(def.methods['Check']!.path, '/grpc.health.v1.Health/Check');
  assert.equal(def.methods['Watch']!.kind, 'server_streaming');
  assert.throws(() => health.setStatus('x', 'BOGUS' as never), TypeError);
});

test('Check: the server (""), known services, and NOT_FOUND for unknown ones', async () => {
  assert.deepEqual((await unary(client, 'Check', { service: '' })).response, { status: 'SERVING' });
  assert.deepEqual((await unary(client, 'Check', { service: 'helloworld.Greeter' })).response, { status: 'SERVING' });
  assert.deepEqual((await unary(client, 'Check', { service: 'other.Svc' })).response, { status: 'NOT_SERVING' });
  const unknown = await unary(client, 'Check', { service: 'no.Such' });
  assert.equal(unknown.status.code, grpc.status.NOT_FOUND);
});

test('Check follows setStatus and clearStatus', async () => {
  health.setStatus('check.Svc', 'NOT_SERVING');
  assert.deepEqual((await unary(client, 'Check', { service: 'check.Svc' })).response, { status: 'NOT_SERVING' });
  health.setStatus('check.Svc', 'SERVING');
  assert.deepEqual((await unary(client, 'Check', { service: 'check.Svc' })).response, { status: 'SERVING' });
  health.clearStatus('check.Svc');
  assert.equal((await unary(client, 'Check', { service: 'check.Svc' })).status.code, grpc.status.NOT_FOUND);
  assert.equal(health.getStatus('check.Svc'), undefined);
});

test('Watch: current status at once, then every change, until cancelled', async () => {
  health.setStatus('watch.Svc', 'SERVING');
  const call = client.Watch({ service: 'watch.Svc' });
  call.on('error', () => {});
  const reader = new StreamReader(call);
  assert.deepEqual(await reader.next(), { status: 'SERVING' });
  health.setStatus('watch.Svc', 'NOT_SERVING');
  assert.deepEqual(await reader.next(), { status: 'NOT_SERVING' });
  health.setStatus('watch.Svc', 'NOT_SERVING'); // no change: nothing sent
  health.setStatus('watch.Svc', 'SERVING');
  assert.deepEqual(await reader.next(), { status: 'SERVING' });
  health.clearStatus('watch.Svc');
  assert.deepEqual(await reader.next(), { status: 'SERVICE_UNKNOWN' });
  assert.equal(health.watcherCount, 1);
  call.cancel();
  assert.equal((await reader.status()).code, grpc.status.CANCELLED);
  // The handler ends and lets go of its listener.
  await waitFor(() => health.watcherCount === 0, 'the watcher to be removed');
});

test('Watch on an unknown service: SERVICE_UNKNOWN without ending the call, then the real status', async () => {
  const call = client.Watch({ service: 'later.Svc' });
  call.on('error', () => {});
  const reader = new StreamReader(call);
  assert.deepEqual(await reader.next(), { status: 'SERVICE_UNKNOWN' });
  health.setStatus('later.Svc', 'SERVING');
  assert.deepEqual(await reader.next(), { status: 'SERVING' });
  call.cancel();
  await reader.status();
  await waitFor(() => health.watcherCount === 0, 'the watcher to be removed');
});

test('several watchers of one service all hear a change; enterGracefulShutdown turns all NOT_SERVING', async () => {
  const h = new HealthImplementation({ 'a.Svc': 'SERVING' });
  const s = new Server();
  h.addToServer(s);
  const port = await s.bind('127.0.0.1:0', ServerCredentials.createInsecure());
  s.start();
  const c = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const calls = [c.Watch({ service: 'a.Svc' }), c.Watch({ service: 'a.Svc' }), c.Watch({ service: '' })];
    const readers = calls.map((call: any) => {
      call.on('error', () => {});
      return new StreamReader(call);
    });
    for (const r of readers) assert.deepEqual(await r.next(), { status: 'SERVING' });
    h.enterGracefulShutdown();
    for (const r of readers) assert.deepEqual(await r.next(), { status: 'NOT_SERVING' });
    assert.deepEqual((await unary(c, 'Check', { service: '' })).response, { status: 'NOT_SERVING' });
    for (const call of calls) call.cancel();
    await waitFor(() => h.watcherCount === 0, 'the watchers to be removed');
  } finally {
    c.close();
    s.forceShutdown();
    await s.terminated;
  }
});

test('Watch holds no job slot: with maxRunning 1 and two watchers open, Check and a third Watch still run', async () => {
  const h = new HealthImplementation({ 'a.Svc': 'SERVING' });
  const s = new Server({ maxRunning: 1, maxWaiting: 0 });
  h.addToServer(s);
  const port = await s.bind('127.0.0.1:0', ServerCredentials.createInsecure());
  s.start();
  const c = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const calls = [c.Watch({ service: 'a.Svc' }), c.Watch({ service: '' })];
    const readers = calls.map((call: any) => {
      call.on('error', () => {});
      return new StreamReader(call);
    });
    for (const r of readers) assert.deepEqual(await r.next(), { status: 'SERVING' });
    assert.equal(s.stats.running, 0);
    assert.deepEqual((await unary(c, 'Check', { service: 'a.Svc' })).response, { status: 'SERVING' });
    const third = c.Watch({ service: 'a.Svc' });
    third.on('error', () => {});
    const r3 = new StreamReader(third);
    assert.deepEqual(await r3.next(), { status: 'SERVING' });
    h.setStatus('a.Svc', 'NOT_SERVING');
    assert.deepEqual(await readers[0]!.next(), { status: 'NOT_SERVING' });
    assert.deepEqual(await r3.next(), { status: 'NOT_SERVING' });
    for (const call of [...calls, third]) call.cancel();
    await waitFor(() => h.watcherCount === 0, 'the watchers to be removed');
  } finally {
    c.close();
    s.forceShutdown();
    await s.terminated;
  }
});

test('maxWatchers: a Watch beyond the cap is RESOURCE_EXHAUSTED, and a freed place is usable again', async () => {
  assert.throws(() => new HealthImplementation({}, { maxWatchers: -1 }), RangeError);
  const h = new HealthImplementation({}, { maxWatchers: 1 });
  const s = new Server({ maxRunning: 1, maxWaiting: 0 });
  h.addToServer(s);
  const port = await s.bind('127.0.0.1:0', ServerCredentials.createInsecure());
  s.start();
  const c = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const first = c.Watch({ service: '' });
    first.on('error', () => {});
    const r1 = new StreamReader(first);
    assert.deepEqual(await r1.next(), { status: 'SERVING' });
    const second = new StreamReader(c.Watch({ service: '' }));
    const { messages, status } = await second.rest();
    assert.equal(messages.length, 0);
    assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
    // Real work still gets a slot.
    assert.deepEqual((await unary(c, 'Check', { service: '' })).response, { status: 'SERVING' });
    first.cancel();
    await waitFor(() => h.watcherCount === 0, 'the first watcher to go');
    const third = c.Watch({ service: '' });
    third.on('error', () => {});
    const r3 = new StreamReader(third);
    assert.deepEqual(await r3.next(), { status: 'SERVING' });
    third.cancel();
    await r3.status();
  } finally {
    c.close();
    s.forceShutdown();
    await s.terminated;
  }
});
