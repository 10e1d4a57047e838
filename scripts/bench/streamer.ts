// bench.Streamer (scripts/bench/stream.proto) on grpc-edge's public API, shared by the bench's
// streaming server (edge-stream.ts) and the soak's server (scripts/soak/server.ts). Mirrors
// scripts/bench/grpcjs-stream.mjs: `count` replies, awaiting each write (grpc-edge's backpressure).
import type { CallContext, ServerWriter } from '../../src/index.js';

/** stream.proto as a protobufjs JSON descriptor (what scripts/proto-gen.mjs would produce). */
export const STREAM_DESCRIPTOR = {
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

export interface StreamRequest {
  name: string;
  count: number;
}
export interface StreamReply {
  message: string;
}

export async function stream(req: StreamRequest, out: ServerWriter<StreamReply>, ctx: CallContext): Promise<void> {
  const reply = { message: 'hello ' + req.name };
  for (let i = 0; i < req.count && !ctx.signal.aborted; i++) await out.write(reply);
}
