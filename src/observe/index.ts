// Opt-in observability: GET /metrics (Prometheus text format), GET / (a live status page) and
// GET /status.json (what the page reads), on the server's own port.
//
//   import { enableObserve } from 'grpc-edge/build/src/observe/index.js';
//   const observe = enableObserve(server, { allow: ['loopback', '192.168.1.0/24'], token: process.env.METRICS_TOKEN });
//
// A server without enableObserve() carries none of this module (bundles leave it out) and its calls
// pay one undefined-check when they start and one when they end (CallOptions.observer).
//
// Served over HTTP/2 (a GET stream that is not a gRPC call: CallObserver.httpGet) and over HTTP/1.1
// (what Prometheus, curl and browsers use for http:// URLs) on the same port: through the web
// protocols' GET routes when the server has them on (new Server({ web: webProtocols() })), else
// through our own Http1Hook on src/http1's transport (node:http's parser and the same limits), which
// answers our routes and nothing else: other GETs 404, other methods on our routes 405, and
// anything that looks like a gRPC call the server's "505: this port speaks gRPC over HTTP/2". No
// gRPC-Web, Connect or JSON code comes with it. Counters the server keeps anyway (server.stats,
// each connection's HTTP/2 counters, the HTTP/1.1 sockets' byte counts) are read when a scrape
// comes, not counted twice.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import type { Http2Options, ServerStream } from '../http2/api.js';
import { Http2ServerConnection } from '../http2/connection.js';
import type { CallOptions } from '../grpc/call.js';
import { Http1Server } from '../http1/server.js';
import type { Http1Stream } from '../http1/server.js';
import type { Server, ServerObserver, ServerView, TrackedConnection } from '../server/server.js';
import { AccessPolicy, bearerToken } from './access.js';
import type { AccessOptions } from './access.js';
import { VERSION, renderJson, renderText } from './exposition.js';
import type { Sample, Snapshot } from './exposition.js';
import { CallRegistry, LIMITS, addConnection, newTotals } from './registry.js';
import type { ConnectionTotals } from './registry.js';
import { STATUS_PAGE } from './page.js';

export { VERSION, renderJson, renderText } from './exposition.js';
export type { Sample, Snapshot } from './exposition.js';
export { AccessPolicy, bearerToken } from './access.js';
export type { AccessOptions, AccessResult } from './access.js';
export { BUCKETS, CODE_NAMES, LIMITS, UNKNOWN } from './registry.js';

export interface ObserveOptions extends AccessOptions {
  /** Serve GET /metrics (default true). */
  metrics?: boolean;
  /** Serve GET / and GET /status.json (default true). */
  page?: boolean;
  /** Health per service on the page and in grpc_edge_service_serving (e.g. a HealthImplementation). */
  health?: { getStatus(service: string): string | undefined };
  /** How often the page's history and the event-loop delay window are sampled (ms, default 2000). */
  sampleIntervalMs?: number;
  /** Samples kept for the page's graphs (default 150: 5 minutes at 2 s). */
  historyLength?: number;
  /**
   * A GET of /metrics or /status.json within this many ms of that page's last render gets the same
   * bytes (default 1000; 0: render every time). A scraper looping on /metrics (pipelined HTTP/1.1 or
   * many HTTP/2 streams) then costs a copy of a buffer, not a render, per answer; Prometheus scrapes
   * every 15-60 s and never sees the second of staleness.
   */
  renderCacheMs?: number;
}

/** A plain HTTP request as any transport sees it. */
export interface PlainRequest {
  /** The request target: path and query ("/metrics", "/?token=abc"). */
  path: string;
  /** The client's address (undefined: a unix socket). */
  remoteAddress: string | undefined;
  /** The Authorization header, if any. */
  authorization: string | undefined;
}

export interface PlainResponse {
  status: number;
  contentType: string;
  body: Buffer;
  /** WWW-Authenticate, for 401. */
  authenticate?: string;
  /** Allow, for 405. */
  allow?: string;
}

/** A plain GET route as src/web's addGetRoute takes it (WebProtocols, GetRoute / PlainAnswer). */
interface GetRoutes {
  addGetRoute(path: string, handler: (request: ServerStream) => { status: number; contentType: string; body: Buffer; headers: string[] }): void;
  /** The web protocols' HTTP/1.1 transport (its byte counts). */
  http1Server: Http1Server;
}

const TEXT = 'text/plain; charset=utf-8';
/** The Observe installed on each server (one at a time). */
const installed = new WeakMap<Server, Observe>();
const OPTION_KEYS = new Set(['metrics', 'page', 'health', 'sampleIntervalMs', 'historyLength', 'renderCacheMs', 'token', 'allow']);

/** Counts a server's calls and serves /metrics, / and /status.json for it. Made by enableObserve(). */
export class Observe extends CallRegistry implements ServerObserver {
  readonly #server: Server;
  readonly #view: ServerView;
  readonly #access: AccessPolicy;
  readonly #metrics: boolean;
  readonly #page: boolean;
  readonly #health: ObserveOptions['health'];
  readonly #eld: IntervalHistogram;
  readonly #history: Sample[] = [];
  readonly #historyLength: number;
  readonly #timer: NodeJS.Timeout;
  readonly #cacheMs: number;
  /** The last render of /metrics [0] and /status.json [1], and when (performance.now()). */
  readonly #bodies: (Buffer | undefined)[] = [undefined, undefined];
  readonly #renderedAt = [0, 0];
  /** Pages rendered (metricsText() and statusJson() calls): grpc_edge_observe_renders_total. */
  #renders = 0;
  #eldLast = { p50: 0, p99: 0, max: 0 };
  #stopped = false;
  /** Our HTTP/1.1 transport (made at the first HTTP/1.1 connection of a server without the web protocols). */
  #h1: Http1Server | undefined;

  constructor(server: Server, options: ObserveOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('observe: options must be an object');
    for (const [k, v] of Object.entries(options)) {
      if (v !== undefined && !OPTION_KEYS.has(k)) throw new TypeError(`observe: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
    }
    const interval = options.sampleIntervalMs ?? 2000;
    if (!Number.isInteger(interval) || interval < 10) throw new RangeError('observe: sampleIntervalMs must be an integer >= 10');
    const n = options.historyLength ?? 150;
    if (!Number.isInteger(n) || n < 2) throw new RangeError('observe: historyLength must be an integer >= 2');
    const cacheMs = options.renderCacheMs ?? 1000;
    if (typeof cacheMs !== 'number' || !Number.isFinite(cacheMs) || cacheMs < 0) throw new RangeError('observe: renderCacheMs must be a finite number >= 0');
    if (options.health !== undefined && typeof options.health?.getStatus !== 'function') {
      throw new TypeError('observe: health must have getStatus(service), like HealthImplementation');
    }
    if (installed.has(server)) throw new Error('observe: already enabled on this server (stop() it first)');
    this.#access = new AccessPolicy(options);
    this.#metrics = options.metrics ?? true;
    this.#page = options.page ?? true;
    this.#health = options.health;
    this.#historyLength = n;
    this.#cacheMs = cacheMs;
    this.#server = server;
    this.#eld = monitorEventLoopDelay({ resolution: 10 });
    this.#eld.enable();
    this.#view = server.observe(this);
    installed.set(server, this);
    // With the web protocols on, their GET routes serve us over HTTP/1.1 and HTTP/2 alike.
    const web = this.#view.web as Partial<GetRoutes> | undefined;
    if (web !== undefined && typeof web.addGetRoute === 'function') {
      const route = (request: ServerStream): { status: number; contentType: string; body: Buffer; headers: string[] } => {
        const r = this.#answer(request);
        return { status: r.status, contentType: r.contentType, body: r.body, headers: extraHeaders(r) };
      };
      for (const p of ['/metrics', '/', '/index.html', '/status.json']) web.addGetRoute(p, route);
    }
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), interval);
    this.#timer.unref();
    server.terminated.then(() => this.stop(), () => this.stop());
  }

  /** Stop counting and serving (GETs over HTTP/2 are answered 405 again, HTTP/1.1 gets the 505). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#eld.disable();
    this.#server.observe(undefined);
    installed.delete(this.#server);
    // Our HTTP/1.1 transport's timeout checks end; its idle keep-alive connections close (new ones
    // get the server's 505), a busy one after its answer (404: the routes are gone).
    this.#h1?.close();
  }

  #sample(): void {
    const h = this.#eld;
    // No delay seen yet (the histogram reports its min as 9223372036854776000 when empty).
    this.#eldLast = h.count === 0 ? { p50: 0, p99: 0, max: 0 } : { p50: h.percentile(50) / 1e9, p99: h.percentile(99) / 1e9, max: h.max / 1e9 };
    h.reset();
    const hist = this.#history;
    hist.push({ t: Date.now(), calls: this.totals().handled, rss: process.memoryUsage.rss() });
    if (hist.length > this.#historyLength) hist.shift();
  }

  /** Everything /metrics and the page show, read now. */
  snapshot(): Snapshot {
    const st = this.#server.stats;
    const http2: ConnectionTotals = newTotals();
    const closed = this.closedTotals;
    http2.streamsOpened = closed.streamsOpened;
    http2.resetsReceived = closed.resetsReceived;
    http2.resetsSent = closed.resetsSent;
    http2.bytesIn = closed.bytesIn;
    http2.bytesOut = closed.bytesOut;
    for (const l of LIMITS) http2.limits[l] = closed.limits[l];
    for (const m of this.#view.connections.members()) if (m instanceof Http2ServerConnection) addConnection(http2, m);
    // HTTP/1.1 sockets (ours, or the web protocols'): their bytes join the same byte counters.
    const h1 = this.#h1 ?? (this.#view.web as Partial<GetRoutes> | undefined)?.http1Server;
    const e = h1?.ended;
    if (h1 !== undefined) {
      const b = h1.bytes;
      http2.bytesIn += b.in;
      http2.bytesOut += b.out;
    }
    const mem = process.memoryUsage();
    const up = process.uptime();
    const now = Date.now();
    const health = this.#health;
    return {
      time: now,
      version: VERSION,
      profile: this.#view.profile.name,
      node: process.version,
      startTimeSeconds: Math.round(now / 1000 - up),
      uptimeSeconds: Math.round(up * 1000) / 1000,
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, budget: this.#view.profile.memoryBudgetMB * 1048576 },
      eventLoop: this.#eldLast,
      queue: {
        running: st.running,
        waiting: st.waiting,
        parked: st.parked,
        rejected: st.rejected,
        completed: st.completed,
        cancelled: st.cancelled,
        maxRunning: st.maxRunning,
        maxWaiting: st.maxWaiting,
      },
      connections: {
        open: st.connections,
        capRefused: st.connectionsRefused,
        capEvicted: st.connectionsEvicted,
        closed: this.closedConnections,
      },
      ended: {
        keepaliveTimeouts: st.keepaliveTimeouts,
        idleGoaways: st.idleGoaways,
        ageGoaways: st.ageGoaways + (e?.maxAge ?? 0),
        ageGraceCloses: st.ageGraceCloses + (e?.maxAgeGrace ?? 0),
        tooManyPings: st.tooManyPings,
        sendStallCloses: st.sendStallCloses + (e?.sendStall ?? 0),
        badRequest: e?.badRequest ?? 0,
        headersTooLarge: e?.headersTooLarge ?? 0,
        headerTimeout: e?.headerTimeout ?? 0,
        requestStall: e?.requestStall ?? 0,
        pipeline: e?.pipeline ?? 0,
      },
      shed: { sendStallResets: st.sendStallResets, requestStallResets: st.requestStallResets, stalledShed: st.stalledShed, fairDropped: st.fairDropped },
      http2,
      methods: this.methods(),
      serving: [...this.#view.serviceNames].sort().map((name) => ({ name, status: health?.getStatus(name) ?? 'SERVING' })),
      renders: this.#renders,
    };
  }

  /** /metrics rendered now (counted in grpc_edge_observe_renders_total, this render included). */
  metricsText(): string {
    this.#renders++;
    return renderText(this.snapshot());
  }

  /** /status.json rendered now (counted like metricsText()). */
  statusJson(): string {
    this.#renders++;
    return renderJson(this.snapshot(), this.#history);
  }

  /** Page `i` (0: /metrics, 1: /status.json): its last render if younger than renderCacheMs, else a new one. */
  #body(i: 0 | 1): Buffer {
    const now = performance.now();
    const last = this.#bodies[i];
    if (last !== undefined && now - this.#renderedAt[i]! < this.#cacheMs) return last;
    const body = Buffer.from(i === 0 ? this.metricsText() : this.statusJson());
    if (this.#cacheMs > 0) {
      this.#bodies[i] = body;
      this.#renderedAt[i] = now;
    }
    return body;
  }

  /** Answer one GET, whatever the transport. */
  handle(req: PlainRequest): PlainResponse {
    const q = req.path.indexOf('?');
    const path = q < 0 ? req.path : req.path.slice(0, q);
    if (!this.#serves(path)) return text(404, 'not found');
    const token = bearerToken(req.authorization) ?? (q < 0 ? undefined : queryToken(req.path.slice(q + 1)));
    const allowed = this.#access.check(req.remoteAddress, token);
    if (allowed === 401) {
      return text(401, 'unauthorized', { authenticate: 'Bearer realm="grpc-edge"' });
    }
    if (allowed === 403) return text(403, 'forbidden');
    if (path === '/metrics') return { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: this.#body(0) };
    if (path === '/status.json') return { status: 200, contentType: 'application/json', body: this.#body(1) };
    return { status: 200, contentType: 'text/html; charset=utf-8', body: Buffer.from(STATUS_PAGE) };
  }

  /** Whether `path` (without its query) is one of the routes this Observe serves. */
  #serves(path: string): boolean {
    return path === '/metrics' ? this.#metrics : this.#page && (path === '/' || path === '/index.html' || path === '/status.json');
  }

  /** The request of `stream` (HTTP/2, or HTTP/1.1 through src/web) answered by handle(). */
  #answer(stream: ServerStream): PlainResponse {
    const h = stream.headers;
    let authorization: string | undefined;
    let path = '/';
    let origin: string | undefined;
    for (let i = 0; i + 1 < h.length; i += 2) {
      if (h[i] === 'authorization') authorization = h[i + 1];
      else if (h[i] === ':path') path = h[i + 1]!;
      else if (h[i] === 'origin') origin = h[i + 1];
    }
    if (this.#stopped) return text(404, 'not found');
    // A browser sends Origin on cross-origin requests (not on the page's own same-origin GETs): a
    // page elsewhere must not read a loopback-allowed board's figures through the visitor's browser,
    // whatever CORS the web protocols allow for the RPCs.
    if (origin !== undefined) return text(403, 'forbidden');
    try {
      return this.handle({ path, remoteAddress: stream.peer.remoteAddress, authorization });
    } catch {
      return text(500, 'internal error');
    }
  }

  /** ServerObserver: a GET on an HTTP/2 stream that is not a gRPC call (servers without src/web). */
  httpGet(stream: ServerStream): void {
    reply(stream, this.#answer(stream), false);
  }

  /**
   * ServerObserver (Http1Hook): an HTTP/1.1 connection of a server without the web protocols (with
   * them, the server gives it to theirs, which serve our routes too).
   */
  http1(socket: Socket, opts: CallOptions, limits: Http2Options, track: (conn: TrackedConnection) => void): void {
    (this.#h1 ??= new Http1Server((stream) => this.#http1Request(stream))).accept(socket, opts, limits, track);
  }

  /** One HTTP/1.1 request on our own transport: our GET (and HEAD) routes, a short answer otherwise. */
  #http1Request(stream: ServerStream): void {
    const h = stream.headers;
    let method = '';
    let path = '/';
    let ct = '';
    for (let i = 0; i + 1 < h.length; i += 2) {
      if (h[i] === ':method') method = h[i + 1]!;
      else if (h[i] === ':path') path = h[i + 1]!;
      else if (h[i] === 'content-type') ct = h[i + 1]!;
    }
    const q = path.indexOf('?');
    const bare = q < 0 ? path : path.slice(0, q);
    const get = method === 'GET' || method === 'HEAD';
    if (get) return reply(stream, this.#answer(stream), method === 'HEAD');
    // A gRPC call (or a gRPC-Web / Connect one: the web protocols are off) over HTTP/1.1: the
    // server's own answer without an HTTP/1.1 hook.
    if (ct.toLowerCase().startsWith('application/grpc') || (method === 'POST' && this.#view.serviceNames.has(serviceOf(bare)))) {
      (stream as Http1Stream).keepAlive = false;
      return reply(stream, text(505, 'this port speaks gRPC over HTTP/2'), false);
    }
    return this.#serves(bare)
      ? reply(stream, text(405, `${method} not allowed: GET or HEAD`, { allow: 'GET, HEAD' }), false)
      : reply(stream, text(404, 'not found'), false);
  }
}

/** Write `r` as the answer on `stream` (HTTP/2 or HTTP/1.1); `head`: headers only (HEAD). */
function reply(stream: ServerStream, r: PlainResponse, head: boolean): void {
  stream.ondata = (chunk) => stream.consume(chunk.length);
  stream.onend = null;
  stream.onclose = null;
  const out = [':status', String(r.status), 'content-type', r.contentType, 'content-length', String(r.body.length), ...extraHeaders(r)];
  stream.respond(out, head);
  if (head) return;
  stream.write(r.body);
  stream.end();
}

/** "/pkg.Service/Method" -> "pkg.Service". */
function serviceOf(path: string): string {
  const slash = path.indexOf('/', 1);
  return slash < 0 ? '' : path.slice(1, slash);
}

/** A one-line text/plain answer. */
function text(status: number, line: string, more?: Pick<PlainResponse, 'authenticate' | 'allow'>): PlainResponse {
  return { status, contentType: TEXT, body: Buffer.from(`${line}\n`), ...more };
}

function extraHeaders(r: PlainResponse): string[] {
  const h = ['cache-control', 'no-store'];
  if (r.authenticate !== undefined) h.push('www-authenticate', r.authenticate);
  if (r.allow !== undefined) h.push('allow', r.allow);
  return h;
}

function queryToken(query: string): string | undefined {
  for (const part of query.split('&')) {
    if (part.startsWith('token=')) {
      try {
        return decodeURIComponent(part.slice(6));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Turn on /metrics and the status page for `server` (see ObserveOptions and access.ts for who may
 * read them: loopback clients only unless told otherwise). Throws on a bad option.
 */
export function enableObserve(server: Server, options: ObserveOptions = {}): Observe {
  return new Observe(server, options);
}
