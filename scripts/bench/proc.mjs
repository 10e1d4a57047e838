// Process plumbing for the bench: spawning pinned servers, reading /proc figures, free ports.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** Whether `taskset` exists and CPUs 0 and 1 are both usable (pinning needs two CPUs). */
export const HAVE_TASKSET = (() => {
  const r = spawnSync('taskset', ['-c', '1', 'true']);
  return r.status === 0;
})();

/** argv prefix that pins a command to `cpu` (empty when taskset is unavailable). */
export function pin(cpu) {
  return HAVE_TASKSET && cpu !== undefined ? ['taskset', '-c', String(cpu)] : [];
}

/** Pin the running process (the bench itself, the grpc-js probes) to `cpu`. */
export function pinSelf(cpu) {
  if (HAVE_TASKSET) spawnSync('taskset', ['-cp', String(cpu), String(process.pid)]);
}

/** A port that was free a moment ago (bind 0, read, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawn `argv` (pinned to `cpu`). Returns { child, pid, t0, alive(), stdout() } where t0 is
 * process.hrtime.bigint() just before the spawn. taskset execs its command, so the pid is the server's.
 */
export function spawnServer(argv, { cpu, env } = {}) {
  const full = [...pin(cpu), ...argv];
  const t0 = process.hrtime.bigint();
  const child = spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  let exited = false;
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  child.on('exit', () => (exited = true));
  return {
    child,
    pid: child.pid,
    t0,
    alive: () => !exited,
    stdout: () => out,
    stderr: () => err,
    /** Resolves with the port from the server's "listening <port>" line. */
    ready(limitMs = 20000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = /listening (?:on )?(?:[\d.]+:)?(\d+)/.exec(out);
          if (m) return resolve(Number(m[1])), true;
          return false;
        };
        if (check()) return;
        const timer = setTimeout(() => reject(new Error(`${argv.join(' ')}: not ready after ${limitMs} ms\n${err}`)), limitMs);
        child.stdout.on('data', () => {
          if (check()) clearTimeout(timer);
        });
        child.on('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`${argv.join(' ')} exited with ${code}\n${err}`));
        });
      });
    },
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export function stopServer(srv, graceMs = 2000) {
  if (!srv.alive()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => srv.child.kill('SIGKILL'), graceMs);
    srv.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    srv.child.kill('SIGTERM');
  });
}

/** utime + stime of `pid` in seconds (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: split after its closing parenthesis.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** The whole machine's CPU seconds so far (/proc/stat): busy (user, nice, system, irq, softirq) and steal. */
export function machineCpuSeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: (f[0] + f[1] + f[2] + f[5] + f[6]) / CLK_TCK, steal: (f[7] || 0) / CLK_TCK };
}

/** A VmXxx line of /proc/<pid>/status in MiB. */
export function statusMiB(pid, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Reset the peak-RSS counter (VmHWM) of `pid` (Linux >= 4.0: write 5 to clear_refs). */
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
