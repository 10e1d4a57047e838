// The server-streaming load: a grpc-js client (run in its own process, pinned like h2load) calls
// bench.Streamer/Stream for many messages, counts them for `durationMs`, then cancels.
//
//   node scripts/bench/stream-client.mjs <port> <durationMs>
// prints one JSON line: { messages, seconds, perSecond, completed, clientCpuSeconds }
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const port = process.argv[2];
const durationMs = Number(process.argv[3] ?? 5000);
const proto = fileURLToPath(new URL('./stream.proto', import.meta.url));
const def = protoLoader.loadSync(proto, { keepCase: true, defaults: true });
const Streamer = grpc.loadPackageDefinition(def).bench.Streamer;
const client = new Streamer(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

// Warm the channel (connect) first so the window measures streaming only.
await new Promise((resolve, reject) => client.waitForReady(Date.now() + 5000, (e) => (e ? reject(e) : resolve())));

const COUNT = 2 ** 31; // far more than can arrive in the window
let messages = 0;
let bad = 0;
let start = 0n;
let end = 0n;
let completed = false;
const cpu0 = process.cpuUsage();
const call = client.Stream({ name: 'world', count: COUNT });
call.on('data', (m) => {
  if (messages === 0) start = process.hrtime.bigint();
  messages++;
  if (m.message !== 'hello world') bad++;
});
await new Promise((resolve) => {
  const timer = setTimeout(() => {
    end = process.hrtime.bigint();
    call.cancel();
    resolve();
  }, durationMs);
  call.on('error', (e) => {
    if (e.code !== grpc.status.CANCELLED) {
      console.error('stream error: ' + e.message);
      process.exitCode = 1;
    }
    resolve();
  });
  call.on('end', () => {
    completed = true;
    clearTimeout(timer);
    end = process.hrtime.bigint();
    resolve();
  });
});
const cpu = process.cpuUsage(cpu0);
client.close();
const seconds = Number(end - start) / 1e9;
if (bad > 0) {
  console.error(`${bad} unexpected stream messages`);
  process.exitCode = 1;
}
// The first message starts the clock, so it is not counted in the rate.
console.log(JSON.stringify({ messages, seconds, perSecond: (messages - 1) / seconds, completed, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 }));
process.exit();
