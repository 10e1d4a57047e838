// The echo server on our HTTP/2 codec against Node's own HTTP/2 client (nghttp2 inside), over
// h2c (prior knowledge) and TLS with ALPN 'h2'.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startEchoServer, type EchoServer } from '../../examples/h2-echo/server.js';

interface Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | null;
}

function request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer,
  trailers?: Record<string, string>,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined, waitForTrailers: trailers !== undefined });
    const chunks: Buffer[] = [];
    let status = 0;
    let resHeaders: http2.IncomingHttpHeaders = {};
    let resTrailers: http2.IncomingHttpHeaders | null = null;
    req.on('response', (h) => {
      resHeaders = h;
      status = Number(h[':status']);
    });
    req.on('trailers', (t) => {
      resTrailers = t;
    });
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, headers: resHeaders, body: Buffer.concat(chunks), trailers: resTrailers }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

function closeSession(s: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

const MiB = 1 << 20;

describe('node:http2 client over h2c', () => {
  let server: EchoServer;
  let session: http2.ClientHttp2Session;
  before(async () => {
    server = await startEchoServer({ port: 0, host: '127.0.0.1' });
    // Node's client counts 100 MiB of queued request bodies against its own session memory.
    session = http2.connect(`http://127.0.0.1:${server.port}`, { maxSessionMemory: 512 });
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
  });
  after(async () => {
    await closeSession(session);
    await server.close();
  });

  test('GET / returns the small body', async () => {
    const r = await request(session, { ':method': 'GET', ':path': '/' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello from grpc-edge h2-echo\n');
    assert.equal(r.headers['content-length'], String(r.body.length));
  });

  test('unknown path: 404', async () => {
    const r = await request(session, { ':method': 'GET', ':path': '/nope' });
    assert.equal(r.status, 404);
  });

  test('POST with trailers: body and trailers echoed', async () => {
    const body = Buffer.from('abc'.repeat(1000));
    const r = await request(session, { ':method': 'POST', ':path': '/echo' }, body, { 'x-checksum': '42' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, body);
    assert.ok(r.trailers, 'trailers received');
    assert.equal(r.trailers!['x-checksum'], '42');
  });

  test('100 concurrent streams each POST 1 MiB and read 1 MiB back', async () => {
    const base = randomBytes(MiB);
    const bodies: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      const b = Buffer.from(base);
      b.writeUInt32BE(i, 0); // each stream's body differs
      b.writeUInt32BE(i, MiB - 4);
      bodies.push(b);
    }
    const replies = await Promise.all(bodies.map((b) => request(session, { ':method': 'POST', ':path': '/echo' }, b)));
    for (let i = 0; i < 100; i++) {
      assert.equal(replies[i]!.status, 200);
      assert.equal(replies[i]!.body.length, MiB, `stream ${i} length`);
      assert.ok(replies[i]!.body.equals(bodies[i]!), `stream ${i} body`);
    }
    const [conn] = [...server.connections];
    assert.ok(conn);
    assert.ok(conn.stats.streamsOpened >= 100);
    assert.equal(conn.stats.goawayCode, null);
    assert.equal(conn.openStreams, 0);
  });

  test('the client changes SETTINGS_INITIAL_WINDOW_SIZE while responses stream', async () => {
    const n = 2 * MiB + 7;
    const pending = [1, 2, 3].map(() => request(session, { ':method': 'GET', ':path': `/bytes?n=${n}` }));
    session.settings({ initialWindowSize: 1000 });
    await new Promise((r) => setTimeout(r, 5));
    session.settings({ initialWindowSize: 4 * MiB });
    const replies = await Promise.all(pending);
    for (const r of replies) assert.equal(r.body.length, n);
    session.settings({ initialWindowSize: 65535 });
  });

  test('GET /bytes streams a large response under flow control', async () => {
    const r = await request(session, { ':method': 'GET', ':path': `/bytes?n=${3 * MiB + 123}` });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 3 * MiB + 123);
  });

  test('GET /bytes?n=0 is a headers-only response that ends the stream', async () => {
    const r = await request(session, { ':method': 'GET', ':path': '/bytes?n=0' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '0');
    assert.equal(r.body.length, 0);
  });
});

describe('node:http2 client over TLS with ALPN h2', () => {
  let dir: string;
  let server: EchoServer;
  let session: http2.ClientHttp2Session;
  let cert: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2-echo-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'));
    server = await startEchoServer({ port: 0, host: '127.0.0.1', tls: { key: readFileSync(join(dir, 'key.pem')), cert } });
    session = http2.connect(`https://127.0.0.1:${server.port}`, { ca: cert, maxSessionMemory: 512 });
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
  });
  after(async () => {
    if (session) await closeSession(session);
    if (server) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('ALPN negotiated h2 and GET works', async () => {
    assert.equal(session.alpnProtocol, 'h2');
    const r = await request(session, { ':method': 'GET', ':path': '/' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello from grpc-edge h2-echo\n');
    const [conn] = [...server.connections];
    assert.equal(conn!.peer.secure, true);
  });

  test('100 concurrent streams each POST 1 MiB over TLS', async () => {
    const base = randomBytes(MiB);
    const bodies = Array.from({ length: 100 }, (_, i) => {
      const b = Buffer.from(base);
      b.writeUInt32BE(i, 0);
      return b;
    });
    const replies = await Promise.all(bodies.map((b) => request(session, { ':method': 'POST', ':path': '/echo' }, b)));
    for (let i = 0; i < bodies.length; i++) {
      assert.equal(replies[i]!.status, 200);
      assert.ok(replies[i]!.body.equals(bodies[i]!), `stream ${i} body`);
    }
  });
});
