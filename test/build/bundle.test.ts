// The bundled Greeter runs alone: built by scripts/build.mjs, copied into an empty temp dir (no
// node_modules, no .proto, no JSON anywhere above it), started with plain `node`, and called by a
// grpc-js client. The board's profile is baked in: the HTTP/2 SETTINGS it sends are that profile's,
// and GRPC_EDGE_TARGET still overrides it at run time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fromRoot } from '../support/paths.js';
import { getProfile } from '../../src/server/profile.js';
import { fileDescriptors as helloworldFiles } from '../../examples/greeter/generated/helloworld.js';
import { bufCurl, bufMessages } from '../support/buf.js';

interface BuildResult {
  file: string;
  format: string;
  raw: number;
  gzip: number;
  /** [input path, bytes in the output] */
  inputs: [string, number][];
}
type BundleFn = (o: { profile: unknown; entry: string; name?: string; outdir?: string }) => Promise<BuildResult>;

const tmp = mkdtempSync(join(tmpdir(), 'edge-bundle-test-'));
let built: BuildResult;
let runDir: string;
const children = new Set<ChildProcess>();

before(async () => {
  const { bundle } = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as { bundle: BundleFn };
  built = await bundle({ profile: getProfile('pi-zero-2w'), entry: 'examples/greeter/server.ts', outdir: join(tmp, 'dist') });
  runDir = join(tmp, 'run');
  await import('node:fs').then((fs) => fs.mkdirSync(runDir));
  copyFileSync(built.file, join(runDir, basename(built.file)));
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** Start the copied bundle with the profile's flags; resolves with the port from its "listening" line. */
function start(env: Record<string, string> = {}, file = join(runDir, basename(built.file))): Promise<{ child: ChildProcess; port: number }> {
  const flags = getProfile('pi-zero-2w').node.flags;
  const child = spawn(process.execPath, [...flags, file], {
    cwd: runDir,
    env: { PATH: process.env.PATH ?? '', HOME: runDir, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`bundle exited with ${code} before listening:\n${out}`)));
  });
}

function stop(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.kill('SIGTERM');
  });
}

/** The SETTINGS the server sends first, read with node:http2 as a plain HTTP/2 client. */
function remoteSettings(port: number): Promise<http2.Settings> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once('remoteSettings', (s) => {
      session.close();
      resolve(s);
    });
    session.once('error', reject);
  });
}

test('the bundle is one minified file within the board budget, with no require() of a package', () => {
  assert.equal(built.format, 'cjs');
  assert.match(basename(built.file), /^greeter\.js$/);
  assert.ok(built.raw <= getProfile('pi-zero-2w').bundleBudgetKB * 1024, `${built.raw} bytes over budget`);
  const code = readFileSync(built.file, 'utf8');
  assert.match(code.split('\n')[0]!, /^#!\/usr\/bin\/env -S node --max-old-space-size=64 /);
  // Only Node built-ins may be loaded at run time.
  const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
  for (const r of required) assert.match(r, /^(node:)?[a-z_]+(\/[a-z_]+)?$/, `bundle requires "${r}"`);
  assert.ok(!existsSync(join(runDir, 'node_modules')));
});

test('the copied bundle serves SayHello to grpc-js with the baked pi-zero-2w profile', async () => {
  const { child, port } = await start();
  try {
    const settings = await remoteSettings(port);
    const limits = getProfile('pi-zero-2w').server;
    assert.equal(settings.maxConcurrentStreams, limits.maxConcurrentStreams);
    assert.equal(settings.initialWindowSize, limits.initialWindowSize);

    const def = protoLoader.loadSync(fromRoot('protos/helloworld.proto'), { keepCase: true });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const client = new pkg.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<{ message: string }>((resolve, reject) =>
        client.SayHello({ name: 'bundle' }, (err: Error | null, res: { message: string }) => (err ? reject(err) : resolve(res))),
      );
      assert.equal(reply.message, 'hello bundle');
    } finally {
      client.close();
    }
  } finally {
    assert.equal(await stop(child), 0, 'SIGTERM stops the bundled greeter cleanly');
  }
});

test('reflection is opt-in: none in the Greeter bundle; the Greeter-with-reflection bundle serves it to buf curl', async (t) => {
  const code = readFileSync(built.file, 'utf8');
  for (const marker of ['grpc.reflection', 'ServerReflection', 'file_descriptor_proto', helloworldFiles[0]!.descriptor.slice(0, 40)]) {
    assert.ok(!code.includes(marker), `the Greeter bundle holds reflection code or descriptors ("${marker}")`);
  }
  const { bundle } = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as { bundle: BundleFn };
  const refl = await bundle({ profile: getProfile('pi-zero-2w'), entry: 'examples/greeter/server-reflection.ts', name: 'greeter-reflection', outdir: join(tmp, 'dist') });
  t.diagnostic(`Greeter ${built.raw} B; with health and reflection ${refl.raw} B (+${refl.raw - built.raw} B)`);
  const file = join(runDir, basename(refl.file));
  copyFileSync(refl.file, file);
  const { child, port } = await start({}, file);
  try {
    const services = await bufCurl(['--list-services', `http://127.0.0.1:${port}`]);
    assert.equal(services.code, 0, services.stderr);
    assert.deepEqual(services.stdout.trim().split('\n').sort(), [
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
      'helloworld.Greeter',
    ]);
    const hello = await bufCurl(['-d', '{"name":"board"}', `http://127.0.0.1:${port}/helloworld.Greeter/SayHello`]);
    assert.equal(hello.code, 0, hello.stderr);
    assert.deepEqual(bufMessages(hello.stdout), [{ message: 'hello board' }]);
  } finally {
    assert.equal(await stop(child), 0);
  }
});

test('started through a symlinked directory, the bundle still knows it is the main module', async () => {
  const link = join(tmp, 'current');
  symlinkSync(runDir, link);
  const { child, port } = await start({}, join(link, basename(built.file)));
  try {
    assert.ok(port > 0);
  } finally {
    await stop(child);
  }
});

test('GRPC_EDGE_TARGET overrides the baked board at run time', async () => {
  const { child, port } = await start({ GRPC_EDGE_TARGET: 'pi5' });
  try {
    const settings = await remoteSettings(port);
    assert.equal(settings.maxConcurrentStreams, getProfile('pi5').server.maxConcurrentStreams);
    assert.equal(settings.initialWindowSize, getProfile('pi5').server.initialWindowSize);
  } finally {
    await stop(child);
  }
});

test('the Greeter bundle carries none of the web protocols (opt-in: only web.ts imports them)', () => {
  const code = readFileSync(built.file, 'utf8');
  for (const marker of ['node:http', 'application/grpc-web', 'connect-protocol-version', 'access-control-expose-headers', 'trailer-', 'has no ProtoJSON form']) {
    assert.ok(!code.includes(marker), `"${marker}" in the gRPC-only Greeter bundle`);
  }
  // What it does carry for HTTP/1.1: the one fixed answer (src/server/server.ts HTTP1_ANSWER).
  assert.ok(code.includes('505 HTTP Version Not Supported'));
});

test('the web-enabled Greeter bundle (examples/greeter/web.ts) answers curl, Connect JSON over HTTP/1.1, and gRPC', async () => {
  const { bundle } = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as { bundle: BundleFn };
  const web = await bundle({ profile: getProfile('pi-zero-2w'), entry: 'examples/greeter/web.ts', name: 'greeter-web', outdir: join(tmp, 'dist') });
  const file = join(runDir, basename(web.file));
  copyFileSync(web.file, file);
  const { child, port } = await start({}, file);
  try {
    const out = await new Promise<string>((resolve, reject) =>
      execFile('curl', ['-sS', '-H', 'content-type: application/json', '-d', '{"name":"pi"}', `http://127.0.0.1:${port}/helloworld.Greeter/SayHello`], (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    assert.deepEqual(JSON.parse(out), { message: 'hello pi' });
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(fromRoot('protos/helloworld.proto'), { keepCase: true })) as any;
    const client = new pkg.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<{ message: string }>((resolve, reject) =>
        client.SayHello({ name: 'h2' }, (err: Error | null, res: { message: string }) => (err ? reject(err) : resolve(res))),
      );
      assert.equal(reply.message, 'hello h2');
    } finally {
      client.close();
    }
  } finally {
    assert.equal(await stop(child), 0);
  }
  console.log(`# web-enabled Greeter bundle: ${web.raw} bytes (gRPC-only Greeter: ${built.raw} bytes)`);
});

test("budgets weigh grpc-edge, not the service: the interop server's own 13 KB get the application allowance, the Greeter's fit the base", async () => {
  type Budget = (profile: unknown, inputs: [string, number][]) => { bytes: number; features: string[] };
  const build = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as {
    bundle: BundleFn;
    bundleBudget: Budget;
    isApplicationInput: (p: string) => boolean;
    APPLICATION_IN_BASE_KB: number;
  };
  const profile = getProfile('pi-zero-2w');
  const own = (r: BuildResult): number => r.inputs.reduce((a, [p, n]) => (build.isApplicationInput(p) ? a + n : a), 0);
  // The base budget holds a Greeter-sized application: the Greeter's own modules fit in it, no allowance.
  assert.ok(own(built) > 0 && own(built) <= build.APPLICATION_IN_BASE_KB * 1024, `Greeter's own modules: ${own(built)} B`);
  assert.deepEqual(build.bundleBudget(profile, built.inputs), { bytes: profile.bundleBudgetKB * 1024, features: [] });
  const interop = await build.bundle({ profile, entry: 'examples/interop/server.ts', outdir: join(tmp, 'dist') });
  const app = interop.inputs.filter(([p]) => build.isApplicationInput(p)).map(([p]) => p).sort();
  assert.deepEqual(app, ['examples/interop/generated/test.ts', 'examples/interop/server.ts']);
  const budget = build.bundleBudget(profile, interop.inputs);
  const beyond = own(interop) - build.APPLICATION_IN_BASE_KB * 1024;
  assert.deepEqual(budget.features, ['reflection +12 KB', `application +${(beyond / 1024).toFixed(1)} KB`]);
  assert.equal(budget.bytes, (profile.bundleBudgetKB + 12) * 1024 + beyond);
  // What grpc-edge puts in it (all but the application's own modules) is held to the base less the
  // Greeter-sized room, plus reflection's allowance: the same check, said the other way round.
  assert.ok(interop.raw - own(interop) <= (profile.bundleBudgetKB - build.APPLICATION_IN_BASE_KB + 12) * 1024, `grpc-edge's part of the interop bundle: ${interop.raw - own(interop)} B`);
  assert.ok(interop.raw <= budget.bytes, `interop ${interop.raw} B over ${budget.bytes} B`);
  assert.ok(interop.raw > (profile.bundleBudgetKB + 12) * 1024, 'the interop bundle is over base + reflection without the application allowance (or this test proves nothing)');
});
