// The four kinds of call and the handler types a service implementation is made of.
// (Public API: re-exported from src/index.ts.)
import type { Metadata } from './metadata.js';

export type MethodKind = 'unary' | 'server_streaming' | 'client_streaming' | 'bidi_streaming';

/** How one method's messages are turned into bytes and back (protobufjs light or anything else). */
export interface MessageCodec<T> {
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /**
   * Optional, saves a buffer and a copy per response message: encode into a Buffer whose first 5
   * octets are left free (the call writes the gRPC message prefix there).
   */
  encodeFramed?(message: T): Buffer;
  /** Optional, saves a Buffer view per request message: decode buf from octet `start` to its end. */
  decodeFrom?(buf: Buffer, start: number): T;
  /** The protobufjs Type (codecs made by loadServices): the web protocols' JSON mapping needs it. */
  readonly type?: unknown;
}

export interface MethodDefinition<Req = unknown, Res = unknown> {
  /** e.g. "SayHello" */
  name: string;
  /** "/package.Service/Method" */
  path: string;
  kind: MethodKind;
  /** Free of side effects (.proto idempotency_level NO_SIDE_EFFECTS): the Connect protocol may call it with GET. */
  idempotent?: boolean;
  request: MessageCodec<Req>;
  response: MessageCodec<Res>;
  /**
   * Run calls at once, without a running slot of the job queue (not counted in maxRunning or
   * maxWaiting). For cheap control-plane streams that clients keep open while they make the calls
   * they are about, e.g. server reflection: holding a slot, one would leave a board with
   * maxRunning 1 unable to run those calls.
   */
  bypassQueue?: boolean;
}

export interface ServiceDefinition {
  /** Fully qualified, e.g. "helloworld.Greeter" */
  name: string;
  methods: Record<string, MethodDefinition<any, any>>;
}

/** What every handler gets besides its messages. */
export interface CallContext {
  /** "/package.Service/Method" */
  readonly method: string;
  /** The request's custom metadata (reserved headers left out). */
  readonly metadata: Metadata;
  /** Absolute deadline (Date.now() based), or Infinity when the client set none. */
  readonly deadline: number;
  /** Aborted when the client cancels, the deadline passes, or the server stops. */
  readonly signal: AbortSignal;
  /** "ipv4:127.0.0.1:5555", "ipv6:[::1]:5555" or "unix:/path", as grpc-js and grpcio print it. */
  readonly peer: string;
  /** The peer's TLS certificate when client authentication is on. */
  readonly peerCertificate?: unknown;
  /** Send initial metadata now (otherwise it goes with the first message or the status). */
  sendHeaders(metadata?: Metadata): void;
  /** Trailing metadata sent with the status. */
  readonly trailers: Metadata;
  /**
   * Compress this call's responses with `encoding` when the client's grpc-accept-encoding lists
   * it (otherwise they go uncompressed). Effective only before the response headers are sent.
   */
  setCompression(encoding: 'identity' | 'gzip' | 'deflate'): void;
  /**
   * Whether the request message most recently handed to the handler arrived compressed
   * (Compressed-Flag 1); false before the first one. Optional for implementations: the gRPC
   * interop tests' expect_compressed checks need it.
   */
  readonly requestCompressed?: boolean;
}

export interface WriteOptions {
  /**
   * false: send this message with Compressed-Flag 0 even though the call compresses its responses
   * (gRPC allows per-message choice; the interop test server_compressed_streaming needs it).
   */
  compress?: boolean;
}

export interface ServerWriter<Res> {
  /**
   * Resolves once the message is handed to the transport under flow control (await it for
   * backpressure). Rejects with the call's GrpcError once the call has ended (client cancel,
   * deadline, server stop, message too large): a handler looping on write() ends there.
   */
  write(message: Res, options?: WriteOptions): Promise<void>;
}

export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Res | Promise<Res>;
/** Either write via `out` and return, or return an (async) iterable of replies. */
export type ServerStreamingHandler<Req, Res> = (
  request: Req,
  out: ServerWriter<Res>,
  ctx: CallContext,
) => void | Promise<void> | AsyncIterable<Res> | Iterable<Res>;
export type ClientStreamingHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  ctx: CallContext,
) => Res | Promise<Res>;
export type BidiStreamingHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  out: ServerWriter<Res>,
  ctx: CallContext,
) => void | Promise<void> | AsyncIterable<Res>;

export type AnyHandler =
  | UnaryHandler<any, any>
  | ServerStreamingHandler<any, any>
  | ClientStreamingHandler<any, any>
  | BidiStreamingHandler<any, any>;

/** An implementation object: one handler per method, keyed by method name ("SayHello"; "sayHello" also accepted). */
export type ServiceImplementation = Record<string, AnyHandler>;
