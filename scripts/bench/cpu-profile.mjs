// `npm run bench -- --cpu-prof`: run the grpc-edge Greeter under `node --cpu-prof` with the
// -c8 -m16 h2load load and print the functions with the most self time.
//
// It profiles the transpiled, unbundled Greeter (build/, from scripts/compile.mjs): the same code as
// the bundle, but with real file and function names. Self time is summed per function (file, name,
// line) from the profile's samples.
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { h2load } from './h2load.mjs';
import { waitFirstAnswer } from './probe.mjs';
import { freePort, spawnServer, stopServer } from './proc.mjs';

/** Self time per function from a .cpuprofile: [{ fn, file, line, ms, pct }], largest first. */
export function selfTimes(profile, root) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples, timeDeltas } = profile;
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to sample i.
    const dt = timeDeltas[i + 1] ?? 0;
    total += dt;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  const agg = new Map();
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    let file = cf.url;
    if (file.startsWith('file://')) file = relative(root, fileURLToPath(file));
    const key = `${file}\t${cf.functionName || '(anonymous)'}\t${cf.lineNumber + 1}`;
    agg.set(key, (agg.get(key) ?? 0) + us);
  }
  return [...agg]
    .map(([k, us]) => {
      const [file, fn, line] = k.split('\t');
      return { fn, file, line: Number(line), ms: us / 1000, pct: (100 * us) / total };
    })
    .sort((a, b) => b.ms - a.ms);
}

export async function cpuProfile({ root, tmp, opts, loadCpu, serverCpu, body }) {
  const c = spawnSync(process.execPath, ['scripts/compile.mjs'], { cwd: root, encoding: 'utf8' });
  if (c.status !== 0) throw new Error('scripts/compile.mjs failed:\n' + c.stdout + c.stderr);
  const dir = join(tmp, 'prof');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const srv = spawnServer(
    [process.execPath, ...opts.nodeFlags, '--cpu-prof', '--cpu-prof-dir', dir, join(root, 'build/examples/greeter/server.js'), String(port)],
    { cpu: serverCpu, env: { HOST: '127.0.0.1' } },
  );
  let r;
  try {
    await waitFirstAnswer(port, srv.t0, 20000, srv.alive);
    if (opts.warmup > 0) await h2load({ port, c: 8, m: 16, seconds: opts.warmup, bodyFile: body, cpu: loadCpu });
    r = await h2load({ port, c: 8, m: 16, seconds: Math.max(opts.seconds, 5), bodyFile: body, cpu: loadCpu });
  } finally {
    await stopServer(srv, 10000);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written (did the server exit cleanly?)');
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const all = selfTimes(profile, root);
  // Percentages of busy time: the main thread waiting in epoll shows as (idle).
  const idle = all.filter((x) => x.fn === '(idle)').reduce((a, x) => a + x.pct, 0);
  const rows = all.filter((x) => x.fn !== '(idle)').map((x) => ({ ...x, pct: (100 * x.pct) / (100 - idle) }));
  console.log(`grpc-edge Greeter (build/, unbundled) under h2load -c8 -m16: ${r.h2loadRps.toFixed(0)} req/s while profiling`);
  console.log(`(idle) ${idle.toFixed(1)} % of the profile; the percentages below are of the busy rest`);
  console.log('self time  function  file:line');
  for (const row of rows.slice(0, 30)) {
    console.log(`${row.pct.toFixed(1).padStart(5)} %    ${row.fn}  ${row.file}:${row.line}`);
  }
  // Totals per file, to see which layer costs what.
  const perFile = new Map();
  for (const row of rows) perFile.set(row.file || '(native)', (perFile.get(row.file || '(native)') ?? 0) + row.pct);
  console.log('\nself time per file:');
  for (const [f, pct] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct.toFixed(1).padStart(5)} %    ${f}`);
}
