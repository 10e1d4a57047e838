// Shared pieces of the gRPC tests: the test service (fixtures/test.proto) loaded for our server
// (protobufjs full build -> JSON descriptor -> loadServices) and for the grpc-js client
// (@grpc/proto-loader), and a server + client pair that cleans up after itself.
import protobuf from 'protobufjs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fromRoot } from '../support/paths.js';
import { Server, ServerCredentials, GrpcError, Status, loadServices } from '../../src/index.js';
import type { ServerOptions, ServiceDefinition, ServiceImplementation } from '../../src/index.js';

export const TEST_PROTO = fromRoot('test/grpc/fixtures/test.proto');
export const fixture = (name: string): string => fromRoot('test/grpc/fixtures', name);

export interface Msg {
  text: string;
  count: number;
  data: Buffer;
}

let services: ServiceDefinition | undefined;
export function testService(): ServiceDefinition {
  if (services === undefined) {
    const json = protobuf.loadSync(TEST_PROTO).toJSON();
    services = loadServices(json)['edge.test.TestService']!;
  }
  return services;
}

let clientCtor: grpc.ServiceClientConstructor | undefined;
export function TestClient(): grpc.ServiceClientConstructor {
  if (clientCtor === undefined) {
    const def = protoLoader.loadSync(TEST_PROTO, { keepCase: true, longs: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as any;
    clientCtor = pkg.edge.test.TestService as grpc.ServiceClientConstructor;
  }
  return clientCtor;
}

const unimplemented = (): never => {
  throw new GrpcError(Status.UNIMPLEMENTED, 'not in this test');
};

export interface Harness {
  server: Server;
  port: number;
  client: any;
  close(): Promise<void>;
}

export async function startHarness(
  impl: Partial<ServiceImplementation>,
  options: ServerOptions = {},
  extra: { credentials?: ServerCredentials; address?: string; clientCredentials?: grpc.ChannelCredentials; clientOptions?: grpc.ChannelOptions; target?: string } = {},
): Promise<Harness> {
  const server = new Server(options);
  const full: ServiceImplementation = {
    Unary: unimplemented,
    ServerStream: unimplemented,
    ClientStream: unimplemented,
    Bidi: unimplemented,
  };
  for (const [k, v] of Object.entries(impl)) if (v !== undefined) full[k] = v;
  server.addService(testService(), full);
  const port = await server.bind(extra.address ?? '127.0.0.1:0', extra.credentials ?? ServerCredentials.createInsecure());
  server.start();
  const Ctor = TestClient();
  const client = new Ctor(
    extra.target ?? `127.0.0.1:${port}`,
    extra.clientCredentials ?? grpc.credentials.createInsecure(),
    extra.clientOptions ?? {},
  );
  return {
    server,
    port,
    client,
    async close() {
      client.close();
      server.forceShutdown();
      await server.terminated;
    },
  };
}

/** A unary call as a promise: resolves with the reply and the call's trailing metadata. */
export function unary(client: any, method: string, req: Partial<Msg>, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<Msg> {
  return new Promise((resolve, reject) => {
    client[method](req, metadata, options, (err: grpc.ServiceError | null, res: Msg) => (err ? reject(err) : resolve(res)));
  });
}

/** Reject with the grpc-js ServiceError of a call expected to fail. */
export async function callError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('call succeeded but was expected to fail');
}

/** Collect every message of a server-streaming or bidi call until its status. */
export function collect(call: grpc.ClientReadableStream<Msg>): Promise<{ messages: Msg[]; error: grpc.ServiceError | null; status: grpc.StatusObject | null }> {
  return new Promise((resolve) => {
    const messages: Msg[] = [];
    let error: grpc.ServiceError | null = null;
    call.on('data', (m: Msg) => messages.push(m));
    call.on('error', (e: grpc.ServiceError) => (error = e));
    call.on('status', (status: grpc.StatusObject) => {
      // 'status' comes after the last 'data' and after 'error'.
      setImmediate(() => resolve({ messages, error, status }));
    });
  });
}

/** A promise with its resolve function, for handlers a test releases. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A Unary handler held until the test releases it: `started` resolves when a call is running,
 * the call answers `done <text>` once `gate` is resolved (for calls in flight during stop()).
 */
export function gatedUnary() {
  const gate = deferred();
  const started = deferred();
  const Unary = async (req: Msg): Promise<Msg> => {
    started.resolve();
    await gate.promise;
    return { text: `done ${req.text}` } as Msg;
  };
  return { gate, started, Unary };
}

/** Wait (without a clock) until `cond()` holds, checking after each turn of the event loop. */
export async function until(cond: () => boolean, what: string, maxTurns = 100_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`gave up waiting for ${what}`);
}

export { grpc, Status, GrpcError };
