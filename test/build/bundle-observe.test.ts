// Metrics and the status page are opt-in: the Greeter bundle (examples/greeter/server.ts, which does
// not enable them) carries none of src/observe, while the bundle of what `npm start` runs
// (examples/greeter/start.ts, which does) carries it and serves /metrics, /status.json and / from
// the single bundled file, shortened property names and all. The Greeter with metrics alone
// (examples/greeter/metrics.ts, no web protocols) carries src/observe and the HTTP/1.1 transport
// (src/http1) but no gRPC-Web / Connect code, and serves /metrics over HTTP/1.1 (curl) while the
// plain Greeter bundle still answers HTTP/1.1 with its 505.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fromRoot } from '../support/paths.js';
import { getProfile } from '../../src/server/profile.js';
import { CURL, h2get, samples } from '../observe/helpers.js';

interface BuildResult {
  file: string;
  raw: number;
  inputs: [string, number][];
}
type BundleFn = (o: { profile: unknown; entry: string; outdir?: string }) => Promise<BuildResult>;
type BudgetFn = (profile: unknown, inputs: [string, number][]) => { bytes: number; features: string[] };

const tmp = mkdtempSync(join(tmpdir(), 'edge-bundle-observe-'));
let greeter: BuildResult;
let observed: BuildResult;
let metricsOnly: BuildResult;
let bundleBudget: BudgetFn;
const children = new Set<ChildProcess>();

// Strings only src/observe has: its metric names, its JSON endpoint, its page, its option check.
const MARKERS = ['grpc_server_handled_total', 'status.json', 'grpc-edge status', 'sampleIntervalMs', 'monitorEventLoopDelay'];

before(async () => {
  const build = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as { bundle: BundleFn; bundleBudget: BudgetFn };
  const { bundle } = build;
  bundleBudget = build.bundleBudget;
  const profile = getProfile('pi-zero-2w');
  greeter = await bundle({ profile, entry: 'examples/greeter/server.ts', outdir: join(tmp, 'a') });
  observed = await bundle({ profile, entry: 'examples/greeter/start.ts', outdir: join(tmp, 'b') });
  metricsOnly = await bundle({ profile, entry: 'examples/greeter/metrics.ts', outdir: join(tmp, 'c') });
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

test('the Greeter bundle, which does not enable metrics, has none of src/observe; the one that does has it', () => {
  const plain = readFileSync(greeter.file, 'utf8');
  const withObserve = readFileSync(observed.file, 'utf8');
  for (const m of MARKERS) {
    assert.ok(!plain.includes(m), `the Greeter bundle contains "${m}"`);
    assert.ok(withObserve.includes(m), `the npm start bundle lacks "${m}" (the check above could not fail)`);
  }
  assert.ok(observed.raw > greeter.raw + 8000, `${observed.raw} vs ${greeter.raw}`);
});

test("budgets: the Greeter gets the profile's alone; the npm start bundle its features' allowances too, and fits", () => {
  const profile = getProfile('pi-zero-2w');
  const plain = bundleBudget(profile, greeter.inputs);
  assert.deepEqual(plain, { bytes: profile.bundleBudgetKB * 1024, features: [] });
  assert.ok(greeter.raw <= plain.bytes, `Greeter ${greeter.raw} > ${plain.bytes}`);
  const all = bundleBudget(profile, observed.inputs);
  assert.deepEqual(
    all.features.map((f) => f.split(' ')[0]),
    ['health', 'reflection', 'web', 'http1', 'observe'],
  );
  assert.ok(observed.raw > plain.bytes, 'the npm start bundle is over the plain budget (or this test proves nothing)');
  assert.ok(observed.raw <= all.bytes, `npm start bundle ${observed.raw} > ${all.bytes}`);
  const metrics = bundleBudget(profile, metricsOnly.inputs);
  assert.deepEqual(metrics.features.map((f) => f.split(' ')[0]), ['http1', 'observe']);
  assert.ok(metricsOnly.raw <= metrics.bytes, `metrics-only bundle ${metricsOnly.raw} > ${metrics.bytes}`);
});

test('the metrics-only bundle carries src/observe and the HTTP/1.1 transport, none of gRPC-Web / Connect / JSON', () => {
  const code = readFileSync(metricsOnly.file, 'utf8');
  for (const m of MARKERS) assert.ok(code.includes(m), `the metrics-only bundle lacks "${m}"`);
  assert.match(code, /["']node:http["']/, 'the HTTP/1.1 transport (node:http) is in');
  for (const m of ['application/grpc-web', 'connect-protocol-version', 'access-control-expose-headers']) {
    assert.ok(!code.includes(m), `"${m}" (web protocols) in the metrics-only bundle`);
    assert.ok(readFileSync(observed.file, 'utf8').includes(m), `the npm start bundle lacks "${m}" (the check above could not fail)`);
  }
  assert.ok(!metricsOnly.inputs.some(([p, n]) => n > 0 && p.startsWith('src/web/')));
});

/** Start a bundled Greeter on loopback; resolves with its port. */
function startBundle(file: string): Promise<number> {
  const child = spawn(process.execPath, [file], {
    cwd: tmp,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${out}`)));
  });
}

/** curl over HTTP/1.1: "<status> <body>". */
function curl1(url: string, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(CURL, ['-s', '-S', '--http1.1', '--max-time', '10', '-w', ' %{http_code}', ...args, url], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}

test('bundled: the metrics-only Greeter serves /metrics over HTTP/1.1 and refuses gRPC over it with 505; the plain Greeter answers 505', async () => {
  const [withMetrics, plain] = await Promise.all([startBundle(metricsOnly.file), startBundle(greeter.file)]);
  const def = protoLoader.loadSync(fromRoot('protos/helloworld.proto'), { keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.helloworld.Greeter(`127.0.0.1:${withMetrics}`, grpc.credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) => client.SayHello({ name: 'b' }, (err: Error | null) => (err ? reject(err) : resolve())));
    const m = await curl1(`http://127.0.0.1:${withMetrics}/metrics`);
    assert.match(m, / 200$/);
    assert.equal(samples(m.slice(0, m.lastIndexOf(' '))).get('grpc_server_handled_total{grpc_service="helloworld.Greeter",grpc_method="SayHello",grpc_type="unary",grpc_code="OK"}'), 1);
    assert.match(await curl1(`http://127.0.0.1:${withMetrics}/`), /<title>grpc-edge status<\/title>[^]* 200$/);
    const grpcOver1 = ['-H', 'content-type: application/grpc', '-d', 'x'];
    assert.equal(await curl1(`http://127.0.0.1:${withMetrics}/helloworld.Greeter/SayHello`, grpcOver1), 'this port speaks gRPC over HTTP/2\n 505');
    assert.equal(await curl1(`http://127.0.0.1:${plain}/metrics`), 'this port speaks gRPC over HTTP/2\n 505');
    assert.equal(await curl1(`http://127.0.0.1:${plain}/helloworld.Greeter/SayHello`, grpcOver1), 'this port speaks gRPC over HTTP/2\n 505');
  } finally {
    client.close();
  }
});

test('the bundled npm-start Greeter serves /metrics and /status.json after a grpc-js call', async () => {
  const port = await startBundle(observed.file);
  const def = protoLoader.loadSync(fromRoot('protos/helloworld.proto'), { keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => client.SayHello({ name: 'b' }, (err: Error | null) => (err ? reject(err) : resolve())));
    }
    const m = await h2get(session, '/metrics');
    assert.equal(m.status, 200);
    const s = samples(m.body);
    assert.equal(s.get('grpc_server_handled_total{grpc_service="helloworld.Greeter",grpc_method="SayHello",grpc_type="unary",grpc_code="OK"}'), 2);
    assert.equal(s.get('grpc_edge_memory_budget_bytes'), 128 * 1048576, "the baked pi-zero-2w profile's budget");
    const j = JSON.parse((await h2get(session, '/status.json')).body);
    assert.equal(j.calls.handled, 2);
    assert.equal(j.profile, 'pi-zero-2w');
    assert.equal(j.queue.maxRunning, getProfile('pi-zero-2w').server.maxRunning);
    assert.deepEqual(j.serving.map((x: { name: string }) => x.name), ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', 'helloworld.Greeter']);
    assert.ok(Array.isArray(j.history) && typeof j.connections.open === 'number' && typeof j.http2.limits.ping_flood === 'number');
    const page = await h2get(session, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>grpc-edge status<\/title>/);
  } finally {
    session.close();
    client.close();
  }
});
