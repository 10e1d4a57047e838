// `npm run bench -- --sea`: the single executable (scripts/sea.mjs) against the bundle, side by side
// in one run, on the host and under qemu-user for arm64 and armv7l.
//
// For each platform, one board (host-x64; pi5 on arm64; pi-zero-2w on armv7l) and three ways to run
// the same Greeter bundle with the same profile flags:
//   bundle      node <profile flags> greeter.js   (the host's node; under qemu the cached ARM node, the
//               same version as inside the executable)
//   sea         the executable without code cache (--no-code-cache)
//   sea+cache   the executable with V8's code cache (the default build)
// The executables without SEA execArgv (Node 20: host, armv7l) run with the NODE_OPTIONS flags in
// their environment, as the systemd unit in firmware-notes.md starts them (one process; without it
// the launcher adds a second). Cold start = spawn to the first answered SayHello (a raw HTTP/2 call
// retried until it answers), `runs` starts of each, taking turns (bundle, sea, sea+cache, bundle, ...),
// median and min-max. RSS = VmRSS right after that first answer (under qemu it includes the emulator,
// so only the differences between the three mean something there). CPU = user + system CPU time the
// process used up to that first answer (/proc/<pid>/stat): the work a start costs, which other load
// on the machine moves much less than the wall-clock cold start. Not pinned to CPUs; the load
// average is printed.
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundle, loadTargets } from '../build.mjs';
import { SEA_NODE, buildSea, seaFeatures } from '../sea.mjs';
import { ARCHES, checkQemu, emuArgs, ensureNode, ensureSysroot, sysrootDir } from '../qemu/node-cache.mjs';
import { rawSayHello } from './probe.mjs';
import { cpuSeconds, freePort, spawnServer, statusMiB, stopServer } from './proc.mjs';

const PLATFORMS = {
  host: { board: 'host-x64' },
  arm64: { board: 'pi5' },
  armv7l: { board: 'pi-zero-2w' },
};

/** Retry a raw SayHello (each attempt may wait long: an emulated server's first call is slow). */
async function firstAnswer(srv, port, limitMs) {
  for (;;) {
    if (await rawSayHello(port, 15_000)) return Number(process.hrtime.bigint() - srv.t0) / 1e6;
    if (Number(process.hrtime.bigint() - srv.t0) / 1e6 > limitMs) throw new Error(`no answer on port ${port} after ${limitMs} ms\n${srv.stderr()}`);
    if (!srv.alive()) throw new Error(`exited before answering:\n${srv.stdout()}${srv.stderr()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function platformRuns(name, runs, tmp, log) {
  const profile = loadTargets().find((t) => t.name === PLATFORMS[name].board);
  const outdir = join(tmp, name);
  const b = await bundle({ profile, entry: 'examples/greeter/server.ts', outdir });
  const cached = buildSea({ profile, bundleFile: b.file, outFile: join(outdir, 'greeter-cache') });
  const plain = buildSea({ profile, bundleFile: b.file, outFile: join(outdir, 'greeter-nocache'), codeCache: false });
  const flags = profile.node.flags;
  let launcher = [];
  let nodeCmd = [process.execPath];
  if (name !== 'host') {
    checkQemu();
    ensureSysroot(name);
    ensureNode(name, SEA_NODE[name]);
    launcher = [ARCHES[name].qemu, '-L', sysrootDir(name)];
    nodeCmd = [ARCHES[name].qemu, ...emuArgs(name, SEA_NODE[name])];
  }
  const env = { HOST: '127.0.0.1' };
  if (!seaFeatures(cached.node).execArgv) env.NODE_OPTIONS = flags.filter((f) => f !== '--optimize-for-size').join(' ');
  const ways = [
    { id: 'bundle', argv: [...nodeCmd, ...flags, b.file], env: { HOST: '127.0.0.1' } },
    { id: 'sea', argv: [...launcher, plain.file], env },
    { id: 'sea+cache', argv: [...launcher, cached.file], env },
  ];
  const limitMs = name === 'host' ? 20_000 : 120_000;
  const figures = Object.fromEntries(ways.map((w) => [w.id, { coldMs: [], cpuMs: [], rssMiB: [], rejected: 0 }]));
  for (let i = 0; i < runs; i++) {
    for (const w of ways) {
      const port = await freePort();
      const srv = spawnServer(w.argv, { env: { ...w.env, PORT: String(port) } });
      try {
        figures[w.id].coldMs.push(await firstAnswer(srv, port, limitMs));
        figures[w.id].cpuMs.push(cpuSeconds(srv.pid) * 1000);
        figures[w.id].rssMiB.push(statusMiB(srv.pid, 'VmRSS'));
      } finally {
        await stopServer(srv, 10_000);
      }
      if (/Code cache data rejected/.test(srv.stderr())) figures[w.id].rejected++;
    }
    log(`   ${name} start ${i + 1}/${runs}: ` + ways.map((w) => `${w.id} ${figures[w.id].coldMs.at(-1).toFixed(0)} ms (cpu ${figures[w.id].cpuMs.at(-1).toFixed(0)})`).join(', '));
  }
  const gz = (f) => gzipSync(readFileSync(f), { level: 6 }).length;
  return {
    platform: name,
    board: profile.name,
    node: cached.node,
    flagsVia: cached.flagsVia,
    nodeOptions: env.NODE_OPTIONS ?? null,
    sizes: {
      bundle: { bytes: b.raw, gzip: b.gzip },
      sea: { bytes: plain.bytes, gzip: gz(plain.file) },
      'sea+cache': { bytes: cached.bytes, gzip: gz(cached.file) },
    },
    figures: Object.fromEntries(
      Object.entries(figures).map(([k, f]) => [k, { ...f, coldMedianMs: median(f.coldMs), coldMinMs: Math.min(...f.coldMs), coldMaxMs: Math.max(...f.coldMs), cpuMedianMs: median(f.cpuMs), rssMedianMiB: median(f.rssMiB) }]),
    ),
  };
}

/** Run the section; returns { results, lines } (lines: the printed table). */
export async function seaColdStarts({ runs = 10, platforms = ['host', 'arm64', 'armv7l'], log = console.log } = {}) {
  const tmp = mkdtempSync(join(os.tmpdir(), 'edge-bench-sea-'));
  const results = [];
  try {
    log(`\nsingle executable vs bundle: cold start (spawn to first answered SayHello), ${runs} starts each, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    for (const p of platforms) {
      if (!PLATFORMS[p]) throw new Error(`--sea-platforms: unknown ${p} (host, arm64, armv7l)`);
      results.push(await platformRuns(p, runs, tmp, log));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const mb = (n) => (n / 1048576).toFixed(1);
  const lines = [
    '',
    'platform        board       node      run         cold median (min-max) ms   CPU ms   RSS MiB   size MB (gzip)',
  ];
  for (const r of results) {
    for (const id of ['bundle', 'sea', 'sea+cache']) {
      const f = r.figures[id];
      const s = r.sizes[id];
      const where = r.platform === 'host' ? 'host x64' : `qemu ${r.platform}`;
      const size = id === 'bundle' ? `${(s.bytes / 1024).toFixed(1)} KB (${(s.gzip / 1024).toFixed(1)} KB)` : `${mb(s.bytes)} (${mb(s.gzip)})`;
      lines.push(
        `${where.padEnd(15)} ${r.board.padEnd(11)} ${r.node.padEnd(9)} ${id.padEnd(11)} ${`${f.coldMedianMs.toFixed(0)} (${f.coldMinMs.toFixed(0)}-${f.coldMaxMs.toFixed(0)})`.padStart(22)}   ${f.cpuMedianMs.toFixed(0).padStart(6)}   ${f.rssMedianMiB.toFixed(1).padStart(7)}   ${size}` +
          (f.rejected ? `  code cache rejected ${f.rejected}x` : ''),
      );
    }
  }
  lines.push('bundle = node <profile flags> greeter.js (qemu: the same ARM node as inside the executable); sea = executable without code cache; sea+cache = with.');
  const envd = results.filter((r) => r.nodeOptions);
  if (envd.length) lines.push(`executables on Node without SEA execArgv (${envd.map((r) => `${r.platform} ${r.node}`).join(', ')}) ran with NODE_OPTIONS="<the profile's flags>" (one process, as the systemd unit runs them).`);
  lines.push('CPU = CPU time the server used up to its first answer (median); qemu RSS and CPU include the emulator: compare the three runs of one platform, not platforms.');
  for (const l of lines) log(l);
  return { results, lines };
}
