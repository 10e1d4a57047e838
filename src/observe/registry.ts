// The counters behind /metrics and the status page, fed by the server while metrics are on
// (Server.observe). Per method, as grpc-ecosystem/go-grpc-prometheus counts: calls started,
// calls handled by status code, messages received and sent, and a histogram of handling time.
//
// Label cardinality is bounded by what the application registers: one entry per route (a Map
// keyed by the router's Route object, made on the first call), and every call to an unknown path
// lands in the single UNKNOWN entry, whatever the path, so a client cannot grow the registry.
//
// Per call the cost is two calls into here (started, handled), one Map lookup each, a clock read
// at each end and a few array increments; nothing is allocated after a method's first call.
import type { Route } from '../grpc/call.js';
import type { MethodKind } from '../grpc/method.js';
import type { Http2ServerConnection } from '../http2/connection.js';
import type { Http2ConnectionStats } from '../http2/stats.js';
import { ErrorCode } from '../http2/errors.js';

/** grpc-ecosystem's default buckets (Prometheus DefBuckets), in seconds. */
export const BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Status code names, as grpc_code label values (codes.Code.String() in grpc-go). */
export const CODE_NAMES: readonly string[] = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists',
  'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented',
  'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];

/** grpc_type label values of go-grpc-prometheus. */
const TYPE_NAMES: Record<MethodKind, string> = {
  unary: 'unary',
  client_streaming: 'client_stream',
  server_streaming: 'server_stream',
  bidi_streaming: 'bidi_stream',
};

/** The label value of service, method and type for every call to a path no service answers. */
export const UNKNOWN = 'unknown';

export class MethodCounters {
  started = 0;
  received = 0;
  sent = 0;
  /** Calls handled, by status code (0..16). */
  readonly handled = new Float64Array(CODE_NAMES.length);
  /** Handling time: calls per bucket (not cumulative; the last slot is past the largest bound). */
  readonly buckets = new Float64Array(BUCKETS.length + 1);
  // The sum of handling times in a typed array: a double field would be a boxed number written anew per call.
  readonly #sum = new Float64Array(1);
  count = 0;
  readonly service: string;
  readonly method: string;
  readonly type: string;

  constructor(service: string, method: string, type: string) {
    this.service = service;
    this.method = method;
    this.type = type;
  }

  observe(seconds: number): void {
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.#sum[0]! += seconds;
    this.count++;
  }

  /** Seconds spent handling, all calls. */
  get sum(): number {
    return this.#sum[0]!;
  }
}

/** The HTTP/2 limits a connection can hit, as `limit` label values of grpc_edge_http2_limit_hits_total. */
export const LIMITS = [
  'max_concurrent_streams', 'header_list_size', 'header_list_flood', 'outbound_buffer', 'reset_flood', 'provoked_resets',
  'stream_errors', 'ping_flood', 'settings_flood', 'empty_data_flood', 'continuation_frames', 'header_block_size',
  'handshake_timeout', 'send_stall',
] as const;
export type LimitName = (typeof LIMITS)[number];

/** Counters summed over connections (the closed ones, and at scrape time the open ones). */
export interface ConnectionTotals {
  streamsOpened: number;
  resetsReceived: number;
  resetsSent: number;
  bytesIn: number;
  bytesOut: number;
  limits: Record<LimitName, number>;
}

export function newTotals(): ConnectionTotals {
  const limits = {} as Record<LimitName, number>;
  for (const l of LIMITS) limits[l] = 0;
  return { streamsOpened: 0, resetsReceived: 0, resetsSent: 0, bytesIn: 0, bytesOut: 0, limits };
}

/**
 * Which limit a connection error was, from its GOAWAY code and reason (connection.ts fail(): the
 * Http2Error message, "ENHANCE_YOUR_CALM: PING flood", or the text given to fail()).
 */
export function limitOfGoaway(code: number | null, reason: string | null): LimitName | null {
  if (code === ErrorCode.SETTINGS_TIMEOUT) return 'handshake_timeout';
  if (code !== ErrorCode.ENHANCE_YOUR_CALM || reason === null) return null;
  for (const [text, limit] of GOAWAY_REASONS) if (reason.includes(text)) return limit;
  return null;
}

const GOAWAY_REASONS: [string, LimitName][] = [
  ['RST_STREAM flood', 'reset_flood'],
  ['too many stream resets', 'provoked_resets'],
  ['too many stream errors', 'stream_errors'],
  // The client ping policy and the PING flood ceiling both end with this text (keepalive.ts).
  ['too_many_pings', 'ping_flood'],
  ['too many oversized header blocks', 'header_list_flood'],
  ['SETTINGS flood', 'settings_flood'],
  // sendStallTimeoutMs on the connection window (keepalive.ts)
  ['send stall', 'send_stall'],
  ['empty DATA flood', 'empty_data_flood'],
  ['CONTINUATION frames', 'continuation_frames'],
  ['field block larger', 'header_block_size'],
];

interface SocketCounts {
  bytesRead?: number;
  bytesWritten?: number;
}

/** Add one connection's counters to `t`. */
export function addConnection(t: ConnectionTotals, session: Http2ServerConnection): void {
  const s: Http2ConnectionStats = session.stats;
  t.streamsOpened += s.streamsOpened;
  t.resetsReceived += s.resetsReceived;
  t.resetsSent += s.resetsSent;
  // streamsRefused counts the 431 answers too; headersTooLarge also oversized trailers (no refusal).
  t.limits.max_concurrent_streams += Math.max(0, s.streamsRefused - s.headersTooLarge);
  t.limits.header_list_size += s.headersTooLarge;
  t.limits.outbound_buffer += s.readPauses;
  const l = limitOfGoaway(s.goawayCode, s.goawayReason);
  if (l !== null) t.limits[l]++;
  const sock = session.socket as unknown as SocketCounts;
  t.bytesIn += sock.bytesRead ?? 0;
  t.bytesOut += sock.bytesWritten ?? 0;
}

/** Per-method call counters. */
export class CallRegistry {
  readonly #byRoute = new Map<Route, MethodCounters>();
  readonly unknown = new MethodCounters(UNKNOWN, UNKNOWN, UNKNOWN);
  /** Connections closed so far and their counters. */
  closedConnections = 0;
  readonly closedTotals: ConnectionTotals = newTotals();

  /** Each route's counters (and the unknown entry last), in first-call order. */
  methods(): MethodCounters[] {
    const out = [...this.#byRoute.values()];
    if (this.unknown.started > 0) out.push(this.unknown);
    return out;
  }

  /** Counters for `route`, made on its first call. */
  #of(route: Route): MethodCounters {
    let m = this.#byRoute.get(route);
    if (m === undefined) {
      m = new MethodCounters(route.service, route.def.name, TYPE_NAMES[route.def.kind] ?? UNKNOWN);
      this.#byRoute.set(route, m);
    }
    return m;
  }

  /** Make the counters of routes known in advance (zeros on the first scrape, as go-grpc-prometheus does). */
  register(route: Route): void {
    this.#of(route);
  }

  callStart(route: Route): number {
    this.#of(route).started++;
    return performance.now();
  }

  callEnd(route: Route | null, code: number, received: number, sent: number, t0: number | undefined): void {
    let m: MethodCounters;
    if (route === null) {
      m = this.unknown;
      m.started++;
    } else {
      m = this.#of(route);
    }
    m.handled[code >= 0 && code < CODE_NAMES.length ? code : 2]!++;
    if (received > 0) m.received += received;
    m.sent += sent;
    m.observe(t0 === undefined ? 0 : (performance.now() - t0) / 1000);
  }

  /** A connection closed: its counters join the totals. */
  closed(session: Http2ServerConnection): void {
    this.closedConnections++;
    addConnection(this.closedTotals, session);
  }

  /** Calls handled so far, all methods, and those that did not end OK. */
  totals(): { handled: number; errors: number; byCode: Float64Array } {
    const byCode = new Float64Array(CODE_NAMES.length);
    let handled = 0;
    for (const m of this.methods()) {
      for (let c = 0; c < byCode.length; c++) {
        byCode[c]! += m.handled[c]!;
        handled += m.handled[c]!;
      }
    }
    return { handled, errors: handled - byCode[0]!, byCode };
  }
}
