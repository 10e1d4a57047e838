// Small pieces of a call's I/O: the request stream handed to streaming handlers, replies returned
// as iterables, and the content-type check.
import type { ServerWriter } from './method.js';

/** What RequestStream needs from its call. */
export interface RequestSource {
  nextRequest(): Promise<IteratorResult<unknown>>;
  stopReading(): void;
}

/**
 * The request messages of a client- or bidi-streaming call as an AsyncIterable. Iterating takes
 * messages off the call's queue, which gives their flow-control window back to the client.
 * Breaking out of a for-await loop drops the messages that follow. After a cancel (client reset,
 * deadline, server stop) next() rejects with the call's GrpcError.
 */
export class RequestStream<T = unknown> implements AsyncIterableIterator<T> {
  constructor(private readonly source: RequestSource) {}

  next(): Promise<IteratorResult<T>> {
    return this.source.nextRequest() as Promise<IteratorResult<T>>;
  }

  return(): Promise<IteratorResult<T>> {
    this.source.stopReading();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function isIterable(x: unknown): x is Iterable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function';
}

/**
 * What a streaming handler returned: nothing (it wrote through `out`), a promise of that, or an
 * (async) iterable whose items are written in order, each awaited for backpressure.
 */
export async function drainReplies(out: ServerWriter<unknown>, result: unknown): Promise<void> {
  if (isAsyncIterable(result)) {
    for await (const m of result) await out.write(m);
    return;
  }
  if (isIterable(result)) {
    for (const m of result) await out.write(m);
    return;
  }
  await result;
}

/**
 * Spec: "Content-Type -> "content-type" "application/grpc" [("+proto" / "+json" / {custom})]".
 * Our messages are protobuf: application/grpc and application/grpc+proto, with optional
 * parameters (";charset=..."), case-insensitive.
 */
export function isGrpcContentType(value: string): boolean {
  if (value === 'application/grpc') return true;
  const semi = value.indexOf(';');
  const base = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  return base === 'application/grpc' || base === 'application/grpc+proto';
}
