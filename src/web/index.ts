// gRPC-Web and the Connect protocol on the gRPC port, over HTTP/1.1 and HTTP/2 (opt-in):
//
//   import { Server, webProtocols } from 'grpc-edge';
//   const server = new Server({ web: webProtocols({ cors: { origins: ['http://dash.local:8080'] } }) });
//
// Then a browser (connect-web's createConnectTransport / createGrpcWebTransport), curl
// (`curl -H 'content-type: application/json' -d '{"name":"pi"}' http://host:50051/helloworld.Greeter/SayHello`)
// and gRPC clients all reach the same handlers, through the same call engine. A server that does not
// pass `web` carries none of this module (its bundle does not grow).
import type { Socket } from 'node:net';
import type { Http2Options, ServerStream } from '../http2/api.js';
import type { CallOptions } from '../grpc/call.js';
import type { TrackedConnection, WebHook } from '../server/server.js';
import { Cors } from './cors.js';
import type { CorsOptions } from './cors.js';
import { dispatch } from './dispatch.js';
import type { GetRoute, WebConfig } from './dispatch.js';
import { Http1Server } from '../http1/server.js';

export type { CorsOptions } from './cors.js';
export type { PlainAnswer, GetRoute } from './dispatch.js';

export interface WebOptions {
  /**
   * Browsers on other origins: which may call (and see the status headers). Without it a request
   * that carries an Origin header is refused with 403.
   */
  cors?: CorsOptions;
}

export interface WebProtocols extends WebHook {
  /**
   * Internal hook for other opt-in modules (a /metrics or status page): answer GET (and HEAD)
   * `path` with a plain HTTP response, on HTTP/1.1 and HTTP/2.
   */
  addGetRoute(path: string, handler: GetRoute): void;
  /** Internal: the HTTP/1.1 transport (src/observe reads its socket byte counts). */
  readonly http1Server: Http1Server;
}

/** The web protocols, for `new Server({ web: webProtocols(options) })`. */
export function webProtocols(options: WebOptions = {}): WebProtocols {
  if (options === null || typeof options !== 'object') throw new TypeError('webProtocols: options must be an object');
  for (const k of Object.keys(options)) {
    if (k !== 'cors') throw new TypeError(`webProtocols: unknown option "${k}" (known: cors)`);
  }
  const cfg: WebConfig = { cors: options.cors !== undefined ? new Cors(options.cors) : null, pages: new Map() };
  const serve = (stream: ServerStream, opts: CallOptions, http1: boolean): void => dispatch(cfg, stream, opts, http1);
  const h1 = new Http1Server(serve);
  return {
    http1: (socket: Socket, opts: CallOptions, limits: Http2Options, track: (c: TrackedConnection) => void) => h1.accept(socket, opts, limits, track),
    stream: (stream: ServerStream, opts: CallOptions) => serve(stream, opts, false),
    http1Server: h1,
    addGetRoute: (path: string, handler: GetRoute) => {
      if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError('addGetRoute: path must start with "/"');
      cfg.pages.set(path, handler);
    },
  };
}
