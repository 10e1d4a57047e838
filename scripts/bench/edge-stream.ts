// The grpc-edge side of the bench's server-streaming shape: bench.Streamer (scripts/bench/streamer.ts)
// alone on a server, bundled by scripts/bench.mjs like the Greeter.
//
//   node dist/bench/host-x64/edge-stream.js <port>      prints "listening <port>"
import { Server, ServerCredentials, loadServices } from '../../src/index.js';
import { STREAM_DESCRIPTOR, stream } from './streamer.js';

const server = new Server();
server.addService(loadServices(STREAM_DESCRIPTOR)['bench.Streamer']!, { Stream: stream });
server.bind('127.0.0.1:' + (process.argv[2] ?? '0'), ServerCredentials.createInsecure()).then(
  (port) => {
    server.start();
    console.log('listening ' + port);
  },
  (err: unknown) => {
    console.error('edge-stream: ' + (err as Error).message);
    process.exit(1);
  },
);
const stop = (): void => {
  server.stop(1000).then(() => process.exit(0), () => process.exit(1));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
