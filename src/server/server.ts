// The public Server: services, listening sockets (h2c or TLS), connections, graceful stop.
//
//   const server = new Server({ profile: 'pi4b', interceptors: [auth] });
//   server.addService(services['helloworld.Greeter'], { SayHello: (req) => ({ message: `hello ${req.name}` }) });
//   const port = await server.bind('0.0.0.0:50051', ServerCredentials.createInsecure());
//   server.start();
//   ...
//   await server.stop(5000);
//
// Options come from the target profile (`profile`, else GRPC_EDGE_TARGET / the bundle's board /
// host-x64); explicit options override the profile's values. Every option is checked in the
// constructor (unknown keys, types, ranges, the HTTP/2 limits), credentials in createSsl, the
// address and port in bind(): a mistake fails there, never at the first call.
//
// Job queue: every call is admitted before its handler runs; at most `maxRunning` handlers run at
// once and `maxWaiting` calls wait (fair between connections: src/queue/job-queue.ts); past that a
// call gets RESOURCE_EXHAUSTED at once.
// Waiting time counts against the call's deadline; a call cancelled while waiting leaves the
// queue. Streaming calls (all three kinds) hold their running slot for the whole call, except
// while their response waits for the client's flow-control window: then they park (src/grpc/call.ts).
import { createServer as createNetServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Http2Options, PeerInfo, ServerStream } from '../http2/api.js';
import { Http2ServerConnection } from '../http2/connection.js';
import { newCounters, type LifetimeCounters } from '../http2/keepalive.js';
import { DEFAULT_HTTP2_OPTIONS, resolveOptions } from '../http2/settings.js';
import type { ServiceDefinition, ServiceImplementation } from '../grpc/method.js';
import type { ServerInterceptor, InterceptorContext } from '../grpc/interceptors.js';
import { serveCall } from '../grpc/call.js';
import { nodeTls } from './builtins.js';
import type { CallObserver, CallOptions, ServerCall } from '../grpc/call.js';
import type { Encoding } from '../grpc/compression.js';
import { isSupportedEncoding } from '../grpc/compression.js';
import { JobQueue } from '../queue/index.js';
import type { JobQueueStats } from '../queue/index.js';
import { resolveProfile } from './profile.js';
import type { TargetProfile } from './profile.js';
import { Router } from './router.js';
import { ConnectionSet, SocketMember } from './connections.js';
import type { Member } from './connections.js';
import { ServerCredentials } from './credentials.js';
import { parseBindAddress } from './address.js';

export interface ServerOptions {
  /** Target profile name (targets/<name>.json); its limits are the defaults below. */
  profile?: string;
  /** Handlers running at once. */
  maxRunning?: number;
  /** Calls waiting for a running slot before new ones get RESOURCE_EXHAUSTED. */
  maxWaiting?: number;
  /** Largest request message (bytes, after decompression; Infinity: no limit). Larger: RESOURCE_EXHAUSTED. */
  maxReceiveMessageLength?: number;
  /** Largest response message (bytes, before compression; Infinity: no limit). Larger: RESOURCE_EXHAUSTED. */
  maxSendMessageLength?: number;
  /** Run around every call, first = outermost (see src/grpc/interceptors.ts). */
  interceptors?: ServerInterceptor[];
  /** HTTP/2 limits; unset ones come from the profile, then the connection's defaults. */
  http2?: Http2Options;
  /** Response compression for clients that accept it (default identity; per call: ctx.setCompression). */
  compression?: Encoding;
  /** Refuse requests without "te: trailers" (default false). */
  requireTeTrailers?: boolean;
  /** Told about non-GrpcError exceptions from handlers (default: none; they become UNKNOWN). */
  onHandlerError?: (error: unknown, ctx: InterceptorContext) => void;
  /**
   * Connections open at once, those in their (TLS) handshake included (src/server/connections.ts).
   * At the cap the longest-idle one is closed for a new one; when all have calls open, the new one
   * is refused (GOAWAY with the reason; over TLS, closed before the handshake).
   */
  maxConnections?: number;
  /**
   * Two full GCs once 128 connections have closed and none has for 5.5 s, so that what a burst left
   * in V8's heap comes back while the server is quiet (src/server/connections.ts). Default true;
   * needs no --expose-gc.
   */
  reclaimMemory?: boolean;
  /**
   * gRPC-Web, Connect and HTTP/1.1 on the same port: `webProtocols({ cors })` from grpc-edge
   * (src/web). Without it HTTP/1.1 is served only for src/observe's routes when enableObserve() is
   * on (its own Http1Hook); otherwise an HTTP/1.1 request gets a short "505 HTTP Version Not Supported".
   */
  web?: WebHook;
}

/** A connection of another protocol than HTTP/2 in the server's set (an HTTP/1.1 connection). */
export interface TrackedConnection extends Member {
  /** Set by the server: called once when the connection has closed. */
  onclose: (() => void) | null;
}

/**
 * Takes a server's HTTP/1.x connections (the server imports no HTTP/1.1 code: an opt-in module
 * brings src/http1's transport). Installed by the web protocols (`web`), or by src/observe
 * (Server.observe()) for its GET routes; when both are on, the web protocols' one serves both
 * (src/observe adds its routes to theirs). With none installed: the fixed 505 answer.
 */
export interface Http1Hook {
  /**
   * A connection whose first octets are not the HTTP/2 preface (they are pushed back onto the
   * paused socket), or a TLS one that chose http/1.1 by ALPN. `track` puts the connection in the
   * server's set (cap, stop, stats).
   */
  http1(socket: Socket, opts: CallOptions, limits: Http2Options, track: (conn: TrackedConnection) => void): void;
}

/**
 * What src/web plugs into a server (the server imports none of it, so bundles without web
 * protocols carry none of it): the connections that are not HTTP/2, and every HTTP/2 stream.
 */
export interface WebHook extends Http1Hook {
  /** One HTTP/2 stream: gRPC goes to serveCall, the web protocols to their adapters. */
  stream(stream: ServerStream, opts: CallOptions): void;
}

export interface ServerStats extends JobQueueStats, LifetimeCounters {
  /** Connections open now (counted toward maxConnections). */
  connections: number;
  /** Connections refused at maxConnections, every open one busy. */
  connectionsRefused: number;
  /** Idle connections closed to make room for a new one. */
  connectionsEvicted: number;
}

/**
 * What src/observe installs with Server.observe(): it counts calls (CallObserver), sums the
 * counters of each connection as it closes, and answers plain HTTP GETs (CallObserver.httpGet on
 * HTTP/2; its Http1Hook takes HTTP/1.1 connections when the server has no web protocols).
 */
export interface ServerObserver extends CallObserver, Http1Hook {
  closed(session: Http2ServerConnection): void;
}

/** What Server.observe() hands its observer to read at scrape time. */
export interface ServerView {
  readonly profile: TargetProfile;
  /** The connections not closed yet (HTTP/2 ones, sockets in their handshake, ...). */
  readonly connections: ConnectionSet;
  /** Registered service names. */
  readonly serviceNames: ReadonlySet<string>;
  /** The web protocols when on (their GET routes serve HTTP/1.1, and HTTP/2 before the call engine). */
  readonly web: WebHook | undefined;
}

const OPTION_KEYS = new Set([
  'profile', 'maxRunning', 'maxWaiting', 'maxReceiveMessageLength', 'maxSendMessageLength', 'interceptors',
  'http2', 'compression', 'requireTeTrailers', 'onHandlerError', 'maxConnections', 'web', 'reclaimMemory',
]);

/** Reject misspelt and mistyped options at construction (keys set to undefined are ignored). */
function checkOptions(o: ServerOptions): void {
  if (o === null || typeof o !== 'object') throw new TypeError('Server: options must be an object');
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (!OPTION_KEYS.has(k)) throw new TypeError(`Server: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  if (o.profile !== undefined && typeof o.profile !== 'string') throw new TypeError('Server: profile must be a string');
  if (o.interceptors !== undefined && !Array.isArray(o.interceptors)) {
    throw new TypeError('Server: interceptors must be an array of functions (ctx, next) => Promise<void>');
  }
  for (const k of ['requireTeTrailers', 'reclaimMemory'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new TypeError(`Server: ${k} must be a boolean`);
  }
  if (o.onHandlerError !== undefined && typeof o.onHandlerError !== 'function') {
    throw new TypeError('Server: onHandlerError must be a function (error, ctx) => void');
  }
  if (o.web !== undefined && typeof o.web?.http1 !== 'function') {
    throw new TypeError('Server: web must come from webProtocols()');
  }
  if (o.http2 !== undefined && (o.http2 === null || typeof o.http2 !== 'object')) {
    throw new TypeError('Server: http2 must be an object of Http2Options');
  }
  for (const k of Object.keys(o.http2 ?? {})) {
    if (!(k in DEFAULT_HTTP2_OPTIONS)) throw new TypeError(`Server: unknown http2 option "${k}"`);
  }
}

/** A message size limit: an integer >= 0, or Infinity for none. */
function messageLimit(name: string, v: number): number {
  if (v === Infinity || (Number.isInteger(v) && v >= 0)) return v;
  throw new RangeError(`Server: ${name} must be an integer >= 0 (bytes) or Infinity, got ${String(v)}`);
}

/** `o` without its undefined-valued keys (so they do not mask the profile's values). */
function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (o === undefined) return out;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

interface Listener {
  server: NetServer;
  closed: boolean;
}

const noop = (): void => {};
const DEFAULT_GRACE_MS = 10_000;
const destroy = (socket: Socket): void => {
  socket.destroy();
};
// The answer to an HTTP/1.x request when the web protocols are off (RFC 9110 15.6.6: a 505
// "SHOULD" say "what other protocols are supported by that server"), or at the connection cap: an
// HTTP/1.1 answer, never HTTP/2 bytes.
const http1Answer = (status: string, text: string): string =>
  `HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\ncontent-length: ${text.length + 1}\r\nconnection: close\r\n\r\n${text}\n`;

// A running call blocked this long on flow control is shed at a full queue. An honest reader hands
// window back within a round trip of reading (grpc-js, grpcio: as they consume); 1 s is hundreds of
// LAN round trips, and only a full queue asks, where the alternative is refusing an innocent call.
const STALL_SHED_MS = 1000;

export class Server {
  /** Resolves once the server has stopped: listeners closed and every connection gone. */
  readonly terminated: Promise<void>;
  private resolveTerminated!: () => void;
  private readonly router = new Router();
  readonly #queue: JobQueue;
  private readonly callOptions: CallOptions;
  readonly #http2: Http2Options;
  readonly #handshakeTimeoutMs: number | undefined;
  readonly #listeners: Listener[] = [];
  readonly #conns: ConnectionSet;
  readonly #counters = newCounters();
  readonly #maxConnections: number;
  /** TLS sockets in their handshake (counted by a SocketMember), by raw socket. */
  readonly #handshakes = new Map<Socket, SocketMember>();
  readonly #web: WebHook | undefined;
  private stopping = false;
  private started = false;
  private graceTimer: NodeJS.Timeout | null = null;
  readonly #profile: TargetProfile;
  #shedTimer: NodeJS.Timeout | null = null;
  #shedMs = STALL_SHED_MS;

  /**
   * Shed the call of `jobs` (the running calls, or the parked ones when every parking place is
   * taken) whose response has waited longest for flow-control window, if at least #shedMs. Its connection, and every one that has shown a stall that long (no WINDOW_UPDATE
   * letting data go since), does not read: their waiting calls go too (first, so the freed slot does
   * not go to one of them).
   */
  #shedStalled(jobs: readonly unknown[], n: number): void {
    const t = Date.now() - this.#shedMs;
    let at = t;
    let shed: ServerCall | undefined;
    for (let i = 0; i < n; i++) {
      const s = (jobs[i] as ServerCall).stalledSince;
      if (s > 0 && s <= at) (at = s), (shed = jobs[i] as ServerCall);
    }
    if (shed === undefined) return;
    this.#counters.stalledShed += 1 + this.#queue.dropWaiting((j) => {
      const s = (j as ServerCall).shownStall;
      return (s > 0 && s <= t) || (j as ServerCall).sameConn(shed!);
    }, (j) => (j as ServerCall).shed());
    shed.shed();
  }

  /** While calls wait: shed a stalled running call (checked 4 times per #shedMs). */
  readonly #shedTick = (): void => {
    const q = this.#queue;
    if (q.waiting > 0) this.#shedStalled(q.runningJobs, q.running);
    this.#shedTimer = q.waiting > 0 ? setTimeout(this.#shedTick, this.#shedMs / 4).unref() : null;
  };

  constructor(options: ServerOptions = {}) {
    checkOptions(options);
    const limits = (this.#profile = resolveProfile(options.profile)).server;
    this.#queue = new JobQueue({
      maxRunning: options.maxRunning ?? limits.maxRunning,
      maxWaiting: options.maxWaiting ?? limits.maxWaiting,
      // At a full queue, before refusing a call: the running call whose response has waited
      // longest for flow-control window, at least min(1 s, sendStallTimeoutMs), is reset as the
      // stall timeout would (the connection cap's rule: evict the idle before refusing). Asked the
      // same about the parked calls when a blocked call finds every parking place taken.
      onFull: (jobs, n) => this.#shedStalled(jobs, n),
      // Dropped from the waiting line for a call of a connection holding fewer slots.
      onDrop: (j) => (j as ServerCall).refuse(),
      // A call waits: the stalled-call check runs on a timer too, not only when the queue is full.
      onQueued: () => {
        if (this.#shedTimer === null && this.#shedMs > 0) this.#shedTimer = setTimeout(this.#shedTick, this.#shedMs / 4).unref();
      },
    });
    const compression = options.compression ?? 'identity';
    if (!isSupportedEncoding(compression)) throw new TypeError(`unsupported compression "${String(compression)}"`);
    this.callOptions = {
      lookup: this.router.lookup,
      hasService: this.router.hasService,
      queue: this.#queue,
      interceptors: (options.interceptors ?? []).slice(),
      maxReceiveMessageLength: messageLimit('maxReceiveMessageLength', options.maxReceiveMessageLength ?? limits.maxReceiveMessageLength),
      maxSendMessageLength: messageLimit('maxSendMessageLength', options.maxSendMessageLength ?? limits.maxSendMessageLength),
      compression,
      requireTeTrailers: options.requireTeTrailers ?? false,
      onHandlerError: options.onHandlerError,
    };
    for (const i of this.callOptions.interceptors) {
      if (typeof i !== 'function') throw new TypeError('interceptors must be functions (ctx, next) => Promise<void>');
    }
    // Resolved (range-checked) here so a bad value fails now, not on the first connection.
    // The profile's limits that are HTTP/2 options (the same names) are their defaults.
    const fromProfile: Record<string, number> = {};
    for (const [k, v] of Object.entries(limits)) if (k in DEFAULT_HTTP2_OPTIONS) fromProfile[k] = v;
    this.#http2 = resolveOptions({ ...fromProfile, ...definedOnly(options.http2) });
    this.#handshakeTimeoutMs = this.#http2.handshakeTimeoutMs;
    this.#shedMs = Math.min(STALL_SHED_MS, this.#http2.sendStallTimeoutMs!);
    const max = options.maxConnections ?? limits.maxConnections;
    if (!(max === Infinity || (Number.isInteger(max) && max >= 1))) {
      throw new RangeError(`Server: maxConnections must be an integer >= 1 or Infinity, got ${String(max)}`);
    }
    this.#conns = new ConnectionSet((this.#maxConnections = max), options.reclaimMemory);
    this.#web = options.web;
    this.terminated = new Promise<void>((r) => (this.resolveTerminated = r));
  }

  /** Register a service. Throws at once on a missing handler or a service registered twice. */
  addService(def: ServiceDefinition, impl: ServiceImplementation): void {
    if (this.stopping) throw new Error('addService: the server is stopping');
    this.router.add(def, impl);
  }

  /** Fully qualified names of the registered services, in registration order (server reflection lists them). */
  getServiceNames(): string[] {
    return this.router.serviceNames();
  }

  /** Unregister a service by its fully qualified name; later calls to it get UNIMPLEMENTED. */
  removeService(name: string): boolean {
    return this.router.remove(name);
  }

  /**
   * Listen on 'host:port' ('0.0.0.0:50051', '[::1]:0', 'localhost:0') or 'unix:/path'.
   * Resolves to the bound port (0 for a unix socket); rejects with a clear error for a bad address
   * or one in use. Connections are served as soon as the socket listens.
   */
  bind(address: string, credentials: ServerCredentials = ServerCredentials.createInsecure()): Promise<number> {
    if (this.stopping) return Promise.reject(new Error('bind: the server is stopping'));
    if (!(credentials instanceof ServerCredentials)) {
      return Promise.reject(new TypeError('bind: credentials must come from ServerCredentials.createInsecure() or createSsl()'));
    }
    let target: ReturnType<typeof parseBindAddress>;
    try {
      target = parseBindAddress(address);
    } catch (err) {
      return Promise.reject(err);
    }
    const tlsOpts = credentials.tlsOptions();
    let server: NetServer;
    if (tlsOpts === null) {
      server = createNetServer({ noDelay: true }, (socket) => this.#accept(socket, false, target.path));
    } else {
      if (this.#handshakeTimeoutMs !== undefined && this.#handshakeTimeoutMs > 0) tlsOpts.handshakeTimeout = this.#handshakeTimeoutMs;
      let tlsServer: TlsServer;
      try {
        tlsServer = nodeTls().createServer(tlsOpts, (socket) => this.#accept(socket, true, target.path));
      } catch (err) {
        return Promise.reject(new Error(`bind ${address}: TLS setup failed: ${(err as Error).message}`, { cause: err }));
      }
      tlsServer.on('tlsClientError', noop);
      tlsServer.on('connection', this.#handshake);
      server = tlsServer;
    }
    return new Promise<number>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.close();
        const why =
          err.code === 'EADDRINUSE' ? 'address already in use'
          : err.code === 'EACCES' ? 'permission denied'
          : err.code === 'EADDRNOTAVAIL' ? 'address not available on this host'
          : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'host name not found'
          : err.message;
        reject(Object.assign(new Error(`bind ${address}: ${why}`), { code: err.code, cause: err }));
      };
      server.once('error', onError);
      const done = (): void => {
        server.off('error', onError);
        server.on('error', noop);
        if (this.stopping) {
          server.close();
          reject(new Error('bind: the server stopped while binding'));
          return;
        }
        this.#listeners.push({ server, closed: false });
        const a = server.address();
        resolve(a !== null && typeof a === 'object' ? a.port : 0);
      };
      if (target.path !== undefined) server.listen({ path: target.path }, done);
      else server.listen({ host: target.host, port: target.port }, done);
    });
  }

  /** Kept for grpc-js familiarity: serving starts when bind() resolves. */
  start(): void {
    if (this.stopping) throw new Error('start: the server is stopping');
    this.started = true;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Queue counters and the number of open connections. */
  get stats(): ServerStats {
    const c = this.#conns;
    return { ...this.#queue.stats, ...this.#counters, connections: c.size, connectionsRefused: c.refused, connectionsEvicted: c.evicted };
  }

  /**
   * @internal For src/observe (enableObserve): install `o` (undefined: take it out again). Every call
   * and connection, open ones included, reports to it from now on.
   */
  observe(o: ServerObserver | undefined): ServerView {
    this.callOptions.observer = o;
    return { profile: this.#profile, connections: this.#conns, serviceNames: this.router.services, web: this.#web };
  }

  /**
   * Graceful stop (like grpc-js tryShutdown, with a deadline): stop listening, send GOAWAY to every
   * connection so no new call starts, let running calls finish for up to `graceMs`, then cancel
   * the rest (their ctx.signal aborts). Resolves when everything is closed.
   */
  stop(graceMs: number = DEFAULT_GRACE_MS): Promise<void> {
    // NaN or a string would otherwise mean "never cancel" (no timer) without a word.
    if (typeof graceMs !== 'number' || !(graceMs >= 0)) {
      return Promise.reject(new RangeError(`stop: graceMs must be a number of milliseconds >= 0 (or Infinity), got ${String(graceMs)}`));
    }
    if (!this.stopping) {
      this.stopping = true;
      this.closeListeners();
      this.#conns.shutdownAll();
      if (this.#conns.total > 0 && Number.isFinite(graceMs)) {
        this.graceTimer = setTimeout(() => {
          this.graceTimer = null;
          this.destroySessions();
        }, Math.max(0, graceMs));
      }
      this.checkTerminated();
    }
    return this.terminated;
  }

  /** Stop now: close listeners and every connection, cancelling every call. */
  forceShutdown(): void {
    this.stopping = true;
    this.closeListeners();
    this.destroySessions();
    this.checkTerminated();
  }

  private destroySessions(): void {
    this.#conns.destroyAll();
  }

  private closeListeners(): void {
    for (const l of this.#listeners) {
      if (l.closed) continue;
      l.closed = true;
      l.server.close(() => this.checkTerminated());
    }
  }

  private checkTerminated(): void {
    if (!this.stopping || this.#conns.total > 0) return;
    for (const l of this.#listeners) if (l.server.listening) return;
    if (this.graceTimer !== null) {
      clearTimeout(this.graceTimer);
      this.graceTimer = null;
    }
    this.resolveTerminated();
  }

  /** A TCP connection to a TLS listener: it counts from now, through its handshake. */
  readonly #handshake = (raw: Socket): void => {
    raw.on('error', noop);
    if (this.stopping || !this.#conns.makeRoom()) {
      // Refused before the handshake: a GOAWAY would first cost the handshake's CPU.
      raw.destroy();
      return;
    }
    const m = new SocketMember(raw);
    this.#conns.add(m);
    this.#handshakes.set(raw, m);
    raw.once('close', () => {
      if (this.#handshakes.delete(raw)) {
        this.#conns.delete(m);
        this.checkTerminated();
      }
    });
  };

  #accept(socket: Socket, secure: boolean, unixPath: string | undefined): void {
    socket.on('error', noop);
    // A TLS socket's place was taken at its TCP accept (#handshake): the connection takes it over.
    let placed = false;
    if (secure) {
      // Node's TLSSocket keeps the TCP socket it wraps as _parent.
      const raw = (socket as { _parent?: Socket })._parent;
      const m = raw === undefined ? undefined : this.#handshakes.get(raw);
      if (m !== undefined) {
        this.#handshakes.delete(raw!);
        this.#conns.delete(m);
        placed = true;
      }
    }
    if (this.stopping) {
      socket.destroy();
      this.checkTerminated();
      return;
    }
    let peerCertificate: unknown;
    if (secure) {
      const tlsSocket = socket as TLSSocket;
      // RFC 9113 section 3.2: "A client that makes a request to an "https" URI uses TLS with the
      // application-layer protocol negotiation (ALPN) extension" and the "h2" identifier. A client
      // that chose http/1.1 goes where a plain-TCP HTTP/1.1 one goes (an Http1Hook, or the 505).
      if (tlsSocket.alpnProtocol !== 'h2' && tlsSocket.alpnProtocol !== 'http/1.1') {
        socket.destroy();
        return;
      }
      if (tlsSocket.authorized) peerCertificate = tlsSocket.getPeerCertificate();
    }
    const peer: PeerInfo = {
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      secure,
      held: 0,
      ...(peerCertificate !== undefined ? { peerCertificate } : {}),
    };
    const peerName =
      unixPath !== undefined ? `unix:${unixPath}`
      : // remoteFamily, not net.isIPv6(): its large regex costs ~4 ms to compile on the first connection.
        socket.remoteFamily === 'IPv6' ? `ipv6:[${socket.remoteAddress}]:${socket.remotePort}`
      : `ipv4:${socket.remoteAddress}:${socket.remotePort}`;
    const opts: CallOptions = Object.create(this.callOptions);
    opts.peer = peerName;
    const room = placed || this.#conns.makeRoom();
    const web = this.#web;
    const h2 = (head?: Buffer): void => {
      const session = new Http2ServerConnection(socket, peer, this.#http2, web === undefined ? (stream: ServerStream) => serveCall(stream, opts) : (stream: ServerStream) => web.stream(stream, opts), this.#counters);
      session.onclose = () => {
        this.#conns.delete(session);
        (this.callOptions.observer as ServerObserver | undefined)?.closed(session);
        this.checkTerminated();
      };
      if (room) {
        this.#conns.add(session);
      } else {
        this.#conns.closing(session);
        session.drain(`connection limit reached: ${this.#maxConnections} open, all with calls in progress`);
      }
      // what the sniff read, handed over as the connection's first read
      if (head !== undefined) session.onData(head);
    };
    const http1 = (): void => {
      // The web protocols' HTTP/1.1, else src/observe's (its GET routes only), else the 505.
      const hook: Http1Hook | undefined = web ?? (this.callOptions.observer as ServerObserver | undefined);
      if (room && hook) {
        hook.http1(socket, opts, this.#http2, this.#track);
        return;
      }
      // One fixed answer, then close (the socket stays in the set until it has).
      const m = new SocketMember(socket);
      this.#conns.closing(m);
      socket.once('close', () => {
        this.#conns.delete(m);
        this.checkTerminated();
      });
      socket.end(room ? http1Answer('505 HTTP Version Not Supported', 'this port speaks gRPC over HTTP/2') : http1Answer('503 Service Unavailable', 'connection limit reached'));
      socket.resume();
      setTimeout(destroy, 2000, socket).unref();
    };
    if (secure) ((socket as TLSSocket).alpnProtocol === 'h2' ? h2 : http1)();
    else this.#sniff(socket, room, h2, http1);
  }

  readonly #track = (conn: TrackedConnection): void => {
    this.#conns.add(conn);
    conn.onclose = () => {
      this.#conns.delete(conn);
      this.checkTerminated();
    };
  };

  /**
   * Wait for the first octets of a plain-TCP connection: the HTTP/2 client preface starts with
   * "PRI" (RFC 9113 3.4), an HTTP/1.x request with its method. HTTP/2 gets them as its first read
   * (no unshift, pause and resume: a nextTick and a stream read more per connection, which floods
   * of new connections pay for); for HTTP/1.x they go back onto the paused socket. Meanwhile the socket counts toward the cap as idle (a SocketMember); one
   * that sends nothing is closed after the handshake timeout.
   */
  #sniff(socket: Socket, room: boolean, h2: (head: Buffer) => void, http1: () => void): void {
    let head: Buffer | null = null;
    const m = new SocketMember(socket);
    if (room) this.#conns.add(m);
    else this.#conns.closing(m);
    const ms = this.#handshakeTimeoutMs;
    const timer = ms !== undefined && ms > 0 ? setTimeout(destroy, ms, socket) : null;
    const onData = (chunk: Buffer): void => {
      head = head === null ? chunk : Buffer.concat([head, chunk]);
      const n = head.length < 3 ? head.length : 3;
      const pri = head.toString('latin1', 0, n) === 'PRI'.slice(0, n);
      if (pri && n < 3) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      if (timer !== null) clearTimeout(timer);
      this.#conns.delete(m);
      const first = head;
      head = null;
      if (this.stopping) socket.destroy();
      else if (pri) h2(first);
      else {
        socket.pause();
        socket.unshift(first);
        http1();
        socket.resume();
      }
    };
    const onClose = (): void => {
      if (timer !== null) clearTimeout(timer);
      this.#conns.delete(m);
      this.checkTerminated();
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  }
}
