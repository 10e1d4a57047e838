// /metrics, / and /status.json over HTTP/1.1 on a server WITHOUT the web protocols: src/observe's
// own Http1Hook on src/http1's transport. What Prometheus, curl without --http2-prior-knowledge and
// browsers on http:// URLs speak. Same routes, access policy and answers as over HTTP/2 (curl both
// ways on the same port), anything else a short answer (404, 405, and the server's 505 for gRPC
// over HTTP/1.1), the transport's limits (431), the HTTP/1.1 sockets' bytes in the byte counters,
// the 505 again once observe stops, and the same over TLS for a client that chose http/1.1 by ALPN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { ServerCredentials } from '../../src/index.js';
import { enableObserve } from '../../src/observe/index.js';
import type { Msg } from '../grpc/helpers.js';
import { fixture, startHarness } from '../grpc/helpers.js';
import { CURL, curl, promtoolCheck, samples } from './helpers.js';

const unary = (client: any, text: string): Promise<Msg> =>
  new Promise((resolve, reject) => client.Unary({ text }, (err: Error | null, res: Msg) => (err ? reject(err) : resolve(res))));

const impl = { Unary: (req: Msg) => ({ text: req.text }) };
const OK = 'grpc_server_handled_total{grpc_service="edge.test.TestService",grpc_method="Unary",grpc_type="unary",grpc_code="OK"}';

/** Send `request` on a fresh TCP connection; resolves with all it got back once the server closed. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

test('web protocols off: /metrics, / and /status.json over HTTP/1.1 (curl) as over HTTP/2, gRPC on the same port, promtool passes', async () => {
  const h = await startHarness(impl);
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  const base = `http://127.0.0.1:${h.port}`;
  try {
    for (let i = 0; i < 3; i++) assert.equal((await unary(h.client, `n${i}`)).text, `n${i}`);
    const [one, two] = [await curl(`${base}/metrics`, { http2: false }), await curl(`${base}/metrics`, { http2: true })];
    for (const r of [one, two]) {
      assert.equal(r.status, 200);
      assert.match(r.headers, /content-type: text\/plain; version=0\.0\.4; charset=utf-8/);
      assert.match(r.headers, /cache-control: no-store/);
      assert.equal(samples(r.body).get(OK), 3);
    }
    assert.match(one.headers, /^http\/1\.1 200/);
    assert.match(two.headers, /^http\/2 200/);
    const check = promtoolCheck(one.body);
    assert.equal(check.status, 0, check.output);

    const json = await curl(`${base}/status.json`, { http2: false });
    assert.equal(json.status, 200);
    assert.match(json.headers, /content-type: application\/json/);
    assert.equal(JSON.parse(json.body).calls.handled, 3);
    const page = await curl(`${base}/`, { http2: false });
    assert.equal(page.status, 200);
    assert.match(page.headers, /content-type: text\/html/);
    assert.match(page.body, /<title>grpc-edge status<\/title>/);
    assert.equal((await curl(`${base}/index.html`, { http2: false })).body, page.body);
    // HEAD: the GET's headers, no body.
    const head = await curl(`${base}/metrics`, { http2: false, args: ['-I'] });
    assert.equal(head.status, 200);
    assert.match(head.headers, /content-length: [1-9]\d+/);
    assert.equal(head.body, '');
    // gRPC still works next to it.
    assert.equal((await unary(h.client, 'after')).text, 'after');
  } finally {
    observe.stop();
    await h.close();
  }
});

test('web protocols off, HTTP/1.1: bearer token (header and ?token=), 401 / 403 as over HTTP/2, cross-origin reads refused', async () => {
  const h = await startHarness(impl);
  const base = `http://127.0.0.1:${h.port}`;
  // Loopback is not on the list: this client is "another address" and needs the token.
  let observe = enableObserve(h.server, { renderCacheMs: 0, token: 'tok', allow: ['10.9.9.9'] });
  try {
    await unary(h.client, 'a');
    for (const http2 of [false, true]) {
      const ok = await curl(`${base}/metrics`, { http2, headers: ['Authorization: Bearer tok'] });
      assert.equal(ok.status, 200, `http2 ${http2}`);
      assert.equal(samples(ok.body).get(OK), 1);
      const page = await curl(`${base}/status.json?token=tok`, { http2 });
      assert.equal(page.status, 200);
      assert.equal(JSON.parse(page.body).calls.handled, 1);
      const denied = await curl(`${base}/status.json`, { http2 });
      assert.equal(denied.status, 401);
      assert.match(denied.headers, /www-authenticate: bearer realm="grpc-edge"/);
      assert.equal(denied.body, 'unauthorized\n');
      assert.equal((await curl(`${base}/metrics`, { http2, headers: ['Authorization: Bearer nope'] })).status, 401);
      assert.equal((await curl(`${base}/?token=nope`, { http2 })).status, 401);
      const xo = await curl(`${base}/status.json?token=tok`, { http2, headers: ['Origin: http://elsewhere.example'] });
      assert.equal(xo.status, 403);
      assert.doesNotMatch(xo.body, /grpc|queue/);
    }
    observe.stop();
    // An allow list without this client's address and no token: 403, figures nowhere.
    observe = enableObserve(h.server, { renderCacheMs: 0, allow: ['192.0.2.0/24', '::2'] });
    const refused = await curl(`${base}/metrics`, { http2: false });
    assert.equal(refused.status, 403);
    assert.equal(refused.body, 'forbidden\n');
    observe.stop();
    // The client's own address on the list: in.
    observe = enableObserve(h.server, { renderCacheMs: 0, allow: ['127.0.0.1'] });
    assert.equal((await curl(`${base}/metrics`, { http2: false })).status, 200);
  } finally {
    observe.stop();
    await h.close();
  }
});

test('web protocols off, HTTP/1.1: other paths 404, other methods 405, gRPC (or gRPC-Web, Connect) 505; the transport\'s header limit (431)', async () => {
  const h = await startHarness(impl, { http2: { maxHeaderListSize: 4096 } });
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  const base = `http://127.0.0.1:${h.port}`;
  try {
    const missing = await curl(`${base}/nope`, { http2: false });
    assert.equal(missing.status, 404);
    assert.equal(missing.body, 'not found\n');
    const post = await curl(`${base}/metrics`, { http2: false, args: ['-X', 'POST', '-d', 'x'] });
    assert.equal(post.status, 405);
    assert.match(post.headers, /allow: get, head/);
    // gRPC over HTTP/1.1, and the web protocols' content types (off here): the server's 505, and
    // the connection closes after it.
    for (const ct of ['application/grpc', 'application/grpc-web+proto', 'application/json']) {
      const r = await curl(`${base}/edge.test.TestService/Unary`, { http2: false, headers: [`content-type: ${ct}`], args: ['-d', 'AAAAAAA='] });
      assert.equal(r.status, 505, ct);
      assert.match(r.headers, /^http\/1\.1 505 http version not supported/);
      assert.match(r.headers, /connection: close/);
      assert.equal(r.body, 'this port speaks gRPC over HTTP/2\n');
    }
    const big = await curl(`${base}/metrics`, { http2: false, headers: [`x-big: ${'a'.repeat(8000)}`] });
    assert.equal(big.status, 431);
    assert.equal((await unary(h.client, 'still')).text, 'still');
  } finally {
    observe.stop();
    await h.close();
  }
});

test('web protocols off, HTTP/1.1: bytes in and out join grpc_edge_received/sent_bytes_total, open keep-alive sockets counted at scrape time', async () => {
  const h = await startHarness(impl);
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  const base = `http://127.0.0.1:${h.port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string): Promise<{ body: string; socket: import('node:net').Socket }> =>
    new Promise((resolve, reject) => {
      http.get(`${base}${path}`, { agent }, (res) => {
        const socket = res.socket as import('node:net').Socket;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ body, socket }));
      }).on('error', reject);
    });
  try {
    // No HTTP/2 connection ever: every byte counted here came over HTTP/1.1.
    h.client.close();
    const before = observe.snapshot().http2;
    assert.equal(before.bytesIn + before.bytesOut, 0);
    const page = await get('/');
    const second = await get('/metrics');
    assert.equal(second.socket, page.socket, 'one keep-alive connection');
    const s = samples(second.body);
    // While that connection is open, the scrape counts what it read and wrote so far: the first
    // request and answer (the page) at least, and the second request.
    assert.ok(s.get('grpc_edge_sent_bytes_total')! >= page.body.length, `${s.get('grpc_edge_sent_bytes_total')} < ${page.body.length}`);
    assert.ok(s.get('grpc_edge_received_bytes_total')! >= 2 * 'GET / HTTP/1.1\r\n'.length);
    const sock = second.socket;
    const [read, written] = [sock.bytesWritten, sock.bytesRead]; // the client's view: what the server read / wrote
    agent.destroy();
    while (h.server.stats.connections > 0) await new Promise((r) => setTimeout(r, 10));
    // Closed: exactly its socket's counts.
    const after = observe.snapshot().http2;
    assert.equal(after.bytesIn, read);
    assert.equal(after.bytesOut, written);
  } finally {
    agent.destroy();
    observe.stop();
    await h.close();
  }
});

test('observe stopped (or never on), web protocols off: idle HTTP/1.1 connections close, new ones get the server\'s fixed 505 again', { timeout: 15_000 }, async () => {
  const h = await startHarness(impl);
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  try {
    assert.match(await raw(h.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 OK\r\n/);
    // A keep-alive connection, idle after its answer, when observe stops: the server closes it.
    const idle = connect(h.port, '127.0.0.1');
    let got = '';
    idle.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const closed = new Promise<void>((resolve) => idle.on('close', () => resolve()));
    idle.write('GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n');
    while (!got.includes('"calls"')) await new Promise((r) => setTimeout(r, 10));
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n[^]*keep-alive/i);
    observe.stop();
    await closed;
    const r = await raw(h.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(r, /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/);
    assert.match(r, /\r\n\r\nthis port speaks gRPC over HTTP\/2\n$/);
  } finally {
    await h.close();
  }
});

test('over TLS: a client that picks http/1.1 by ALPN gets the routes (or the 505 without observe); h2 as before', async () => {
  const creds = ServerCredentials.createSsl(null, [{ private_key: readFileSync(fixture('server.key')), cert_chain: readFileSync(fixture('server.pem')) }]);
  const h = await startHarness(impl, {}, { credentials: creds, target: 'localhost:0' });
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  /** curl https://localhost:<port><path> with `version`: "<http_version> <status>\n<body>". */
  const get = (path: string, version: string): Promise<string> =>
    new Promise((resolve, reject) =>
      execFile(
        CURL,
        ['-s', '-S', '--max-time', '10', '--cacert', fixture('ca.pem'), '--resolve', `localhost:${h.port}:127.0.0.1`, version, '-w', '%{http_version} %{http_code}\n', `https://localhost:${h.port}${path}`],
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
  try {
    const one = await get('/metrics', '--http1.1');
    assert.match(one, /grpc_edge_info\{/);
    assert.match(one, /^1\.1 200$/m);
    assert.match(await get('/metrics', '--http2'), /^2 200$/m);
    assert.match(await get('/nope', '--http1.1'), /^1\.1 404$/m);
    observe.stop();
    assert.equal(await get('/metrics', '--http1.1'), 'this port speaks gRPC over HTTP/2\n1.1 505\n');
  } finally {
    observe.stop();
    await h.close();
  }
});
