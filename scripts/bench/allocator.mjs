// The malloc a measured server process runs on (`npm run soak -- --allocator jemalloc`,
// `npm run bench -- --jemalloc`): glibc's own (the default), or jemalloc preloaded from the OS
// package (Debian / Raspberry Pi OS `libjemalloc2`) through LD_PRELOAD, with the decay settings
// firmware-notes.md section 4 gives the systemd unit. Only the server's environment gets them: the
// load generators and honest clients run on whatever the caller's environment says.
import { existsSync, readFileSync } from 'node:fs';

export const ALLOCATORS = ['glibc', 'jemalloc'];

/** Freed pages go back to the kernel after ~1 s (jemalloc's default decay is 10 s), no muzzy stage. */
export const JEMALLOC_CONF = 'dirty_decay_ms:1000,muzzy_decay_ms:0';

/** Debian's multiarch directory names (dpkg-architecture's DEB_HOST_MULTIARCH) per Node arch. */
const MULTIARCH = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf', ia32: 'i386-linux-gnu', ppc64: 'powerpc64le-linux-gnu', s390x: 's390x-linux-gnu', riscv64: 'riscv64-linux-gnu' };

/** Where Debian's libjemalloc2 puts the library for `arch` (a Node process.arch name). */
export function jemallocPath(arch = process.arch) {
  const dir = MULTIARCH[arch];
  if (!dir) throw new Error(`no Debian multiarch directory known for arch ${arch}: give the library's path`);
  return `/usr/lib/${dir}/libjemalloc.so.2`;
}

/**
 * The allocator setting for a server process: { name, library, conf, env }, where env is what to add
 * to the server's environment (empty for glibc). Throws, with what to install, when jemalloc is asked
 * for and its library is not there.
 */
export function allocatorSetting(name = 'glibc', { library, conf = JEMALLOC_CONF, arch, environ = process.env } = {}) {
  if (!ALLOCATORS.includes(name)) throw new Error(`unknown allocator ${name} (${ALLOCATORS.join(' or ')})`);
  if (name === 'glibc') return { name, library: null, conf: null, env: {} };
  const lib = library ?? jemallocPath(arch);
  if (!existsSync(lib)) {
    throw new Error(`jemalloc: ${lib} not found (Debian / Raspberry Pi OS: apt-get install libjemalloc2; or give the library's path)`);
  }
  // Preloads already in the environment (a profiler's, say) stay, after jemalloc.
  const preload = [lib, ...(environ.LD_PRELOAD ?? '').split(/[:\s]+/).filter((p) => p && p !== lib)].join(':');
  return { name, library: lib, conf, env: { LD_PRELOAD: preload, ...(conf ? { MALLOC_CONF: conf } : {}) } };
}

/** The malloc replacements a running process has mapped (/proc/PID/maps): their paths, [] for glibc's own. */
export function mappedAllocators(pid) {
  let maps;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return null;
  }
  const found = new Set();
  for (const m of maps.matchAll(/\s(\/\S*lib(?:jemalloc|tcmalloc\S*|mimalloc)\S*\.so\S*)$/gm)) found.add(m[1]);
  return [...found];
}

/** glibc's version in this process (process.report), for the report header; null on musl and the like. */
export function glibcVersion() {
  try {
    return process.report?.getReport()?.header?.glibcVersionRuntime ?? null;
  } catch {
    return null;
  }
}

/**
 * Check that a server started with `setting` runs on that allocator: jemalloc mapped when asked for,
 * no replacement mapped for glibc (an LD_PRELOAD inherited from the caller's environment would make a
 * "glibc" figure a jemalloc one). Returns the mapped list; throws on a mismatch.
 */
export function checkAllocator(pid, setting) {
  const mapped = mappedAllocators(pid);
  if (mapped === null) return null; // the process is gone: its own failure will be reported
  if (setting.name === 'jemalloc' && !mapped.some((p) => /libjemalloc/.test(p))) {
    throw new Error(`the server (pid ${pid}) was started with LD_PRELOAD=${setting.env.LD_PRELOAD} but has no libjemalloc mapped (/proc/${pid}/maps)`);
  }
  if (setting.name === 'glibc' && mapped.length > 0) {
    throw new Error(`--allocator glibc, but the server (pid ${pid}) has ${mapped.join(', ')} mapped (LD_PRELOAD=${process.env.LD_PRELOAD ?? ''} in the environment?): use --allocator jemalloc, or unset LD_PRELOAD`);
  }
  return mapped;
}

/** One line for a report header. */
export function describeAllocator(setting) {
  if (setting.name === 'glibc') {
    const v = glibcVersion();
    return `glibc malloc${v ? ` (glibc ${v})` : ''}`;
  }
  return `jemalloc (LD_PRELOAD ${setting.library}${setting.conf ? `, MALLOC_CONF=${setting.conf}` : ''})`;
}
