// The Connect protocol (connectrpc.com/docs/protocol) onto the call engine.
//
// Unary (application/proto, application/json): the body is the bare message, compressed per
// content-encoding; the response is HTTP 200 with the bare message, or the HTTP status of the error
// code with the Connect error JSON ({"code": "not_found", "message": "..."}). Response metadata
// goes as headers, trailing metadata as "trailer-" headers. connect-timeout-ms is the deadline.
//
// Streaming (application/connect+proto, application/connect+json): gRPC's envelopes (flag 0x01
// compressed, per connect-content-encoding), HTTP 200, and the status and trailing metadata in a
// final envelope with flag 0x02 holding {"error": {...}, "metadata": {...}}.
//
// The adapters rename the headers for the engine (content-encoding -> grpc-encoding,
// connect-timeout-ms -> grpc-timeout...) and frame a unary body as one gRPC message; everything
// else is the engine's.
import type { HeaderList, ServerStream } from '../http2/api.js';
import type { CallOptions } from '../grpc/call.js';
import { PREFIX_LENGTH } from '../grpc/message-framing.js';
import { GrpcError, Status } from '../grpc/status.js';
import { encodeTimeout } from '../grpc/timeout.js';
import { isReservedHeader } from '../grpc/metadata-headers.js';
import { wireFields } from '../proto/wire.js';
import { CallStream, EnvelopeStream, getHeader, statusOf } from './adapter.js';

const END_STREAM = 0x02;

/** The Connect name of a status code ("invalid_argument"). */
export function codeName(code: Status): string {
  return code === Status.CANCELLED ? 'canceled' : (Status[code] ?? 'unknown').toLowerCase();
}

// connectrpc.com/docs/protocol#error-codes
const HTTP_STATUS = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

export function httpStatusOf(code: Status): number {
  return HTTP_STATUS[code] ?? 500;
}

/** The Connect error JSON; a rich error's details (grpc-status-details-bin) go in "details". */
function errorJson(code: Status, message: string, trailers: HeaderList): Record<string, unknown> {
  const e: Record<string, unknown> = { code: codeName(code) };
  if (message.length > 0) e.message = message;
  const d = statusDetails(getHeader(trailers, 'grpc-status-details-bin'));
  if (d !== undefined && d.length > 0) e.details = d;
  return e;
}

/** Each length-delimited field of a message: [field number, bytes]; other wire types skipped. */
function fields(b: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (const [num, wire, , at, end] of wireFields(b)) if (wire === 2) out.push([num, b.subarray(at, end)]);
  return out;
}

/**
 * google.rpc.Status (grpc-status-details-bin) -> Connect's details: its `details` field (3, Any:
 * type_url 1, value 2) as [{ type: "google.rpc.ErrorInfo", value: base64 }]. Undefined when absent
 * or not a Status.
 */
function statusDetails(bin: string | undefined): { type: string; value: string }[] | undefined {
  if (bin === undefined) return undefined;
  try {
    const out: { type: string; value: string }[] = [];
    for (const [n, any] of fields(Buffer.from(bin, 'base64'))) {
      if (n !== 3) continue;
      let type = '';
      let value: Buffer = Buffer.alloc(0);
      for (const [m, v] of fields(any)) {
        if (m === 1) type = v.toString('utf8');
        else if (m === 2) value = v;
      }
      out.push({ type: type.slice(type.lastIndexOf('/') + 1), value: value.toString('base64').replace(/=+$/, '') });
    }
    return out;
  } catch {
    return undefined;
  }
}

/** The metadata of an engine header list as Connect JSON: { name: [values] } (-bin values stay base64). */
function metadataJson(h: HeaderList): Record<string, string[]> {
  const md: Record<string, string[]> = {};
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!;
    if (isReservedHeader(name) && name !== 'grpc-status-details-bin') continue;
    (md[name] ??= []).push(h[i + 1]!);
  }
  return md;
}

/**
 * The engine's request headers for a Connect request: content-type application/grpc, the timeout
 * as grpc-timeout, the codings renamed. Returns an error for a bad connect-timeout-ms or
 * connect-protocol-version.
 */
export function connectRequestHeaders(h: HeaderList, streaming: boolean): HeaderList | GrpcError {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!;
    const v = h[i + 1]!;
    switch (name) {
      case 'content-type':
        out.push(name, 'application/grpc');
        break;
      case 'connect-timeout-ms':
        // "Timeout-Milliseconds → {positive integer as ASCII string of at most 10 digits}"
        if (!/^\d{1,10}$/.test(v)) return new GrpcError(Status.INVALID_ARGUMENT, `connect-timeout-ms "${v}": expected at most 10 digits`);
        out.push('grpc-timeout', encodeTimeout(Number(v)));
        break;
      case 'connect-protocol-version':
        if (v !== '1') return new GrpcError(Status.INVALID_ARGUMENT, `connect-protocol-version "${v}": expected 1`);
        break;
      case 'content-encoding':
      case 'connect-content-encoding':
        if ((name === 'connect-content-encoding') === streaming && v !== 'identity') out.push('grpc-encoding', v);
        break;
      case 'accept-encoding':
      case 'connect-accept-encoding':
        if ((name === 'connect-accept-encoding') === streaming) out.push('grpc-accept-encoding', v);
        break;
      default:
        if (!name.startsWith('grpc-')) out.push(name, v);
    }
  }
  return out;
}

/** Connect unary: the whole body is one message; the whole response is sent at the end. */
export class ConnectUnaryStream extends CallStream {
  readonly #json: boolean;
  readonly #max: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #compressed: boolean;
  #head: HeaderList | null = null;
  #message: Buffer | null = null;
  #inputDone = false;
  // The answer, when it is ready before the request body has all come (an early error): sent at
  // the body's end, so that an HTTP/1.1 connection stays usable.
  #pending: (() => void) | null = null;

  constructor(outer: ServerStream, headers: HeaderList, extra: HeaderList, json: boolean, opts: CallOptions, body?: Buffer) {
    super(outer, headers, extra);
    this.#json = json;
    this.#max = opts.maxReceiveMessageLength;
    this.#compressed = getHeader(headers, 'grpc-encoding') !== undefined;
    if (body !== undefined) this.#chunks.push(body), (this.#size = body.length);
  }

  protected override input(chunk: Buffer): void {
    this.outer.consume(chunk.length);
    this.#size += chunk.length;
    if (this.#pending !== null && this.#size > this.#max) this.#flush();
    if (this.closed) return;
    // The engine checks the message it is given; a body past the limit is not gathered at all.
    if (this.#size > this.#max) {
      this.#chunks = [];
      this.fail(new GrpcError(Status.RESOURCE_EXHAUSTED, `request body larger than max (${this.#max})`));
      return;
    }
    this.#chunks.push(chunk);
  }

  protected override inputEnd(): void {
    this.#inputDone = true;
    if (this.#pending !== null) this.#flush();
    if (this.closed) return;
    const prefix = Buffer.allocUnsafe(PREFIX_LENGTH);
    prefix[0] = this.#compressed ? 1 : 0;
    prefix.writeUInt32BE(this.#size, 1);
    const framed = Buffer.concat([prefix, ...this.#chunks], PREFIX_LENGTH + this.#size);
    this.#chunks = [];
    this.ondata?.(framed);
    this.onend?.(null);
  }

  /** The body was consumed as it came. */
  override consume(): void {}

  respond(headers: HeaderList, endStream = false): void {
    if (this.ended) return;
    this.#head = headers;
    if (endStream) this.end(headers);
  }

  write(data: Buffer): boolean {
    if (!this.ended) this.#message = data;
    return true;
  }

  end(trailers: HeaderList = []): void {
    if (this.ended) return;
    this.ended = true;
    const { code, message } = statusOf(trailers);
    const msg = this.#message;
    this.#message = null;
    const head = this.#head ?? [];
    const ok = code === Status.OK && msg !== null;
    const h: HeaderList = [':status', ok ? '200' : String(httpStatusOf(code)), 'content-type', ok && !this.#json ? 'application/proto' : 'application/json'];
    // Response metadata as headers, the response's coding when the engine compressed it; trailing
    // metadata as "trailer-" headers. A Trailers-Only answer (trailers === head) has only trailers.
    if (trailers !== head) {
      for (let i = 0; i + 1 < head.length; i += 2) {
        const name = head[i]!;
        if (name === 'grpc-encoding') {
          if (ok && msg[0] === 1) h.push('content-encoding', head[i + 1]!);
        } else if (!isReservedHeader(name)) h.push(name, head[i + 1]!);
      }
    }
    for (let i = 0; i + 1 < trailers.length; i += 2) {
      const name = trailers[i]!;
      if (!isReservedHeader(name)) h.push(`trailer-${name}`, trailers[i + 1]!);
    }
    h.push(...this.extra);
    const body = ok ? msg.subarray(PREFIX_LENGTH) : Buffer.from(JSON.stringify(errorJson(code === Status.OK ? Status.INTERNAL : code, message, trailers)), 'utf8');
    h.push('content-length', String(body.length));
    this.#pending = () => {
      this.outer.respond(h, false);
      this.outer.write(body);
      this.outer.end();
    };
    if (this.#inputDone || this.#size > this.#max) this.#flush();
  }

  #flush(): void {
    const send = this.#pending;
    this.#pending = null;
    if (send !== null) send();
  }

  protected sendError(err: GrpcError): void {
    this.end(['grpc-status', String(err.code), 'grpc-message', encodeURIComponent(err.details)]);
  }
}

/** Connect streaming: envelopes both ways, the status in a final end-stream envelope. */
export class ConnectStreamStream extends EnvelopeStream {
  /** The encodings under Connect's names; metadata as it is; gRPC's own headers left out. */
  protected headerName(name: string): string | null {
    if (name === 'grpc-encoding') return 'connect-content-encoding';
    if (name === 'grpc-accept-encoding') return 'connect-accept-encoding';
    return isReservedHeader(name) ? null : name;
  }

  write(data: Buffer): boolean {
    if (this.ended) return true;
    return this.outer.write(data);
  }

  /** The end-stream envelope: {"metadata": {...}, "error": {...} unless OK}. */
  protected lastFrame(trailers: HeaderList): Buffer {
    const { code, message } = statusOf(trailers);
    const endJson: Record<string, unknown> = { metadata: metadataJson(trailers) };
    if (code !== Status.OK) endJson.error = errorJson(code, message, trailers);
    const body = Buffer.from(JSON.stringify(endJson), 'utf8');
    const env = Buffer.allocUnsafe(PREFIX_LENGTH + body.length);
    env[0] = END_STREAM;
    env.writeUInt32BE(body.length, 1);
    body.copy(env, PREFIX_LENGTH);
    return env;
  }
}
