// The Connect protocol's unary calls over HTTP/1.1, with Debian's curl and Node's http client as
// peers: JSON by the proto3 mapping and binary, the Connect error JSON and HTTP statuses, and the
// call engine behind them (interceptors, deadlines from connect-timeout-ms, the job queue,
// cancellation, compression).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { execFile } from 'node:child_process';
import { gzipSync, gunzipSync } from 'node:zlib';

import { RICH_DETAIL_VALUE, probeRoot, startWebServer } from './helpers.js';
import { Status } from '../../src/index.js';

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', ...args], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
function post(url: string, headers: Record<string, string>, body: string | Buffer, signal?: AbortSignal): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const json = (r: Res): any => JSON.parse(r.body.toString('utf8'));
const JSON_CT = { 'content-type': 'application/json' };

test('curl, as in the README: JSON in, JSON out', async () => {
  const s = await startWebServer();
  try {
    const out = await curl(['-H', 'content-type: application/json', '-d', '{"name":"pi"}', `${s.url}/helloworld.Greeter/SayHello`]);
    assert.deepEqual(JSON.parse(out), { message: 'hello pi' });
    // With the protocol header and a timeout, as connect clients send them.
    const out2 = await curl(['-H', 'content-type: application/json', '-H', 'connect-protocol-version: 1', '-H', 'connect-timeout-ms: 5000', '-d', '{"name":"again"}', `${s.url}/helloworld.Greeter/SayHelloAgain`]);
    assert.deepEqual(JSON.parse(out2), { message: 'hello again' });
    assert.deepEqual(s.state.intercepted, ['/helloworld.Greeter/SayHello', '/helloworld.Greeter/SayHelloAgain'], 'the interceptors ran');
  } finally {
    await s.close();
  }
});

test('proto3 JSON mapping: int64 as strings, bytes base64, enums by name, lowerCamelCase or .proto names', async () => {
  const s = await startWebServer();
  try {
    const url = `${s.url}/webtest.Probe/Echo`;
    const req = {
      name: 'n',
      bigNumber: '9007199254740993', // past 2^53: exact only as a string
      raw_data: Buffer.from([0, 1, 2, 250]).toString('base64'),
      color: 'GREEN',
      innerList: [{ noteText: 'a' }, { note_text: 'b' }],
      counts: { x: 1, y: -2 },
      unsignedBig: 18446744073709551615n.toString(),
      ratio: 'Infinity',
      flag: true,
    };
    const r = await post(url, JSON_CT, JSON.stringify(req));
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(json(r).echoed, {
      name: 'n',
      bigNumber: '9007199254740993',
      rawData: 'AAEC+g==',
      color: 'GREEN',
      innerList: [{ noteText: 'a' }, { noteText: 'b' }],
      counts: { x: 1, y: -2 },
      unsignedBig: '18446744073709551615',
      ratio: 'Infinity',
      flag: true,
    });
    // Numbers for 64-bit fields and enums are accepted too; null is the default.
    const r2 = await post(url, JSON_CT, JSON.stringify({ bigNumber: 12, color: 1, name: null }));
    assert.deepEqual(json(r2).echoed, { bigNumber: '12', color: 'RED' });

    for (const [body, why] of [
      ['{"nmae":"x"}', /unknown field "nmae"/],
      ['{"color":"BLUE"}', /unknown value "BLUE"/],
      ['{"bigNumber":"1.5"}', /expected an integer/],
      ['{"bigNumber":"9223372036854775808"}', /out of range/],
      ['{"rawData":"***"}', /expected base64/],
      ['{"innerList":{}}', /expected a JSON array/],
      ['{"name":5}', /expected a string/],
      ['[1]', /expected a JSON object/],
      ['{"name":', /malformed JSON/],
    ] as const) {
      const e = await post(url, JSON_CT, body);
      assert.equal(e.status, 400, body);
      assert.equal(json(e).code, 'invalid_argument', body);
      assert.match(json(e).message, why, body);
    }
  } finally {
    await s.close();
  }
});

test('binary Connect unary (application/proto), gzip both ways', async () => {
  const s = await startWebServer({ compression: 'gzip' });
  try {
    const root = probeRoot();
    const Req = root.lookupType('webtest.EchoRequest');
    const Reply = root.lookupType('webtest.EchoReply');
    const body = Buffer.from(Req.encode(Req.fromObject({ name: 'bin', big_number: '-5' })).finish());
    const r = await post(`${s.url}/webtest.Probe/Echo`, { 'content-type': 'application/proto', 'connect-protocol-version': '1' }, body);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/proto');
    const m = Reply.toObject(Reply.decode(r.body), { longs: String }) as any;
    assert.equal(m.echoed.name, 'bin');
    assert.equal(m.echoed.big_number, '-5');
    // A gzip request body, a gzip response for a client that accepts it.
    const z = await post(`${s.url}/webtest.Probe/Echo`, { 'content-type': 'application/proto', 'content-encoding': 'gzip', 'accept-encoding': 'gzip' }, gzipSync(body));
    assert.equal(z.status, 200);
    assert.equal(z.headers['content-encoding'], 'gzip');
    assert.equal((Reply.decode(gunzipSync(z.body)) as any).echoed.name, 'bin');
    // An unknown coding: the engine's UNIMPLEMENTED.
    const u = await post(`${s.url}/webtest.Probe/Echo`, { 'content-type': 'application/proto', 'content-encoding': 'br' }, body);
    assert.equal(u.status, 501);
    assert.equal(json(u).code, 'unimplemented');
  } finally {
    await s.close();
  }
});

test('errors: unknown method (501), deadline (504), full queue (429), bad headers (400); the process lives on', async () => {
  const s = await startWebServer({ maxRunning: 1, maxWaiting: 0 });
  try {
    const unknown = await post(`${s.url}/helloworld.Greeter/Nope`, JSON_CT, '{}');
    assert.equal(unknown.status, 501);
    assert.deepEqual(json(unknown), { code: 'unimplemented', message: 'unknown method Nope for service helloworld.Greeter' });

    const late = await post(`${s.url}/webtest.Probe/Sleep`, { ...JSON_CT, 'connect-timeout-ms': '50' }, '{"ms":10000}');
    assert.equal(late.status, 504);
    assert.equal(json(late).code, 'deadline_exceeded');
    assert.deepEqual(s.state.aborted, [Status.DEADLINE_EXCEEDED], 'the handler saw its signal abort');

    // One running slot, no waiting: a second call while one sleeps is RESOURCE_EXHAUSTED.
    const first = post(`${s.url}/webtest.Probe/Sleep`, JSON_CT, '{"ms":300}');
    for (let i = 0; i < 1000 && s.server.stats.running === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const busy = await post(`${s.url}/helloworld.Greeter/SayHello`, JSON_CT, '{}');
    assert.equal(busy.status, 429);
    assert.equal(json(busy).code, 'resource_exhausted');
    assert.deepEqual(json(await first), {}, 'aborted: false is the default, left out');

    for (const [h, why] of [
      [{ 'connect-timeout-ms': 'soon' }, /connect-timeout-ms/],
      [{ 'connect-protocol-version': '2' }, /connect-protocol-version/],
    ] as const) {
      const e = await post(`${s.url}/helloworld.Greeter/SayHello`, { ...JSON_CT, ...h }, '{}');
      assert.equal(e.status, 400);
      assert.match(json(e).message, why);
    }
    const ok = await post(`${s.url}/helloworld.Greeter/SayHello`, JSON_CT, '{"name":"alive"}');
    assert.deepEqual(json(ok), { message: 'hello alive' });
  } finally {
    await s.close();
  }
});

test('a client that goes away aborts the handler signal (CANCELLED) and frees the slot', async () => {
  const s = await startWebServer({ maxRunning: 1, maxWaiting: 0 });
  try {
    const ac = new AbortController();
    const gone = post(`${s.url}/webtest.Probe/Sleep`, JSON_CT, '{"ms":10000}', ac.signal).catch((e: Error) => e);
    for (let i = 0; i < 1000 && s.server.stats.running === 0; i++) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    assert.ok((await gone) instanceof Error);
    for (let i = 0; i < 100 && s.state.aborted.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(s.state.aborted, [Status.CANCELLED]);
    const ok = await post(`${s.url}/helloworld.Greeter/SayHello`, JSON_CT, '{"name":"next"}');
    assert.deepEqual(json(ok), { message: 'hello next' });
  } finally {
    await s.close();
  }
});

test('a rich error (grpc-status-details-bin): Connect "details", gRPC-Web trailer, connect-node ConnectError.details', async () => {
  const s = await startWebServer();
  try {
    const r = await post(`${s.url}/webtest.Probe/Echo`, JSON_CT, '{"name":"rich"}');
    assert.equal(r.status, 400);
    assert.deepEqual(json(r), {
      code: 'failed_precondition',
      message: 'rich',
      details: [{ type: 'google.rpc.ErrorInfo', value: RICH_DETAIL_VALUE.toString('base64').replace(/=+$/, '') }],
    });
    const { createClient, ConnectError } = await import('@connectrpc/connect');
    const node = await import('@connectrpc/connect-node');
    const { descService, PROBE_PROTO } = await import('./helpers.js');
    for (const transport of [node.createConnectTransport({ baseUrl: s.url, httpVersion: '1.1' }), node.createConnectTransport({ baseUrl: s.url, httpVersion: '2' }), node.createGrpcWebTransport({ baseUrl: s.url, httpVersion: '1.1' })]) {
      const probe: any = createClient(descService(PROBE_PROTO, 'webtest.Probe'), transport);
      try {
        await probe.echo({ name: 'rich' });
        assert.fail('no error');
      } catch (e) {
        const err = ConnectError.from(e);
        assert.equal(err.rawMessage, 'rich');
        assert.equal(err.details.length, 1);
        const d = err.details[0] as { type?: string; desc?: { typeName: string }; value: Uint8Array };
        assert.equal(d.type ?? d.desc?.typeName, 'google.rpc.ErrorInfo');
        assert.deepEqual(Buffer.from(d.value), RICH_DETAIL_VALUE);
      }
    }
  } finally {
    await s.close();
  }
});

test('Connect GET for a method marked idempotency_level = NO_SIDE_EFFECTS (curl, connect-web useHttpGet, JSON and binary); other methods 405', async () => {
  const s = await startWebServer();
  try {
    const msg = encodeURIComponent(JSON.stringify({ name: 'get', bigNumber: '7' }));
    const out = await curl([`${s.url}/webtest.Probe/Echo?connect=v1&encoding=json&message=${msg}`]);
    assert.deepEqual(JSON.parse(out), { echoed: { name: 'get', bigNumber: '7' } });
    const h2 = await curl(['--http2-prior-knowledge', `${s.url}/webtest.Probe/Echo?encoding=json&message=${msg}`]);
    assert.deepEqual(JSON.parse(h2), { echoed: { name: 'get', bigNumber: '7' } });
    const bad = await curl(['-w', ' %{http_code}', `${s.url}/webtest.Probe/Echo?connect=v1&message=${msg}`]);
    assert.match(bad, /"code":"invalid_argument".* 400$/);
    const notIdempotent = await curl(['-o', '/dev/null', '-w', '%{http_code}', `${s.url}/helloworld.Greeter/SayHello?connect=v1&encoding=json&message=%7B%7D`]);
    assert.equal(notIdempotent, '405');

    const { createClient } = await import('@connectrpc/connect');
    const web = await import('@connectrpc/connect-web');
    const { descService, PROBE_PROTO } = await import('./helpers.js');
    const seen: string[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      seen.push(init?.method ?? 'GET');
      return fetch(input, init);
    };
    for (const useBinaryFormat of [false, true]) {
      const probe: any = createClient(descService(PROBE_PROTO, 'webtest.Probe'), web.createConnectTransport({ baseUrl: s.url, useHttpGet: true, useBinaryFormat, fetch: recordingFetch }));
      const r = await probe.echo({ name: 'via get', rawData: new Uint8Array([1, 2, 3]) });
      assert.equal(r.echoed.name, 'via get');
      assert.deepEqual([...r.echoed.rawData], [1, 2, 3]);
    }
    assert.deepEqual(seen, ['GET', 'GET']);
  } finally {
    await s.close();
  }
});
