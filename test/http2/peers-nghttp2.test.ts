// The echo server against nghttp2's command line tools (Debian nghttp2-client): nghttp and
// h2load. Their output is parsed and every request must have succeeded.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startEchoServer, type EchoServer } from '../../examples/h2-echo/server.js';

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

// Async on purpose: the server runs in this process and must keep serving while the tool runs.
function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 60000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

interface H2loadResult {
  total: number;
  started: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  status2xx: number;
}

function parseH2load(out: string): H2loadResult {
  const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  assert.ok(m, `h2load summary not found in:\n${out}`);
  const s = /status codes: (\d+) 2xx/.exec(out);
  assert.ok(s, `h2load status codes not found in:\n${out}`);
  return {
    total: Number(m[1]),
    started: Number(m[2]),
    done: Number(m[3]),
    succeeded: Number(m[4]),
    failed: Number(m[5]),
    errored: Number(m[6]),
    status2xx: Number(s[1]),
  };
}

describe('nghttp and h2load against the echo server (h2c)', () => {
  let server: EchoServer;
  let dir: string;
  let url: string;
  before(async () => {
    server = await startEchoServer({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${server.port}`;
    dir = mkdtempSync(join(tmpdir(), 'h2-nghttp-'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('nghttp -nv GET /: SETTINGS exchanged, :status 200, clean exit', async () => {
    const r = await run('nghttp', ['-nv', `${url}/`]);
    const out = r.stdout.toString();
    assert.equal(r.code, 0, `nghttp failed: ${r.stderr}\n${out}`);
    assert.match(out, /recv SETTINGS frame <length=\d+, flags=0x00, stream_id=0>/);
    assert.match(out, /recv SETTINGS frame <length=0, flags=0x01, stream_id=0>/); // ACK of nghttp's
    assert.match(out, /\(niv=\d+\)/);
    assert.match(out, /recv \(stream_id=\d+\) :status: 200/);
    assert.match(out, /recv DATA frame <length=\d+, flags=0x01, stream_id=\d+>/);
    assert.doesNotMatch(out, /RST_STREAM|error_code=(?!NO_ERROR)/);
  });

  test('nghttp POST -d: the body comes back byte for byte', async () => {
    const body = randomBytes(300 * 1024);
    const file = join(dir, 'body.bin');
    writeFileSync(file, body);
    const r = await run('nghttp', ['-d', file, `${url}/echo`]);
    assert.equal(r.code, 0, `nghttp failed: ${r.stderr}`);
    assert.ok(r.stdout.equals(body), `echoed ${r.stdout.length} bytes, sent ${body.length}`);
  });

  test('nghttp GET of an unknown path: 404', async () => {
    const r = await run('nghttp', ['-v', `${url}/missing`]);
    assert.match(r.stdout.toString(), /recv \(stream_id=\d+\) :status: 404/);
  });

  test('h2load -n 2000 -c 4 -m 10: all requests succeed', async () => {
    const r = await run('h2load', ['-n', '2000', '-c', '4', '-m', '10', `${url}/`]);
    const out = r.stdout.toString();
    assert.equal(r.code, 0, `h2load failed: ${r.stderr}\n${out}`);
    const s = parseH2load(out);
    assert.deepEqual(s, { total: 2000, started: 2000, done: 2000, succeeded: 2000, failed: 0, errored: 0, status2xx: 2000 });
  });

  test('h2load POST 64 KiB bodies, -m 20: all echoed', async () => {
    const file = join(dir, 'post.bin');
    writeFileSync(file, randomBytes(64 * 1024));
    const r = await run('h2load', ['-n', '400', '-c', '2', '-m', '20', '-d', file, `${url}/echo`]);
    const out = r.stdout.toString();
    assert.equal(r.code, 0, `h2load failed: ${r.stderr}\n${out}`);
    const s = parseH2load(out);
    assert.deepEqual(s, { total: 400, started: 400, done: 400, succeeded: 400, failed: 0, errored: 0, status2xx: 400 });
    // 400 x 64 KiB came back: "traffic: ... (N) data" counts response DATA octets.
    const t = /\((\d+)\) data/.exec(out);
    assert.ok(t, out);
    assert.equal(Number(t[1]), 400 * 64 * 1024);
  });
});

describe('h2load over TLS (ALPN h2)', () => {
  let server: EchoServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2-nghttp-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const r = await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    ]);
    assert.equal(r.code, 0, r.stderr);
    server = await startEchoServer({ port: 0, host: '127.0.0.1', tls: { key: readFileSync(key), cert: readFileSync(cert) } });
  });
  after(async () => {
    if (server) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('h2load -n 1000 -c 2 -m 10 https://: all succeed, h2 negotiated', async () => {
    const r = await run('h2load', ['-n', '1000', '-c', '2', '-m', '10', `https://127.0.0.1:${server.port}/`]);
    const out = r.stdout.toString();
    assert.equal(r.code, 0, `h2load failed: ${r.stderr}\n${out}`);
    assert.match(out, /Application protocol: h2/);
    const s = parseH2load(out);
    assert.deepEqual(s, { total: 1000, started: 1000, done: 1000, succeeded: 1000, failed: 0, errored: 0, status2xx: 1000 });
    for (const c of server.connections) assert.equal(c.peer.secure, true);
  });
});
