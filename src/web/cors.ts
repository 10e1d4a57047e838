// CORS (fetch.spec.whatwg.org "CORS protocol") for browsers calling from another origin: opt-in
// allowed origins. A request with an Origin that is not allowed is refused with 403 before it
// reaches a handler; a preflight (OPTIONS) from an allowed one gets what gRPC-Web and Connect
// clients need; answers to allowed origins expose the status headers to the page.
import type { HeaderList } from '../http2/api.js';

export interface CorsOptions {
  /** '*' (any origin), a list of origins ("http://192.168.1.20:8080"), or a predicate. */
  origins: '*' | readonly string[] | ((origin: string) => boolean);
  /** How long a browser may cache a preflight answer (default 7200 s). */
  maxAgeSeconds?: number;
  /** Response headers the page may read, besides the status headers (e.g. your own metadata). */
  exposeHeaders?: readonly string[];
}

// What connect-web and grpc-web read from a response.
const EXPOSE = [
  'grpc-status', 'grpc-message', 'grpc-status-details-bin', 'grpc-encoding', 'grpc-accept-encoding',
  'connect-content-encoding', 'connect-accept-encoding', 'content-encoding',
];

export class Cors {
  readonly #allows: (origin: string) => boolean;
  readonly #expose: string;
  readonly #maxAge: string;

  constructor(o: CorsOptions) {
    const origins = o.origins;
    if (origins === '*') this.#allows = () => true;
    else if (typeof origins === 'function') this.#allows = origins;
    else if (Array.isArray(origins) && origins.every((x) => typeof x === 'string')) {
      const set = new Set(origins);
      this.#allows = (origin) => set.has(origin);
    } else throw new TypeError("webProtocols: cors.origins must be '*', an array of origins or a function");
    this.#expose = [...EXPOSE, ...(o.exposeHeaders ?? [])].join(', ');
    const age = o.maxAgeSeconds ?? 7200;
    if (!Number.isInteger(age) || age < 0) throw new RangeError('webProtocols: cors.maxAgeSeconds must be an integer >= 0');
    this.#maxAge = String(age);
  }

  allows(origin: string): boolean {
    return this.#allows(origin);
  }

  /** Headers for an answer to an allowed origin. */
  headers(origin: string): HeaderList {
    return ['access-control-allow-origin', origin, 'access-control-expose-headers', this.#expose, 'vary', 'origin'];
  }

  /** The answer to a preflight from an allowed origin (204, no body). */
  preflight(origin: string, requestHeaders: string | undefined): HeaderList {
    const h = [
      ':status', '204',
      'access-control-allow-origin', origin,
      'access-control-allow-methods', 'POST, GET',
      'access-control-max-age', this.#maxAge,
      'vary', 'origin, access-control-request-method, access-control-request-headers',
    ];
    // The request headers a page may send are its metadata, which the server cannot list in
    // advance: the ones asked for are allowed (the origin is what is checked).
    if (requestHeaders !== undefined) h.push('access-control-allow-headers', requestHeaders);
    return h;
  }
}
