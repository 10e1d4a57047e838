// ProtoJSON input that names something twice, and nulls where they stand for a default
// (src/web/json.ts), against protobuf-es's fromJsonString and Google's json_format, then on the wire:
//
//   - a name written twice in one JSON object (at any depth, a Struct's too), a field given by its
//     JSON name and its .proto name (a null counting), and two members of one oneof are refused with
//     INVALID_ARGUMENT saying which, as protobuf-es refuses each of them (JSON.parse alone would keep
//     the last and say nothing);
//   - null as an element of a list or a map is refused (but for Value and NullValue, whose null is
//     a value), as protobuf-es refuses it;
//   - {"@type": ".../google.protobuf.Int32Value", "value": null} in an Any is an Int32Value of 0, as
//     protobuf-es reads it (and as the default Int32Value json_format prints, "value": 0, reads);
//   - over HTTP/1.1 and HTTP/2, Connect POST and GET and gRPC-Web JSON, the same bodies get
//     invalid_argument / grpc-status 3, and a body that only looks alike is served.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileRegistry, equals, fromBinary, fromJsonString, toBinary } from '@bufbuild/protobuf';
import type { DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { fromRoot } from '../support/paths.js';
import { bufImage, cleanupImages } from './helpers.js';
import { GrpcError, Server, ServerCredentials, Status, loadServices, webProtocols } from '../../src/index.js';
import type { MessageCodec } from '../../src/index.js';
import { jsonCodec } from '../../src/web/json.js';

after(cleanupImages);

const WKT_PROTO = fromRoot('test/web/fixtures/wkt.proto');
const dir = mkdtempSync(join(tmpdir(), 'edge-strict-'));
execFileSync(process.execPath, [fromRoot('scripts/proto-gen.mjs'), WKT_PROTO, '--out', dir, '-I', fromRoot('protos')], { stdio: 'ignore' });
const DESCRIPTOR = JSON.parse(readFileSync(join(dir, 'wkt.json'), 'utf8'));
rmSync(dir, { recursive: true, force: true });

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(bufImage(WKT_PROTO))));
const Holder: DescMessage = registry.getMessage('webtest.wkt.Holder') ?? assert.fail('no Holder');
const svc = loadServices(DESCRIPTOR)['webtest.wkt.Wkt']!;
const echo = svc.methods.Echo!;
const json: MessageCodec<unknown> = jsonCodec((echo.request as unknown as { type: never }).type);

const ANY = (t: string): string => `"@type":"type.googleapis.com/${t}"`;

/** Bodies both protobuf-es and grpc-edge refuse, and what grpc-edge says. */
const REFUSED: [string, RegExp][] = [
  ['{"ratio":1,"ratio":2}', /^request: the name "ratio" appears twice in one JSON object \(the second at character 11\)$/],
  ['{"ratio":1,"ratio":1}', /the name "ratio" appears twice/],
  ['{"reading":{"sensorId":"a","celsius":1,"sensorId":"b"}}', /^request: the name "sensorId" appears twice/],
  ['{"ratio":1,"\\u0072atio":2}', /^request: the name "ratio" appears twice/],
  ['{"struct":{"a":1,"b":{"c":[{"k":1,"k":2}]},"a":2}}', /the name "k" appears twice/],
  ['{"values":{"x":1,"x":null}}', /the name "x" appears twice/],
  [`{"any":{${ANY('google.protobuf.Int32Value')},"value":1,"value":2}}`, /the name "value" appears twice/],
  [`{"any":{${ANY('google.protobuf.Int32Value')},"value":1,${ANY('google.protobuf.Int32Value')}}}`, /the name "@type" appears twice/],
  // A field by its JSON name and by its .proto name (or its json_name option), a null counting.
  ['{"reading":{"sensorId":"a","sensor_id":"b"}}', /^request\.reading\.sensor_id: field sensor_id is given twice$/],
  ['{"reading":{"where":"shed","site":"roof"}}', /^request\.reading\.site: field site is given twice$/],
  ['{"reading":{"sensor_id":null,"sensorId":"b"}}', /^request\.reading\.sensorId: field sensor_id is given twice$/],
  ['{"fieldMask":"a","field_mask":null}', /^request\.field_mask: field field_mask is given twice$/],
  [`{"anys":[{${ANY('webtest.wkt.Reading')},"takenAt":"2026-12-02T03:00:00Z","taken_at":null}]}`, /^request\.anys\[0\]\.taken_at: field taken_at is given twice$/],
  // Two members of the oneof `choice` (NullValue's null sets `nothing`).
  ['{"text":"x","nothing":null}', /^request\.nothing: oneof choice is already set by text$/],
  ['{"nothing":"NULL_VALUE","text":""}', /^request\.text: oneof choice is already set by nothing$/],
  // null as an element.
  ['{"int64Values":[null]}', /^request\.int64Values\[0\]: null is not an element of a list or a map$/],
  ['{"anys":[{},null]}', /^request\.anys\[1\]: null is not an element/],
  ['{"timestampMap":{"a":null}}', /^request\.timestampMap\["a"\]: null is not an element/],
  ['{"durations":["1s",null]}', /^request\.durations\[1\]: null is not an element/],
];

/** Bodies both accept: the same key in different objects, keys inside strings, escapes, nulls that are values or defaults. */
const ACCEPTED: string[] = [
  `{"reading":{"sensorId":"a"},"any":{${ANY('webtest.wkt.Reading')},"sensorId":"b"}}`,
  '{"valueList":[{"k":1},{"k":1},[{"k":{"k":{"k":2}}}]],"value":{"k":{"k":1}}}',
  '{"stringValue":"ratio","ratio":1,"struct":{"ratio":"\\"ratio\\":1,"}}',
  '{"struct":{"a\\"b":1,"a\\\\":2,"a":3,"\\u0061\\"":4,"":5,"{":6}}',
  '{"stringValue":"\\\\","ratio":2}',
  '{"valueList":[null,1],"values":{"n":null},"value":null}',
  '{"text":null,"nothing":null}',
  '{"nothing":null,"text":null,"ratio":null}',
  '{"text":"","reading":null}',
  '{"struct":{}, "listValue":[], "values":{}, "anys":[], "any":{}}',
  // null in an Any: a wrapper of its default, a null Value.
  `{"any":{${ANY('google.protobuf.Int32Value')},"value":null}}`,
  `{"anys":[{${ANY('google.protobuf.StringValue')},"value":null},{${ANY('google.protobuf.BytesValue')},"value":null},{${ANY('google.protobuf.UInt64Value')},"value":null},{${ANY('google.protobuf.BoolValue')},"value":null},{${ANY('google.protobuf.DoubleValue')},"value":null}]}`,
  `{"any":{${ANY('google.protobuf.Value')},"value":null}}`,
];

function ours(body: string): Uint8Array {
  return echo.request.encode(json.decode(Buffer.from(body)) as never) as Uint8Array;
}

test('names given twice and nulls in lists and maps: INVALID_ARGUMENT saying which, where protobuf-es refuses them too', () => {
  for (const [body, re] of REFUSED) {
    assert.throws(() => fromJsonString(Holder, body, { registry }), Error, `protobuf-es accepts ${body}`);
    assert.throws(
      () => json.decode(Buffer.from(body)),
      (e: unknown) => e instanceof GrpcError && e.code === Status.INVALID_ARGUMENT && re.test(e.details),
      `${body} should fail with ${re}`,
    );
  }
});

test('bodies that only look alike read as protobuf-es reads them (binary compared)', () => {
  for (const body of ACCEPTED) {
    const theirs = fromJsonString(Holder, body, { registry });
    const back = fromBinary(Holder, ours(body));
    assert.ok(equals(Holder, back, theirs, { registry, unpackAny: true }), body);
  }
  // The null wrapper in an Any is the wrapper's default: value bytes empty, as protobuf-es packs it.
  const any = (fromBinary(Holder, ours(`{"any":{${ANY('google.protobuf.Int32Value')},"value":null}}`)) as any).any;
  assert.deepEqual([any.typeUrl, any.value.length], ['type.googleapis.com/google.protobuf.Int32Value', 0]);
  // A Timestamp's null in an Any stays refused, as protobuf-es and json_format refuse it.
  assert.throws(() => json.decode(Buffer.from(`{"any":{${ANY('google.protobuf.Timestamp')},"value":null}}`)), (e: unknown) => e instanceof GrpcError && /^request\.any: expected an RFC 3339 time/.test(e.details));
  assert.throws(() => fromJsonString(Holder, `{"any":{${ANY('google.protobuf.Timestamp')},"value":null}}`, { registry }));
});

const PYTHON = '/usr/bin/python3';
const pyProbe = spawnSync(PYTHON, ['-c', 'from google.protobuf import json_format'], { encoding: 'utf8' });
const pySkip = pyProbe.status === 0 ? false : `python3-protobuf not available (${(pyProbe.error?.message ?? pyProbe.stderr).trim()})`;

function pyParse(bodies: string[]): { binary?: string; error?: string }[] {
  const py = spawnSync(PYTHON, [fromRoot('test/python/protojson_parse.py'), bufImage(WKT_PROTO), 'webtest.wkt.Holder'], { input: bodies.map((b) => JSON.stringify(b)).join('\n') + '\n', encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  return py.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

test("Google's json_format: refuses the same repeated names, reads the accepted bodies as we do, and an Any's default wrapper as our null one", { skip: pySkip }, () => {
  // json_format refuses a name written twice (its JSON loader's duplicate check, any depth). It
  // takes the last of a field's two names, and reads a null inside an Any's wrapper as a Python
  // TypeError (int(None)): those two are not compared.
  const dupes = REFUSED.filter(([, re]) => /appears twice/.test(re.source)).map(([b]) => b);
  pyParse(dupes).forEach((r, i) => assert.match(r.error ?? '', /duplicate key/, `json_format accepts ${dupes[i]}`));
  const plain = ACCEPTED.filter((b) => !/"value":null\}/.test(b));
  pyParse(plain).forEach((r, i) => {
    assert.equal(r.error, undefined, plain[i]);
    assert.ok(equals(Holder, fromBinary(Holder, Buffer.from(r.binary!, 'base64')), fromBinary(Holder, ours(plain[i]!)), { registry, unpackAny: true }), plain[i]);
  });
  // The Any that json_format prints for a default Int32Value ("value": 0) is the one our null gives.
  const [zero] = pyParse([`{"any":{${ANY('google.protobuf.Int32Value')},"value":0}}`]);
  assert.deepEqual(Buffer.from(zero!.binary!, 'base64'), Buffer.from(toBinary(Holder, fromBinary(Holder, ours(`{"any":{${ANY('google.protobuf.Int32Value')},"value":null}}`)))));
});

// ---- on the wire

let server: Server;
let url: string;
before(async () => {
  server = new Server({ web: webProtocols() });
  const same = (req: unknown): unknown => req;
  server.addService(svc, { Echo: same, Replay: async () => {}, Now: () => ({}), EchoTimestamp: same, EchoValue: same, EchoAny: same } as never);
  url = `http://127.0.0.1:${await server.bind('127.0.0.1:0', ServerCredentials.createInsecure())}`;
});
after(() => server.stop(500));

/** One gRPC-Web message frame. */
function frame(body: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

async function h2Post(path: string, body: string): Promise<[number, string]> {
  const session = connect(url);
  try {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
    req.end(body);
    const head = await new Promise<Record<string, unknown>>((resolve) => req.on('response', resolve));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return [Number(head[':status']), Buffer.concat(chunks).toString()];
  } finally {
    session.close();
  }
}

test('on the wire: Connect POST over HTTP/1.1 and HTTP/2, Connect GET, gRPC-Web JSON refuse them with invalid_argument; the look-alikes are served', async () => {
  const picked = [REFUSED[0]!, REFUSED[4]!, REFUSED[8]!, REFUSED[13]!, REFUSED[15]!];
  for (const [body, re] of picked) {
    const r1 = await fetch(`${url}/webtest.wkt.Wkt/Echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const e1 = (await r1.json()) as { code: string; message: string };
    assert.deepEqual([r1.status, e1.code], [400, 'invalid_argument'], body);
    assert.match(e1.message, re);
    const [s2, t2] = await h2Post('/webtest.wkt.Wkt/Echo', body);
    assert.equal(s2, 400, body);
    assert.match((JSON.parse(t2) as { message: string }).message, re);
    const g = await fetch(`${url}/webtest.wkt.Wkt/Echo?connect=v1&encoding=json&message=${encodeURIComponent(body)}`);
    assert.equal(g.status, 400, body);
    assert.match(((await g.json()) as { message: string }).message, re);
    const w = await fetch(`${url}/webtest.wkt.Wkt/Echo`, { method: 'POST', headers: { 'content-type': 'application/grpc-web+json' }, body: frame(Buffer.from(body)) });
    const wt = Buffer.from(await w.arrayBuffer()).toString('latin1');
    assert.match(wt, /grpc-status: ?3\r\n/, body);
    assert.match(decodeURIComponent(/grpc-message: ?(.*)\r\n/.exec(wt)?.[1] ?? ''), re);
  }
  for (const body of ACCEPTED.slice(0, 4)) {
    const r = await fetch(`${url}/webtest.wkt.Wkt/Echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(r.status, 200, body);
    assert.ok(equals(Holder, fromJsonString(Holder, await r.text(), { registry }), fromJsonString(Holder, body, { registry }), { registry, unpackAny: true }), body);
  }
  const [s, t] = await h2Post('/webtest.wkt.Wkt/Echo', `{"any":{${ANY('google.protobuf.Int32Value')},"value":null}}`);
  assert.deepEqual([s, JSON.parse(t)], [200, { any: { '@type': 'type.googleapis.com/google.protobuf.Int32Value', value: 0 } }]);
});
