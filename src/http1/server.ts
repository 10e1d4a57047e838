// HTTP/1.1 on the gRPC port, parsed by node:http's own parser (llhttp): the server's accept path
// hands every connection whose first octets are not the HTTP/2 preface to its Http1Hook (src/server/
// server.ts #sniff pushes them back onto the socket), and the hook to an Http1Server here. Each
// request becomes an Http1Stream, a ServerStream as the call engine, the web protocols and
// src/observe know it from HTTP/2, and goes to the hook's dispatch: the web protocols' (src/web/
// dispatch.ts, as an HTTP/2 stream), or src/observe's GET routes alone when the web protocols are
// off. Nothing here knows gRPC-Web, Connect or JSON, so src/observe carries none of them.
//
// Limits: header size (the profile's maxHeaderListSize, 431 past it), slow headers (408 after the
// handshake timeout; node:http's own check, run every second), idle keep-alive connections (the
// idle timeout), request bodies held to one window (64 KiB) until the call consumes them, a response
// that a client does not read for sendStallTimeoutMs closes the connection; body size limits are the
// call engine's (maxReceiveMessageLength) and the Connect unary adapter's.
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import type { HeaderList, Http2Options, PeerInfo, ServerStream } from '../http2/api.js';
import type { TrackedConnection } from '../server/server.js';
import { ErrorCode } from '../http2/errors.js';
import type { CallOptions } from '../grpc/call.js';

type Http = typeof import('node:http');
let http: Http | undefined;
// Loaded on first use, so that only a server that sees an HTTP/1.1 connection loads node:http.
const nodeHttp = (): Http => (http ??= createRequire(import.meta.url)('node:http') as Http);

/** Request body octets delivered and not consumed before the socket stops being read. */
const WINDOW = 65535;
/** node:http checks its header and request timeouts this often (its default is 30 s). */
const CHECK_MS = 1000;

// HTTP/1.1 connection-specific fields (RFC 9110 7.6.1): not part of the request as HTTP/2 sees it.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

const destroyResponse = (res: ServerResponse): void => {
  res.destroy();
};

/** One HTTP/1.1 request and its response, as a ServerStream. */
export class Http1Stream implements ServerStream {
  ondata: ((chunk: Buffer) => void) | null = null;
  onend: ((trailers: HeaderList | null) => void) | null = null;
  ondrain: (() => void) | null = null;
  onclose: ((code: number) => void) | null = null;
  readonly id: number;
  readonly peer: PeerInfo;
  readonly headers: HeaderList;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #unconsumed = 0;
  #paused = false;
  #closed = false;
  // Whether the response head went out (our own flag: a bundle shortens our "headersSent"
  // fields, so Node's property of that name is not read in src/).
  #responded = false;
  // Send stall (sendStallTimeoutMs, as on HTTP/2): a response that waits this long for a client
  // that does not read closes the connection, and the call is cancelled.
  readonly #stallMs: number;
  #stall: NodeJS.Timeout | null = null;

  constructor(req: IncomingMessage, res: ServerResponse, peer: PeerInfo, id: number, stallMs = 0) {
    this.#stallMs = stallMs;
    this.#req = req;
    this.#res = res;
    this.peer = peer;
    this.id = id;
    // Pseudo-headers first, as an HTTP/2 request has them.
    const h: HeaderList = [':method', req.method ?? 'GET', ':path', req.url ?? '/', ':scheme', peer.secure ? 'https' : 'http'];
    if (req.headers.host !== undefined) h.push(':authority', req.headers.host);
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (!HOP_BY_HOP.has(name)) h.push(name, raw[i + 1]!);
    }
    this.headers = h;
    req.on('data', (chunk: Buffer) => {
      this.#unconsumed += chunk.length;
      if (this.#unconsumed > WINDOW && !this.#paused) {
        this.#paused = true;
        req.pause();
      }
      this.ondata?.(chunk);
    });
    req.on('end', () => this.onend?.(null));
    res.on('drain', () => {
      this.#clearStall();
      this.ondrain?.();
    });
    res.on('close', () => {
      this.#clearStall();
      this.#closed = true;
      // Closed before the response was complete: the client went away (or we reset).
      this.onclose?.(res.writableFinished ? ErrorCode.NO_ERROR : ErrorCode.CANCEL);
    });
  }

  get closed(): boolean {
    return this.#closed || this.#res.writableEnded;
  }

  consume(n: number): void {
    this.#unconsumed -= n;
    if (this.#paused && this.#unconsumed <= WINDOW >>> 1) {
      this.#paused = false;
      this.#req.resume();
    }
  }

  /** Close the connection after this response (graceful stop). */
  set keepAlive(on: boolean) {
    this.#res.shouldKeepAlive = on;
  }

  get responded(): boolean {
    return this.#responded;
  }

  respond(headers: HeaderList, endStream = false): void {
    const res = this.#res;
    if (this.#responded || res.writableEnded) return;
    this.#responded = true;
    let status = 200;
    const out: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      if (name === ':status') status = Number(headers[i + 1]);
      else if (name.charCodeAt(0) !== 0x3a) out.push(name, headers[i + 1]!);
    }
    // A response that goes out before the request body was read: close the connection after it
    // rather than read (and drop) a body of any size to keep it alive.
    const req = this.#req;
    const hasBody = (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.complete) res.shouldKeepAlive = false;
    try {
      res.writeHead(status, out);
    } catch {
      // A header value node:http refuses (it checks characters): no answer but a closed connection.
      res.destroy();
      return;
    }
    if (endStream) res.end();
  }

  write(data: Buffer): boolean {
    if (this.#res.writableEnded) return true;
    if (!this.#responded) this.respond([':status', '200']);
    const ok = this.#res.write(data);
    if (!ok && this.#stallMs > 0 && this.#stall === null) this.#stall = setTimeout(destroyResponse, this.#stallMs, this.#res);
    return ok;
  }

  #clearStall(): void {
    if (this.#stall !== null) {
      clearTimeout(this.#stall);
      this.#stall = null;
    }
  }

  /** HTTP/1.1 responses carry no trailers here: the web protocols put theirs in the body. */
  end(): void {
    if (this.#res.writableEnded) return;
    if (!this.#responded) this.respond([':status', '200']);
    this.#res.end();
  }

  /** HTTP/1.1 has no reset of one request: the connection goes. */
  reset(): void {
    if (!this.#res.writableEnded) this.#res.destroy();
  }
}

/** An HTTP/1.1 connection in the server's set of connections (cap, stop, stats). */
class Http1Connection implements TrackedConnection {
  onclose: (() => void) | null = null;
  readonly peer: PeerInfo;
  readonly socket: Socket;
  readonly opts: CallOptions;
  /** The request in progress (node:http serves one request of a connection at a time). */
  current: Http1Stream | null = null;
  closing = false;
  requests = 0;
  #idleSince = Date.now();

  constructor(socket: Socket, peer: PeerInfo, opts: CallOptions) {
    this.socket = socket;
    this.peer = peer;
    this.opts = opts;
    socket.once('close', () => {
      const cb = this.onclose;
      this.onclose = null;
      if (cb !== null) cb();
    });
  }

  /** Idle between requests (keep-alive); busy while one is served. */
  get idleSince(): number {
    return this.current === null ? this.#idleSince : Infinity;
  }

  /** Called when a request's response has closed. */
  idle(): void {
    this.current = null;
    this.#idleSince = Date.now();
  }

  /** Make room for a new connection: HTTP/1.1 has no GOAWAY; an idle keep-alive connection just closes. */
  evict(): void {
    this.shutdown();
  }

  /** Graceful: an idle connection closes now, a busy one after its response (connection: close). */
  shutdown(): void {
    this.closing = true;
    const cur = this.current;
    if (cur === null) this.socket.destroy();
    else if (!cur.responded) cur.keepAlive = false;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export type Http1Dispatch = (stream: ServerStream, opts: CallOptions, http1: boolean) => void;

/** One node:http server (never listening) per Http1Hook, fed the sniffed connections. */
export class Http1Server {
  #server: HttpServer | null = null;
  readonly #conns = new WeakMap<Socket, Http1Connection>();
  readonly #open = new Set<Socket>();
  readonly #dispatch: Http1Dispatch;
  #stallMs = 0;
  /** Bytes read from / written to the connections closed so far. */
  #bytesIn = 0;
  #bytesOut = 0;

  /** Bytes read from and written to this server's client sockets (closed ones, and open ones now). */
  get bytes(): { in: number; out: number } {
    let i = this.#bytesIn;
    let o = this.#bytesOut;
    for (const s of this.#open) (i += s.bytesRead), (o += s.bytesWritten);
    return { in: i, out: o };
  }

  constructor(dispatch: Http1Dispatch) {
    this.#dispatch = dispatch;
  }

  accept(socket: Socket, opts: CallOptions, limits: Http2Options, track: (conn: TrackedConnection) => void): void {
    const server = (this.#server ??= this.#create(limits));
    this.#stallMs = limits.sendStallTimeoutMs ?? 0;
    const peer: PeerInfo = { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, secure: 'encrypted' in socket };
    if ('encrypted' in socket && (socket as unknown as { authorized?: boolean }).authorized === true) {
      peer.peerCertificate = (socket as unknown as { getPeerCertificate(): unknown }).getPeerCertificate();
    }
    const conn = new Http1Connection(socket, peer, opts);
    this.#conns.set(socket, conn);
    this.#open.add(socket);
    socket.once('close', () => {
      this.#open.delete(socket);
      this.#bytesIn += socket.bytesRead;
      this.#bytesOut += socket.bytesWritten;
    });
    track(conn);
    server.emit('connection', socket);
  }

  /**
   * No more connections will come (the hook was taken out): stop node:http's timeout checks (an
   * interval that would keep this object alive) and close the idle keep-alive connections.
   */
  close(): void {
    this.#server?.close();
    for (const s of this.#open) {
      const c = this.#conns.get(s);
      if (c !== undefined && c.current === null) s.destroy();
    }
  }

  #create(limits: Http2Options): HttpServer {
    const headersTimeout = limits.handshakeTimeoutMs !== undefined && limits.handshakeTimeoutMs > 0 ? limits.handshakeTimeoutMs : 10_000;
    const server = nodeHttp().createServer({
      maxHeaderSize: limits.maxHeaderListSize ?? 16384,
      headersTimeout,
      // Calls have deadlines of their own, and streaming calls may last: no overall request timeout.
      requestTimeout: 0,
      keepAliveTimeout: limits.maxConnectionIdleMs !== undefined && limits.maxConnectionIdleMs > 0 && limits.maxConnectionIdleMs !== Infinity ? limits.maxConnectionIdleMs : 5000,
      connectionsCheckingInterval: Math.min(CHECK_MS, headersTimeout),
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#request(req, res));
    // node:http starts its header/request timeout checks when the server listens; this one never
    // does (it is fed connections), so start them here. The checker's interval is unref'd.
    server.emit('listening');
    return server;
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const conn = this.#conns.get(req.socket as Socket);
    if (conn === undefined) {
      res.destroy();
      return;
    }
    const stream = new Http1Stream(req, res, conn.peer, ++conn.requests, this.#stallMs);
    conn.current = stream;
    if (conn.closing) res.shouldKeepAlive = false;
    res.once('close', () => {
      if (conn.current === stream) conn.idle();
      if (conn.closing) conn.socket.destroy();
    });
    try {
      this.#dispatch(stream, conn.opts, true);
    } catch {
      // As an HTTP/2 stream whose consumer throws is reset: the request goes, the process lives on.
      res.destroy();
    }
  }
}
