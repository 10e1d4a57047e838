// grpc-js client helpers for the interop, health and services tests: promise-returning calls that
// also capture initial metadata, trailers and the status, and a pull-style reader for streams.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fromRoot } from '../support/paths.js';

/** Load a proto under protos/ with @grpc/proto-loader and the options our loadServices() mirrors. */
export function clientDefinition(protoPath: string): protoLoader.PackageDefinition {
  return protoLoader.loadSync(fromRoot('protos', protoPath), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [fromRoot('protos')],
  });
}

/** The same proto as grpc-js client constructors. */
export function clientPackage(protoPath: string): any {
  return grpc.loadPackageDefinition(clientDefinition(protoPath));
}

export interface CallResult<T> {
  response: T | undefined;
  error: grpc.ServiceError | undefined;
  status: grpc.StatusObject;
  initial: grpc.Metadata | undefined;
}

/**
 * A call with a single response: `start` makes the call with the given callback, `then` may write
 * to it. Resolves once both the callback and the status have come; never rejects.
 */
function singleResponse<T, C extends grpc.ClientUnaryCall | grpc.ClientWritableStream<unknown>>(
  start: (callback: (err: grpc.ServiceError | null, res: T) => void) => C,
  then?: (call: C) => void,
): Promise<CallResult<T>> {
  return new Promise((resolve) => {
    let response: T | undefined;
    let error: grpc.ServiceError | undefined;
    let initial: grpc.Metadata | undefined;
    let status: grpc.StatusObject;
    let done = 0;
    const finish = (): void => {
      if (++done === 2) resolve({ response, error, status, initial });
    };
    const call = start((err, res) => {
      if (err) error = err;
      else response = res;
      finish();
    });
    call.on('metadata', (md: grpc.Metadata) => (initial = md));
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      finish();
    });
    then?.(call);
  });
}

/** A unary call that never rejects: everything observed is in the result. */
export function unary<T = any>(
  client: any,
  method: string,
  request: unknown,
  metadata: grpc.Metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): Promise<CallResult<T>> {
  return singleResponse<T, grpc.ClientUnaryCall>((cb) => client[method](request, metadata, options, cb));
}

/** Pull messages from a readable call one at a time; `end()` resolves with the final status. */
export class StreamReader<T = any> {
  private readonly messages: T[] = [];
  private waiters: ((v: T | null) => void)[] = [];
  private ended = false;
  private statusValue: grpc.StatusObject | undefined;
  private statusWaiters: ((s: grpc.StatusObject) => void)[] = [];
  initial: grpc.Metadata | undefined;
  error: grpc.ServiceError | undefined;

  constructor(readonly call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<unknown, T>) {
    call.on('data', (m: T) => {
      const w = this.waiters.shift();
      if (w) w(m);
      else this.messages.push(m);
    });
    call.on('metadata', (md: grpc.Metadata) => (this.initial = md));
    call.on('error', (e: grpc.ServiceError) => (this.error = e));
    call.on('status', (s: grpc.StatusObject) => {
      this.statusValue = s;
      this.ended = true;
      for (const w of this.waiters) w(null);
      this.waiters = [];
      for (const w of this.statusWaiters) w(s);
      this.statusWaiters = [];
    });
  }

  /** The next message, or null once the call has ended without more. */
  next(): Promise<T | null> {
    if (this.messages.length > 0) return Promise.resolve(this.messages.shift()!);
    if (this.ended) return Promise.resolve(null);
    return new Promise((r) => this.waiters.push(r));
  }

  /** Every remaining message and the status. */
  async rest(): Promise<{ messages: T[]; status: grpc.StatusObject }> {
    const messages: T[] = [];
    for (let m = await this.next(); m !== null; m = await this.next()) messages.push(m);
    return { messages, status: await this.status() };
  }

  status(): Promise<grpc.StatusObject> {
    if (this.statusValue) return Promise.resolve(this.statusValue);
    return new Promise((r) => this.statusWaiters.push(r));
  }
}

/** A client-streaming call: write the messages, half-close, resolve with everything observed. */
export function clientStream<T = any>(
  client: any,
  method: string,
  requests: unknown[],
  metadata: grpc.Metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): Promise<CallResult<T>> {
  return singleResponse<T, grpc.ClientWritableStream<unknown>>(
    (cb) => client[method](metadata, options, cb),
    (call) => {
      for (const r of requests) call.write(r);
      call.end();
    },
  );
}

/**
 * Wait until `cond()` holds, checking every few milliseconds. Not a timing assertion: the bound
 * only keeps a broken build from hanging the suite.
 */
export async function waitFor(cond: () => boolean, what: string, maxMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > maxMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export { grpc };
