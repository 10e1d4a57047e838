// A snapshot of everything /metrics and the status page show, and its Prometheus text form
// (exposition format 0.0.4: "# HELP", "# TYPE", one sample per line). Pure functions of the
// snapshot, so tests can feed them made-up figures.
import { BUCKETS, CODE_NAMES, LIMITS } from './registry.js';
import type { ConnectionTotals, MethodCounters } from './registry.js';

/** The package version, shown by grpc_edge_info and the status page (checked against package.json). */
export const VERSION = '0.1.0';

export interface Snapshot {
  /** ms since the epoch. */
  time: number;
  version: string;
  profile: string;
  node: string;
  startTimeSeconds: number;
  uptimeSeconds: number;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; budget: number };
  /** Event-loop delay over the last sampling window, seconds. */
  eventLoop: { p50: number; p99: number; max: number };
  queue: { running: number; waiting: number; parked: number; rejected: number; completed: number; cancelled: number; maxRunning: number; maxWaiting: number };
  connections: { open: number; capRefused: number; capEvicted: number; closed: number };
  /**
   * Connections ended by the keepalive and age policies (server.stats, keepalive.ts), HTTP/1.1 ones
   * added (age, send stall), and the HTTP/1.1 transport's own limits (src/http1 Http1Ended).
   */
  ended: {
    keepaliveTimeouts: number; idleGoaways: number; ageGoaways: number; ageGraceCloses: number; tooManyPings: number; sendStallCloses: number;
    badRequest: number; headersTooLarge: number; headerTimeout: number; requestStall: number; pipeline: number;
  };
  /** Calls the server ended or refused to keep the board serving (server.stats). */
  shed: { sendStallResets: number; requestStallResets: number; stalledShed: number; fairDropped: number };
  http2: ConnectionTotals;
  methods: readonly MethodCounters[];
  /** Registered services and their health ('SERVING' when no health service is given). */
  serving: { name: string; status: string }[];
  /** Pages rendered for /metrics and /status.json so far (this one included). */
  renders: number;
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function num(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

/** A counter family with one sample per `reason` label. */
function reasons(o: Out, name: string, help: string, rows: [string, number][]): void {
  o.family(name, 'counter', help);
  for (const [reason, v] of rows) o.sample(name, `reason="${reason}"`, v);
}

class Out {
  text = '';
  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.text += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  }
  sample(name: string, labels: string, v: number): void {
    this.text += labels === '' ? `${name} ${num(v)}\n` : `${name}{${labels}} ${num(v)}\n`;
  }
  one(name: string, type: 'counter' | 'gauge', help: string, v: number): void {
    this.family(name, type, help);
    this.sample(name, '', v);
  }
}

function methodLabels(m: MethodCounters): string {
  return `grpc_service="${esc(m.service)}",grpc_method="${esc(m.method)}",grpc_type="${esc(m.type)}"`;
}

/** The snapshot in the Prometheus text exposition format. */
export function renderText(s: Snapshot): string {
  const o = new Out();
  const ms = s.methods;

  o.family('grpc_server_started_total', 'counter', 'Total number of RPCs started on the server.');
  for (const m of ms) o.sample('grpc_server_started_total', methodLabels(m), m.started);
  o.family('grpc_server_handled_total', 'counter', 'Total number of RPCs completed on the server, regardless of success or failure.');
  for (const m of ms) {
    const l = methodLabels(m);
    for (let c = 0; c < CODE_NAMES.length; c++) {
      if (m.handled[c]! > 0 || c === 0) o.sample('grpc_server_handled_total', `${l},grpc_code="${CODE_NAMES[c]}"`, m.handled[c]!);
    }
  }
  o.family('grpc_server_msg_received_total', 'counter', 'Total number of RPC stream messages received on the server.');
  for (const m of ms) o.sample('grpc_server_msg_received_total', methodLabels(m), m.received);
  o.family('grpc_server_msg_sent_total', 'counter', 'Total number of gRPC stream messages sent by the server.');
  for (const m of ms) o.sample('grpc_server_msg_sent_total', methodLabels(m), m.sent);
  o.family('grpc_server_handling_seconds', 'histogram', 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.');
  for (const m of ms) {
    const l = methodLabels(m);
    let acc = 0;
    for (let i = 0; i < BUCKETS.length; i++) {
      acc += m.buckets[i]!;
      o.sample('grpc_server_handling_seconds_bucket', `${l},le="${num(BUCKETS[i]!)}"`, acc);
    }
    o.sample('grpc_server_handling_seconds_bucket', `${l},le="+Inf"`, m.count);
    o.sample('grpc_server_handling_seconds_sum', l, m.sum);
    o.sample('grpc_server_handling_seconds_count', l, m.count);
  }

  const q = s.queue;
  o.one('grpc_edge_queue_running', 'gauge', 'Handlers running now (job queue running slots in use).', q.running);
  o.one('grpc_edge_queue_waiting', 'gauge', 'Calls waiting for a running slot.', q.waiting);
  o.one('grpc_edge_queue_parked', 'gauge', "Calls parked off their running slot while a response write waits for the client's flow-control window.", q.parked);
  o.one('grpc_edge_queue_max_running', 'gauge', 'Job queue running slots (maxRunning).', q.maxRunning);
  o.one('grpc_edge_queue_max_waiting', 'gauge', 'Job queue waiting slots (maxWaiting).', q.maxWaiting);
  o.one('grpc_edge_queue_rejected_total', 'counter', 'Calls refused with RESOURCE_EXHAUSTED because the job queue was full.', q.rejected);
  o.one('grpc_edge_queue_completed_total', 'counter', 'Calls that got a running slot and gave it back.', q.completed);
  o.one('grpc_edge_queue_cancelled_total', 'counter', 'Calls that left the queue while waiting.', q.cancelled);

  const c = s.connections;
  o.one('grpc_edge_connections_open', 'gauge', 'Open connections.', c.open);
  o.one('grpc_edge_connections_refused_total', 'counter', 'Connections refused at the connection cap.', c.capRefused);
  o.one('grpc_edge_connections_evicted_total', 'counter', 'Idle connections closed to make room under the connection cap.', c.capEvicted);
  o.one('grpc_edge_connections_closed_total', 'counter', 'HTTP/2 connections closed.', c.closed);
  const k = s.ended;
  reasons(
    o,
    'grpc_edge_connections_ended_total',
    'Connections the server ended: unanswered keepalive PING, idle, age, age grace period over, too many client PINGs, response not read past sendStallTimeoutMs (send_stall); HTTP/1.1: request refused by the parser (bad_request), head too large (headers_too_large) or too slow (header_timeout), request body not complete within sendStallTimeoutMs (request_stall), too many pipelined requests (pipeline).',
    [
      ['keepalive_timeout', k.keepaliveTimeouts],
      ['max_idle', k.idleGoaways],
      ['max_age', k.ageGoaways],
      ['max_age_grace', k.ageGraceCloses],
      ['too_many_pings', k.tooManyPings],
      ['send_stall', k.sendStallCloses],
      ['bad_request', k.badRequest],
      ['headers_too_large', k.headersTooLarge],
      ['header_timeout', k.headerTimeout],
      ['request_stall', k.requestStall],
      ['pipeline', k.pipeline],
    ],
  );
  const d = s.shed;
  reasons(
    o,
    'grpc_edge_calls_shed_total',
    'Calls the server ended to keep serving others: response stalled on flow control past sendStallTimeoutMs (send_stall), request not finished within it (request_stall), a stalled running call reset at a full job queue (stalled_at_full_queue), a waiting call refused for a connection holding fewer slots (fair_share).',
    [
      ['send_stall', d.sendStallResets],
      ['request_stall', d.requestStallResets],
      ['stalled_at_full_queue', d.stalledShed],
      ['fair_share', d.fairDropped],
    ],
  );

  const h = s.http2;
  o.one('grpc_edge_http2_streams_opened_total', 'counter', 'HTTP/2 request streams opened.', h.streamsOpened);
  o.one('grpc_edge_http2_resets_received_total', 'counter', 'RST_STREAM frames received.', h.resetsReceived);
  o.one('grpc_edge_http2_resets_sent_total', 'counter', 'RST_STREAM frames sent.', h.resetsSent);
  o.family(
    'grpc_edge_http2_limit_hits_total',
    'counter',
    'HTTP/2 limits hit: refused streams (max_concurrent_streams, also after GOAWAY), 431 answers (header_list_size), reads paused for a peer that does not read (outbound_buffer), and connections closed with GOAWAY for a flood or timeout.',
  );
  for (const l of LIMITS) o.sample('grpc_edge_http2_limit_hits_total', `limit="${l}"`, h.limits[l]);
  o.one('grpc_edge_received_bytes_total', 'counter', 'Bytes read from client sockets (HTTP/2 and HTTP/1.1).', h.bytesIn);
  o.one('grpc_edge_sent_bytes_total', 'counter', 'Bytes written to client sockets (HTTP/2 and HTTP/1.1).', h.bytesOut);

  const mem = s.memory;
  o.one('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', mem.rss);
  o.one('grpc_edge_heap_used_bytes', 'gauge', 'V8 heap in use, bytes.', mem.heapUsed);
  o.one('grpc_edge_heap_total_bytes', 'gauge', 'V8 heap reserved, bytes.', mem.heapTotal);
  o.one('grpc_edge_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JavaScript (Buffers included), bytes.', mem.external);
  o.one('grpc_edge_memory_budget_bytes', 'gauge', "The target profile's memory budget (memoryBudgetMB), bytes.", mem.budget);
  o.one('grpc_edge_event_loop_delay_p50_seconds', 'gauge', 'Event-loop delay, median over the last sampling window.', s.eventLoop.p50);
  o.one('grpc_edge_event_loop_delay_p99_seconds', 'gauge', 'Event-loop delay, 99th percentile over the last sampling window.', s.eventLoop.p99);
  o.one('grpc_edge_event_loop_delay_max_seconds', 'gauge', 'Event-loop delay, largest over the last sampling window.', s.eventLoop.max);
  o.one('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', s.startTimeSeconds);
  o.one('grpc_edge_uptime_seconds', 'gauge', 'Seconds since the process started.', s.uptimeSeconds);
  o.family('grpc_edge_service_serving', 'gauge', 'Registered services: 1 while SERVING (health service), else 0.');
  for (const sv of s.serving) o.sample('grpc_edge_service_serving', `grpc_service="${esc(sv.name)}"`, sv.status === 'SERVING' ? 1 : 0);
  o.one('grpc_edge_observe_renders_total', 'counter', 'Pages rendered for /metrics and /status.json (a GET within renderCacheMs of the last render reuses it).', s.renders);
  o.family('grpc_edge_info', 'gauge', 'Version, target profile and Node version of this server.');
  o.sample('grpc_edge_info', `version="${esc(s.version)}",profile="${esc(s.profile)}",node="${esc(s.node)}"`, 1);
  return o.text;
}

/** The snapshot as the status page's JSON, with its history of samples. */
export function renderJson(s: Snapshot, history: readonly Sample[]): string {
  let handled = 0;
  const byCode: Record<string, number> = {};
  for (const m of s.methods) {
    for (let c = 0; c < CODE_NAMES.length; c++) {
      const n = m.handled[c]!;
      handled += n;
      if (n > 0) byCode[CODE_NAMES[c]!] = (byCode[CODE_NAMES[c]!] ?? 0) + n;
    }
  }
  const last = history.length >= 2 ? history[history.length - 1]! : null;
  const prev = history.length >= 2 ? history[history.length - 2]! : null;
  const callsPerSecond = last !== null && prev !== null && last.t > prev.t ? ((last.calls - prev.calls) * 1000) / (last.t - prev.t) : 0;
  return JSON.stringify({
    time: s.time,
    version: s.version,
    profile: s.profile,
    node: s.node,
    uptimeSeconds: s.uptimeSeconds,
    memory: s.memory,
    eventLoop: s.eventLoop,
    queue: s.queue,
    connections: s.connections,
    ended: s.ended,
    shed: s.shed,
    calls: { handled, callsPerSecond, byCode },
    methods: s.methods.map((m) => ({ service: m.service, method: m.method, type: m.type, count: m.count, sum: m.sum })),
    serving: s.serving,
    http2: s.http2,
    history: history.map((h) => [h.t, h.calls, h.rss]),
  });
}

/** One point of the status page's graph: time (ms), calls handled so far, RSS (bytes). */
export interface Sample {
  t: number;
  calls: number;
  rss: number;
}
