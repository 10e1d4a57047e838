// /metrics, /status.json and / over HTTP/2 (curl, prior knowledge), after real calls from grpc-js:
// grpc-ecosystem names and labels, counts per method and code, unknown methods under one label
// value, figures against server.stats, promtool check metrics on the output, access control, and
// nothing served while metrics are off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import { GrpcError, Status, webProtocols } from '../../src/index.js';
import type { ServerWriter } from '../../src/index.js';
import { enableObserve, renderText, VERSION, AccessPolicy, LIMITS } from '../../src/observe/index.js';
import { MethodCounters, limitOfGoaway, newTotals } from '../../src/observe/registry.js';
import type { Snapshot } from '../../src/observe/index.js';
import { startHarness } from '../grpc/helpers.js';
import type { Msg } from '../grpc/helpers.js';
import { fromRoot } from '../support/paths.js';
import { curl, h2get, promtoolCheck, samples } from './helpers.js';

const unary = (client: any, text: string): Promise<Msg> =>
  new Promise((resolve, reject) => client.Unary({ text }, (err: Error | null, res: Msg) => (err ? reject(err) : resolve(res))));

/** A unary call to a path no service answers; resolves with its status code. */
function callPath(client: grpc.Client, path: string): Promise<number> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (err) => resolve(err?.code ?? 0));
  });
}

const impl = {
  Unary: (req: Msg) => {
    if (req.text === 'missing') throw new GrpcError(Status.NOT_FOUND, 'no such thing');
    return { text: req.text };
  },
  ServerStream: async (req: Msg, out: ServerWriter<Msg>) => {
    for (let i = 0; i < req.count; i++) await out.write({ text: String(i), count: i, data: Buffer.alloc(0) });
  },
};

const M = 'grpc_service="edge.test.TestService",grpc_method="Unary",grpc_type="unary"';
const SS = 'grpc_service="edge.test.TestService",grpc_method="ServerStream",grpc_type="server_stream"';
const UNK = 'grpc_service="unknown",grpc_method="unknown",grpc_type="unknown"';

test('GET /metrics over HTTP/2: grpc-ecosystem counters after grpc-js calls, unknown methods under one label, promtool passes', async () => {
  const h = await startHarness(impl);
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await unary(h.client, `n${i}`)).text, `n${i}`);
    await assert.rejects(unary(h.client, 'missing'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    const stream = h.client.ServerStream({ text: 's', count: 4 });
    let got = 0;
    for await (const _ of stream) got++;
    assert.equal(got, 4);
    // Three different unknown paths: one label value for all.
    assert.equal(await callPath(h.client, '/edge.test.TestService/Nope'), grpc.status.UNIMPLEMENTED);
    assert.equal(await callPath(h.client, '/no.such.Service/A'), grpc.status.UNIMPLEMENTED);
    assert.equal(await callPath(h.client, `/x${'y'.repeat(50)}/z`), grpc.status.UNIMPLEMENTED);

    const r = await curl(`http://127.0.0.1:${h.port}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers, /content-type: text\/plain; version=0\.0\.4/);
    const s = samples(r.body);
    assert.equal(s.get(`grpc_server_started_total{${M}}`), 4);
    assert.equal(s.get(`grpc_server_handled_total{${M},grpc_code="OK"}`), 3);
    assert.equal(s.get(`grpc_server_handled_total{${M},grpc_code="NotFound"}`), 1);
    assert.equal(s.get(`grpc_server_msg_received_total{${M}}`), 4);
    assert.equal(s.get(`grpc_server_msg_sent_total{${M}}`), 3);
    assert.equal(s.get(`grpc_server_handling_seconds_count{${M}}`), 4);
    assert.equal(s.get(`grpc_server_handling_seconds_bucket{${M},le="+Inf"}`), 4);
    assert.ok(s.get(`grpc_server_handling_seconds_bucket{${M},le="10"}`)! <= 4);
    assert.equal(s.get(`grpc_server_handled_total{${SS},grpc_code="OK"}`), 1);
    assert.equal(s.get(`grpc_server_msg_sent_total{${SS}}`), 4);
    assert.equal(s.get(`grpc_server_msg_received_total{${SS}}`), 1);
    assert.equal(s.get(`grpc_server_started_total{${UNK}}`), 3);
    assert.equal(s.get(`grpc_server_handled_total{${UNK},grpc_code="Unimplemented"}`), 3);
    // No unknown path shows up as a label value.
    assert.doesNotMatch(r.body, /Nope|no\.such|yyyy/);
    const methodsSeen = new Set([...r.body.matchAll(/grpc_method="([^"]*)"/g)].map((m) => m[1]));
    assert.deepEqual([...methodsSeen].sort(), ['ServerStream', 'Unary', 'unknown']);

    // The same figures as server.stats, read while the scraping connection is still open.
    const session = http2.connect(`http://127.0.0.1:${h.port}`);
    const s2 = samples((await h2get(session, '/metrics')).body);
    const st = h.server.stats;
    session.close();
    assert.equal(s2.get('grpc_edge_connections_open'), st.connections);
    assert.equal(st.connections, 2, 'the grpc-js channel and the scraping session');
    assert.equal(s.get('grpc_edge_queue_running'), st.running);
    assert.equal(s.get('grpc_edge_queue_max_running'), st.maxRunning);
    assert.equal(s.get('grpc_edge_queue_max_waiting'), st.maxWaiting);
    assert.equal(s.get('grpc_edge_queue_completed_total'), st.completed);
    assert.ok(s.get('grpc_edge_received_bytes_total')! > 0 && s.get('grpc_edge_sent_bytes_total')! > 0);
    assert.equal(s.get('grpc_edge_http2_streams_opened_total'), 9, '8 calls and this GET');
    assert.ok(s.get('process_resident_memory_bytes')! > 1e6);
    assert.equal(s.get('grpc_edge_memory_budget_bytes'), 2048 * 1048576, "host-x64's memoryBudgetMB");
    assert.equal(s.get(`grpc_edge_info{version="${VERSION}",profile="host-x64",node="${process.version}"}`), 1);
    for (const l of LIMITS) assert.equal(s.get(`grpc_edge_http2_limit_hits_total{limit="${l}"}`), 0);
    const check = promtoolCheck(r.body);
    assert.equal(check.status, 0, check.output);
    assert.equal(check.output.trim(), '', 'promtool has no lint warnings either');
  } finally {
    observe.stop();
    await h.close();
  }
});

test('/status.json and / over HTTP/2: the figures of server.stats, the page self-contained', async () => {
  const h = await startHarness(impl);
  enableObserve(h.server, { renderCacheMs: 0, sampleIntervalMs: 50 });
  try {
    await unary(h.client, 'a');
    await assert.rejects(unary(h.client, 'missing'));
    await new Promise((r) => setTimeout(r, 120));
    const session = http2.connect(`http://127.0.0.1:${h.port}`);
    const j = JSON.parse((await h2get(session, '/status.json')).body);
    const st = h.server.stats;
    session.close();
    assert.equal(j.queue.running, st.running);
    assert.equal(j.queue.maxRunning, st.maxRunning);
    assert.equal(j.connections.open, st.connections);
    assert.equal(j.calls.handled, 2);
    assert.deepEqual(j.calls.byCode, { OK: 1, NotFound: 1 });
    assert.equal(j.profile, 'host-x64');
    assert.deepEqual(j.serving, [{ name: 'edge.test.TestService', status: 'SERVING' }]);
    assert.ok(j.history.length >= 2);
    assert.equal(j.history.at(-1)[1], 2, 'the last sample counts both calls');

    const page = await curl(`http://127.0.0.1:${h.port}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers, /content-type: text\/html/);
    assert.match(page.body, /<meta name="viewport"/);
    // No external asset: no src= or href= at all, and the only URL fetched is status.json.
    assert.doesNotMatch(page.body, /\b(src|href)=/);
    assert.doesNotMatch(page.body, /https?:\/\//);
    assert.match(page.body, /fetch\("status\.json"/);
  } finally {
    await h.close();
  }
});

test('access control: token missing or wrong -> 401, address not allowed -> 403, nothing leaks', async () => {
  const h = await startHarness(impl);
  const observe = enableObserve(h.server, { renderCacheMs: 0, token: 's3cret-token' });
  const base = `http://127.0.0.1:${h.port}`;
  try {
    await unary(h.client, 'a');
    for (const path of ['/metrics', '/', '/status.json']) {
      for (const headers of [[], ['Authorization: Bearer wrong'], ['Authorization: Basic czNjcmV0LXRva2Vu']]) {
        const r = await curl(base + path, { headers });
        assert.equal(r.status, 401, `${path} ${headers.join()}`);
        assert.match(r.headers, /www-authenticate: bearer/);
        assert.equal(r.body, 'unauthorized\n');
      }
    }
    assert.equal((await curl(`${base}/metrics?token=nope`)).status, 401);
    const ok = await curl(`${base}/metrics`, { headers: ['Authorization: Bearer s3cret-token'] });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /grpc_server_handled_total/);
    assert.equal((await curl(`${base}/status.json?token=s3cret-token`)).status, 200);
    observe.stop();

    // An allow list without loopback and no token: 403.
    const o2 = enableObserve(h.server, { renderCacheMs: 0, allow: ['10.0.0.0/8', 'fd00::/8'] });
    for (const path of ['/metrics', '/', '/status.json']) {
      const r = await curl(base + path);
      assert.equal(r.status, 403);
      assert.equal(r.body, 'forbidden\n');
    }
    o2.stop();
    // The default: loopback allowed.
    const o3 = enableObserve(h.server, { renderCacheMs: 0 });
    assert.equal((await curl(`${base}/metrics`)).status, 200);
    o3.stop();
  } finally {
    await h.close();
  }
});

test('off: without enableObserve (or after stop) a GET is answered 405 as before, and calls are not counted', async () => {
  const h = await startHarness(impl);
  try {
    assert.equal((await curl(`http://127.0.0.1:${h.port}/metrics`)).status, 405);
    const o = enableObserve(h.server, { renderCacheMs: 0 });
    assert.equal((await curl(`http://127.0.0.1:${h.port}/metrics`)).status, 200);
    assert.equal((await curl(`http://127.0.0.1:${h.port}/other`)).status, 404);
    o.stop();
    await unary(h.client, 'after');
    assert.equal(o.totals().handled, 0);
    assert.equal((await curl(`http://127.0.0.1:${h.port}/metrics`)).status, 405);
  } finally {
    await h.close();
  }
});

test('AccessPolicy: addresses, subnets, loopback, IPv4-mapped, unix sockets, bad entries', () => {
  const p = new AccessPolicy({ allow: ['loopback', '192.168.1.0/24', '10.1.2.3'] });
  assert.equal(p.check('127.0.0.1', undefined), 200);
  assert.equal(p.check('::1', undefined), 200);
  assert.equal(p.check('::ffff:127.0.0.1', undefined), 200);
  assert.equal(p.check('192.168.1.77', undefined), 200);
  assert.equal(p.check('::ffff:192.168.1.77', undefined), 200);
  assert.equal(p.check('192.168.2.1', undefined), 403);
  assert.equal(p.check('10.1.2.3', undefined), 200);
  assert.equal(p.check('10.1.2.4', 'any'), 403);
  assert.equal(p.check(undefined, undefined), 200, 'a unix-socket client counts as loopback');
  const t = new AccessPolicy({ token: 'abc' });
  assert.equal(t.check('127.0.0.1', undefined), 401, 'with a token and no allow list, everyone needs the token');
  assert.equal(t.check('127.0.0.1', 'abc'), 200);
  assert.equal(t.check('127.0.0.1', 'abd'), 401);
  assert.equal(t.check(undefined, undefined), 401);
  assert.equal(new AccessPolicy({ allow: ['any'] }).check('8.8.8.8', undefined), 200);
  assert.equal(new AccessPolicy({ allow: [] }).check('127.0.0.1', undefined), 403);
  assert.throws(() => new AccessPolicy({ allow: ['192.168.1.0/33'] }), RangeError);
  assert.throws(() => new AccessPolicy({ allow: ['localhost'] }), RangeError);
  assert.throws(() => new AccessPolicy({ token: '' }), TypeError);
});

test('enableObserve checks its options', async () => {
  const h = await startHarness(impl);
  try {
    assert.throws(() => enableObserve(h.server, { tokn: 'x' } as never), /unknown option "tokn"/);
    assert.throws(() => enableObserve(h.server, { sampleIntervalMs: 0 }), RangeError);
    for (const bad of [-1, NaN, Infinity, '5' as never]) assert.throws(() => enableObserve(h.server, { renderCacheMs: bad }), /renderCacheMs/);
    assert.throws(() => enableObserve(h.server, { health: {} as never }), /getStatus/);
    const o = enableObserve(h.server, { renderCacheMs: 0 });
    assert.throws(() => enableObserve(h.server), /already enabled/);
    o.stop();
    assert.equal((await curl(`http://127.0.0.1:${h.port}/metrics`)).status, 405, 'a refused enableObserve installs nothing');
  } finally {
    await h.close();
  }
});

test('renderText of made-up figures: label values escaped, histogram cumulative, promtool passes; VERSION is package.json\'s', () => {
  const m = new MethodCounters('pkg.S"vc', 'Do\\It', 'unary');
  m.started = 5;
  m.handled[0] = 3;
  m.handled[14] = 2;
  for (const v of [0.001, 0.004, 0.02, 3, 20]) m.observe(v);
  const snap: Snapshot = {
    time: 0,
    version: VERSION,
    profile: 'pi-zero-2w',
    node: 'v20.0.0',
    startTimeSeconds: 1,
    uptimeSeconds: 2,
    memory: { rss: 1, heapUsed: 2, heapTotal: 3, external: 4, budget: 128 * 1048576 },
    eventLoop: { p50: 0.001, p99: 0.002, max: 0.003 },
    queue: { running: 1, waiting: 2, parked: 11, rejected: 3, completed: 4, cancelled: 5, maxRunning: 2, maxWaiting: 16 },
    connections: { open: 1, capRefused: 2, capEvicted: 3, closed: 4 },
    ended: { keepaliveTimeouts: 1, idleGoaways: 2, ageGoaways: 3, ageGraceCloses: 4, tooManyPings: 5, sendStallCloses: 6, badRequest: 12, headersTooLarge: 13, headerTimeout: 14, requestStall: 15, pipeline: 16 },
    shed: { sendStallResets: 7, requestStallResets: 8, stalledShed: 9, fairDropped: 10 },
    http2: newTotals(),
    methods: [m],
    serving: [{ name: 'a\nb', status: 'NOT_SERVING' }],
    renders: 17,
  };
  const text = renderText(snap);
  const s = samples(text);
  const l = 'grpc_service="pkg.S\\"vc",grpc_method="Do\\\\It",grpc_type="unary"';
  assert.equal(s.get(`grpc_server_handled_total{${l},grpc_code="Unavailable"}`), 2);
  assert.equal(s.get(`grpc_server_handling_seconds_bucket{${l},le="0.005"}`), 2);
  assert.equal(s.get(`grpc_server_handling_seconds_bucket{${l},le="0.025"}`), 3);
  assert.equal(s.get(`grpc_server_handling_seconds_bucket{${l},le="5"}`), 4);
  assert.equal(s.get(`grpc_server_handling_seconds_bucket{${l},le="10"}`), 4);
  assert.equal(s.get(`grpc_server_handling_seconds_bucket{${l},le="+Inf"}`), 5);
  assert.equal(s.get('grpc_edge_service_serving{grpc_service="a\\nb"}'), 0);
  assert.equal(s.get('grpc_edge_connections_ended_total{reason="max_age"}'), 3);
  assert.equal(s.get('grpc_edge_connections_ended_total{reason="send_stall"}'), 6);
  assert.equal(s.get('grpc_edge_connections_ended_total{reason="header_timeout"}'), 14);
  assert.equal(s.get('grpc_edge_connections_ended_total{reason="pipeline"}'), 16);
  assert.equal(s.get('grpc_edge_calls_shed_total{reason="request_stall"}'), 8);
  assert.equal(s.get('grpc_edge_calls_shed_total{reason="fair_share"}'), 10);
  assert.equal(s.get('grpc_edge_queue_parked'), 11);
  assert.equal(s.get('grpc_edge_observe_renders_total'), 17);
  const check = promtoolCheck(text);
  assert.equal(check.status, 0, check.output);
  // promtool must be able to fail: a counter without _total and a broken line.
  assert.notEqual(promtoolCheck('# TYPE x counter\nx{a="b} 1\n').status, 0);
  const pkg = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
});

test('connection cap and HTTP/2 limits show up: evicted connection, 431 answer, PING flood', async () => {
  const h = await startHarness(impl, { maxConnections: 1, http2: { maxPingsPerWindow: 2, maxHeaderListSize: 1024, sendStallTimeoutMs: 300 } });
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  const base = `http://127.0.0.1:${h.port}`;
  try {
    await unary(h.client, 'x');
    // The idle grpc-js connection makes room for curl's.
    const r1 = samples((await curl(`${base}/metrics`)).body);
    assert.equal(r1.get('grpc_edge_connections_evicted_total'), 1);
    assert.equal(h.server.stats.connectionsEvicted, 1);

    // A header list past maxHeaderListSize: 431, the connection stays.
    const big = http2.connect(base);
    const status = await new Promise<number>((resolve, reject) => {
      const req = big.request({ ':method': 'GET', ':path': '/metrics', 'x-big': 'a'.repeat(2000) });
      req.on('response', (hd) => resolve(Number(hd[':status'])));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 431);
    const r2 = samples((await h2get(big, '/metrics')).body);
    assert.equal(r2.get('grpc_edge_http2_limit_hits_total{limit="header_list_size"}'), 1);
    big.close();

    // Three PINGs where two are allowed: GOAWAY(ENHANCE_YOUR_CALM), counted once the connection is gone.
    const flood = http2.connect(base);
    flood.on('error', () => {});
    await new Promise<void>((resolve) => flood.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => flood.once('close', () => resolve()));
    for (let i = 0; i < 3; i++) flood.ping(() => {});
    await closed;
    for (let i = 0; i < 500 && observe.snapshot().http2.limits.ping_flood === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const r3 = samples((await curl(`${base}/metrics`)).body);
    assert.equal(r3.get('grpc_edge_http2_limit_hits_total{limit="ping_flood"}'), 1);
    assert.equal(r3.get('grpc_edge_http2_limit_hits_total{limit="header_list_size"}'), 1, 'kept after its connection closed');

    // A unary request that never ends: reset after sendStallTimeoutMs, counted as a shed call.
    assert.equal(r3.get('grpc_edge_calls_shed_total{reason="request_stall"}'), 0);
    const slow = http2.connect(base);
    slow.on('error', () => {});
    const rst = await new Promise<number>((resolve) => {
      const req = slow.request({ ':method': 'POST', ':path': '/edge.test.TestService/Unary', 'content-type': 'application/grpc', te: 'trailers' });
      req.on('error', () => {});
      req.on('close', () => resolve(req.rstCode));
      req.write(Buffer.from([0, 0, 0, 0, 9])); // a message header promising 9 octets, then nothing
    });
    assert.equal(rst, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    const r4 = samples((await h2get(slow, '/metrics')).body);
    assert.equal(r4.get('grpc_edge_calls_shed_total{reason="request_stall"}'), 1);
    slow.close();
  } finally {
    observe.stop();
    await h.close();
  }
});

test('with the web protocols on: the same routes over HTTP/1.1 (curl) and HTTP/2, access control on both, cross-origin reads refused', async () => {
  const h = await startHarness(impl, { web: webProtocols({ cors: { origins: '*' } }) });
  const observe = enableObserve(h.server, { renderCacheMs: 0, token: 'tok', allow: ['10.9.9.9'] });
  const base = `http://127.0.0.1:${h.port}`;
  try {
    await unary(h.client, 'a');
    for (const http2 of [false, true]) {
      const ok = await curl(`${base}/metrics`, { http2, headers: ['Authorization: Bearer tok'] });
      assert.equal(ok.status, 200, `http2 ${http2}`);
      assert.match(ok.headers, /content-type: text\/plain; version=0\.0\.4/);
      assert.equal(samples(ok.body).get(`grpc_server_handled_total{${M},grpc_code="OK"}`), 1);
      const page = await curl(`${base}/?token=tok`, { http2 });
      assert.equal(page.status, 200);
      assert.match(page.body, /<title>grpc-edge status<\/title>/);
      const denied = await curl(`${base}/status.json`, { http2 });
      assert.equal(denied.status, 401);
      assert.match(denied.headers, /www-authenticate: bearer/);
      assert.equal(denied.body, 'unauthorized\n');
      assert.equal((await curl(`${base}/metrics`, { http2, headers: ['Authorization: Bearer nope'] })).status, 401);
      // A page on another origin, through a visitor's browser: refused even with the token.
      const xo = await curl(`${base}/status.json?token=tok`, { http2, headers: ['Origin: http://elsewhere.example'] });
      assert.equal(xo.status, 403);
      assert.doesNotMatch(xo.body, /grpc|queue/);
    }
    observe.stop();
    assert.equal((await curl(`${base}/metrics`, { http2: false })).status, 404, 'stopped: the routes answer 404');
    const o2 = enableObserve(h.server, { renderCacheMs: 0, allow: ['192.168.0.0/16'] });
    assert.equal((await curl(`${base}/metrics`, { http2: false })).status, 403);
    o2.stop();
  } finally {
    await h.close();
  }
});

test('every GOAWAY(ENHANCE_YOUR_CALM) and SETTINGS_TIMEOUT the HTTP/2 layer sends maps to a limit label', () => {
  // Read from the source, so that a new flood rule without a label fails here.
  const files = ['src/http2/connection.ts', 'src/http2/dispatch.ts', 'src/http2/frame/reader.ts', 'src/http2/keepalive.ts'];
  const re = /(ConnectionError|fail)\(ErrorCode\.(ENHANCE_YOUR_CALM|SETTINGS_TIMEOUT), (['`])([^'`]*)\3/g;
  const found: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(fromRoot(f), 'utf8').matchAll(re)) {
      const code = m[2] === 'ENHANCE_YOUR_CALM' ? 0xb : 0x4;
      // As the connection records it: an Http2Error's message has the code's name in front.
      const reason = (m[1] === 'ConnectionError' ? `${m[2]}: ` : '') + m[4]!.replace(/\$\{[^}]*\}/g, '7');
      found.push(reason);
      const l = limitOfGoaway(code, reason);
      assert.ok(l !== null && (LIMITS as readonly string[]).includes(l), `no limit label for "${reason}"`);
    }
  }
  assert.ok(found.length >= 10, `found ${found.join(' | ')}`);
  assert.equal(limitOfGoaway(0, 'shutdown'), null);
  assert.equal(limitOfGoaway(0xb, 'ENHANCE_YOUR_CALM: PING flood'), null, 'an unknown text is no limit');
});
