// HTTP/1.1 on the gRPC port: protocol sniffing in the accept path, node:http's parser behind it,
// the one-line answers to what is no RPC, keep-alive, limits, and HTTP/1.1 connections in the
// server's set of connections. Without the web protocols, HTTP/1.1 gets a 505 in HTTP/1.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as http from 'node:http';
import { execFile } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startGreeter } from '../../examples/greeter/server.js';
import { GREETER_PROTO, startWebServer } from './helpers.js';

/** Send raw octets, collect everything until the server closes (or `ms` passes). */
function raw(port: number, data: string, ms = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, ms);
    s.on('connect', () => s.write(data));
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(t);
      resolve({ text, closed: true });
    });
  });
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', ...args], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  localPort: number;
}
function request(port: number, o: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent }): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path, headers: o.headers, agent: o.agent ?? false }, (res) => {
      const localPort = res.socket.localPort!;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, localPort }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

function grpcSayHello(port: number, name: string): Promise<string> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(GREETER_PROTO)) as any;
  const client = new pkg.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) =>
    client.SayHello({ name }, (err: Error | null, r: { message: string }) => {
      client.close();
      if (err) reject(err);
      else resolve(r.message);
    }),
  );
}

const JSON_HEADERS = { 'content-type': 'application/json' };

test('web protocols off: HTTP/1.1 gets "505 HTTP Version Not Supported" in HTTP/1.1, gRPC still works', async () => {
  const { server, port } = await startGreeter({ address: '127.0.0.1:0' });
  try {
    const r = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/);
    assert.match(r.text, /\r\n\r\nthis port speaks gRPC over HTTP\/2\n$/);
    assert.ok(r.closed);
    // What a new user tried first: curl used to fail with "Received HTTP/0.9 when not allowed".
    const code = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', 'content-type: application/json', '-d', '{"name":"pi"}', `http://127.0.0.1:${port}/helloworld.Greeter/SayHello`]);
    assert.equal(code, '505');
    assert.equal(await grpcSayHello(port, 'h2'), 'hello h2');
  } finally {
    await server.stop(500);
  }
});

test('one port: gRPC over HTTP/2 and Connect over HTTP/1.1 side by side', async () => {
  const s = await startWebServer();
  try {
    const [viaGrpc, viaCurl] = await Promise.all([
      grpcSayHello(s.port, 'grpc'),
      curl(['-H', 'content-type: application/json', '-d', '{"name":"pi"}', `${s.url}/helloworld.Greeter/SayHello`]),
    ]);
    assert.equal(viaGrpc, 'hello grpc');
    assert.deepEqual(JSON.parse(viaCurl), { message: 'hello pi' });
  } finally {
    await s.close();
  }
});

test('what is no RPC gets 404, 405 or 415 with a one-line text body, on HTTP/1.1 and HTTP/2', async () => {
  const s = await startWebServer();
  try {
    const cases: [string, string, Record<string, string>, number][] = [
      ['GET', '/', {}, 404],
      ['GET', '/helloworld.Greeter/SayHello', {}, 405],
      ['PUT', '/helloworld.Greeter/SayHello', JSON_HEADERS, 405],
      ['POST', '/helloworld.Greeter/SayHello', { 'content-type': 'text/plain' }, 415],
      ['POST', '/helloworld.Greeter/SayHello', { 'content-type': 'application/grpc' }, 415],
      ['POST', '/nothing/here', { 'content-type': 'text/plain' }, 404],
    ];
    for (const [method, path, headers, status] of cases) {
      const r = await request(s.port, { method, path, headers, body: method === 'GET' ? undefined : 'x' });
      assert.equal(r.status, status, `${method} ${path}`);
      assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
      assert.match(r.body, /^[^\n]+\n?$/, `one line: ${JSON.stringify(r.body)}`);
      if (status === 405) assert.equal(r.headers.allow, 'POST');
      // HTTP/2 (curl --http2-prior-knowledge): the same answers. Without a body: an answer that
      // ends before the request does comes with RST_STREAM(NO_ERROR) (RFC 9113 8.1), which curl
      // 7.88 reports as an error when it races its upload.
      const h2 = await curl(['--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '-X', method, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), `${s.url}${path}`]);
      // gRPC on HTTP/2 is served (a gRPC answer, not a 415).
      if (headers['content-type'] !== 'application/grpc') assert.equal(h2, `2 ${status}`, `h2 ${method} ${path}`);
    }
    // A request that is not HTTP at all: node:http's 400, never HTTP/2 bytes.
    const bad = await raw(s.port, 'HELLO\r\n\r\n');
    assert.match(bad.text, /^HTTP\/1\.1 400 /);
  } finally {
    await s.close();
  }
});

test('keep-alive: several requests and answers on one HTTP/1.1 connection', async () => {
  const s = await startWebServer();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const ports = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const ok = await request(s.port, { method: 'POST', path: '/helloworld.Greeter/SayHello', headers: JSON_HEADERS, body: `{"name":"n${i}"}`, agent });
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse(ok.body), { message: `hello n${i}` });
      ports.add(ok.localPort);
      const err = await request(s.port, { method: 'POST', path: '/helloworld.Greeter/Nope', headers: JSON_HEADERS, body: '{}', agent });
      assert.equal(err.status, 501);
      assert.equal(JSON.parse(err.body).code, 'unimplemented');
      ports.add(err.localPort);
      const nf = await request(s.port, { path: '/', agent });
      assert.equal(nf.status, 404);
      ports.add(nf.localPort);
    }
    assert.equal(ports.size, 1, 'one connection for all nine requests');
    assert.equal(s.server.stats.connections, 1);
  } finally {
    agent.destroy();
    await s.close();
  }
});

test('limits: header size (431), slow headers (408), body size (resource_exhausted); the server lives on', async () => {
  const s = await startWebServer({ maxReceiveMessageLength: 100, http2: { maxHeaderListSize: 4096, handshakeTimeoutMs: 300 } });
  try {
    const big = await request(s.port, { method: 'POST', path: '/helloworld.Greeter/SayHello', headers: { ...JSON_HEADERS, 'x-big': 'a'.repeat(8000) }, body: '{}' });
    assert.equal(big.status, 431);

    const slow = await raw(s.port, 'POST /helloworld.Greeter/SayHello HTTP/1.1\r\nHost: x\r\n', 5000);
    assert.ok(slow.closed, 'a client that never finishes its headers is disconnected');
    assert.match(slow.text, /^HTTP\/1\.1 408 /);

    const body = JSON.stringify({ name: 'x'.repeat(200) });
    const tooLong = await request(s.port, { method: 'POST', path: '/helloworld.Greeter/SayHello', headers: JSON_HEADERS, body });
    assert.equal(tooLong.status, 429);
    assert.equal(JSON.parse(tooLong.body).code, 'resource_exhausted');

    const ok = await request(s.port, { method: 'POST', path: '/helloworld.Greeter/SayHello', headers: JSON_HEADERS, body: '{"name":"still here"}' });
    assert.deepEqual(JSON.parse(ok.body), { message: 'hello still here' });
  } finally {
    await s.close();
  }
});

test('a silent connection is closed after the handshake timeout, without an answer', async () => {
  const s = await startWebServer({ http2: { handshakeTimeoutMs: 200 } });
  try {
    const r = await raw(s.port, '', 5000);
    assert.ok(r.closed);
    assert.equal(r.text, '');
  } finally {
    await s.close();
  }
});

test('HTTP/1.1 connections count as connections, and stop() closes them', async () => {
  const s = await startWebServer();
  const sock = net.connect(s.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const closed = new Promise((r) => sock.once('close', r));
  let got = '';
  sock.on('data', (d) => (got += d));
  sock.write('POST /helloworld.Greeter/SayHello HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
  while (!got.includes('hello')) await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.server.stats.connections, 1);
  await s.server.stop(2000);
  await closed;
  assert.equal(s.server.stats.connections, 0);
});


test('HTTP/1.1 connections count toward maxConnections: idle ones are evicted first, at the cap with all busy a 503', async () => {
  const s = await startWebServer({ maxConnections: 2 });
  const agentA = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const agentB = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const a = await request(s.port, { method: 'POST', path: '/helloworld.Greeter/SayHello', headers: JSON_HEADERS, body: '{}', agent: agentA });
    const closedA = new Promise((r) => [...Object.values(agentA.freeSockets)].flat()[0]!.once('close', r));
    await new Promise((r) => setTimeout(r, 20));
    const b = await request(s.port, { method: 'POST', path: '/helloworld.Greeter/SayHello', headers: JSON_HEADERS, body: '{}', agent: agentB });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(s.server.stats.connections, 2);
    // A third connection (gRPC over HTTP/2) makes room: the idle HTTP/1.1 connection open longest goes.
    assert.equal(await grpcSayHello(s.port, 'third'), 'hello third');
    await closedA;
    assert.equal(s.server.stats.connectionsEvicted, 1);

    // Both places busy (calls sleeping): a new HTTP/1.1 connection gets 503 in HTTP/1.1.
    const sleeps = [0, 1].map(() => request(s.port, { method: 'POST', path: '/webtest.Probe/Sleep', headers: JSON_HEADERS, body: '{"ms":1500}' }));
    for (let i = 0; i < 1000 && s.server.stats.running < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const refused = await raw(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(refused.text, /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*connection limit reached\n$/);
    for (const r of await Promise.all(sleeps)) assert.equal(r.status, 200);
  } finally {
    agentA.destroy();
    agentB.destroy();
    await s.close();
  }
});

test('over TLS: ALPN h2 is gRPC/HTTP/2 as before, ALPN http/1.1 reaches the web protocols', async () => {
  const { readFileSync } = await import('node:fs');
  const { fromRoot } = await import('../support/paths.js');
  const { ServerCredentials } = await import('../../src/index.js');
  const fx = (n: string) => readFileSync(fromRoot('test/grpc/fixtures', n));
  const tlsServer = await startWebServer();
  const port = await tlsServer.server.bind('127.0.0.1:0', ServerCredentials.createSsl(fx('ca.pem'), [{ private_key: fx('server.key'), cert_chain: fx('server.pem') }], false));
  try {
    const url = `https://localhost:${port}/helloworld.Greeter/SayHello`;
    const args = ['--cacert', fromRoot('test/grpc/fixtures/ca.pem'), '--resolve', `localhost:${port}:127.0.0.1`, '-H', 'content-type: application/json', '-d', '{"name":"tls"}'];
    for (const v of ['--http1.1', '--http2']) {
      const out = await curl([...args, '-w', '\n%{http_version}', v, url]);
      const [body, version] = out.split('\n');
      assert.deepEqual(JSON.parse(body!), { message: 'hello tls' }, v);
      assert.equal(version, v === '--http2' ? '2' : '1.1');
    }
  } finally {
    await tlsServer.close();
  }
});

test('a client that stops reading a streamed HTTP/1.1 response: after sendStallTimeoutMs the connection closes and the call ends', async () => {
  const s = await startWebServer({ http2: { sendStallTimeoutMs: 300 } });
  const sock = net.connect(s.port, '127.0.0.1');
  try {
    await new Promise((r) => sock.once('connect', r));
    sock.pause(); // never reads
    // CountRequest { count: 1000, size: 65536 }: 64 MB of replies, far past what the socket buffers hold.
    const body = Buffer.from([0, 0, 0, 0, 7, 0x08, 0xe8, 0x07, 0x10, 0x80, 0x80, 0x04]);
    sock.write(`POST /webtest.Probe/Count HTTP/1.1\r\nHost: x\r\ncontent-type: application/connect+proto\r\ncontent-length: ${body.length}\r\n\r\n`);
    sock.write(body);
    // Blocked on the client, the call parks (off its running slot) until the connection closes.
    for (let i = 0; i < 300 && s.server.stats.parked === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual([s.server.stats.running, s.server.stats.parked], [0, 1], 'the call runs, parked');
    for (let i = 0; i < 500 && (s.server.stats.parked > 0 || s.server.stats.connections > 0); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual([s.server.stats.running, s.server.stats.parked], [0, 0], 'the call ended');
    assert.equal(s.server.stats.connections, 0, 'the connection was closed');
  } finally {
    sock.destroy();
    await s.close();
  }
});
