// One gRPC call on one HTTP/2 stream, server side (gRPC over HTTP/2 spec): request validation,
// request messages in, the handler (through the job queue and the interceptors), response
// headers, messages and status out; deadline and cancellation.
//
// Life of a call: validate headers -> arm the deadline timer (one per call) -> admit through the
// queue ('rejected' = RESOURCE_EXHAUSTED at once; waiting time counts against the deadline) ->
// start(): interceptors, handler -> status -> queue.done(). Streaming calls hold their running slot
// for the whole call, except while a write() waits for the client's flow-control window: then the
// call parks (queue.park: the slot goes to another call) and takes a slot again, before any waiting
// call, once the window opens (queue.resume -> start()). The client's RST_STREAM or a lost connection aborts ctx.signal; the deadline
// aborts it, sends DEADLINE_EXCEEDED and RST_STREAM(CANCEL).
//
// Flow control: request bytes are handed back to the peer (stream.consume) as they arrive while
// at most HIGH_WATER decoded messages wait for the handler; past that they are held until the
// handler takes messages, so a slow streaming handler holds the peer to one stream window.
import type { HeaderList, PeerInfo, ServerStream } from '../http2/api.js';
import { ErrorCode } from '../http2/errors.js';
import type { AnyHandler, MethodDefinition, MethodKind, ServerWriter, WriteOptions } from './method.js';
import { Metadata } from './metadata.js';
import type { InterceptorContext, ServerInterceptor } from './interceptors.js';
import { GrpcError, Status } from './status.js';
import { MessageDecoder, PREFIX_LENGTH, withRoom } from './message-framing.js';
import { ACCEPT_ENCODING, compress, decompress, isSupportedEncoding, parseAcceptEncoding } from './compression.js';
import type { Encoding } from './compression.js';
import { parseTimeout } from './timeout.js';
import { appendMetadata, headersToMetadata } from './metadata-headers.js';
import { percentEncode } from './percent.js';
import { RequestStream, drainReplies, hasMethod, isGrpcContentType } from './call-io.js';

/** A method as the router resolves it. */
export interface Route {
  def: MethodDefinition<any, any>;
  handler: AnyHandler;
  /** "helloworld.Greeter" */
  service: string;
}

/** The job queue as a call uses it (src/queue JobQueue fits). */
export interface Admission {
  admit(job: { start(): void; readonly owner?: { held?: number } }): 'run' | 'queued' | 'rejected';
  done(job: { start(): void }): boolean;
  cancel(job: { start(): void }): boolean;
  park(job: { start(): void }): boolean;
  resume(job: { start(): void }): void;
}

/**
 * Told about every call when installed (src/observe installs one; undefined when metrics are off:
 * a call then pays one check when it starts and one when it ends).
 */
export interface CallObserver {
  /** A call to a known method begins; what it returns comes back to callEnd() as `t0`. */
  callStart(route: Route): number;
  /**
   * The call ended with status `code` (CANCELLED when the client went away). `route` is null for
   * an unknown method (callStart() was not called then); `received` is -1 when the handler stopped
   * reading before the end.
   */
  callEnd(route: Route | null, code: number, received: number, sent: number, t0: number | undefined): void;
  /** A plain HTTP GET (not gRPC) on `stream`, answered by the observer (without one: 405). */
  httpGet(stream: ServerStream, path: string): void;
}

/** Everything a call needs from the server, shared by all calls of a server. */
export interface CallOptions {
  lookup(path: string): Route | undefined;
  /** Whether a service of this fully qualified name is registered (for the UNIMPLEMENTED message). */
  hasService(name: string): boolean;
  queue: Admission;
  interceptors: readonly ServerInterceptor[];
  maxReceiveMessageLength: number;
  maxSendMessageLength: number;
  /** Response compression when the client accepts it and the call does not choose. */
  compression: Encoding;
  /** Refuse requests without "te: trailers" (INTERNAL). Default false: such requests are served. */
  requireTeTrailers: boolean;
  /**
   * The peer as CallContext.peer shows it. Set per connection: the server's CallOptions are the
   * prototype of one small object per connection that adds it (no field per call).
   */
  peer?: string;
  /** Told about errors a handler threw that were not GrpcErrors (they become UNKNOWN). */
  onHandlerError?: (error: unknown, ctx: InterceptorContext) => void;
  /** Counts calls and answers plain GETs when set (metrics on). */
  observer?: CallObserver;
}

const HIGH_WATER = 1;
const STOPPED_READING = -1;
// setTimeout's largest delay; longer deadlines need no timer (the call cannot outlive them in practice).
const MAX_TIMER_MS = 0x7fffffff;

// 'input': running, on the unary fast path, the handler not called yet (see runWhenInput).
// 'request': a unary or server-streaming call waits for its whole request before it is admitted.
type Phase = 'new' | 'request' | 'waiting' | 'input' | 'running' | 'done';

const CALL_CANCELLED = 'call cancelled';
const noRequest = (kind: string): GrpcError => new GrpcError(Status.INTERNAL, `no request message for a ${kind} call`);

type AnyFn = (...args: any[]) => any;
// heldReply when no reply is held (a handler may reply undefined, which fails to encode).
const NO_REPLY: unique symbol = Symbol();

const noop = (): void => {};
// What write() returns when the stream takes the message at once: one settled promise for all.
const RESOLVED = Promise.resolve();
// Header lists of the common case (identity, no custom metadata), shared by every call: the
// HTTP/2 layer only reads the lists it is given.
const RESPONSE_HEADERS: HeaderList = [':status', '200', 'content-type', 'application/grpc', 'grpc-accept-encoding', ACCEPT_ENCODING];
const OK_TRAILERS: HeaderList = ['grpc-status', '0'];
function resetStream(stream: ServerStream, code: number): void {
  stream.reset(code);
}
function onDeadline(call: ServerCall): void {
  call.deadlineExpired();
}

interface Drain {
  p: Promise<void>;
  r: () => void;
}
function newDrain(): Drain {
  let r!: () => void;
  return { p: new Promise<void>((res) => (r = res)), r };
}

/** A request message waiting for the handler: a Buffer, in a one-element array when compressed. */
type Queued = Buffer | [Buffer];


// Fields are kept few (the object is made per call): what most unary calls never use is made on
// first use, and the message decoder is the call itself (MessageDecoder is its base class).
export class ServerCall extends MessageDecoder implements InterceptorContext, ServerWriter<unknown> {
  /** CallContext.requestCompressed: the Compressed-Flag of the request message last handed out. */
  requestCompressed = false;

  // Made on first use of ctx.signal (most unary handlers never look at it).
  private controller: AbortController | null = null;
  private abortReason: GrpcError | null = null;
  private route: Route | null = null;
  private phase: Phase = 'new';
  private timer: NodeJS.Timeout | null = null;
  // The deadline when the client sent grpc-timeout. Not a number field: V8 would box a double
  // (Infinity) in a heap number of its own for every call.
  #deadline: number | undefined = undefined;
  // CallObserver.started()'s value, only with an observer (undefined otherwise: no number field).
  #t0: number | undefined = undefined;
  private headersSent = false;
  private finished = false;
  private messagesSent = 0;
  private requestEncoding: Encoding | null = null;
  // setCompression's choice (null: the server's) until the response headers go out, then the
  // encoding of the response messages.
  #encoding: Encoding | null = null;
  // Made on first use of ctx.trailers / ctx.metadata (most handlers never look at them).
  private trailerMd: Metadata | null = null;
  private requestMd: Metadata | null = null;
  // Receive side.
  // Request messages waiting for the handler: the first one, the ones behind it (made when needed).
  private inHead: Queued | null = null;
  // Where the message in inHead starts.
  #at = 0;
  private inRest: Queued[] | null = null;
  private inCount = 0;
  // Request messages received; STOPPED_READING once the handler stopped reading (stopReading()).
  #received = 0;
  #deferred = 0;
  private clientEnded = false;
  private recvError: GrpcError | null = null;
  private wake: (() => void) | null = null;
  // Send side.
  // What write() callers wait on while the stream wants a drain, and how to wake them.
  #drain: Drain | null = null;
  /** A unary reply waiting for handlerDone (see reply()). */
  private heldReply: unknown = NO_REPLY;
  /** Off its running slot while write() waits for the client (Admission.park). */
  #parked = false;

  readonly #stream: ServerStream;

  private readonly opts: CallOptions;

  constructor(stream: ServerStream, opts: CallOptions) {
    super(opts.maxReceiveMessageLength);
    this.opts = opts;
    this.#stream = stream;
    // One bound function serves the three stream callbacks (told apart by their argument): one
    // small object per call instead of three closures and their context.
    const on = this.#on.bind(this);
    stream.ondata = on;
    stream.onend = on;
    stream.onclose = on;
    // ondrain is set by write() the first time it has to wait.
  }

  // The route's names and kind, read from it (fewer fields per call).
  get method(): string {
    return this.route?.def.path ?? '';
  }
  get service(): string {
    return this.route?.service ?? '';
  }
  get methodName(): string {
    return this.route?.def.name ?? '';
  }
  get kind(): MethodKind {
    return this.route?.def.kind ?? 'unary';
  }
  get deadline(): number {
    return this.#deadline ?? Infinity;
  }
  get peer(): string {
    return this.opts.peer ?? '';
  }
  get peerCertificate(): unknown {
    return this.#stream.peer.peerCertificate;
  }

  get trailers(): Metadata {
    return (this.trailerMd ??= new Metadata());
  }

  /** The request's custom metadata, read from the header list on first use. */
  get metadata(): Metadata {
    return (this.requestMd ??= this.route === null ? new Metadata() : headersToMetadata(this.#stream.headers));
  }
  set metadata(md: Metadata) {
    this.requestMd = md;
  }

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abortReason !== null) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Validate the request headers and admit the call; answers at once when it cannot be served. */
  begin(): void {
    const h = this.#stream.headers;
    let method: string | undefined;
    let path: string | undefined;
    let contentType: string | undefined;
    let te: string | undefined;
    let encoding: string | undefined;
    let timeout: string | undefined;
    for (let i = 0; i + 1 < h.length; i += 2) {
      const v = h[i + 1]!;
      switch (h[i]) {
        case ':method': method = v; break;
        case ':path': path = v; break;
        case 'content-type': contentType = v; break;
        case 'te': te = v; break;
        case 'grpc-encoding': encoding = v; break;
        case 'grpc-timeout': timeout = v; break;
      }
    }
    // Spec: "Call-Definition -> Method Scheme Path TE [Authority] [Timeout] Content-Type ...
    //  Method -> ":method POST""; a gRPC server answers other methods with 405.
    if (method !== 'POST') {
      const o = this.opts.observer;
      if (method === 'GET' && o !== undefined && path !== undefined) return o.httpGet(this.#stream, path);
      return this.rejectHttp(405);
    }
    // Spec: "If Content-Type does not begin with "application/grpc", gRPC servers SHOULD respond
    //  with HTTP status of 415 (Unsupported Media Type)."
    if (contentType === undefined || !isGrpcContentType(contentType)) return this.rejectHttp(415);
    // Spec: "TE -> "te" "trailers" # Used to detect incompatible proxies".
    if (te !== 'trailers' && this.opts.requireTeTrailers) {
      return this.trailersOnly(new GrpcError(Status.INTERNAL, 'request without "te: trailers"'));
    }
    const route = path === undefined ? undefined : this.opts.lookup(path);
    if (route === undefined) return this.trailersOnly(new GrpcError(Status.UNIMPLEMENTED, this.unknownPath(path)));
    this.route = route;
    const o = this.opts.observer;
    if (o !== undefined) this.#t0 = o.callStart(route);
    if (encoding !== undefined) {
      if (!isSupportedEncoding(encoding)) {
        return this.trailersOnly(
          new GrpcError(Status.UNIMPLEMENTED, `unsupported grpc-encoding "${encoding}"`),
          ['grpc-accept-encoding', ACCEPT_ENCODING],
        );
      }
      this.requestEncoding = encoding;
    }
    if (timeout !== undefined) {
      const t = parseTimeout(timeout);
      if (!t.ok) return this.trailersOnly(new GrpcError(Status.INTERNAL, t.error));
      this.#deadline = Date.now() + t.ms;
      if (t.ms <= 0) return this.trailersOnly(new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded'));
      if (t.ms <= MAX_TIMER_MS) this.timer = setTimeout(onDeadline, Math.ceil(t.ms), this);
    }
    this.phase = 'waiting';
    // A method that bypasses the queue starts now, holding no slot (queue.done() then frees none).
    if (route.def.bypassQueue === true) return this.start();
    // A one-message request is read whole before the call takes a job slot: a client that never
    // ends its request holds no slot, and is reset when it stalls (ServerStream.awaitEnd).
    if (!this.clientEnded && this.opts.interceptors.length === 0 && (this.kind === 'unary' || this.kind === 'server_streaming')) {
      this.phase = 'request';
      this.#stream.awaitEnd?.();
      return;
    }
    this.#admit();
  }

  #admit(): void {
    if (this.opts.queue.admit(this) === 'rejected') this.refuse();
  }

  /** Refused by the queue: at admission, or dropped from the waiting line for a fairer share. */
  refuse(): void {
    this.phase = 'done';
    this.#finish(new GrpcError(Status.RESOURCE_EXHAUSTED, 'server busy: job queue full'));
  }

  /** QueueJob.owner: the calls of one connection share its PeerInfo, and their job-queue share. */
  get owner(): PeerInfo {
    return this.#stream.peer;
  }

  /** Why `path` has no route: spec "Path -> ":path" "/" Service-Name "/" {method name}". */
  private unknownPath(path: string | undefined): string {
    if (path === undefined) return 'unknown method (no :path)';
    const slash = path.lastIndexOf('/');
    const service = path.slice(1, slash);
    if (path.charCodeAt(0) !== 0x2f || slash <= 1) return `malformed :path "${path}" (expected /package.Service/Method)`;
    if (!this.opts.hasService(service)) return `unknown service ${service}`;
    return `unknown method ${path.slice(slash + 1)} for service ${service}`;
  }

  /** QueueJob: the call got a running slot. */
  start(): void {
    if (this.#parked) {
      // Back on a running slot (Admission.resume): the write() it waited on goes on.
      this.#parked = false;
      return this.resolveDrain();
    }
    if (this.phase !== 'waiting') return;
    if (this.opts.interceptors.length === 0 && (this.kind === 'unary' || this.kind === 'server_streaming')) {
      // Fast path: no async iterator chain; the handler runs once the request is complete.
      this.phase = 'input';
      this.runWhenInput();
      return;
    }
    this.phase = 'running';
    let p: Promise<void>;
    try {
      p = this.runChain(0);
    } catch (err) {
      p = Promise.reject(err);
    }
    this.settleWith(p);
  }

  private settleWith(p: PromiseLike<unknown>): void {
    // Bound methods, not arrow functions: no context object, and none for the callers either.
    p.then(this.handlerDone.bind(this), this.handlerFailed.bind(this));
  }

  /**
   * Unary fast path: once the client has ended its side (one message, then END_STREAM), decode
   * and call the handler synchronously; a call ended before that (deadline, reset, bad input)
   * only gives its running slot back.
   */
  private runWhenInput(): void {
    if (this.phase !== 'input') return;
    if (this.finished || this.recvError !== null) {
      this.phase = 'running';
      this.#finish(this.recvError ?? this.abortReason ?? new GrpcError(Status.CANCELLED, CALL_CANCELLED));
      this.settle();
      return;
    }
    if (!this.clientEnded) return;
    this.phase = 'running';
    const handler = this.route!.handler as AnyFn;
    try {
      if (this.inCount === 0) throw noRequest(this.kind);
      const req = this.takeMessage();
      if (this.kind === 'unary') {
        const res: unknown = handler(req, this);
        if (hasMethod(res, 'then')) {
          // Bound methods: an arrow function here would make runWhenInput allocate a context for
          // `this` on every call, async handler or not.
          (res as PromiseLike<unknown>).then(this.unaryResult.bind(this), this.handlerFailed.bind(this));
        } else {
          this.unaryResult(res);
        }
      } else {
        this.settleWith(drainReplies(this, handler(req, this, this)));
      }
    } catch (err) {
      this.handlerFailed(err);
    }
  }

  private unaryResult(res: unknown): void {
    this.heldReply = res;
    this.handlerDone();
  }

  // ---- CallContext ----

  sendHeaders(metadata?: Metadata): void {
    if (this.headersSent || this.finished) return;
    this.headersSent = true;
    const want = this.#encoding ?? this.opts.compression;
    const enc = (this.#encoding = want !== 'identity' && parseAcceptEncoding(this.#stream.headers).has(want) ? want : 'identity');
    if (enc === 'identity' && (metadata === undefined || metadata.size === 0)) {
      this.#stream.respond(RESPONSE_HEADERS, false);
      return;
    }
    const h = RESPONSE_HEADERS.slice(0, 4);
    if (enc !== 'identity') h.push('grpc-encoding', enc);
    h.push('grpc-accept-encoding', ACCEPT_ENCODING);
    this.#stream.respond(appendMetadata(h, metadata), false);
  }

  setCompression(encoding: Encoding): void {
    if (!isSupportedEncoding(encoding)) throw new TypeError(`unsupported compression "${String(encoding)}"`);
    if (!this.headersSent) this.#encoding = encoding;
  }

  // ---- ServerWriter ----

  write(message: unknown, options?: WriteOptions): Promise<void> {
    if (this.finished) return this.writeAfterEnd();
    try {
      if (!this.sendMessage(message, options?.compress !== false)) {
        // Bound, not an arrow function: an arrow would make every write() allocate a context.
        if (this.#stream.ondrain === null) this.#stream.ondrain = this.#drained.bind(this);
        // Waiting on the client, not on the server: the running slot is free for another call
        // (the queue parks only a call holding one: not one that bypasses it).
        if (!this.#parked) this.#parked = this.opts.queue.park(this);
        return (this.#drain ??= newDrain()).p;
      }
    } catch (err) {
      const e = GrpcError.from(err);
      this.terminate(e);
      // Marked handled: a handler that does not await write() must not crash the process.
      const p = Promise.reject(e);
      p.catch(noop);
      return p;
    }
    return RESOLVED;
  }

  /**
   * write() on an ended call rejects (marked handled) with why it ended: the abort reason after a
   * cancel, deadline or stop, else INTERNAL. A handler that ignores ctx.signal and keeps writing
   * must stop, or it would hold its running slot for good (grpc-java's onNext throws CANCELLED too).
   */
  private writeAfterEnd(): Promise<void> {
    const p = Promise.reject(this.abortReason ?? new GrpcError(Status.INTERNAL, 'write() after the call ended'));
    p.catch(noop);
    return p;
  }

  // ---- MessageDecoder.onMessage (called by push()) ----

  onMessage(compressed: boolean, buf: Buffer, start: number, end: number): void {
    if (compressed && this.requestEncoding === null) {
      throw new GrpcError(Status.INTERNAL, 'compressed message received without grpc-encoding');
    }
    if (this.#received < 0) return;
    this.#received++;
    if (this.#received > 1 && (this.kind === 'unary' || this.kind === 'server_streaming')) {
      throw new GrpcError(Status.INTERNAL, `more than one request message for a ${this.kind} call`);
    }
    // The first waiting message, when it runs to the end of its chunk (a unary request in one DATA
    // frame), stays the chunk and its start: no view of it is made.
    let at = 0;
    if (this.inCount === 0 && !compressed && end === buf.length) at = start;
    else buf = buf.subarray(start, end);
    const m: Queued = compressed ? [buf] : buf;
    if (this.inCount === 0) {
      this.inHead = m;
      this.#at = at;
    } else (this.inRest ??= []).push(m);
    this.inCount++;
    this.#notify();
  }

  // ---- request messages, for the handler ----

  /** The next request message, or done when the client has ended its side. */
  async nextRequest(): Promise<IteratorResult<unknown>> {
    for (;;) {
      const r = this.#poll();
      if (r !== undefined) return r;
      await this.waitInput();
    }
  }

  /** nextRequest() without waiting: undefined when it would wait. */
  #poll(): IteratorResult<unknown> | undefined {
    if (this.recvError !== null) throw this.recvError;
    if (this.inCount > 0) return { value: this.takeMessage(), done: false };
    if (this.clientEnded) return { value: undefined, done: true };
    if (this.finished) throw this.abortReason ?? new GrpcError(Status.CANCELLED, CALL_CANCELLED);
    return undefined;
  }

  /** The handler stopped reading (broke out of its loop): later messages are dropped. */
  stopReading(): void {
    this.#received = STOPPED_READING;
    this.dropInbox();
    this.releaseDeferred();
    this.clientEnded = true;
  }

  private waitInput(): Promise<void> {
    return new Promise<void>((r) => {
      const prev = this.wake;
      this.wake = prev === null ? r : () => { prev(); r(); };
    });
  }

  private dropInbox(): void {
    this.inHead = null;
    this.inRest = null;
    this.inCount = 0;
  }

  private takeMessage(): unknown {
    const m = this.inHead!;
    const at = this.#at;
    this.#at = 0;
    this.inCount--;
    this.inHead = this.inCount > 0 ? this.inRest!.shift()! : null;
    const compressed = Array.isArray(m);
    this.requestCompressed = compressed;
    if (this.inCount <= HIGH_WATER) this.releaseDeferred();
    try {
      const bytes = compressed ? decompress(this.requestEncoding!, m[0], this.opts.maxReceiveMessageLength) : m;
      const codec = this.route!.def.request;
      try {
        return codec.decodeFrom !== undefined ? codec.decodeFrom(bytes, at) : codec.decode(at === 0 ? bytes : bytes.subarray(at));
      } catch (err) {
        // A codec's own GrpcError keeps its code (the web protocols' JSON: INVALID_ARGUMENT).
        throw err instanceof GrpcError ? err : new GrpcError(Status.INTERNAL, `could not parse request message: ${(err as Error).message}`);
      }
    } catch (err) {
      const e = GrpcError.from(err);
      this.recvError = e;
      this.terminate(e);
      throw e;
    }
  }

  private releaseDeferred(): void {
    if (this.#deferred > 0 && !this.#stream.closed) {
      this.#stream.consume(this.#deferred);
    }
    this.#deferred = 0;
  }

  #notify(): void {
    const w = this.wake;
    if (w !== null) {
      this.wake = null;
      w();
    }
  }

  // ---- the handler ----

  private runChain(i: number): Promise<void> {
    const list = this.opts.interceptors;
    if (i >= list.length) return this.invoke();
    let called = false;
    return list[i]!(this, () => {
      if (called) return Promise.reject(new GrpcError(Status.INTERNAL, 'interceptor called next() twice'));
      called = true;
      // Marked handled (awaiting it still throws): an interceptor that drops next()'s promise
      // must not turn a failing handler into an unhandled rejection.
      const p = this.runChain(i + 1);
      p.catch(noop);
      return p;
    });
  }

  private async invoke(): Promise<void> {
    const handler = this.route!.handler as AnyFn;
    const kind = this.kind;
    if (kind === 'client_streaming') return this.#reply(await handler(new RequestStream(this), this));
    if (kind === 'bidi_streaming') return drainReplies(this, handler(new RequestStream(this), this, this));
    // One request message (unary, server streaming): the message, then the client's end. Polled
    // here rather than through nextRequest(): no async function frame of its own per call.
    let first: IteratorResult<unknown> | undefined;
    while ((first = this.#poll()) === undefined) await this.waitInput();
    if (first.done) throw noRequest(kind);
    while (!this.clientEnded) {
      if (this.recvError !== null) throw this.recvError;
      if (this.finished) throw new GrpcError(Status.CANCELLED, CALL_CANCELLED);
      await this.waitInput();
    }
    if (this.recvError !== null) throw this.recvError;
    if (kind === 'unary') return this.#reply(await handler(first.value, this));
    return drainReplies(this, handler(first.value, this, this));
  }

  /**
   * The single reply of a unary or client-streaming call. Without interceptors it is held and sent
   * by handlerDone right before the status, so message and trailers leave in one socket write
   * (written here, the connection's flush would send the message alone, a few microtasks before
   * the trailers: two writes per call). With interceptors next() still resolves once the reply is
   * handed to the transport.
   */
  #reply(res: unknown): Promise<void> | undefined {
    if (this.opts.interceptors.length > 0) return this.write(res);
    this.heldReply = res;
    return undefined;
  }

  private handlerDone(): void {
    const res = this.heldReply;
    if (res !== NO_REPLY) {
      this.heldReply = NO_REPLY;
      if (!this.finished) {
        try {
          this.sendMessage(res);
        } catch (err) {
          this.terminate(GrpcError.from(err));
          this.settle();
          return;
        }
      }
    }
    if (this.messagesSent === 0 && (this.kind === 'unary' || this.kind === 'client_streaming')) {
      this.#finish(new GrpcError(Status.INTERNAL, 'no response message for a unary call'));
    } else {
      this.#finish(null);
    }
    this.settle();
  }

  private handlerFailed(err: unknown): void {
    if (!(err instanceof GrpcError) && !this.finished && this.opts.onHandlerError !== undefined) {
      try {
        this.opts.onHandlerError(err, this);
      } catch {
        // a failing error hook must not take the call down with it
      }
    }
    this.#finish(GrpcError.from(err));
    this.settle();
  }

  private settle(): void {
    if (this.phase === 'running') {
      this.phase = 'done';
      this.opts.queue.done(this);
    }
  }

  // ---- sending ----

  /** Encode, compress, frame and write one response message; false when the stream wants a drain. */
  private sendMessage(message: unknown, mayCompress = true): boolean {
    const codec = this.route!.def.response;
    let out: Buffer;
    try {
      // Encoded behind room for the prefix: by the codec itself (no second buffer), else copied.
      out = codec.encodeFramed?.(message) ?? withRoom(codec.encode(message));
    } catch (err) {
      throw new GrpcError(Status.INTERNAL, `could not serialize response message: ${(err as Error).message}`);
    }
    const n = out.length - PREFIX_LENGTH;
    if (n > this.opts.maxSendMessageLength) {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `sent message larger than max (${n} vs. ${this.opts.maxSendMessageLength})`);
    }
    if (!this.headersSent) this.sendHeaders();
    // A message may go uncompressed (flag 0) even when the call's grpc-encoding is not identity.
    const enc = (mayCompress && this.#encoding) || 'identity';
    this.messagesSent++;
    if (enc !== 'identity') out = withRoom(compress(enc, out.subarray(PREFIX_LENGTH)));
    out[0] = enc === 'identity' ? 0 : 1;
    out.writeUInt32BE(out.length - PREFIX_LENGTH, 1);
    return this.#stream.write(out);
  }

  /** End the call with `err` (or OK): the status as trailers, or Trailers-Only before any response. */
  #finish(err: GrpcError | null, extra?: HeaderList): void {
    if (this.finished) return;
    this.finished = true;
    const o = this.opts.observer;
    if (o !== undefined) o.callEnd(this.route, err === null ? Status.OK : err.code, this.#received, this.messagesSent, this.#t0);
    this.clearTimer();
    this.dropInbox();
    this.releaseDeferred();
    this.#notify();
    if (this.#stream.closed) return;
    const md = err !== null && err.metadata.size > 0 ? this.mergedTrailers(err.metadata) : (this.trailerMd ?? undefined);
    if (err === null && this.headersSent && extra === undefined && (md === undefined || md.size === 0)) {
      this.#stream.end(OK_TRAILERS);
      return;
    }
    const code = err === null ? Status.OK : err.code;
    const message = err === null ? '' : err.details;
    const h = this.headersSent ? [] : RESPONSE_HEADERS.slice(0, 4);
    h.push('grpc-status', String(code));
    if (message.length > 0) h.push('grpc-message', percentEncode(message));
    if (extra !== undefined) h.push(...extra);
    appendMetadata(h, md);
    if (this.headersSent) {
      this.#stream.end(h);
    } else {
      // Spec: "Trailers-Only is permitted for calls that produce an immediate error":
      // one HEADERS frame with END_STREAM carrying :status, content-type and the status.
      this.headersSent = true;
      this.#stream.respond(h, true);
    }
  }

  private mergedTrailers(errMd: Metadata): Metadata {
    const m = this.trailerMd === null ? new Metadata() : this.trailerMd.clone();
    m.merge(errMd);
    return m;
  }

  private trailersOnly(err: GrpcError, extra?: HeaderList): void {
    this.phase = 'done';
    this.#finish(err, extra);
  }

  private rejectHttp(status: number): void {
    this.phase = 'done';
    this.finished = true;
    this.headersSent = true;
    this.#stream.respond([':status', String(status), 'content-type', 'text/plain'], true);
  }

  /** End the call early (deadline, bad input): abort the handler's signal and send `err`. */
  private terminate(err: GrpcError, rstCode?: number): void {
    if (this.finished) return;
    if (this.phase === 'waiting') this.opts.queue.cancel(this);
    if (this.phase === 'waiting' || this.phase === 'request') this.phase = 'done';
    this.#abort(err);
    const trailersOnly = !this.headersSent;
    this.#finish(err);
    if (rstCode !== undefined && !this.#stream.closed) {
      // After the status: a Trailers-Only HEADERS is out already; trailers behind DATA get a turn
      // of the event loop to be framed before the reset drops whatever still waits.
      if (trailersOnly) this.#stream.reset(rstCode);
      else setImmediate(resetStream, this.#stream, rstCode);
    }
    this.resolveDrain();
    this.runWhenInput();
  }

  #abort(reason: GrpcError): void {
    if (this.abortReason !== null) return;
    this.abortReason = reason;
    if (this.controller !== null) this.controller.abort(reason);
  }

  /** The stream takes writes again: go on (parked: once back on a running slot, start()). */
  #drained(): void {
    if (this.#parked) this.opts.queue.resume(this);
    else this.resolveDrain();
  }

  private resolveDrain(): void {
    const d = this.#drain;
    if (d !== null) {
      this.#drain = null;
      d.r();
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  // ---- stream callbacks ----

  /** ondata (a Buffer), onend (trailers: a header list or null) and onclose (a code). */
  #on(x: Buffer | HeaderList | null | number): void {
    if (typeof x === 'number') this.#handleClose();
    else if (x === null || Array.isArray(x)) this.#handleEnd();
    else this.#handleData(x);
  }

  #handleData(chunk: Buffer): void {
    if (this.finished || this.recvError !== null) {
      if (!this.#stream.closed) this.#stream.consume(chunk.length);
      return;
    }
    try {
      this.push(chunk);
    } catch (err) {
      this.#stream.consume(chunk.length);
      const e = GrpcError.from(err);
      this.recvError = e;
      this.terminate(e);
      return;
    }
    if (this.inCount <= HIGH_WATER) {
      this.#stream.consume(chunk.length + this.#deferred);
      this.#deferred = 0;
    } else {
      this.#deferred += chunk.length;
    }
  }

  #handleEnd(): void {
    this.clientEnded = true;
    if (this.partial && !this.finished) {
      const e = new GrpcError(Status.INTERNAL, 'request stream ended in the middle of a message');
      this.recvError = e;
      this.terminate(e);
    }
    if (this.phase === 'request') {
      this.phase = 'waiting';
      this.#admit();
    }
    this.#notify();
    this.runWhenInput();
  }

  #handleClose(): void {
    if (!this.finished) {
      // The client reset the stream or the connection went away: cancelled.
      if (this.phase === 'waiting') this.opts.queue.cancel(this);
      if (this.phase === 'waiting' || this.phase === 'request') this.phase = 'done';
      this.finished = true;
      const o = this.opts.observer;
      if (o !== undefined) o.callEnd(this.route, Status.CANCELLED, this.#received, this.messagesSent, this.#t0);
      this.clearTimer();
      this.dropInbox();
      this.#abort(new GrpcError(Status.CANCELLED, 'call cancelled by the client'));
    }
    this.#deferred = 0;
    this.#notify();
    this.resolveDrain();
    this.runWhenInput();
  }


  /** Running, since when its response has waited for the client's flow-control window (else 0). */
  get stalledSince(): number {
    return this.phase === 'running' ? this.#stream.stalledSince ?? 0 : 0;
  }

  /** Since when its connection has shown a send stall not yet cleared by WINDOW_UPDATE (else 0). */
  get shownStall(): number {
    return this.#stream.shownStall ?? 0;
  }

  /** Whether `o` came on the same connection (one PeerInfo per connection). */
  sameConn(o: ServerCall): boolean {
    return o.#stream.peer === this.#stream.peer;
  }

  /**
   * Shed at a full queue (server.ts): reset as the send-stall timeout does (ctx.signal aborts,
   * the client reads RESOURCE_EXHAUSTED) and give the running slot back now, not when the handler
   * notices. A waiting call (already out of the queue's line: dropWaiting) is reset the same way
   * and never starts.
   */
  shed(): void {
    if (this.phase === 'waiting') this.phase = 'done';
    this.#stream.reset(ErrorCode.ENHANCE_YOUR_CALM);
    this.settle();
  }

  /** The deadline timer fired (onDeadline). */
  deadlineExpired(): void {
    this.timer = null;
    this.terminate(new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded'), ErrorCode.CANCEL);
  }
}

/** Serve one stream as a gRPC call. */
export function serveCall(stream: ServerStream, opts: CallOptions): void {
  new ServerCall(stream, opts).begin();
}
