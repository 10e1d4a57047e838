// maxConnections (src/server/connections.ts): at the cap the longest-idle connection is evicted
// with GOAWAY(NO_ERROR) for a new one; when every connection has a call open the new one is
// refused with a GOAWAY that says why; connections still in their handshake (HTTP/2 preface, TLS)
// count, and a flood of them never locks an honest grpc-js client out. Real peers: grpc-js, and raw
// HTTP/2 and TCP/TLS sockets for the idle, busy and half-open ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { Server, ServerCredentials } from '../../src/index.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { FrameType } from '../../src/http2/frame/constants.js';
import { H2Client } from '../support/h2-client.js';
import { TestClient, deferred, fixture, grpc, startHarness, unary, until, type Msg } from '../grpc/helpers.js';

const MAX = 4;

/** A TCP socket that connects and then sends nothing (half-open from the server's point of view). */
function silentSocket(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host }, () => resolve(s));
    s.resume(); // read (and drop) what the server sends, so its FIN is seen
    s.on('error', reject);
  });
}

const closed = (s: net.Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));

test('maxConnections is checked at new Server', () => {
  for (const bad of [0, -1, 1.5, NaN, '8' as unknown as number]) {
    assert.throws(() => new Server({ maxConnections: bad }), /maxConnections must be an integer >= 1 or Infinity/);
  }
  new Server({ maxConnections: 1 });
  new Server({ maxConnections: Infinity });
  const s = new Server({ profile: 'pi-zero-2w' });
  assert.deepEqual([s.stats.connections, s.stats.connectionsRefused, s.stats.connectionsEvicted], [0, 0, 0]);
});

test('at the cap, the longest-idle connection gets GOAWAY(NO_ERROR) and the new one is served', async () => {
  const h = await startHarness({ Unary: (req: Msg) => ({ text: req.text }) as Msg }, { maxConnections: MAX });
  const idle: H2Client[] = [];
  try {
    for (let i = 0; i < MAX; i++) idle.push(await H2Client.connect(h.port));
    await until(() => h.server.stats.connections === MAX, 'the idle connections counted');
    // grpc-js dials a fifth connection: the first idle one makes room
    assert.equal((await unary(h.client, 'Unary', { text: 'in' })).text, 'in');
    const g = await idle[0]!.expectGoaway(ErrorCode.NO_ERROR);
    assert.match(g.debug.toString(), /evicted: connection limit/);
    await idle[0]!.expectClosed();
    assert.equal(h.server.stats.connectionsEvicted, 1);
    assert.equal(h.server.stats.connectionsRefused, 0);
    assert.equal(h.server.stats.connections, MAX);
    // the others are untouched and still serve
    for (const c of idle.slice(1)) assert.ok(!c.closed && !c.frames.some((f) => f.type === FrameType.GOAWAY));
  } finally {
    for (const c of idle) c.close();
    await h.close();
  }
});

test('every connection busy: the new one is refused with a GOAWAY saying why, and the busy calls finish', async () => {
  const gate = deferred();
  let running = 0;
  const h = await startHarness(
    {
      Unary: async (req: Msg) => {
        running++;
        await gate.promise;
        return { text: req.text } as Msg;
      },
    },
    { maxConnections: MAX },
  );
  const Ctor = TestClient();
  const clients: any[] = [];
  try {
    // one grpc-js channel per connection (a channel reuses its one connection), each with a call held open
    const calls: Promise<Msg>[] = [];
    for (let i = 0; i < MAX; i++) {
      const c = new Ctor(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      clients.push(c);
      calls.push(unary(c, 'Unary', { text: `busy${i}` }));
    }
    await until(() => running === MAX, 'every connection with a call running');
    const late = await H2Client.connect(h.port, { handshake: false });
    const g = await late.expectGoaway(ErrorCode.NO_ERROR);
    assert.equal(g.lastStreamId, 0);
    assert.match(g.debug.toString(), /connection limit reached: 4 open, all with calls in progress/);
    await late.expectClosed();
    assert.equal(h.server.stats.connectionsRefused, 1);
    assert.equal(h.server.stats.connectionsEvicted, 0);
    gate.resolve();
    assert.deepEqual((await Promise.all(calls)).map((m) => m.text), ['busy0', 'busy1', 'busy2', 'busy3']);
  } finally {
    for (const c of clients) c.close();
    await h.close();
  }
});

test('half-open TCP connections count, and a flood of them never locks an honest client out', async () => {
  const h = await startHarness({ Unary: (req: Msg) => ({ text: req.text }) as Msg }, { maxConnections: MAX });
  const flood: net.Socket[] = [];
  try {
    for (let i = 0; i < 3 * MAX; i++) flood.push(await silentSocket(h.port));
    await until(() => h.server.stats.connectionsEvicted === 2 * MAX, 'the oldest silent sockets evicted');
    assert.equal(h.server.stats.connections, MAX);
    // the first 2*MAX were evicted (closed by the server), the last MAX are still held
    await Promise.all(flood.slice(0, 2 * MAX).map(closed));
    assert.ok(flood.slice(2 * MAX).every((s) => !s.destroyed));
    for (let i = 0; i < 3; i++) assert.equal((await unary(h.client, 'Unary', { text: `honest${i}` })).text, `honest${i}`);
    assert.equal(h.server.stats.connectionsRefused, 0);
  } finally {
    for (const s of flood) s.destroy();
    await h.close();
  }
});

test('TLS: sockets in their handshake count toward the cap and are evicted oldest first; TLS clients are served', async () => {
  const ca = readFileSync(fixture('ca.pem'));
  const serverKey = { private_key: readFileSync(fixture('server.key')), cert_chain: readFileSync(fixture('server.pem')) };
  const server = new Server({ maxConnections: MAX });
  server.addService((await import('../grpc/helpers.js')).testService(), {
    Unary: (req: Msg) => ({ text: req.text }) as Msg,
    ServerStream: () => {},
    ClientStream: () => ({}) as Msg,
    Bidi: () => {},
  });
  const port = await server.bind('localhost:0', ServerCredentials.createSsl(null, [serverKey]));
  const flood: net.Socket[] = [];
  const client = new (TestClient())(`localhost:${port}`, grpc.credentials.createSsl(ca)) as any;
  try {
    for (let i = 0; i < MAX; i++) flood.push(await silentSocket(port));
    await until(() => server.stats.connections === MAX, 'the handshaking sockets counted');
    assert.equal(server.stats.connectionsEvicted, 0);
    // a TLS client that completes its handshake takes the oldest handshaking socket's place
    const t = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost', ALPNProtocols: ['h2'] });
    await new Promise<void>((resolve, reject) => t.once('secureConnect', resolve).once('error', reject));
    await closed(flood[0]!);
    assert.equal(server.stats.connectionsEvicted, 1);
    assert.equal(server.stats.connections, MAX);
    // and grpc-js's TLS connection takes the next one's
    assert.equal((await unary(client, 'Unary', { text: 'tls' })).text, 'tls');
    await closed(flood[1]!);
    assert.equal(server.stats.connectionsEvicted, 2);
    assert.equal(server.stats.connectionsRefused, 0);
    t.destroy();
  } finally {
    client.close();
    for (const s of flood) s.destroy();
    server.forceShutdown();
    await server.terminated;
  }
});
