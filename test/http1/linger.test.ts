// An HTTP/1.1 answer that goes out before the request body was read (404/501 for an unknown path,
// 415, a Connect error) closes the connection with a lingering close (src/http1/server.ts
// lingerSoon): our FIN, up to LINGER_BYTES of the body read and dropped, then no more reading until
// the client's FIN, the end of the body, or LINGER_MS. Before, the socket was destroyed with the
// body still arriving, the kernel answered with a RST, and node's http.request got EPIPE instead of
// the status. Real peers: node's http.request and curl sending 32 MB bodies; a raw socket that
// ignores the answer and writes on (bounded: it is read no further than LINGER_BYTES, then closed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LINGER_BYTES } from '../../src/http1/server.js';
import { enableObserve } from '../../src/observe/index.js';
import { startWebServer } from '../web/helpers.js';

const BODY = 32 << 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POST `BODY` octets with node's http.request: the status it gets, or its error's code. */
function post(port: number, path: string, type: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': type, 'content-length': String(BODY) } });
    req.on('response', (res) => {
      res.resume();
      resolve(String(res.statusCode));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < BODY) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** The server's grpc_edge_received_bytes_total. */
async function received(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^grpc_edge_received_bytes_total (\d+)$/m.exec(text)![1]);
}

test('node http.request and curl POSTing 32 MB get the early answer, not EPIPE / a reset', async () => {
  const s = await startWebServer();
  const dir = mkdtempSync(join(tmpdir(), 'linger-'));
  try {
    for (let i = 0; i < 3; i++) {
      // unknown path (the web protocols answer it at once), and a Connect unary call with a body past its limit
      assert.equal(await post(s.port, '/nope', 'application/json'), '501');
      assert.match(await post(s.port, '/helloworld.Greeter/SayHello', 'application/json'), /^4\d\d$/);
    }
    const file = join(dir, 'body');
    writeFileSync(file, Buffer.alloc(BODY, 0x61));
    for (let i = 0; i < 2; i++) {
      const code = await new Promise<string>((resolve) =>
        execFile(
          'curl',
          ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'content-type: application/json', '--data-binary', `@${file}`, `http://127.0.0.1:${s.port}/nope`],
          { timeout: 30_000 },
          (_err, stdout) => resolve(stdout.toString()),
        ),
      );
      assert.equal(code, '501');
    }
    // the connection is kept no longer than that: the server has no HTTP/1.1 connection left
    const h1 = () => s.server.stats.connections;
    for (let i = 0; i < 300 && h1() > 0; i++) await sleep(10);
    assert.equal(h1(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await s.close();
  }
});

test('a client that ignores the early answer and writes on is read no further than LINGER_BYTES, then closed', async () => {
  const s = await startWebServer();
  const observe = enableObserve(s.server, { renderCacheMs: 0 });
  try {
    const before = await received(s.port);
    const sock = net.connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true });
    sock.on('error', () => {});
    let text = '';
    sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    await new Promise((r) => sock.once('connect', r));
    // a content type the web protocols refuse at once (415), before reading any of the body
    const head = `POST /helloworld.Greeter/SayHello HTTP/1.1\r\nHost: x\r\nContent-Type: text/weird\r\nContent-Length: ${1 << 30}\r\n\r\n`;
    sock.write(head);
    // 64 KB writes as fast as the socket takes them, whatever comes back, until it closes
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let writing = true;
    void closed.then(() => (writing = false));
    while (writing) if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r).once('close', r));
    await closed;
    assert.match(text, /^HTTP\/1\.1 415 /);
    const read = (await received(s.port)) - before;
    // what came with the head and before the answer went out, plus the linger's share and the
    // reads in flight when it stopped reading (64 KB each)
    assert.ok(read < LINGER_BYTES + 512 * 1024, `the server read ${read} octets`);
    assert.ok(sock.bytesWritten > 2 * read, `the client pushed ${sock.bytesWritten} octets`);
  } finally {
    observe.stop();
    await s.close();
  }
});
