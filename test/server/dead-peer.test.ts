// A dead peer (src/http2/keepalive.ts): a grpc-js client in a network namespace this test creates
// (a veth pair with addresses in 10.231.0.0/16 private to it; the server listens on the root end)
// has a server-streaming call open when its link goes down, as a Wi-Fi drop or a power cut would
// leave it: no FIN, no RST. The server's keepalive PING goes unanswered, so the handler's
// ctx.signal aborts and the connection and the call's job-queue slot are gone within
// keepaliveTimeMs + keepaliveTimeoutMs + 1 s of the cut (a bound on behaviour with room to spare,
// not a timing measurement). Needs root and iproute2 (`ip netns`), as CI has; skipped with the
// reason elsewhere. The namespace and its links are removed in teardown, pass or fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Server } from '../../src/index.js';
import type { CallContext, ServerWriter } from '../../src/index.js';
import { testService, until, type Msg } from '../grpc/helpers.js';

const KEEPALIVE = { keepaliveTimeMs: 500, keepaliveTimeoutMs: 500 };
const BOUND_MS = KEEPALIVE.keepaliveTimeMs + KEEPALIVE.keepaliveTimeoutMs + 1000;

function why(): string | false {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'ip netns needs root (CI runs as root)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return `ip netns is not available (${(r.error?.message ?? r.stderr).trim()}): apt-get install iproute2`;
  return false;
}
const skip = why();

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

test('a peer whose link is cut mid-call: ctx.signal aborts, the connection and its queue slot are freed within keepalive time + timeout + 1 s', { skip }, async () => {
  const tag = process.pid % 10000;
  const ns = `ge-dead-${tag}`;
  const outer = `gedr${tag}`;
  const inner = `gedn${tag}`;
  const net = `10.231.${tag % 250}`;
  const serverAddr = `${net}.1`;
  let server: Server | null = null;
  let child: ChildProcess | null = null;
  // left over from a run that was killed before its teardown
  spawnSync('ip', ['netns', 'del', ns]);
  spawnSync('ip', ['link', 'del', outer]);
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    ip('link', 'set', inner, 'netns', ns);
    ip('addr', 'add', `${serverAddr}/30`, 'dev', outer);
    ip('link', 'set', outer, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', inner);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up');

    let started = false;
    let abortedAt = 0;
    server = new Server({ http2: KEEPALIVE });
    server.addService(testService(), {
      Unary: (req: Msg) => req,
      ServerStream: async (req: Msg, out: ServerWriter<Msg>, ctx: CallContext) => {
        started = true;
        await out.write({ text: req.text } as Msg);
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        abortedAt = Date.now();
      },
      ClientStream: () => ({}) as Msg,
      Bidi: () => {},
    });
    const port = await server.bind(`${serverAddr}:0`);
    const script = fileURLToPath(new URL('./dead-peer-client.js', import.meta.url));
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, serverAddr, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await until(() => started && output.includes('message'), 'the call open and its first reply read', 20_000);
    assert.equal(server.stats.connections, 1);
    assert.equal(server.stats.running, 1);

    // the cut: the client's end goes down; nothing reaches the server any more, not even a RST
    ip('netns', 'exec', ns, 'ip', 'link', 'set', inner, 'down');
    const cutAt = Date.now();
    const s = server;
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(
        () => reject(new Error(`after ${BOUND_MS} ms: aborted=${abortedAt > 0}, ${JSON.stringify(s.stats)}`)),
        BOUND_MS,
      );
      const poll = setInterval(() => {
        if (abortedAt > 0 && s.stats.connections === 0 && s.stats.running === 0) {
          clearTimeout(deadline);
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    assert.ok(abortedAt >= cutAt);
    assert.equal(server.stats.keepaliveTimeouts, 1);
    assert.equal(server.stats.completed, 1, 'the handler returned after the abort: its slot is free');
  } finally {
    child?.kill('SIGKILL');
    server?.forceShutdown();
    // deleting the namespace deletes its end of the pair, and with it ours
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', outer]);
  }
});
