// bench.Streamer (scripts/bench/stream.proto) on @grpc/grpc-js, the reference side of the
// server-streaming shape. Mirrors scripts/bench/edge-stream.ts: `count` replies, waiting for 'drain'
// whenever write() reports a full buffer (grpc-js's form of backpressure, like awaiting
// ServerWriter.write on the grpc-edge side).
//
//   node scripts/bench/grpcjs-stream.mjs <port>      prints "listening <port>"
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('./stream.proto', import.meta.url));
const port = process.argv[2] ?? '0';

const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const pkg = grpc.loadPackageDefinition(def);
const server = new grpc.Server();
server.addService(pkg.bench.Streamer.service, {
  Stream(call) {
    const reply = { message: 'hello ' + call.request.name };
    const total = call.request.count;
    let sent = 0;
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
    });
    const pump = () => {
      while (!cancelled && sent < total) {
        sent++;
        if (!call.write(reply)) {
          call.once('drain', pump);
          return;
        }
      }
      if (!cancelled) call.end();
    };
    pump();
  },
});
server.bindAsync('127.0.0.1:' + port, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    console.error('grpcjs-stream: ' + err.message);
    process.exit(1);
  }
  console.log('listening ' + bound);
});
const stop = () => server.tryShutdown(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
