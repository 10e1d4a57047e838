// HTTP/1.1 on the gRPC port, parsed by node:http's own parser (llhttp): the server's accept path
// hands every connection whose first octets are not the HTTP/2 preface to its Http1Hook (src/server/
// server.ts #sniff pushes them back onto the socket), and the hook to an Http1Server here. Each
// request becomes an Http1Stream, a ServerStream as the call engine, the web protocols and
// src/observe know it from HTTP/2, and goes to the hook's dispatch: the web protocols' (src/web/
// dispatch.ts, as an HTTP/2 stream), or src/observe's GET routes alone when the web protocols are
// off. Nothing here knows gRPC-Web, Connect or JSON, so src/observe carries none of them.
//
// Limits against a hostile HTTP/1.1 peer (test/http1/hostile.test.ts tries each; the soak's h1-* rows
// too): header size (the profile's maxHeaderListSize, 431 past it; many small headers count the
// same octets), slow headers (408 after the handshake timeout; node:http's own check, run every
// second, on every request of a keep-alive connection), malformed or ambiguous framing (llhttp's 400:
// Content-Length with Transfer-Encoding, two Content-Lengths, obs-fold, bare LF, ...), idle keep-alive
// connections (the idle timeout; idle ones are the first to go at maxConnections, like HTTP/2's),
// request bodies held to one window (64 KiB) until the call consumes them, a request body not
// complete within sendStallTimeoutMs closes the connection (slow POST; a trickled body too), a response (a
// streamed one, or a complete one the client does not read) that waits that long for the client
// closes it too, pipelining: one request served at a time per connection (node:http would dispatch
// every pipelined request at once), at most PIPELINE read ahead, past that the connection closes;
// maxConnectionAgeMs as on HTTP/2 (connection: close on the next response, then the grace), and a
// lingering close after an answer that goes out before the body was read (lingerSoon, bounded).
// Body size limits are the call engine's (maxReceiveMessageLength) and the Connect unary adapter's.
// The closes are counted (Http1Server.ended) and src/observe adds them to
// grpc_edge_connections_ended_total.
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
/**
 * Lingering close (nginx's lingering_close): an answer that goes out before the request body was
 * read (a 404, 415 or 413 to a large POST) closes the connection; destroyed at once, with the body
 * still arriving, its socket makes the kernel answer with a RST, and a client still writing gets
 * EPIPE / ECONNRESET instead of the answer (node's http.request did, every time, for a 32 MB POST).
 * So the answer is followed by our FIN and the socket stays open: up to LINGER_BYTES of the body are
 * read and dropped (a client that writes all before it reads gets to read), then reading stops
 * (the client's writes block, no RST); it is destroyed at the client's FIN, at the end of the body,
 * or after LINGER_MS. A hostile client costs at most LINGER_BYTES of reading and one idle socket
 * (first to be evicted at the cap) for LINGER_MS.
 */
// 256 KB, a literal: esbuild keeps an unused `256 * 1024` in bundles that never use src/http1
export const LINGER_BYTES = 262144;
const LINGER_MS = 1000;
const LINGER_REQ = /* @__PURE__ */ Symbol('lingerReq');
type Lingering = Socket & { [LINGER_REQ]?: IncomingMessage };

/** node:http calls destroySoon() after the last response: for an early answer, this in its place. */
function lingerSoon(this: Lingering): void {
  const req = this[LINGER_REQ]!;
  this[LINGER_REQ] = undefined;
  if (this.writable) this.end();
  const cut = (): void => {
    this.destroy();
  };
  const timer = setTimeout(cut, LINGER_MS);
  this.once('close', () => clearTimeout(timer));
  this.once('end', cut);
  req.removeAllListeners('data');
  let read = 0;
  req.on('data', (c: Buffer) => {
    if ((read += c.length) > LINGER_BYTES) req.pause();
  });
  req.once('end', cut);
  req.resume();
}

/** Pipelined requests read ahead of the one being answered; one more closes the connection. */
export const PIPELINE = 16;

/** Connections this transport closed, by reason (src/observe: grpc_edge_connections_ended_total). */
export interface Http1Ended {
  /** llhttp would not parse the request (400, or 413 for chunk extensions). */
  badRequest: number;
  /** Request head past maxHeaderListSize (431). */
  headersTooLarge: number;
  /** Request head not complete within the handshake timeout (408). */
  headerTimeout: number;
  /** Request body not complete within sendStallTimeoutMs. */
  requestStall: number;
  /** Response not taken by the client for sendStallTimeoutMs. */
  sendStall: number;
  /** More than PIPELINE requests read ahead. */
  pipeline: number;
  /** maxConnectionAgeMs reached (closed after the response in progress), and its grace over. */
  maxAge: number;
  maxAgeGrace: number;
}

// HTTP/1.1 connection-specific fields (RFC 9110 7.6.1): not part of the request as HTTP/2 sees it.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

type Stall = 'sendStall' | 'requestStall';

/** Whether the request has a body (one that may still be on its way). */
const hasBody = (req: IncomingMessage): boolean => (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined;

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
  // Request stall: a request body not complete sendStallTimeoutMs after its head (or after the
  // call read again, when we had stopped reading). A whole time, not a silence: a body trickled one
  // octet at a time would otherwise hold its call's running slot for ever. So a Connect
  // client-streaming call over HTTP/1.1 lasts at most that long too (HTTP/2 has no such bound).
  #bodyStall: NodeJS.Timeout | null = null;
  readonly #ended: Http1Ended;

  constructor(req: IncomingMessage, res: ServerResponse, peer: PeerInfo, id: number, ended: Http1Ended, stallMs = 0) {
    this.#stallMs = stallMs;
    this.#ended = ended;
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
    if (stallMs > 0 && hasBody(req)) this.#bodyStall = setTimeout(Http1Stream.#stalled, stallMs, this, 'requestStall');
    req.on('data', (chunk: Buffer) => {
      this.#unconsumed += chunk.length;
      if (this.#unconsumed > WINDOW && !this.#paused) {
        this.#paused = true;
        req.pause();
        // Not read now: the wait is ours (consume() starts the clock again).
        if (this.#bodyStall !== null) clearTimeout(this.#bodyStall);
      }
      this.ondata?.(chunk);
    });
    req.on('end', () => {
      this.#clearBodyStall();
      this.onend?.(null);
    });
    res.on('drain', () => {
      this.#clearStall();
      this.ondrain?.();
    });
    res.on('close', () => {
      this.#clearStall();
      this.#clearBodyStall();
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
      if (this.#bodyStall !== null) this.#bodyStall = setTimeout(Http1Stream.#stalled, this.#stallMs, this, 'requestStall');
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
    if (hasBody(req) && !req.complete) {
      res.shouldKeepAlive = false;
      const sock = req.socket as Lingering | null;
      if (sock !== null) (sock[LINGER_REQ] = req), (sock.destroySoon = lingerSoon);
    }
    try {
      res.writeHead(status, out);
    } catch {
      // A header value node:http refuses (it checks characters): no answer but a closed connection.
      res.destroy();
      return;
    }
    if (endStream) this.#end();
  }

  write(data: Buffer): boolean {
    if (this.#res.writableEnded) return true;
    if (!this.#responded) this.respond([':status', '200']);
    const ok = this.#res.write(data);
    if (!ok) this.#armStall();
    return ok;
  }

  /** The response waits for the client to read: closed after sendStallTimeoutMs of it. */
  #armStall(): void {
    if (this.#stallMs > 0 && this.#stall === null) this.#stall = setTimeout(Http1Stream.#stalled, this.#stallMs, this, 'sendStall');
  }

  /** End the response; until the socket has taken all of it, the send stall runs (a client that does not read). */
  #end(): void {
    const res = this.#res;
    res.end();
    if (!res.writableFinished) this.#armStall();
  }

  /** A stall ran out: the connection closes (a request's, before any answer: a 408 first, as node:http's own header timeout). */
  static #stalled(s: Http1Stream, why: Stall): void {
    s.#ended[why]++;
    const sock = s.#res.socket;
    if (why === 'requestStall' && !s.#responded && sock !== null && sock.writable) sock.write('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    s.#res.destroy();
  }

  #clearBodyStall(): void {
    if (this.#bodyStall !== null) {
      clearTimeout(this.#bodyStall);
      this.#bodyStall = null;
    }
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
    this.#end();
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
  /** Pipelined requests read while `current` is answered, served in turn (at most PIPELINE). */
  readonly waiting: [IncomingMessage, ServerResponse][] = [];
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

function ageOut(conn: Http1Connection, grace: number, ended: Http1Ended): void {
  ended.maxAge++;
  conn.shutdown();
  if (grace > 0 && grace !== Infinity && !conn.socket.destroyed) {
    setTimeout(() => {
      if (!conn.socket.destroyed) {
        ended.maxAgeGrace++;
        conn.socket.destroy();
      }
    }, grace).unref();
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
  /** Connections closed by this transport's limits, by reason. */
  readonly ended: Http1Ended = { badRequest: 0, headersTooLarge: 0, headerTimeout: 0, requestStall: 0, sendStall: 0, pipeline: 0, maxAge: 0, maxAgeGrace: 0 };
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
    // maxConnectionAgeMs (+-10%, as on HTTP/2): connection: close on the response in progress (an
    // idle connection closes now), then maxConnectionAgeGraceMs for it to finish.
    const age = limits.maxConnectionAgeMs ?? 0;
    const ageTimer = age > 0 && age !== Infinity ? setTimeout(ageOut, age * (0.9 + 0.2 * Math.random()), conn, limits.maxConnectionAgeGraceMs ?? 0, this.ended) : null;
    socket.once('close', () => {
      if (ageTimer !== null) clearTimeout(ageTimer);
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
    // node:http's own answer to a request llhttp refuses or a head too slow or too large (the same
    // octets as its default), counted; not a connection that closed (or that we closed: eviction)
    // in the middle of a request (HPE_INVALID_EOF_STATE).
    server.on('clientError', (e: NodeJS.ErrnoException, socket: Socket) => {
      const code = e.code ?? '';
      const why: keyof Http1Ended | null =
        code === 'HPE_HEADER_OVERFLOW' ? 'headersTooLarge' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'headerTimeout' : code.startsWith('HPE_') && code !== 'HPE_INVALID_EOF_STATE' ? 'badRequest' : null;
      if (why !== null) {
        this.ended[why]++;
        const status = why === 'headersTooLarge' ? '431 Request Header Fields Too Large' : why === 'headerTimeout' ? '408 Request Timeout' : code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? '413 Payload Too Large' : '400 Bad Request';
        // Only when no response of ours is under way on it (node:http's rule).
        const cur = this.#conns.get(socket)?.current;
        if (socket.writable && (cur == null || !cur.responded)) socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      }
      socket.destroy();
    });
    // node:http starts its header/request timeout checks when the server listens; this one never
    // does (it is fed connections), so start them here. The checker's interval is unref'd.
    server.emit('listening');
    return server;
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const conn = this.#conns.get(req.socket as Socket);
    if (conn === undefined || conn.socket.destroyed) {
      res.destroy();
      return;
    }
    // lingering after an early answer (lingerSoon): what follows the body is dropped unanswered
    if (conn.socket.writableEnded) {
      req.resume();
      return;
    }
    // Pipelined: node:http dispatches each request as it parses it, answers in order. Served one
    // at a time here (a connection holds one call, as an HTTP/1.1 client expects), a few read ahead.
    if (conn.current !== null) {
      if (conn.waiting.push([req, res]) > PIPELINE) {
        this.ended.pipeline++;
        conn.socket.destroy();
      }
      return;
    }
    this.#handle(conn, req, res);
  }

  #handle(conn: Http1Connection, req: IncomingMessage, res: ServerResponse): void {
    const stream = new Http1Stream(req, res, conn.peer, ++conn.requests, this.ended, this.#stallMs);
    conn.current = stream;
    if (conn.closing) res.shouldKeepAlive = false;
    res.once('close', () => {
      if (conn.current === stream) conn.idle();
      if (conn.closing || conn.socket.destroyed) conn.socket.destroy();
      else {
        const next = conn.waiting.shift();
        if (next !== undefined) this.#handle(conn, next[0], next[1]);
      }
    });
    try {
      this.#dispatch(stream, conn.opts, true);
    } catch {
      // As an HTTP/2 stream whose consumer throws is reset: the request goes, the process lives on.
      res.destroy();
    }
  }
}
