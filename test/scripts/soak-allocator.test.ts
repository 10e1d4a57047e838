// `npm run soak -- --allocator jemalloc` puts jemalloc in the server process and nowhere else: one
// tiny row per allocator against a soak bundle built once, then what /proc/PID/maps showed (the
// soak's JSON) and an independent look at a process started with the same setting. Behaviour only:
// no figure of the rows is checked. Needs Debian's libjemalloc2 (.ci/run installs it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../support/paths.js';

interface Setting {
  name: string;
  library: string | null;
  conf: string | null;
  env: Record<string, string>;
}
interface AllocatorModule {
  allocatorSetting(name?: string, o?: { library?: string; conf?: string; arch?: string; environ?: Record<string, string | undefined> }): Setting;
  jemallocPath(arch?: string): string;
  mappedAllocators(pid: number): string[] | null;
}
interface SoakAllocator {
  name: string;
  library: string | null;
  mallocConf: string | null;
  serverMapped: string[];
  clientsMapped: string[][];
}

const tmp = mkdtempSync(join(tmpdir(), 'edge-soak-alloc-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const bundle = join(tmp, 'dist', 'pi-zero-2w', 'soak.js');
let alloc: AllocatorModule;

before(async () => {
  alloc = (await import(pathToFileURL(fromRoot('scripts/bench/allocator.mjs')).href)) as AllocatorModule;
  // build.mjs exits 1 when the bundle is over its size budget but still writes it (as the soak says)
  const r = spawnSync(process.execPath, ['scripts/build.mjs', '--target', 'pi-zero-2w', '--entry', 'scripts/soak/server.ts', '--outdir', join(tmp, 'dist'), '--quiet'], {
    cwd: fromRoot(),
    encoding: 'utf8',
  });
  assert.ok(existsSync(bundle), `no soak bundle:\n${r.stdout}${r.stderr}`);
});

/** Processes still running the soak bundle (a server the soak failed to stop). */
function bundleProcesses(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(bundle)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function soak(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; out: string }> {
  const argv = [fromRoot('scripts/soak.mjs'), '--rows', 'settings', '--seconds', '0.3', '--baseline', '0.3', '--settle', '0.1', '--no-compile', '--bundle', bundle, ...args];
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: fromRoot(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
  // whatever happened, the soak leaves no server behind
  const left = bundleProcesses();
  for (const pid of left) process.kill(pid, 'SIGKILL');
  assert.deepEqual(left, [], `soak server(s) left running after the soak exited ${r.code}:\n${r.out}`);
  return r;
}

const noPreload = { LD_PRELOAD: undefined, MALLOC_CONF: undefined };

test('--allocator jemalloc: libjemalloc in the server process only, MALLOC_CONF with it, named in the header and JSON', async () => {
  const lib = alloc.jemallocPath();
  assert.ok(existsSync(lib), `${lib} missing: apt-get install libjemalloc2`);
  const out = join(tmp, 'jemalloc.json');
  const r = await soak(['--allocator', 'jemalloc', '--out', out], noPreload);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`allocator: jemalloc \\(LD_PRELOAD ${lib}, MALLOC_CONF=dirty_decay_ms:1000,muzzy_decay_ms:0\\)`));
  const a = (JSON.parse(readFileSync(out, 'utf8')) as { meta: { allocator: SoakAllocator } }).meta.allocator;
  assert.equal(a.name, 'jemalloc');
  assert.equal(a.library, lib);
  assert.equal(a.mallocConf, 'dirty_decay_ms:1000,muzzy_decay_ms:0');
  assert.deepEqual(a.serverMapped, [lib]);
  // the honest client and the attackers keep glibc's malloc
  assert.deepEqual(a.clientsMapped, [[], []]);
});

test('default allocator: glibc malloc, nothing preloaded into the server', async () => {
  const out = join(tmp, 'glibc.json');
  const r = await soak(['--out', out], noPreload);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /allocator: glibc malloc/);
  const a = (JSON.parse(readFileSync(out, 'utf8')) as { meta: { allocator: SoakAllocator } }).meta.allocator;
  assert.equal(a.name, 'glibc');
  assert.deepEqual(a.serverMapped, []);
});

test('--allocator glibc refuses a server that an inherited LD_PRELOAD put on jemalloc', async () => {
  const r = await soak([], { LD_PRELOAD: alloc.jemallocPath(), MALLOC_CONF: undefined });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /--allocator glibc, but the server \(pid \d+\) has \S*libjemalloc\S* mapped/);
});

test('a missing library fails before anything runs, saying what to install', async () => {
  const r = await soak(['--allocator', 'jemalloc', '--jemalloc', join(tmp, 'no', 'libjemalloc.so.2')], noPreload);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /libjemalloc\.so\.2 not found \(.*apt-get install libjemalloc2/);
  assert.doesNotMatch(r.out, /unloaded:/); // no server was started
});

test('the setting: LD_PRELOAD with the library first (other preloads kept), MALLOC_CONF; glibc adds nothing', () => {
  const lib = alloc.jemallocPath();
  assert.deepEqual(alloc.allocatorSetting('glibc').env, {});
  const s = alloc.allocatorSetting('jemalloc', { environ: { LD_PRELOAD: '/x/libother.so' } });
  assert.deepEqual(s.env, { LD_PRELOAD: `${lib}:/x/libother.so`, MALLOC_CONF: 'dirty_decay_ms:1000,muzzy_decay_ms:0' });
  assert.equal(alloc.jemallocPath('arm64'), '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2');
  assert.equal(alloc.jemallocPath('arm'), '/usr/lib/arm-linux-gnueabihf/libjemalloc.so.2');
  assert.throws(() => alloc.allocatorSetting('tcmalloc'), /unknown allocator tcmalloc/);
  assert.throws(() => alloc.allocatorSetting('jemalloc', { arch: 'sparc' }), /no Debian multiarch directory known for arch sparc/);
});

/** A node process started with `env` that stays up until killed, once it runs its script. */
function idleNode(env: Record<string, string | undefined>): Promise<{ pid: number; kill: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', "console.log('up'); setTimeout(() => {}, 20000)"], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdout.once('data', () => resolve({ pid: child.pid!, kill: () => child.kill('SIGKILL') }));
  });
}

test("mappedAllocators reads a process's real maps: jemalloc with the setting's environment, none without", async () => {
  const withIt = await idleNode(alloc.allocatorSetting('jemalloc').env);
  const without = await idleNode(noPreload);
  try {
    assert.deepEqual(alloc.mappedAllocators(withIt.pid), [alloc.jemallocPath()]);
    assert.deepEqual(alloc.mappedAllocators(without.pid), []);
  } finally {
    withIt.kill();
    without.kill();
  }
});
