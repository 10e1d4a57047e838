// bench.Streamer (scripts/bench/stream.proto) on grpc-edge's public API: the grpc-edge side of the
// bench's server-streaming shape, bundled by scripts/bench.mjs like the Greeter. Mirrors
// scripts/bench/grpcjs-stream.mjs: `count` replies, awaiting each write (grpc-edge's backpressure).
//
//   node dist/bench/host-x64/edge-stream.js <port>      prints "listening <port>"
import { Server, ServerCredentials, loadServices } from '../../src/index.js';
import type { CallContext, ServerWriter } from '../../src/index.js';

/** stream.proto as a protobufjs JSON descriptor (what scripts/proto-gen.mjs would produce). */
const STREAM_DESCRIPTOR = {
  nested: {
    bench: {
      nested: {
        Streamer: {
          methods: {
            Stream: { requestType: 'StreamRequest', responseType: 'StreamReply', responseStream: true },
          },
        },
        StreamRequest: { fields: { name: { type: 'string', id: 1 }, count: { type: 'uint32', id: 2 } } },
        StreamReply: { fields: { message: { type: 'string', id: 1 } } },
      },
    },
  },
};

interface StreamRequest {
  name: string;
  count: number;
}
interface StreamReply {
  message: string;
}

async function stream(req: StreamRequest, out: ServerWriter<StreamReply>, ctx: CallContext): Promise<void> {
  const reply = { message: 'hello ' + req.name };
  for (let i = 0; i < req.count && !ctx.signal.aborted; i++) await out.write(reply);
}

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
