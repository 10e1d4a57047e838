// Every request of a web-enabled server, HTTP/2 stream or HTTP/1.1 request alike, is sorted here:
// gRPC (HTTP/2 only) straight to the call engine; CORS checks and preflights; the plain GET routes;
// gRPC-Web and Connect by content-type, each through its adapter to the same engine; anything else
// a one-line text answer: 404 (no such path), 405 (not POST), 415 (no protocol of ours).
import type { HeaderList, ServerStream } from '../http2/api.js';
import type { CallOptions } from '../grpc/call.js';
import { serveCall } from '../grpc/call.js';
import { isGrpcContentType } from '../grpc/call-io.js';
import { GrpcError, Status } from '../grpc/status.js';
import type { Cors } from './cors.js';
import { jsonOptions } from './adapter.js';
import { GrpcWebStream } from './grpc-web.js';
import { ConnectStreamStream, ConnectUnaryStream, connectRequestHeaders } from './connect.js';

/** What a plain GET route answers (a metrics page, a status page). */
export interface PlainAnswer {
  status?: number;
  contentType: string;
  body: string | Buffer;
  /** More response headers (www-authenticate, cache-control...). */
  headers?: HeaderList;
}
/** A plain GET route; `request` is the request's stream (its headers and peer: for access control). */
export type GetRoute = (request: ServerStream) => PlainAnswer | Promise<PlainAnswer>;

export interface WebConfig {
  cors: Cors | null;
  pages: Map<string, GetRoute>;
}

const NONE: HeaderList = [];
const discard = (stream: ServerStream) => (chunk: Buffer): void => {
  if (!stream.closed) stream.consume(chunk.length);
};

/** A short text answer; the request body, if any, is read and dropped. */
export function plain(stream: ServerStream, status: number, text: string, extra: HeaderList = NONE, type = 'text/plain; charset=utf-8'): void {
  stream.ondata = discard(stream);
  const body = Buffer.from(text, 'utf8');
  stream.respond([':status', String(status), 'content-type', type, 'content-length', String(body.length), ...extra], body.length === 0);
  if (body.length > 0) {
    stream.write(body);
    stream.end();
  }
}

function serveRoute(stream: ServerStream, route: GetRoute, extra: HeaderList, head: boolean): void {
  stream.ondata = discard(stream);
  Promise.resolve(stream)
    .then(route)
    .then(
      (a) => {
        const body = typeof a.body === 'string' ? Buffer.from(a.body, 'utf8') : a.body;
        const h = [':status', String(a.status ?? 200), 'content-type', a.contentType, 'content-length', String(body.length), ...extra];
        if (a.headers !== undefined) h.push(...a.headers);
        stream.respond(h, head || body.length === 0);
        if (!head && body.length > 0) {
          stream.write(body);
          stream.end();
        }
      },
      (err: unknown) => plain(stream, 500, `route failed: ${(err as Error)?.message ?? String(err)}`, extra),
    )
    .catch(() => stream.reset(2));
}

/** "application/json; charset=utf-8" -> "application/json". */
function baseType(ct: string): string {
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}

export function dispatch(cfg: WebConfig, stream: ServerStream, opts: CallOptions, http1: boolean): void {
  const h = stream.headers;
  let method = '';
  let path = '/';
  let ct = '';
  let origin: string | undefined;
  let askedHeaders: string | undefined;
  for (let i = 0; i + 1 < h.length; i += 2) {
    switch (h[i]) {
      case ':method': method = h[i + 1]!; break;
      case ':path': path = h[i + 1]!; break;
      case 'content-type': ct = h[i + 1]!; break;
      case 'origin': origin = h[i + 1]!; break;
      case 'access-control-request-headers': askedHeaders = h[i + 1]!; break;
    }
  }
  // gRPC: as without the web protocols (gRPC needs HTTP/2's trailers).
  if (!http1 && isGrpcContentType(ct)) return serveCall(stream, opts);

  let extra = NONE;
  if (origin !== undefined) {
    if (cfg.cors === null || !cfg.cors.allows(origin)) return plain(stream, 403, `origin ${origin} is not allowed`);
    if (method === 'OPTIONS') {
      stream.ondata = discard(stream);
      return stream.respond(cfg.cors.preflight(origin, askedHeaders), true);
    }
    extra = cfg.cors.headers(origin);
  }
  const q = path.indexOf('?');
  const bare = q < 0 ? path : path.slice(0, q);
  if (method === 'GET' || method === 'HEAD') {
    const r = cfg.pages.get(bare);
    if (r !== undefined) return serveRoute(stream, r, extra, method === 'HEAD');
  }
  const route = opts.lookup(bare);
  if (method === 'GET' && q >= 0 && route !== undefined && route.def.idempotent === true && route.def.kind === 'unary') {
    return connectGet(stream, h, path.slice(q + 1), extra, opts);
  }
  if (method !== 'POST') {
    return route !== undefined ? plain(stream, 405, `${method} not allowed: RPCs are POST`, [...extra, 'allow', 'POST']) : plain(stream, 404, `no such path: ${bare}`, extra);
  }
  const base = baseType(ct);
  const unary = route === undefined || route.def.kind === 'unary';
  switch (base) {
    case 'application/grpc':
    case 'application/grpc+proto':
      return plain(stream, 415, 'gRPC needs HTTP/2; over HTTP/1.1 use gRPC-Web or Connect', extra);
    case 'application/grpc-web':
    case 'application/grpc-web+proto':
    case 'application/grpc-web+json':
    case 'application/grpc-web-text':
    case 'application/grpc-web-text+proto': {
      // +json: gRPC-Web's framing around proto3 JSON messages (connect-web's gRPC-Web transport with
      // useBinaryFormat: false). No client sends grpc-web-text+json (415).
      const text = base.startsWith('application/grpc-web-text');
      const json = base.endsWith('json');
      const headers = h.map((x, i) => (i % 2 === 1 && h[i - 1] === 'content-type' ? 'application/grpc' : x));
      return new GrpcWebStream(stream, headers, extra, text, json ? base : text ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto').serve(json ? jsonOptions(opts) : opts);
    }
    case 'application/proto':
    case 'application/json': {
      if (!unary) return plain(stream, 415, `${bare} is a streaming method: use application/connect+proto or +json`, extra);
      const json = base === 'application/json';
      const headers = connectRequestHeaders(h, false);
      const s = new ConnectUnaryStream(stream, headers instanceof GrpcError ? NONE : headers, extra, json, opts);
      if (headers instanceof GrpcError) return s.fail(headers);
      return s.serve(json ? jsonOptions(opts) : opts);
    }
    case 'application/connect+proto':
    case 'application/connect+json': {
      if (unary && route !== undefined) return plain(stream, 415, `${bare} is a unary method: use application/proto or application/json`, extra);
      const json = base === 'application/connect+json';
      const headers = connectRequestHeaders(h, true);
      const s = new ConnectStreamStream(stream, headers instanceof GrpcError ? NONE : headers, extra, base);
      if (headers instanceof GrpcError) return s.fail(headers);
      return s.serve(json ? jsonOptions(opts) : opts);
    }
  }
  if (route === undefined) return plain(stream, 404, `no such path: ${bare}`, extra);
  return plain(stream, 415, `unsupported content-type "${ct}": use gRPC-Web (application/grpc-web) or Connect (application/json, application/proto)`, extra);
}



/**
 * Connect unary over GET, for methods free of side effects: ?connect=v1&encoding=json|proto
 * &message=...[&base64=1][&compression=gzip] (connectrpc.com/docs/protocol#unary-get-request), run as
 * the same Connect unary call with the message as its body.
 */
function connectGet(stream: ServerStream, h: HeaderList, query: string, extra: HeaderList, opts: CallOptions): void {
  const p = new URLSearchParams(query);
  const encoding = p.get('encoding');
  const message = p.get('message');
  const bad = (why: string): void => {
    const s = new ConnectUnaryStream(stream, NONE, extra, true, opts);
    s.fail(new GrpcError(Status.INVALID_ARGUMENT, why));
  };
  if (p.has('connect') && p.get('connect') !== 'v1') return bad(`connect=${p.get('connect')}: expected v1`);
  if (encoding !== 'json' && encoding !== 'proto') return bad('GET needs encoding=json or encoding=proto');
  if (message === null) return bad('GET needs a message parameter');
  const body = p.get('base64') === '1' ? Buffer.from(message, 'base64url') : Buffer.from(message, 'utf8');
  const compression = p.get('compression');
  const headers: HeaderList = [];
  // The engine sees the POST the GET stands for (its path without the query).
  for (let i = 0; i + 1 < h.length; i += 2) {
    if (h[i] === ':method') headers.push(':method', 'POST');
    else if (h[i] === ':path') headers.push(':path', h[i + 1]!.slice(0, h[i + 1]!.indexOf('?')));
    else if (h[i] !== 'content-type' && h[i] !== 'content-encoding') headers.push(h[i]!, h[i + 1]!);
  }
  headers.push('content-type', encoding === 'json' ? 'application/json' : 'application/proto');
  if (compression !== null && compression !== 'identity') headers.push('content-encoding', compression);
  const translated = connectRequestHeaders(headers, false);
  if (translated instanceof GrpcError) return bad(translated.details);
  const json = encoding === 'json';
  new ConnectUnaryStream(stream, translated, extra, json, opts, body).serve(json ? jsonOptions(opts) : opts);
}
