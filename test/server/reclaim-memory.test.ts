// Memory comes back after a burst of connections (issue 14 item 4; src/server/connections.ts,
// RECLAIM_AFTER): once 128 connection records have left the set (a plain-TCP connection leaves twice,
// its protocol sniff and then itself) and none has for 2 s, the server runs full GCs, with a gc() it
// takes in-process (src/server/builtins.ts v8gc): node runs WITHOUT --expose-gc here. Without the
// reclaim, V8 would leave the burst's garbage in its old space: an idle server allocates nothing that
// would make it collect.
//
// The Greeter server in a child process with scripts/bench/mem-probe.cjs in its no-GC mode
// (MEM_PROBE_GC=0: the figures are as the server left them, and the probe has no gc() anyway); 300
// connections do the HTTP/2 handshake and close. Heap figures (heapUsed + external), not timing: the
// test waits for them to come back, and the same server with `reclaimMemory: false` is the control
// that shows the garbage would stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { fromRoot } from '../support/paths.js';

const N = 300;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);
// One PING rides along (more, with no call open, would be ping strikes), so that each connection
// also leaves a frame's worth of reading behind.
const PING = Buffer.from([0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);

interface Mem {
  heapUsed: number;
  external: number;
}

// The Greeter with the option under test; on SIGUSR2 it also says whether its global object has a
// gc() (the in-process one must not put one there).
const SERVER = `import { startGreeter } from ${JSON.stringify(fromRoot('build/examples/greeter/server.js'))};
const { port } = await startGreeter({ address: '127.0.0.1:0', reclaimMemory: process.env.RECLAIM !== '0' });
process.on('SIGUSR2', () => console.log('global gc: ' + typeof globalThis.gc));
console.log('greeter listening on 127.0.0.1:' + port);`;

class Child {
  proc: ChildProcess;
  out = '';
  port = 0;
  constructor(reclaimMemory: boolean) {
    this.proc = spawn(process.execPath, ['-r', fromRoot('scripts/bench/mem-probe.cjs'), '--input-type=module', '-e', SERVER], {
      env: { ...process.env, GRPC_EDGE_TARGET: 'host-x64', MEM_PROBE_GC: '0', RECLAIM: reclaimMemory ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
  }
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.proc.once('exit', (code) => reject(new Error(`greeter exited with ${code}`)));
      const check = (): void => {
        const m = /listening on [\d.]+:(\d+)/.exec(this.out);
        if (m) (this.port = Number(m[1])), resolve();
      };
      this.proc.stdout!.on('data', check);
      check();
    });
  }
  mem(): Promise<Mem> {
    const seen = this.out.length;
    this.proc.kill('SIGUSR2');
    return new Promise((resolve) => {
      const check = (): void => {
        const m = /^mem (\{.*\})$/m.exec(this.out.slice(seen));
        if (m === null) return;
        this.proc.stdout!.off('data', check);
        resolve(JSON.parse(m[1]!) as Mem);
      };
      this.proc.stdout!.on('data', check);
    });
  }
  /** typeof the server's globalThis.gc, asked now. */
  globalGc(): Promise<string> {
    const seen = this.out.length;
    this.proc.kill('SIGUSR2');
    return new Promise((resolve) => {
      const check = (): void => {
        const m = /^global gc: (\w+)$/m.exec(this.out.slice(seen));
        if (m === null) return;
        this.proc.stdout!.off('data', check);
        resolve(m[1]!);
      };
      this.proc.stdout!.on('data', check);
    });
  }
  connection(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port: this.port, host: '127.0.0.1' });
      s.once('error', reject);
      s.once('connect', () => s.write(Buffer.concat([PREFACE, SETTINGS])));
      s.once('data', () => {
        s.write(Buffer.concat([SETTINGS_ACK, PING]));
        s.on('data', () => {});
        s.on('error', () => {});
        resolve(s);
      });
    });
  }
  async burst(n: number): Promise<void> {
    const all: net.Socket[] = [];
    for (let i = 0; i < n; i += 50) all.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => this.connection()))));
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all(all.map((s) => new Promise<void>((r) => (s.destroyed ? r() : (s.once('close', () => r()), s.destroy())))));
  }
}

const heap = (m: Mem): number => m.heapUsed + m.external;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A burst of N connections; then heap figures every 250 ms for up to `ms`, until back within 1/4 of the burst's garbage. */
async function run(reclaimMemory: boolean, ms: number): Promise<{ base: number; peak: number; last: number; back: boolean; globalGc: string }> {
  const c = new Child(reclaimMemory);
  try {
    await c.ready();
    await c.burst(20); // code compiled and caches filled by the first connections are not garbage
    await sleep(300);
    const base = heap(await c.mem());
    await c.burst(N);
    const peak = heap(await c.mem());
    const t0 = Date.now();
    let last = peak;
    while (Date.now() - t0 < ms) {
      await sleep(250);
      last = heap(await c.mem());
      if (last - base < (peak - base) / 4) return { base, peak, last, back: true, globalGc: await c.globalGc() };
    }
    return { base, peak, last, back: false, globalGc: await c.globalGc() };
  } finally {
    c.proc.kill('SIGKILL');
  }
}

const KB = (n: number): string => `${(n / 1024).toFixed(0)} KB`;

test(`after ${N} connections close, heapUsed + external come back without any outside GC, and without --expose-gc`, async () => {
  const r = await run(true, 6000);
  assert.ok(r.peak - r.base > 256 * 1024, `the burst left garbage to collect: ${KB(r.peak - r.base)}`);
  assert.ok(r.back, `heap + external ${KB(r.last - r.base)} above the base 6 s after (burst left ${KB(r.peak - r.base)})`);
  assert.equal(r.globalGc, 'undefined', 'the reclaim put no gc() on the global object');
});

test('control: with reclaimMemory: false the same garbage stays for those seconds', async () => {
  // 3 s, well past the server's 2 s of quiet and short of V8's own memory reducer (8 s after it is armed)
  const r = await run(false, 3000);
  assert.ok(!r.back, `came back without the reclaim: ${KB(r.last - r.base)} above the base, burst ${KB(r.peak - r.base)}`);
});
