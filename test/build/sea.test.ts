// `npm run build -- --sea` on the host: dist/host-x64/greeter is one executable with Node inside
// (scripts/sea.mjs). Copied alone into an empty directory and started with no `node` on its PATH,
// it serves the Greeter to grpc-js, stops cleanly on SIGTERM, and runs with the host-x64 profile's
// node flags. The host's Node (20.x) has no SEA execArgv, so the flags come from the launcher in the
// executable: with NODE_OPTIONS set (as the systemd unit in firmware-notes.md does) it is one process
// and V8 takes the code cache; without, it starts itself again as a child with them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fromRoot } from '../support/paths.js';
import { getProfile } from '../../src/server/profile.js';

interface Built { file: string }
type BundleFn = (o: { profile: unknown; entry: string; name?: string; outdir?: string }) => Promise<Built>;
interface SeaResult { file: string; bytes: number; node: string; codeCache: boolean; flagsVia: string }
type BuildSeaFn = (o: { profile: unknown; bundleFile: string; outFile: string }) => SeaResult;

const profile = getProfile('host-x64');
const flags = profile.node.flags;
const tmp = mkdtempSync(join(tmpdir(), 'edge-sea-test-'));
const runDir = join(tmp, 'run'); // holds the executables and nothing else; also the only PATH entry
const children = new Set<ChildProcess>();
let greeter: SeaResult;
let greeterBundle: string;

// Official Node builds carry the SEA fuse; a distribution's node built without single-executable
// support does not, and then there is nothing to test on this machine.
const FUSE = 'NODE_SEA_FUSE_' + 'fce680ab2cc467b6e072b8b5df1996b2';
const skip = process.platform === 'linux' && process.arch === 'x64' && readFileSync(process.execPath).includes(FUSE)
  ? false
  : `this node (${process.execPath}, ${process.platform}-${process.arch}) cannot make a host-x64 single executable`;

before(async () => {
  if (skip) return;
  const { bundle } = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as { bundle: BundleFn };
  const { buildSea } = (await import(pathToFileURL(fromRoot('scripts/sea.mjs')).href)) as { buildSea: BuildSeaFn };
  mkdirSync(runDir);
  const outdir = join(tmp, 'dist');
  const g = await bundle({ profile, entry: 'examples/greeter/server.ts', outdir });
  greeterBundle = g.file;
  greeter = buildSea({ profile, bundleFile: g.file, outFile: join(runDir, 'greeter') });
  const p = await bundle({ profile, entry: 'test/build/sea-probe.ts', name: 'probe', outdir });
  buildSea({ profile, bundleFile: p.file, outFile: join(runDir, 'probe') });
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** An environment with no node anywhere: PATH is the run directory, which holds only the executables. */
const bareEnv = (extra: Record<string, string> = {}): Record<string, string> => ({ PATH: runDir, HOME: runDir, HOST: '127.0.0.1', PORT: '0', ...extra });

function start(env: Record<string, string>): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn('./greeter', [], { cwd: runDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), output: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`executable exited with ${code} before listening:\n${out}`)));
  });
}

function stop(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode);
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.kill('SIGTERM');
  });
}

async function sayHello(port: number, name: string): Promise<string> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(fromRoot('protos/helloworld.proto'), { keepCase: true })) as any;
  const client = new pkg.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    return await new Promise<string>((resolve, reject) =>
      client.SayHello({ name }, (err: Error | null, res: { message: string }) => (err ? reject(err) : resolve(res.message))),
    );
  } finally {
    client.close();
  }
}

/** Direct children of `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

/** What the probe executable reports, run with `env`. */
function runProbe(env: Record<string, string>, args = ['a', '--b']): { seen: any; stderr: string } {
  const r = spawnSync('./probe', args, { cwd: runDir, env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `probe exited ${r.status}: ${r.stdout}${r.stderr}`);
  const m = /EDGE-SEA (\{.*\})/.exec(r.stdout);
  assert.ok(m, `probe printed no EDGE-SEA line: ${r.stdout}${r.stderr}`);
  return { seen: JSON.parse(m[1]!), stderr: r.stderr };
}

/** heap_size_limit of this machine's node (the one inside the executable) started with `flags`. */
function heapLimitWith(f: string[]): number {
  const r = spawnSync(process.execPath, [...f, '-p', 'require("v8").getHeapStatistics().heap_size_limit'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

test('the host-x64 greeter executable is an ELF executable carrying the bundle as it is, with code cache', { skip }, () => {
  const exe = readFileSync(greeter.file);
  assert.deepEqual([...exe.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'ELF magic');
  assert.equal(greeter.node, process.versions.node);
  assert.equal(greeter.codeCache, true);
  // The same code as dist/host-x64/greeter.js (the same baked board profile), less its #! line.
  const code = readFileSync(greeterBundle, 'utf8').replace(/^#![^\n]*\n/, '');
  assert.ok(exe.includes(Buffer.from(code)), 'the bundle code is inside the executable');
  const which = spawnSync('/bin/sh', ['-c', 'command -v node'], { env: bareEnv(), encoding: 'utf8' });
  assert.ok(which.status !== 0 && which.stdout === '', `no node on the test PATH (found ${which.stdout})`);
});

test('from an empty directory with no node on PATH it serves SayHello to grpc-js, and SIGTERM stops it cleanly', { skip }, async () => {
  const { child, port } = await start(bareEnv());
  try {
    assert.equal(await sayHello(port, 'sea'), 'hello sea');
  } finally {
    assert.equal(await stop(child), 0, 'exit code 0 after SIGTERM');
  }
});

test('with the flags in NODE_OPTIONS it is one process, V8 takes the code cache, SIGTERM stops it cleanly', { skip }, async () => {
  const srv = await start(bareEnv({ NODE_OPTIONS: flags.join(' ') }));
  try {
    assert.deepEqual(childrenOf(srv.child.pid!), [], 'no child process');
    assert.equal(await sayHello(srv.port, 'one'), 'hello one');
  } finally {
    assert.equal(await stop(srv.child), 0);
  }
  assert.doesNotMatch(srv.output(), /Code cache data rejected/);
});

test('without NODE_OPTIONS the launcher serves from a child with the flags, and passes SIGTERM on to it', { skip }, async () => {
  const srv = await start(bareEnv());
  const kids = childrenOf(srv.child.pid!);
  assert.equal(kids.length, 1, 'one child process');
  const env = readFileSync(`/proc/${kids[0]}/environ`, 'utf8').split('\0');
  assert.ok(env.includes(`NODE_OPTIONS=${flags.join(' ')}`), `child environment: ${env.join(' ')}`);
  // Its own process group: a terminal's Ctrl-C reaches it once, through the launcher.
  const pgrp = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]!;
  assert.notEqual(pgrp(kids[0]!), pgrp(srv.child.pid!), 'child in a process group of its own');
  assert.equal(await sayHello(srv.port, 'child'), 'hello child');
  assert.equal(await stop(srv.child), 0);
  assert.throws(() => readFileSync(`/proc/${kids[0]}/status`), 'the child is gone too');
});

test('the host-x64 profile flags apply inside the executable, with or without NODE_OPTIONS', { skip }, () => {
  const want = heapLimitWith(flags);
  assert.notEqual(want, heapLimitWith([]), 'the flags change the heap limit');
  for (const env of [bareEnv(), bareEnv({ NODE_OPTIONS: flags.join(' ') })]) {
    const { seen } = runProbe(env);
    assert.equal(seen.target, 'host-x64', 'the baked board');
    assert.equal(seen.heapSizeLimit, want, `heap limit with ${JSON.stringify(env.NODE_OPTIONS ?? null)}`);
    assert.deepEqual(seen.argv, ['a', '--b'], 'arguments reach the program, none taken as node flags');
  }
  // A flag given another value in NODE_OPTIONS is an override: it is kept, not doubled; the profile
  // flags it does not name (--max-semi-space-size) are added after it.
  const override = ['--max-old-space-size=256'];
  const { seen } = runProbe(bareEnv({ NODE_OPTIONS: override.join(' ') }));
  const name = (f: string): string => f.split('=')[0]!;
  const rest = flags.filter((f) => !override.some((o) => name(o) === name(f)));
  assert.ok(rest.length > 0);
  assert.equal(seen.nodeOptions, [...override, ...rest].join(' '), 'the old-space flag not added to NODE_OPTIONS, the others are');
  assert.equal(seen.heapSizeLimit, heapLimitWith([...override, ...rest]));
});

test('the reclaim after a burst of connections gets its gc() inside the executable (no --expose-gc anywhere)', { skip }, () => {
  const { seen } = runProbe(bareEnv({ NODE_OPTIONS: flags.join(' ') }), ['reclaim']);
  assert.ok(!seen.execArgv.includes('--expose-gc') && !String(seen.nodeOptions).includes('--expose-gc'), 'started without --expose-gc');
  assert.ok(seen.reclaimGcs > 0, `forced full GCs reported while the reclaim ran: ${seen.reclaimGcs}`);
  assert.equal(seen.globalGc, 'undefined', 'and none on the global object');
});
