// The grpc-edge side of the bench's server-streaming shape: bench.Streamer (scripts/bench/streamer.ts)
// alone on a server, bundled by scripts/bench.mjs like the Greeter.
//
//   node dist/bench/host-x64/edge-stream.js <port>      prints "listening <port>" (serve.ts)
import { Server, loadServices } from '../../src/index.js';
import { STREAM_DESCRIPTOR, stream } from './streamer.js';
import { serve } from './serve.js';

const server = new Server();
server.addService(loadServices(STREAM_DESCRIPTOR)['bench.Streamer']!, { Stream: stream });
serve(server, 'edge-stream');
