// The server `npm run soak` attacks: the Greeter service (protos/helloworld.proto, answering like
// examples/greeter) and bench.Streamer (scripts/bench/streamer.ts, a server stream) on one Server,
// bundled by scripts/build.mjs for the soak's target (profile baked in) and run with the profile's
// node flags.
//
// Why not the Greeter bundle itself: the Greeter has no server-streaming method, and adding one would
// grow the budgeted Greeter bundle and the classic helloworld.proto every peer test uses; the interop
// server streams but is another, larger program. This entry runs the same library code with the
// same profile defaults, plus the two things the soak needs and a shipped bundle must not carry:
// a server stream, and a report channel. It does not import examples/greeter/server.ts: in a bundle
// that file's "am I the main module" check would also be true, and it would start a second server.
//
//   node soak-server.js [port]     listens on 127.0.0.1 only; prints "listening <port>"
//   kill -HUP <pid>                src/observe on (the HTTP/1.1 rows' /metrics), prints "observe on"
//   kill -USR2 <pid>               prints one line "soak-report {json}": process.memoryUsage() and
//                                  server.stats (whatever counters it has today)
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Server, loadServices } from '../../src/index.js';
import { descriptor, serviceNames } from '../../examples/greeter/generated/helloworld.js';
import { greeter, serve } from '../bench/serve.js';
import { STREAM_DESCRIPTOR, stream } from '../bench/streamer.js';
import { enableObserve } from '../../src/observe/index.js';

const server = new Server();
server.addService(loadServices(descriptor)[serviceNames.Greeter]!, greeter);
server.addService(loadServices(STREAM_DESCRIPTOR)['bench.Streamer']!, { Stream: stream });
serve(server, 'soak-server');

// Event-loop delay since the previous report (sampled every 5 ms): how long a ready socket can wait.
const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();
process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  // the histogram holds whole intervals between samples: what is past the 5 ms is the delay
  const late = (ns: number): number => Math.max(0, ns / 1e6 - 5);
  const loopDelayMs = { p50: late(eld.percentile(50)), p99: late(eld.percentile(99)), max: late(eld.max) };
  eld.reset();
  // V8's spaces (committed / used / resident bytes each) and its own malloc'd memory (compiler zones and the like)
  const spaces: Record<string, [number, number, number]> = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = [s.space_size, s.space_used_size, s.physical_space_size];
  const h = v8.getHeapStatistics();
  const report = {
    t: Date.now(), rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
    spaces, malloced: h.malloced_memory, peakMalloced: h.peak_malloced_memory, loopDelayMs, stats: server.stats,
    // with observe on (the HTTP/1.1 rows): grpc_edge_connections_ended_total's figures, HTTP/1.1's closes among them
    ended: observing?.snapshot().ended,
  };
  process.stdout.write('soak-report ' + JSON.stringify(report) + '\n');
});
// SIGHUP: src/observe on from now (/metrics and the status page, over HTTP/1.1 too), for the soak's
// HTTP/1.1 rows; the rows before it run without, as before. Prints "observe on".
let observing: ReturnType<typeof enableObserve> | undefined;
process.on('SIGHUP', () => {
  observing ??= enableObserve(server);
  process.stdout.write('observe on\n');
});
