// A real Prometheus (Debian's prometheus package) scrapes the Greeter's /metrics: started here on
// loopback with a temporary config (1 s scrape interval), it reports up == 1 and the Greeter's
// grpc_server_handled_total through its HTTP API after calls from grpc-js.
//
// Prometheus scrapes over HTTP/1.1, or over HTTP/2 when TLS offers h2 (ALPN): both are run here,
// plain http:// over HTTP/1.1 (with a bearer token) with the web protocols on (their HTTP/1.1 serves
// the routes) and off (src/observe's own), https:// over HTTP/2.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Server, ServerCredentials, loadServices, webProtocols } from '../../src/index.js';
import { enableObserve } from '../../src/observe/index.js';
import { descriptor, serviceNames } from '../../examples/greeter/generated/helloworld.js';
import { greeterHandlers } from '../../examples/greeter/greeter.js';
import { fixture } from '../grpc/helpers.js';
import { fromRoot } from '../support/paths.js';
import { PROMETHEUS } from './helpers.js';

const skip = existsSync(PROMETHEUS) ? false : `${PROMETHEUS} is missing (apt-get install prometheus)`;
const tmp = mkdtempSync(join(tmpdir(), 'edge-prometheus-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Start prometheus scraping `targets` ('127.0.0.1:port', ...); resolves with its HTTP API base URL. */
async function startPrometheus(name: string, targets: string[], scrape: string): Promise<{ api: string; log: () => string }> {
  const port = await freePort();
  const dir = join(tmp, name);
  const config = join(tmp, `${name}.yml`);
  writeFileSync(
    config,
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: edge\n${scrape}    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`,
  );
  const child = spawn(
    PROMETHEUS,
    [`--config.file=${config}`, `--storage.tsdb.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmp },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { api: `http://127.0.0.1:${port}`, log: () => out };
}

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(api: string, q: string): Promise<Vector[]> {
  try {
    const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    if (!r.ok) return [];
    const j = (await r.json()) as { data: { result: Vector[] } };
    return j.data.result;
  } catch {
    return []; // not up yet
  }
}

/** Poll the query until `ok` holds for its result (up to ~15 s). */
async function until(api: string, q: string, ok: (v: Vector[]) => boolean, log: () => string): Promise<Vector[]> {
  let last: Vector[] = [];
  for (let i = 0; i < 150; i++) {
    last = await query(api, q);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus: ${q} never held; last ${JSON.stringify(last)}\n${log()}`);
}

async function greeterCalls(port: number, n: number, secure: boolean): Promise<void> {
  const def = protoLoader.loadSync(fromRoot('protos/helloworld.proto'), { keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const creds = secure ? grpc.credentials.createSsl(readFileSync(fixture('ca.pem'))) : grpc.credentials.createInsecure();
  const client = new pkg.helloworld.Greeter(`localhost:${port}`, creds);
  try {
    for (let i = 0; i < n; i++) {
      await new Promise<void>((resolve, reject) => client.SayHello({ name: 'p' }, (err: Error | null) => (err ? reject(err) : resolve())));
    }
  } finally {
    client.close();
  }
}

const HANDLED = 'grpc_server_handled_total{job="edge",grpc_service="helloworld.Greeter",grpc_method="SayHello",grpc_type="unary",grpc_code="OK"}';

test('Prometheus scrapes /metrics over TLS (HTTP/2 by ALPN): up == 1 and the Greeter\'s grpc_server_handled_total', { skip }, async () => {
  const server = new Server();
  server.addService(loadServices(descriptor)[serviceNames.Greeter]!, greeterHandlers);
  const creds = ServerCredentials.createSsl(null, [{ private_key: readFileSync(fixture('server.key')), cert_chain: readFileSync(fixture('server.pem')) }]);
  const port = await server.bind('127.0.0.1:0', creds);
  const observe = enableObserve(server);
  try {
    await greeterCalls(port, 5, true);
    const scrape = `    scheme: https\n    tls_config:\n      ca_file: ${fixture('ca.pem')}\n      server_name: localhost\n`;
    const { api, log } = await startPrometheus('tls', [`127.0.0.1:${port}`], scrape);
    const up = await until(api, 'up{job="edge"}', (v) => v.length === 1 && v[0]!.value[1] === '1', log);
    assert.equal(up[0]!.metric.instance, `127.0.0.1:${port}`);
    const handled = await until(api, HANDLED, (v) => v.length === 1 && Number(v[0]!.value[1]) >= 5, log);
    assert.equal(Number(handled[0]!.value[1]), 5);
    // The scrape itself went over HTTP/2: the server saw its GET streams.
    assert.ok(observe.snapshot().http2.streamsOpened > 5);
  } finally {
    observe.stop();
    server.forceShutdown();
    await server.terminated;
  }
});

test('Prometheus scrapes http:// /metrics over HTTP/1.1, web protocols on and off, with a bearer token: up == 1 and the handled count for both', { skip }, async () => {
  // Two servers, one job: with the web protocols (their HTTP/1.1 serves the routes) and without
  // (src/observe's own HTTP/1.1).
  const servers = [new Server({ web: webProtocols() }), new Server()];
  const ports: number[] = [];
  const observes = [];
  try {
    for (const server of servers) {
      server.addService(loadServices(descriptor)[serviceNames.Greeter]!, greeterHandlers);
      ports.push(await server.bind('127.0.0.1:0'));
      observes.push(enableObserve(server, { token: 'prom-token', allow: [] }));
    }
    await greeterCalls(ports[0]!, 3, false);
    await greeterCalls(ports[1]!, 4, false);
    writeFileSync(join(tmp, 'token'), 'prom-token\n');
    const scrape = `    authorization:\n      credentials_file: ${join(tmp, 'token')}\n`;
    const { api, log } = await startPrometheus('h1', ports.map((p) => `127.0.0.1:${p}`), scrape);
    const up = await until(api, 'up{job="edge"}', (v) => v.length === 2 && v.every((x) => x.value[1] === '1'), log);
    assert.deepEqual(up.map((v) => v.metric.instance).sort(), ports.map((p) => `127.0.0.1:${p}`).sort());
    const handled = await until(api, HANDLED, (v) => v.length === 2 && v.every((x) => Number(x.value[1]) >= 3), log);
    const byPort = new Map(handled.map((v) => [v.metric.instance, Number(v.value[1])]));
    assert.equal(byPort.get(`127.0.0.1:${ports[0]}`), 3);
    assert.equal(byPort.get(`127.0.0.1:${ports[1]}`), 4);
    const info = await until(api, 'grpc_edge_info', (v) => v.length === 2, log);
    assert.ok(info.every((v) => v.metric.profile === 'host-x64'));
    // The scrapes came over HTTP/1.1 (no HTTP/2 stream but the grpc-js calls'), and their bytes are
    // in the byte counters (a scrape's answer is several KB).
    assert.deepEqual(observes.map((o) => o.snapshot().http2.streamsOpened), [3, 4]);
    const sent = await until(api, 'grpc_edge_sent_bytes_total', (v) => v.length === 2 && v.every((x) => Number(x.value[1]) > 10_000), log);
    assert.equal(sent.length, 2);
  } finally {
    for (const o of observes) o.stop();
    for (const server of servers) server.forceShutdown();
    await Promise.all(servers.map((server) => server.terminated));
  }
});
