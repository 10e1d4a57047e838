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
  readonly #source: RequestSource;

  constructor(source: RequestSource) {
    this.#source = source;
  }

  next(): Promise<IteratorResult<T>> {
    return this.#source.nextRequest() as Promise<IteratorResult<T>>;
  }

  return(): Promise<IteratorResult<T>> {
    this.#source.stopReading();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** Whether `x` is an object with a method under `key` (Symbol.iterator, Symbol.asyncIterator, 'then'). */
export function hasMethod(x: unknown, key: PropertyKey): boolean {
  return typeof x === 'object' && x !== null && typeof (x as Record<PropertyKey, unknown>)[key] === 'function';
}

/**
 * What a streaming handler returned: nothing (it wrote through `out`), a promise of that, or an
 * (async) iterable whose items are written in order, each awaited for backpressure.
 */
export async function drainReplies(out: ServerWriter<unknown>, result: unknown): Promise<void> {
  if (hasMethod(result, Symbol.asyncIterator)) {
    for await (const m of result as AsyncIterable<unknown>) await out.write(m);
    return;
  }
  if (hasMethod(result, Symbol.iterator)) {
    for (const m of result as Iterable<unknown>) await out.write(m);
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
