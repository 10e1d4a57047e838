// Shared pieces of the web protocol tests: a server with the web protocols on (the Greeter and the
// Probe test service, test/web/fixtures/probe.proto), and the same services as @bufbuild/protobuf
// descriptors for connect-web / connect-node clients and buf curl (images made by `buf build`).
import protobuf from 'protobufjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import type { DescService } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { fromRoot } from '../support/paths.js';
import { Server, ServerCredentials, GrpcError, Metadata, Status, loadServices, webProtocols } from '../../src/index.js';
import type { CallContext, ServerOptions, ServerWriter, WebHook, WebOptions } from '../../src/index.js';
import { descriptor as greeterDescriptor } from '../../examples/greeter/generated/helloworld.js';
import { greeterHandlers } from '../../examples/greeter/server.js';

export const PROBE_PROTO = fromRoot('test/web/fixtures/probe.proto');
export const GREETER_PROTO = fromRoot('protos/helloworld.proto');
export const BUF = fromRoot('node_modules/.bin/buf');

// A rich error (google.rpc.Status in grpc-status-details-bin) with one detail: a
// google.rpc.ErrorInfo { reason: "EDGE" }, written by hand (field 1, length-delimited).
const pb = (field: number, bytes: Buffer): Buffer => Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
export const RICH_DETAIL_VALUE = pb(1, Buffer.from('EDGE'));
export const RICH_STATUS = Buffer.concat([
  Buffer.from([0x08, Status.FAILED_PRECONDITION]),
  pb(2, Buffer.from('rich')),
  pb(3, Buffer.concat([pb(1, Buffer.from('type.googleapis.com/google.rpc.ErrorInfo')), pb(2, RICH_DETAIL_VALUE)])),
]);
const RICH_ERROR = new GrpcError(Status.FAILED_PRECONDITION, 'rich', new Metadata());
RICH_ERROR.metadata.set('grpc-status-details-bin', RICH_STATUS);

export interface ProbeState {
  /** Sleep calls whose signal aborted, with the reason's code. */
  aborted: number[];
  /** Calls seen by the interceptor, by method. */
  intercepted: string[];
}

export function probeHandlers(state: ProbeState) {
  return {
    Echo: (req: Record<string, unknown>) => {
      if (req.name === 'rich') throw RICH_ERROR;
      return { echoed: req };
    },
    Count: async (req: { count: number; size: number }, out: ServerWriter<unknown>) => {
      const padding = req.size > 0 ? Buffer.alloc(req.size, 0x61) : undefined;
      for (let i = 0; i < req.count; i++) await out.write({ message: `reply ${i}`, index: i, ...(padding ? { padding } : {}) });
    },
    Sleep: (req: { ms: number }, ctx: CallContext) =>
      new Promise((resolve) => {
        const t = setTimeout(() => resolve({ aborted: false }), req.ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          state.aborted.push((ctx.signal.reason as GrpcError).code);
          resolve({ aborted: true });
        });
      }),
    Sum: async (reqs: AsyncIterable<{ count: number }>) => {
      let n = 0;
      for await (const r of reqs) n += r.count;
      return { message: `sum ${n}`, index: n };
    },
  };
}

export interface WebServer {
  server: Server;
  port: number;
  url: string;
  state: ProbeState;
  close(): Promise<void>;
}

/** A server with the web protocols on, serving the Greeter and Probe on 127.0.0.1. */
export async function startWebServer(opts: ServerOptions & { webOptions?: WebOptions; wrapWeb?: (w: WebHook) => WebHook } = {}): Promise<WebServer> {
  const { webOptions, wrapWeb, ...serverOptions } = opts;
  const state: ProbeState = { aborted: [], intercepted: [] };
  const server = new Server({
    web: (wrapWeb ?? ((w: WebHook) => w))(webProtocols(webOptions ?? {})),
    interceptors: [
      async (ctx, next) => {
        state.intercepted.push(ctx.method);
        await next();
      },
    ],
    ...serverOptions,
  });
  server.addService(loadServices(greeterDescriptor)['helloworld.Greeter']!, greeterHandlers);
  const probe = loadServices(probeRoot().toJSON())['webtest.Probe']!;
  server.addService(probe, probeHandlers(state) as never);
  const port = await server.bind('127.0.0.1:0', ServerCredentials.createInsecure());
  return { server, port, url: `http://127.0.0.1:${port}`, state, close: () => server.stop(500) };
}

const images = new Map<string, string>();
let imageDir: string | undefined;

/** A `buf build` image (binary FileDescriptorSet) of one .proto file, made once per process. */
export function bufImage(proto: string): string {
  let file = images.get(proto);
  if (file === undefined) {
    imageDir ??= mkdtempSync(join(tmpdir(), 'edge-web-buf-'));
    file = join(imageDir, `${images.size}.binpb`);
    execFileSync(BUF, ['build', proto, '-o', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    images.set(proto, file);
  }
  return file;
}

export function cleanupImages(): void {
  if (imageDir !== undefined) rmSync(imageDir, { recursive: true, force: true });
}

/** The @bufbuild/protobuf descriptor of a service, for connect-web / connect-node clients. */
export function descService(proto: string, name: string): DescService {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(bufImage(proto)));
  const svc = createFileRegistry(set).getService(name);
  if (svc === undefined) throw new Error(`${name} not in ${proto}`);
  return svc;
}

export { GrpcError, Status };

/** probe.proto through protobufjs's full build, field names as written (as scripts/proto-gen.mjs does). */
export function probeRoot(): protobuf.Root {
  return new protobuf.Root().loadSync(PROBE_PROTO, { keepCase: true });
}
