// The soak's honest client: @grpc/grpc-js with default channel options, in its own process, one
// channel for the whole soak (a long-lived client). It connects and prints "ready"; then each stdin
// line "go <durationMs>" starts a run: for durationMs it calls one at a time, sleeping `intervalMs`
// between calls, alternating helloworld.Greeter/SayHello (unary) and bench.Streamer/Stream (a
// server stream of `streamCount` replies), each with a deadline, and checks every reply. Each run
// prints one JSON line: per kind ok / failed and latency percentiles, and the errors seen (at most
// 20 distinct). EOF on stdin ends the process.
//
//   node scripts/soak/honest.mjs <port> [intervalMs=10] [streamCount=10] [deadlineMs=5000]
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const [port, intervalMs = 10, streamCount = 10, deadlineMs = 5000] = process.argv.slice(2).map(Number);
if (!(port > 0)) throw new Error('usage: honest.mjs <port> [intervalMs] [streamCount] [deadlineMs]');

const load = (rel) => grpc.loadPackageDefinition(protoLoader.loadSync(fileURLToPath(new URL(rel, import.meta.url)), { keepCase: true, defaults: true }));
const target = `127.0.0.1:${port}`;
const greeter = new (load('../../protos/helloworld.proto').helloworld.Greeter)(target, grpc.credentials.createInsecure());
const streamer = new (load('../bench/stream.proto').bench.Streamer)(target, grpc.credentials.createInsecure());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;

function unary() {
  return new Promise((resolve) => {
    greeter.SayHello({ name: 'soak' }, { deadline: Date.now() + deadlineMs }, (err, reply) => {
      if (err) resolve(`${grpc.status[err.code] ?? err.code}: ${err.details}`);
      else resolve(reply.message === 'hello soak' ? null : `unexpected reply ${JSON.stringify(reply)}`);
    });
  });
}

function serverStream() {
  return new Promise((resolve) => {
    let n = 0;
    let bad = 0;
    const call = streamer.Stream({ name: 'soak', count: streamCount }, { deadline: Date.now() + deadlineMs });
    call.on('data', (m) => {
      n++;
      if (m.message !== 'hello soak') bad++;
    });
    call.on('error', (err) => resolve(`${grpc.status[err.code] ?? err.code}: ${err.details} (after ${n} replies)`));
    call.on('end', () => resolve(n === streamCount && bad === 0 ? null : `${n} replies, ${bad} wrong, ${streamCount} expected`));
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summary(k) {
  const s = k.ms.slice().sort((a, b) => a - b);
  return { ok: k.ok, failed: k.failed, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: s.length ? s[s.length - 1] : null };
}

async function run(durationMs) {
  // Never outlive the soak: a run that cannot end ends the process.
  const hardStop = setTimeout(() => {
    console.error('honest client: hard stop');
    process.exit(2);
  }, durationMs + deadlineMs + 30000);
  const kinds = { unary: { ok: 0, failed: 0, ms: [] }, stream: { ok: 0, failed: 0, ms: [] } };
  const errors = {};
  // How late this process's own sleeps wake (the client's share of a busy machine, not the server's).
  const late = [];
  const end = now() + durationMs;
  for (let i = 0; now() < end; i++) {
    const kind = i % 2 === 0 ? 'unary' : 'stream';
    const t0 = now();
    const err = await (kind === 'unary' ? unary() : serverStream());
    const k = kinds[kind];
    if (err === null) k.ok++, k.ms.push(now() - t0);
    else {
      k.failed++;
      const key = `${kind} ${err}`;
      if (key in errors || Object.keys(errors).length < 20) errors[key] = (errors[key] ?? 0) + 1;
    }
    const t1 = now();
    await sleep(intervalMs);
    late.push(now() - t1 - intervalMs);
  }
  clearTimeout(hardStop);
  late.sort((a, b) => a - b);
  return { unary: summary(kinds.unary), stream: summary(kinds.stream), lateMs: { p99: percentile(late, 99), max: late.length ? late[late.length - 1] : null }, errors };
}

await new Promise((resolve, reject) => greeter.waitForReady(Date.now() + 10000, (e) => (e ? reject(e) : resolve())));
console.log('ready');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
for (;;) {
  const { value, done } = await lines.next();
  if (done) break;
  const m = /^go (\d+)$/.exec(value.trim());
  if (m) console.log(JSON.stringify(await run(Number(m[1]))));
}
greeter.close();
streamer.close();
process.exit(0);
