// What an idle connection costs (issue 9 item 2): the Greeter server in a child process (with
// scripts/bench/mem-probe.cjs, which answers SIGUSR2 with process.memoryUsage() after a full GC)
// holds N established, idle HTTP/2 connections (preface, SETTINGS, the ACK of ours, then nothing);
// heapUsed + external must grow by at most 8 KB per connection, and come back when they close: a
// second round of N must not end more than 10% above the first. Heap figures, not timing or RSS
// (RSS also holds V8's young generation and malloc's arenas, which depend on the node flags; the
// RSS figures at N = 2,000 are in firmware-notes.md, from scripts/bench/mem.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { fromRoot } from '../support/paths.js';

const N = 400;
const PER_CONNECTION_LIMIT = 8 * 1024;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);

interface Mem {
  heapUsed: number;
  external: number;
}

let server: ChildProcess;
let port = 0;
let out = '';

before(async () => {
  server = spawn(
    process.execPath,
    ['--expose-gc', '-r', fromRoot('scripts/bench/mem-probe.cjs'), fromRoot('build/examples/greeter/server.js'), '0'],
    { env: { ...process.env, HOST: '127.0.0.1', GRPC_EDGE_TARGET: 'host-x64' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  port = await new Promise<number>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`greeter exited with ${code}`)));
    const check = () => {
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    server.stdout!.on('data', check);
    check();
  });
});

after(() => {
  server.kill('SIGKILL');
});

/** The server's memory after a full GC. */
function mem(): Promise<Mem> {
  const seen = out.length;
  server.kill('SIGUSR2');
  return new Promise((resolve) => {
    const check = () => {
      const m = /^mem (\{.*\})$/m.exec(out.slice(seen));
      if (m === null) return;
      server.stdout!.off('data', check);
      resolve(JSON.parse(m[1]!) as Mem);
    };
    server.stdout!.on('data', check);
  });
}

function idleConnection(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('error', reject);
    s.once('connect', () => s.write(Buffer.concat([PREFACE, SETTINGS])));
    s.once('data', () => {
      s.write(SETTINGS_ACK);
      s.on('data', () => {});
      s.on('error', () => {});
      resolve(s);
    });
  });
}

async function open(n: number): Promise<net.Socket[]> {
  const all: net.Socket[] = [];
  for (let i = 0; i < n; i += 50) all.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, idleConnection))));
  // every connection's ACK has reached the server once it answers one more round trip on each
  await new Promise((r) => setTimeout(r, 200));
  return all;
}

async function close(socks: net.Socket[]): Promise<void> {
  await Promise.all(socks.map((s) => new Promise<void>((r) => (s.once('close', () => r()), s.destroy()))));
  await new Promise((r) => setTimeout(r, 200));
}

const heap = (m: Mem): number => m.heapUsed + m.external;

test(`${N} idle connections cost at most 8 KB of heap + external each, and it comes back`, async () => {
  // warm up: code compiled and caches filled on the first connections are not per connection
  await close(await open(50));
  const base = await mem();
  const first = await open(N);
  const one = await mem();
  await close(first);
  const between = await mem();
  const second = await open(N);
  const two = await mem();
  await close(second);
  const perConnection = (heap(one) - heap(base)) / N;
  assert.ok(perConnection <= PER_CONNECTION_LIMIT, `${(perConnection / 1024).toFixed(1)} KB per idle connection`);
  // after they close, memory is back near the base, and the second round peaks where the first did
  assert.ok(heap(between) - heap(base) < (heap(one) - heap(base)) / 4, `after closing: ${heap(between) - heap(base)} octets above the base`);
  assert.ok(heap(two) <= heap(one) * 1.1, `second round ${heap(two)} vs first ${heap(one)}`);
});
