// The stream a web protocol hands to the call engine (src/grpc/call.ts). It looks like an HTTP/2
// gRPC stream: gRPC request headers, gRPC-framed request messages, then the engine's response
// headers, messages and trailers, which the protocol's subclass writes out its own way onto the
// real stream below (an HTTP/2 stream or an HTTP/1.1 request, both ServerStreams). The engine does
// everything else, identically for every protocol: routing, queue admission, interceptors,
// deadlines, message limits, compression, cancellation.
import type { HeaderList, PeerInfo, ServerStream } from '../http2/api.js';
import { ErrorCode } from '../http2/errors.js';
import type { CallOptions, Route } from '../grpc/call.js';
import { serveCall } from '../grpc/call.js';
import type { MethodDefinition } from '../grpc/method.js';
import { GrpcError, Status } from '../grpc/status.js';
import { percentDecode, percentEncode } from '../grpc/percent.js';
import { headersToMetadata } from '../grpc/metadata-headers.js';
import type { Metadata } from '../grpc/metadata.js';
import { jsonCodec } from './json.js';

export abstract class CallStream implements ServerStream {
  ondata: ((chunk: Buffer) => void) | null = null;
  onend: ((trailers: HeaderList | null) => void) | null = null;
  ondrain: (() => void) | null = null;
  onclose: ((code: number) => void) | null = null;
  readonly id: number;
  readonly peer: PeerInfo;
  /** The request as the engine reads it (gRPC names: content-type application/grpc, grpc-timeout...). */
  readonly headers: HeaderList;
  protected readonly outer: ServerStream;
  /** Response headers added for CORS (allowed origin, exposed headers). */
  protected readonly extra: HeaderList;
  /** Our side of the real stream is ended (or reset): the engine has nothing more to send. */
  protected ended = false;
  #closed = false;

  constructor(outer: ServerStream, headers: HeaderList, extra: HeaderList) {
    this.outer = outer;
    this.id = outer.id;
    this.peer = outer.peer;
    this.headers = headers;
    this.extra = extra;
    outer.ondata = (chunk) => this.input(chunk);
    outer.onend = () => this.inputEnd();
    outer.ondrain = () => this.ondrain?.();
    outer.onclose = (code) => {
      if (this.#closed) return;
      this.#closed = true;
      this.onclose?.(code);
    };
  }

  get closed(): boolean {
    return this.#closed || this.ended;
  }

  consume(n: number): void {
    this.outer.consume(n);
  }

  reset(code: number): void {
    if (this.ended) return;
    this.ended = true;
    this.outer.reset(code);
  }

  protected input(chunk: Buffer): void {
    this.ondata?.(chunk);
  }

  protected inputEnd(): void {
    this.onend?.(null);
  }

  abstract respond(headers: HeaderList, endStream?: boolean): void;
  abstract write(data: Buffer): boolean;
  abstract end(trailers?: HeaderList): void;
  /** Answer `err` in this protocol, before or instead of the engine's own answer. */
  protected abstract sendError(err: GrpcError): void;

  /**
   * The request is malformed in a way only this protocol sees (bad base64, a bad envelope): the
   * client gets `err`, and the engine sees the stream close as a cancelled call (its handler's
   * signal aborts, its queue slot is given back).
   */
  fail(err: GrpcError): void {
    if (this.closed) return;
    this.sendError(err);
    this.ended = true;
    if (!this.#closed) {
      this.#closed = true;
      this.onclose?.(ErrorCode.CANCEL);
    }
  }

  /** Start the call on this stream. */
  serve(opts: CallOptions): void {
    serveCall(this, opts);
  }
}

/**
 * gRPC-Web and Connect streaming: HTTP 200 with the protocol's content-type and the engine's
 * response headers, then its messages, then the status and trailing metadata in a last frame of the
 * protocol's own (a Trailers-Only answer is that frame alone, behind the 200). The subclasses say how
 * a response header is named on the wire and how the last frame is made.
 */
export abstract class EnvelopeStream extends CallStream {
  readonly #contentType: string;
  #headersSent = false;

  constructor(outer: ServerStream, headers: HeaderList, extra: HeaderList, contentType: string) {
    super(outer, headers, extra);
    this.#contentType = contentType;
  }

  /** The name the engine's response header `name` is sent under, or null to leave it out. */
  protected abstract headerName(name: string): string | null;
  /** The last frame: the status and trailing metadata in `trailers`. */
  protected abstract lastFrame(trailers: HeaderList): Buffer;

  respond(headers: HeaderList, endStream = false): void {
    if (this.ended) return;
    const h: HeaderList = [':status', '200', 'content-type', this.#contentType];
    if (!endStream) {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        const name = this.headerName(headers[i]!);
        if (name !== null) h.push(name, headers[i + 1]!);
      }
    }
    this.#headersSent = true;
    this.outer.respond(h.concat(this.extra), false);
    // Trailers-Only: the status goes in the last frame, the one place every client reads it.
    if (endStream) this.end(headers);
  }

  end(trailers: HeaderList = []): void {
    if (this.ended) return;
    this.ended = true;
    this.outer.write(this.lastFrame(trailers));
    this.outer.end();
  }

  protected sendError(err: GrpcError): void {
    const t = ['grpc-status', String(err.code), 'grpc-message', percentEncode(err.details)];
    if (this.#headersSent) this.end(t);
    else this.respond(t, true);
  }
}

/** The status and message of a header list of the engine's (trailers or Trailers-Only headers). */
export function statusOf(h: HeaderList): { code: Status; message: string; metadata: Metadata } {
  let code = Status.UNKNOWN;
  let message = '';
  for (let i = 0; i + 1 < h.length; i += 2) {
    if (h[i] === 'grpc-status') code = Number(h[i + 1]) as Status;
    else if (h[i] === 'grpc-message') message = percentDecode(h[i + 1]!);
  }
  return { code, message, metadata: headersToMetadata(h) };
}

/** A header list with `name` renamed or dropped (to === null). */
export function renameHeaders(h: HeaderList, map: Record<string, string | null>): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!;
    const to = name in map ? map[name] : name;
    if (to !== null && to !== undefined) out.push(to, h[i + 1]!);
  }
  return out;
}

export function getHeader(h: HeaderList, name: string): string | undefined {
  for (let i = 0; i + 1 < h.length; i += 2) if (h[i] === name) return h[i + 1];
  return undefined;
}

const jsonRoutes = new WeakMap<Route, Route>();

/** The server's call options with every method's messages as proto3 JSON (see json.ts). */
export function jsonOptions(opts: CallOptions): CallOptions {
  const o: CallOptions = Object.create(opts);
  o.lookup = (path) => {
    const r = opts.lookup(path);
    if (r === undefined) return undefined;
    let j = jsonRoutes.get(r);
    if (j === undefined) {
      const req = r.def.request.type;
      const res = r.def.response.type;
      if (req === undefined || res === undefined) {
        // A hand-made codec without a protobufjs type: no JSON for it.
        const def: MethodDefinition = { ...r.def, request: { encode: noJson, decode: noJson }, response: { encode: noJson, decode: noJson } };
        j = { ...r, def };
      } else {
        j = { ...r, def: { ...r.def, request: jsonCodec(req as never), response: jsonCodec(res as never) } };
      }
      jsonRoutes.set(r, j);
    }
    return j;
  };
  return o;
}

function noJson(): never {
  throw new GrpcError(Status.UNIMPLEMENTED, 'this method has no JSON mapping (its codec has no protobufjs type)');
}
